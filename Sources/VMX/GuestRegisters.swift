import VTx

/// The guest's general-purpose registers as VMEntryExit.S saves them on every
/// exit (the VMCS holds RSP and RIP). Keep the layout in step with the assembly.
public struct GuestRegisters {
    public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
    public var rsi: UInt64 = 0, rdi: UInt64 = 0, rbp: UInt64 = 0
    public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
    public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0

    public init() {}

    /// EDX:EAX, as RDMSR/WRMSR/XSETBV take a 64-bit operand.
    @inline(__always) public var edxEAX: UInt64 { (rdx << 32) | (rax & 0xFFFF_FFFF) }

    /// Register by the SDM's 4-bit GPR number (exit qualifications and
    /// instruction information use it; 4 = RSP lives in the VMCS).
    public func value<H: VMXHardware>(_ number: GeneralPurposeRegister, _ hw: H) -> UInt64 {
        switch number {
        case .rax: return rax
        case .rcx: return rcx
        case .rdx: return rdx
        case .rbx: return rbx
        case .rsp: return hw.read(.guestRSP)
        case .rbp: return rbp
        case .rsi: return rsi
        case .rdi: return rdi
        case .r8: return r8
        case .r9: return r9
        case .r10: return r10
        case .r11: return r11
        case .r12: return r12
        case .r13: return r13
        case .r14: return r14
        case .r15: return r15
        }
    }

    public mutating func set<H: VMXHardware>(_ number: GeneralPurposeRegister, _ newValue: UInt64, _ hw: H) {
        switch number {
        case .rax: rax = newValue
        case .rcx: rcx = newValue
        case .rdx: rdx = newValue
        case .rbx: rbx = newValue
        case .rsp: hw.write(.guestRSP, newValue)
        case .rbp: rbp = newValue
        case .rsi: rsi = newValue
        case .rdi: rdi = newValue
        case .r8: r8 = newValue
        case .r9: r9 = newValue
        case .r10: r10 = newValue
        case .r11: r11 = newValue
        case .r12: r12 = newValue
        case .r13: r13 = newValue
        case .r14: r14 = newValue
        case .r15: r15 = newValue
        }
    }
}
