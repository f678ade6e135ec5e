import X86
import VTx
import VMX

/// A VMCS in a dictionary, for exit-handler tests in the style of Firecracker's
/// handle_kvm_exit tests: set the exit's fields, call the handler, read back what it
/// wrote. A class, so the handlers' non-mutating `read`/`write` share one store.
final class FakeVMCS: VMXHardware {
    var fields: [VMCSField: UInt64] = [:]
    /// Every VMWRITE, in order.
    var writes: [(VMCSField, UInt64)] = []
    /// The host CPUID the handlers see (leaf << 32 | subleaf); absent leaves read as zero.
    var cpuidLeaves: [UInt64: CPUIDResult] = [:]
    /// What XSETBV does: nil = accept, else the processor raises #GP.
    var xsetbvFaults = false
    var xcr0Written: [UInt64] = []
    var invalidatedVPIDs: [UInt16] = []
    var tsc: UInt64 = 1_000_000

    func read(_ field: VMCSField) -> UInt64 { fields[field] ?? 0 }
    func write(_ field: VMCSField, _ value: UInt64) {
        fields[field] = value
        writes.append((field, value))
    }
    func hostCPUID(_ leaf: UInt32, _ subleaf: UInt32) -> CPUIDResult {
        cpuidLeaves[UInt64(leaf) << 32 | UInt64(subleaf)] ?? CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 0)
    }
    func setXCR0(_ value: UInt64) -> Bool {
        if xsetbvFaults { return false }
        xcr0Written.append(value)
        return true
    }
    func invalidateVPID(_ vpid: UInt16) { invalidatedVPIDs.append(vpid) }
    func timestamp() -> UInt64 { tsc }
    /// The guest's CR2 as the handlers loaded it (nil: untouched).
    var cr2: UInt64?
    func setGuestCR2(_ value: UInt64) { cr2 = value }
    /// The host-timer deadlines armed (a CPU without the VMX-preemption timer).
    var hostTimerDeadlines: [UInt64] = []
    func armHostTimer(deadline: UInt64, now: UInt64) { hostTimerDeadlines.append(deadline) }

    // MARK: the state an exit hands over

    /// An exit at `rip` of an instruction `length` bytes long.
    init(rip: UInt64 = 0x1000, length: UInt64 = 2) {
        fields[.guestRIP] = rip
        fields[.vmExitInstructionLength] = length
        fields[.guestRFLAGS] = 0x2
    }

    /// The written value of one field, nil when the handler did not write it.
    func written(_ field: VMCSField) -> UInt64? { writes.last { $0.0 == field }?.1 }

    /// The event the handler queued for the next entry, if any.
    var injected: InterruptionInfo? {
        written(.vmEntryInterruptionInformation).map { InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: $0)) }
    }

    var injectedErrorCode: UInt64? { written(.vmEntryExceptionErrorCode) }

    /// Guest CR0/CR4 as a guest that owns no bits sees them (mask 0).
    func setCR0(_ value: UInt64, mask: UInt64 = 0, shadow: UInt64 = 0) {
        fields[.guestCR0] = value; fields[.cr0GuestHostMask] = mask; fields[.cr0ReadShadow] = shadow
    }
    func setCR4(_ value: UInt64, mask: UInt64 = 0, shadow: UInt64 = 0) {
        fields[.guestCR4] = value; fields[.cr4GuestHostMask] = mask; fields[.cr4ReadShadow] = shadow
    }
}

extension VCPUState {
    /// A vCPU with Bochs' fixed bits (shared/facts: CR0 fixed0 PE|NE|PG relaxed by unrestricted guest).
    static func test(vpid: UInt16 = 1, supportedXCR0: UInt64 = 0x7) -> VCPUState {
        VCPUState(vpid: vpid,
                  cr0Fixed: FixedBits(fixed0: 0x20, fixed1: 0xFFFF_FFFF),
                  cr4Fixed: FixedBits(fixed0: 0x2000, fixed1: 0x3727FF),
                  entryControls: [], supportedXCR0: supportedXCR0,
                  msrs: GuestMSRs(file: VirtualMSRFile(maxPhysicalAddressBits: 39, platformRatio: 20)))
    }
}
