import X86

// RDMSR/WRMSR (SDM Vol. 3C §26.1.3): the MSR bitmap lets most MSRs go straight
// to the processor; the ones listed in MSRPolicy exit and land here, as do all
// MSRs outside the bitmap's two ranges.
// - IA32_FEATURE_CONTROL reads as locked with VMX disabled (VMX is hidden);
// - the VMX capability MSRs do not exist for the guest: #GP;
// - any write we do not emulate: #GP, as a real CPU does for a refused write.
enum MSRExit {
    static func read(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) {
        let msr = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        let value: UInt64
        switch msr {
        case MSR.ia32FeatureControl:
            value = 1           // locked, VMX in and outside SMX disabled
        default:
            Guest.injectGeneralProtection()
            return
        }
        regs.pointee.rax = value & 0xFFFF_FFFF
        regs.pointee.rdx = value >> 32
        Guest.skipInstruction()
    }

    static func write(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) {
        Guest.injectGeneralProtection()
    }
}

/// Which MSRs exit through the MSR bitmap (SDM Vol. 3C §25.6.9).
enum MSRPolicy {
    /// Reads and writes of these exit.
    static let intercepted: [ClosedRange<UInt32>] = [
        MSR.ia32FeatureControl...MSR.ia32FeatureControl,
        0x480...0x493,                                       // IA32_VMX_BASIC ... IA32_VMX_EXIT_CTLS2
    ]
}
