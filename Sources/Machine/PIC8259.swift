// The PC's two cascaded Intel 8259A programmable interrupt controllers: the
// master at 0x20/0x21 (IRQ 0–7) and the slave at 0xA0/0xA1 (IRQ 8–15), whose
// INT output drives the master's IR2. Rules quoted below are from the Intel
// 8259A datasheet (order 231468). The ELCR (0x4D0/0x4D1) is not modelled:
// ICW1.LTIM selects edge or level triggering for a whole chip.
//
// The CPU side is two calls: `pendingVector()` (is INTR asserted, and what
// would an INTA cycle return) and `acknowledge()` (the INTA cycle itself).

/// One 8259A. Its registers are reached through `PIC8259`, which wires a pair
/// together; the chip alone knows nothing about the cascade.
public struct PIC8259Chip: Sendable {
    /// Interrupt request register: requests waiting for service.
    public private(set) var irr: UInt8 = 0
    /// In-service register: requests acknowledged and not yet ended.
    public private(set) var isr: UInt8 = 0
    /// Interrupt mask register (OCW1). Everything masked until initialised.
    public private(set) var imr: UInt8 = 0xFF
    /// ICW2 bits 7:3 (8086 mode): INTA returns `vectorBase | level`.
    public private(set) var vectorBase: UInt8 = 0
    /// ICW3: the slave bitmap on a master, the slave ID (bits 2:0) on a slave.
    public private(set) var cascadeConfig: UInt8
    /// ICW1.LTIM: level-triggered (true) or edge-triggered inputs.
    public private(set) var levelTriggered = false
    /// ICW1.SNGL: no cascade.
    public private(set) var singleMode = false
    /// ICW4.AEOI: INTA ends the interrupt itself (no ISR bit is kept).
    public private(set) var autoEOI = false
    /// ICW4.SFNM: on a master, a slave request may interrupt a slave in service.
    public private(set) var specialFullyNested = false
    /// ICW4.µPM: 8086/8088 mode. The 8080 CALL sequence is not modelled; INTA
    /// returns the same vector either way.
    public private(set) var mode8086 = false
    /// OCW3 ESMM/SMM: special mask mode.
    public private(set) var specialMask = false
    /// The IR level with the highest priority (0 after ICW1: IR0 highest, IR7
    /// lowest). Rotation moves it; priority runs upward from here, wrapping.
    public private(set) var highestPriorityLevel: UInt8 = 0
    /// OCW2 "rotate in automatic EOI mode".
    public private(set) var rotateOnAutoEOI = false
    /// Whether the ICW sequence has completed at least once.
    public private(set) var initialized = false

    /// The IR input levels as last set by devices.
    public private(set) var lines: UInt8 = 0
    /// Requests held by `pulse`: a device that keeps its line high until the
    /// CPU acknowledges. They count as high input levels until INTA (or ICW1).
    private var held: UInt8 = 0
    /// 0: ready; 2, 3, 4: the next data-port write is that ICW.
    private var initStep: UInt8 = 0
    private var expectICW4 = false
    /// OCW3 RIS: the command port reads ISR (true) or IRR.
    private var readISR = false
    /// OCW3 P: the next read is a poll.
    private var pollPending = false

    init(cascadeConfig: UInt8) {
        self.cascadeConfig = cascadeConfig
    }

    /// Whether the OCW3 poll command is armed.
    public var pollArmed: Bool { pollPending }
    /// Whether the command port currently reads the ISR (OCW3 RR=1, RIS=1).
    public var readsISR: Bool { readISR }
    /// Whether the chip is between ICW1 and its last ICW.
    public var initializing: Bool { initStep != 0 }

    // MARK: Input lines

    private var effectiveLines: UInt8 { lines | held }

    mutating func setLine(_ level: UInt8, high: Bool) {
        let bit: UInt8 = 1 << (level & 7)
        let wasHigh = effectiveLines & bit != 0
        if high { lines |= bit } else { lines &= ~bit }
        let isHigh = effectiveLines & bit != 0
        if isHigh && !wasHigh {
            irr |= bit  // edge mode: a rising edge; level mode: a high level
        } else if !isHigh && wasHigh {
            // "In both the edge and level triggered modes the IR inputs must
            // remain high until after the falling edge of the first INTA. If
            // the IR input goes low before this time a DEFAULT IR7 will occur."
            irr &= ~bit
        }
    }

    /// A request that stays up until acknowledged, whatever `lines` does.
    mutating func latchRequest(_ level: UInt8) {
        let bit: UInt8 = 1 << (level & 7)
        if effectiveLines & bit == 0 { irr |= bit }
        held |= bit
    }

    /// Forgets a latched request without servicing it (the cascade input).
    mutating func dropRequest(_ level: UInt8) {
        let bit: UInt8 = 1 << (level & 7)
        held &= ~bit
        if lines & bit == 0 { irr &= ~bit }
    }

    // MARK: Priority resolution

    /// The priority rank of `level`: 0 is the highest.
    @inline(__always)
    private func rank(_ level: UInt8) -> UInt8 {
        (level &- highestPriorityLevel) & 7
    }

    /// The highest-priority level set in `bits`, honouring rotation.
    private func highestLevel(in bits: UInt8) -> UInt8? {
        if bits == 0 { return nil }
        var index: UInt8 = 0
        while index < 8 {
            let level = (highestPriorityLevel &+ index) & 7
            if bits & (1 << level) != 0 { return level }
            index += 1
        }
        return nil
    }

    /// The level this chip's INT output is asserted for, or nil when INT is low:
    /// the highest unmasked request that outranks everything in service.
    public func requestedLevel(isMaster: Bool) -> UInt8? {
        guard let request = highestLevel(in: irr & ~imr) else { return nil }
        var blocking = isr
        // Special mask mode: "it inhibits further interrupts at that level and
        // enables interrupts from all other levels (lower as well as higher)
        // that are not masked" — masked in-service levels stop blocking.
        if specialMask { blocking &= ~imr }
        // Special fully nested mode (master): the cascade level in service does
        // not block another request from the same slave.
        if isMaster && specialFullyNested { blocking &= ~cascadeConfig }
        if let inService = highestLevel(in: blocking), rank(inService) <= rank(request) {
            return nil
        }
        return request
    }

    /// The INTA (or poll) bookkeeping for `level`: IRR to ISR, or with AEOI the
    /// ISR bit is cleared again at the end of the sequence.
    mutating func service(_ level: UInt8) {
        let bit: UInt8 = 1 << (level & 7)
        held &= ~bit
        // Edge mode: the request is consumed. Level mode: the IRR bit follows
        // the input, so a line still high is requested again at once (the ISR
        // bit keeps it from being delivered until the EOI).
        irr &= ~bit
        if levelTriggered { irr |= effectiveLines & bit }
        if autoEOI {
            if rotateOnAutoEOI { highestPriorityLevel = (level &+ 1) & 7 }
        } else {
            isr |= bit
        }
    }

    // MARK: Registers

    /// A read of the command port (A0 = 0) or the data port (A0 = 1).
    mutating func readRegister(dataPort: Bool, isMaster: Bool) -> UInt8 {
        if pollPending {
            // "The 8259A treats the next RD pulse as an interrupt acknowledge":
            // any read, on either port, returns the poll word I---W2W1W0.
            pollPending = false
            guard let level = requestedLevel(isMaster: isMaster) else { return 0 }
            service(level)
            return 0x80 | level
        }
        if dataPort { return imr }
        return readISR ? isr : irr
    }

    mutating func writeRegister(dataPort: Bool, value: UInt8) {
        if !dataPort {
            if value & 0x10 != 0 {
                writeICW1(value)
            } else if value & 0x08 != 0 {
                writeOCW3(value)
            } else {
                writeOCW2(value)
            }
            return
        }
        switch initStep {
        case 2:
            vectorBase = value & 0xF8  // T7–T3; T2–T0 come from the IR level
            if !singleMode {
                initStep = 3
            } else if expectICW4 {
                initStep = 4
            } else {
                finishInit()
            }
        case 3:
            cascadeConfig = value
            if expectICW4 { initStep = 4 } else { finishInit() }
        case 4:
            mode8086 = value & 0x01 != 0
            autoEOI = value & 0x02 != 0
            // Bits 3:2 (BUF, M/S) only steer the SP/EN pin; the PC wiring fixes
            // which chip is the master.
            specialFullyNested = value & 0x10 != 0
            finishInit()
        default:
            imr = value  // OCW1
        }
    }

    private mutating func finishInit() {
        initStep = 0
        initialized = true
    }

    /// ICW1 starts initialisation: "a. The edge sense circuit is reset, which
    /// means that following initialization an interrupt request (IR) input must
    /// make a low-to-high transition to generate an interrupt. b. The Interrupt
    /// Mask Register is cleared. c. IR7 input is assigned priority 7. d. The
    /// slave mode address is set to 7. e. Special Mask Mode is cleared and
    /// Status Read is set to IRR. f. If IC4 = 0, then all functions selected
    /// in ICW4 are set to zero."
    private mutating func writeICW1(_ value: UInt8) {
        expectICW4 = value & 0x01 != 0
        singleMode = value & 0x02 != 0
        levelTriggered = value & 0x08 != 0
        // Bits 7:5 and ADI (bit 2) are the 8080 CALL address; unused in 8086 mode.
        held = 0
        irr = levelTriggered ? lines : 0
        isr = 0
        imr = 0
        highestPriorityLevel = 0
        rotateOnAutoEOI = false
        specialMask = false
        readISR = false
        pollPending = false
        if !expectICW4 {
            mode8086 = false
            autoEOI = false
            specialFullyNested = false
        }
        initStep = 2
    }

    /// OCW2: R, SL, EOI in bits 7:5, the level in bits 2:0.
    private mutating func writeOCW2(_ value: UInt8) {
        let level = value & 0x07
        switch value >> 5 {
        case 0b001:  // non-specific EOI
            endHighestInService(rotate: false)
        case 0b011:  // specific EOI
            isr &= ~(1 << level)
        case 0b101:  // rotate on non-specific EOI
            endHighestInService(rotate: true)
        case 0b111:  // rotate on specific EOI: the ended level becomes lowest
            isr &= ~(1 << level)
            highestPriorityLevel = (level &+ 1) & 7
        case 0b110:  // set priority: `level` becomes the lowest
            highestPriorityLevel = (level &+ 1) & 7
        case 0b100:
            rotateOnAutoEOI = true
        case 0b000:
            rotateOnAutoEOI = false
        default:  // 0b010: no operation
            break
        }
    }

    /// A non-specific EOI resets the highest-priority ISR bit. "An ISR bit that
    /// is masked by an IMR bit will not be cleared by a non-specific EOI if the
    /// 8259A is in the Special Mask Mode."
    private mutating func endHighestInService(rotate: Bool) {
        let candidates = specialMask ? isr & ~imr : isr
        guard let level = highestLevel(in: candidates) else { return }
        isr &= ~(1 << level)
        if rotate { highestPriorityLevel = (level &+ 1) & 7 }
    }

    /// OCW3: ESMM/SMM in bits 6:5, P in bit 2, RR/RIS in bits 1:0.
    private mutating func writeOCW3(_ value: UInt8) {
        switch (value >> 5) & 0x03 {
        case 0b11: specialMask = true
        case 0b10: specialMask = false
        default: break
        }
        // RR = 0 leaves the register selection alone.
        if value & 0x02 != 0 { readISR = value & 0x01 != 0 }
        // "If both the poll and read register commands are enabled with a
        // single OCW3, the poll is the one performed."
        if value & 0x04 != 0 { pollPending = true }
    }
}

/// The PC's cascaded 8259A pair. As a `Device`, offsets are relative to port
/// 0x20: 0x00/0x01 address the master, 0x80/0x81 the slave (0xA0/0xA1); the
/// bus routes only `masterPorts` and `slavePorts` here.
public struct PIC8259: ByteRegisterDevice, Sendable {
    /// The master's ports, 0x20 (command) and 0x21 (data).
    public static let masterPorts = PortRange(base: 0x20, count: 2)
    /// The slave's ports, 0xA0 (command) and 0xA1 (data).
    public static let slavePorts = PortRange(base: 0xA0, count: 2)
    /// The port that `Device` offsets are relative to.
    public static let basePort: UInt16 = 0x20
    /// The master IR input the slave's INT is wired to.
    public static let cascadeIRQ: UInt8 = 2

    /// IRQ 0–7.
    public private(set) var master = PIC8259Chip(cascadeConfig: 1 << PIC8259.cascadeIRQ)
    /// IRQ 8–15.
    public private(set) var slave = PIC8259Chip(cascadeConfig: PIC8259.cascadeIRQ)

    /// The slave's INT output as the master last saw it.
    private var slaveOutput = false

    /// Power-on state: both chips uninitialised with every IRQ masked, so
    /// nothing reaches the CPU until the guest programs them.
    public init() {}

    /// The `Device` offset of `port`, or nil when it is not a PIC port.
    public static func offset(ofPort port: UInt16) -> UInt64? {
        if masterPorts.contains(port) || slavePorts.contains(port) {
            return UInt64(port &- basePort)
        }
        return nil
    }

    // MARK: Device

    // Device: byte-wide registers (ByteRegisterDevice splits wider accesses).
    @inline(__always) public mutating func readByte(at offset: UInt64) -> UInt8 { readRegister(offset) }
    @inline(__always) public mutating func writeByte(at offset: UInt64, _ value: UInt8) { writeRegister(offset, value) }

    /// One byte at a `Device` offset (0x00, 0x01, 0x80, 0x81).
    public mutating func readRegister(_ offset: UInt64) -> UInt8 {
        switch offset {
        case 0x00, 0x01:
            let wasPoll = master.pollArmed
            let value = master.readRegister(dataPort: offset == 0x01, isMaster: true)
            if wasPoll && value == 0x80 | PIC8259.cascadeIRQ && cascaded {
                // Polling the master does not run a cascade cycle: the slave
                // keeps its request and raises it again once the master's IR2
                // is free.
                slaveOutput = false
            }
            updateCascade()
            return value
        case 0x80, 0x81:
            let wasPoll = slave.pollArmed
            let value = slave.readRegister(dataPort: offset == 0x81, isMaster: false)
            if wasPoll {
                // The polled request is serviced, so the slave's INT falls and
                // the master's IR2 request goes with it.
                master.dropRequest(PIC8259.cascadeIRQ)
                slaveOutput = false
            }
            updateCascade()
            return value
        default:
            return 0xFF
        }
    }

    public mutating func writeRegister(_ offset: UInt64, _ value: UInt8) {
        switch offset {
        case 0x00, 0x01:
            master.writeRegister(dataPort: offset == 0x01, value: value)
        case 0x80, 0x81:
            slave.writeRegister(dataPort: offset == 0x81, value: value)
        default:
            return
        }
        updateCascade()
    }

    /// A byte read of an I/O port (0x20, 0x21, 0xA0, 0xA1; others read 0xFF).
    public mutating func readPort(_ port: UInt16) -> UInt8 {
        guard let offset = PIC8259.offset(ofPort: port) else { return 0xFF }
        return readRegister(offset)
    }

    /// A byte write of an I/O port (0x20, 0x21, 0xA0, 0xA1; others ignored).
    public mutating func writePort(_ port: UInt16, _ value: UInt8) {
        guard let offset = PIC8259.offset(ofPort: port) else { return }
        writeRegister(offset, value)
    }

    // MARK: Device side

    /// Sets the level of IRQ line `irq` (0–15; others are ignored). In edge
    /// mode a low-to-high transition requests an interrupt; in level mode a
    /// high level does. Either way the line must stay high until the
    /// interrupt is acknowledged: lowering it first withdraws the request, and
    /// an INTA already promised by `pendingVector()` then returns the default
    /// IR7 vector (a spurious interrupt), as on the real chip.
    public mutating func setLevel(irq: UInt8, high: Bool) {
        if irq < 8 {
            // IR2 is the cascade input while a slave is attached; a device
            // cannot drive it.
            if irq == PIC8259.cascadeIRQ && cascaded { return }
            master.setLine(irq, high: high)
        } else if irq < 16 {
            slave.setLine(irq &- 8, high: high)
            updateCascade()
        }
    }

    /// An edge from a device that holds its request until the CPU acknowledges
    /// it (the PIT's IRQ 0 ticks, for example): the request is latched in IRR
    /// and survives until INTA, a poll, or ICW1, whatever `setLevel` does in
    /// between. A pulse while the previous one is still pending is merged with
    /// it, as on hardware.
    public mutating func pulse(irq: UInt8) {
        if irq < 8 {
            if irq == PIC8259.cascadeIRQ && cascaded { return }
            master.latchRequest(irq)
        } else if irq < 16 {
            slave.latchRequest(irq &- 8)
            updateCascade()
        }
    }

    // MARK: CPU side

    /// Whether the master's INT (the CPU's INTR) is asserted, and if so the
    /// vector an INTA cycle would return now, without acknowledging.
    public func pendingVector() -> UInt8? {
        guard let level = master.requestedLevel(isMaster: true) else { return nil }
        if level == PIC8259.cascadeIRQ && cascaded {
            guard let slaveLevel = slave.requestedLevel(isMaster: false) else {
                return slave.vectorBase | 7
            }
            return slave.vectorBase | slaveLevel
        }
        return master.vectorBase | level
    }

    /// Whether the CPU's INTR input is asserted.
    public var interruptRequested: Bool {
        master.requestedLevel(isMaster: true) != nil
    }

    /// The INTA cycle: the highest-priority request moves from IRR to ISR (or
    /// straight through with AEOI) and its vector is returned.
    ///
    /// With no request left (it was withdrawn after INTR was seen) the master
    /// answers with its default IR7 vector and sets no ISR bit. A slave request
    /// reaches the master as a latched IR2 request; if the slave's request is
    /// withdrawn before INTA, the master still services IR2 (its ISR bit 2 is
    /// set and needs an EOI) while the slave answers with its own IR7 vector,
    /// setting no ISR bit — the spurious IRQ 15.
    public mutating func acknowledge() -> UInt8 {
        guard let level = master.requestedLevel(isMaster: true) else {
            return master.vectorBase | 7
        }
        master.service(level)
        guard level == PIC8259.cascadeIRQ && cascaded else {
            return master.vectorBase | level
        }
        let vector: UInt8
        if let slaveLevel = slave.requestedLevel(isMaster: false) {
            slave.service(slaveLevel)
            vector = slave.vectorBase | slaveLevel
        } else {
            vector = slave.vectorBase | 7
        }
        // The INTA cycle consumed the master's IR2 request; a slave that still
        // asserts INT (say with AEOI and a second request) requests again.
        slaveOutput = false
        updateCascade()
        return vector
    }

    // MARK: Cascade

    /// Whether the master's IR2 is the slave's INT: cascade mode with a slave
    /// on IR2 (ICW3 bit 2), the PC's wiring.
    public var cascaded: Bool {
        !master.singleMode && master.cascadeConfig & (1 << PIC8259.cascadeIRQ) != 0
    }

    /// Feeds the slave's INT into the master's IR2. The master latches the
    /// request on INT's rising edge and holds it until INTA, so a slave request
    /// that vanishes after the master has seen it yields the slave's default
    /// IR7 (as QEMU and KVM model it) rather than a master IR7.
    private mutating func updateCascade() {
        let output = slave.requestedLevel(isMaster: false) != nil
        if output && !slaveOutput && cascaded {
            master.latchRequest(PIC8259.cascadeIRQ)
        }
        slaveOutput = output
    }

    /// Back to the power-on state (keeps the device line levels).
    public mutating func reset() {
        let masterLines = master.lines
        let slaveLines = slave.lines
        self = PIC8259()
        var level: UInt8 = 0
        while level < 8 {
            if masterLines & (1 << level) != 0 { master.setLine(level, high: true) }
            if slaveLines & (1 << level) != 0 { slave.setLine(level, high: true) }
            level += 1
        }
        updateCascade()
    }
}
