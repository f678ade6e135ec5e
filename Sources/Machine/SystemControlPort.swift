// Port 0x61, the PC/AT "system control port B" (NMI status and control): the
// speaker and timer-2 gate bits plus status bits read back from the board.
// It lives inside `PIT8254` because bits 0 and 5 are wired to channel 2.

/// The latched, writable half of port 0x61 and the meaning of its bits.
public struct SystemControlPortB: Equatable, Sendable {
    /// Bit 0 (R/W): the gate of PIT channel 2.
    public static let timer2Gate: UInt8 = 0x01
    /// Bit 1 (R/W): speaker data enable (channel 2's output reaches the speaker).
    public static let speakerData: UInt8 = 0x02
    /// Bit 2 (R/W): parity check disable (1 disables the RAM parity NMI).
    public static let parityCheckDisable: UInt8 = 0x04
    /// Bit 3 (R/W): channel check disable (1 disables the IOCHK NMI).
    public static let channelCheckDisable: UInt8 = 0x08
    /// Bit 4 (R): toggles on every DRAM refresh request (every ~15 µs).
    public static let refreshToggle: UInt8 = 0x10
    /// Bit 5 (R): the output of PIT channel 2.
    public static let timer2Output: UInt8 = 0x20
    /// Bit 6 (R): IOCHK NMI source; never set here.
    public static let channelCheck: UInt8 = 0x40
    /// Bit 7 (R): RAM parity NMI source; never set here.
    public static let parityCheck: UInt8 = 0x80

    /// The bits a write changes; bits 7:4 are read-only status.
    public static let writable: UInt8 = 0x0F

    /// How many PIT ticks pass between refresh toggles: the refresh timer is
    /// PIT channel 1 in mode 2 with count 18 (15.085 µs) on the PC/AT.
    public static let refreshPeriodTicks: UInt64 = 18

    /// Bits 3:0 as last written.
    public private(set) var latched: UInt8 = 0

    public init() {}

    public var timer2GateHigh: Bool { latched & SystemControlPortB.timer2Gate != 0 }
    public var speakerEnabled: Bool { latched & SystemControlPortB.speakerData != 0 }

    mutating func write(_ value: UInt8) {
        latched = value & SystemControlPortB.writable
    }

    /// The value a read returns at PIT time `tick` with channel 2's output `timer2Output`.
    func read(tick: UInt64, timer2Output: Bool) -> UInt8 {
        var value = latched
        if (tick / SystemControlPortB.refreshPeriodTicks) & 1 != 0 { value |= SystemControlPortB.refreshToggle }
        if timer2Output { value |= SystemControlPortB.timer2Output }
        return value
    }
}
