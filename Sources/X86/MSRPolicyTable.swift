// The guest's MSRs, default deny: one table that says, per MSR, what a guest gets.
//
// - pass-through: the MSR bitmap lets RDMSR/WRMSR reach the processor. Only MSRs whose value
//   the VMCS (SDM Vol. 3C §25.4, §28.3, §28.5) or the world switch between VMs saves and
//   restores per VM, so a guest changes its own copy and nothing else:
//   FS/GS base and SYSENTER_* (guest-state area), EFER and PAT (load/save EFER and PAT
//   controls; EFER's LME/LMA rules are enforced by the CPU), STAR/LSTAR/CSTAR/FMASK,
//   KERNEL_GS_BASE and TSC_AUX (GuestContext).
// - emulated: the access exits and the hypervisor answers from a per-VM virtual register
//   (`VirtualMSRFile`): the TSC as a per-VM offset, APIC_BASE as the virtual PC's, MTRRs,
//   MISC_ENABLE, PLATFORM_INFO, machine check as "no banks", ...
// - #GP: everything else, as on a processor that lacks the MSR: PMU and PEBS/DS area,
//   Intel PT, SPEC_CTRL/PRED_CMD (hidden in CPUID), x2APIC, microcode update, power and
//   thermal control, VMX capabilities, MCi banks, SMRR, CET, ...

/// A per-VM virtual MSR the hypervisor emulates.
public enum VirtualMSR: Equatable, Sendable {
    /// IA32_TIME_STAMP_COUNTER: guest TSC = host TSC + the VM's TSC offset.
    case tsc
    /// IA32_TSC_ADJUST: moves with every TSC write (SDM Vol. 3B §18.17.3).
    case tscAdjust
    /// IA32_APIC_BASE of the virtual PC (which has no local APIC: global enable reads 0).
    case apicBase
    /// IA32_FEATURE_CONTROL: locked, VMX off.
    case featureControl
    /// IA32_PLATFORM_ID: reads 0.
    case platformID
    /// MSR_PLATFORM_INFO: the maximum non-turbo ratio.
    case platformInfo
    /// IA32_BIOS_SIGN_ID: microcode revision 0; writes ignored (the signature query).
    case biosSignID
    case mtrrCap
    case mtrrDefType
    /// IA32_MTRR_PHYSBASEn (n = 0...7).
    case mtrrPhysBase(Int)
    /// IA32_MTRR_PHYSMASKn (n = 0...7).
    case mtrrPhysMask(Int)
    /// The 11 fixed-range MTRRs, index 0 = FIX64K_00000 ... 10 = FIX4K_F8000.
    case mtrrFixed(Int)
    case miscEnable
    /// IA32_MCG_CAP: no banks, no MCG_CTL, no extended state.
    case mcgCap
    /// IA32_MCG_STATUS: reads 0; writing 0 is accepted.
    case mcgStatus
    /// IA32_DEBUGCTL: no LBR/BTS for guests; reads 0, only 0 may be written.
    case debugCtl
    /// IA32_XSS: no supervisor XSAVE states (CPUID.(0DH,1):ECX/EDX = 0); reads 0, only 0 may be written.
    case xss
    /// IA32_PAT when the VMCS cannot switch it (no load/save PAT controls): a virtual copy.
    case pat
}

/// What one MSR gives the guest.
public enum MSRRule: Equatable, Sendable {
    case passThrough
    case emulated(VirtualMSR)
    case generalProtection
}

public enum MSRPolicyTable {
    /// Number of variable-range MTRR pairs the guest sees (IA32_MTRRCAP.VCNT).
    public static let variableMTRRCount = 8
    /// The fixed-range MTRRs in IA32_MTRRCAP.FIX order (SDM Vol. 3A §12.11.2.2).
    public static let fixedMTRRs: [UInt32] = [0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F]

    /// MSRs the guest reaches directly when the VMCS switches PAT (otherwise PAT is emulated).
    public static let passThroughMSRs: [UInt32] = [
        MSR.ia32SysenterCS, MSR.ia32SysenterESP, MSR.ia32SysenterEIP, MSR.ia32PAT,
        MSR.ia32EFER, MSR.ia32STAR, MSR.ia32LSTAR, MSR.ia32CSTAR, MSR.ia32FMask,
        MSR.ia32FSBase, MSR.ia32GSBase, MSR.ia32KernelGSBase, MSR.ia32TSCAux,
    ]

    /// The rule for `msr`. `vmcsSwitchesPAT`: the VM-entry "load IA32_PAT" and VM-exit
    /// "save/load IA32_PAT" controls are in use.
    public static func rule(for msr: UInt32, vmcsSwitchesPAT: Bool = true) -> MSRRule {
        switch msr {
        case MSR.ia32SysenterCS, MSR.ia32SysenterESP, MSR.ia32SysenterEIP,
             MSR.ia32EFER, MSR.ia32STAR, MSR.ia32LSTAR, MSR.ia32CSTAR, MSR.ia32FMask,
             MSR.ia32FSBase, MSR.ia32GSBase, MSR.ia32KernelGSBase, MSR.ia32TSCAux:
            return .passThrough
        case MSR.ia32PAT:
            return vmcsSwitchesPAT ? .passThrough : .emulated(.pat)
        case MSR.ia32TSC: return .emulated(.tsc)
        case MSR.ia32TSCAdjust: return .emulated(.tscAdjust)
        case MSR.ia32APICBase: return .emulated(.apicBase)
        case MSR.ia32FeatureControl: return .emulated(.featureControl)
        case MSR.ia32PlatformID: return .emulated(.platformID)
        case MSR.platformInfo: return .emulated(.platformInfo)
        case MSR.ia32BIOSSignID: return .emulated(.biosSignID)
        case MSR.ia32MTRRCap: return .emulated(.mtrrCap)
        case MSR.ia32MTRRDefType: return .emulated(.mtrrDefType)
        case MSR.ia32MTRRPhysBase0..<(MSR.ia32MTRRPhysBase0 + 2 * UInt32(variableMTRRCount)):
            let n = Int(msr - MSR.ia32MTRRPhysBase0)
            return n & 1 == 0 ? .emulated(.mtrrPhysBase(n >> 1)) : .emulated(.mtrrPhysMask(n >> 1))
        case 0x250, 0x258, 0x259, 0x268...0x26F:
            return .emulated(.mtrrFixed(fixedMTRRIndex(msr)))
        case MSR.ia32MiscEnable: return .emulated(.miscEnable)
        case MSR.ia32MCGCap: return .emulated(.mcgCap)
        case MSR.ia32MCGStatus: return .emulated(.mcgStatus)
        case MSR.ia32DebugCtl: return .emulated(.debugCtl)
        case MSR.ia32XSS: return .emulated(.xss)
        default: return .generalProtection
        }
    }

    @inline(__always)
    static func fixedMTRRIndex(_ msr: UInt32) -> Int {
        switch msr {
        case 0x250: return 0
        case 0x258: return 1
        case 0x259: return 2
        default: return Int(msr - 0x268) + 3
        }
    }

    /// Calls `body` for every MSR in the MSR bitmap's two ranges (SDM Vol. 3C §25.6.9)
    /// that the guest may access directly; the bitmap makes every other one exit.
    public static func forEachPassThrough(vmcsSwitchesPAT: Bool, _ body: (UInt32) -> Void) {
        for msr in passThroughMSRs where rule(for: msr, vmcsSwitchesPAT: vmcsSwitchesPAT) == .passThrough {
            body(msr)
        }
    }
}
