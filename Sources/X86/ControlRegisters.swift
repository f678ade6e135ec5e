// CR0 and CR4 bits (SDM Vol. 3A §2.5).

/// CR0 (SDM Vol. 3A §2.5, Figure 2-7).
public struct CR0: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let pe = CR0(rawValue: 1 << 0)   // protection enable
    public static let mp = CR0(rawValue: 1 << 1)   // monitor coprocessor
    public static let em = CR0(rawValue: 1 << 2)   // emulation
    public static let ts = CR0(rawValue: 1 << 3)   // task switched
    public static let et = CR0(rawValue: 1 << 4)   // extension type (hard-wired 1)
    public static let ne = CR0(rawValue: 1 << 5)   // numeric error
    public static let wp = CR0(rawValue: 1 << 16)  // write protect
    public static let am = CR0(rawValue: 1 << 18)  // alignment mask
    public static let nw = CR0(rawValue: 1 << 29)  // not write-through
    public static let cd = CR0(rawValue: 1 << 30)  // cache disable
    public static let pg = CR0(rawValue: 1 << 31)  // paging

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "PE"
        case 1: return "MP"
        case 2: return "EM"
        case 3: return "TS"
        case 4: return "ET"
        case 5: return "NE"
        case 16: return "WP"
        case 18: return "AM"
        case 29: return "NW"
        case 30: return "CD"
        case 31: return "PG"
        default: return nil
        }
    }
}

/// CR4 (SDM Vol. 3A §2.5, Figure 2-7).
public struct CR4: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let vme = CR4(rawValue: 1 << 0)
    public static let pvi = CR4(rawValue: 1 << 1)
    public static let tsd = CR4(rawValue: 1 << 2)
    public static let de = CR4(rawValue: 1 << 3)
    public static let pse = CR4(rawValue: 1 << 4)
    public static let pae = CR4(rawValue: 1 << 5)
    public static let mce = CR4(rawValue: 1 << 6)
    public static let pge = CR4(rawValue: 1 << 7)
    public static let pce = CR4(rawValue: 1 << 8)
    public static let osfxsr = CR4(rawValue: 1 << 9)
    public static let osxmmexcpt = CR4(rawValue: 1 << 10)
    public static let umip = CR4(rawValue: 1 << 11)
    public static let la57 = CR4(rawValue: 1 << 12)
    public static let vmxe = CR4(rawValue: 1 << 13)
    public static let smxe = CR4(rawValue: 1 << 14)
    public static let fsgsbase = CR4(rawValue: 1 << 16)
    public static let pcide = CR4(rawValue: 1 << 17)
    public static let osxsave = CR4(rawValue: 1 << 18)
    public static let kl = CR4(rawValue: 1 << 19)
    public static let smep = CR4(rawValue: 1 << 20)
    public static let smap = CR4(rawValue: 1 << 21)
    public static let pke = CR4(rawValue: 1 << 22)
    public static let cet = CR4(rawValue: 1 << 23)
    public static let pks = CR4(rawValue: 1 << 24)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "VME"
        case 1: return "PVI"
        case 2: return "TSD"
        case 3: return "DE"
        case 4: return "PSE"
        case 5: return "PAE"
        case 6: return "MCE"
        case 7: return "PGE"
        case 8: return "PCE"
        case 9: return "OSFXSR"
        case 10: return "OSXMMEXCPT"
        case 11: return "UMIP"
        case 12: return "LA57"
        case 13: return "VMXE"
        case 14: return "SMXE"
        case 16: return "FSGSBASE"
        case 17: return "PCIDE"
        case 18: return "OSXSAVE"
        case 19: return "KL"
        case 20: return "SMEP"
        case 21: return "SMAP"
        case 22: return "PKE"
        case 23: return "CET"
        case 24: return "PKS"
        default: return nil
        }
    }
}

/// CR3 helpers for 4-level paging without PCIDs (SDM Vol. 3A §4.5, Table 4-12).
public enum CR3 {
    /// Physical address of the PML4 table (bits 51:12).
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// PCID (bits 11:0) when CR4.PCIDE = 1.
    public static let pcidMask: UInt64 = 0xFFF
    /// Bit 63 of a MOV to CR3: do not invalidate the PCID's TLB entries (CR4.PCIDE = 1).
    public static let noFlush: UInt64 = 1 << 63
}
