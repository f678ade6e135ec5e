// XSETBV's validity rules for XCR0 (SDM Vol. 2C XSETBV "Protected Mode Exceptions", Vol. 1 §13.3):
// the hypervisor runs XSETBV itself for the guest, so it must refuse, with #GP like the
// instruction, every value the processor would fault on.

public enum XCR0 {
    public static let x87: UInt64 = 1 << 0
    public static let sse: UInt64 = 1 << 1
    public static let avx: UInt64 = 1 << 2
    public static let bndregs: UInt64 = 1 << 3
    public static let bndcsr: UInt64 = 1 << 4
    public static let opmask: UInt64 = 1 << 5
    public static let zmmHi256: UInt64 = 1 << 6
    public static let hi16ZMM: UInt64 = 1 << 7
    public static let pkru: UInt64 = 1 << 9
    public static let tileCfg: UInt64 = 1 << 17
    public static let tileData: UInt64 = 1 << 18
    /// Supervisor state components (PT 8, PASID 10, CET 11-12, HDC 13, UINTR 14, LBR 15, HWP 16):
    /// IA32_XSS only, never XCR0 (SDM Vol. 1 §13.2).
    public static let supervisorStates: UInt64 = 1 << 8 | 0x1FC00
    /// AVX-512's three components, all or none.
    public static let avx512: UInt64 = opmask | zmmHi256 | hi16ZMM

    /// Why an XSETBV would raise #GP(0), or nil if the processor accepts it.
    public enum Violation: Equatable, Sendable {
        /// ECX other than 0: only XCR0 is writable (XCR1 is read-only, XGETBV only).
        case notXCR0
        /// Bit 0 (x87) clear.
        case x87Clear
        /// A bit the processor does not support in XCR0 (CPUID.(EAX=0DH,ECX=0):EDX:EAX), or a supervisor state.
        case unsupported(UInt64)
        /// AVX (bit 2) without SSE (bit 1).
        case avxWithoutSSE
        /// BNDREGS (bit 3) and BNDCSR (bit 4) differ.
        case mpxHalf
        /// Bits 7:5 neither all 0 nor all 1.
        case avx512Partial
        /// Bits 7:5 set without AVX (bit 2).
        case avx512WithoutAVX
        /// XTILECFG (bit 17) and XTILEDATA (bit 18) differ.
        case amxHalf
    }

    /// Checks an XSETBV of `value` into XCR`index` on a processor whose XCR0-supported mask is `supported`.
    public static func violation(index: UInt32, value: UInt64, supported: UInt64) -> Violation? {
        if index != 0 { return .notXCR0 }
        if value & x87 == 0 { return .x87Clear }
        let refused = value & (~supported | supervisorStates)
        if refused != 0 { return .unsupported(refused) }
        if value & avx != 0 && value & sse == 0 { return .avxWithoutSSE }
        if (value & bndregs == 0) != (value & bndcsr == 0) { return .mpxHalf }
        let avx512Bits = value & avx512
        if avx512Bits != 0 && avx512Bits != avx512 { return .avx512Partial }
        if avx512Bits != 0 && value & avx == 0 { return .avx512WithoutAVX }
        if (value & tileCfg == 0) != (value & tileData == 0) { return .amxHalf }
        return nil
    }
}
