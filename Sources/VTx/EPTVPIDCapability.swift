// IA32_VMX_EPT_VPID_CAP (MSR 0x48C) (SDM Vol. 3D §A.10).

import X86

public struct EPTVPIDCapability: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    @inline(__always) private func bit(_ n: UInt64) -> Bool { rawValue & (1 << n) != 0 }

    /// Bit 0: EPT entries may be execute-only (R = W = 0, X = 1).
    public var executeOnly: Bool { bit(0) }
    /// Bit 6: 4-level EPT page walk supported.
    public var pageWalkLength4: Bool { bit(6) }
    /// Bit 7: 5-level EPT page walk supported.
    public var pageWalkLength5: Bool { bit(7) }
    /// Bit 8: EPT paging structures may be uncacheable (EPTP memory type UC).
    public var memoryTypeUC: Bool { bit(8) }
    /// Bit 14: EPT paging structures may be write-back (EPTP memory type WB).
    public var memoryTypeWB: Bool { bit(14) }
    /// Bit 16: 2 MiB EPT pages (PDE with bit 7 set).
    public var pages2MiB: Bool { bit(16) }
    /// Bit 17: 1 GiB EPT pages (PDPTE with bit 7 set).
    public var pages1GiB: Bool { bit(17) }
    /// Bit 20: INVEPT supported.
    public var invept: Bool { bit(20) }
    /// Bit 21: EPT accessed and dirty flags.
    public var accessedDirty: Bool { bit(21) }
    /// Bit 22: advanced VM-exit information for EPT violations.
    public var advancedExitInformation: Bool { bit(22) }
    /// Bit 23: supervisor shadow-stack control.
    public var supervisorShadowStack: Bool { bit(23) }
    /// Bit 25: single-context INVEPT.
    public var inveptSingleContext: Bool { bit(25) }
    /// Bit 26: all-context INVEPT.
    public var inveptAllContext: Bool { bit(26) }
    /// Bit 32: INVVPID supported.
    public var invvpid: Bool { bit(32) }
    /// Bit 40: individual-address INVVPID.
    public var invvpidIndividualAddress: Bool { bit(40) }
    /// Bit 41: single-context INVVPID.
    public var invvpidSingleContext: Bool { bit(41) }
    /// Bit 42: all-context INVVPID.
    public var invvpidAllContext: Bool { bit(42) }
    /// Bit 43: single-context-retaining-globals INVVPID.
    public var invvpidSingleContextRetainingGlobals: Bool { bit(43) }
    /// Bits 53:48: maximum HLAT prefix size.
    public var maxHLATPrefixSize: Int { Int((rawValue >> 48) & 0x3F) }

    /// Whether INVEPT supports `type`.
    public func supports(_ type: INVEPTType) -> Bool {
        guard invept else { return false }
        switch type {
        case .singleContext: return inveptSingleContext
        case .allContext: return inveptAllContext
        }
    }

    /// Whether INVVPID supports `type`.
    public func supports(_ type: INVVPIDType) -> Bool {
        guard invvpid else { return false }
        switch type {
        case .individualAddress: return invvpidIndividualAddress
        case .singleContext: return invvpidSingleContext
        case .allContexts: return invvpidAllContext
        case .singleContextRetainingGlobals: return invvpidSingleContextRetainingGlobals
        }
    }

    /// Whether `memoryType` may be used for the EPT paging structures (EPTP bits 2:0).
    public func supportsEPTPMemoryType(_ type: EPTMemoryType) -> Bool {
        switch type {
        case .uncacheable: return memoryTypeUC
        case .writeBack: return memoryTypeWB
        default: return false
        }
    }

    /// "exec-only=yes walk4=yes walk5=no UC=yes WB=yes 2M=yes 1G=yes AD=yes invept=single,all invvpid=addr,single,all,single-globals"
    public var summary: String {
        var s = "exec-only=" + Format.yesNo(executeOnly)
        s += " walk4=" + Format.yesNo(pageWalkLength4)
        s += " walk5=" + Format.yesNo(pageWalkLength5)
        s += " UC=" + Format.yesNo(memoryTypeUC)
        s += " WB=" + Format.yesNo(memoryTypeWB)
        s += " 2M=" + Format.yesNo(pages2MiB)
        s += " 1G=" + Format.yesNo(pages1GiB)
        s += " AD=" + Format.yesNo(accessedDirty)
        s += " adv-exit-info=" + Format.yesNo(advancedExitInformation)
        s += " invept="
        if !invept { s += "no" } else {
            var parts: [String] = []
            if inveptSingleContext { parts.append("single") }
            if inveptAllContext { parts.append("all") }
            s += Self.join(parts)
        }
        s += " invvpid="
        if !invvpid { s += "no" } else {
            var parts: [String] = []
            if invvpidIndividualAddress { parts.append("addr") }
            if invvpidSingleContext { parts.append("single") }
            if invvpidAllContext { parts.append("all") }
            if invvpidSingleContextRetainingGlobals { parts.append("single-globals") }
            s += Self.join(parts)
        }
        return s
    }

    private static func join(_ parts: [String]) -> String {
        if parts.isEmpty { return "yes" }
        var s = ""
        for (i, p) in parts.enumerated() { if i > 0 { s += "," }; s += p }
        return s
    }
}
