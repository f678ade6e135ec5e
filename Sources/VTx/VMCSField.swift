// VMCS component encodings (SDM Vol. 3C §25.11.2 for the encoding layout; Vol. 3D Appendix B for the list).

/// A VMCS component encoding as used by VMREAD/VMWRITE.
///
/// Layout (SDM Vol. 3C §25.11.2, Table 25-21): bit 0 access type (0 full, 1 high),
/// bits 9:1 index, bits 11:10 type, bit 12 reserved (0), bits 14:13 width, bits 31:15 reserved (0).
public struct VMCSField: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inline(__always) public init(_ encoding: UInt32) { rawValue = encoding }

    /// The encoding value passed to VMREAD/VMWRITE.
    @inline(__always) public var encoding: UInt32 { rawValue }

    /// Field width, encoding bits 14:13.
    public enum Width: UInt8, Sendable {
        case bits16 = 0, bits64 = 1, bits32 = 2, natural = 3
        public var name: StaticString {
            switch self {
            case .bits16: return "16-bit"
            case .bits64: return "64-bit"
            case .bits32: return "32-bit"
            case .natural: return "natural-width"
            }
        }
    }

    /// Field type, encoding bits 11:10.
    public enum FieldType: UInt8, Sendable {
        case control = 0, vmExitInformation = 1, guestState = 2, hostState = 3
        public var name: StaticString {
            switch self {
            case .control: return "control"
            case .vmExitInformation: return "VM-exit information"
            case .guestState: return "guest-state"
            case .hostState: return "host-state"
            }
        }
    }

    /// Access type, encoding bit 0: the high half of a 64-bit field is addressable separately.
    public enum AccessType: UInt8, Sendable { case full = 0, high = 1 }

    /// Builds an encoding from its parts.
    @inline(__always)
    public init(width: Width, type: FieldType, index: UInt16, access: AccessType = .full) {
        rawValue = UInt32(width.rawValue) << 13 | UInt32(type.rawValue) << 10
            | (UInt32(index) & 0x1FF) << 1 | UInt32(access.rawValue)
    }

    @inline(__always) public var width: Width { Width(rawValue: UInt8(truncatingIfNeeded: (rawValue >> 13) & 3))! }
    @inline(__always) public var type: FieldType { FieldType(rawValue: UInt8(truncatingIfNeeded: (rawValue >> 10) & 3))! }
    @inline(__always) public var accessType: AccessType { rawValue & 1 == 0 ? .full : .high }
    @inline(__always) public var index: UInt16 { UInt16(truncatingIfNeeded: (rawValue >> 1) & 0x1FF) }
    /// VM-exit information fields are read-only (VMWRITE to them needs "VMWRITE to any field", IA32_VMX_MISC bit 29).
    @inline(__always) public var isReadOnly: Bool { type == .vmExitInformation }
    /// True if bits 12 and 31:15 are zero and only 64-bit fields use the high access type.
    public var isWellFormed: Bool {
        rawValue & 0xFFFF_9000 == 0 && (accessType == .full || width == .bits64)
    }
    /// The high-half encoding of a 64-bit field (for 32-bit VMREAD/VMWRITE).
    @inline(__always) public var high: VMCSField { VMCSField(rawValue: rawValue | 1) }
    /// The full encoding (access type cleared).
    @inline(__always) public var full: VMCSField { VMCSField(rawValue: rawValue & ~1) }
    /// Width in bytes on a 64-bit host (natural width = 8; a high access reads 4 bytes).
    public var byteWidth: Int {
        if accessType == .high { return 4 }
        switch width {
        case .bits16: return 2
        case .bits32: return 4
        case .bits64, .natural: return 8
        }
    }


    // MARK: 16-bit control fields
    /// virtual-processor identifier (VPID) (0x0000)
    public static let virtualProcessorIdentifier = VMCSField(rawValue: 0x0000)
    /// posted-interrupt notification vector (0x0002)
    public static let postedInterruptNotificationVector = VMCSField(rawValue: 0x0002)
    /// EPTP index (0x0004)
    public static let eptpIndex = VMCSField(rawValue: 0x0004)
    /// HLAT prefix size (0x0006)
    public static let hlatPrefixSize = VMCSField(rawValue: 0x0006)
    /// last PID-pointer index (0x0008)
    public static let lastPIDPointerIndex = VMCSField(rawValue: 0x0008)

    // MARK: 16-bit guest-state fields
    /// guest ES selector (0x0800)
    public static let guestESSelector = VMCSField(rawValue: 0x0800)
    /// guest CS selector (0x0802)
    public static let guestCSSelector = VMCSField(rawValue: 0x0802)
    /// guest SS selector (0x0804)
    public static let guestSSSelector = VMCSField(rawValue: 0x0804)
    /// guest DS selector (0x0806)
    public static let guestDSSelector = VMCSField(rawValue: 0x0806)
    /// guest FS selector (0x0808)
    public static let guestFSSelector = VMCSField(rawValue: 0x0808)
    /// guest GS selector (0x080A)
    public static let guestGSSelector = VMCSField(rawValue: 0x080A)
    /// guest LDTR selector (0x080C)
    public static let guestLDTRSelector = VMCSField(rawValue: 0x080C)
    /// guest TR selector (0x080E)
    public static let guestTRSelector = VMCSField(rawValue: 0x080E)
    /// guest interrupt status (0x0810)
    public static let guestInterruptStatus = VMCSField(rawValue: 0x0810)
    /// PML index (0x0812)
    public static let pmlIndex = VMCSField(rawValue: 0x0812)
    /// guest UINV (0x0814)
    public static let guestUINV = VMCSField(rawValue: 0x0814)

    // MARK: 16-bit host-state fields
    /// host ES selector (0x0C00)
    public static let hostESSelector = VMCSField(rawValue: 0x0C00)
    /// host CS selector (0x0C02)
    public static let hostCSSelector = VMCSField(rawValue: 0x0C02)
    /// host SS selector (0x0C04)
    public static let hostSSSelector = VMCSField(rawValue: 0x0C04)
    /// host DS selector (0x0C06)
    public static let hostDSSelector = VMCSField(rawValue: 0x0C06)
    /// host FS selector (0x0C08)
    public static let hostFSSelector = VMCSField(rawValue: 0x0C08)
    /// host GS selector (0x0C0A)
    public static let hostGSSelector = VMCSField(rawValue: 0x0C0A)
    /// host TR selector (0x0C0C)
    public static let hostTRSelector = VMCSField(rawValue: 0x0C0C)

    // MARK: 64-bit control fields
    /// address of I/O bitmap A (0x2000)
    public static let ioBitmapA = VMCSField(rawValue: 0x2000)
    /// address of I/O bitmap B (0x2002)
    public static let ioBitmapB = VMCSField(rawValue: 0x2002)
    /// address of MSR bitmaps (0x2004)
    public static let msrBitmaps = VMCSField(rawValue: 0x2004)
    /// VM-exit MSR-store address (0x2006)
    public static let vmExitMSRStoreAddress = VMCSField(rawValue: 0x2006)
    /// VM-exit MSR-load address (0x2008)
    public static let vmExitMSRLoadAddress = VMCSField(rawValue: 0x2008)
    /// VM-entry MSR-load address (0x200A)
    public static let vmEntryMSRLoadAddress = VMCSField(rawValue: 0x200A)
    /// executive-VMCS pointer (0x200C)
    public static let executiveVMCSPointer = VMCSField(rawValue: 0x200C)
    /// PML address (0x200E)
    public static let pmlAddress = VMCSField(rawValue: 0x200E)
    /// TSC offset (0x2010)
    public static let tscOffset = VMCSField(rawValue: 0x2010)
    /// virtual-APIC address (0x2012)
    public static let virtualAPICAddress = VMCSField(rawValue: 0x2012)
    /// APIC-access address (0x2014)
    public static let apicAccessAddress = VMCSField(rawValue: 0x2014)
    /// posted-interrupt descriptor address (0x2016)
    public static let postedInterruptDescriptorAddress = VMCSField(rawValue: 0x2016)
    /// VM-function controls (0x2018)
    public static let vmFunctionControls = VMCSField(rawValue: 0x2018)
    /// EPT pointer (0x201A)
    public static let eptPointer = VMCSField(rawValue: 0x201A)
    /// EOI-exit bitmap 0 (0x201C)
    public static let eoiExitBitmap0 = VMCSField(rawValue: 0x201C)
    /// EOI-exit bitmap 1 (0x201E)
    public static let eoiExitBitmap1 = VMCSField(rawValue: 0x201E)
    /// EOI-exit bitmap 2 (0x2020)
    public static let eoiExitBitmap2 = VMCSField(rawValue: 0x2020)
    /// EOI-exit bitmap 3 (0x2022)
    public static let eoiExitBitmap3 = VMCSField(rawValue: 0x2022)
    /// EPTP-list address (0x2024)
    public static let eptpListAddress = VMCSField(rawValue: 0x2024)
    /// VMREAD-bitmap address (0x2026)
    public static let vmreadBitmapAddress = VMCSField(rawValue: 0x2026)
    /// VMWRITE-bitmap address (0x2028)
    public static let vmwriteBitmapAddress = VMCSField(rawValue: 0x2028)
    /// virtualization-exception information address (0x202A)
    public static let virtualizationExceptionInformationAddress = VMCSField(rawValue: 0x202A)
    /// XSS-exiting bitmap (0x202C)
    public static let xssExitingBitmap = VMCSField(rawValue: 0x202C)
    /// ENCLS-exiting bitmap (0x202E)
    public static let enclsExitingBitmap = VMCSField(rawValue: 0x202E)
    /// sub-page-permission-table pointer (0x2030)
    public static let subPagePermissionTablePointer = VMCSField(rawValue: 0x2030)
    /// TSC multiplier (0x2032)
    public static let tscMultiplier = VMCSField(rawValue: 0x2032)
    /// tertiary processor-based VM-execution controls (0x2034)
    public static let procBasedControls3 = VMCSField(rawValue: 0x2034)
    /// ENCLV-exiting bitmap (0x2036)
    public static let enclvExitingBitmap = VMCSField(rawValue: 0x2036)
    /// low PASID directory address (0x2038)
    public static let lowPASIDDirectoryAddress = VMCSField(rawValue: 0x2038)
    /// high PASID directory address (0x203A)
    public static let highPASIDDirectoryAddress = VMCSField(rawValue: 0x203A)
    /// shared EPT pointer (0x203C)
    public static let sharedEPTPointer = VMCSField(rawValue: 0x203C)
    /// PCONFIG-exiting bitmap (0x203E)
    public static let pconfigExitingBitmap = VMCSField(rawValue: 0x203E)
    /// HLAT pointer (0x2040)
    public static let hlatPointer = VMCSField(rawValue: 0x2040)
    /// PID-pointer table address (0x2042)
    public static let pidPointerTableAddress = VMCSField(rawValue: 0x2042)
    /// secondary VM-exit controls (0x2044)
    public static let secondaryVMExitControls = VMCSField(rawValue: 0x2044)
    /// IA32_SPEC_CTRL mask (0x204A)
    public static let ia32SpecCtrlMask = VMCSField(rawValue: 0x204A)
    /// IA32_SPEC_CTRL shadow (0x204C)
    public static let ia32SpecCtrlShadow = VMCSField(rawValue: 0x204C)

    // MARK: 64-bit read-only data fields
    /// guest-physical address (0x2400)
    public static let guestPhysicalAddress = VMCSField(rawValue: 0x2400)

    // MARK: 64-bit guest-state fields
    /// VMCS link pointer (0x2800)
    public static let vmcsLinkPointer = VMCSField(rawValue: 0x2800)
    /// guest IA32_DEBUGCTL (0x2802)
    public static let guestIA32DebugCtl = VMCSField(rawValue: 0x2802)
    /// guest IA32_PAT (0x2804)
    public static let guestIA32PAT = VMCSField(rawValue: 0x2804)
    /// guest IA32_EFER (0x2806)
    public static let guestIA32EFER = VMCSField(rawValue: 0x2806)
    /// guest IA32_PERF_GLOBAL_CTRL (0x2808)
    public static let guestIA32PerfGlobalCtrl = VMCSField(rawValue: 0x2808)
    /// guest PDPTE0 (0x280A)
    public static let guestPDPTE0 = VMCSField(rawValue: 0x280A)
    /// guest PDPTE1 (0x280C)
    public static let guestPDPTE1 = VMCSField(rawValue: 0x280C)
    /// guest PDPTE2 (0x280E)
    public static let guestPDPTE2 = VMCSField(rawValue: 0x280E)
    /// guest PDPTE3 (0x2810)
    public static let guestPDPTE3 = VMCSField(rawValue: 0x2810)
    /// guest IA32_BNDCFGS (0x2812)
    public static let guestIA32BNDCFGS = VMCSField(rawValue: 0x2812)
    /// guest IA32_RTIT_CTL (0x2814)
    public static let guestIA32RTITCtl = VMCSField(rawValue: 0x2814)
    /// guest IA32_LBR_CTL (0x2816)
    public static let guestIA32LBRCtl = VMCSField(rawValue: 0x2816)
    /// guest IA32_PKRS (0x2818)
    public static let guestIA32PKRS = VMCSField(rawValue: 0x2818)

    // MARK: 64-bit host-state fields
    /// host IA32_PAT (0x2C00)
    public static let hostIA32PAT = VMCSField(rawValue: 0x2C00)
    /// host IA32_EFER (0x2C02)
    public static let hostIA32EFER = VMCSField(rawValue: 0x2C02)
    /// host IA32_PERF_GLOBAL_CTRL (0x2C04)
    public static let hostIA32PerfGlobalCtrl = VMCSField(rawValue: 0x2C04)
    /// host IA32_PKRS (0x2C06)
    public static let hostIA32PKRS = VMCSField(rawValue: 0x2C06)

    // MARK: 32-bit control fields
    /// pin-based VM-execution controls (0x4000)
    public static let pinBasedControls = VMCSField(rawValue: 0x4000)
    /// primary processor-based VM-execution controls (0x4002)
    public static let procBasedControls = VMCSField(rawValue: 0x4002)
    /// exception bitmap (0x4004)
    public static let exceptionBitmap = VMCSField(rawValue: 0x4004)
    /// page-fault error-code mask (0x4006)
    public static let pageFaultErrorCodeMask = VMCSField(rawValue: 0x4006)
    /// page-fault error-code match (0x4008)
    public static let pageFaultErrorCodeMatch = VMCSField(rawValue: 0x4008)
    /// CR3-target count (0x400A)
    public static let cr3TargetCount = VMCSField(rawValue: 0x400A)
    /// primary VM-exit controls (0x400C)
    public static let vmExitControls = VMCSField(rawValue: 0x400C)
    /// VM-exit MSR-store count (0x400E)
    public static let vmExitMSRStoreCount = VMCSField(rawValue: 0x400E)
    /// VM-exit MSR-load count (0x4010)
    public static let vmExitMSRLoadCount = VMCSField(rawValue: 0x4010)
    /// VM-entry controls (0x4012)
    public static let vmEntryControls = VMCSField(rawValue: 0x4012)
    /// VM-entry MSR-load count (0x4014)
    public static let vmEntryMSRLoadCount = VMCSField(rawValue: 0x4014)
    /// VM-entry interruption-information field (0x4016)
    public static let vmEntryInterruptionInformation = VMCSField(rawValue: 0x4016)
    /// VM-entry exception error code (0x4018)
    public static let vmEntryExceptionErrorCode = VMCSField(rawValue: 0x4018)
    /// VM-entry instruction length (0x401A)
    public static let vmEntryInstructionLength = VMCSField(rawValue: 0x401A)
    /// TPR threshold (0x401C)
    public static let tprThreshold = VMCSField(rawValue: 0x401C)
    /// secondary processor-based VM-execution controls (0x401E)
    public static let procBasedControls2 = VMCSField(rawValue: 0x401E)
    /// PLE_Gap (0x4020)
    public static let pleGap = VMCSField(rawValue: 0x4020)
    /// PLE_Window (0x4022)
    public static let pleWindow = VMCSField(rawValue: 0x4022)
    /// instruction-timeout control (0x4024)
    public static let instructionTimeoutControl = VMCSField(rawValue: 0x4024)

    // MARK: 32-bit read-only data fields
    /// VM-instruction error (0x4400)
    public static let vmInstructionError = VMCSField(rawValue: 0x4400)
    /// exit reason (0x4402)
    public static let exitReason = VMCSField(rawValue: 0x4402)
    /// VM-exit interruption information (0x4404)
    public static let vmExitInterruptionInformation = VMCSField(rawValue: 0x4404)
    /// VM-exit interruption error code (0x4406)
    public static let vmExitInterruptionErrorCode = VMCSField(rawValue: 0x4406)
    /// IDT-vectoring information field (0x4408)
    public static let idtVectoringInformation = VMCSField(rawValue: 0x4408)
    /// IDT-vectoring error code (0x440A)
    public static let idtVectoringErrorCode = VMCSField(rawValue: 0x440A)
    /// VM-exit instruction length (0x440C)
    public static let vmExitInstructionLength = VMCSField(rawValue: 0x440C)
    /// VM-exit instruction information (0x440E)
    public static let vmExitInstructionInformation = VMCSField(rawValue: 0x440E)

    // MARK: 32-bit guest-state fields
    /// guest ES limit (0x4800)
    public static let guestESLimit = VMCSField(rawValue: 0x4800)
    /// guest CS limit (0x4802)
    public static let guestCSLimit = VMCSField(rawValue: 0x4802)
    /// guest SS limit (0x4804)
    public static let guestSSLimit = VMCSField(rawValue: 0x4804)
    /// guest DS limit (0x4806)
    public static let guestDSLimit = VMCSField(rawValue: 0x4806)
    /// guest FS limit (0x4808)
    public static let guestFSLimit = VMCSField(rawValue: 0x4808)
    /// guest GS limit (0x480A)
    public static let guestGSLimit = VMCSField(rawValue: 0x480A)
    /// guest LDTR limit (0x480C)
    public static let guestLDTRLimit = VMCSField(rawValue: 0x480C)
    /// guest TR limit (0x480E)
    public static let guestTRLimit = VMCSField(rawValue: 0x480E)
    /// guest GDTR limit (0x4810)
    public static let guestGDTRLimit = VMCSField(rawValue: 0x4810)
    /// guest IDTR limit (0x4812)
    public static let guestIDTRLimit = VMCSField(rawValue: 0x4812)
    /// guest ES access rights (0x4814)
    public static let guestESAccessRights = VMCSField(rawValue: 0x4814)
    /// guest CS access rights (0x4816)
    public static let guestCSAccessRights = VMCSField(rawValue: 0x4816)
    /// guest SS access rights (0x4818)
    public static let guestSSAccessRights = VMCSField(rawValue: 0x4818)
    /// guest DS access rights (0x481A)
    public static let guestDSAccessRights = VMCSField(rawValue: 0x481A)
    /// guest FS access rights (0x481C)
    public static let guestFSAccessRights = VMCSField(rawValue: 0x481C)
    /// guest GS access rights (0x481E)
    public static let guestGSAccessRights = VMCSField(rawValue: 0x481E)
    /// guest LDTR access rights (0x4820)
    public static let guestLDTRAccessRights = VMCSField(rawValue: 0x4820)
    /// guest TR access rights (0x4822)
    public static let guestTRAccessRights = VMCSField(rawValue: 0x4822)
    /// guest interruptibility state (0x4824)
    public static let guestInterruptibilityState = VMCSField(rawValue: 0x4824)
    /// guest activity state (0x4826)
    public static let guestActivityState = VMCSField(rawValue: 0x4826)
    /// guest SMBASE (0x4828)
    public static let guestSMBASE = VMCSField(rawValue: 0x4828)
    /// guest IA32_SYSENTER_CS (0x482A)
    public static let guestIA32SysenterCS = VMCSField(rawValue: 0x482A)
    /// VMX-preemption timer value (0x482E)
    public static let vmxPreemptionTimerValue = VMCSField(rawValue: 0x482E)

    // MARK: 32-bit host-state fields
    /// host IA32_SYSENTER_CS (0x4C00)
    public static let hostIA32SysenterCS = VMCSField(rawValue: 0x4C00)

    // MARK: natural-width control fields
    /// CR0 guest/host mask (0x6000)
    public static let cr0GuestHostMask = VMCSField(rawValue: 0x6000)
    /// CR4 guest/host mask (0x6002)
    public static let cr4GuestHostMask = VMCSField(rawValue: 0x6002)
    /// CR0 read shadow (0x6004)
    public static let cr0ReadShadow = VMCSField(rawValue: 0x6004)
    /// CR4 read shadow (0x6006)
    public static let cr4ReadShadow = VMCSField(rawValue: 0x6006)
    /// CR3-target value 0 (0x6008)
    public static let cr3TargetValue0 = VMCSField(rawValue: 0x6008)
    /// CR3-target value 1 (0x600A)
    public static let cr3TargetValue1 = VMCSField(rawValue: 0x600A)
    /// CR3-target value 2 (0x600C)
    public static let cr3TargetValue2 = VMCSField(rawValue: 0x600C)
    /// CR3-target value 3 (0x600E)
    public static let cr3TargetValue3 = VMCSField(rawValue: 0x600E)

    // MARK: natural-width read-only data fields
    /// exit qualification (0x6400)
    public static let exitQualification = VMCSField(rawValue: 0x6400)
    /// I/O RCX (0x6402)
    public static let ioRCX = VMCSField(rawValue: 0x6402)
    /// I/O RSI (0x6404)
    public static let ioRSI = VMCSField(rawValue: 0x6404)
    /// I/O RDI (0x6406)
    public static let ioRDI = VMCSField(rawValue: 0x6406)
    /// I/O RIP (0x6408)
    public static let ioRIP = VMCSField(rawValue: 0x6408)
    /// guest-linear address (0x640A)
    public static let guestLinearAddress = VMCSField(rawValue: 0x640A)

    // MARK: natural-width guest-state fields
    /// guest CR0 (0x6800)
    public static let guestCR0 = VMCSField(rawValue: 0x6800)
    /// guest CR3 (0x6802)
    public static let guestCR3 = VMCSField(rawValue: 0x6802)
    /// guest CR4 (0x6804)
    public static let guestCR4 = VMCSField(rawValue: 0x6804)
    /// guest ES base (0x6806)
    public static let guestESBase = VMCSField(rawValue: 0x6806)
    /// guest CS base (0x6808)
    public static let guestCSBase = VMCSField(rawValue: 0x6808)
    /// guest SS base (0x680A)
    public static let guestSSBase = VMCSField(rawValue: 0x680A)
    /// guest DS base (0x680C)
    public static let guestDSBase = VMCSField(rawValue: 0x680C)
    /// guest FS base (0x680E)
    public static let guestFSBase = VMCSField(rawValue: 0x680E)
    /// guest GS base (0x6810)
    public static let guestGSBase = VMCSField(rawValue: 0x6810)
    /// guest LDTR base (0x6812)
    public static let guestLDTRBase = VMCSField(rawValue: 0x6812)
    /// guest TR base (0x6814)
    public static let guestTRBase = VMCSField(rawValue: 0x6814)
    /// guest GDTR base (0x6816)
    public static let guestGDTRBase = VMCSField(rawValue: 0x6816)
    /// guest IDTR base (0x6818)
    public static let guestIDTRBase = VMCSField(rawValue: 0x6818)
    /// guest DR7 (0x681A)
    public static let guestDR7 = VMCSField(rawValue: 0x681A)
    /// guest RSP (0x681C)
    public static let guestRSP = VMCSField(rawValue: 0x681C)
    /// guest RIP (0x681E)
    public static let guestRIP = VMCSField(rawValue: 0x681E)
    /// guest RFLAGS (0x6820)
    public static let guestRFLAGS = VMCSField(rawValue: 0x6820)
    /// guest pending debug exceptions (0x6822)
    public static let guestPendingDebugExceptions = VMCSField(rawValue: 0x6822)
    /// guest IA32_SYSENTER_ESP (0x6824)
    public static let guestIA32SysenterESP = VMCSField(rawValue: 0x6824)
    /// guest IA32_SYSENTER_EIP (0x6826)
    public static let guestIA32SysenterEIP = VMCSField(rawValue: 0x6826)
    /// guest IA32_S_CET (0x6828)
    public static let guestIA32SCET = VMCSField(rawValue: 0x6828)
    /// guest SSP (0x682A)
    public static let guestSSP = VMCSField(rawValue: 0x682A)
    /// guest IA32_INTERRUPT_SSP_TABLE_ADDR (0x682C)
    public static let guestIA32InterruptSSPTableAddr = VMCSField(rawValue: 0x682C)

    // MARK: natural-width host-state fields
    /// host CR0 (0x6C00)
    public static let hostCR0 = VMCSField(rawValue: 0x6C00)
    /// host CR3 (0x6C02)
    public static let hostCR3 = VMCSField(rawValue: 0x6C02)
    /// host CR4 (0x6C04)
    public static let hostCR4 = VMCSField(rawValue: 0x6C04)
    /// host FS base (0x6C06)
    public static let hostFSBase = VMCSField(rawValue: 0x6C06)
    /// host GS base (0x6C08)
    public static let hostGSBase = VMCSField(rawValue: 0x6C08)
    /// host TR base (0x6C0A)
    public static let hostTRBase = VMCSField(rawValue: 0x6C0A)
    /// host GDTR base (0x6C0C)
    public static let hostGDTRBase = VMCSField(rawValue: 0x6C0C)
    /// host IDTR base (0x6C0E)
    public static let hostIDTRBase = VMCSField(rawValue: 0x6C0E)
    /// host IA32_SYSENTER_ESP (0x6C10)
    public static let hostIA32SysenterESP = VMCSField(rawValue: 0x6C10)
    /// host IA32_SYSENTER_EIP (0x6C12)
    public static let hostIA32SysenterEIP = VMCSField(rawValue: 0x6C12)
    /// host RSP (0x6C14)
    public static let hostRSP = VMCSField(rawValue: 0x6C14)
    /// host RIP (0x6C16)
    public static let hostRIP = VMCSField(rawValue: 0x6C16)
    /// host IA32_S_CET (0x6C18)
    public static let hostIA32SCET = VMCSField(rawValue: 0x6C18)
    /// host SSP (0x6C1A)
    public static let hostSSP = VMCSField(rawValue: 0x6C1A)
    /// host IA32_INTERRUPT_SSP_TABLE_ADDR (0x6C1C)
    public static let hostIA32InterruptSSPTableAddr = VMCSField(rawValue: 0x6C1C)

    /// Every known field (full access type) with its SDM name, in encoding order: the one list
    /// that `name`, `isKnown` and `allFields` are derived from (VMCS dumps, tests).
    public static let table: [(field: VMCSField, name: StaticString)] = [
        (.virtualProcessorIdentifier, "virtual-processor identifier (VPID)"),
        (.postedInterruptNotificationVector, "posted-interrupt notification vector"),
        (.eptpIndex, "EPTP index"),
        (.hlatPrefixSize, "HLAT prefix size"),
        (.lastPIDPointerIndex, "last PID-pointer index"),
        (.guestESSelector, "guest ES selector"),
        (.guestCSSelector, "guest CS selector"),
        (.guestSSSelector, "guest SS selector"),
        (.guestDSSelector, "guest DS selector"),
        (.guestFSSelector, "guest FS selector"),
        (.guestGSSelector, "guest GS selector"),
        (.guestLDTRSelector, "guest LDTR selector"),
        (.guestTRSelector, "guest TR selector"),
        (.guestInterruptStatus, "guest interrupt status"),
        (.pmlIndex, "PML index"),
        (.guestUINV, "guest UINV"),
        (.hostESSelector, "host ES selector"),
        (.hostCSSelector, "host CS selector"),
        (.hostSSSelector, "host SS selector"),
        (.hostDSSelector, "host DS selector"),
        (.hostFSSelector, "host FS selector"),
        (.hostGSSelector, "host GS selector"),
        (.hostTRSelector, "host TR selector"),
        (.ioBitmapA, "address of I/O bitmap A"),
        (.ioBitmapB, "address of I/O bitmap B"),
        (.msrBitmaps, "address of MSR bitmaps"),
        (.vmExitMSRStoreAddress, "VM-exit MSR-store address"),
        (.vmExitMSRLoadAddress, "VM-exit MSR-load address"),
        (.vmEntryMSRLoadAddress, "VM-entry MSR-load address"),
        (.executiveVMCSPointer, "executive-VMCS pointer"),
        (.pmlAddress, "PML address"),
        (.tscOffset, "TSC offset"),
        (.virtualAPICAddress, "virtual-APIC address"),
        (.apicAccessAddress, "APIC-access address"),
        (.postedInterruptDescriptorAddress, "posted-interrupt descriptor address"),
        (.vmFunctionControls, "VM-function controls"),
        (.eptPointer, "EPT pointer"),
        (.eoiExitBitmap0, "EOI-exit bitmap 0"),
        (.eoiExitBitmap1, "EOI-exit bitmap 1"),
        (.eoiExitBitmap2, "EOI-exit bitmap 2"),
        (.eoiExitBitmap3, "EOI-exit bitmap 3"),
        (.eptpListAddress, "EPTP-list address"),
        (.vmreadBitmapAddress, "VMREAD-bitmap address"),
        (.vmwriteBitmapAddress, "VMWRITE-bitmap address"),
        (.virtualizationExceptionInformationAddress, "virtualization-exception information address"),
        (.xssExitingBitmap, "XSS-exiting bitmap"),
        (.enclsExitingBitmap, "ENCLS-exiting bitmap"),
        (.subPagePermissionTablePointer, "sub-page-permission-table pointer"),
        (.tscMultiplier, "TSC multiplier"),
        (.procBasedControls3, "tertiary processor-based VM-execution controls"),
        (.enclvExitingBitmap, "ENCLV-exiting bitmap"),
        (.lowPASIDDirectoryAddress, "low PASID directory address"),
        (.highPASIDDirectoryAddress, "high PASID directory address"),
        (.sharedEPTPointer, "shared EPT pointer"),
        (.pconfigExitingBitmap, "PCONFIG-exiting bitmap"),
        (.hlatPointer, "HLAT pointer"),
        (.pidPointerTableAddress, "PID-pointer table address"),
        (.secondaryVMExitControls, "secondary VM-exit controls"),
        (.ia32SpecCtrlMask, "IA32_SPEC_CTRL mask"),
        (.ia32SpecCtrlShadow, "IA32_SPEC_CTRL shadow"),
        (.guestPhysicalAddress, "guest-physical address"),
        (.vmcsLinkPointer, "VMCS link pointer"),
        (.guestIA32DebugCtl, "guest IA32_DEBUGCTL"),
        (.guestIA32PAT, "guest IA32_PAT"),
        (.guestIA32EFER, "guest IA32_EFER"),
        (.guestIA32PerfGlobalCtrl, "guest IA32_PERF_GLOBAL_CTRL"),
        (.guestPDPTE0, "guest PDPTE0"),
        (.guestPDPTE1, "guest PDPTE1"),
        (.guestPDPTE2, "guest PDPTE2"),
        (.guestPDPTE3, "guest PDPTE3"),
        (.guestIA32BNDCFGS, "guest IA32_BNDCFGS"),
        (.guestIA32RTITCtl, "guest IA32_RTIT_CTL"),
        (.guestIA32LBRCtl, "guest IA32_LBR_CTL"),
        (.guestIA32PKRS, "guest IA32_PKRS"),
        (.hostIA32PAT, "host IA32_PAT"),
        (.hostIA32EFER, "host IA32_EFER"),
        (.hostIA32PerfGlobalCtrl, "host IA32_PERF_GLOBAL_CTRL"),
        (.hostIA32PKRS, "host IA32_PKRS"),
        (.pinBasedControls, "pin-based VM-execution controls"),
        (.procBasedControls, "primary processor-based VM-execution controls"),
        (.exceptionBitmap, "exception bitmap"),
        (.pageFaultErrorCodeMask, "page-fault error-code mask"),
        (.pageFaultErrorCodeMatch, "page-fault error-code match"),
        (.cr3TargetCount, "CR3-target count"),
        (.vmExitControls, "primary VM-exit controls"),
        (.vmExitMSRStoreCount, "VM-exit MSR-store count"),
        (.vmExitMSRLoadCount, "VM-exit MSR-load count"),
        (.vmEntryControls, "VM-entry controls"),
        (.vmEntryMSRLoadCount, "VM-entry MSR-load count"),
        (.vmEntryInterruptionInformation, "VM-entry interruption-information field"),
        (.vmEntryExceptionErrorCode, "VM-entry exception error code"),
        (.vmEntryInstructionLength, "VM-entry instruction length"),
        (.tprThreshold, "TPR threshold"),
        (.procBasedControls2, "secondary processor-based VM-execution controls"),
        (.pleGap, "PLE_Gap"),
        (.pleWindow, "PLE_Window"),
        (.instructionTimeoutControl, "instruction-timeout control"),
        (.vmInstructionError, "VM-instruction error"),
        (.exitReason, "exit reason"),
        (.vmExitInterruptionInformation, "VM-exit interruption information"),
        (.vmExitInterruptionErrorCode, "VM-exit interruption error code"),
        (.idtVectoringInformation, "IDT-vectoring information field"),
        (.idtVectoringErrorCode, "IDT-vectoring error code"),
        (.vmExitInstructionLength, "VM-exit instruction length"),
        (.vmExitInstructionInformation, "VM-exit instruction information"),
        (.guestESLimit, "guest ES limit"),
        (.guestCSLimit, "guest CS limit"),
        (.guestSSLimit, "guest SS limit"),
        (.guestDSLimit, "guest DS limit"),
        (.guestFSLimit, "guest FS limit"),
        (.guestGSLimit, "guest GS limit"),
        (.guestLDTRLimit, "guest LDTR limit"),
        (.guestTRLimit, "guest TR limit"),
        (.guestGDTRLimit, "guest GDTR limit"),
        (.guestIDTRLimit, "guest IDTR limit"),
        (.guestESAccessRights, "guest ES access rights"),
        (.guestCSAccessRights, "guest CS access rights"),
        (.guestSSAccessRights, "guest SS access rights"),
        (.guestDSAccessRights, "guest DS access rights"),
        (.guestFSAccessRights, "guest FS access rights"),
        (.guestGSAccessRights, "guest GS access rights"),
        (.guestLDTRAccessRights, "guest LDTR access rights"),
        (.guestTRAccessRights, "guest TR access rights"),
        (.guestInterruptibilityState, "guest interruptibility state"),
        (.guestActivityState, "guest activity state"),
        (.guestSMBASE, "guest SMBASE"),
        (.guestIA32SysenterCS, "guest IA32_SYSENTER_CS"),
        (.vmxPreemptionTimerValue, "VMX-preemption timer value"),
        (.hostIA32SysenterCS, "host IA32_SYSENTER_CS"),
        (.cr0GuestHostMask, "CR0 guest/host mask"),
        (.cr4GuestHostMask, "CR4 guest/host mask"),
        (.cr0ReadShadow, "CR0 read shadow"),
        (.cr4ReadShadow, "CR4 read shadow"),
        (.cr3TargetValue0, "CR3-target value 0"),
        (.cr3TargetValue1, "CR3-target value 1"),
        (.cr3TargetValue2, "CR3-target value 2"),
        (.cr3TargetValue3, "CR3-target value 3"),
        (.exitQualification, "exit qualification"),
        (.ioRCX, "I/O RCX"),
        (.ioRSI, "I/O RSI"),
        (.ioRDI, "I/O RDI"),
        (.ioRIP, "I/O RIP"),
        (.guestLinearAddress, "guest-linear address"),
        (.guestCR0, "guest CR0"),
        (.guestCR3, "guest CR3"),
        (.guestCR4, "guest CR4"),
        (.guestESBase, "guest ES base"),
        (.guestCSBase, "guest CS base"),
        (.guestSSBase, "guest SS base"),
        (.guestDSBase, "guest DS base"),
        (.guestFSBase, "guest FS base"),
        (.guestGSBase, "guest GS base"),
        (.guestLDTRBase, "guest LDTR base"),
        (.guestTRBase, "guest TR base"),
        (.guestGDTRBase, "guest GDTR base"),
        (.guestIDTRBase, "guest IDTR base"),
        (.guestDR7, "guest DR7"),
        (.guestRSP, "guest RSP"),
        (.guestRIP, "guest RIP"),
        (.guestRFLAGS, "guest RFLAGS"),
        (.guestPendingDebugExceptions, "guest pending debug exceptions"),
        (.guestIA32SysenterESP, "guest IA32_SYSENTER_ESP"),
        (.guestIA32SysenterEIP, "guest IA32_SYSENTER_EIP"),
        (.guestIA32SCET, "guest IA32_S_CET"),
        (.guestSSP, "guest SSP"),
        (.guestIA32InterruptSSPTableAddr, "guest IA32_INTERRUPT_SSP_TABLE_ADDR"),
        (.hostCR0, "host CR0"),
        (.hostCR3, "host CR3"),
        (.hostCR4, "host CR4"),
        (.hostFSBase, "host FS base"),
        (.hostGSBase, "host GS base"),
        (.hostTRBase, "host TR base"),
        (.hostGDTRBase, "host GDTR base"),
        (.hostIDTRBase, "host IDTR base"),
        (.hostIA32SysenterESP, "host IA32_SYSENTER_ESP"),
        (.hostIA32SysenterEIP, "host IA32_SYSENTER_EIP"),
        (.hostRSP, "host RSP"),
        (.hostRIP, "host RIP"),
        (.hostIA32SCET, "host IA32_S_CET"),
        (.hostSSP, "host SSP"),
        (.hostIA32InterruptSSPTableAddr, "host IA32_INTERRUPT_SSP_TABLE_ADDR"),
    ]

    /// Every known field (full access type), in encoding order.
    public static var allFields: [VMCSField] { table.map { $0.field } }

    /// The SDM name of the field, e.g. "guest RIP"; for a high access the name of its 64-bit field.
    /// Unknown encodings give "unknown VMCS field".
    public var name: StaticString {
        let full = rawValue & ~1
        for entry in Self.table where entry.field.rawValue == full { return entry.name }
        return "unknown VMCS field"
    }

    /// True if the encoding (ignoring the access type) is one this module knows.
    public var isKnown: Bool {
        let full = rawValue & ~1
        return Self.table.contains { $0.field.rawValue == full }
    }
}
