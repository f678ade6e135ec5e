// Which paging mode CR0, CR4 and IA32_EFER select (SDM Vol. 3A §4.1.1, Table 4-1).

public enum PagingMode: Sendable, Equatable {
    /// CR0.PG = 0: linear addresses are physical addresses.
    case none
    /// CR0.PG = 1, CR4.PAE = 0: two levels of 32-bit entries (4 MiB pages with CR4.PSE).
    case bits32
    /// CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LME = 0: four PDPTE registers, then 64-bit PDEs and PTEs.
    case pae
    /// CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LME = 1 (IA-32e mode), CR4.LA57 = 0.
    case level4
    /// The same with CR4.LA57 = 1.
    case level5

    /// The mode after the given values are in force. EFER.LME (not LMA) decides between PAE and
    /// IA-32e paging, because LMA follows LME the moment CR0.PG is set (SDM Vol. 3A §9.8.5).
    public init(cr0: UInt64, cr4: UInt64, efer: UInt64) {
        if cr0 & CR0.pg.rawValue == 0 { self = .none }
        else if cr4 & CR4.pae.rawValue == 0 { self = .bits32 }
        else if efer & EFER.lme.rawValue == 0 { self = .pae }
        else if cr4 & CR4.la57.rawValue != 0 { self = .level5 }
        else { self = .level4 }
    }

    public var name: StaticString {
        switch self {
        case .none: return "no paging"
        case .bits32: return "32-bit paging"
        case .pae: return "PAE paging"
        case .level4: return "4-level paging"
        case .level5: return "5-level paging"
        }
    }
}

/// A PAE page-directory-pointer-table entry as loaded into a PDPTE register (SDM Vol. 3A §4.4.1,
/// Table 4-8): when present, bits 2:1, 8:5 and 63:MAXPHYADDR are reserved, and a set reserved bit
/// makes the MOV to CR0/CR3/CR4 that loads it raise #GP(0).
public enum PAEPDPTE {
    /// The four PDPTEs sit at CR3 bits 31:5 (a 32-byte aligned table below 4 GiB).
    @inline(__always) public static func tableAddress(cr3: UInt64) -> UInt64 { cr3 & 0xFFFF_FFE0 }

    /// The reserved bits of a present PDPTE for a processor with `maxPhysicalAddressBits`.
    @inline(__always) public static func reservedMask(maxPhysicalAddressBits: Int) -> UInt64 {
        let highBits: UInt64 = maxPhysicalAddressBits >= 64 ? 0 : ~0 << UInt64(maxPhysicalAddressBits)
        return highBits | 0x1E6        // bits 8:5 and 2:1
    }

    @inline(__always) public static func isValid(_ entry: UInt64, maxPhysicalAddressBits: Int) -> Bool {
        entry & 1 == 0 || entry & reservedMask(maxPhysicalAddressBits: maxPhysicalAddressBits) == 0
    }
}
