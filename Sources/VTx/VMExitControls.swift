// Primary VM-exit controls (SDM Vol. 3C §25.7.1, Table 25-13).

import X86

/// Primary VM-exit controls (SDM Vol. 3C §25.7.1, Table 25-13).
public struct VMExitControls: VMXControlSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static var kind: VMXControlKind { .vmExit }

    /// Bit 2: save debug controls.
    public static let saveDebugControls = VMExitControls(rawValue: 1 << 2)
    /// Bit 9: host address-space size.
    public static let hostAddressSpaceSize = VMExitControls(rawValue: 1 << 9)
    /// Bit 12: load IA32_PERF_GLOBAL_CTRL.
    public static let loadPerfGlobalCtrl = VMExitControls(rawValue: 1 << 12)
    /// Bit 15: acknowledge interrupt on exit.
    public static let acknowledgeInterruptOnExit = VMExitControls(rawValue: 1 << 15)
    /// Bit 18: save IA32_PAT.
    public static let savePAT = VMExitControls(rawValue: 1 << 18)
    /// Bit 19: load IA32_PAT.
    public static let loadPAT = VMExitControls(rawValue: 1 << 19)
    /// Bit 20: save IA32_EFER.
    public static let saveEFER = VMExitControls(rawValue: 1 << 20)
    /// Bit 21: load IA32_EFER.
    public static let loadEFER = VMExitControls(rawValue: 1 << 21)
    /// Bit 22: save VMX-preemption timer value.
    public static let saveVMXPreemptionTimer = VMExitControls(rawValue: 1 << 22)
    /// Bit 23: clear IA32_BNDCFGS.
    public static let clearBNDCFGS = VMExitControls(rawValue: 1 << 23)
    /// Bit 24: conceal VMX from PT.
    public static let concealVMXFromPT = VMExitControls(rawValue: 1 << 24)
    /// Bit 25: clear IA32_RTIT_CTL.
    public static let clearRTITCtl = VMExitControls(rawValue: 1 << 25)
    /// Bit 26: clear IA32_LBR_CTL.
    public static let clearLBRCtl = VMExitControls(rawValue: 1 << 26)
    /// Bit 27: clear UINV.
    public static let clearUINV = VMExitControls(rawValue: 1 << 27)
    /// Bit 28: load CET state.
    public static let loadCETState = VMExitControls(rawValue: 1 << 28)
    /// Bit 29: load PKRS.
    public static let loadPKRS = VMExitControls(rawValue: 1 << 29)
    /// Bit 30: save IA32_PERF_GLOBAL_CTRL.
    public static let savePerfGlobalCtrl = VMExitControls(rawValue: 1 << 30)
    /// Bit 31: activate secondary controls.
    public static let activateSecondaryControls = VMExitControls(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 2: return "save debug controls"
        case 9: return "host address-space size"
        case 12: return "load IA32_PERF_GLOBAL_CTRL"
        case 15: return "acknowledge interrupt on exit"
        case 18: return "save IA32_PAT"
        case 19: return "load IA32_PAT"
        case 20: return "save IA32_EFER"
        case 21: return "load IA32_EFER"
        case 22: return "save VMX-preemption timer value"
        case 23: return "clear IA32_BNDCFGS"
        case 24: return "conceal VMX from PT"
        case 25: return "clear IA32_RTIT_CTL"
        case 26: return "clear IA32_LBR_CTL"
        case 27: return "clear UINV"
        case 28: return "load CET state"
        case 29: return "load PKRS"
        case 30: return "save IA32_PERF_GLOBAL_CTRL"
        case 31: return "activate secondary controls"
        default: return nil
        }
    }
}
