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
    /// CPUID leaf 1 after CPUIDExit: the APIC features the VM has.
    @inline(__always)
    static func adjustCPUID(_ regs: inout GuestRegisters, leaf: UInt32) {
        guard leaf == 1 else { return }
        regs.rdx |= UInt64(CPUIDFeatureEDX.apic.rawValue)
        regs.rcx |= UInt64(CPUIDFeatureECX.x2apic.rawValue | CPUIDFeatureECX.tscDeadline.rawValue)
        regs.rbx &= 0x00FF_FFFF               // EBX[31:24]: the initial APIC ID, 0
    }

    static func isAPICMSR(_ msr: UInt32) -> Bool {
        msr == 0x1B || msr == 0x6E0 || (msr >= LocalAPIC.x2APICFirstMSR && msr <= LocalAPIC.x2APICLastMSR)
    }

    /// RDMSR/WRMSR of a local-APIC MSR; false when `regs.rcx` names another MSR (MSRExit's).
    static func msr(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                    write: Bool) -> Bool {
        let msr = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        guard vm.pointee.pc.hasAPIC, isAPICMSR(msr) else { return false }
        let offset = vmreadFast(.tscOffset)
        let now = rdtsc()
        if write {
            var value = regs.pointee.edxEAX
            if msr == 0x6E0 && value != 0 { value = value &- offset }       // guest TSC → host TSC
            guard vm.pointee.pc.apicMSRWrite(msr, value: value, tsc: now) else {
                Guest.injectGeneralProtection()
                return true
            }
        } else {
            guard var value = vm.pointee.pc.apicMSRRead(msr, tsc: now) else {
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
