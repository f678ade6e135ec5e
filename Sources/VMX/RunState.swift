/// Where a VM stands between two turns: one value, not flags whose combination means something.
/// `Reason` is the engine's stop reason (the kernel's StopReason).
public enum RunState<Reason> {
    /// Runnable: its next turn enters it.
    case running
    /// HLT with interrupts enabled and a device timer armed: it waits off the CPU for an interrupt.
    case halted
    /// Its turn ended on time (the slice) with budget left: it runs again at its next turn.
    case yielded
    /// Done for good, and why.
    case stopped(Reason)

    /// The stop reason, nil while the VM can still run.
    @inline(__always) public var stopReason: Reason? {
        if case .stopped(let reason) = self { return reason }
        return nil
    }

    @inline(__always) public var isRunning: Bool {
        if case .running = self { return true }
        return false
    }
}
