// Base address registers (PCI Local Bus 3.0 §6.2.5.1): what a function decodes,
// how big it is, and the read-only low bits that say so.

/// The kind of space a base address register claims.
public enum PCIBARKind: Equatable {
    /// I/O space; bit 0 reads 1.
    case io
    /// 32-bit memory space; bits 2:1 read 00.
    case memory32(prefetchable: Bool)
    /// 64-bit memory space, taking this BAR and the next; bits 2:1 read 10.
    case memory64(prefetchable: Bool)

    /// The read-only low bits of the BAR's first dword.
    public var flagBits: UInt32 {
        switch self {
        case .io: return 0x1
        case .memory32(let prefetchable): return prefetchable ? 0x8 : 0x0
        case .memory64(let prefetchable): return prefetchable ? 0xC : 0x4
        }
    }
    /// The least size the spec allows: 4 bytes of I/O, 16 bytes of memory.
    public var minimumSize: UInt64 {
        if case .io = self { return 4 }
        return 16
    }
    public var isMemory: Bool {
        if case .io = self { return false }
        return true
    }
    public var is64Bit: Bool {
        if case .memory64 = self { return true }
        return false
    }
}

/// One BAR a function implements: its kind and size (a power of two).
public struct PCIBARDefinition: Equatable {
    public var kind: PCIBARKind
    public var size: UInt64

    /// `size` is rounded up to a power of two and to the kind's minimum; I/O BARs
    /// are at most 256 bytes (§6.2.5.1).
    public init(kind: PCIBARKind, size: UInt64) {
        var rounded = max(size, kind.minimumSize)
        if rounded & (rounded &- 1) != 0 { rounded = 1 << UInt64(64 &- rounded.leadingZeroBitCount) }
        if case .io = kind { rounded = min(rounded, 256) }
        if case .memory32 = kind { rounded = min(rounded, 1 << 31) }
        self.kind = kind
        self.size = rounded
    }

    /// The writable bits of the BAR as one 64-bit value (the address bits at and above
    /// the size). Writing all ones and reading back gives `writeMask | flagBits`.
    public var addressMask: UInt64 {
        switch kind {
        case .io: return ~(size &- 1) & 0xFFFC & 0xFFFF
        case .memory32: return ~(size &- 1) & 0xFFFF_FFF0
        case .memory64: return ~(size &- 1) & ~UInt64(0xF)
        }
    }
}
