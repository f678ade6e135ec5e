// The five 32-bit VMX control fields and what they have in common (SDM Vol. 3D Appendix A.3–A.5).

import X86

/// Which VMX control field a bit set or capability MSR belongs to.
public enum VMXControlKind: UInt8, Sendable, CaseIterable {
    case pinBased, primaryProcessorBased, secondaryProcessorBased, vmExit, vmEntry

    /// Human-readable name of the control field.
    public var name: StaticString {
        switch self {
        case .pinBased: return "pin-based VM-execution controls"
        case .primaryProcessorBased: return "primary processor-based VM-execution controls"
        case .secondaryProcessorBased: return "secondary processor-based VM-execution controls"
        case .vmExit: return "VM-exit controls"
        case .vmEntry: return "VM-entry controls"
        }
    }

    /// The VMCS field the adjusted value is written to.
    public var field: VMCSField {
        switch self {
        case .pinBased: return .pinBasedControls
        case .primaryProcessorBased: return .procBasedControls
        case .secondaryProcessorBased: return .procBasedControls2
        case .vmExit: return .vmExitControls
        case .vmEntry: return .vmEntryControls
        }
    }

    /// The capability MSR without the TRUE variant (0x481–0x484, 0x48B).
    public var capabilityMSR: UInt32 {
        switch self {
        case .pinBased: return MSR.ia32VMXPinbasedCtls
        case .primaryProcessorBased: return MSR.ia32VMXProcbasedCtls
        case .secondaryProcessorBased: return MSR.ia32VMXProcbasedCtls2
        case .vmExit: return MSR.ia32VMXExitCtls
        case .vmEntry: return MSR.ia32VMXEntryCtls
        }
    }

    /// The TRUE capability MSR (0x48D–0x490), nil for the secondary controls which have none.
    public var trueCapabilityMSR: UInt32? {
        switch self {
        case .pinBased: return MSR.ia32VMXTruePinbasedCtls
        case .primaryProcessorBased: return MSR.ia32VMXTrueProcbasedCtls
        case .secondaryProcessorBased: return nil
        case .vmExit: return MSR.ia32VMXTrueExitCtls
        case .vmEntry: return MSR.ia32VMXTrueEntryCtls
        }
    }

    /// The "default1" class: reserved bits that the non-TRUE MSRs report as must-be-1
    /// (SDM Vol. 3D §A.2). With IA32_VMX_BASIC[55] set the TRUE MSRs may allow some of them
    /// to be 0, e.g. CR3-load/store exiting (bits 15, 16) and "save/load debug controls" (bit 2).
    public var default1Bits: UInt32 {
        switch self {
        case .pinBased: return 0x0000_0016
        case .primaryProcessorBased: return 0x0401_E172
        case .secondaryProcessorBased: return 0
        case .vmExit: return 0x0003_6DFF
        case .vmEntry: return 0x0000_11FF
        }
    }

    /// The name of bit `bit` of this control field.
    public func name(ofBit bit: Int) -> StaticString? {
        switch self {
        case .pinBased: return PinBasedControls.name(ofBit: bit)
        case .primaryProcessorBased: return PrimaryProcessorBasedControls.name(ofBit: bit)
        case .secondaryProcessorBased: return SecondaryProcessorBasedControls.name(ofBit: bit)
        case .vmExit: return VMExitControls.name(ofBit: bit)
        case .vmEntry: return VMEntryControls.name(ofBit: bit)
        }
    }

    /// Names of the bits in `bits` joined by `separator`; unnamed bits as "bit N"; "none" if empty.
    public func names(of bits: UInt32, separator: String = ", ") -> String {
        var out = ""
        var rest = bits
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            rest &= rest &- 1
            if !out.isEmpty { out += separator }
            if let n = name(ofBit: bit) { out += Format.string(n) } else { out += "bit " + Format.decimal(UInt64(bit)) }
        }
        return out.isEmpty ? "none" : out
    }

    /// The named bits among `bits` (as a mask).
    public func namedMask(_ bits: UInt32) -> UInt32 {
        var out: UInt32 = 0
        var rest = bits
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            rest &= rest &- 1
            if name(ofBit: bit) != nil { out |= 1 << UInt32(bit) }
        }
        return out
    }
}

/// A 32-bit VMX control field's bit set.
public protocol VMXControlSet: NamedBitSet where RawValue == UInt32 {
    static var kind: VMXControlKind { get }
}

/// The capability MSR to read for `kind`: the TRUE_* MSR (0x48D–0x490) when IA32_VMX_BASIC[55]
/// is set, else 0x481–0x484; always 0x48B for the secondary controls (SDM Vol. 3D §A.3).
public func capabilityMSR(for kind: VMXControlKind, basic: VMXBasic) -> UInt32 {
    if basic.trueControls, let msr = kind.trueCapabilityMSR { return msr }
    return kind.capabilityMSR
}
