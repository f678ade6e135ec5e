import XCTest
import X86
@testable import VMX

/// WRMSR IA32_EFER as shadow paging emulates it (SDM Vol. 4 Table 2-2, Vol. 3A §9.8.5).
final class GuestEFERWriteTests: XCTestCase {
    let sce = EFER.sce.rawValue, lme = EFER.lme.rawValue, lma = EFER.lma.rawValue, nxe = EFER.nxe.rawValue

    func testWritableBitsAndReadOnlyLMA() {
        XCTAssertEqual(GuestEFERWrite.apply(sce | lme | nxe, to: 0, pagingOn: false, noExecuteSupported: true), sce | lme | nxe)
        XCTAssertEqual(GuestEFERWrite.apply(lme | lma, to: 0, pagingOn: false, noExecuteSupported: true), lme,
                       "LMA is read-only: writing it changes nothing")
        XCTAssertEqual(GuestEFERWrite.apply(lme | nxe, to: lme | lma, pagingOn: true, noExecuteSupported: true), lme | lma | nxe,
                       "and writing it clear keeps it")
    }

    func testReservedBitsAndNXWithoutTheFeatureRaiseGP() {
        XCTAssertNil(GuestEFERWrite.apply(1 << 1, to: 0, pagingOn: false, noExecuteSupported: true))
        XCTAssertNil(GuestEFERWrite.apply(1 << 63, to: 0, pagingOn: false, noExecuteSupported: true))
        XCTAssertNil(GuestEFERWrite.apply(nxe, to: 0, pagingOn: false, noExecuteSupported: false))
    }

    func testLMEIsFixedWhilePagingIsOn() {
        XCTAssertNil(GuestEFERWrite.apply(lme, to: 0, pagingOn: true, noExecuteSupported: true))
        XCTAssertNil(GuestEFERWrite.apply(0, to: lme | lma, pagingOn: true, noExecuteSupported: true))
        XCTAssertEqual(GuestEFERWrite.apply(0, to: lme, pagingOn: false, noExecuteSupported: true), 0)
    }
}
