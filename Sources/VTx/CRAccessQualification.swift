// Exit qualification for control-register accesses (SDM Vol. 3C §28.2.1, Table 28-3).

/// General-purpose register numbers as used in exit qualifications and instruction information.
public enum GeneralPurposeRegister: UInt8, Sendable, CaseIterable {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15

    public var name: StaticString {
        switch self {
        case .rax: return "RAX"
        case .rcx: return "RCX"
        case .rdx: return "RDX"
        case .rbx: return "RBX"
        case .rsp: return "RSP"
        case .rbp: return "RBP"
        case .rsi: return "RSI"
        case .rdi: return "RDI"
        case .r8: return "R8"
        case .r9: return "R9"
        case .r10: return "R10"
        case .r11: return "R11"
        case .r12: return "R12"
        case .r13: return "R13"
        case .r14: return "R14"
        case .r15: return "R15"
        }
    }

    /// From a 4-bit register number.
    @inline(__always) public init(number: UInt64) { self = GeneralPurposeRegister(rawValue: UInt8(number & 0xF))! }
}

public struct CRAccessQualification: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bits 5:4.
    public enum AccessType: UInt8, Sendable {
        case movToCR = 0, movFromCR = 1, clts = 2, lmsw = 3
        public var name: StaticString {
            switch self {
            case .movToCR: return "MOV to CR"
            case .movFromCR: return "MOV from CR"
            case .clts: return "CLTS"
            case .lmsw: return "LMSW"
            }
        }
    }

    /// Bits 3:0: control register number (0 for CLTS and LMSW).
    @inline(__always) public var controlRegister: Int { Int(rawValue & 0xF) }
    /// Bits 5:4.
    @inline(__always) public var accessType: AccessType { AccessType(rawValue: UInt8((rawValue >> 4) & 3))! }
    /// Bit 6: LMSW operand type, true = memory, false = register.
    @inline(__always) public var lmswOperandIsMemory: Bool { rawValue & (1 << 6) != 0 }
    /// Bits 11:8: the general-purpose register for MOV CR (also a register LMSW operand).
    @inline(__always) public var register: GeneralPurposeRegister { GeneralPurposeRegister(number: rawValue >> 8) }
    /// Bits 31:16: LMSW source data.
    @inline(__always) public var lmswSourceData: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }
}
