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
}
