import VTx
import Machine

/// VMCALL's checks before the hypercall ABI (docs/hypercalls.md) sees the registers.
public enum VMCALLOperands {
    /// The hypercall registers as the guest means them, or nil after injecting #UD:
    /// hypercalls are the guest kernel's, so from CPL > 0 (SS.DPL, SDM Vol. 3A §5.5) VMCALL is #UD.
    /// Outside 64-bit mode the upper halves of the registers are undefined (SDM Vol. 1 §3.4.1.1):
    /// only their low 32 bits count, as a 32-bit or 16-bit guest means.
    @inline(__always)
    public static func read<H: VMXHardware>(_ hw: H, _ regs: inout GuestRegisters, ia32eModeGuest: Bool) -> HypercallRegisters? {
        if GuestControlState.cpl(hw) != 0 {
            GuestEvents.injectInvalidOpcode(hw)
            return nil
        }
        // CS.L: 64-bit code, not compatibility mode.
        let wide = ia32eModeGuest && GuestControlState.codeSegmentLong(hw)
        let mask: UInt64 = wide ? ~0 : 0xFFFF_FFFF
        return HypercallRegisters(rax: regs.rax & mask, rbx: regs.rbx & mask, rcx: regs.rcx & mask,
                                  rdx: regs.rdx & mask, rsi: regs.rsi & mask)
    }
}
