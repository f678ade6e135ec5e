import Machine
import VTx

/// Small operations on the current guest that several exit handlers share.
public enum GuestEvents {
    /// The exiting instruction completed (emulated): continue after it
    /// (SDM Vol. 3C §28.2.5: the VM-exit instruction length is valid for these exits).
    /// Blocking by STI or MOV SS ends with the instruction that follows it (§25.4.2),
    /// so a skipped instruction must also clear it.
    @inline(__always)
    public static func skipInstruction<H: VMXHardware>(_ hw: H) {
        hw.write(.guestRIP, hw.read(.guestRIP) &+ hw.read(.vmExitInstructionLength))
        let interruptibility = hw.read(.guestInterruptibilityState)
        if interruptibility & 3 != 0 {
            hw.write(.guestInterruptibilityState, interruptibility & ~3)
        }
    }

    /// Deliver an event on the next VM entry (SDM Vol. 3C §26.6). A fault is injected
    /// with RIP left at the faulting instruction, as the CPU would.
    @inline(__always)
    public static func inject<H: VMXHardware>(_ hw: H, _ info: InterruptionInfo, errorCode: UInt32 = 0) {
        if info.deliversErrorCode { hw.write(.vmEntryExceptionErrorCode, UInt64(errorCode)) }
        hw.write(.vmEntryInterruptionInformation, UInt64(info.rawValue))
    }

    /// #GP(0): what a real CPU raises for a refused MSR or CR write.
    @inline(__always)
    public static func injectGeneralProtection<H: VMXHardware>(_ hw: H) {
        inject(hw, .hardwareException(vector: 13, hasErrorCode: true), errorCode: 0)
    }

    /// #UD: VMX instructions, VMCALL from user mode.
    @inline(__always)
    public static func injectInvalidOpcode<H: VMXHardware>(_ hw: H) {
        inject(hw, .hardwareException(vector: 6, hasErrorCode: false))
    }

    /// #PF with CR2 = the faulting linear address (SDM Vol. 3A §6.15, interrupt 14).
    @inline(__always)
    public static func injectPageFault<H: VMXHardware>(_ hw: H, linear: UInt64, errorCode: PageFaultErrorCode) {
        hw.setGuestCR2(linear)
        inject(hw, .hardwareException(vector: 14, hasErrorCode: true), errorCode: errorCode.rawValue)
    }
}
