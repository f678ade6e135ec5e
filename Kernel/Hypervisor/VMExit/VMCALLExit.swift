import Machine

// VMCALL: the hypercall ABI of docs/hypercalls.md, shared with the hosted engine
// (Sources/Machine/Hypercall.swift checks every guest pointer against guest RAM).
enum VMCALLExit {
    @inline(__always)
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        var call = HypercallRegisters(rax: regs.pointee.rax, rbx: regs.pointee.rbx, rcx: regs.pointee.rcx,
                                      rdx: regs.pointee.rdx, rsi: regs.pointee.rsi)
        let outcome = Hypercall.handle(&call, memory: vm.pointee.memory, console: &vm.pointee.hypercalls)
        regs.pointee.rax = call.rax
        Guest.skipInstruction()
        if case .shutdown(let code) = outcome {
            vm.pointee.hypercalls.output.flush()
            vm.pointee.stop = .shutdown(code: code)
            return false
        }
        return true
    }
}
