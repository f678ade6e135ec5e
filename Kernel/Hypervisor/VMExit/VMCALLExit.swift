import VTx
import Machine
import VMX

// VMCALL: the hypercall ABI of docs/hypercalls.md, shared with the hosted engine
// (Sources/Machine/Hypercall.swift checks every guest pointer against guest RAM).
enum VMCALLExit {
    @inline(__always)
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        // Hypercalls are the guest kernel's: from CPL > 0 (SS.DPL, SDM Vol. 3A §5.5) VMCALL is #UD.
        if vmreadFast(.guestSSAccessRights) & (3 << 5) != 0 {
            Guest.inject(.hardwareException(vector: 6, hasErrorCode: false))
            return true
        }
        // Outside 64-bit mode the upper halves of the registers are undefined (SDM Vol. 1 §3.4.1.1):
        // use only their low 32 bits, as a 32-bit or 16-bit guest means.
        let wide = vm.pointee.cpu.entryControls.contains(.ia32eModeGuest)
            && vmreadFast(.guestCSAccessRights) & (1 << 13) != 0      // CS.L: 64-bit code, not compatibility mode
        let mask: UInt64 = wide ? ~0 : 0xFFFF_FFFF
        var call = HypercallRegisters(rax: regs.pointee.rax & mask, rbx: regs.pointee.rbx & mask, rcx: regs.pointee.rcx & mask,
                                      rdx: regs.pointee.rdx & mask, rsi: regs.pointee.rsi & mask)
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
