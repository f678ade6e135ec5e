// How much a device may do for a guest inside one VM exit. A guest controls how much it
// asks for (a queue full of requests, one request for a million sectors, a ring that
// refills itself), so a device never works until the request is done: it takes what the
// budget allows, keeps its place, and goes on later (the device reports
// `VirtqueueProgress.budgetSpent`; the VM's PC arms a timer `guestNanosecondsBetween` on and
// does one more budget at that exit, the guest running in between). Each exit is then
// bounded, the VM's turn is checked after every one, and only that VM waits for the rest.
//
// The figures keep one exit well inside a 1 M-tick slice in Bochs (README, "Security
// model": a budget of host-disk zeroing is ~0.11 M ticks, a frame through the switch a few
// thousand ticks per receiver).

public struct DeviceWorkBudget {
    /// Data one exit may move or zero: 128 KiB (256 sectors).
    public static var bytesPerExit: UInt64 { 128 * 1024 }
    /// Requests (descriptor chains) one exit may take from a queue.
    public static var requestsPerExit: Int { 32 }
    /// Frames the virtual switch may forward from one sender in one exit.
    public static var framesPerExit: Int { 32 }
    /// Guest time between two budgets of deferred work: the guest runs (takes its interrupts,
    /// keeps its clocks) while its device works, at the cost of that much latency per budget.
    public static var guestNanosecondsBetween: UInt64 { 200_000 }

    public private(set) var bytes: UInt64
    public private(set) var requests: Int

    public init(bytes: UInt64 = Self.bytesPerExit, requests: Int = Self.requestsPerExit) {
        self.bytes = bytes
        self.requests = requests
    }

    /// Takes one request from the budget; false when none is left.
    public mutating func takeRequest() -> Bool {
        guard requests > 0 else { return false }
        requests &-= 1
        return true
    }

    /// Takes up to `wanted` bytes in whole `unit`s (a sector); 0 when not one unit is left.
    public mutating func take(bytes wanted: UInt64, unit: UInt64) -> UInt64 {
        let granted = min(wanted, bytes / unit &* unit)
        bytes &-= granted
        return granted
    }
}

/// What one call of a device's queue processing left behind.
public enum VirtqueueProgress: Equatable {
    /// Every request made available was completed.
    case drained
    /// The budget ran out with work left: a request in progress or more in the ring.
    case budgetSpent
}
