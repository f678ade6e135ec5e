// 4-level paging structures (SDM Vol. 3A §4.5, Tables 4-14 … 4-20).

/// Flag bits common to PML4E/PDPTE/PDE/PTE.
public struct PageTableFlags: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let present = PageTableFlags(rawValue: 1 << 0)
    public static let writable = PageTableFlags(rawValue: 1 << 1)
    public static let user = PageTableFlags(rawValue: 1 << 2)
    public static let writeThrough = PageTableFlags(rawValue: 1 << 3)
    public static let cacheDisable = PageTableFlags(rawValue: 1 << 4)
    public static let accessed = PageTableFlags(rawValue: 1 << 5)
    public static let dirty = PageTableFlags(rawValue: 1 << 6)
    /// PS: maps a 1 GiB (PDPTE) or 2 MiB (PDE) page. In a PTE this bit is PAT instead.
    public static let pageSize = PageTableFlags(rawValue: 1 << 7)
    public static let global = PageTableFlags(rawValue: 1 << 8)
    public static let noExecute = PageTableFlags(rawValue: 1 << 63)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "P"
        case 1: return "RW"
        case 2: return "US"
        case 3: return "PWT"
        case 4: return "PCD"
        case 5: return "A"
        case 6: return "D"
        case 7: return "PS"
        case 8: return "G"
        case 63: return "NX"
        default: return nil
        }
    }
}

/// One 64-bit paging-structure entry.
public struct PageTableEntry: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Physical address bits 51:12.
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// Frame of a 2 MiB page (bits 51:21).
    public static let frame2MiBMask: UInt64 = 0x000F_FFFF_FFE0_0000
    /// Frame of a 1 GiB page (bits 51:30).
    public static let frame1GiBMask: UInt64 = 0x000F_FFFF_C000_0000

    public static let empty = PageTableEntry(rawValue: 0)

    @inline(__always)
    public init(address: UInt64, flags: PageTableFlags) {
        rawValue = (address & Self.addressMask) | flags.rawValue
    }

    /// An entry referencing a next-level table (present, writable; `user` optional).
    @inline(__always)
    public static func table(_ address: UInt64, user: Bool = false) -> PageTableEntry {
        PageTableEntry(address: address, flags: user ? [.present, .writable, .user] : [.present, .writable])
    }
    /// A 4 KiB page PTE.
    @inline(__always)
    public static func page4K(_ address: UInt64, flags: PageTableFlags = [.present, .writable]) -> PageTableEntry {
        PageTableEntry(address: address, flags: flags.subtracting(.pageSize))
    }
    /// A 2 MiB page PDE (PS = 1).
    @inline(__always)
    public static func page2M(_ address: UInt64, flags: PageTableFlags = [.present, .writable]) -> PageTableEntry {
        PageTableEntry(rawValue: (address & frame2MiBMask) | flags.union(.pageSize).rawValue)
    }
    /// A 1 GiB page PDPTE (PS = 1).
    @inline(__always)
    public static func page1G(_ address: UInt64, flags: PageTableFlags = [.present, .writable]) -> PageTableEntry {
        PageTableEntry(rawValue: (address & frame1GiBMask) | flags.union(.pageSize).rawValue)
    }

    @inline(__always) public var flags: PageTableFlags {
        PageTableFlags(rawValue: rawValue & ~Self.addressMask)
    }
    @inline(__always) public var address: UInt64 { rawValue & Self.addressMask }
    @inline(__always) public var isPresent: Bool { rawValue & 1 != 0 }
    @inline(__always) public var isLargePage: Bool { rawValue & (1 << 7) != 0 }
}

/// Index extraction for 4-level paging (48-bit linear addresses).
public enum PageTable {
    public static let entryCount = 512
    public static let pageSize: UInt64 = 4096
    public static let largePageSize: UInt64 = 2 << 20
    public static let hugePageSize: UInt64 = 1 << 30

    /// Bits 47:39.
    @inline(__always) public static func pml4Index(_ va: UInt64) -> Int { Int((va >> 39) & 0x1FF) }
    /// Bits 38:30.
    @inline(__always) public static func pdptIndex(_ va: UInt64) -> Int { Int((va >> 30) & 0x1FF) }
    /// Bits 29:21.
    @inline(__always) public static func pdIndex(_ va: UInt64) -> Int { Int((va >> 21) & 0x1FF) }
    /// Bits 20:12.
    @inline(__always) public static func ptIndex(_ va: UInt64) -> Int { Int((va >> 12) & 0x1FF) }
    /// Bits 11:0.
    @inline(__always) public static func pageOffset(_ va: UInt64) -> UInt64 { va & 0xFFF }

    /// The guest-physical address of the entry for `va` in the table at `table`, a table at
    /// `level` (4 = PML4 ... 1 = PT) of 4-level or 5-level paging, or of PAE below the PDPTEs.
    @inline(__always) public static func entryAddress(table: UInt64, va: UInt64, level: Int) -> UInt64 {
        table | (((va >> UInt64(12 + 9 * (level - 1))) & 0x1FF) << 3)
    }

    /// PAE paging: the PDPTE of the four (from CR3, or the VMCS's PDPTE fields) that maps `va` (bits 31:30).
    @inline(__always) public static func paePDPTE(_ pdptes: (UInt64, UInt64, UInt64, UInt64), va: UInt64) -> UInt64 {
        switch (va >> 30) & 3 {
        case 0: return pdptes.0
        case 1: return pdptes.1
        case 2: return pdptes.2
        default: return pdptes.3
        }
    }

    /// True if bits 63:47 are all equal (SDM Vol. 1 §3.3.7.1).
    @inline(__always) public static func isCanonical(_ va: UInt64) -> Bool {
        let top = Int64(bitPattern: va) >> 47
        return top == 0 || top == -1
    }

    /// With 5-level paging: true if bits 63:56 are all equal to bit 56.
    @inline(__always) public static func isCanonical57(_ va: UInt64) -> Bool {
        let top = Int64(bitPattern: va) >> 56
        return top == 0 || top == -1
    }
}
