// A contiguous range of guest-physical addresses (an MMIO window), usable as a
// `switch` pattern.

/// The addresses `[base, base + size)`; `base + size` may equal 2^64 but never exceed it.
public struct AddressRange: Equatable, Sendable {
    public let base: UInt64
    public let size: UInt64

    public init(base: UInt64, size: UInt64) {
        precondition(size == 0 || size - 1 <= UInt64.max - base, "address range wraps past 2^64")
        self.base = base
        self.size = size
    }

    /// Whether `address` is inside the range (overflow-safe).
    @inline(__always)
    public func contains(_ address: UInt64) -> Bool {
        address >= base && address &- base < size
    }

    /// Whether the whole access `[address, address + length)` is inside the range (overflow-safe).
    @inline(__always)
    public func contains(_ address: UInt64, length: UInt64) -> Bool {
        address >= base && length <= size && address &- base <= size &- length
    }

    /// Whether the two ranges share an address (an empty range shares none).
    @inline(__always)
    public func overlaps(_ other: AddressRange) -> Bool {
        size != 0 && other.size != 0 && (other.base >= base ? other.base &- base < size : base &- other.base < other.size)
    }

    /// The offset of `address` from `base`; only meaningful when `contains(address)`.
    @inline(__always)
    public func offset(of address: UInt64) -> UInt64 {
        address &- base
    }

    @inline(__always)
    public static func ~= (range: AddressRange, address: UInt64) -> Bool {
        range.contains(address)
    }
}
