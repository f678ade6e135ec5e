// Allocation-light text formatting usable in Embedded Swift (no Foundation, no reflection).

/// Small formatting helpers shared by the architecture modules' report/description code.
public enum Format {
    /// Hexadecimal with an optional `0x` prefix, zero-padded to at least `digits` digits.
    public static func hex(_ value: UInt64, digits: Int = 1, prefix: Bool = true) -> String {
        var buf: [UInt8] = []
        buf.reserveCapacity(18)
        if prefix { buf.append(0x30); buf.append(0x78) }
        var n = 16
        while n > 1 && n > digits && (value >> UInt64((n - 1) * 4)) & 0xF == 0 { n -= 1 }
        var i = n - 1
        while i >= 0 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(i * 4)) & 0xF
            buf.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
            i -= 1
        }
        return String(decoding: buf, as: UTF8.self)
    }

    /// Unsigned decimal.
    public static func decimal(_ value: UInt64) -> String {
        var digits: [UInt8] = []
        var v = value
        repeat {
            digits.append(0x30 + UInt8(truncatingIfNeeded: v % 10))
            v /= 10
        } while v != 0
        digits.reverse()
        return String(decoding: digits, as: UTF8.self)
    }

    /// Signed decimal.
    public static func decimal(signed value: Int64) -> String {
        if value < 0 { return "-" + decimal(UInt64(bitPattern: 0 &- value)) }
        return decimal(UInt64(value))
    }

    /// A `StaticString` as a `String` (no interpolation/reflection needed).
    public static func string(_ s: StaticString) -> String {
        s.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
    }

    /// "yes" / "no".
    public static func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }
}
