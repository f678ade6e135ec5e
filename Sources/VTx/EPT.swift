// Extended page tables: entries, EPTP, INVEPT/INVVPID (SDM Vol. 3C §29.3.2, §25.6.11, §31.3).

import X86

/// EPT memory types (SDM Vol. 3C §29.3.7) — also the EPTP paging-structure memory type.
public enum EPTMemoryType: UInt8, Sendable, CaseIterable {
    case uncacheable = 0
    case writeCombining = 1
    case writeThrough = 4
    case writeProtected = 5
    case writeBack = 6

    public var name: StaticString {
        switch self {
        case .uncacheable: return "UC"
        case .writeCombining: return "WC"
        case .writeThrough: return "WT"
        case .writeProtected: return "WP"
        case .writeBack: return "WB"
        }
    }
}

/// Access permissions of an EPT entry (bits 2:0, and 10 with mode-based execute control).
public struct EPTPermissions: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let read = EPTPermissions(rawValue: 1 << 0)
    public static let write = EPTPermissions(rawValue: 1 << 1)
    /// Execute (supervisor-mode execute with mode-based execute control).
    public static let execute = EPTPermissions(rawValue: 1 << 2)
    /// User-mode execute (bit 10, only with mode-based execute control).
    public static let userExecute = EPTPermissions(rawValue: 1 << 10)

    public static let readWrite: EPTPermissions = [.read, .write]
    public static let all: EPTPermissions = [.read, .write, .execute]
    public static let readExecute: EPTPermissions = [.read, .execute]

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "R"
        case 1: return "W"
        case 2: return "X"
        case 10: return "XU"
        default: return nil
        }
    }
}

/// An EPT paging-structure entry (PML4E, PDPTE, PDE or PTE) (SDM Vol. 3C §29.3.2, Tables 29-1 … 29-6).
public struct EPTEntry: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let readBit: UInt64 = 1 << 0
    public static let writeBit: UInt64 = 1 << 1
    public static let executeBit: UInt64 = 1 << 2
    /// Bits 5:3, leaf entries only.
    public static let memoryTypeMask: UInt64 = 7 << 3
    /// Bit 6, leaf entries only.
    public static let ignorePATBit: UInt64 = 1 << 6
    /// Bit 7: this PDPTE/PDE maps a 1 GiB / 2 MiB page.
    public static let largePageBit: UInt64 = 1 << 7
    public static let accessedBit: UInt64 = 1 << 8
    /// Bit 9, leaf entries only.
    public static let dirtyBit: UInt64 = 1 << 9
    public static let userExecuteBit: UInt64 = 1 << 10
    /// Physical address bits 51:12.
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000
    public static let frame2MiBMask: UInt64 = 0x000F_FFFF_FFE0_0000
    public static let frame1GiBMask: UInt64 = 0x000F_FFFF_C000_0000

    public static let empty = EPTEntry(rawValue: 0)

    /// A non-leaf entry referencing the next table; RWX by default so the leaf decides
    /// (the effective permission is the AND along the walk).
    @inline(__always)
    public static func table(_ address: UInt64, permissions: EPTPermissions = .all) -> EPTEntry {
        EPTEntry(rawValue: (address & addressMask) | permissions.rawValue)
    }

    @inline(__always)
    static func leafBits(_ permissions: EPTPermissions, _ memoryType: EPTMemoryType, _ ignorePAT: Bool) -> UInt64 {
        permissions.rawValue | UInt64(memoryType.rawValue) << 3 | (ignorePAT ? ignorePATBit : 0)
    }

    /// A 4 KiB page PTE.
    @inline(__always)
    public static func page4K(_ address: UInt64, permissions: EPTPermissions = .all,
                              memoryType: EPTMemoryType = .writeBack, ignorePAT: Bool = false) -> EPTEntry {
        EPTEntry(rawValue: (address & addressMask) | leafBits(permissions, memoryType, ignorePAT))
    }
    /// A 2 MiB page PDE (bit 7 set).
    @inline(__always)
    public static func page2M(_ address: UInt64, permissions: EPTPermissions = .all,
                              memoryType: EPTMemoryType = .writeBack, ignorePAT: Bool = false) -> EPTEntry {
        EPTEntry(rawValue: (address & frame2MiBMask) | leafBits(permissions, memoryType, ignorePAT) | largePageBit)
    }
    /// A 1 GiB page PDPTE (bit 7 set; needs EPTVPIDCapability.pages1GiB).
    @inline(__always)
    public static func page1G(_ address: UInt64, permissions: EPTPermissions = .all,
                              memoryType: EPTMemoryType = .writeBack, ignorePAT: Bool = false) -> EPTEntry {
        EPTEntry(rawValue: (address & frame1GiBMask) | leafBits(permissions, memoryType, ignorePAT) | largePageBit)
    }

    /// Bits 2:0 (and 10).
    @inline(__always) public var permissions: EPTPermissions {
        EPTPermissions(rawValue: rawValue & (7 | Self.userExecuteBit))
    }
    /// An entry is present if any of bits 2:0 is set (SDM Vol. 3C §29.3.2).
    @inline(__always) public var isPresent: Bool { rawValue & 7 != 0 }
    @inline(__always) public var isLargePage: Bool { rawValue & Self.largePageBit != 0 }
    @inline(__always) public var address: UInt64 { rawValue & Self.addressMask }
    /// Leaf memory type (bits 5:3), nil if reserved (2, 3, 7).
    @inline(__always) public var memoryType: EPTMemoryType? {
        EPTMemoryType(rawValue: UInt8((rawValue >> 3) & 7))
    }
    @inline(__always) public var ignorePAT: Bool { rawValue & Self.ignorePATBit != 0 }
    @inline(__always) public var accessed: Bool { rawValue & Self.accessedBit != 0 }
    @inline(__always) public var dirty: Bool { rawValue & Self.dirtyBit != 0 }
    /// Write without read is an EPT misconfiguration (SDM Vol. 3C §29.3.3.1); so is execute-only
    /// without IA32_VMX_EPT_VPID_CAP bit 0.
    @inline(__always) public var isWriteWithoutRead: Bool { rawValue & 3 == 2 }
}

/// Index extraction from a guest-physical address (4-level EPT).
public enum EPT {
    @inline(__always) public static func pml4Index(_ gpa: UInt64) -> Int { Int((gpa >> 39) & 0x1FF) }
    @inline(__always) public static func pdptIndex(_ gpa: UInt64) -> Int { Int((gpa >> 30) & 0x1FF) }
    @inline(__always) public static func pdIndex(_ gpa: UInt64) -> Int { Int((gpa >> 21) & 0x1FF) }
    @inline(__always) public static func ptIndex(_ gpa: UInt64) -> Int { Int((gpa >> 12) & 0x1FF) }
    public static let entriesPerTable = 512
}

/// The EPT pointer VMCS field (SDM Vol. 3C §25.6.11, Table 25-9).
public struct EPTPointer: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// - Parameters: pageWalkLength is the number of levels (4 or 5); the field holds it minus 1.
    @inline(__always)
    public init(pml4Address: UInt64, memoryType: EPTMemoryType = .writeBack, pageWalkLength: Int = 4,
                enableAccessedDirty: Bool = false, supervisorShadowStack: Bool = false) {
        var v = (pml4Address & EPTEntry.addressMask) | UInt64(memoryType.rawValue)
        v |= UInt64((pageWalkLength - 1) & 7) << 3
        if enableAccessedDirty { v |= 1 << 6 }
        if supervisorShadowStack { v |= 1 << 7 }
        rawValue = v
    }

    /// Bits 2:0 raw.
    @inline(__always) public var memoryTypeValue: UInt8 { UInt8(rawValue & 7) }
    /// Bits 2:0: memory type of the EPT paging structures (UC or WB are the only valid ones).
    @inline(__always) public var memoryType: EPTMemoryType? { EPTMemoryType(rawValue: memoryTypeValue) }
    /// Bits 5:3 + 1: page-walk length (4 or 5).
    @inline(__always) public var pageWalkLength: Int { Int((rawValue >> 3) & 7) + 1 }
    /// Bit 6.
    @inline(__always) public var enableAccessedDirty: Bool { rawValue & (1 << 6) != 0 }
    /// Bit 7.
    @inline(__always) public var supervisorShadowStack: Bool { rawValue & (1 << 7) != 0 }
    /// Bits 51:12.
    @inline(__always) public var pml4Address: UInt64 { rawValue & EPTEntry.addressMask }

    /// The VM-entry checks on the EPTP (SDM Vol. 3C §27.2.1.1): supported memory type and walk
    /// length, A/D only if supported, reserved bits 11:8 and above the physical-address width clear.
    public func isValid(for cap: EPTVPIDCapability, physicalAddressBits: Int = 52) -> Bool {
        guard let mt = memoryType, cap.supportsEPTPMemoryType(mt) else { return false }
        switch pageWalkLength {
        case 4: if !cap.pageWalkLength4 { return false }
        case 5: if !cap.pageWalkLength5 { return false }
        default: return false
        }
        if enableAccessedDirty && !cap.accessedDirty { return false }
        if supervisorShadowStack && !cap.supervisorShadowStack { return false }
        if rawValue & 0xF00 != 0 { return false }
        let width = min(max(physicalAddressBits, 12), 64)
        if width < 64 && rawValue >> UInt64(width) != 0 { return false }
        return true
    }
}

/// INVEPT types (SDM Vol. 3C §31.3, INVEPT).
public enum INVEPTType: UInt64, Sendable {
    case singleContext = 1
    case allContext = 2
}

/// INVVPID types (SDM Vol. 3C §31.3, INVVPID).
public enum INVVPIDType: UInt64, Sendable {
    case individualAddress = 0
    case singleContext = 1
    case allContexts = 2
    case singleContextRetainingGlobals = 3
}

/// The 128-bit INVEPT descriptor: EPTP in bits 63:0, bits 127:64 reserved (0).
public struct INVEPTDescriptor: Hashable, Sendable {
    public var eptPointer: UInt64
    public var reserved: UInt64
    @inline(__always) public init(eptPointer: UInt64) { self.eptPointer = eptPointer; reserved = 0 }
}

/// The 128-bit INVVPID descriptor: VPID in bits 15:0, bits 63:16 reserved (0), linear address in bits 127:64.
public struct INVVPIDDescriptor: Hashable, Sendable {
    public var vpid: UInt64
    public var linearAddress: UInt64
    @inline(__always) public init(vpid: UInt16, linearAddress: UInt64 = 0) {
        self.vpid = UInt64(vpid); self.linearAddress = linearAddress
    }
}
