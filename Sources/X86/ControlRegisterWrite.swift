// The architectural checks and side effects of MOV to CR0, CR3 and CR4 (SDM Vol. 2B "MOV—Move
// to/from Control Registers", Vol. 3A §2.5, §4.1.2, §4.4.1, §9.8.5), as a hypervisor that
// emulates the instruction must apply them. Pure: the caller supplies the guest-visible register
// values and performs the outcome (GUEST_CRn, read shadow, IA32_EFER.LMA and the "IA-32e mode
// guest" entry control, the guest PDPTEs, a TLB flush) or injects #GP(0).

/// What a MOV to CR0 does to IA-32e mode.
public enum LongModeTransition: Sendable, Equatable {
    case none
    /// CR0.PG 0→1 with EFER.LME = 1: EFER.LMA becomes 1.
    case activate
    /// CR0.PG 1→0 in compatibility mode: EFER.LMA becomes 0.
    case deactivate
}

/// Why a control-register write raises #GP(0): the rule it breaks.
public enum ControlRegisterFault: Sendable, Equatable {
    case cr0HighBitsSet
    case pagingWithoutProtection
    case notWriteThroughWithoutCacheDisable
    case longModeWithoutPAE
    case longModeWithLongCodeSegment
    case pagingOffWithPCID
    case pagingOffIn64BitMode
    case cr4UnsupportedBit
    case paeOffInLongMode
    case la57ChangeInLongMode
    case pcidOutsideLongMode
    case pcidWithNonzeroCR3Low
    case cr3ReservedBit
    case invalidPDPTE

    public var description: StaticString {
        switch self {
        case .cr0HighBitsSet: return "CR0 bits 63:32 are reserved"
        case .pagingWithoutProtection: return "CR0.PG = 1 with CR0.PE = 0"
        case .notWriteThroughWithoutCacheDisable: return "CR0.NW = 1 with CR0.CD = 0"
        case .longModeWithoutPAE: return "IA-32e mode activation with CR4.PAE = 0"
        case .longModeWithLongCodeSegment: return "IA-32e mode activation with CS.L = 1"
        case .pagingOffWithPCID: return "clearing CR0.PG with CR4.PCIDE = 1"
        case .pagingOffIn64BitMode: return "clearing CR0.PG in 64-bit mode"
        case .cr4UnsupportedBit: return "CR4 reserved or unsupported bit set"
        case .paeOffInLongMode: return "clearing CR4.PAE in IA-32e mode"
        case .la57ChangeInLongMode: return "changing CR4.LA57 in IA-32e mode"
        case .pcidOutsideLongMode: return "setting CR4.PCIDE outside IA-32e mode"
        case .pcidWithNonzeroCR3Low: return "setting CR4.PCIDE with CR3[11:0] != 0"
        case .cr3ReservedBit: return "CR3 bits above MAXPHYADDR set"
        case .invalidPDPTE: return "a PAE PDPTE has a reserved bit set"
        }
    }
}

/// The result of checking a control-register write.
public enum ControlRegisterWriteOutcome: Sendable, Equatable {
    /// The write raises #GP(0); nothing changes.
    case generalProtection(ControlRegisterFault)
    /// The write takes effect. `loadPDPTEs`: PAE paging is in use afterwards and the write changed
    /// a bit that makes the processor load the four PDPTEs from CR3 (SDM Vol. 3A §4.4.1).
    /// `flushTLB`: the write invalidates the guest's TLB entries as the real instruction would.
    case load(longMode: LongModeTransition, loadPDPTEs: Bool, flushTLB: Bool)

    public var isFault: Bool { if case .generalProtection = self { return true } else { return false } }
}

/// The guest's control state that a control-register write is judged against.
public struct ControlRegisterState: Sendable, Equatable {
    public var cr0: UInt64
    public var cr3: UInt64
    public var cr4: UInt64
    public var efer: UInt64
    /// CS.L of the current code segment: in IA-32e mode, 64-bit mode rather than compatibility mode.
    public var codeSegmentLong: Bool

    public init(cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64, codeSegmentLong: Bool) {
        self.cr0 = cr0; self.cr3 = cr3; self.cr4 = cr4; self.efer = efer; self.codeSegmentLong = codeSegmentLong
    }

    @inline(__always) public var longModeActive: Bool { efer & EFER.lma.rawValue != 0 }
    /// 64-bit mode: IA-32e mode with a 64-bit code segment.
    @inline(__always) public var in64BitMode: Bool { longModeActive && codeSegmentLong }
    public var pagingMode: PagingMode { PagingMode(cr0: cr0, cr4: cr4, efer: efer) }
}

public enum ControlRegisterWrite {
    /// MOV to CR0 (also LMSW and CLTS, which the caller turns into the CR0 value they produce).
    public static func cr0(_ value: UInt64, state: ControlRegisterState) -> ControlRegisterWriteOutcome {
        let new = CR0(rawValue: value)
        let old = CR0(rawValue: state.cr0)
        if value >> 32 != 0 { return .generalProtection(.cr0HighBitsSet) }
        if new.contains(.pg) && !new.contains(.pe) { return .generalProtection(.pagingWithoutProtection) }
        if new.contains(.nw) && !new.contains(.cd) { return .generalProtection(.notWriteThroughWithoutCacheDisable) }
        var transition = LongModeTransition.none
        let lme = state.efer & EFER.lme.rawValue != 0
        if new.contains(.pg) && !old.contains(.pg) && lme {
            // Activating IA-32e mode (SDM Vol. 3A §9.8.5): PAE must be on and CS.L clear.
            if state.cr4 & CR4.pae.rawValue == 0 {
                return .generalProtection(.longModeWithoutPAE)
            }
            if state.codeSegmentLong { return .generalProtection(.longModeWithLongCodeSegment) }
            transition = .activate
        } else if !new.contains(.pg) && old.contains(.pg) {
            if state.cr4 & CR4.pcide.rawValue != 0 {
                return .generalProtection(.pagingOffWithPCID)
            }
            if state.longModeActive {
                if state.codeSegmentLong { return .generalProtection(.pagingOffIn64BitMode) }
                transition = .deactivate
            }
        }
        let afterEFER = transition == .activate ? state.efer | EFER.lma.rawValue
            : transition == .deactivate ? state.efer & ~EFER.lma.rawValue : state.efer
        let after = PagingMode(cr0: value, cr4: state.cr4, efer: afterEFER)
        let pagingBitsChanged = (new.rawValue ^ old.rawValue) & (CR0.pg.rawValue | CR0.cd.rawValue | CR0.nw.rawValue) != 0
        let flush = (new.rawValue ^ old.rawValue) & (CR0.pg.rawValue | CR0.wp.rawValue | CR0.pe.rawValue) != 0
        return .load(longMode: transition, loadPDPTEs: after == .pae && pagingBitsChanged, flushTLB: flush)
    }

    /// MOV to CR4. `supported` is every bit the (virtual) processor has (the VMX fixed-1 mask
    /// minus what the hypervisor hides, e.g. VMXE).
    public static func cr4(_ value: UInt64, state: ControlRegisterState, supported: UInt64) -> ControlRegisterWriteOutcome {
        if value & ~supported != 0 { return .generalProtection(.cr4UnsupportedBit) }
        let changed = value ^ state.cr4
        if state.longModeActive {
            if value & CR4.pae.rawValue == 0 { return .generalProtection(.paeOffInLongMode) }
            if changed & CR4.la57.rawValue != 0 { return .generalProtection(.la57ChangeInLongMode) }
        }
        if changed & value & CR4.pcide.rawValue != 0 {
            if !state.longModeActive { return .generalProtection(.pcidOutsideLongMode) }
            if state.cr3 & 0xFFF != 0 { return .generalProtection(.pcidWithNonzeroCR3Low) }
        }
        let after = PagingMode(cr0: state.cr0, cr4: value, efer: state.efer)
        let pdpteBits = CR4.pae.rawValue | CR4.pge.rawValue | CR4.pse.rawValue | CR4.smep.rawValue
        let tlbBits = pdpteBits | CR4.pcide.rawValue | CR4.smap.rawValue | CR4.pke.rawValue
        return .load(longMode: .none, loadPDPTEs: after == .pae && changed & pdpteBits != 0,
                     flushTLB: changed & tlbBits != 0)
    }

    /// MOV to CR3 (when it exits: CR3-load exiting, or shadow paging). With CR4.PCIDE in 64-bit
    /// mode bit 63 means "do not flush" and is not part of CR3. Returns the value to load.
    public static func cr3(_ value: UInt64, state: ControlRegisterState, maxPhysicalAddressBits: Int)
        -> (outcome: ControlRegisterWriteOutcome, cr3: UInt64) {
        let pcid = state.longModeActive && state.cr4 & CR4.pcide.rawValue != 0
        let noFlush = pcid && value >> 63 != 0
        let loaded = pcid ? value & ~(1 << 63) : value
        if state.longModeActive {
            let reserved: UInt64 = maxPhysicalAddressBits >= 63 ? 0 : (~0 << UInt64(maxPhysicalAddressBits)) & ~(1 << 63)
            if loaded & reserved != 0 { return (.generalProtection(.cr3ReservedBit), state.cr3) }
        }
        return (.load(longMode: .none, loadPDPTEs: state.pagingMode == .pae, flushTLB: !noFlush), loaded)
    }
}
