import X86
import Machine
import VMX

// The guest's control state (Sources/VMX/GuestControlState.swift) read from this processor's
// current VMCS, for the handlers not yet moved into Sources/VMX.
enum GuestControlState {
    @inline(__always) static var maxPhysicalAddressBits: Int { VMX.GuestControlState.maxPhysicalAddressBits }
    static func configure() { VMX.GuestControlState.configure(HardwareVMCS()) }
    @inline(__always) static func cr0() -> UInt64 { VMX.GuestControlState.cr0(HardwareVMCS()) }
    @inline(__always) static func cr4() -> UInt64 { VMX.GuestControlState.cr4(HardwareVMCS()) }
    @inline(__always) static func cpl() -> Int { VMX.GuestControlState.cpl(HardwareVMCS()) }
    static func registers() -> ControlRegisterState { VMX.GuestControlState.registers(HardwareVMCS()) }
    static func paging() -> GuestPagingState { VMX.GuestControlState.paging(HardwareVMCS()) }
}
