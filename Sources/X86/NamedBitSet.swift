// Bit sets whose bits carry architectural names, for error messages and boot reports.

/// An `OptionSet` over an unsigned integer whose individual bits have names.
public protocol NamedBitSet: OptionSet, Sendable where RawValue: FixedWidthInteger & UnsignedInteger & Sendable {
    /// The architectural name of bit `bit`, or nil for reserved/unknown bits.
    static func name(ofBit bit: Int) -> StaticString?
}

/// One set bit of a `NamedBitSet`.
public struct NamedBit: Sendable {
    public let bit: Int
    public let name: StaticString?

    /// The name, or "bit N" when the bit has no name.
    public var label: String {
        if let name { return Format.string(name) }
        return "bit " + Format.decimal(UInt64(bit))
    }
}

/// Iterates the set bits of a `NamedBitSet`, lowest first.
public struct NamedBitSequence<Bits: NamedBitSet>: Sequence, IteratorProtocol {
    var remaining: UInt64

    public init(_ bits: Bits) { remaining = UInt64(truncatingIfNeeded: bits.rawValue) }

    public mutating func next() -> NamedBit? {
        guard remaining != 0 else { return nil }
        let bit = remaining.trailingZeroBitCount
        remaining &= remaining &- 1
        return NamedBit(bit: bit, name: Bits.name(ofBit: bit))
    }
}

extension NamedBitSet {
    /// The set bits with their names, lowest first.
    public var namedBits: NamedBitSequence<Self> { NamedBitSequence(self) }

    /// A set containing exactly bit `bit`.
    @inline(__always)
    public static func bit(_ bit: Int) -> Self { Self(rawValue: RawValue(1) << RawValue(bit)) }

    /// Names of the set bits joined by `separator` (unnamed bits as "bit N"); "none" when empty.
    public func names(separator: String = ", ") -> String {
        var out = ""
        var first = true
        for b in namedBits {
            if !first { out += separator }
            out += b.label
            first = false
        }
        return first ? "none" : out
    }
}
