// Per-port counters of I/O accesses no device claimed, for the exit report
// ("unhandled ports: 0x61 r3 w1, ...").

/// The counters of one unhandled port. Counts saturate at `UInt32.max`.
public struct UnhandledPortCount: Equatable, Sendable {
    public var port: UInt16
    public var reads: UInt32
    public var writes: UInt32

    public init(port: UInt16, reads: UInt32, writes: UInt32) {
        self.port = port
        self.reads = reads
        self.writes = writes
    }
}

/// A fixed table of up to 64 ports kept sorted by port number (binary search;
/// inserting a new port shifts at most 63 entries, once per port). Accesses to
/// ports beyond the first 64 distinct ones are only counted in `untrackedAccesses`.
public struct UnhandledPortTable: Sendable {
    public static var capacity: Int { 64 }

    private var entries = InlineArray<64, UnhandledPortCount>(
        repeating: UnhandledPortCount(port: 0, reads: 0, writes: 0))
    /// Distinct ports tracked, ≤ 64.
    public private(set) var count = 0
    /// Accesses to ports that did not fit in the table.
    public private(set) var untrackedAccesses: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { count == 0 && untrackedAccesses == 0 }

    /// The `index`-th tracked port in ascending port order (`index < count`).
    public subscript(index: Int) -> UnhandledPortCount {
        precondition(index >= 0 && index < count)
        return entries[index]
    }

    /// The counters of `port`, or nil when it has not been seen (or did not fit).
    public func counts(port: UInt16) -> UnhandledPortCount? {
        let (index, found) = search(port)
        return found ? entries[index] : nil
    }

    public mutating func recordRead(port: UInt16) {
        record(port: port, write: false)
    }

    public mutating func recordWrite(port: UInt16) {
        record(port: port, write: true)
    }

    public mutating func removeAll() {
        count = 0
        untrackedAccesses = 0
    }

    /// Writes "0x61 r3 w1, 0x64 r2 w0" (and " +N untracked" if the table
    /// overflowed) to `sink`, ports ascending; nothing when empty.
    public func writeSummary<S: ByteSink>(to sink: inout S) {
        var index = 0
        while index < count {
            let entry = entries[index]
            if index > 0 { sink.put(", ") }
            sink.putHex(UInt64(entry.port))
            sink.put(" r")
            sink.putDecimal(UInt64(entry.reads))
            sink.put(" w")
            sink.putDecimal(UInt64(entry.writes))
            index += 1
        }
        if untrackedAccesses > 0 {
            if count > 0 { sink.put(" ") }
            sink.put("+")
            sink.putDecimal(untrackedAccesses)
            sink.put(" untracked")
        }
    }

    private mutating func record(port: UInt16, write: Bool) {
        let (index, found) = search(port)
        if !found {
            guard count < Self.capacity else {
                untrackedAccesses &+= 1
                return
            }
            var move = count
            while move > index {
                entries[move] = entries[move - 1]
                move -= 1
            }
            entries[index] = UnhandledPortCount(port: port, reads: 0, writes: 0)
            count += 1
        }
        if write {
            if entries[index].writes != UInt32.max { entries[index].writes += 1 }
        } else {
            if entries[index].reads != UInt32.max { entries[index].reads += 1 }
        }
    }

    /// The index of `port`, or where it would be inserted.
    private func search(_ port: UInt16) -> (index: Int, found: Bool) {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) >> 1
            let candidate = entries[middle].port
            if candidate == port { return (middle, true) }
            if candidate < port { low = middle + 1 } else { high = middle }
        }
        return (low, false)
    }
}
