// VM-entry controls (SDM Vol. 3C §25.8.1, Table 25-15).

import X86

/// VM-entry controls (SDM Vol. 3C §25.8.1, Table 25-15).
public struct VMEntryControls: VMXControlSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static var kind: VMXControlKind { .vmEntry }

    /// Bit 2: load debug controls.
    public static let loadDebugControls = VMEntryControls(rawValue: 1 << 2)
    /// Bit 9: IA-32e mode guest.
    public static let ia32eModeGuest = VMEntryControls(rawValue: 1 << 9)
    /// Bit 10: entry to SMM.
    public static let entryToSMM = VMEntryControls(rawValue: 1 << 10)
    /// Bit 11: deactivate dual-monitor treatment.
    public static let deactivateDualMonitor = VMEntryControls(rawValue: 1 << 11)
    /// Bit 13: load IA32_PERF_GLOBAL_CTRL.
    public static let loadPerfGlobalCtrl = VMEntryControls(rawValue: 1 << 13)
    /// Bit 14: load IA32_PAT.
    public static let loadPAT = VMEntryControls(rawValue: 1 << 14)
    /// Bit 15: load IA32_EFER.
    public static let loadEFER = VMEntryControls(rawValue: 1 << 15)
    /// Bit 16: load IA32_BNDCFGS.
    public static let loadBNDCFGS = VMEntryControls(rawValue: 1 << 16)
    /// Bit 17: conceal VMX from PT.
    public static let concealVMXFromPT = VMEntryControls(rawValue: 1 << 17)
    /// Bit 18: load IA32_RTIT_CTL.
    public static let loadRTITCtl = VMEntryControls(rawValue: 1 << 18)
    /// Bit 19: load UINV.
    public static let loadUINV = VMEntryControls(rawValue: 1 << 19)
    /// Bit 20: load CET state.
    public static let loadCETState = VMEntryControls(rawValue: 1 << 20)
    /// Bit 21: load guest IA32_LBR_CTL.
    public static let loadLBRCtl = VMEntryControls(rawValue: 1 << 21)
    /// Bit 22: load PKRS.
    public static let loadPKRS = VMEntryControls(rawValue: 1 << 22)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 2: return "load debug controls"
        case 9: return "IA-32e mode guest"
        case 10: return "entry to SMM"
        case 11: return "deactivate dual-monitor treatment"
        case 13: return "load IA32_PERF_GLOBAL_CTRL"
        case 14: return "load IA32_PAT"
        case 15: return "load IA32_EFER"
        case 16: return "load IA32_BNDCFGS"
        case 17: return "conceal VMX from PT"
        case 18: return "load IA32_RTIT_CTL"
        case 19: return "load UINV"
        case 20: return "load CET state"
        case 21: return "load guest IA32_LBR_CTL"
        case 22: return "load PKRS"
        default: return nil
        }
    }
}
