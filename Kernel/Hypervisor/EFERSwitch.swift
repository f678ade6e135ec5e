import X86
import VTx

// IA32_EFER on a processor without the "load/save IA32_EFER" VM-exit and VM-entry controls (Core 2,
// Bochs `core2_penryn_t9600`): the guest's EFER goes in through the VM-entry MSR-load
// area and comes back through the VM-exit MSR-store area, which are the same 16-byte entry, and the
// host's is restored by the VM-exit MSR-load area (SDM Vol. 3C §25.7.2, §25.8.2, §27.4, §28.6).
// The VMCS then has no guest IA32_EFER field: HardwareVMCS reads and writes the entry instead, found
// through the VMCS's own VM-exit MSR-store address, so every handler keeps reading `.guestIA32EFER`.
//
// One frame per vCPU: the guest entry at offset 0, the host entry at 16 (index, reserved, value).

enum EFERSwitch {
    /// Set once the controls of the first VM are known: the CPU lacks the EFER controls.
    nonisolated(unsafe) static var viaMSRAreas = false

    /// The guest EFER entry's value (the VMCS current).
    @inline(__always) static var guestValue: UnsafeMutablePointer<UInt64> {
        physicalPointer(vmreadFast(.vmExitMSRStoreAddress) &+ 8).assumingMemoryBound(to: UInt64.self)
    }

    /// Points the current VMCS's MSR areas at `frame`, with the guest's EFER `efer` and the host's own.
    static func install(_ vmcs: VMCS, frame: UInt64, efer: UInt64) throws(VMXError) {
        let entries = physicalPointer(frame).assumingMemoryBound(to: UInt64.self)
        entries[0] = UInt64(MSR.ia32EFER)
        entries[1] = efer
        entries[2] = UInt64(MSR.ia32EFER)
        entries[3] = rdmsr(MSR.ia32EFER)
        try vmcs.write(.vmEntryMSRLoadAddress, frame)
        try vmcs.write(.vmEntryMSRLoadCount, 1)
        try vmcs.write(.vmExitMSRStoreAddress, frame)
        try vmcs.write(.vmExitMSRStoreCount, 1)
        try vmcs.write(.vmExitMSRLoadAddress, frame + 16)
        try vmcs.write(.vmExitMSRLoadCount, 1)
    }
}
