/// Where a vCPU stands between two turns: one value, not flags whose combination means something.
/// (The VM's end is its stop reason: once a VM stops, none of its vCPUs runs again.)
public enum RunState: Equatable, Sendable {
    /// Runnable: its next turn enters it.
    case running
    /// HLT with interrupts enabled: it waits off the CPU until an interrupt is pending for it
    /// (a device timer, an IPI, an I/O APIC message).
    case halted
    /// Its turn ended on time (the slice, or a yield to a sibling vCPU) with budget left: it runs
    /// again at its next turn.
    case yielded
    /// HLT with interrupts disabled on a vCPU of several (an OS parks the CPUs it stops so): only
    /// an NMI, INIT or SIPI can wake it (SDM Vol. 2A HLT). On a VM's only vCPU it ends the VM.
    case parked
    /// An application processor before its start-up IPI, or any vCPU after INIT (SDM Vol. 3A
    /// §8.4.4: wait-for-SIPI): held by the hypervisor, never entered, until a SIPI arrives.
    case waitingForStartup

    /// Runnable now or at its next turn (not waiting for an interrupt or a SIPI).
    @inline(__always) public var isRunnable: Bool { self == .running || self == .yielded }
}
