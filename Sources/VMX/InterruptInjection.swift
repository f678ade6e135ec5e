import X86
import VTx
import Machine

/// Getting a virtual PC's interrupts into a vCPU at VM entry (SDM Vol. 3C §26.6, §27.2).
///
/// If the vCPU has an interrupt pending (its local APIC's highest deliverable vector, or the 8259's
/// INTR through the BSP's LINT0) and the guest can take one - RFLAGS.IF = 1, no blocking by STI or
/// MOV SS, no other event being injected - it is acknowledged (INTA) and injected through the
/// VM-entry interruption-information field. If the guest cannot take it yet, interrupt-window
/// exiting goes on: the CPU exits as soon as the guest opens the window, and it is injected then.
/// Whether interrupt-window exiting is on is one bit, in the primary controls the vCPU last wrote.
public enum InterruptInjection {
    public enum Outcome: Equatable {
        /// Nothing pending for this vCPU (interrupt-window exiting is off now).
        case nothingPending
        /// Acknowledged: the vector goes in with this entry (interrupt-window exiting off).
        case injected(vector: UInt8)
        /// Pending, but the guest cannot take it now: interrupt-window exiting is on.
        case waitingForWindow
    }

    /// The guest can take an external interrupt at this entry.
    @inline(__always)
    public static func canTakeInterrupt<H: VMXHardware>(_ hw: H) -> Bool {
        let injecting = hw.read(.vmEntryInterruptionInformation) & UInt64(InterruptionInfo.validBit) != 0
        let interruptsEnabled = hw.read(.guestRFLAGS) & RFLAGS.`if`.rawValue != 0
        let blocked = hw.read(.guestInterruptibilityState) & 3 != 0     // STI or MOV SS blocking
        return !injecting && interruptsEnabled && !blocked
    }

    public static func deliver<H: VMXHardware, C: ByteSink, D: ByteSink, S: BlockStorage>(
        _ hw: H, pc: inout VirtualPC<C, D, S>, vcpu: Int, controls: inout PrimaryProcessorBasedControls
    ) -> Outcome {
        guard pc.interruptPending(vcpu: vcpu) else {
            setWindowExiting(hw, false, &controls)
            return .nothingPending
        }
        guard canTakeInterrupt(hw) else {
            setWindowExiting(hw, true, &controls)
            return .waitingForWindow
        }
        let vector = pc.acknowledge(vcpu: vcpu)
        GuestEvents.inject(hw, .externalInterrupt(vector: vector))
        setWindowExiting(hw, false, &controls)
        return .injected(vector: vector)
    }

    /// An NMI (an NMI IPI, SDM Vol. 3C §26.6.1.1): injected unless another event is being injected
    /// or NMIs are blocked (interruptibility bit 3), in which case it is dropped, as a second NMI
    /// during an NMI handler is on one CPU only when a first is already latched. Returns whether
    /// it went in.
    public static func deliverNMI<H: VMXHardware>(_ hw: H) -> Bool {
        let injecting = hw.read(.vmEntryInterruptionInformation) & UInt64(InterruptionInfo.validBit) != 0
        guard !injecting, hw.read(.guestInterruptibilityState) & (1 << 3) == 0 else { return false }
        GuestEvents.inject(hw, InterruptionInfo(vector: 2, type: .nmi))
        return true
    }

    /// The VMX-preemption timer's count for `deadline` (TSC) from `now`, at one count per
    /// 2^`rate` TSC ticks (IA32_VMX_MISC bits 4:0); 0 when the deadline has passed.
    @inline(__always)
    public static func preemptionTimerCount(now: UInt64, deadline: UInt64, rate: Int) -> UInt64 {
        now < deadline ? (deadline &- now) &>> UInt64(truncatingIfNeeded: rate) : 0
    }

    /// Interrupt-window exiting on or off; the VMCS is written only when that changes.
    @inline(__always)
    static func setWindowExiting<H: VMXHardware>(_ hw: H, _ on: Bool, _ controls: inout PrimaryProcessorBasedControls) {
        guard controls.contains(.interruptWindowExiting) != on else { return }
        if on { controls.insert(.interruptWindowExiting) } else { controls.remove(.interruptWindowExiting) }
        hw.write(.procBasedControls, UInt64(controls.rawValue))
    }
}
