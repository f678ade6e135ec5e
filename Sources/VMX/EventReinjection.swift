import X86
import VTx

/// An exit that interrupted the delivery of an event (IDT-vectoring information valid,
/// SDM Vol. 3C §28.2.4): the event is delivered again on the next entry, or it is lost.
public enum EventReinjection {
    @inline(__always)
    public static func reinjectInterruptedEvent<H: VMXHardware>(_ hw: H) {
        let info = hw.read(.idtVectoringInformation)
        guard info & UInt64(InterruptionInfo.validBit) != 0 else { return }
        // Bit 12 (NMI unblocking due to IRET) is reserved in the entry field (§26.2.1.3).
        let event = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: info) & ~InterruptionInfo.nmiUnblockingBit)
        if event.deliversErrorCode { hw.write(.vmEntryExceptionErrorCode, hw.read(.idtVectoringErrorCode)) }
        // Software interrupts and exceptions need the instruction length (§26.6.1.3).
        if event.needsInstructionLength { hw.write(.vmEntryInstructionLength, hw.read(.vmExitInstructionLength)) }
        hw.write(.vmEntryInterruptionInformation, UInt64(event.rawValue))
    }

    /// A fault in an IRET that had already unblocked NMIs (the exit's interruption information bit
    /// 12, SDM Vol. 3C §28.2.3; virtual-NMI blocking with virtual NMIs): the IRET never completed,
    /// so NMIs are blocked again, whether the guest runs it again or takes the fault. Not when the
    /// fault cut an event's delivery short (the IDT-vectoring information is then valid) or for #DF.
    @inline(__always)
    public static func reblockNMIsAfterFaultingIRET<H: VMXHardware>(_ hw: H, exitInformation: InterruptionInfo) {
        guard exitInformation.nmiUnblockingDueToIRET, exitInformation.vector != ExceptionVector.doubleFault.rawValue,
              hw.read(.idtVectoringInformation) & UInt64(InterruptionInfo.validBit) == 0 else { return }
        let state = hw.read(.guestInterruptibilityState)
        hw.write(.guestInterruptibilityState, state | UInt64(InterruptibilityState.blockingByNMI.rawValue))
    }
}
