import XCTest
import X86
import VTx
@testable import VMX

final class MSRExitTests: XCTestCase {
    func testReadOfAnEmulatedMSRSplitsIntoEDXEAX() {
        let vmcs = FakeVMCS(rip: 0x3000, length: 2)
        var regs = GuestRegisters()
        regs.rcx = UInt64(MSR.ia32PAT)
        var cpu = VCPUState.test()
        cpu.msrs.vmcsSwitchesPAT = false
        MSRExit.read(vmcs, &regs, &cpu)
        XCTAssertEqual(regs.rdx << 32 | regs.rax, PAT.powerOnDefault)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x3002)
        XCTAssertNil(vmcs.injected)
        XCTAssertEqual(cpu.msrs.refusedCount, 0)
    }

    func testUnknownMSRIsGeneralProtectionAndRecorded() {
        let vmcs = FakeVMCS()
        var regs = GuestRegisters()
        regs.rcx = 0x140
        var cpu = VCPUState.test()
        MSRExit.read(vmcs, &regs, &cpu)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertNil(vmcs.written(.guestRIP))
        XCTAssertEqual(cpu.msrs.refusedCount, 1)
        XCTAssertEqual(cpu.msrs.refusedAccess(0).msr, 0x140)
        XCTAssertFalse(cpu.msrs.refusedAccess(0).write)
        MSRExit.write(vmcs, &regs, &cpu)
        XCTAssertEqual(cpu.msrs.refusedCount, 2)
        XCTAssertTrue(cpu.msrs.refusedAccess(1).write)
    }

    func testRefusedAccessesBeyondTheRecordAreCountedOnly() {
        let vmcs = FakeVMCS()
        var regs = GuestRegisters()
        var cpu = VCPUState.test()
        for i in 0..<10 {
            regs.rcx = 0x140 + UInt64(i)
            MSRExit.read(vmcs, &regs, &cpu)
        }
        XCTAssertEqual(cpu.msrs.refusedCount, 10)
        XCTAssertEqual(cpu.msrs.refusedAccess(7).msr, 0x147)
    }

    func testTSCWriteMovesOnlyTheTSCOffset() {
        let vmcs = FakeVMCS(rip: 0x3000, length: 2)
        vmcs.tsc = 1_000
        var regs = GuestRegisters()
        regs.rcx = UInt64(MSR.ia32TSC)
        regs.rax = 5_000
        regs.rdx = 0
        var cpu = VCPUState.test()
        MSRExit.write(vmcs, &regs, &cpu)
        XCTAssertEqual(vmcs.written(.tscOffset), 4_000)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x3002)
        // RDMSR TSC reads host TSC + offset.
        vmcs.tsc = 1_500
        MSRExit.read(vmcs, &regs, &cpu)
        XCTAssertEqual(regs.rdx << 32 | regs.rax, 5_500)
    }

    func testWriteTheRegisterRefusesIsGeneralProtection() {
        let vmcs = FakeVMCS()
        var regs = GuestRegisters()
        regs.rcx = UInt64(MSR.ia32PAT)
        regs.rax = 0x0202_0202     // memory type 2 is reserved in PAT
        regs.rdx = 0x0202_0202
        var cpu = VCPUState.test()
        cpu.msrs.vmcsSwitchesPAT = false
        MSRExit.write(vmcs, &regs, &cpu)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(cpu.msrs.file.pat, PAT.powerOnDefault)
        XCTAssertNil(vmcs.written(.tscOffset))
    }
}
