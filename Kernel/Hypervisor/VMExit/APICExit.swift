import X86
import VTx
import Machine
import VMX

// The local APIC as the VM's processor shows it, on machines with the APIC interrupt model
// (`apic=on`, VirtualPC.enableAPIC): CPUID reports the APIC, x2APIC and the TSC-deadline timer
// (SDM Vol. 2A CPUID leaf 1; Vol. 3A §11.4.2, §11.5.4.1, §11.12.1) with APIC ID 0, and the
// local APIC's MSRs — IA32_APIC_BASE (0x1B), IA32_TSC_DEADLINE (0x6E0) and the x2APIC registers
// (0x800-0x8FF) — reach the VM's local APIC instead of the MSR policy's defaults. The xAPIC page
// itself is emulated MMIO (MMIOExit). Guest TSC values (the deadline) are host TSC plus the VMCS
// TSC offset; the APIC keeps host time, like the rest of the virtual PC.
enum APICExit {
    /// CPUID after CPUIDExit: the APIC features the VM has (leaf 1), and the topology of its
    /// vCPUs (CPUIDTopology: APIC ID = vCPU index in leaf 1 and leaves 0xB/0x1F, core counts in
    /// leaf 4).
    @inline(__always)
    static func adjustCPUID(_ regs: UnsafeMutablePointer<GuestRegisters>, leaf: UInt32, subleaf: UInt32,
                            vcpu: UnsafeMutablePointer<VCPU>) {
        let topology = CPUIDTopology(vcpus: vcpu.pointee.pc.vcpuCount)
        let id = UInt32(vcpu.pointee.index)
        var r = CPUIDResult(eax: UInt32(truncatingIfNeeded: regs.pointee.rax), ebx: UInt32(truncatingIfNeeded: regs.pointee.rbx),
                            ecx: UInt32(truncatingIfNeeded: regs.pointee.rcx), edx: UInt32(truncatingIfNeeded: regs.pointee.rdx))
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
        regs.pointee.rax = UInt64(r.eax)
        regs.pointee.rbx = UInt64(r.ebx)
        regs.pointee.rcx = UInt64(r.ecx)
        regs.pointee.rdx = UInt64(r.edx)
    }

    static func isAPICMSR(_ msr: UInt32) -> Bool {
        msr == 0x1B || msr == 0x6E0 || (msr >= LocalAPIC.x2APICFirstMSR && msr <= LocalAPIC.x2APICLastMSR)
    }

    /// RDMSR/WRMSR of a local-APIC MSR; false when `regs.rcx` names another MSR (MSRExit's).
    static func msr(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                    write: Bool) -> Bool {
        let msr = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        guard vcpu.pointee.pc.hasAPIC, isAPICMSR(msr) else { return false }
        let offset = vmreadFast(.tscOffset)
        let now = rdtsc()
        if write {
            var value = regs.pointee.edxEAX
            if msr == 0x6E0 && value != 0 { value = value &- offset }       // guest TSC → host TSC
            guard vcpu.pointee.pc.apicMSRWrite(msr, value: value, tsc: now, vcpu: vcpu.pointee.index) else {
                Guest.injectGeneralProtection()
                return true
            }
        } else {
            guard var value = vcpu.pointee.pc.apicMSRRead(msr, tsc: now, vcpu: vcpu.pointee.index) else {
                Guest.injectGeneralProtection()
                return true
            }
            if msr == 0x6E0 && value != 0 { value = value &+ offset }
            regs.pointee.rax = value & 0xFFFF_FFFF
            regs.pointee.rdx = value >> 32
        }
        Guest.skipInstruction()
        return true
    }
}
