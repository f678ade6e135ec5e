// Model-specific register numbers (SDM Vol. 4, Chapter 2) and a few of their bit layouts.

/// MSR numbers. `MSR.ia32EFER`, `MSR.ia32VMXBasic`, …; `MSR.name(_:)` for logs.
public enum MSR {
    /// IA32_TIME_STAMP_COUNTER
    public static let ia32TSC: UInt32 = 0x10
    /// IA32_PLATFORM_ID
    public static let ia32PlatformID: UInt32 = 0x17
    /// IA32_APIC_BASE
    public static let ia32APICBase: UInt32 = 0x1B
    /// IA32_FEATURE_CONTROL
    public static let ia32FeatureControl: UInt32 = 0x3A
    /// IA32_TSC_ADJUST
    public static let ia32TSCAdjust: UInt32 = 0x3B
    /// IA32_SPEC_CTRL
    public static let ia32SpecCtrl: UInt32 = 0x48
    /// IA32_PRED_CMD
    public static let ia32PredCmd: UInt32 = 0x49
    /// IA32_BIOS_UPDT_TRIG: writing it loads a microcode update
    public static let ia32BIOSUpdtTrig: UInt32 = 0x79
    /// IA32_BIOS_SIGN_ID
    public static let ia32BIOSSignID: UInt32 = 0x8B
    /// IA32_SMM_MONITOR_CTL
    public static let ia32SMMMonitorCtl: UInt32 = 0x9B
    /// IA32_PMC0
    public static let ia32PMC0: UInt32 = 0xC1
    /// MSR_PLATFORM_INFO (model-specific, but read by Linux on every Intel CPU)
    public static let platformInfo: UInt32 = 0xCE
    /// IA32_MPERF
    public static let ia32MPerf: UInt32 = 0xE7
    /// IA32_APERF
    public static let ia32APerf: UInt32 = 0xE8
    /// IA32_MTRRCAP
    public static let ia32MTRRCap: UInt32 = 0xFE
    /// IA32_ARCH_CAPABILITIES
    public static let ia32ArchCapabilities: UInt32 = 0x10A
    /// IA32_FLUSH_CMD
    public static let ia32FlushCmd: UInt32 = 0x10B
    /// IA32_SYSENTER_CS
    public static let ia32SysenterCS: UInt32 = 0x174
    /// IA32_SYSENTER_ESP
    public static let ia32SysenterESP: UInt32 = 0x175
    /// IA32_SYSENTER_EIP
    public static let ia32SysenterEIP: UInt32 = 0x176
    /// IA32_MCG_CAP
    public static let ia32MCGCap: UInt32 = 0x179
    /// IA32_MCG_STATUS
    public static let ia32MCGStatus: UInt32 = 0x17A
    /// IA32_MCG_CTL
    public static let ia32MCGCtl: UInt32 = 0x17B
    /// IA32_PERFEVTSEL0
    public static let ia32PerfEvtSel0: UInt32 = 0x186
    /// IA32_PERF_STATUS
    public static let ia32PerfStatus: UInt32 = 0x198
    /// IA32_PERF_CTL
    public static let ia32PerfCtl: UInt32 = 0x199
    /// IA32_CLOCK_MODULATION
    public static let ia32ClockModulation: UInt32 = 0x19A
    /// IA32_THERM_STATUS
    public static let ia32ThermStatus: UInt32 = 0x19C
    /// IA32_MISC_ENABLE
    public static let ia32MiscEnable: UInt32 = 0x1A0
    /// IA32_ENERGY_PERF_BIAS
    public static let ia32EnergyPerfBias: UInt32 = 0x1B0
    /// IA32_PACKAGE_THERM_STATUS
    public static let ia32PackageThermStatus: UInt32 = 0x1B1
    /// IA32_DEBUGCTL
    public static let ia32DebugCtl: UInt32 = 0x1D9
    /// IA32_SMRR_PHYSBASE
    public static let ia32SMRRPhysBase: UInt32 = 0x1F2
    /// IA32_SMRR_PHYSMASK
    public static let ia32SMRRPhysMask: UInt32 = 0x1F3
    /// IA32_MTRR_PHYSBASE0
    public static let ia32MTRRPhysBase0: UInt32 = 0x200
    /// IA32_MTRR_PHYSMASK0
    public static let ia32MTRRPhysMask0: UInt32 = 0x201
    /// IA32_MTRR_FIX64K_00000
    public static let ia32MTRRFix64K00000: UInt32 = 0x250
    /// IA32_MTRR_FIX16K_80000
    public static let ia32MTRRFix16K80000: UInt32 = 0x258
    /// IA32_MTRR_FIX16K_A0000
    public static let ia32MTRRFix16KA0000: UInt32 = 0x259
    /// IA32_MTRR_FIX4K_C0000
    public static let ia32MTRRFix4KC0000: UInt32 = 0x268
    /// IA32_MTRR_FIX4K_C8000
    public static let ia32MTRRFix4KC8000: UInt32 = 0x269
    /// IA32_MTRR_FIX4K_D0000
    public static let ia32MTRRFix4KD0000: UInt32 = 0x26A
    /// IA32_MTRR_FIX4K_D8000
    public static let ia32MTRRFix4KD8000: UInt32 = 0x26B
    /// IA32_MTRR_FIX4K_E0000
    public static let ia32MTRRFix4KE0000: UInt32 = 0x26C
    /// IA32_MTRR_FIX4K_E8000
    public static let ia32MTRRFix4KE8000: UInt32 = 0x26D
    /// IA32_MTRR_FIX4K_F0000
    public static let ia32MTRRFix4KF0000: UInt32 = 0x26E
    /// IA32_MTRR_FIX4K_F8000
    public static let ia32MTRRFix4KF8000: UInt32 = 0x26F
    /// IA32_PAT
    public static let ia32PAT: UInt32 = 0x277
    /// IA32_MTRR_DEF_TYPE
    public static let ia32MTRRDefType: UInt32 = 0x2FF
    /// IA32_FIXED_CTR0
    public static let ia32FixedCtr0: UInt32 = 0x309
    /// IA32_PERF_CAPABILITIES
    public static let ia32PerfCapabilities: UInt32 = 0x345
    /// IA32_FIXED_CTR_CTRL
    public static let ia32FixedCtrCtrl: UInt32 = 0x38D
    /// IA32_PERF_GLOBAL_STATUS
    public static let ia32PerfGlobalStatus: UInt32 = 0x38E
    /// IA32_PERF_GLOBAL_CTRL
    public static let ia32PerfGlobalCtrl: UInt32 = 0x38F
    /// IA32_PERF_GLOBAL_OVF_CTRL
    public static let ia32PerfGlobalOvfCtrl: UInt32 = 0x390
    /// IA32_PEBS_ENABLE
    public static let ia32PEBSEnable: UInt32 = 0x3F1
    /// IA32_MC0_CTL
    public static let ia32MC0Ctl: UInt32 = 0x400
    /// IA32_VMX_BASIC
    public static let ia32VMXBasic: UInt32 = 0x480
    /// IA32_VMX_PINBASED_CTLS
    public static let ia32VMXPinbasedCtls: UInt32 = 0x481
    /// IA32_VMX_PROCBASED_CTLS
    public static let ia32VMXProcbasedCtls: UInt32 = 0x482
    /// IA32_VMX_EXIT_CTLS
    public static let ia32VMXExitCtls: UInt32 = 0x483
    /// IA32_VMX_ENTRY_CTLS
    public static let ia32VMXEntryCtls: UInt32 = 0x484
    /// IA32_VMX_MISC
    public static let ia32VMXMisc: UInt32 = 0x485
    /// IA32_VMX_CR0_FIXED0
    public static let ia32VMXCR0Fixed0: UInt32 = 0x486
    /// IA32_VMX_CR0_FIXED1
    public static let ia32VMXCR0Fixed1: UInt32 = 0x487
    /// IA32_VMX_CR4_FIXED0
    public static let ia32VMXCR4Fixed0: UInt32 = 0x488
    /// IA32_VMX_CR4_FIXED1
    public static let ia32VMXCR4Fixed1: UInt32 = 0x489
    /// IA32_VMX_VMCS_ENUM
    public static let ia32VMXVMCSEnum: UInt32 = 0x48A
    /// IA32_VMX_PROCBASED_CTLS2
    public static let ia32VMXProcbasedCtls2: UInt32 = 0x48B
    /// IA32_VMX_EPT_VPID_CAP
    public static let ia32VMXEPTVPIDCap: UInt32 = 0x48C
    /// IA32_VMX_TRUE_PINBASED_CTLS
    public static let ia32VMXTruePinbasedCtls: UInt32 = 0x48D
    /// IA32_VMX_TRUE_PROCBASED_CTLS
    public static let ia32VMXTrueProcbasedCtls: UInt32 = 0x48E
    /// IA32_VMX_TRUE_EXIT_CTLS
    public static let ia32VMXTrueExitCtls: UInt32 = 0x48F
    /// IA32_VMX_TRUE_ENTRY_CTLS
    public static let ia32VMXTrueEntryCtls: UInt32 = 0x490
    /// IA32_VMX_VMFUNC
    public static let ia32VMXVMFunc: UInt32 = 0x491
    /// IA32_VMX_PROCBASED_CTLS3
    public static let ia32VMXProcbasedCtls3: UInt32 = 0x492
    /// IA32_VMX_EXIT_CTLS2
    public static let ia32VMXExitCtls2: UInt32 = 0x493
    /// IA32_DS_AREA: linear address of the BTS/PEBS buffer management area
    public static let ia32DSArea: UInt32 = 0x600
    /// IA32_RTIT_CTL
    public static let ia32RTITCtl: UInt32 = 0x570
    /// IA32_U_CET
    public static let ia32UCET: UInt32 = 0x6A0
    /// IA32_S_CET
    public static let ia32SCET: UInt32 = 0x6A2
    /// IA32_PL0_SSP
    public static let ia32PL0SSP: UInt32 = 0x6A4
    /// IA32_PL1_SSP
    public static let ia32PL1SSP: UInt32 = 0x6A5
    /// IA32_PL2_SSP
    public static let ia32PL2SSP: UInt32 = 0x6A6
    /// IA32_PL3_SSP
    public static let ia32PL3SSP: UInt32 = 0x6A7
    /// IA32_INTERRUPT_SSP_TABLE_ADDR
    public static let ia32InterruptSSPTableAddr: UInt32 = 0x6A8
    /// IA32_TSC_DEADLINE
    public static let ia32TSCDeadline: UInt32 = 0x6E0
    /// IA32_PKRS
    public static let ia32PKRS: UInt32 = 0x6E1
    /// IA32_BNDCFGS
    public static let ia32BNDCFGS: UInt32 = 0xD90
    /// IA32_XSS
    public static let ia32XSS: UInt32 = 0xDA0
    /// IA32_EFER
    public static let ia32EFER: UInt32 = 0xC0000080
    /// IA32_STAR
    public static let ia32STAR: UInt32 = 0xC0000081
    /// IA32_LSTAR
    public static let ia32LSTAR: UInt32 = 0xC0000082
    /// IA32_CSTAR
    public static let ia32CSTAR: UInt32 = 0xC0000083
    /// IA32_FMASK
    public static let ia32FMask: UInt32 = 0xC0000084
    /// IA32_FS_BASE
    public static let ia32FSBase: UInt32 = 0xC0000100
    /// IA32_GS_BASE
    public static let ia32GSBase: UInt32 = 0xC0000101
    /// IA32_KERNEL_GS_BASE
    public static let ia32KernelGSBase: UInt32 = 0xC0000102
    /// IA32_TSC_AUX
    public static let ia32TSCAux: UInt32 = 0xC0000103
    /// First x2APIC MSR (0x800); the x2APIC range is 0x800–0x8FF.
    public static let x2apicFirst: UInt32 = 0x800
    public static let x2apicLast: UInt32 = 0x8FF
    /// Hypervisor-defined range commonly used for paravirtual MSRs.
    public static let hypervisorRangeFirst: UInt32 = 0x4000_0000

    /// The IA32_* name of an MSR, or nil if unknown.
    public static func name(_ msr: UInt32) -> StaticString? {
        switch msr {
        case 0x10: return "IA32_TIME_STAMP_COUNTER"
        case 0x17: return "IA32_PLATFORM_ID"
        case 0x1B: return "IA32_APIC_BASE"
        case 0x3A: return "IA32_FEATURE_CONTROL"
        case 0x3B: return "IA32_TSC_ADJUST"
        case 0x48: return "IA32_SPEC_CTRL"
        case 0x49: return "IA32_PRED_CMD"
        case 0x79: return "IA32_BIOS_UPDT_TRIG"
        case 0x8B: return "IA32_BIOS_SIGN_ID"
        case 0x9B: return "IA32_SMM_MONITOR_CTL"
        case 0xC1: return "IA32_PMC0"
        case 0xCE: return "MSR_PLATFORM_INFO"
        case 0xE7: return "IA32_MPERF"
        case 0xE8: return "IA32_APERF"
        case 0xFE: return "IA32_MTRRCAP"
        case 0x10A: return "IA32_ARCH_CAPABILITIES"
        case 0x10B: return "IA32_FLUSH_CMD"
        case 0x174: return "IA32_SYSENTER_CS"
        case 0x175: return "IA32_SYSENTER_ESP"
        case 0x176: return "IA32_SYSENTER_EIP"
        case 0x179: return "IA32_MCG_CAP"
        case 0x17A: return "IA32_MCG_STATUS"
        case 0x17B: return "IA32_MCG_CTL"
        case 0x186: return "IA32_PERFEVTSEL0"
        case 0x198: return "IA32_PERF_STATUS"
        case 0x199: return "IA32_PERF_CTL"
        case 0x19A: return "IA32_CLOCK_MODULATION"
        case 0x19C: return "IA32_THERM_STATUS"
        case 0x1A0: return "IA32_MISC_ENABLE"
        case 0x1B0: return "IA32_ENERGY_PERF_BIAS"
        case 0x1B1: return "IA32_PACKAGE_THERM_STATUS"
        case 0x1D9: return "IA32_DEBUGCTL"
        case 0x1F2: return "IA32_SMRR_PHYSBASE"
        case 0x1F3: return "IA32_SMRR_PHYSMASK"
        case 0x200: return "IA32_MTRR_PHYSBASE0"
        case 0x201: return "IA32_MTRR_PHYSMASK0"
        case 0x250: return "IA32_MTRR_FIX64K_00000"
        case 0x258: return "IA32_MTRR_FIX16K_80000"
        case 0x259: return "IA32_MTRR_FIX16K_A0000"
        case 0x268: return "IA32_MTRR_FIX4K_C0000"
        case 0x269: return "IA32_MTRR_FIX4K_C8000"
        case 0x26A: return "IA32_MTRR_FIX4K_D0000"
        case 0x26B: return "IA32_MTRR_FIX4K_D8000"
        case 0x26C: return "IA32_MTRR_FIX4K_E0000"
        case 0x26D: return "IA32_MTRR_FIX4K_E8000"
        case 0x26E: return "IA32_MTRR_FIX4K_F0000"
        case 0x26F: return "IA32_MTRR_FIX4K_F8000"
        case 0x277: return "IA32_PAT"
        case 0x2FF: return "IA32_MTRR_DEF_TYPE"
        case 0x309: return "IA32_FIXED_CTR0"
        case 0x345: return "IA32_PERF_CAPABILITIES"
        case 0x38D: return "IA32_FIXED_CTR_CTRL"
        case 0x38E: return "IA32_PERF_GLOBAL_STATUS"
        case 0x38F: return "IA32_PERF_GLOBAL_CTRL"
        case 0x390: return "IA32_PERF_GLOBAL_OVF_CTRL"
        case 0x3F1: return "IA32_PEBS_ENABLE"
        case 0x400: return "IA32_MC0_CTL"
        case 0x480: return "IA32_VMX_BASIC"
        case 0x481: return "IA32_VMX_PINBASED_CTLS"
        case 0x482: return "IA32_VMX_PROCBASED_CTLS"
        case 0x483: return "IA32_VMX_EXIT_CTLS"
        case 0x484: return "IA32_VMX_ENTRY_CTLS"
        case 0x485: return "IA32_VMX_MISC"
        case 0x486: return "IA32_VMX_CR0_FIXED0"
        case 0x487: return "IA32_VMX_CR0_FIXED1"
        case 0x488: return "IA32_VMX_CR4_FIXED0"
        case 0x489: return "IA32_VMX_CR4_FIXED1"
        case 0x48A: return "IA32_VMX_VMCS_ENUM"
        case 0x48B: return "IA32_VMX_PROCBASED_CTLS2"
        case 0x48C: return "IA32_VMX_EPT_VPID_CAP"
        case 0x48D: return "IA32_VMX_TRUE_PINBASED_CTLS"
        case 0x48E: return "IA32_VMX_TRUE_PROCBASED_CTLS"
        case 0x48F: return "IA32_VMX_TRUE_EXIT_CTLS"
        case 0x490: return "IA32_VMX_TRUE_ENTRY_CTLS"
        case 0x491: return "IA32_VMX_VMFUNC"
        case 0x492: return "IA32_VMX_PROCBASED_CTLS3"
        case 0x493: return "IA32_VMX_EXIT_CTLS2"
        case 0x600: return "IA32_DS_AREA"
        case 0x570: return "IA32_RTIT_CTL"
        case 0x6A0: return "IA32_U_CET"
        case 0x6A2: return "IA32_S_CET"
        case 0x6A4: return "IA32_PL0_SSP"
        case 0x6A5: return "IA32_PL1_SSP"
        case 0x6A6: return "IA32_PL2_SSP"
        case 0x6A7: return "IA32_PL3_SSP"
        case 0x6A8: return "IA32_INTERRUPT_SSP_TABLE_ADDR"
        case 0x6E0: return "IA32_TSC_DEADLINE"
        case 0x6E1: return "IA32_PKRS"
        case 0xD90: return "IA32_BNDCFGS"
        case 0xDA0: return "IA32_XSS"
        case 0xC0000080: return "IA32_EFER"
        case 0xC0000081: return "IA32_STAR"
        case 0xC0000082: return "IA32_LSTAR"
        case 0xC0000083: return "IA32_CSTAR"
        case 0xC0000084: return "IA32_FMASK"
        case 0xC0000100: return "IA32_FS_BASE"
        case 0xC0000101: return "IA32_GS_BASE"
        case 0xC0000102: return "IA32_KERNEL_GS_BASE"
        case 0xC0000103: return "IA32_TSC_AUX"
        case 0x200...0x213: return msr & 1 == 0 ? "IA32_MTRR_PHYSBASEn" : "IA32_MTRR_PHYSMASKn"
        case 0x800...0x8FF: return "IA32_X2APIC_*"
        default: return nil
        }
    }
}

/// IA32_FEATURE_CONTROL (MSR 0x3A) bits (SDM Vol. 3C §24.7).
public struct FeatureControl: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Once set, WRMSR to this MSR #GPs until reset; VMXON #GPs if clear.
    public static let lock = FeatureControl(rawValue: 1 << 0)
    public static let vmxInsideSMX = FeatureControl(rawValue: 1 << 1)
    public static let vmxOutsideSMX = FeatureControl(rawValue: 1 << 2)

    /// VMXON outside SMX is permitted: locked with "enable VMX outside SMX" set.
    public var allowsVMXOutsideSMX: Bool { contains([.lock, .vmxOutsideSMX]) }

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "lock"
        case 1: return "VMX in SMX"
        case 2: return "VMX outside SMX"
        case 15: return "SENTER global enable"
        case 17: return "SGX launch control"
        case 18: return "SGX global enable"
        case 20: return "LMCE on"
        default: return nil
        }
    }
}

/// IA32_APIC_BASE (MSR 0x1B) layout (SDM Vol. 3A §11.4.4).
public enum APICBase {
    public static let bsp: UInt64 = 1 << 8
    public static let x2apicEnable: UInt64 = 1 << 10
    public static let globalEnable: UInt64 = 1 << 11
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000
    public static let defaultAddress: UInt64 = 0xFEE0_0000
}

/// IA32_MTRR_DEF_TYPE (MSR 0x2FF) layout (SDM Vol. 3A §12.11.2.1).
public enum MTRRDefType {
    public static let typeMask: UInt64 = 0xFF
    public static let fixedEnable: UInt64 = 1 << 10
    public static let enable: UInt64 = 1 << 11
}

/// IA32_PAT (MSR 0x277): the power-on value (WB, WT, UC-, UC repeated) (SDM Vol. 3A §12.12.4).
public enum PAT {
    public static let powerOnDefault: UInt64 = 0x0007_0406_0007_0406
}
