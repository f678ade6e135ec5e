import XCTest
import VTx
@testable import VMX

final class EPTViolationExitTests: XCTestCase {
    func testWriteToAnUnmappedPageWithItsLinearAddress() {
        let vmcs = FakeVMCS(rip: 0x8010, length: 3)
        vmcs.fields[.guestPhysicalAddress] = 0x4000_0000
        vmcs.fields[.guestLinearAddress] = 0xFFFF_8000_4000_0000
        // Bit 1 write, bit 7 linear address valid, bit 8 the access was to the translation.
        vmcs.fields[.exitQualification] = 1 << 1 | 1 << 7 | 1 << 8
        let access = EPTViolationExit.access(vmcs)
        XCTAssertEqual(access.gpa, 0x4000_0000)
        XCTAssertEqual(access.linearAddress, 0xFFFF_8000_4000_0000)
        XCTAssertEqual(access.rip, 0x8010)
        XCTAssertTrue(access.qualification.isWrite)
        XCTAssertTrue(access.qualification.isNotPresent)
        XCTAssertTrue(vmcs.writes.isEmpty)          // nothing resumes: no RIP advance, no event
    }

    func testNoLinearAddressWhenTheQualificationSaysItIsInvalid() {
        let vmcs = FakeVMCS()
        vmcs.fields[.guestLinearAddress] = 0x1234
        vmcs.fields[.exitQualification] = 1 << 2          // instruction fetch
        let access = EPTViolationExit.access(vmcs)
        XCTAssertNil(access.linearAddress)
        XCTAssertTrue(access.qualification.isInstructionFetch)
    }
}
