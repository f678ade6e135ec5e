import XCTest
import VTx
import Machine
@testable import VMX

final class VMCALLOperandsTests: XCTestCase {
    func registers() -> GuestRegisters {
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_0000_0000_0001
        regs.rbx = 0xBBBB_0000_0000_0002
        regs.rsi = 0x5555_0000_0000_0005
        return regs
    }

    func testUserModeVMCALLIsInvalidOpcode() {
        let vmcs = FakeVMCS()
        var regs = registers()
        vmcs.fields[.guestSSAccessRights] = 3 << 5          // SS.DPL 3
        XCTAssertNil(VMCALLOperands.read(vmcs, &regs, ia32eModeGuest: false))
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 6, hasErrorCode: false))
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func test64BitCodeKeepsWholeRegisters() {
        let vmcs = FakeVMCS()
        var regs = registers()
        vmcs.fields[.guestCSAccessRights] = 1 << 13        // CS.L
        var cpu = VCPUState.test()
        cpu.entryControls = .ia32eModeGuest
        let call = VMCALLOperands.read(vmcs, &regs, ia32eModeGuest: cpu.entryControls.contains(.ia32eModeGuest))
        XCTAssertEqual(call?.rax, 0xAAAA_0000_0000_0001)
        XCTAssertEqual(call?.rsi, 0x5555_0000_0000_0005)
        XCTAssertNil(vmcs.injected)
    }

    func testCompatibilityAndProtectedModeUseLow32Bits() {
        for (longMode, csL) in [(true, false), (false, false), (false, true)] {
            let vmcs = FakeVMCS()
            var regs = registers()
            vmcs.fields[.guestCSAccessRights] = csL ? 1 << 13 : 0
            var cpu = VCPUState.test()
            cpu.entryControls = longMode ? .ia32eModeGuest : []
            let call = VMCALLOperands.read(vmcs, &regs, ia32eModeGuest: cpu.entryControls.contains(.ia32eModeGuest))
            XCTAssertEqual(call?.rax, 1, "IA-32e \(longMode) CS.L \(csL)")
            XCTAssertEqual(call?.rbx, 2)
            XCTAssertEqual(call?.rsi, 5)
        }
    }
}
