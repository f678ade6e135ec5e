// Secondary processor-based VM-execution controls (SDM Vol. 3C §25.6.2, Table 25-7).

import X86

/// Secondary processor-based VM-execution controls (SDM Vol. 3C §25.6.2, Table 25-7).
public struct SecondaryProcessorBasedControls: VMXControlSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static var kind: VMXControlKind { .secondaryProcessorBased }

    /// Bit 0: virtualize APIC accesses.
    public static let virtualizeAPICAccesses = SecondaryProcessorBasedControls(rawValue: 1 << 0)
    /// Bit 1: enable EPT.
    public static let enableEPT = SecondaryProcessorBasedControls(rawValue: 1 << 1)
    /// Bit 2: descriptor-table exiting.
    public static let descriptorTableExiting = SecondaryProcessorBasedControls(rawValue: 1 << 2)
    /// Bit 3: enable RDTSCP.
    public static let enableRDTSCP = SecondaryProcessorBasedControls(rawValue: 1 << 3)
    /// Bit 4: virtualize x2APIC mode.
    public static let virtualizeX2APICMode = SecondaryProcessorBasedControls(rawValue: 1 << 4)
    /// Bit 5: enable VPID.
    public static let enableVPID = SecondaryProcessorBasedControls(rawValue: 1 << 5)
    /// Bit 6: WBINVD exiting.
    public static let wbinvdExiting = SecondaryProcessorBasedControls(rawValue: 1 << 6)
    /// Bit 7: unrestricted guest.
    public static let unrestrictedGuest = SecondaryProcessorBasedControls(rawValue: 1 << 7)
    /// Bit 8: APIC-register virtualization.
    public static let apicRegisterVirtualization = SecondaryProcessorBasedControls(rawValue: 1 << 8)
    /// Bit 9: virtual-interrupt delivery.
    public static let virtualInterruptDelivery = SecondaryProcessorBasedControls(rawValue: 1 << 9)
    /// Bit 10: PAUSE-loop exiting.
    public static let pauseLoopExiting = SecondaryProcessorBasedControls(rawValue: 1 << 10)
    /// Bit 11: RDRAND exiting.
    public static let rdrandExiting = SecondaryProcessorBasedControls(rawValue: 1 << 11)
    /// Bit 12: enable INVPCID.
    public static let enableINVPCID = SecondaryProcessorBasedControls(rawValue: 1 << 12)
    /// Bit 13: enable VM functions.
    public static let enableVMFunctions = SecondaryProcessorBasedControls(rawValue: 1 << 13)
    /// Bit 14: VMCS shadowing.
    public static let vmcsShadowing = SecondaryProcessorBasedControls(rawValue: 1 << 14)
    /// Bit 15: enable ENCLS exiting.
    public static let enableENCLSExiting = SecondaryProcessorBasedControls(rawValue: 1 << 15)
    /// Bit 16: RDSEED exiting.
    public static let rdseedExiting = SecondaryProcessorBasedControls(rawValue: 1 << 16)
    /// Bit 17: enable PML.
    public static let enablePML = SecondaryProcessorBasedControls(rawValue: 1 << 17)
    /// Bit 18: EPT-violation #VE.
    public static let eptViolationVE = SecondaryProcessorBasedControls(rawValue: 1 << 18)
    /// Bit 19: conceal VMX from PT.
    public static let concealVMXFromPT = SecondaryProcessorBasedControls(rawValue: 1 << 19)
    /// Bit 20: enable XSAVES/XRSTORS.
    public static let enableXSAVESXRSTORS = SecondaryProcessorBasedControls(rawValue: 1 << 20)
    /// Bit 21: PASID translation.
    public static let pasidTranslation = SecondaryProcessorBasedControls(rawValue: 1 << 21)
    /// Bit 22: mode-based execute control for EPT.
    public static let modeBasedExecuteControl = SecondaryProcessorBasedControls(rawValue: 1 << 22)
    /// Bit 23: sub-page write permissions for EPT.
    public static let subPageWritePermissions = SecondaryProcessorBasedControls(rawValue: 1 << 23)
    /// Bit 24: Intel PT uses guest physical addresses.
    public static let ptUsesGuestPhysical = SecondaryProcessorBasedControls(rawValue: 1 << 24)
    /// Bit 25: use TSC scaling.
    public static let useTSCScaling = SecondaryProcessorBasedControls(rawValue: 1 << 25)
    /// Bit 26: enable user wait and pause.
    public static let enableUserWaitPause = SecondaryProcessorBasedControls(rawValue: 1 << 26)
    /// Bit 27: enable PCONFIG.
    public static let enablePCONFIG = SecondaryProcessorBasedControls(rawValue: 1 << 27)
    /// Bit 28: enable ENCLV exiting.
    public static let enableENCLVExiting = SecondaryProcessorBasedControls(rawValue: 1 << 28)
    /// Bit 30: VMM bus-lock detection.
    public static let vmmBusLockDetection = SecondaryProcessorBasedControls(rawValue: 1 << 30)
    /// Bit 31: instruction timeout.
    public static let instructionTimeout = SecondaryProcessorBasedControls(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "virtualize APIC accesses"
        case 1: return "enable EPT"
        case 2: return "descriptor-table exiting"
        case 3: return "enable RDTSCP"
        case 4: return "virtualize x2APIC mode"
        case 5: return "enable VPID"
        case 6: return "WBINVD exiting"
        case 7: return "unrestricted guest"
        case 8: return "APIC-register virtualization"
        case 9: return "virtual-interrupt delivery"
        case 10: return "PAUSE-loop exiting"
        case 11: return "RDRAND exiting"
        case 12: return "enable INVPCID"
        case 13: return "enable VM functions"
        case 14: return "VMCS shadowing"
        case 15: return "enable ENCLS exiting"
        case 16: return "RDSEED exiting"
        case 17: return "enable PML"
        case 18: return "EPT-violation #VE"
        case 19: return "conceal VMX from PT"
        case 20: return "enable XSAVES/XRSTORS"
        case 21: return "PASID translation"
        case 22: return "mode-based execute control for EPT"
        case 23: return "sub-page write permissions for EPT"
        case 24: return "Intel PT uses guest physical addresses"
        case 25: return "use TSC scaling"
        case 26: return "enable user wait and pause"
        case 27: return "enable PCONFIG"
        case 28: return "enable ENCLV exiting"
        case 30: return "VMM bus-lock detection"
        case 31: return "instruction timeout"
        default: return nil
        }
    }
}
