// VM-exit instruction-information field (SDM Vol. 3C §28.2.5, Tables 28-8 … 28-14).

/// Segment register numbers (ES = 0 … GS = 5) used in instruction information.
public enum SegmentRegister: UInt8, Sendable, CaseIterable {
    case es = 0, cs, ss, ds, fs, gs
    public var name: StaticString {
        switch self {
        case .es: return "ES"
        case .cs: return "CS"
        case .ss: return "SS"
        case .ds: return "DS"
        case .fs: return "FS"
        case .gs: return "GS"
        }
    }
}

public struct VMExitInstructionInformation: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bits 9:7: address size: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit (INS/OUTS and memory operands).
    @inline(__always) public var addressSizeCode: UInt8 { UInt8((rawValue >> 7) & 7) }
    /// Address size in bits (16, 32, 64), 0 if undefined.
    public var addressSize: Int {
        switch addressSizeCode {
        case 0: return 16
        case 1: return 32
        case 2: return 64
        default: return 0
        }
    }
    /// Bits 17:15: segment register (OUTS source / memory operand). INS always uses ES.
    @inline(__always) public var segment: SegmentRegister? { SegmentRegister(rawValue: UInt8((rawValue >> 15) & 7)) }

    // MARK: General VMX-instruction / descriptor-table / INVEPT… layout.

    /// Bits 1:0: scaling (0 = none, 1 = ×2, 2 = ×4, 3 = ×8).
    @inline(__always) public var scaling: UInt8 { UInt8(rawValue & 3) }
    /// Scale factor 1, 2, 4 or 8.
    @inline(__always) public var scale: Int { 1 << Int(rawValue & 3) }
    /// Bits 6:3: reg1 for the register form of VMREAD/VMWRITE.
    @inline(__always) public var register1: GeneralPurposeRegister { GeneralPurposeRegister(number: UInt64(rawValue >> 3)) }
    /// Bit 10: 1 = register operand, 0 = memory operand.
    @inline(__always) public var isRegisterOperand: Bool { rawValue & (1 << 10) != 0 }
    /// Bits 21:18 index register, nil if bit 22 (index invalid) is set.
    public var indexRegister: GeneralPurposeRegister? {
        rawValue & (1 << 22) != 0 ? nil : GeneralPurposeRegister(number: UInt64(rawValue >> 18))
    }
    /// Bits 26:23 base register, nil if bit 27 (base invalid) is set.
    public var baseRegister: GeneralPurposeRegister? {
        rawValue & (1 << 27) != 0 ? nil : GeneralPurposeRegister(number: UInt64(rawValue >> 23))
    }
    /// Bits 31:28: reg2 (the field-encoding register of VMREAD/VMWRITE, the type register of INVEPT/INVVPID).
    @inline(__always) public var register2: GeneralPurposeRegister { GeneralPurposeRegister(number: UInt64(rawValue >> 28)) }

    /// The effective address of a memory operand: base + index × scale + displacement (the exit
    /// qualification), truncated to the address size. Segment base is not added.
    public func effectiveAddress(displacement: UInt64, registers read: (GeneralPurposeRegister) -> UInt64) -> UInt64 {
        var ea = displacement
        if let b = baseRegister { ea &+= read(b) }
        if let i = indexRegister { ea &+= read(i) &* UInt64(scale) }
        switch addressSizeCode {
        case 0: return ea & 0xFFFF
        case 1: return ea & 0xFFFF_FFFF
        default: return ea
        }
    }
}
