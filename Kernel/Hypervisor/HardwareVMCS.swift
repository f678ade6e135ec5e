import X86
import VTx
import VMX

/// The VMX engine's hardware (Sources/VMX/VMXHardware.swift) on this processor: VMREAD/VMWRITE
/// of the current VMCS, CPUID, XSETBV behind its fault fixup, INVVPID, RDTSC. A value with no
/// state: the handlers are specialized for it, so every call below is inlined into the exit path.
struct HardwareVMCS: VMXHardware {
    @inline(__always) func read(_ field: VMCSField) -> UInt64 {
        if field == .guestIA32EFER && EFERSwitch.viaMSRAreas { return EFERSwitch.guestValue.pointee }
        return vmreadFast(field)
    }
    @inline(__always) func write(_ field: VMCSField, _ value: UInt64) {
        if field == .guestIA32EFER && EFERSwitch.viaMSRAreas { EFERSwitch.guestValue.pointee = value; return }
        vmwriteFast(field, value)
    }
    @inline(__always) func hostCPUID(_ leaf: UInt32, _ subleaf: UInt32) -> CPUIDResult {
        let r = cpuid(leaf, subleaf)
        return CPUIDResult(eax: r.eax, ebx: r.ebx, ecx: r.ecx, edx: r.edx)
    }
    @inline(__always) func setXCR0(_ value: UInt64) -> Bool { guarded_xsetbv(0, value) == 0 }
    @inline(__always) func invalidateVPID(_ vpid: UInt16) { try? VMXInstruction.invvpid(singleContext: vpid) }
    @inline(__always) func timestamp() -> UInt64 { rdtsc() }
    @inline(__always) func setGuestCR2(_ value: UInt64) { write_cr2(value) }
    @inline(__always) func armHostTimer(deadline: UInt64, now: UInt64) { HostTimer.arm(deadline: deadline, now: now) }
}
