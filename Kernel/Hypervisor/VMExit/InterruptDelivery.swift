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
    /// Before every entry: device timers, the preemption timer, a pending interrupt or signal. False
    /// when the vCPU must leave instead of entering: its turn is over (host wall time past its slice
    /// end), it sent an IPI to a sibling and gives way, or INIT put it in wait-for-SIPI.
    @inline(__always)
    static func beforeEntry(_ vcpu: UnsafeMutablePointer<VCPU>, now: UInt64 = rdtsc()) -> Bool {
        let pc = vcpu.pointee.pcStorage             // in a register across the VMWRITE below
        pc.pointee.update(tsc: now)
        // The turn ends by host wall time, exit handling included: checked on every exit.
        if now >= vcpu.pointee.sliceEndTSC {
            vcpu.pointee.yielded = true
            return false
        }
        // The VMX-preemption timer is armed for the end of the turn or the next device timer,
        // whichever is first, from the wall time left - and only when that deadline moved. It
        // counts guest time only (and is saved on exit where the CPU can), so it may fire late by
        // the exit handling since it was armed; every exit brings the device timers up to date
        // and checks the turn's end itself, so nothing waits for it. A timer exit re-arms it
        // (ExitHandler). A turn is at most 2^32 - 1 ticks (CPUShare.maxTurn): the count fits.
        let deadline = min(vcpu.pointee.sliceEndTSC, pc.pointee.nextTimerTSC)
        if deadline != vcpu.pointee.armedDeadline {
            vcpu.pointee.armedDeadline = deadline
            let ticks = now < deadline ? (deadline &- now) &>> UInt64(truncatingIfNeeded: vcpu.pointee.preemptionTimerRate) : 0
            vmwriteFast(.vmxPreemptionTimerValue, ticks)
        }
        let bit = vcpu.pointee.bit
        if pc.pointee.attentionVCPUs & bit != 0 || vcpu.pointee.interruptWindowRequested {
            return slowPath(vcpu, bit: bit)
        }
        return true
    }

    static func slowPath(_ vcpu: UnsafeMutablePointer<VCPU>, bit: UInt8) -> Bool {
        if let page = vcpu.pointee.virtualAPICPage {
            // APIC virtualization: first the guest's TPR, which it changes on the page without an
            // exit, into the model; then the model, if it changed, onto the page (VirtualAPICPage).
            let index = vcpu.pointee.index
            let vtpr = VirtualAPICPage.taskPriority(page)
            if vtpr != vcpu.pointee.pc.lapics[index].tpr { vcpu.pointee.pc.takeVirtualTaskPriority(vtpr, vcpu: index) }
            if vcpu.pointee.pc.staleAPICPages & bit != 0 {
                vcpu.pointee.pc.lapics[index].mirror(into: page)
                vcpu.pointee.pc.apicPageMirrored(vcpu: index)
            }
        }
        if vcpu.pointee.pc.signalledVCPUs & bit != 0 {
            let signals = vcpu.pointee.pc.takeSignals(vcpu: vcpu.pointee.index)
            if signals.initialization && vcpu.pointee.index != 0 {
                // INIT (SDM Vol. 3A §8.4.4): an AP waits for a start-up IPI; the scheduler holds it
                // and loads the real-mode start state when one comes. (INIT sends the BSP to the
                // firmware's reset vector, and these VMs have no firmware: the BSP ignores it.)
                vcpu.pointee.run = .waitingForStartup
                vcpu.pointee.startupVector = signals.startupVector
                return false
            }
            if signals.nmi { deliverNMI(vcpu) }
            if signals.sentIPI && vcpu.pointee.machine.pointee.vcpuCount > 1 {
                // The target usually has to answer before this vCPU can go on: let it run now.
                vcpu.pointee.yielded = true
                return false
            }
        }
        guard vcpu.pointee.pc.interruptPending(vcpu: vcpu.pointee.index) else {
            if vcpu.pointee.interruptWindowRequested { setInterruptWindowExiting(vcpu, false) }
            return true
        }
        let injecting = vmreadFast(.vmEntryInterruptionInformation) & UInt64(InterruptionInfo.validBit) != 0
        let interruptsEnabled = vmreadFast(.guestRFLAGS) & RFLAGS.`if`.rawValue != 0
        let blocked = vmreadFast(.guestInterruptibilityState) & 3 != 0     // STI or MOV SS blocking
        if !injecting && interruptsEnabled && !blocked {
            let vector = vcpu.pointee.pc.acknowledge(vcpu: vcpu.pointee.index)
            Guest.inject(.externalInterrupt(vector: vector))
            vcpu.pointee.halted = false
            if vcpu.pointee.interruptWindowRequested { setInterruptWindowExiting(vcpu, false) }
        } else if !vcpu.pointee.interruptWindowRequested {
            setInterruptWindowExiting(vcpu, true)
        }
        return true
    }

    /// An NMI IPI (SDM Vol. 3C §26.6.1.1): injected unless another event is being injected or NMIs
    /// are blocked (interruptibility bit 3), in which case it is dropped, as a second NMI during an
    /// NMI handler is on one CPU only when a first is already latched. Linux sends NMIs only for
    /// backtraces and the watchdog.
    private static func deliverNMI(_ vcpu: UnsafeMutablePointer<VCPU>) {
        let injecting = vmreadFast(.vmEntryInterruptionInformation) & UInt64(InterruptionInfo.validBit) != 0
        guard !injecting, vmreadFast(.guestInterruptibilityState) & (1 << 3) == 0 else { return }
        Guest.inject(InterruptionInfo(vector: 2, type: .nmi))
        vcpu.pointee.halted = false
    }

    static func setInterruptWindowExiting(_ vcpu: UnsafeMutablePointer<VCPU>, _ on: Bool) {
        if on { vcpu.pointee.procBasedControls.insert(.interruptWindowExiting) }
        else { vcpu.pointee.procBasedControls.remove(.interruptWindowExiting) }
        vcpu.pointee.interruptWindowRequested = on
        vmwriteFast(.procBasedControls, UInt64(vcpu.pointee.procBasedControls.rawValue))
    }

    /// An exit that interrupted the delivery of an event (IDT-vectoring information
    /// valid, SDM Vol. 3C §28.2.4): deliver it again on the next entry, or it is lost.
    /// (Sources/VMX/EventReinjection.swift.)
    @inline(__always)
    static func reinjectInterruptedEvent() { EventReinjection.reinjectInterruptedEvent(HardwareVMCS()) }
}
