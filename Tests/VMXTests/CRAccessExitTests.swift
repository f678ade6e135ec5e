import XCTest
import X86
import VTx
import Machine
@testable import VMX

final class CRAccessExitTests: XCTestCase {
    var ram = UnsafeMutableRawPointer.allocate(byteCount: 0x10000, alignment: 4096)
    var memory: GuestMemory { GuestMemory(base: ram, size: 0x10000) }

    override func setUp() { ram.initializeMemory(as: UInt8.self, repeating: 0, count: 0x10000) }
    override func tearDown() { ram.deallocate() }

    /// Qualification (SDM Vol. 3C Table 28-3): CR number 3:0, access type 5:4, register 11:8, LMSW data 31:16.
    func qualification(cr: UInt64, type: UInt64, register: GeneralPurposeRegister = .rax, lmsw: UInt64 = 0) -> UInt64 {
        cr | type << 4 | UInt64(register.rawValue) << 8 | lmsw << 16
    }

    func run(_ vmcs: FakeVMCS, _ regs: inout GuestRegisters, _ cpu: inout VCPUState) -> CRAccessExit.Outcome {
        CRAccessExit.handle(vmcs, &regs, &cpu, memory: memory)
    }

    /// A protected-mode guest without paging: CR0.PE|NE|ET, PG and NE owned by the host.
    func protectedMode() -> FakeVMCS {
        let vmcs = FakeVMCS(rip: 0x5000, length: 3)
        let owned = CR0.pg.rawValue | CR0.ne.rawValue
        vmcs.setCR0(0x31, mask: owned, shadow: 0x11)
        vmcs.setCR4(0x2000, mask: 0x2000, shadow: 0)
        return vmcs
    }

    func testMovToCR0SetsShadowAndActualWithFixedBits() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        regs.rbx = 0x8000_0011 & ~CR0.pg.rawValue | CR0.ne.rawValue   // PE, ET, NE
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0, register: .rbx)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.cr0ReadShadow), regs.rbx)
        XCTAssertEqual(vmcs.written(.guestCR0), regs.rbx | 0x20)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x5003)
        XCTAssertNil(vmcs.injected)
    }

    func testCR0WithHighBitsIsGeneralProtection() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        regs.rax = 1 << 32 | 0x11
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertNil(vmcs.written(.guestCR0))
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testPagingOnWithLMEActivatesIA32eModeAndMakesTRBusy64() {
        let vmcs = protectedMode()
        vmcs.setCR4(0x2000 | CR4.pae.rawValue, mask: 0x2000, shadow: 0)
        vmcs.fields[.guestIA32EFER] = EFER.lme.rawValue
        vmcs.fields[.guestTRAccessRights] = 0x8B & ~0xF | 0x3    // busy 16-bit TSS
        var regs = GuestRegisters()
        regs.rax = CR0.pg.rawValue | CR0.ne.rawValue | 0x11
        var cpu = VCPUState.test(vpid: 7)
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.guestIA32EFER), EFER.lme.rawValue | EFER.lma.rawValue)
        XCTAssertTrue(cpu.entryControls.contains(.ia32eModeGuest))
        XCTAssertEqual(vmcs.written(.vmEntryControls), UInt64(VMEntryControls.ia32eModeGuest.rawValue))
        XCTAssertEqual(vmcs.written(.guestTRAccessRights).map { $0 & 0xF }, 0xB)
        XCTAssertEqual(vmcs.invalidatedVPIDs, [7])
        XCTAssertEqual(vmcs.written(.guestRIP), 0x5003)
    }

    func testPagingOffFromCompatibilityModeDeactivatesIA32eMode() {
        let vmcs = protectedMode()
        vmcs.setCR0(0x8000_0031, mask: CR0.pg.rawValue | CR0.ne.rawValue, shadow: 0x8000_0031)
        vmcs.setCR4(0x2000 | CR4.pae.rawValue, mask: 0x2000, shadow: 0)
        vmcs.fields[.guestIA32EFER] = EFER.lme.rawValue | EFER.lma.rawValue
        var regs = GuestRegisters()
        regs.rax = 0x31
        var cpu = VCPUState.test(vpid: 0)
        cpu.entryControls = .ia32eModeGuest
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.guestIA32EFER), EFER.lme.rawValue)
        XCTAssertFalse(cpu.entryControls.contains(.ia32eModeGuest))
        XCTAssertEqual(vmcs.written(.vmEntryControls), 0)
        XCTAssertEqual(vmcs.invalidatedVPIDs, [])      // VPID 0: nothing to invalidate
    }

    func testPagingOffIn64BitModeIsGeneralProtection() {
        let vmcs = protectedMode()
        vmcs.setCR0(0x8000_0031, mask: CR0.pg.rawValue | CR0.ne.rawValue, shadow: 0x8000_0031)
        vmcs.setCR4(0x2000 | CR4.pae.rawValue, mask: 0x2000, shadow: 0)
        vmcs.fields[.guestIA32EFER] = EFER.lme.rawValue | EFER.lma.rawValue
        vmcs.fields[.guestCSAccessRights] = 1 << 13
        var regs = GuestRegisters()
        regs.rax = 0x31
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertNil(vmcs.written(.guestIA32EFER))
    }

    func testPAEPagingLoadsThePDPTEsFromCR3() {
        let vmcs = protectedMode()
        vmcs.setCR4(0x2000 | CR4.pae.rawValue, mask: 0x2000, shadow: 0)
        vmcs.fields[.guestCR3] = 0x3000
        for i in 0..<4 { XCTAssertTrue(memory.store(UInt64(0x4001 + i * 0x1000), gpa: 0x3000 + UInt64(8 * i))) }
        var regs = GuestRegisters()
        regs.rax = 0x8000_0031
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.guestPDPTE0), 0x4001)
        XCTAssertEqual(vmcs.written(.guestPDPTE3), 0x7001)
        XCTAssertNil(vmcs.injected)
        XCTAssertFalse(cpu.entryControls.contains(.ia32eModeGuest))
    }

    func testPDPTEWithReservedBitIsGeneralProtection() {
        let vmcs = protectedMode()
        vmcs.setCR4(0x2000 | CR4.pae.rawValue, mask: 0x2000, shadow: 0)
        vmcs.fields[.guestCR3] = 0x3000
        XCTAssertTrue(memory.store(UInt64(0x4007), gpa: 0x3000))       // bits 2:1 reserved in a PAE PDPTE
        var regs = GuestRegisters()
        regs.rax = 0x8000_0031
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 0)
        _ = run(vmcs, &regs, &cpu)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertNil(vmcs.written(.guestCR0))
        XCTAssertNil(vmcs.written(.guestPDPTE0))
    }

    func testCR4VMXEIsReservedForTheGuest() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        regs.rax = CR4.vmxe.rawValue
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 4, type: 0)
        _ = run(vmcs, &regs, &cpu)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
    }

    func testCR4WriteKeepsVMXEInTheActualValueOnly() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        regs.rax = CR4.pse.rawValue
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 4, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.cr4ReadShadow), CR4.pse.rawValue)
        XCTAssertEqual(vmcs.written(.guestCR4), CR4.pse.rawValue | CR4.vmxe.rawValue)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x5003)
    }

    func testMovToAndFromCR3() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        regs.r9 = 0x9000
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 3, type: 0, register: .r9)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.guestCR3), 0x9000)
        vmcs.fields[.exitQualification] = qualification(cr: 3, type: 1, register: .rsp)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.guestRSP), 0x9000)        // RSP lives in the VMCS
    }

    func testCR8IsTheTaskPriorityRegister() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        regs.rdx = 0xB
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 8, type: 0, register: .rdx)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(cpu.taskPriority, 0xB)
        vmcs.fields[.exitQualification] = qualification(cr: 8, type: 1, register: .r15)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(regs.r15, 0xB)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x5006)
        regs.rdx = 0x10                                    // bits 63:4 reserved
        vmcs.fields[.exitQualification] = qualification(cr: 8, type: 0, register: .rdx)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(cpu.taskPriority, 0xB)
    }

    func testLMSWCannotClearPEAndCLTSClearsTS() {
        let vmcs = protectedMode()
        vmcs.setCR0(0x39, mask: CR0.pg.rawValue | CR0.ne.rawValue, shadow: 0x19)  // PE, TS, ET, NE
        var regs = GuestRegisters()
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 3, lmsw: 0x0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertEqual(vmcs.written(.cr0ReadShadow).map { $0 & 0xF }, 0x1)       // PE stays
        let before = vmcs.writes.count
        vmcs.setCR0(0x39, mask: CR0.pg.rawValue | CR0.ne.rawValue, shadow: 0x19)
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 2)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .handled)
        XCTAssertGreaterThan(vmcs.writes.count, before)
        XCTAssertEqual(vmcs.written(.cr0ReadShadow).map { $0 & CR0.ts.rawValue }, 0)
    }

    func testOtherControlRegistersStopTheVM() {
        let vmcs = protectedMode()
        var regs = GuestRegisters()
        var cpu = VCPUState.test()
        vmcs.fields[.exitQualification] = qualification(cr: 2, type: 0)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .unsupported(controlRegister: 2, accessType: "MOV to"))
        vmcs.fields[.exitQualification] = qualification(cr: 0, type: 1)
        XCTAssertEqual(run(vmcs, &regs, &cpu), .unsupported(controlRegister: 0, accessType: "MOV from"))
        XCTAssertNil(vmcs.written(.guestRIP))
    }
}
