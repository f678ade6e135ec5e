import X86
import VTx
import Machine

/// HLT (SDM Vol. 3C §26.1.3, HLT exiting on): the guest waits for an interrupt.
/// - With interrupts disabled nothing can wake it: it is stopped for good.
/// - With one already pending, it resumes at once and takes it.
/// - With a device timer armed, or sibling vCPUs that may send it an IPI, it leaves the CPU
///   until an interrupt is pending for it (the scheduler runs others, or waits), then takes it.
/// - With no interrupt source at all, it would sleep forever: stopped and reported.
public enum HLTExit {
    public enum Outcome: Equatable {
        /// An interrupt is pending: resume and take it.
        case resume
        /// Wait off the CPU for an interrupt (the next device timer, or an IPI).
        case waitForTimer
        /// Nothing can ever wake it.
        case stop(interruptsEnabled: Bool)
        /// Interrupts are disabled but sibling vCPUs may still send it an NMI, INIT or SIPI: park it.
        case park
    }

    public static func handle<H: VMXHardware, C: ByteSink, D: ByteSink, S: BlockStorage>(_ hw: H, pc: inout VirtualPC<C, D, S>,
                                                                  vcpu: Int = 0) -> Outcome {
        guard hw.read(.guestRFLAGS) & RFLAGS.`if`.rawValue != 0 else {
            if pc.vcpuCount > 1 {
                GuestEvents.skipInstruction(hw)
                return .park
            }
            return .stop(interruptsEnabled: false)
        }
        GuestEvents.skipInstruction(hw)
        pc.update(tsc: hw.timestamp())
        if pc.interruptPending(vcpu: vcpu) { return .resume }
        if pc.nextTimerTSC == .max && pc.vcpuCount == 1 { return .stop(interruptsEnabled: true) }
        return .waitForTimer
    }
}
