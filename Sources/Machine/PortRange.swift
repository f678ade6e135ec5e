// A contiguous range of x86 I/O ports, usable as a `switch` pattern.

/// The ports `[base, base + count)`. `count` is `UInt32` so that the whole
/// 64 KiB port space can be described.
public struct PortRange: Equatable, Sendable {
    public let base: UInt16
    public let count: UInt32

    public init(base: UInt16, count: UInt32) {
        precondition(UInt32(base) + count <= 0x1_0000, "port range wraps past 0xFFFF")
        self.base = base
        self.count = count
    }

    /// The last port of the range (meaningless for an empty range).
    public var last: UInt16 { UInt16(truncatingIfNeeded: UInt32(base) &+ count &- 1) }

    @inline(__always)
    public func contains(_ port: UInt16) -> Bool {
        port >= base && UInt32(port &- base) < count
    }

    /// The offset of `port` from `base`; only meaningful when `contains(port)`.
    @inline(__always)
    public func offset(of port: UInt16) -> UInt64 {
        UInt64(port &- base)
    }

    @inline(__always)
    public static func ~= (range: PortRange, port: UInt16) -> Bool {
        range.contains(port)
    }
}
