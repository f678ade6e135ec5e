import X86
import VTx
import Machine

/// The local APIC as the VM's processor shows it, on machines with the APIC interrupt model
/// (`apic=on`, VirtualPC.enableAPIC): CPUID reports the APIC, x2APIC and the TSC-deadline timer
/// (SDM Vol. 2A CPUID leaf 1; Vol. 3A §11.4.2, §11.5.4.1, §11.12.1) and the vCPUs' topology, and
/// the local APIC's MSRs — IA32_APIC_BASE (0x1B), IA32_TSC_DEADLINE (0x6E0) and the x2APIC
/// registers (0x800-0x8FF) — reach the vCPU's local APIC instead of the MSR policy's defaults.
/// The xAPIC page itself is emulated MMIO (MMIOExit). Guest TSC values (the deadline) are host
/// TSC plus the VMCS TSC offset; the APIC keeps host time, like the rest of the virtual PC.
public enum APICExit {
    /// CPUID after CPUIDExit: the APIC features the VM has (leaf 1), and the topology of its
    /// `vcpus` vCPUs (CPUIDTopology: APIC ID = vCPU index in leaf 1 and leaves 0xB/0x1F, core
    /// counts in leaf 4). `vcpu` is the index of the vCPU that asked.
    @inline(__always)
    public static func adjustCPUID(_ regs: inout GuestRegisters, leaf: UInt32, subleaf: UInt32, vcpus: Int, vcpu: Int) {
        let topology = CPUIDTopology(vcpus: vcpus)
        let id = UInt32(truncatingIfNeeded: vcpu)
        var r = CPUIDResult(eax: UInt32(truncatingIfNeeded: regs.rax), ebx: UInt32(truncatingIfNeeded: regs.rbx),
                            ecx: UInt32(truncatingIfNeeded: regs.rcx), edx: UInt32(truncatingIfNeeded: regs.rdx))
        switch leaf {
        case 1:
            r = topology.leaf1(r, apicID: id)
            r.edx |= CPUIDFeatureEDX.apic.rawValue
            r.ecx |= CPUIDFeatureECX.x2apic.rawValue | CPUIDFeatureECX.tscDeadline.rawValue
        case 4:
            r = topology.leaf4(r)
        case 0xB, 0x1F:
            r = topology.extendedTopology(subleaf: subleaf, x2APICID: id)
        default:
            return
        }
        regs.rax = UInt64(r.eax)
        regs.rbx = UInt64(r.ebx)
        regs.rcx = UInt64(r.ecx)
        regs.rdx = UInt64(r.edx)
    }

    public static func isAPICMSR(_ msr: UInt32) -> Bool {
        msr == 0x1B || msr == 0x6E0 || (msr >= LocalAPIC.x2APICFirstMSR && msr <= LocalAPIC.x2APICLastMSR)
    }

    /// RDMSR/WRMSR of a local-APIC MSR by vCPU `vcpu` of `pc`: its local APIC takes it, a refused
    /// access is #GP(0). False when `regs.rcx` names another MSR or the PC has no APIC (MSRExit's).
    public static func msr<H: VMXHardware, C: ByteSink, D: ByteSink, S: BlockStorage>(
        _ hw: H, _ regs: inout GuestRegisters, pc: inout VirtualPC<C, D, S>, vcpu: Int,
        write: Bool
    ) -> Bool {
        let msr = UInt32(truncatingIfNeeded: regs.rcx)
        guard pc.hasAPIC, isAPICMSR(msr) else { return false }
        let offset = hw.read(.tscOffset)
        let now = hw.timestamp()
        if write {
            var value = regs.edxEAX
            if msr == 0x6E0 && value != 0 { value = value &- offset }       // guest TSC → host TSC
            guard pc.apicMSRWrite(msr, value: value, tsc: now, vcpu: vcpu) else {
                GuestEvents.injectGeneralProtection(hw)
                return true
            }
        } else {
            guard var value = pc.apicMSRRead(msr, tsc: now, vcpu: vcpu) else {
                GuestEvents.injectGeneralProtection(hw)
                return true
            }
            if msr == 0x6E0 && value != 0 { value = value &+ offset }
            regs.rax = value & 0xFFFF_FFFF
            regs.rdx = value >> 32
        }
        GuestEvents.skipInstruction(hw)
        return true
    }
}
