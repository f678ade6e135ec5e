import VTx
import Machine

/// Time before every entry of a vCPU (SDM Vol. 3C §26.6, §27.2): bring the VM's device timers up
/// to now, end the turn if its wall time is over, and arm the VMX-preemption timer for the end of
/// the turn or the next device timer, whichever is first, so a guest that computes without
/// exiting still sees its timer interrupts on time. Where the CPU has no preemption timer (Core 2)
/// a host timer takes its place (VMXHardware.armHostTimer: an NMI exit at the deadline).
///
/// The timer counts guest time only (and is saved on exit where the CPU can), so it may fire late
/// by the exit handling since it was armed; every exit brings the device timers up to date and
/// checks the turn's end itself, so nothing waits for it. It is armed only when that deadline
/// moved (an expired timer asks for a re-arm: ExitDispatch's .preemptionTimerExpired sets
/// `armedDeadline` to 0). A turn is at most 2^32 - 1 ticks (CPUShare.maxTurn): the count fits.
public enum EntryTiming {
    /// False when the turn is over (host wall time at or past `sliceEnd`, exit handling included).
    /// `preemptionTimer` and `rate` (IA32_VMX_MISC bits 4:0) are read only when the timer is armed.
    @inline(__always)
    public static func beforeEntry<H: VMXHardware, C: ByteSink, D: ByteSink, S: BlockStorage>(
        _ hw: H, pc: inout VirtualPC<C, D, S>, now: UInt64, sliceEnd: UInt64, armedDeadline: inout UInt64,
        preemptionTimer: @autoclosure () -> Bool, rate: @autoclosure () -> Int
    ) -> Bool {
        var deadline = min(sliceEnd, pc.nextTimerTSC)
        if now >= deadline {
            // A device timer came due, or the turn is over: one compare while neither is.
            pc.update(tsc: now)
            if now >= sliceEnd { return false }
            deadline = min(sliceEnd, pc.nextTimerTSC)
        }
        if deadline != armedDeadline {
            armedDeadline = deadline
            if preemptionTimer() {
                hw.write(.vmxPreemptionTimerValue, InterruptInjection.preemptionTimerCount(now: now, deadline: deadline, rate: rate()))
            } else {
                hw.armHostTimer(deadline: deadline, now: now)       // Core 2: the host's timer, as an NMI
            }
        }
        return true
    }
}
