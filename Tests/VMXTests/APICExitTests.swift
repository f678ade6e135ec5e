import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// The local APIC's MSRs and CPUID (APICExit) against the fake VMCS and a virtual PC with the
/// APIC interrupt model: the MSR accesses land in the asking vCPU's LocalAPIC.
final class APICExitTests: XCTestCase {
    let baseBSP = LocalAPIC.defaultBase | LocalAPIC.baseGlobalEnable | LocalAPIC.baseBSP

    func makePC(vcpus: Int) -> TestPC.PC {
        var pc = TestPC.make()
        pc.enableAPIC(tscHz: 50_000_000, x2APIC: true, tscDeadline: true, physicalAddressBits: 39, vcpus: vcpus)
        return pc
    }

    func rdmsr(_ vmcs: FakeVMCS, _ pc: inout TestPC.PC, _ msr: UInt32, vcpu: Int) -> (handled: Bool, value: UInt64) {
        var regs = GuestRegisters()
        regs.rcx = UInt64(msr)
        let handled = APICExit.msr(vmcs, &regs, pc: &pc, vcpu: vcpu, write: false)
        return (handled, regs.rdx << 32 | regs.rax)
    }

    func wrmsr(_ vmcs: FakeVMCS, _ pc: inout TestPC.PC, _ msr: UInt32, _ value: UInt64, vcpu: Int) -> Bool {
        var regs = GuestRegisters()
        regs.rcx = UInt64(msr)
        regs.rax = value & 0xFFFF_FFFF
        regs.rdx = value >> 32
        return APICExit.msr(vmcs, &regs, pc: &pc, vcpu: vcpu, write: true)
    }

    func testX2APICMSRsLandInTheAskingVCPUsLocalAPIC() {
        var pc = makePC(vcpus: 2)
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        // vCPU 1 (an AP: no BSP flag) turns on x2APIC mode through IA32_APIC_BASE.
        let ap = LocalAPIC.defaultBase | LocalAPIC.baseGlobalEnable | LocalAPIC.baseExtendedMode
        XCTAssertTrue(wrmsr(vmcs, &pc, 0x1B, ap, vcpu: 1))
        XCTAssertNil(vmcs.injected)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x4002)
        XCTAssertTrue(pc.lapics[1].x2APICMode)
        XCTAssertFalse(pc.lapics[0].x2APICMode)

        // WRMSR TPR (0x808), then RDMSR of TPR and the x2APIC ID (0x802).
        XCTAssertTrue(wrmsr(vmcs, &pc, 0x808, 0x50, vcpu: 1))
        XCTAssertEqual(pc.lapics[1].tpr, 0x50)
        XCTAssertEqual(pc.lapics[0].tpr, 0)
        XCTAssertEqual(rdmsr(vmcs, &pc, 0x808, vcpu: 1).value, 0x50)
        let id = rdmsr(vmcs, &pc, 0x802, vcpu: 1)
        XCTAssertTrue(id.handled)
        XCTAssertEqual(id.value, 1)
        XCTAssertNil(vmcs.injected)
        XCTAssertEqual(rdmsr(vmcs, &pc, 0x1B, vcpu: 1).value, ap)
    }

    func testRefusedAccessesAreGeneralProtection() {
        var pc = makePC(vcpus: 1)
        // An x2APIC MSR while the APIC is in xAPIC mode (SDM Vol. 3A §11.12.1.2).
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertEqual(pc.lapics[0].apicBase, baseBSP)
        XCTAssertTrue(rdmsr(vmcs, &pc, 0x808, vcpu: 0).handled)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(vmcs.injectedErrorCode, 0)
        XCTAssertNil(vmcs.written(.guestRIP), "a fault leaves RIP at the instruction")

        // A write to the read-only ID register in x2APIC mode.
        XCTAssertTrue(wrmsr(FakeVMCS(), &pc, 0x1B, baseBSP | LocalAPIC.baseExtendedMode, vcpu: 0))
        let vmcs2 = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertTrue(wrmsr(vmcs2, &pc, 0x802, 7, vcpu: 0))
        XCTAssertEqual(vmcs2.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(pc.lapics[0].id, 0)
    }

    func testOtherMSRsAndMachinesWithoutAPICAreMSRExits() {
        var pc = makePC(vcpus: 1)
        let vmcs = FakeVMCS()
        XCTAssertFalse(rdmsr(vmcs, &pc, 0x10, vcpu: 0).handled)
        var plain = TestPC.make()
        XCTAssertFalse(rdmsr(vmcs, &plain, 0x802, vcpu: 0).handled)
        XCTAssertTrue(vmcs.writes.isEmpty)
    }

    func testTSCDeadlineIsGuestTimeOutsideHostTimeInside() {
        var pc = makePC(vcpus: 1)
        let vmcs = FakeVMCS()
        vmcs.fields[.tscOffset] = 1_000
        // x2APIC mode, LVT timer (0x832) in TSC-deadline mode (bits 18:17 = 10b, §11.5.4.1), vector 0x40.
        XCTAssertTrue(wrmsr(vmcs, &pc, 0x1B, baseBSP | LocalAPIC.baseExtendedMode, vcpu: 0))
        XCTAssertTrue(wrmsr(vmcs, &pc, 0x832, 2 << 17 | 0x40, vcpu: 0))
        XCTAssertEqual(pc.lapics[0].timerMode, .tscDeadline)
        XCTAssertTrue(wrmsr(vmcs, &pc, 0x6E0, 5_000_000, vcpu: 0))
        XCTAssertNil(vmcs.injected)
        XCTAssertEqual(pc.lapics[0].tscDeadline, 5_000_000 - 1_000)
        XCTAssertEqual(rdmsr(vmcs, &pc, 0x6E0, vcpu: 0).value, 5_000_000)
    }

    /// Host values for leaf 1, 4 (an L1 data and the L3 cache), 0xB and 0x1F after CPUIDExit.
    func cpuid(_ leaf: UInt32, subleaf: UInt32 = 0, eax: UInt64 = 0, ebx: UInt64 = 0, ecx: UInt64 = 0, edx: UInt64 = 0,
               vcpus: Int, vcpu: Int) -> GuestRegisters {
        var regs = GuestRegisters()
        regs.rax = eax; regs.rbx = ebx; regs.rcx = ecx; regs.rdx = edx
        APICExit.adjustCPUID(&regs, leaf: leaf, subleaf: subleaf, vcpus: vcpus, vcpu: vcpu)
        return regs
    }

    func testCPUIDLeaf1GivesAPICIDFeaturesAndLogicalProcessors() {
        let r = cpuid(1, ebx: 0xFF_FF_08_00, ecx: 0, edx: 0, vcpus: 4, vcpu: 2)
        XCTAssertEqual(r.rbx, 2 << 24 | 4 << 16 | 0x0800)
        XCTAssertEqual(r.rdx & UInt64(CPUIDFeatureEDX.apic.rawValue | CPUIDFeatureEDX.htt.rawValue),
                       UInt64(CPUIDFeatureEDX.apic.rawValue | CPUIDFeatureEDX.htt.rawValue))
        XCTAssertEqual(r.rcx, UInt64(CPUIDFeatureECX.x2apic.rawValue | CPUIDFeatureECX.tscDeadline.rawValue))
        let single = cpuid(1, edx: UInt64(CPUIDFeatureEDX.htt.rawValue), vcpus: 1, vcpu: 0)
        XCTAssertEqual(single.rbx, 1 << 16)
        XCTAssertEqual(single.rdx & UInt64(CPUIDFeatureEDX.htt.rawValue), 0)
    }

    func testCPUIDLeaf4CountsCoresAndTheSharedCache() {
        let l1 = cpuid(4, eax: 0x21, vcpus: 4, vcpu: 0)        // data cache, level 1
        XCTAssertEqual(l1.rax, 3 << 26 | 0x21)
        let l3 = cpuid(4, subleaf: 3, eax: 0x163, vcpus: 4, vcpu: 0)   // unified, level 3
        XCTAssertEqual(l3.rax, 3 << 26 | 3 << 14 | 0x163)
        XCTAssertEqual(cpuid(4, subleaf: 4, eax: 0, vcpus: 4, vcpu: 0).rax, 0, "the null subleaf stays")
    }

    func testCPUIDLeaves0BAnd1FGiveTheTopologyAndX2APICID() {
        for leaf: UInt32 in [0xB, 0x1F] {
            let smt = cpuid(leaf, subleaf: 0, vcpus: 3, vcpu: 2)
            XCTAssertEqual([smt.rax, smt.rbx, smt.rcx, smt.rdx], [0, 1, 0x100, 2])
            let core = cpuid(leaf, subleaf: 1, vcpus: 3, vcpu: 2)
            XCTAssertEqual([core.rax, core.rbx, core.rcx, core.rdx], [2, 3, 0x201, 2])
            let past = cpuid(leaf, subleaf: 2, vcpus: 3, vcpu: 2)
            XCTAssertEqual([past.rax, past.rbx, past.rcx, past.rdx], [0, 0, 2, 2])
        }
        // Other leaves are left as CPUIDExit gave them.
        let other = cpuid(0x16, eax: 1, ebx: 2, ecx: 3, edx: 4, vcpus: 3, vcpu: 2)
        XCTAssertEqual([other.rax, other.rbx, other.rcx, other.rdx], [1, 2, 3, 4])
    }
}
