// GDT/LDT segment descriptors (SDM Vol. 3A §3.4.5; §8.2.3 for the 16-byte 64-bit TSS descriptor).

/// An 8-byte code/data (or 32-bit system) segment descriptor.
public struct SegmentDescriptor: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let null = SegmentDescriptor(rawValue: 0)

    /// Code/data type values (S = 1), bits 3:0 of the type field.
    public enum CodeDataType {
        public static let dataReadWrite: UInt8 = 0x2
        public static let dataReadWriteAccessed: UInt8 = 0x3
        public static let codeExecuteRead: UInt8 = 0xA
        public static let codeExecuteReadAccessed: UInt8 = 0xB
        public static let accessed: UInt8 = 0x1
        public static let code: UInt8 = 0x8
    }

    /// System descriptor types (S = 0) in IA-32e mode (SDM Vol. 3A Table 3-2).
    public enum SystemType {
        public static let ldt: UInt8 = 0x2
        public static let tss16Busy: UInt8 = 0x3
        public static let tssAvailable: UInt8 = 0x9
        public static let tssBusy: UInt8 = 0xB
        public static let callGate: UInt8 = 0xC
        public static let interruptGate: UInt8 = 0xE
        public static let trapGate: UInt8 = 0xF
    }

    public init(base: UInt32, limit: UInt32, type: UInt8, system: Bool = false, dpl: UInt8 = 0,
                present: Bool = true, avl: Bool = false, long: Bool = false,
                defaultBig: Bool = false, granularity: Bool = false) {
        var v: UInt64 = UInt64(limit & 0xFFFF)
        v |= UInt64(base & 0xFF_FFFF) << 16
        v |= UInt64(type & 0xF) << 40
        if !system { v |= 1 << 44 }
        v |= UInt64(dpl & 3) << 45
        if present { v |= 1 << 47 }
        v |= UInt64((limit >> 16) & 0xF) << 48
        if avl { v |= 1 << 52 }
        if long { v |= 1 << 53 }
        if defaultBig { v |= 1 << 54 }
        if granularity { v |= 1 << 55 }
        v |= UInt64(base >> 24) << 56
        rawValue = v
    }

    /// Flat 64-bit code segment (L = 1, D = 0).
    public static func code64(dpl: UInt8 = 0) -> SegmentDescriptor {
        SegmentDescriptor(base: 0, limit: 0xFFFFF, type: CodeDataType.codeExecuteReadAccessed, dpl: dpl,
                          long: true, granularity: true)
    }
    /// Flat 32-bit code segment (D = 1).
    public static func code32(dpl: UInt8 = 0) -> SegmentDescriptor {
        SegmentDescriptor(base: 0, limit: 0xFFFFF, type: CodeDataType.codeExecuteReadAccessed, dpl: dpl,
                          defaultBig: true, granularity: true)
    }
    /// Flat read/write data segment (B = 1, 4 GiB).
    public static func data(dpl: UInt8 = 0) -> SegmentDescriptor {
        SegmentDescriptor(base: 0, limit: 0xFFFFF, type: CodeDataType.dataReadWriteAccessed, dpl: dpl,
                          defaultBig: true, granularity: true)
    }

    /// Base address (bits 63:56, 39:16).
    public var base: UInt32 {
        UInt32(truncatingIfNeeded: (rawValue >> 16) & 0xFF_FFFF) | (UInt32(truncatingIfNeeded: rawValue >> 56) << 24)
    }
    /// The raw 20-bit limit field (bits 51:48, 15:0).
    public var limit: UInt32 {
        UInt32(truncatingIfNeeded: rawValue & 0xFFFF) | (UInt32(truncatingIfNeeded: (rawValue >> 48) & 0xF) << 16)
    }
    /// The limit in bytes, scaled by G (SDM Vol. 3A §3.4.5): the value VMX wants in a limit field.
    public var effectiveLimit: UInt32 { granularity ? (limit << 12) | 0xFFF : limit }
    public var type: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 40) & 0xF) }
    /// S flag: true for code/data, false for system descriptors.
    public var isCodeOrData: Bool { rawValue & (1 << 44) != 0 }
    public var dpl: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 45) & 3) }
    public var present: Bool { rawValue & (1 << 47) != 0 }
    public var avl: Bool { rawValue & (1 << 52) != 0 }
    public var long: Bool { rawValue & (1 << 53) != 0 }
    public var defaultBig: Bool { rawValue & (1 << 54) != 0 }
    public var granularity: Bool { rawValue & (1 << 55) != 0 }

    /// The VMX access-rights form of this descriptor (descriptor bits 55:40 → AR bits 15:0).
    public var accessRights: AccessRights {
        AccessRights(rawValue: UInt32(truncatingIfNeeded: (rawValue >> 40) & 0xF0FF))
    }
}

/// A 16-byte IA-32e system descriptor (TSS or LDT) (SDM Vol. 3A §8.2.3, Figure 8-4).
public struct SystemSegmentDescriptor: Hashable, Sendable {
    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64, high: UInt64) { self.low = low; self.high = high }

    public init(base: UInt64, limit: UInt32, type: UInt8, dpl: UInt8 = 0, present: Bool = true,
                granularity: Bool = false) {
        low = SegmentDescriptor(base: UInt32(truncatingIfNeeded: base), limit: limit, type: type, system: true,
                                dpl: dpl, present: present, granularity: granularity).rawValue
        high = base >> 32
    }

    /// An available 64-bit TSS of `limit` bytes minus one (e.g. 0x67 for a minimal TSS).
    public static func tss(base: UInt64, limit: UInt32 = 0x67) -> SystemSegmentDescriptor {
        SystemSegmentDescriptor(base: base, limit: limit, type: SegmentDescriptor.SystemType.tssAvailable)
    }

    public var lowDescriptor: SegmentDescriptor { SegmentDescriptor(rawValue: low) }
    public var base: UInt64 { UInt64(lowDescriptor.base) | ((high & 0xFFFF_FFFF) << 32) }
    public var limit: UInt32 { lowDescriptor.limit }
    public var type: UInt8 { lowDescriptor.type }
    public var accessRights: AccessRights { lowDescriptor.accessRights }
}
