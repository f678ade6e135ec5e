import X86
import VTx

/// What the VMX engine needs from the processor, and nothing more: the current VMCS,
/// the host's CPUID and XSETBV, TLB invalidation and time. The kernel's conformer
/// (Kernel/Hypervisor/HardwareVMCS.swift) executes VMREAD/VMWRITE; the unit tests'
/// (Tests/VMXTests/FakeVMCS.swift) is a dictionary of fields. Handlers are generic
/// over it, so the kernel's exit path is specialized to plain instructions: no
/// existential, no indirect call.
public protocol VMXHardware {
    /// VMREAD of the current VMCS (SDM Vol. 3C §31.3).
    func read(_ field: VMCSField) -> UInt64
    /// VMWRITE to the current VMCS.
    func write(_ field: VMCSField, _ value: UInt64)
    /// The host processor's CPUID (SDM Vol. 2A CPUID).
    func hostCPUID(_ leaf: UInt32, _ subleaf: UInt32) -> CPUIDResult
    /// XSETBV of XCR0 behind a fault fixup: false when the processor raised #GP.
    func setXCR0(_ value: UInt64) -> Bool
    /// INVVPID single-context (SDM Vol. 3C §29.4.3.3): drop the guest's cached translations.
    func invalidateVPID(_ vpid: UInt16)
    /// The host TSC.
    func timestamp() -> UInt64
    /// Loads the guest's CR2 for a #PF about to be injected: CR2 is not in the VMCS, the guest's
    /// is the processor's own while it runs (the hypervisor takes no page fault between exit and entry).
    func setGuestCR2(_ value: UInt64)
    /// Where the CPU has no VMX-preemption timer: a host timer that ends the guest's run at
    /// `deadline` (TSC) with an NMI exit (the kernel's HostTimer: the host PIT through the I/O APIC).
    func armHostTimer(deadline: UInt64, now: UInt64)
}
