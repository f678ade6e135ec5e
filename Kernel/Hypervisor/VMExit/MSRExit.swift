import X86
import VTx

// RDMSR/WRMSR (SDM Vol. 3C §26.1.3), default deny: the MSR bitmap lets only the
// pass-through MSRs of MSRPolicyTable reach the processor; every other access
// exits (as do all MSRs outside the bitmap's two ranges) and lands here:
// - emulated MSRs are answered from the VM's own VirtualMSRFile (a TSC write
//   moves only this VM's TSC offset; APIC_BASE, MTRRs, MISC_ENABLE ... are
//   virtual registers that never reach the processor);
// - everything else, and any write the register would refuse: #GP(0), as a
//   processor without the MSR would raise. The first few are recorded for the report.
enum MSRExit {
    static func read(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) {
        let msr = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        guard case .emulated(let virtual) = MSRPolicyTable.rule(for: msr, vmcsSwitchesPAT: vm.pointee.msrs.vmcsSwitchesPAT) else {
            // Pass-through MSRs exit only outside the bitmap's reach, which none of them is.
            vm.pointee.msrs.recordRefused(msr, write: false)
            Guest.injectGeneralProtection()
            return
        }
        let value = vm.pointee.msrs.file.read(virtual, hostTSC: rdtsc())
        regs.pointee.rax = value & 0xFFFF_FFFF
        regs.pointee.rdx = value >> 32
        Guest.skipInstruction()
    }

    static func write(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) {
        let msr = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        let value = (regs.pointee.rdx << 32) | (regs.pointee.rax & 0xFFFF_FFFF)
        guard case .emulated(let virtual) = MSRPolicyTable.rule(for: msr, vmcsSwitchesPAT: vm.pointee.msrs.vmcsSwitchesPAT),
              vm.pointee.msrs.file.write(virtual, value, hostTSC: rdtsc()) else {
            vm.pointee.msrs.recordRefused(msr, write: true)
            Guest.injectGeneralProtection()
            return
        }
        if virtual == .tsc || virtual == .tscAdjust {
            vmwriteFast(.tscOffset, vm.pointee.msrs.file.tscOffset)
        }
        Guest.skipInstruction()
    }
}
