import XCTest
import VTx
@testable import VMX

final class GuestRegistersTests: XCTestCase {
    /// Slot n of the block is register n of the SDM's numbering (guest_registers.h); 4 is the VMCS's RSP.
    func testRegisterNumbersReachTheirNamedFields() {
        let vmcs = FakeVMCS()
        vmcs.fields[.guestRSP] = 0x4444
        var regs = GuestRegisters()
        for n in GeneralPurposeRegister.allCases where n != .rsp { regs.set(n, 0x1000 + UInt64(n.rawValue), vmcs) }
        XCTAssertEqual([regs.rax, regs.rcx, regs.rdx, regs.rbx, regs.rbp, regs.rsi, regs.rdi],
                       [0x1000, 0x1001, 0x1002, 0x1003, 0x1005, 0x1006, 0x1007])
        XCTAssertEqual([regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15],
                       [0x1008, 0x1009, 0x100A, 0x100B, 0x100C, 0x100D, 0x100E, 0x100F])
        XCTAssertEqual(regs.value(.rsp, vmcs), 0x4444)
        XCTAssertEqual(regs.rsp_in_vmcs, 0)
        regs.set(.rsp, 0x5555, vmcs)
        XCTAssertEqual(vmcs.written(.guestRSP), 0x5555)
        XCTAssertEqual(regs.rsp_in_vmcs, 0)
        XCTAssertEqual(MemoryLayout<GuestRegisters>.size, 128)
        XCTAssertEqual(MemoryLayout<GuestRegisters>.offset(of: \.r15), 120)
    }
}

final class RunStateTests: XCTestCase {
    func testRunnableStates() {
        XCTAssertTrue(RunState.running.isRunnable)
        XCTAssertTrue(RunState.yielded.isRunnable)
        XCTAssertFalse(RunState.halted.isRunnable)
        XCTAssertFalse(RunState.waitingForStartup.isRunnable)
    }
}
