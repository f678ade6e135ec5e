import VTx

/// The exits whose handling needs nothing but the current VMCS (SDM Vol. 3C §26.1, §28.2): the
/// kernel's dispatch (Kernel/Hypervisor/VMExit/ExitHandler.swift) takes the exits that reach the
/// VM's machine - VMCALL, CPUID, I/O, MSRs, CR accesses, HLT, EPT violations, the APIC pages,
/// shadow paging - and hands every other basic exit reason here. An exit this engine does not
/// handle, or a reason the SDM does not define, stops the VM with the exit's particulars.
public enum ExitDispatch {
    /// The particulars of an exit that stops the VM, for its report.
    public struct UnhandledExit: Equatable, Sendable {
        public var reason: UInt16
        public var qualification: UInt64
        public var instructionLength: UInt64
        public var instructionInformation: UInt64
        public var rip: UInt64
    }

    public enum Outcome: Equatable, Sendable {
        /// Enter the guest again (an event may be queued for the entry).
        case resume
        /// PAUSE-loop exiting: past the PAUSE, the vCPU gives way so the sibling it waits for can run.
        case yield
        /// The VMX-preemption timer ran out: a device timer came due or the turn is over (the checks
        /// before every entry see which); re-arm it before entering again.
        case preemptionTimerExpired
        /// NMI exiting: an NMI that arrived while the guest ran is the host's (its timer's where the
        /// CPU has no preemption timer); the guest goes on once the host has unblocked NMIs.
        case hostNMI
        case tripleFault(rip: UInt64)
        case eptMisconfiguration(gpa: UInt64, rip: UInt64)
        /// Stop the VM: an exit the engine does not handle.
        case unhandled(UnhandledExit)
    }

    @inline(__always)
    public static func handle<H: VMXHardware>(_ hw: H, basic: UInt16) -> Outcome {
        switch basic {
        case ExitReason.interruptWindow.rawValue:
            // The guest can take interrupts again: the checks before entry inject the pending one.
            return .resume
        case ExitReason.preemptionTimerExpired.rawValue:
            return .preemptionTimerExpired
        case ExitReason.externalInterrupt.rawValue:
            // "Acknowledge interrupt on exit" took the vector; the host's lines are all masked, so
            // it can only be spurious: nothing to forward, but an event it cut short goes in again.
            EventReinjection.reinjectInterruptedEvent(hw)
            return .resume
        case ExitReason.exceptionOrNMI.rawValue:
            // The exception bitmap is empty (but #PF under shadow paging, the kernel's): an NMI.
            EventReinjection.reinjectInterruptedEvent(hw)
            return .hostNMI
        case ExitReason.pause.rawValue:
            GuestEvents.skipInstruction(hw)
            return .yield
        case ExitReason.wbinvd.rawValue, ExitReason.invd.rawValue:
            // WBINVD exiting is on: guests own no device that needs caches written back (all their
            // devices are emulated, all their memory write-back), so it completes as a no-op; INVD
            // would drop dirty lines the host may own: performed as a no-op too.
            GuestEvents.skipInstruction(hw)
            return .resume
        case ExitReason.mwait.rawValue, ExitReason.monitor.rawValue:
            // MWAIT as a NOP (it may always wake at once, SDM Vol. 2B MWAIT); MONITOR arms nothing.
            GuestEvents.skipInstruction(hw)
            return .resume
        case ExitReason.rdpmc.rawValue:
            // No performance counters (CPUID leaf 0xA is zero): #GP as for an invalid counter.
            GuestEvents.injectGeneralProtection(hw)
            return .resume
        case ExitReason.vmclear.rawValue, ExitReason.vmlaunch.rawValue, ExitReason.vmptrld.rawValue,
             ExitReason.vmptrst.rawValue, ExitReason.vmread.rawValue, ExitReason.vmresume.rawValue,
             ExitReason.vmwrite.rawValue, ExitReason.vmxoff.rawValue, ExitReason.vmxon.rawValue,
             ExitReason.invept.rawValue, ExitReason.invvpid.rawValue, ExitReason.vmfunc.rawValue:
            // VMX is not offered to guests (CPUID.1:ECX.VMX = 0): these are #UD.
            GuestEvents.injectInvalidOpcode(hw)
            return .resume
        case ExitReason.tripleFault.rawValue:
            return .tripleFault(rip: hw.read(.guestRIP))
        case ExitReason.eptMisconfiguration.rawValue:
            return .eptMisconfiguration(gpa: hw.read(.guestPhysicalAddress), rip: hw.read(.guestRIP))
        case ExitReason.taskSwitch.rawValue, ExitReason.invlpg.rawValue:
            // A task switch (CALL/JMP through a TSS or task gate, IRET with NT, a task-gate
            // interrupt) exits unconditionally (§26.1.2) and is not emulated; INVLPG exits only
            // under shadow paging (the kernel's). Neither has instruction information.
            return .unhandled(particulars(hw, basic, instructionInformation: 0))
        default:
            return .unhandled(particulars(hw, basic, instructionInformation: hw.read(.vmExitInstructionInformation)))
        }
    }

    static func particulars<H: VMXHardware>(_ hw: H, _ basic: UInt16, instructionInformation: UInt64) -> UnhandledExit {
        UnhandledExit(reason: basic, qualification: hw.read(.exitQualification),
                      instructionLength: hw.read(.vmExitInstructionLength),
                      instructionInformation: instructionInformation, rip: hw.read(.guestRIP))
    }
}
