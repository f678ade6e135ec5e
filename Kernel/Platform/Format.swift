// Small formatting helpers for the console (no Foundation in the kernel).

/// `value` in hexadecimal with a 0x prefix, zero-padded to `digits`.
func hex<T: FixedWidthInteger>(_ value: T, digits: Int = 0) -> String {
    let width = digits > 0 ? digits : (T.bitWidth / 4)
    var out = "0x"
    var started = false
    let v = UInt64(truncatingIfNeeded: value)
    var shift = 60
    while shift >= 0 {
        let nibble = Int((v >> UInt64(shift)) & 0xF)
        let position = shift / 4
        if nibble != 0 || position < width || started {
            started = true
            out.append(Character(Unicode.Scalar(UInt8(nibble < 10 ? 48 + nibble : 87 + nibble))))
        }
        shift -= 4
    }
    return out
}

/// A byte count as KiB or MiB, whichever reads better.
func sizeString(_ bytes: UInt64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
    if bytes >= 1 << 10 { return "\(bytes >> 10) KiB" }
    return "\(bytes) B"
}

/// `s` right-padded with spaces to `width` characters.
func padded(_ s: String, _ width: Int) -> String {
    var out = s
    var n = s.utf8.count
    while n < width { out.append(" "); n += 1 }
    return out
}
