import XCTest
import X86
import VTx
@testable import VMX

final class XSETBVExitTests: XCTestCase {
    func run(ecx: UInt64, edxEAX value: UInt64, supported: UInt64 = 0x7, faults: Bool = false) -> FakeVMCS {
        let vmcs = FakeVMCS(rip: 0x2000, length: 3)
        vmcs.xsetbvFaults = faults
        var regs = GuestRegisters()
        regs.rcx = ecx
        regs.rax = value & 0xFFFF_FFFF | 0xABCD_0000_0000_0000    // upper half of RAX ignored
        regs.rdx = value >> 32
        var cpu = VCPUState.test(supportedXCR0: supported)
        XSETBVExit.handle(vmcs, &regs, &cpu)
        return vmcs
    }

    func testValidValueReachesXCR0() {
        let vmcs = run(ecx: 0, edxEAX: 0x7)
        XCTAssertEqual(vmcs.xcr0Written, [0x7])
        XCTAssertEqual(vmcs.written(.guestRIP), 0x2003)
        XCTAssertNil(vmcs.injected)
    }

    func testRefusedValuesAreGeneralProtection() {
        for (ecx, value) in [(1, 0x1), (0, 0x2), (0, 0x5), (0, 0x1F)] as [(UInt64, UInt64)] {
            let vmcs = run(ecx: ecx, edxEAX: value)
            XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true), "ECX \(ecx) value \(value)")
            XCTAssertEqual(vmcs.injectedErrorCode, 0)
            XCTAssertNil(vmcs.written(.guestRIP))
            XCTAssertEqual(vmcs.xcr0Written, [])
        }
    }

    func testProcessorFaultBecomesTheGuestsGeneralProtection() {
        let vmcs = run(ecx: 0, edxEAX: 0x3, faults: true)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertNil(vmcs.written(.guestRIP))
    }
}
