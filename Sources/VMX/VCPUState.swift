import X86
import VTx

/// What the exit handlers keep per virtual CPU besides the VMCS and the registers:
/// plain values, updated on the exit path with no allocation.
public struct VCPUState {
    /// The VPID tagging this vCPU's translations (0: VPIDs are off).
    public let vpid: UInt16
    /// CR0/CR4 bits VMX operation forces (IA32_VMX_CR0/CR4_FIXED0/1), CR0 adjusted for unrestricted guest.
    public var cr0Fixed: FixedBits
    public var cr4Fixed: FixedBits
    /// The VM-entry controls as last written; "IA-32e mode guest" follows EFER.LMA (CRAccessExit).
    public var entryControls: VMEntryControls
    /// The XCR0 bits the host supports (CPUID.(EAX=0DH,ECX=0):EDX:EAX), or x87 only without XSAVE.
    public var supportedXCR0: UInt64
    /// CR8 (the task-priority register), which MOV to/from CR8 reach through CR8-load/store exiting.
    public var taskPriority: UInt8 = 0
    /// Emulated MSRs (TSC offset, APIC_BASE, MTRRs, ...) and refused accesses (MSRPolicyTable).
    public var msrs: GuestMSRs

    public init(vpid: UInt16, cr0Fixed: FixedBits, cr4Fixed: FixedBits, entryControls: VMEntryControls,
                supportedXCR0: UInt64, msrs: GuestMSRs) {
        self.vpid = vpid
        self.cr0Fixed = cr0Fixed
        self.cr4Fixed = cr4Fixed
        self.entryControls = entryControls
        self.supportedXCR0 = supportedXCR0
        self.msrs = msrs
    }
}
