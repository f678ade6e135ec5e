import VTx

// Small operations on the current guest that several exit handlers share.
enum Guest {
    /// The exiting instruction completed (emulated): continue after it
    /// (SDM Vol. 3C §28.2.5: the VM-exit instruction length is valid for these exits).
    /// Blocking by STI or MOV SS ends with the instruction that follows it (§25.4.2),
    /// so a skipped instruction must also clear it.
    @inline(__always)
    static func skipInstruction() {
        vmwriteFast(.guestRIP, vmreadFast(.guestRIP) &+ vmreadFast(.vmExitInstructionLength))
        let interruptibility = vmreadFast(.guestInterruptibilityState)
        if interruptibility & 3 != 0 {
            vmwriteFast(.guestInterruptibilityState, interruptibility & ~3)
        }
    }

    /// Deliver an event on the next VM entry (SDM Vol. 3C §26.6). A fault is injected
    /// with RIP left at the faulting instruction, as the CPU would.
    static func inject(_ info: InterruptionInfo, errorCode: UInt32 = 0) {
        if info.deliversErrorCode { vmwriteFast(.vmEntryExceptionErrorCode, UInt64(errorCode)) }
        vmwriteFast(.vmEntryInterruptionInformation, UInt64(info.rawValue))
    }

    /// #GP(0): what a real CPU raises for a refused MSR or CR write.
    static func injectGeneralProtection() {
        inject(.hardwareException(vector: 13, hasErrorCode: true), errorCode: 0)
    }
}
