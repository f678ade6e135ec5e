// Where a device's output bytes go, plus allocation-free formatting helpers.

/// A consumer of output bytes (a UART's transmitter, the 0xE9 debug port).
/// Used through generics only.
public protocol ByteSink {
    mutating func put(_ byte: UInt8)
}

/// A sink that drops everything.
public struct DiscardingSink: ByteSink, Sendable {
    public init() {}
    @inline(__always)
    public mutating func put(_ byte: UInt8) {}
}

extension ByteSink {
    /// Writes every byte of `bytes`.
    public mutating func put(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { put(byte) }
    }

    /// Writes an ASCII/UTF-8 literal.
    public mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { buffer in
            for byte in buffer { put(byte) }
        }
    }

    /// Writes `value` in lower-case hexadecimal with a `0x` prefix and at least
    /// `minimumDigits` digits (e.g. `0x61`, `0x3f8`).
    public mutating func putHex(_ value: UInt64, minimumDigits: Int = 1) {
        put(UInt8(ascii: "0"))
        put(UInt8(ascii: "x"))
        var digits = 16
        while digits > 1 && digits > minimumDigits && (value >> UInt64((digits - 1) * 4)) == 0 {
            digits -= 1
        }
        while digits > 0 {
            digits -= 1
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(digits * 4)) & 0xF
            put(nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "a"))
        }
    }

    /// Writes `value` in decimal.
    public mutating func putDecimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            put(UInt8(truncatingIfNeeded: rest / divisor) + UInt8(ascii: "0"))
            rest %= divisor
            divisor /= 10
        }
    }
}
