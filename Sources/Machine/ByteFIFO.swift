// A 16-byte FIFO, the depth of the PC16550D's receiver and transmitter FIFOs.

/// A fixed ring of up to 16 bytes; never allocates.
public struct ByteFIFO: Sendable {
    public static var depth: Int { 16 }

    private var storage = InlineArray<16, UInt8>(repeating: 0)
    private var head = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Appends `byte` unless `count` has reached `limit` (≤ 16); returns whether it was stored.
    @inline(__always)
    public mutating func push(_ byte: UInt8, limit: Int = ByteFIFO.depth) -> Bool {
        if count >= limit || count >= Self.depth { return false }
        storage[(head + count) & (Self.depth - 1)] = byte
        count += 1
        return true
    }

    /// Removes and returns the oldest byte, or nil when empty.
    @inline(__always)
    public mutating func pop() -> UInt8? {
        if count == 0 { return nil }
        let byte = storage[head]
        head = (head + 1) & (Self.depth - 1)
        count -= 1
        return byte
    }

    /// Replaces the newest byte (the 16450-mode overrun: the new character
    /// overwrites the one the CPU did not read).
    public mutating func overwriteNewest(_ byte: UInt8) {
        if count == 0 { _ = push(byte); return }
        storage[(head + count - 1) & (Self.depth - 1)] = byte
    }

    public mutating func removeAll() {
        head = 0
        count = 0
    }
}
