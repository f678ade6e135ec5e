// The I/O APIC (Intel 82093AA datasheet, order 290566): 24 interrupt input pins, each routed
// by a 64-bit redirection table entry to local APICs as an interrupt message.
//
// MMIO at 0xFEC00000: IOREGSEL (offset 0x00) selects a register, IOWIN (offset 0x10) reads or
// writes it. Registers: 0x00 IOAPICID, 0x01 IOAPICVER, 0x02 IOAPICARB, 0x10-0x3F the table
// (entry n: low dword at 0x10 + 2n, high at 0x11 + 2n).
//
// Pins are driven with `setLevel(pin:high:)`. An edge-triggered pin sends a message on each
// assertion; a level-triggered pin sends one while asserted and its remote IRR is clear, and
// sets remote IRR until the local APIC's EOI for its vector comes back through
// `endOfInterrupt(vector:)`. Messages the engine must deliver after an EOI or a register write
// (a held level pin being unmasked or re-armed) wait as pending pins, read with `takeMessage()`
// (the entry's delivery status bit reads 1 meanwhile).

/// An interrupt message from the I/O APIC to the local APICs (82093AA §3.2.4).
public struct IOAPICMessage: Equatable, Sendable {
    public var pin: UInt8
    public var vector: UInt8
    public var deliveryMode: APICDeliveryMode
    /// Destination mode: logical (true) or physical.
    public var logicalDestination: Bool
    /// The destination field, bits 63:56 of the entry.
    public var destination: UInt8
    public var levelTriggered: Bool

    public init(pin: UInt8, vector: UInt8, deliveryMode: APICDeliveryMode, logicalDestination: Bool,
                destination: UInt8, levelTriggered: Bool) {
        self.pin = pin; self.vector = vector; self.deliveryMode = deliveryMode
        self.logicalDestination = logicalDestination; self.destination = destination; self.levelTriggered = levelTriggered
    }
}

/// One redirection table entry, IOREDTBL[23:0] (82093AA §3.2.4).
public struct IOAPICRedirectionEntry: Equatable, Sendable {
    public var raw: UInt64

    public static let deliveryStatus: UInt64 = 1 << 12
    public static let activeLow: UInt64 = 1 << 13
    public static let remoteIRR: UInt64 = 1 << 14
    public static let levelTriggered: UInt64 = 1 << 15
    public static let masked: UInt64 = 1 << 16
    /// Bits software may write: vector, delivery mode, destination mode, polarity, trigger mode,
    /// mask, destination (delivery status and remote IRR are read-only).
    public static let writable: UInt64 = 0xFF00_0000_0001_AFFF

    public init(raw: UInt64) { self.raw = raw }

    public var vector: UInt8 { UInt8(truncatingIfNeeded: raw) }
    public var deliveryMode: APICDeliveryMode { APICDeliveryMode(rawValue: UInt8((raw >> 8) & 7)) ?? .fixed }
    public var logicalDestination: Bool { raw & (1 << 11) != 0 }
    public var isActiveLow: Bool { raw & IOAPICRedirectionEntry.activeLow != 0 }
    public var isRemoteIRR: Bool { raw & IOAPICRedirectionEntry.remoteIRR != 0 }
    public var isLevelTriggered: Bool { raw & IOAPICRedirectionEntry.levelTriggered != 0 }
    public var isMasked: Bool { raw & IOAPICRedirectionEntry.masked != 0 }
    public var destination: UInt8 { UInt8(truncatingIfNeeded: raw >> 56) }
}

public struct IOAPIC: Sendable {
    public static let defaultBase: UInt64 = 0xFEC0_0000
    public static let mmioSize: UInt64 = 0x1000
    public static let pinCount = 24
    /// IOAPICVER: maximum redirection entry 0x17 (24 pins), version 0x11.
    public static let versionValue: UInt32 = 0x0017_0011

    public static let ioregselOffset: UInt64 = 0x00
    public static let iowinOffset: UInt64 = 0x10

    public static let idRegister: UInt8 = 0x00
    public static let versionRegister: UInt8 = 0x01
    public static let arbitrationRegister: UInt8 = 0x02
    public static let redirectionTableBase: UInt8 = 0x10

    /// The pin an ISA IRQ drives, as the MADT's interrupt source overrides say (ACPITables):
    /// IRQ 0 (the PIT) on pin 2, IRQ 2 (the 8259 cascade) nowhere, the rest on their own number;
    /// pin 0 is the 8259's INTR for an ExtINT entry. Nil outside 0-15.
    public static func pin(forISAIRQ irq: Int) -> Int? {
        switch irq {
        case 0: return 2
        case 2: return nil
        case 1...15: return irq
        default: return nil
        }
    }

    /// IOREGSEL (bits 7:0).
    public private(set) var registerSelect: UInt8 = 0
    /// IOAPICID bits 27:24.
    public private(set) var id: UInt8
    /// IOAPICARB bits 27:24: loaded from the ID when the ID is written.
    public private(set) var arbitrationID: UInt8
    /// The 24 entries, masked at reset.
    private var entries: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                          UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                          UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    /// The electrical level of each pin (bit n = pin n high).
    public private(set) var pinLevels: UInt32 = 0
    /// Pins with a message waiting for `takeMessage()`.
    public private(set) var pendingPins: UInt32 = 0

    public init(id: UInt8 = 0) {
        self.id = id & 0xF
        arbitrationID = id & 0xF
        let m = IOAPICRedirectionEntry.masked
        entries = (m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m)
    }

    // MARK: Redirection table

    public func entry(_ pin: Int) -> IOAPICRedirectionEntry {
        precondition(pin >= 0 && pin < IOAPIC.pinCount)
        var e = withUnsafeBytes(of: entries) { $0.load(fromByteOffset: pin * 8, as: UInt64.self) }
        if pendingPins & (1 << UInt32(pin)) != 0 { e |= IOAPICRedirectionEntry.deliveryStatus }
        return IOAPICRedirectionEntry(raw: e)
    }

    private mutating func setEntry(_ pin: Int, _ value: UInt64) {
        withUnsafeMutableBytes(of: &entries) { $0.storeBytes(of: value & ~IOAPICRedirectionEntry.deliveryStatus, toByteOffset: pin * 8, as: UInt64.self) }
    }

    /// Whether the pin's input is asserted, by the entry's polarity.
    private func asserted(_ pin: Int) -> Bool {
        let high = pinLevels & (1 << UInt32(pin)) != 0
        return high != entry(pin).isActiveLow
    }

    /// A level-triggered pin that must send (again): asserted, unmasked, remote IRR clear.
    private mutating func evaluateLevel(_ pin: Int) {
        let e = entry(pin)
        if e.isLevelTriggered && !e.isMasked && !e.isRemoteIRR && asserted(pin) {
            pendingPins |= 1 << UInt32(pin)
        }
    }

    // MARK: Pins

    /// Drives `pin` to an electrical level. Returns the message it sends now, if any: an
    /// assertion edge of an unmasked edge-triggered pin, or a level-triggered pin newly asserted
    /// with remote IRR clear. Pins outside 0-23 are ignored.
    public mutating func setLevel(pin: Int, high: Bool) -> IOAPICMessage? {
        guard pin >= 0 && pin < IOAPIC.pinCount else { return nil }
        let bit: UInt32 = 1 << UInt32(pin)
        let wasAsserted = asserted(pin)
        pinLevels = high ? pinLevels | bit : pinLevels & ~bit
        let e = entry(pin)
        let nowAsserted = asserted(pin)
        if e.isLevelTriggered {
            evaluateLevel(pin)
        } else if nowAsserted && !wasAsserted && !e.isMasked {
            pendingPins |= bit
        }
        return pendingPins & bit != 0 ? takeMessage(pin: pin) : nil
    }

    /// The local APIC retired level-triggered `vector` (EOI with its TMR bit set): every entry
    /// with that vector clears remote IRR, and a pin still asserted sends again (pending).
    /// Returns whether any entry matched.
    @discardableResult
    public mutating func endOfInterrupt(vector: UInt8) -> Bool {
        var matched = false
        for pin in 0..<IOAPIC.pinCount {
            let e = entry(pin)
            guard e.vector == vector, e.isRemoteIRR else { continue }
            matched = true
            setEntry(pin, e.raw & ~IOAPICRedirectionEntry.remoteIRR)
            evaluateLevel(pin)
        }
        return matched
    }

    /// The next pending message (lowest pin first), or nil. A pin masked since it became
    /// pending sends nothing (a masked edge is lost; a level pin sends on unmask).
    public mutating func takeMessage() -> IOAPICMessage? {
        while pendingPins != 0 {
            let pin = pendingPins.trailingZeroBitCount
            if let m = takeMessage(pin: pin) { return m }
        }
        return nil
    }

    private mutating func takeMessage(pin: Int) -> IOAPICMessage? {
        pendingPins &= ~(1 << UInt32(pin))
        let e = entry(pin)
        if e.isMasked { return nil }
        if e.isLevelTriggered {
            guard asserted(pin), !e.isRemoteIRR else { return nil }
            // Remote IRR: set when the local APIC accepts the level interrupt (§3.2.4).
            if e.deliveryMode == .fixed || e.deliveryMode == .lowestPriority {
                setEntry(pin, e.raw | IOAPICRedirectionEntry.remoteIRR)
            }
        }
        return IOAPICMessage(pin: UInt8(pin), vector: e.vector, deliveryMode: e.deliveryMode,
                             logicalDestination: e.logicalDestination, destination: e.destination,
                             levelTriggered: e.isLevelTriggered)
    }

    // MARK: MMIO

    /// A read at `offset` in the I/O APIC page: IOREGSEL or IOWIN (other offsets read 0).
    public func readMMIO(offset: UInt64, size: Int) -> UInt32 {
        switch offset {
        case IOAPIC.ioregselOffset: return UInt32(registerSelect)
        case IOAPIC.iowinOffset: return readRegister(registerSelect)
        default: return 0
        }
    }

    /// A write at `offset`: IOREGSEL takes bits 7:0; IOWIN writes the selected register. Messages
    /// it causes (a held level pin unmasked) are left for `takeMessage()`.
    public mutating func writeMMIO(offset: UInt64, size: Int, value: UInt32) {
        switch offset {
        case IOAPIC.ioregselOffset: registerSelect = UInt8(truncatingIfNeeded: value)
        case IOAPIC.iowinOffset: writeRegister(registerSelect, value: value)
        default: break
        }
    }

    /// The register at index `register`; unimplemented ones read 0.
    public func readRegister(_ register: UInt8) -> UInt32 {
        switch register {
        case IOAPIC.idRegister: return UInt32(id) << 24
        case IOAPIC.versionRegister: return IOAPIC.versionValue
        case IOAPIC.arbitrationRegister: return UInt32(arbitrationID) << 24
        case 0x10...0x3F:
            let e = entry(Int(register - 0x10) / 2).raw
            return UInt32(truncatingIfNeeded: register & 1 == 0 ? e : e >> 32)
        default: return 0
        }
    }

    public mutating func writeRegister(_ register: UInt8, value: UInt32) {
        switch register {
        case IOAPIC.idRegister:
            id = UInt8((value >> 24) & 0xF)
            arbitrationID = id
        case 0x10...0x3F:
            let pin = Int(register - 0x10) / 2
            let old = entry(pin).raw
            let half: UInt64 = register & 1 == 0 ? UInt64(value) : UInt64(value) << 32
            let keep: UInt64 = register & 1 == 0 ? 0xFFFF_FFFF_0000_0000 : 0x0000_0000_FFFF_FFFF
            var new = old & keep | half & ~keep
            new = new & IOAPICRedirectionEntry.writable | old & IOAPICRedirectionEntry.remoteIRR
            if new & IOAPICRedirectionEntry.levelTriggered == 0 {
                new &= ~IOAPICRedirectionEntry.remoteIRR    // an edge entry has no remote IRR
            }
            setEntry(pin, new)
            evaluateLevel(pin)
        default:
            break                                           // version and arbitration are read-only
        }
    }
}
