// Segment selectors (SDM Vol. 3A §3.4.2).

public struct SegmentSelector: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inline(__always) public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Descriptor table indicator (bit 2).
    public enum Table: UInt16, Sendable { case gdt = 0, ldt = 1 }

    @inline(__always)
    public init(index: UInt16, table: Table = .gdt, rpl: UInt8 = 0) {
        rawValue = (index << 3) | (table.rawValue << 2) | UInt16(rpl & 3)
    }

    public static let null = SegmentSelector(rawValue: 0)

    /// Descriptor index (bits 15:3).
    @inline(__always) public var index: UInt16 { rawValue >> 3 }
    /// Table indicator (bit 2).
    @inline(__always) public var table: Table { rawValue & 4 != 0 ? .ldt : .gdt }
    /// Requested privilege level (bits 1:0).
    @inline(__always) public var rpl: UInt8 { UInt8(truncatingIfNeeded: rawValue & 3) }
    /// Byte offset of the descriptor within its table.
    @inline(__always) public var byteOffset: Int { Int(rawValue & 0xFFF8) }
    @inline(__always) public var isNull: Bool { rawValue & 0xFFFC == 0 }

    /// The selector with RPL and TI cleared: host selectors in the VMCS must have RPL = 0
    /// and TI = 0 (SDM Vol. 3C §27.2.3).
    @inline(__always) public var hostSelector: SegmentSelector { SegmentSelector(rawValue: rawValue & 0xFFF8) }
}
