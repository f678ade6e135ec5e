import VTx
import VMX

// The kernel's view of the VMX engine's guest operations (Sources/VMX/GuestEvents.swift and
// GuestRegisters.swift) on this processor, for the handlers not yet moved into Sources/VMX
// (string I/O, MMIO, interrupt delivery): the same code, specialized for HardwareVMCS.
typealias GuestRegisters = VMX.GuestRegisters

enum Guest {
    @inline(__always) static func skipInstruction() { GuestEvents.skipInstruction(HardwareVMCS()) }
    @inline(__always) static func inject(_ info: InterruptionInfo, errorCode: UInt32 = 0) {
        GuestEvents.inject(HardwareVMCS(), info, errorCode: errorCode)
    }
    @inline(__always) static func injectGeneralProtection() { GuestEvents.injectGeneralProtection(HardwareVMCS()) }
}

extension VMX.GuestRegisters {
    /// Register by the SDM's 4-bit GPR number (4 = RSP, in the VMCS).
    subscript(number: Int) -> UInt64 {
        get { value(GeneralPurposeRegister(number: UInt64(number)), HardwareVMCS()) }
        set { set(GeneralPurposeRegister(number: UInt64(number)), newValue, HardwareVMCS()) }
    }
}
