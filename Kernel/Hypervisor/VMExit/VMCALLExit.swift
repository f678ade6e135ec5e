import VTx
import Machine
import VMX

// VMCALL: the hypercall ABI of docs/hypercalls.md, shared with the hosted engine
// (Sources/Machine/Hypercall.swift checks every guest pointer against guest RAM).
enum VMCALLExit {
    @inline(__always)
    static func handle(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        // CPL > 0 is #UD; outside 64-bit code only the low 32 bits count (Sources/VMX/VMCALLOperands.swift).
        guard var call = VMCALLOperands.read(HardwareVMCS(), &regs.pointee,
                                              ia32eModeGuest: vcpu.pointee.cpu.entryControls.contains(.ia32eModeGuest))
        else { return true }
        let outcome = Hypercall.handle(&call, memory: vcpu.pointee.memory, console: &vcpu.pointee.machine.pointee.hypercalls)
        regs.pointee.rax = call.rax
        Guest.skipInstruction()
        if case .shutdown(let code) = outcome {
            vcpu.pointee.machine.pointee.hypercalls.output.flush()
            vcpu.pointee.stop = .shutdown(code: code)
            return false
        }
        return true
    }
}
