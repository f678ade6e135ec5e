import X86
import VTx
import Machine

/// VMCALL (SDM Vol. 3C §26.1.2: exits unconditionally): the hypercall ABI of docs/hypercalls.md,
/// shared with a hosted engine (Sources/Machine/Hypercall.swift checks every guest pointer against
/// guest RAM). From CPL > 0 it is #UD (VMCALLOperands); outside 64-bit code only the low 32 bits
/// of the operands count. The result goes to RAX and RIP moves past the VMCALL.
public enum VMCALLExit {
    public enum Outcome: Equatable {
        /// Resume the guest (also after #UD for a user-mode VMCALL).
        case resume
        /// The guest asked to stop (`shutdown`).
        case shutdown(code: UInt64)
    }

    @inline(__always)
    public static func handle<H: VMXHardware, Console: HypercallConsole>(
        _ hw: H, _ regs: inout GuestRegisters, ia32eModeGuest: Bool, memory: GuestMemory, console: inout Console
    ) -> Outcome {
        guard var call = VMCALLOperands.read(hw, &regs, ia32eModeGuest: ia32eModeGuest) else { return .resume }
        let outcome = Hypercall.handle(&call, memory: memory, console: &console)
        regs.rax = call.rax
        GuestEvents.skipInstruction(hw)
        if case .shutdown(let code) = outcome { return .shutdown(code: code) }
        return .resume
    }
}
