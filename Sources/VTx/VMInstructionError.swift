// VM-instruction error numbers (SDM Vol. 3C §31.4, Table 31-1).

/// The value of the VM-instruction error field after VMfailValid.
public enum VMInstructionError: UInt32, Sendable, CaseIterable {
    case vmcallInVMXRoot = 1
    case vmclearInvalidAddress = 2
    case vmclearVMXONPointer = 3
    case vmlaunchNonClearVMCS = 4
    case vmresumeNonLaunchedVMCS = 5
    case vmresumeAfterVMXOFF = 6
    case entryInvalidControlFields = 7
    case entryInvalidHostStateFields = 8
    case vmptrldInvalidAddress = 9
    case vmptrldVMXONPointer = 10
    case vmptrldIncorrectRevision = 11
    case unsupportedVMCSComponent = 12
    case vmwriteReadOnlyComponent = 13
    case vmxonInVMXRoot = 15
    case entryInvalidExecutiveVMCSPointer = 16
    case entryNonLaunchedExecutiveVMCS = 17
    case entryExecutiveVMCSPointerNotVMXON = 18
    case vmcallNonClearVMCS = 19
    case vmcallInvalidExitControls = 20
    case vmcallIncorrectMSEGRevision = 22
    case vmxoffDualMonitor = 23
    case vmcallInvalidSMMMonitorFeatures = 24
    case entryInvalidExecutiveControls = 25
    case entryEventsBlockedByMovSS = 26
    case invalidINVEPTINVVPIDOperand = 28

    /// The SDM description.
    public var name: StaticString {
        switch self {
        case .vmcallInVMXRoot: return "VMCALL executed in VMX root operation"
        case .vmclearInvalidAddress: return "VMCLEAR with invalid physical address"
        case .vmclearVMXONPointer: return "VMCLEAR with VMXON pointer"
        case .vmlaunchNonClearVMCS: return "VMLAUNCH with non-clear VMCS"
        case .vmresumeNonLaunchedVMCS: return "VMRESUME with non-launched VMCS"
        case .vmresumeAfterVMXOFF: return "VMRESUME after VMXOFF"
        case .entryInvalidControlFields: return "VM entry with invalid control field(s)"
        case .entryInvalidHostStateFields: return "VM entry with invalid host-state field(s)"
        case .vmptrldInvalidAddress: return "VMPTRLD with invalid physical address"
        case .vmptrldVMXONPointer: return "VMPTRLD with VMXON pointer"
        case .vmptrldIncorrectRevision: return "VMPTRLD with incorrect VMCS revision identifier"
        case .unsupportedVMCSComponent: return "VMREAD/VMWRITE from/to unsupported VMCS component"
        case .vmwriteReadOnlyComponent: return "VMWRITE to read-only VMCS component"
        case .vmxonInVMXRoot: return "VMXON executed in VMX root operation"
        case .entryInvalidExecutiveVMCSPointer: return "VM entry with invalid executive-VMCS pointer"
        case .entryNonLaunchedExecutiveVMCS: return "VM entry with non-launched executive VMCS"
        case .entryExecutiveVMCSPointerNotVMXON: return "VM entry with executive-VMCS pointer not VMXON pointer"
        case .vmcallNonClearVMCS: return "VMCALL with non-clear VMCS"
        case .vmcallInvalidExitControls: return "VMCALL with invalid VM-exit control fields"
        case .vmcallIncorrectMSEGRevision: return "VMCALL with incorrect MSEG revision identifier"
        case .vmxoffDualMonitor: return "VMXOFF under dual-monitor treatment of SMIs and SMM"
        case .vmcallInvalidSMMMonitorFeatures: return "VMCALL with invalid SMM-monitor features"
        case .entryInvalidExecutiveControls: return "VM entry with invalid VM-execution control fields in executive VMCS"
        case .entryEventsBlockedByMovSS: return "VM entry with events blocked by MOV SS"
        case .invalidINVEPTINVVPIDOperand: return "invalid operand to INVEPT/INVVPID"
        }
    }

    /// Name of any raw error number, "unknown VM-instruction error" otherwise.
    public static func name(_ number: UInt32) -> StaticString {
        VMInstructionError(rawValue: number)?.name ?? "unknown VM-instruction error"
    }
}
