// IA32_EFER (MSR 0xC0000080) bits (SDM Vol. 3A §2.2.1, Table 2-1).

public struct EFER: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// SYSCALL enable.
    public static let sce = EFER(rawValue: 1 << 0)
    /// IA-32e mode enable.
    public static let lme = EFER(rawValue: 1 << 8)
    /// IA-32e mode active (read-only for software; loaded from the VM-entry "IA-32e mode guest" control).
    public static let lma = EFER(rawValue: 1 << 10)
    /// Execute-disable enable.
    public static let nxe = EFER(rawValue: 1 << 11)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "SCE"
        case 8: return "LME"
        case 10: return "LMA"
        case 11: return "NXE"
        default: return nil
        }
    }
}
