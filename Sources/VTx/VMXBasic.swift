// IA32_VMX_BASIC (MSR 0x480) (SDM Vol. 3D §A.1).

import X86

public struct VMXBasic: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// VMCS revision identifier, bits 30:0: written to the first dword of VMXON and VMCS regions.
    public var revisionID: UInt32 { UInt32(truncatingIfNeeded: rawValue & 0x7FFF_FFFF) }
    /// Bytes to allocate for VMXON/VMCS regions, bits 44:32 (at most 4096).
    public var vmcsRegionSize: Int { Int((rawValue >> 32) & 0x1FFF) }
    /// Bit 48: VMXON/VMCS/MSR-list/bitmap addresses limited to 32 bits.
    public var physicalAddressWidth32: Bool { rawValue & (1 << 48) != 0 }
    /// Bit 49: dual-monitor treatment of SMIs and SMM supported.
    public var dualMonitor: Bool { rawValue & (1 << 49) != 0 }
    /// Bits 53:50: memory type for VMCS access (0 = UC, 6 = WB).
    public var memoryType: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 50) & 0xF) }
    /// Bit 54: VM exits due to INS/OUTS report VM-exit instruction information.
    public var insOutsInformation: Bool { rawValue & (1 << 54) != 0 }
    /// Bit 55: default1 controls may be 0; use the IA32_VMX_TRUE_* MSRs (SDM Vol. 3D §A.2).
    public var trueControls: Bool { rawValue & (1 << 55) != 0 }
    /// Bit 56: VM entry may inject a hardware exception with or without an error code regardless of vector.
    public var noErrorCodeCheck: Bool { rawValue & (1 << 56) != 0 }

    /// Name of a VMCS/EPT memory type value.
    public static func memoryTypeName(_ type: UInt8) -> StaticString {
        switch type {
        case 0: return "UC"
        case 1: return "WC"
        case 4: return "WT"
        case 5: return "WP"
        case 6: return "WB"
        default: return "reserved"
        }
    }

    /// "revision=0x2b vmcs-size=4096 memtype=WB true-controls=yes …"
    public var summary: String {
        var s = "revision=" + Format.hex(UInt64(revisionID))
        s += " vmcs-size=" + Format.decimal(UInt64(vmcsRegionSize))
        s += " memtype=" + Format.string(Self.memoryTypeName(memoryType))
        s += " true-controls=" + Format.yesNo(trueControls)
        s += " ins-outs-info=" + Format.yesNo(insOutsInformation)
        s += " no-errcode-check=" + Format.yesNo(noErrorCodeCheck)
        s += " dual-monitor=" + Format.yesNo(dualMonitor)
        if physicalAddressWidth32 { s += " addr32=yes" }
        return s
    }
}
