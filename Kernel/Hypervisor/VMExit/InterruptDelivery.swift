import X86
import VTx
import Machine
import VMX

// Getting the virtual PIC's interrupts into the guest (SDM Vol. 3C §26.6, §27.2).
//
// Before every entry: bring the VM's device timers up to now; if the PIC asks
// for an interrupt and the guest can take one - RFLAGS.IF = 1, no blocking by
// STI or MOV SS, no other event being injected - acknowledge it (INTA) and
// inject it through the VM-entry interruption-information field. If the guest
// cannot take it yet, turn on interrupt-window exiting: the CPU exits as soon
// as the guest opens the window, and we inject then.
//
// The VMX-preemption timer is armed for whichever comes first: the end of the
// VM's turn or its next device timer (the PIT's next IRQ0), so a guest that
// computes without exiting still sees its timer interrupts on time; past the
// end of its turn the VM yields instead of entering.
//
// The common case - nothing pending - is the timer write and a few compares.

enum InterruptDelivery {
    /// Before every entry: device timers, the preemption timer, a pending interrupt. False when
    /// the VM's turn is over (host wall time past its slice end): it yields instead of entering.
    @inline(__always)
    static func beforeEntry(_ vm: UnsafeMutablePointer<VirtualMachine>, now: UInt64 = rdtsc()) -> Bool {
        vm.pointee.pc.update(tsc: now)
        // The VMX-preemption timer counts guest time only, so it is re-armed on every entry from
        // the host wall time left until the turn ends or the next device timer, whichever is
        // first: exit handling is charged to the turn. A turn is at most 2^32 - 1 ticks
        // (CPUShare.maxTurn), so the count fits the timer's 32 bits at any rate.
        let deadline = min(vm.pointee.sliceEndTSC, vm.pointee.pc.nextTimerTSC)
        var ticks: UInt64 = 0
        if now < deadline {
            ticks = (deadline &- now) &>> UInt64(truncatingIfNeeded: vm.pointee.preemptionTimerRate)
        } else if now >= vm.pointee.sliceEndTSC {
            vm.pointee.yielded = true
            return false
        }
        vmwriteFast(.vmxPreemptionTimerValue, ticks)
        if vm.pointee.pc.interruptPending || vm.pointee.interruptWindowRequested {
            slowPath(vm, now: now)
        }
        return true
    }

    static func slowPath(_ vm: UnsafeMutablePointer<VirtualMachine>, now: UInt64) {
        guard vm.pointee.pc.interruptPending else {
            if vm.pointee.interruptWindowRequested { setInterruptWindowExiting(vm, false) }
            return
        }
        let injecting = vmreadFast(.vmEntryInterruptionInformation) & UInt64(InterruptionInfo.validBit) != 0
        let interruptsEnabled = vmreadFast(.guestRFLAGS) & RFLAGS.`if`.rawValue != 0
        let blocked = vmreadFast(.guestInterruptibilityState) & 3 != 0     // STI or MOV SS blocking
        if !injecting && interruptsEnabled && !blocked {
            let vector = vm.pointee.pc.acknowledge()
            Guest.inject(.externalInterrupt(vector: vector))
            vm.pointee.halted = false
            if vm.pointee.interruptWindowRequested { setInterruptWindowExiting(vm, false) }
        } else if !vm.pointee.interruptWindowRequested {
            setInterruptWindowExiting(vm, true)
        }
    }

    static func setInterruptWindowExiting(_ vm: UnsafeMutablePointer<VirtualMachine>, _ on: Bool) {
        if on { vm.pointee.procBasedControls.insert(.interruptWindowExiting) }
        else { vm.pointee.procBasedControls.remove(.interruptWindowExiting) }
        vm.pointee.interruptWindowRequested = on
        vmwriteFast(.procBasedControls, UInt64(vm.pointee.procBasedControls.rawValue))
    }

    /// An exit that interrupted the delivery of an event (IDT-vectoring information
    /// valid, SDM Vol. 3C §28.2.4): deliver it again on the next entry, or it is lost.
    /// (Sources/VMX/EventReinjection.swift.)
    @inline(__always)
    static func reinjectInterruptedEvent() { EventReinjection.reinjectInterruptedEvent(HardwareVMCS()) }
}
