import VTx

// Per-VM exit statistics: how many exits of each basic reason, and the TSC
// cycles the hypervisor spent handling them (from the first instruction of the
// Swift handler to its return; the world switch itself is not included).
// Fixed-size storage: recording is two adds on the exit path.

struct ExitStatistics {
    static let slots = 128
    private let counts: UnsafeMutablePointer<UInt64>
    private let cycles: UnsafeMutablePointer<UInt64>

    init() {
        counts = .allocate(capacity: Self.slots)
        counts.initialize(repeating: 0, count: Self.slots)
        cycles = .allocate(capacity: Self.slots)
        cycles.initialize(repeating: 0, count: Self.slots)
    }

    func release() {
        counts.deallocate()
        cycles.deallocate()
    }

    @inline(__always)
    func record(reason: Int, cycles spent: UInt64) {
        let slot = reason < Self.slots ? reason : Self.slots - 1
        counts[slot] &+= 1
        cycles[slot] &+= spent
    }

    var total: UInt64 {
        var sum: UInt64 = 0
        for i in 0..<Self.slots { sum &+= counts[i] }
        return sum
    }

    /// The table printed when a guest ends.
    func printTable(prefix: String) {
        print("\(prefix)VM exits: \(total) in total")
        print("\(prefix)  \(padded("reason", 34)) \(padded("count", 10)) \(padded("cycles", 12)) avg")
        for slot in 0..<Self.slots where counts[slot] != 0 {
            let name: String
            if let reason = ExitReason(rawValue: UInt16(slot)) { name = "\(slot) \(reason.name)" } else { name = "\(slot)" }
            let avg = cycles[slot] / counts[slot]
            print("\(prefix)  \(padded(name, 34)) \(padded("\(counts[slot])", 10)) \(padded("\(cycles[slot])", 12)) \(avg)")
        }
    }
}
