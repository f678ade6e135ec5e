// RFLAGS (SDM Vol. 1 §3.4.3, Vol. 3A §2.3).

public struct RFLAGS: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let cf = RFLAGS(rawValue: 1 << 0)
    /// Bit 1 is reserved and always 1; VM entry fails if guest RFLAGS bit 1 is 0 (SDM Vol. 3C §27.3.1.4).
    public static let reserved1 = RFLAGS(rawValue: 1 << 1)
    public static let pf = RFLAGS(rawValue: 1 << 2)
    public static let af = RFLAGS(rawValue: 1 << 4)
    public static let zf = RFLAGS(rawValue: 1 << 6)
    public static let sf = RFLAGS(rawValue: 1 << 7)
    public static let tf = RFLAGS(rawValue: 1 << 8)
    public static let `if` = RFLAGS(rawValue: 1 << 9)
    public static let df = RFLAGS(rawValue: 1 << 10)
    public static let of = RFLAGS(rawValue: 1 << 11)
    /// I/O privilege level, bits 13:12.
    public static let iopl = RFLAGS(rawValue: 3 << 12)
    public static let nt = RFLAGS(rawValue: 1 << 14)
    public static let rf = RFLAGS(rawValue: 1 << 16)
    public static let vm = RFLAGS(rawValue: 1 << 17)
    public static let ac = RFLAGS(rawValue: 1 << 18)
    public static let vif = RFLAGS(rawValue: 1 << 19)
    public static let vip = RFLAGS(rawValue: 1 << 20)
    public static let id = RFLAGS(rawValue: 1 << 21)

    /// The value after reset / the minimal valid guest RFLAGS (only bit 1 set).
    public static let initial = RFLAGS.reserved1

    /// Bits that must be 0 (3, 5, 15, 22–63) (SDM Vol. 3C §27.3.1.4).
    public static let reservedZeroMask: UInt64 = ~UInt64(0x003F_7FD7)

    /// The IOPL field value (0–3).
    public var ioplLevel: UInt8 {
        get { UInt8(truncatingIfNeeded: (rawValue >> 12) & 3) }
        set { rawValue = (rawValue & ~(3 << 12)) | (UInt64(newValue & 3) << 12) }
    }

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "CF"
        case 1: return "1"
        case 2: return "PF"
        case 4: return "AF"
        case 6: return "ZF"
        case 7: return "SF"
        case 8: return "TF"
        case 9: return "IF"
        case 10: return "DF"
        case 11: return "OF"
        case 12: return "IOPL0"
        case 13: return "IOPL1"
        case 14: return "NT"
        case 16: return "RF"
        case 17: return "VM"
        case 18: return "AC"
        case 19: return "VIF"
        case 20: return "VIP"
        case 21: return "ID"
        default: return nil
        }
    }
}
