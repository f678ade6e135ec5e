// MSI-X (PCI Local Bus 3.0 §6.8.2): a function's table of message address/data pairs with a
// mask bit each, its Pending Bit Array, and the Message Control bits (MSI-X Enable, Function
// Mask) software sets in the capability. The function raises a vector; the table turns it into
// a message to send now, or a pending bit while the vector or the function is masked, sent
// when software unmasks it (§6.8.2.9). At most `maxVectors` vectors. Readers are `mutating`:
// a non-mutating read of the InlineArray copies it (docs/virtio.md, Embedded Swift note).

/// The MSI-X capability structure (§6.8.2.1-§6.8.2.4): ID 0x11, then Message Control,
/// Table Offset/BIR and PBA Offset/BIR.
public enum PCIMSIXCapability {
    public static var id: UInt8 { 0x11 }
    /// Offsets from the capability's start.
    public static var messageControl: Int { 2 }
    public static var tableOffset: Int { 4 }
    public static var pbaOffset: Int { 8 }
    /// Message Control bits: Table Size (N-1, read-only), Function Mask, MSI-X Enable.
    public static var tableSizeMask: UInt16 { 0x07FF }
    public static var functionMask: UInt16 { 1 << 14 }
    public static var enable: UInt16 { 1 << 15 }

    /// Adds the capability for a table of `vectors` entries at `tableOffset` and the PBA at
    /// `pbaOffset`, both in BAR `bar`; Function Mask and MSI-X Enable become writable.
    /// Returns the capability's offset.
    @discardableResult
    public static func add(to space: inout PCIConfigSpace, vectors: Int, bar: UInt8,
                           tableOffset: UInt32, pbaOffset: UInt32) -> Int? {
        var body = InlineArray<10, UInt8>(repeating: 0)
        let control = UInt16(vectors &- 1) & tableSizeMask
        let table = tableOffset & ~7 | UInt32(bar & 7)
        let pba = pbaOffset & ~7 | UInt32(bar & 7)
        body[0] = UInt8(truncatingIfNeeded: control)
        body[1] = UInt8(truncatingIfNeeded: control >> 8)
        var index = 0
        while index < 4 {
            body[2 &+ index] = UInt8(truncatingIfNeeded: table >> UInt32(index &* 8))
            body[6 &+ index] = UInt8(truncatingIfNeeded: pba >> UInt32(index &* 8))
            index &+= 1
        }
        let offset = withUnsafeBytes(of: &body) { space.addCapability(id: id, body: $0) }
        if let offset { space.setMask(UInt32(functionMask | enable), at: offset &+ messageControl, size: 2) }
        return offset
    }
}

public struct PCIMSIXTable {
    public static var maxVectors: Int { 8 }
    /// Bytes per table entry: address low, address high, data, vector control (§6.8.2.6-§6.8.2.9).
    public static var entrySize: UInt64 { 16 }
    /// Vector Control bit 0: the entry is masked (set at reset).
    public static var vectorMasked: UInt32 { 1 }

    /// Entries in the table (1...maxVectors).
    public let vectorCount: Int
    var words = InlineArray<32, UInt32>(repeating: 0)
    /// The Pending Bit Array: bit n, vector n was raised while masked.
    public private(set) var pending: UInt8 = 0
    /// Vectors raised and unmasked, whose messages wait for `takeMessage`.
    public private(set) var outbox: UInt8 = 0
    public private(set) var isEnabled = false
    public private(set) var isFunctionMasked = false

    public init(vectors: Int) {
        vectorCount = min(max(vectors, 1), Self.maxVectors)
        reset()
    }

    /// The table's reset state: every entry masked, addresses and data 0, nothing pending (§6.8.2.9).
    public mutating func reset() {
        var index = 0
        while index < 32 { words[index] = index & 3 == 3 ? Self.vectorMasked : 0; index &+= 1 }
        pending = 0
        outbox = 0
    }

    /// Bytes of the table.
    public var tableSize: UInt64 { UInt64(vectorCount) &* Self.entrySize }

    public mutating func isMasked(_ vector: Int) -> Bool {
        isFunctionMasked || words[vector &* 4 &+ 3] & Self.vectorMasked != 0
    }

    /// Vector `vector`'s message as the table holds it now.
    public mutating func message(_ vector: Int) -> PCIMSIMessage {
        PCIMSIMessage(address: UInt64(words[vector &* 4]) | UInt64(words[vector &* 4 &+ 1]) << 32,
                      data: words[vector &* 4 &+ 2])
    }

    // MARK: The function's side

    /// Message Control as software wrote it (from the capability): masking the function holds
    /// new messages pending; clearing a mask sends what is pending.
    public mutating func setControl(enabled: Bool, functionMasked: Bool) {
        isEnabled = enabled
        isFunctionMasked = functionMasked
        releaseUnmasked()
    }

    /// The function raises `vector`: a message to send, or a pending bit while it is masked.
    /// Vectors past the table (e.g. VIRTIO_MSI_NO_VECTOR) and a disabled table send nothing.
    public mutating func raise(_ vector: UInt16) {
        guard isEnabled, Int(vector) < vectorCount else { return }
        let bit = UInt8(1) << UInt8(vector)
        if isMasked(Int(vector)) { pending |= bit } else { outbox |= bit }
    }

    /// The next message to send, if any (lowest vector first).
    public mutating func takeMessage() -> PCIMSIMessage? {
        guard outbox != 0 else { return nil }
        let vector = outbox.trailingZeroBitCount
        outbox &= ~(UInt8(1) << UInt8(vector))
        return message(vector)
    }

    private mutating func releaseUnmasked() {
        guard isEnabled, pending != 0 else { return }
        var vector = 0
        while vector < vectorCount {
            let bit = UInt8(1) << UInt8(vector)
            if pending & bit != 0 && !isMasked(vector) {
                pending &= ~bit
                outbox |= bit
            }
            vector &+= 1
        }
    }

    // MARK: Software's side (memory accesses to the table and the PBA)

    /// Whether an access is one the spec defines: a naturally aligned dword or qword (§6.8.2);
    /// others are ignored (writes dropped, reads 0).
    static func isDefinedAccess(offset: UInt64, size: Int) -> Bool {
        (size == 4 || size == 8) && offset & UInt64(size &- 1) == 0
    }

    /// A read of `size` bytes at `offset` in the table.
    public mutating func readTable(offset: UInt64, size: Int) -> UInt64 {
        guard Self.isDefinedAccess(offset: offset, size: size), offset &+ UInt64(size) <= tableSize else { return 0 }
        let index = Int(offset / 4)
        if size == 8 { return UInt64(words[index]) | UInt64(words[index &+ 1]) << 32 }
        return UInt64(words[index])
    }

    /// A write of the table. Only Vector Control bit 0 is writable in its dword, and the
    /// address's low two bits read 0 (§6.8.2.6); unmasking sends a pending message.
    public mutating func writeTable(offset: UInt64, size: Int, value: UInt64) {
        guard Self.isDefinedAccess(offset: offset, size: size), offset &+ UInt64(size) <= tableSize else { return }
        storeWord(Int(offset / 4), UInt32(truncatingIfNeeded: value))
        if size == 8 { storeWord(Int(offset / 4) &+ 1, UInt32(truncatingIfNeeded: value >> 32)) }
        releaseUnmasked()
    }

    private mutating func storeWord(_ index: Int, _ value: UInt32) {
        switch index & 3 {
        case 0: words[index] = value & ~3
        case 3: words[index] = (words[index] & ~Self.vectorMasked) | (value & Self.vectorMasked)
        default: words[index] = value
        }
    }

    /// A read of the Pending Bit Array (read-only; one qword holds all `maxVectors` bits).
    public mutating func readPBA(offset: UInt64, size: Int) -> UInt64 {
        guard Self.isDefinedAccess(offset: offset, size: size), offset &+ UInt64(size) <= 8 else { return 0 }
        return offset == 0 ? UInt64(pending) : 0
    }
}
