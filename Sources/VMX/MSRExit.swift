import X86
import VTx

/// RDMSR/WRMSR (SDM Vol. 3C §26.1.3), default deny: the MSR bitmap lets only the
/// pass-through MSRs of MSRPolicyTable reach the processor; every other access
/// exits (as do all MSRs outside the bitmap's two ranges) and lands here:
/// - emulated MSRs are answered from the VM's own VirtualMSRFile (a TSC write
///   moves only this VM's TSC offset; APIC_BASE, MTRRs, MISC_ENABLE ... are
///   virtual registers that never reach the processor);
/// - everything else, and any write the register would refuse: #GP(0), as a
///   processor without the MSR would raise. The first few are recorded for the report.
public enum MSRExit {
    public static func read<H: VMXHardware>(_ hw: H, _ regs: inout GuestRegisters, _ cpu: inout VCPUState) {
        let msr = UInt32(truncatingIfNeeded: regs.rcx)
        guard case .emulated(let virtual) = MSRPolicyTable.rule(for: msr, vmcsSwitchesPAT: cpu.msrs.vmcsSwitchesPAT) else {
            // Pass-through MSRs exit only outside the bitmap's reach, which none of them is.
            cpu.msrs.recordRefused(msr, write: false)
            GuestEvents.injectGeneralProtection(hw)
            return
        }
        let value = cpu.msrs.file.read(virtual, hostTSC: hw.timestamp())
        regs.rax = value & 0xFFFF_FFFF
        regs.rdx = value >> 32
        GuestEvents.skipInstruction(hw)
    }

    public static func write<H: VMXHardware>(_ hw: H, _ regs: inout GuestRegisters, _ cpu: inout VCPUState) {
        let msr = UInt32(truncatingIfNeeded: regs.rcx)
        let value = regs.edxEAX
        guard case .emulated(let virtual) = MSRPolicyTable.rule(for: msr, vmcsSwitchesPAT: cpu.msrs.vmcsSwitchesPAT),
              cpu.msrs.file.write(virtual, value, hostTSC: hw.timestamp()) else {
            cpu.msrs.recordRefused(msr, write: true)
            GuestEvents.injectGeneralProtection(hw)
            return
        }
        if virtual == .tsc || virtual == .tscAdjust {
            hw.write(.tscOffset, cpu.msrs.file.tscOffset)
        }
        GuestEvents.skipInstruction(hw)
    }
}
