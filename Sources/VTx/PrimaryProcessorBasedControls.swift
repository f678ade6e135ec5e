// Primary processor-based VM-execution controls (SDM Vol. 3C §25.6.2, Table 25-6).

import X86

/// Primary processor-based VM-execution controls (SDM Vol. 3C §25.6.2, Table 25-6).
public struct PrimaryProcessorBasedControls: VMXControlSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static var kind: VMXControlKind { .primaryProcessorBased }

    /// Bit 2: interrupt-window exiting.
    public static let interruptWindowExiting = PrimaryProcessorBasedControls(rawValue: 1 << 2)
    /// Bit 3: use TSC offsetting.
    public static let useTSCOffsetting = PrimaryProcessorBasedControls(rawValue: 1 << 3)
    /// Bit 7: HLT exiting.
    public static let hltExiting = PrimaryProcessorBasedControls(rawValue: 1 << 7)
    /// Bit 9: INVLPG exiting.
    public static let invlpgExiting = PrimaryProcessorBasedControls(rawValue: 1 << 9)
    /// Bit 10: MWAIT exiting.
    public static let mwaitExiting = PrimaryProcessorBasedControls(rawValue: 1 << 10)
    /// Bit 11: RDPMC exiting.
    public static let rdpmcExiting = PrimaryProcessorBasedControls(rawValue: 1 << 11)
    /// Bit 12: RDTSC exiting.
    public static let rdtscExiting = PrimaryProcessorBasedControls(rawValue: 1 << 12)
    /// Bit 15: CR3-load exiting.
    public static let cr3LoadExiting = PrimaryProcessorBasedControls(rawValue: 1 << 15)
    /// Bit 16: CR3-store exiting.
    public static let cr3StoreExiting = PrimaryProcessorBasedControls(rawValue: 1 << 16)
    /// Bit 17: activate tertiary controls.
    public static let activateTertiaryControls = PrimaryProcessorBasedControls(rawValue: 1 << 17)
    /// Bit 19: CR8-load exiting.
    public static let cr8LoadExiting = PrimaryProcessorBasedControls(rawValue: 1 << 19)
    /// Bit 20: CR8-store exiting.
    public static let cr8StoreExiting = PrimaryProcessorBasedControls(rawValue: 1 << 20)
    /// Bit 21: use TPR shadow.
    public static let useTPRShadow = PrimaryProcessorBasedControls(rawValue: 1 << 21)
    /// Bit 22: NMI-window exiting.
    public static let nmiWindowExiting = PrimaryProcessorBasedControls(rawValue: 1 << 22)
    /// Bit 23: MOV-DR exiting.
    public static let movDRExiting = PrimaryProcessorBasedControls(rawValue: 1 << 23)
    /// Bit 24: unconditional I/O exiting.
    public static let unconditionalIOExiting = PrimaryProcessorBasedControls(rawValue: 1 << 24)
    /// Bit 25: use I/O bitmaps.
    public static let useIOBitmaps = PrimaryProcessorBasedControls(rawValue: 1 << 25)
    /// Bit 27: monitor trap flag.
    public static let monitorTrapFlag = PrimaryProcessorBasedControls(rawValue: 1 << 27)
    /// Bit 28: use MSR bitmaps.
    public static let useMSRBitmaps = PrimaryProcessorBasedControls(rawValue: 1 << 28)
    /// Bit 29: MONITOR exiting.
    public static let monitorExiting = PrimaryProcessorBasedControls(rawValue: 1 << 29)
    /// Bit 30: PAUSE exiting.
    public static let pauseExiting = PrimaryProcessorBasedControls(rawValue: 1 << 30)
    /// Bit 31: activate secondary controls.
    public static let activateSecondaryControls = PrimaryProcessorBasedControls(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 2: return "interrupt-window exiting"
        case 3: return "use TSC offsetting"
        case 7: return "HLT exiting"
        case 9: return "INVLPG exiting"
        case 10: return "MWAIT exiting"
        case 11: return "RDPMC exiting"
        case 12: return "RDTSC exiting"
        case 15: return "CR3-load exiting"
        case 16: return "CR3-store exiting"
        case 17: return "activate tertiary controls"
        case 19: return "CR8-load exiting"
        case 20: return "CR8-store exiting"
        case 21: return "use TPR shadow"
        case 22: return "NMI-window exiting"
        case 23: return "MOV-DR exiting"
        case 24: return "unconditional I/O exiting"
        case 25: return "use I/O bitmaps"
        case 27: return "monitor trap flag"
        case 28: return "use MSR bitmaps"
        case 29: return "MONITOR exiting"
        case 30: return "PAUSE exiting"
        case 31: return "activate secondary controls"
        default: return nil
        }
    }
}
