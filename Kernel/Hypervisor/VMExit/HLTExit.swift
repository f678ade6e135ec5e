import X86
import Machine
import VTx

// HLT (SDM Vol. 3C §26.1.3, HLT exiting on): the guest waits for an interrupt.
// - With interrupts disabled nothing can wake it: it is stopped for good.
// - With one already pending, it resumes at once and takes it.
// - With a device timer armed, it leaves the CPU until that time (the scheduler
//   runs other VMs, or waits), then takes the timer's interrupt.
// - With no interrupt source at all, it would sleep forever: stopped and reported.
enum HLTExit {
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>) -> Bool {
        let interruptsEnabled = vmreadFast(.guestRFLAGS) & RFLAGS.`if`.rawValue != 0
        guard interruptsEnabled else {
            vm.pointee.stop = .halted(interruptsEnabled: false)
            return false
        }
        Guest.skipInstruction()
        vm.pointee.pc.update(tsc: rdtsc())
        if vm.pointee.pc.interruptPending { return true }
        if vm.pointee.pc.nextTimerTSC == .max {
            vm.pointee.stop = .halted(interruptsEnabled: true)
            return false
        }
        vm.pointee.halted = true
        return false
    }
}
