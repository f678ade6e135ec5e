import VTx
import Machine
import VMX

// VMCALL: Sources/VMX/VMCALLExit.swift on this processor, with the VM's hypercall console; a
// `shutdown` hypercall stops the VM.
enum GuestVMCALL {
    @inline(__always)
    static func handle(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        let outcome = VMCALLExit.handle(HardwareVMCS(), &regs.pointee,
                                        ia32eModeGuest: vcpu.pointee.cpu.entryControls.contains(.ia32eModeGuest),
                                        memory: vcpu.pointee.memory, console: &vcpu.pointee.machine.pointee.hypercalls)
        guard case .shutdown(let code) = outcome else { return true }
        vcpu.pointee.machine.pointee.hypercalls.output.flush()
        vcpu.pointee.stop = .shutdown(code: code)
        return false
    }
}
