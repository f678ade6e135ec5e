// The ACPI fixed-hardware registers the FADT points at (ACPI 6.0 §4.8.3): the PM1a event block
// (PM1_STS, PM1_EN: 2 bytes each) and the PM1a control block (PM1_CNT), plus the reset register
// (§4.8.3.6), on I/O ports of the virtual PC. A guest powers off by writing SLP_TYP = \_S5's value
// with SLP_EN to PM1_CNT (§4.8.3.2.1, §7.4.2.5) and resets by writing RESET_VALUE to the reset
// register; both are requests the engine carries out by ending the VM.

public struct ACPIPowerManagement: Equatable, Sendable {
    public static let pm1aEventBlock: UInt16 = 0x600
    public static let pm1EventLength: UInt16 = 4
    public static let pm1aControlBlock: UInt16 = 0x604
    public static let pm1ControlLength: UInt16 = 2
    public static let ports = PortRange(base: pm1aEventBlock, count: 6)
    /// The reset register: port 0xCF9, as on PC chipsets; 0x06 is a hard reset.
    public static let resetRegister: UInt16 = 0xCF9
    public static let resetValue: UInt8 = 0x06

    /// PM1_CNT bits: SCI_EN (0), SLP_TYP (12:10), SLP_EN (13, write-only).
    public static let sciEnable: UInt16 = 1 << 0
    public static let sleepEnable: UInt16 = 1 << 13
    /// PM1_STS: WAK_STS (15) and the write-one-to-clear status bits.
    public static let wakeStatus: UInt16 = 1 << 15

    public private(set) var status: UInt16 = 0
    public private(set) var enable: UInt16 = 0
    /// SCI_EN is set: no SMM, the machine is in ACPI mode from reset (SMI_CMD = 0 in the FADT).
    public private(set) var control: UInt16 = ACPIPowerManagement.sciEnable
    /// The sleep state the guest entered (SLP_TYP with SLP_EN), if any.
    public private(set) var sleepTypeEntered: UInt8? = nil
    public private(set) var resetRequested = false

    public init() {}

    public var powerOffRequested: Bool { sleepTypeEntered == ACPITables.s5SleepType }

    public mutating func read(port: UInt16, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size {
            value |= UInt32(readByte(port &+ UInt16(i))) << UInt32(8 * i)
        }
        return value
    }

    public mutating func write(port: UInt16, size: Int, value: UInt32) {
        // A word write to PM1_CNT must land as one: SLP_EN and SLP_TYP arrive together.
        if port == Self.pm1aControlBlock && size >= 2 {
            writeControl(UInt16(truncatingIfNeeded: value))
            return
        }
        for i in 0..<size {
            writeByte(port &+ UInt16(i), UInt8(truncatingIfNeeded: value >> UInt32(8 * i)))
        }
    }

    public mutating func writeReset(_ value: UInt8) {
        // Bit 2 starts the reset (bit 1 chooses hard/soft): 0x06 and 0x0E both reset the PC.
        if value & 0x04 != 0 { resetRequested = true }
    }

    private func readByte(_ port: UInt16) -> UInt8 {
        switch port {
        case Self.pm1aEventBlock: return UInt8(status & 0xFF)
        case Self.pm1aEventBlock + 1: return UInt8(status >> 8)
        case Self.pm1aEventBlock + 2: return UInt8(enable & 0xFF)
        case Self.pm1aEventBlock + 3: return UInt8(enable >> 8)
        case Self.pm1aControlBlock: return UInt8(control & 0xFF)
        case Self.pm1aControlBlock + 1: return UInt8((control & ~Self.sleepEnable) >> 8)
        default: return 0xFF
        }
    }

    private mutating func writeByte(_ port: UInt16, _ byte: UInt8) {
        switch port {
        case Self.pm1aEventBlock: status &= ~UInt16(byte)                // write 1 to clear
        case Self.pm1aEventBlock + 1: status &= ~(UInt16(byte) << 8)
        case Self.pm1aEventBlock + 2: enable = (enable & 0xFF00) | UInt16(byte)
        case Self.pm1aEventBlock + 3: enable = (enable & 0x00FF) | UInt16(byte) << 8
        case Self.pm1aControlBlock: writeControl((control & 0xFF00) | UInt16(byte))
        case Self.pm1aControlBlock + 1: writeControl((control & 0x00FF) | UInt16(byte) << 8)
        default: break
        }
    }

    private mutating func writeControl(_ value: UInt16) {
        if value & Self.sleepEnable != 0 {
            sleepTypeEntered = UInt8((value >> 10) & 7)
        }
        // SCI_EN stays set (it is owned by the firmware's ACPI enable, and we have no SMM).
        control = (value & ~Self.sleepEnable) | Self.sciEnable
    }
}
