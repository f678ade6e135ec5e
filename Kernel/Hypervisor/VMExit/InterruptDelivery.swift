import X86
import VTx
import Machine
import VMX

// Before every entry of a vCPU (SDM Vol. 3C §26.6, §27.2): the device timers, the turn's end and
// the VMX-preemption timer (Sources/VMX/EntryTiming.swift). Then, only when the PC flags this
// vCPU (an interrupt pending, an INIT/SIPI/NMI or IPI signal, a stale virtual-APIC page) or
// interrupt-window exiting is on, the slow path: signals, the virtual-APIC page, and InterruptInjection (Sources/VMX, unit-tested),
// which injects the interrupt or waits for the guest's interrupt window.
//
// The common case - nothing pending - is a few compares.

enum InterruptDelivery {
    /// Before every entry: device timers, the preemption timer, a pending interrupt or signal. False
    /// when the vCPU must leave instead of entering: its turn is over (host wall time past its slice
    /// end), it sent an IPI to a sibling and gives way, or INIT put it in wait-for-SIPI.
    @inline(__always)
    static func beforeEntry(_ vcpu: UnsafeMutablePointer<VCPU>, now: UInt64 = rdtsc()) -> Bool {
        let pc = vcpu.pointee.pcStorage             // in a register across the VMWRITE
        guard EntryTiming.beforeEntry(HardwareVMCS(), pc: &pc.pointee, now: now, sliceEnd: vcpu.pointee.sliceEndTSC,
                                      armedDeadline: &vcpu.pointee.armedDeadline, preemptionTimer: vcpu.pointee.hasPreemptionTimer,
                                      rate: vcpu.pointee.preemptionTimerRate) else {
            vcpu.pointee.yielded = true
            return false
        }
        let bit = vcpu.pointee.bit
        if pc.pointee.attentionVCPUs & bit != 0 || vcpu.pointee.procBasedControls.contains(.interruptWindowExiting) {
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
            if signals.nmi && InterruptInjection.deliverNMI(HardwareVMCS()) { vcpu.pointee.halted = false }
            if signals.sentIPI && vcpu.pointee.machine.pointee.vcpuCount > 1 {
                // The target usually has to answer before this vCPU can go on: let it run now.
                vcpu.pointee.yielded = true
                return false
            }
        }
        if case .injected = InterruptInjection.deliver(HardwareVMCS(), pc: &vcpu.pointee.pc, vcpu: vcpu.pointee.index,
                                                       controls: &vcpu.pointee.procBasedControls) {
            vcpu.pointee.halted = false
        }
        return true
    }

    /// An exit that interrupted the delivery of an event (IDT-vectoring information
    /// valid, SDM Vol. 3C §28.2.4): deliver it again on the next entry, or it is lost.
    /// (Sources/VMX/EventReinjection.swift.)
    @inline(__always)
    static func reinjectInterruptedEvent() { EventReinjection.reinjectInterruptedEvent(HardwareVMCS()) }
}
