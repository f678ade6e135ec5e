import VTx

// Every VMX instruction reports VMsucceed, VMfailInvalid or VMfailValid
// (SDM Vol. 3C §31.2). Here each outcome becomes a typed Swift error that names
// the instruction and, for VMfailValid, the VM-instruction error (§31.4).

/// Plain values only (no String payloads): errors are built on the exit path too,
/// which must not touch reference counts.
enum VMXError: Error {
    /// CF=1: no current VMCS, or the operand was not a valid VMXON/VMCS pointer.
    case failInvalid(instruction: StaticString)
    /// ZF=1: the current VMCS's VM-instruction error field holds the reason.
    case failValid(instruction: StaticString, error: UInt32)
    /// Something VMX operation cannot start without.
    case unsupported(StaticString)
    /// IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled (the firmware's choice).
    case featureControlLocked(UInt64)
    /// A control the guest's mode needs that the CPU does not allow.
    case controlUnavailable(VMXControlError, mode: StaticString)

    var description: String {
        switch self {
        case .failInvalid(let instruction):
            return "\(instruction) failed: VMfailInvalid (no current VMCS or invalid pointer)"
        case .failValid(let instruction, let error):
            return "\(instruction) failed: VMfailValid, VM-instruction error \(error): \(VMInstructionError.name(error))"
        case .unsupported(let what):
            return "\(what)"
        case .featureControlLocked(let value):
            return "IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled (\(hex(value))): enable VT-x in the firmware"
        case .controlUnavailable(let error, let mode):
            return "cannot run a \(mode) guest: \(error.message)"
        }
    }
}

enum VMXInstruction {
    @inline(__always)
    static func check(_ status: Int32, _ instruction: StaticString) throws(VMXError) {
        switch status {
        case 0: return
        case 1: throw .failInvalid(instruction: instruction)
        default: throw .failValid(instruction: instruction, error: UInt32(truncatingIfNeeded: vmx_vmread_unchecked(UInt64(VMCSField.vmInstructionError.encoding))))
        }
    }

    static func vmxon(_ region: UInt64) throws(VMXError) { try check(vmx_vmxon(region), "VMXON") }
    static func vmxoff() throws(VMXError) { try check(vmx_vmxoff(), "VMXOFF") }
    static func vmclear(_ vmcs: UInt64) throws(VMXError) { try check(vmx_vmclear(vmcs), "VMCLEAR") }
    static func vmptrld(_ vmcs: UInt64) throws(VMXError) { try check(vmx_vmptrld(vmcs), "VMPTRLD") }

    static func vmread(_ field: VMCSField) throws(VMXError) -> UInt64 {
        var value: UInt64 = 0
        try check(vmx_vmread(UInt64(field.encoding), &value), "VMREAD")
        return value
    }

    static func vmwrite(_ field: VMCSField, _ value: UInt64) throws(VMXError) {
        try check(vmx_vmwrite(UInt64(field.encoding), value), "VMWRITE")
    }

    /// INVEPT single-context (type 1): drop cached translations derived from this EPTP.
    static func invept(singleContext eptp: UInt64) throws(VMXError) {
        var descriptor: (UInt64, UInt64) = (eptp, 0)
        try withUnsafePointer(to: &descriptor) { (p) throws(VMXError) in try check(vmx_invept(1, p), "INVEPT") }
    }

    /// INVVPID single-context (type 1): drop linear translations tagged with this VPID.
    static func invvpid(singleContext vpid: UInt16) throws(VMXError) {
        var descriptor: (UInt64, UInt64) = (UInt64(vpid), 0)
        try withUnsafePointer(to: &descriptor) { (p) throws(VMXError) in try check(vmx_invvpid(1, p), "INVVPID") }
    }

    /// INVEPT all-context (type 2): drop every EPT-derived translation (when single-context is not offered).
    static func inveptAllContexts() throws(VMXError) {
        var descriptor: (UInt64, UInt64) = (0, 0)
        try withUnsafePointer(to: &descriptor) { (p) throws(VMXError) in try check(vmx_invept(2, p), "INVEPT") }
    }

    /// INVVPID all-context (type 2): drop linear translations of every VPID but 0.
    static func invvpidAllContexts() throws(VMXError) {
        var descriptor: (UInt64, UInt64) = (0, 0)
        try withUnsafePointer(to: &descriptor) { (p) throws(VMXError) in try check(vmx_invvpid(2, p), "INVVPID") }
    }
}

/// The exit path's reads and writes: no error check, for fields that always exist.
@inline(__always) func vmreadFast(_ field: VMCSField) -> UInt64 { vmx_vmread_unchecked(UInt64(field.encoding)) }
@inline(__always) func vmwriteFast(_ field: VMCSField, _ value: UInt64) { vmx_vmwrite_unchecked(UInt64(field.encoding), value) }
