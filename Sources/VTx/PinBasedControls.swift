// Pin-based VM-execution controls (SDM Vol. 3C §25.6.1, Table 25-5).

import X86

/// Pin-based VM-execution controls (SDM Vol. 3C §25.6.1, Table 25-5).
public struct PinBasedControls: VMXControlSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static var kind: VMXControlKind { .pinBased }

    /// Bit 0: external-interrupt exiting.
    public static let externalInterruptExiting = PinBasedControls(rawValue: 1 << 0)
    /// Bit 3: NMI exiting.
    public static let nmiExiting = PinBasedControls(rawValue: 1 << 3)
    /// Bit 5: virtual NMIs.
    public static let virtualNMIs = PinBasedControls(rawValue: 1 << 5)
    /// Bit 6: activate VMX-preemption timer.
    public static let activateVMXPreemptionTimer = PinBasedControls(rawValue: 1 << 6)
    /// Bit 7: process posted interrupts.
    public static let processPostedInterrupts = PinBasedControls(rawValue: 1 << 7)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "external-interrupt exiting"
        case 3: return "NMI exiting"
        case 5: return "virtual NMIs"
        case 6: return "activate VMX-preemption timer"
        case 7: return "process posted interrupts"
        default: return nil
        }
    }
}
