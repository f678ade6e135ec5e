// Helpers shared by every port I/O and MMIO access: sizes and the value an
// undecoded bus returns.

/// Facts about one I/O or MMIO access of `size` bytes (1, 2, 4 or 8).
public enum IOAccess {
    /// The mask covering an access of `size` bytes; 0 for a non-positive size,
    /// all ones for 8 or more.
    @inline(__always)
    public static func mask(size: Int) -> UInt64 {
        if size <= 0 { return 0 }
        if size >= 8 { return UInt64.max }
        return (UInt64(1) << UInt64(size &* 8)) &- 1
    }

    /// What a read of an address nobody decodes returns: the ISA/PCI data lines
    /// float high, so every bit of the access is 1 (0xFF, 0xFFFF, 0xFFFF_FFFF, ...).
    @inline(__always)
    public static func allOnes(size: Int) -> UInt64 {
        mask(size: size)
    }

    /// Whether `size` is one of the architectural access sizes 1, 2, 4, 8.
    @inline(__always)
    public static func isValid(size: Int) -> Bool {
        size == 1 || size == 2 || size == 4 || size == 8
    }
}
