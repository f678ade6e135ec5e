// Segment access rights in the VMCS format (SDM Vol. 3C §25.4.1, Table 25-2).

/// Guest segment access rights: descriptor bits 55:40 moved down to bits 15:0, plus "unusable" (bit 16).
public struct AccessRights: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(type: UInt8, codeOrData: Bool = true, dpl: UInt8 = 0, present: Bool = true, avl: Bool = false,
                long: Bool = false, defaultBig: Bool = false, granularity: Bool = false, unusable: Bool = false) {
        var v = UInt32(type & 0xF)
        if codeOrData { v |= 1 << 4 }
        v |= UInt32(dpl & 3) << 5
        if present { v |= 1 << 7 }
        if avl { v |= 1 << 12 }
        if long { v |= 1 << 13 }
        if defaultBig { v |= 1 << 14 }
        if granularity { v |= 1 << 15 }
        if unusable { v |= 1 << 16 }
        rawValue = v
    }

    public static let unusableBit: UInt32 = 1 << 16
    /// Bits that must be zero: 11:8 and 31:17 (SDM Vol. 3C §27.3.1.2).
    public static let reservedMask: UInt32 = 0xFFFE_0F00

    public var type: UInt8 { UInt8(truncatingIfNeeded: rawValue & 0xF) }
    public var isCodeOrData: Bool { rawValue & (1 << 4) != 0 }
    public var dpl: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 5) & 3) }
    public var present: Bool { rawValue & (1 << 7) != 0 }
    public var avl: Bool { rawValue & (1 << 12) != 0 }
    public var long: Bool { rawValue & (1 << 13) != 0 }
    public var defaultBig: Bool { rawValue & (1 << 14) != 0 }
    public var granularity: Bool { rawValue & (1 << 15) != 0 }
    public var unusable: Bool { rawValue & (1 << 16) != 0 }
    public var isCode: Bool { isCodeOrData && type & 0x8 != 0 }

    /// From a GDT/LDT descriptor.
    public init(descriptor: SegmentDescriptor) { self = descriptor.accessRights }

    /// 64-bit code: execute/read accessed (0xB), S, P, L, G.
    public static func code64(dpl: UInt8 = 0) -> AccessRights {
        AccessRights(type: 0xB, dpl: dpl, long: true, granularity: true)
    }
    /// 32-bit code: execute/read accessed (0xB), S, P, D, G.
    public static func code32(dpl: UInt8 = 0) -> AccessRights {
        AccessRights(type: 0xB, dpl: dpl, defaultBig: true, granularity: true)
    }
    /// Flat data: read/write accessed (3), S, P, B, G.
    public static func data(dpl: UInt8 = 0) -> AccessRights {
        AccessRights(type: 0x3, dpl: dpl, defaultBig: true, granularity: true)
    }
    /// Real-mode (unrestricted guest) segment: type 0xB for CS, 3 for data, S, P, 16-bit, byte granular.
    public static func realMode(code: Bool = false) -> AccessRights {
        AccessRights(type: code ? 0xB : 0x3)
    }
    /// Virtual-8086 segment: type 3, S, P, DPL 3 (SDM Vol. 3C §27.3.1.2).
    public static let virtual8086 = AccessRights(type: 0x3, dpl: 3)
    /// Busy 64-bit (or 32-bit) TSS (type 11), S = 0, P.
    public static let tssBusy64 = AccessRights(type: 0xB, codeOrData: false)
    /// Busy 16-bit TSS (type 3), S = 0, P: also acceptable for TR outside IA-32e mode.
    public static let tssBusy16 = AccessRights(type: 0x3, codeOrData: false)
    /// LDT (type 2), S = 0, P.
    public static let ldt = AccessRights(type: 0x2, codeOrData: false)
    /// An unusable segment (bit 16 set; the rest is ignored) (SDM Vol. 3C §25.4.1).
    public static let unusable = AccessRights(rawValue: 1 << 16)
}
