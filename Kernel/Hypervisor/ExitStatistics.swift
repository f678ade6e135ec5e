import VTx

// Per-VM exit statistics: how many exits of each basic reason, and the TSC
// cycles the hypervisor spent handling them (from the first instruction of the
// Swift handler to its return; the world switch itself is not included).
// Fixed-size storage: recording is two adds on the exit path.

struct ExitStatistics {
    /// One slot per basic exit reason: the SDM defines them below 128 (Vol. 3C Appendix C), so a
    /// reason's low 7 bits are its slot and recording needs no bounds check. (An undefined reason
    /// stops its VM with the full number in its stop reason.)
    static let slots = 128
    /// Slot i's count at 2i and its cycles at 2i + 1: one base pointer on the exit path.
    private let table: UnsafeMutablePointer<UInt64>

    init() {
        table = .allocate(capacity: 2 * Self.slots)
        table.initialize(repeating: 0, count: 2 * Self.slots)
    }

    func release() {
        table.deallocate()
    }

    @inline(__always)
    func record(reason: UInt16, cycles spent: UInt64) {
        let slot = Int(reason & UInt16(Self.slots - 1)) &* 2
        table[slot] &+= 1
        table[slot &+ 1] &+= spent
    }

    private func count(_ slot: Int) -> UInt64 { table[2 * slot] }
    private func cycles(_ slot: Int) -> UInt64 { table[2 * slot + 1] }

    var total: UInt64 {
        var sum: UInt64 = 0
        for i in 0..<Self.slots { sum &+= count(i) }
        return sum
    }

    /// The table printed when a guest ends.
    func printTable(prefix: String) {
        print("\(prefix)VM exits: \(total) in total")
        print("\(prefix)  \(padded("reason", 34)) \(padded("count", 10)) \(padded("cycles", 12)) avg")
        for slot in 0..<Self.slots where count(slot) != 0 {
            let name: String
            if let reason = ExitReason(rawValue: UInt16(slot)) { name = "\(slot) \(reason.name)" } else { name = "\(slot)" }
            let avg = cycles(slot) / count(slot)
            print("\(prefix)  \(padded(name, 34)) \(padded("\(count(slot))", 10)) \(padded("\(cycles(slot))", 12)) \(avg)")
        }
    }
}
