import X86
import VTx
import Machine

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
// computes without exiting still sees its timer interrupts on time.
//
// The common case - nothing pending - is the timer write and two compares.

enum InterruptDelivery {
    @inline(__always)
    static func beforeEntry(_ vm: UnsafeMutablePointer<VirtualMachine>, now: UInt64 = rdtsc()) {
        vm.pointee.pc.update(tsc: now)
        armTimer(vm, now: now)
        if vm.pointee.pc.interruptPending || vm.pointee.interruptWindowRequested {
            slowPath(vm, now: now)
        }
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

    /// Preemption timer = host wall time until the turn ends or the next device timer, whichever
    /// is first, re-armed on every entry: it counts guest time only, so it never fires before the
    /// deadline, and the exit path ends the turn at the first exit past it.
    @inline(__always)
    static func armTimer(_ vm: UnsafeMutablePointer<VirtualMachine>, now: UInt64) {
        let deviceDeadline = vm.pointee.pc.nextTimerTSC
        let deadline = min(vm.pointee.sliceEndTSC, deviceDeadline)
        let ticks = deadline > now ? (deadline - now) >> UInt64(vm.pointee.preemptionTimerRate) : 0
        vmwriteFast(.vmxPreemptionTimerValue, min(ticks, 0xFFFF_FFFF))
    }

    static func setInterruptWindowExiting(_ vm: UnsafeMutablePointer<VirtualMachine>, _ on: Bool) {
        if on { vm.pointee.procBasedControls.insert(.interruptWindowExiting) }
        else { vm.pointee.procBasedControls.remove(.interruptWindowExiting) }
        vm.pointee.interruptWindowRequested = on
        vmwriteFast(.procBasedControls, UInt64(vm.pointee.procBasedControls.rawValue))
    }

    /// An exit that interrupted the delivery of an event (IDT-vectoring information
    /// valid, SDM Vol. 3C §28.2.4): deliver it again on the next entry, or it is lost.
    static func reinjectInterruptedEvent() {
        let info = vmreadFast(.idtVectoringInformation)
        guard info & UInt64(InterruptionInfo.validBit) != 0 else { return }
        let event = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: info) & ~InterruptionInfo.nmiUnblockingBit)
        if event.deliversErrorCode { vmwriteFast(.vmEntryExceptionErrorCode, vmreadFast(.idtVectoringErrorCode)) }
        if event.needsInstructionLength { vmwriteFast(.vmEntryInstructionLength, vmreadFast(.vmExitInstructionLength)) }
        vmwriteFast(.vmEntryInterruptionInformation, UInt64(event.rawValue))
    }
}
