// An Intel 8042 keyboard controller with a PS/2 (MF2) keyboard attached and
// no auxiliary (mouse) device, as a guest's i8042/atkbd drivers see it.
//
// Ports: 0x60 data (offset 0) and 0x64 status/command (offset 4); the owner
// routes both to one device (offsets 1–3 are not the 8042's and read 0xFF).
// The serial links are infinitely fast: a command is processed when written
// (IBF never reads 1), and the next byte moves into the output buffer as soon
// as the guest has read the previous one.
//
// Bytes reach the one-byte output buffer from two queues: controller replies
// (to 0x20, 0xAA, 0xD2, ...) first, then the keyboard's queue, in which the
// keyboard's command replies (0xFA, ...) go ahead of buffered keystrokes.
//
// Key input while the keyboard has scanning disabled (0xF5) is dropped and
// counted, as a real keyboard does not scan then. Key input while the
// controller's keyboard interface is disabled (0xAD or command byte bit 4) is
// held in the keyboard's queue and delivered when it is enabled again, as the
// keyboard buffers while the controller holds its clock line low.

/// Status register (port 0x64 read) bits.
public enum I8042Status {
    /// OBF: a byte waits in the output buffer (port 0x60).
    public static let outputFull: UInt8 = 0x01
    /// IBF: the controller has not taken the last byte written. Always 0 here.
    public static let inputFull: UInt8 = 0x02
    /// SYS: set by a passed self-test or command byte bit 2.
    public static let system: UInt8 = 0x04
    /// A2: the last byte written went to port 0x64 (a command), not 0x60 (data).
    public static let command: UInt8 = 0x08
    /// The keyboard inhibit switch: 1 = not inhibited.
    public static let notInhibited: UInt8 = 0x10
    /// The output buffer holds a byte from the auxiliary device.
    public static let auxOutputFull: UInt8 = 0x20
    public static let timeout: UInt8 = 0x40
    public static let parityError: UInt8 = 0x80
}

/// Command byte ("controller configuration byte") bits.
public enum I8042CommandByte {
    /// IRQ 1 when a byte from the keyboard side is in the output buffer.
    public static let keyboardInterrupt: UInt8 = 0x01
    /// IRQ 12 on auxiliary data (no auxiliary device here).
    public static let auxInterrupt: UInt8 = 0x02
    /// Copied to status bit 2.
    public static let system: UInt8 = 0x04
    public static let ignoreInhibit: UInt8 = 0x08
    /// The keyboard interface is disabled (clock held low).
    public static let keyboardDisabled: UInt8 = 0x10
    public static let auxDisabled: UInt8 = 0x20
    /// Translate the keyboard's set-2 codes to set 1.
    public static let translate: UInt8 = 0x40
}

/// Controller commands (port 0x64 write).
public enum I8042Command {
    /// 0x20–0x3F read internal RAM byte n & 0x1F; byte 0 is the command byte.
    public static let readCommandByte: UInt8 = 0x20
    /// 0x60–0x7F write internal RAM byte n & 0x1F (data follows on 0x60).
    public static let writeCommandByte: UInt8 = 0x60
    public static let disableAux: UInt8 = 0xA7
    public static let enableAux: UInt8 = 0xA8
    public static let testAux: UInt8 = 0xA9
    public static let selfTest: UInt8 = 0xAA
    public static let testKeyboard: UInt8 = 0xAB
    public static let disableKeyboard: UInt8 = 0xAD
    public static let enableKeyboard: UInt8 = 0xAE
    public static let readInputPort: UInt8 = 0xC0
    public static let readOutputPort: UInt8 = 0xD0
    public static let writeOutputPort: UInt8 = 0xD1
    public static let writeKeyboardOutput: UInt8 = 0xD2
    public static let writeAuxOutput: UInt8 = 0xD3
    public static let writeAux: UInt8 = 0xD4
    public static let disableA20: UInt8 = 0xDD
    public static let enableA20: UInt8 = 0xDF
    /// 0xF0–0xFF pulse the output-port bits whose command bits 3:0 are 0; 0xFE pulses the reset line.
    public static let pulseResetLine: UInt8 = 0xFE
}

/// Keyboard commands (port 0x60 write when no controller command awaits data).
public enum KeyboardCommand {
    public static let setLEDs: UInt8 = 0xED
    public static let echo: UInt8 = 0xEE
    public static let scancodeSet: UInt8 = 0xF0
    public static let identify: UInt8 = 0xF2
    public static let typematic: UInt8 = 0xF3
    public static let enableScanning: UInt8 = 0xF4
    public static let disableScanning: UInt8 = 0xF5
    public static let setDefaults: UInt8 = 0xF6
    public static let resend: UInt8 = 0xFE
    public static let reset: UInt8 = 0xFF
}

/// Bytes the keyboard and controller answer with.
public enum KeyboardReply {
    public static let ack: UInt8 = 0xFA
    public static let resend: UInt8 = 0xFE
    public static let selfTestPassed: UInt8 = 0xAA
    public static let echo: UInt8 = 0xEE
    /// An MF2 keyboard identifies as 0xAB 0x83 (0xAB 0x41 through translation).
    public static let identity: UInt8 = 0xAB
    public static let identity2: UInt8 = 0x83
    public static let identity2Translated: UInt8 = 0x41
    /// The controller's answer to 0xAA.
    public static let controllerSelfTestPassed: UInt8 = 0x55
    /// The answer to 0xA9 with no auxiliary device: "clock line stuck high".
    public static let auxTestNoDevice: UInt8 = 0x02
}

/// The 8042 at ports 0x60 (offset 0) and 0x64 (offset 4) with its keyboard; IRQ 1.
public struct I8042: ByteRegisterDevice {
    public static let dataPort = PortRange(base: 0x60, count: 1)
    public static let commandPort = PortRange(base: 0x64, count: 1)
    /// The device offsets of the two ports (the port minus 0x60).
    public static var dataOffset: UInt64 { 0 }
    public static var commandOffset: UInt64 { 4 }
    public static var keyboardIRQ: UInt8 { 1 }
    /// The command byte after a BIOS: translate, aux disabled (none), system flag, IRQ 1.
    public static var defaultCommandByte: UInt8 { 0x65 }
    /// The typematic setting after reset: 10.9 characters/s after 500 ms.
    public static var defaultTypematic: UInt8 { 0x2B }

    // Controller state.
    public private(set) var commandByte: UInt8 = I8042.defaultCommandByte
    /// The reset line was pulsed (0xFE, 0xF0–0xFF with bit 0 clear, or output
    /// port bit 0 written 0). Sticky until `clearResetRequest()` or `reset()`.
    public private(set) var resetRequested = false
    /// Output port bit 1, the A20 gate. The owner may ignore it (A20 always on).
    public private(set) var a20Enabled = true
    // Keyboard state.
    public private(set) var scanningEnabled = true
    /// 1 or 2; the keyboard's own set (before the controller's translation).
    public private(set) var scancodeSet: UInt8 = 2
    /// Bits 0 Scroll Lock, 1 Num Lock, 2 Caps Lock.
    public private(set) var leds: UInt8 = 0
    public private(set) var typematic: UInt8 = I8042.defaultTypematic
    // Statistics.
    /// Key input bytes lost because the queue was full or scanning was disabled.
    public private(set) var droppedBytes: UInt64 = 0
    /// Keystrokes (`type`, `pressKey`, `receiveFromKeyboard` calls) lost entirely.
    public private(set) var droppedKeystrokes: UInt64 = 0
    /// Bytes sent to the absent auxiliary device with 0xD4.
    public private(set) var auxBytesDiscarded: UInt64 = 0
    /// Rising edges of IRQ 1 since creation.
    public private(set) var irq1EdgeCount: UInt64 = 0
    /// A rising edge of IRQ 1 not yet taken with `takeIRQ1()`.
    public private(set) var irqPending = false

    private var systemFlag = true
    private var lastWriteWasCommand = false
    private var outputByte: UInt8 = 0
    public private(set) var outputBufferFull = false
    private var controllerQueue = ByteFIFO()
    private var keyboardQueue = ScancodeQueue()
    /// A controller command waiting for its data byte on port 0x60, or 0.
    private var pendingControllerCommand: UInt8 = 0
    /// A keyboard command waiting for its argument byte, or 0.
    private var pendingKeyboardCommand: UInt8 = 0
    /// The last byte the keyboard delivered, for its Resend command.
    private var lastKeyboardByte: UInt8 = KeyboardReply.selfTestPassed
    /// Internal RAM bytes 1–31 (byte 0 is `commandByte`).
    private var internalRAM = InlineArray<32, UInt8>(repeating: 0)
    private var irqLine = false

    public init() {}

    /// Power-on state of controller and keyboard; the statistics are kept.
    public mutating func reset() {
        commandByte = Self.defaultCommandByte
        resetRequested = false
        a20Enabled = true
        systemFlag = true
        lastWriteWasCommand = false
        outputByte = 0
        outputBufferFull = false
        controllerQueue.removeAll()
        keyboardQueue.removeAll()
        pendingControllerCommand = 0
        pendingKeyboardCommand = 0
        internalRAM = InlineArray<32, UInt8>(repeating: 0)
        resetKeyboard(scanning: true)
        irqLine = false
        irqPending = false
    }

    public mutating func clearResetRequest() {
        resetRequested = false
    }

    // MARK: Device

    // Device: byte-wide registers (ByteRegisterDevice splits wider accesses).
    @inline(__always) public mutating func readByte(at offset: UInt64) -> UInt8 { readPort(offset) }
    @inline(__always) public mutating func writeByte(at offset: UInt64, _ value: UInt8) { writePort(offset, value) }

    public mutating func readPort(_ offset: UInt64) -> UInt8 {
        switch offset {
        case Self.dataOffset: return readData()
        case Self.commandOffset: return status
        default: return 0xFF
        }
    }

    public mutating func writePort(_ offset: UInt64, _ value: UInt8) {
        switch offset {
        case Self.dataOffset: writeData(value)
        case Self.commandOffset: writeCommand(value)
        default: break
        }
    }

    // MARK: Registers

    /// The status register (reading it has no side effect).
    public var status: UInt8 {
        var value = I8042Status.notInhibited
        if outputBufferFull { value |= I8042Status.outputFull }
        if systemFlag { value |= I8042Status.system }
        if lastWriteWasCommand { value |= I8042Status.command }
        return value
    }

    /// Port 0x60: takes the output buffer. With OBF clear it returns the last
    /// byte again, as the latch still holds it.
    public mutating func readData() -> UInt8 {
        let value = outputByte
        if outputBufferFull {
            outputBufferFull = false
            updateIRQ()  // the line drops; the next byte raises it again
            refill()
        }
        return value
    }

    public mutating func writeData(_ value: UInt8) {
        lastWriteWasCommand = false
        let command = pendingControllerCommand
        if command != 0 {
            pendingControllerCommand = 0
            controllerData(command, value)
        } else {
            // Sending to the keyboard re-enables its interface (as QEMU and
            // real controllers do when the host transmits).
            commandByte &= ~I8042CommandByte.keyboardDisabled
            keyboardReceive(value)
        }
        refill()
    }

    public mutating func writeCommand(_ value: UInt8) {
        lastWriteWasCommand = true
        pendingControllerCommand = 0  // a new command abandons a data phase
        switch value {
        case 0x20...0x3F:
            controllerReply(ramByte(value & 0x1F))
        case 0x60...0x7F, I8042Command.writeOutputPort, I8042Command.writeKeyboardOutput,
            I8042Command.writeAuxOutput, I8042Command.writeAux:
            pendingControllerCommand = value
        case I8042Command.disableAux:
            commandByte |= I8042CommandByte.auxDisabled
        case I8042Command.enableAux:
            commandByte &= ~I8042CommandByte.auxDisabled
        case I8042Command.testAux:
            controllerReply(KeyboardReply.auxTestNoDevice)
        case I8042Command.selfTest:
            systemFlag = true
            controllerReply(KeyboardReply.controllerSelfTestPassed)
        case I8042Command.testKeyboard:
            controllerReply(0x00)
        case I8042Command.disableKeyboard:
            commandByte |= I8042CommandByte.keyboardDisabled
        case I8042Command.enableKeyboard:
            commandByte &= ~I8042CommandByte.keyboardDisabled
        case I8042Command.readInputPort:
            controllerReply(0x80)  // bit 7: keyboard not inhibited
        case I8042Command.readOutputPort:
            controllerReply(outputPort)
        case I8042Command.disableA20:
            a20Enabled = false
        case I8042Command.enableA20:
            a20Enabled = true
        case 0xF0...0xFF:
            // Pulse the output-port lines whose bits 3:0 are 0 for ~6 µs; bit 0
            // is the CPU reset line.
            if value & 0x01 == 0 { resetRequested = true }
        default:
            break  // unimplemented commands are ignored
        }
        refill()
    }

    /// Output port (0xD0): bit 0 reset (inactive high), bit 1 A20, bit 4 IRQ 1
    /// (OBF), bits 6–7 keyboard clock and data (idle high).
    public var outputPort: UInt8 {
        var value: UInt8 = 0xC1
        if a20Enabled { value |= 0x02 }
        if irq1Asserted { value |= 0x10 }
        return value
    }

    // MARK: Interrupts

    /// IRQ 1: a byte is in the output buffer and command byte bit 0 is set.
    /// (Every byte here is from the keyboard side; IRQ 12 never fires.)
    public var irq1Asserted: Bool {
        outputBufferFull && commandByte & I8042CommandByte.keyboardInterrupt != 0
    }

    /// Takes a rising edge of IRQ 1: true once per byte that entered the output
    /// buffer with interrupts enabled (or per enabling while a byte waits).
    public mutating func takeIRQ1() -> Bool {
        let pending = irqPending
        irqPending = false
        return pending
    }

    private mutating func updateIRQ() {
        let level = irq1Asserted
        if level && !irqLine {
            irqPending = true
            irq1EdgeCount &+= 1
        }
        irqLine = level
    }

    // MARK: Key input (host side)

    /// Bytes waiting behind the output buffer.
    public var queuedCount: Int { controllerQueue.count + keyboardQueue.count }

    /// Types `ascii` as a US keyboard would: Shift and/or Ctrl make, key make,
    /// key break, modifier breaks. False (and counted) when there is no key for
    /// it, scanning is disabled, or the whole sequence does not fit the queue.
    @discardableResult
    public mutating func type(ascii: UInt8) -> Bool {
        guard let stroke = Scancode.keystroke(ascii: ascii) else { return false }
        var sequence = KeySequence()
        if stroke.shift { appendKey(&sequence, Scancode.leftShift) }
        if stroke.control { appendKey(&sequence, Scancode.leftControl) }
        appendKey(&sequence, stroke.scancode)
        appendKey(&sequence, stroke.scancode | Scancode.breakBit)
        if stroke.control { appendKey(&sequence, Scancode.leftControl | Scancode.breakBit) }
        if stroke.shift { appendKey(&sequence, Scancode.leftShift | Scancode.breakBit) }
        return deliver(sequence)
    }

    /// A raw key event as a set-1 code: a make code, or a break code with bit 7
    /// set; `extended` adds the E0 prefix. Converted to set 2 when the guest has
    /// the keyboard in set 2 without translation.
    @discardableResult
    public mutating func pressKey(scancode: UInt8, extended: Bool = false) -> Bool {
        var sequence = KeySequence()
        appendKey(&sequence, scancode, extended: extended)
        return deliver(sequence)
    }

    /// The break of the set-1 make code `scancode`.
    @discardableResult
    public mutating func releaseKey(scancode: UInt8, extended: Bool = false) -> Bool {
        pressKey(scancode: scancode | Scancode.breakBit, extended: extended)
    }

    /// A byte from the keyboard exactly as given (no conversion).
    @discardableResult
    public mutating func receiveFromKeyboard(_ byte: UInt8) -> Bool {
        var sequence = KeySequence()
        sequence.append(byte)
        return deliver(sequence)
    }

    /// Whether key events are encoded in set 2 (the keyboard is in set 2 and the
    /// controller does not translate). Otherwise the guest sees set 1. A
    /// keyboard in set 1 behind a translating controller would have its codes
    /// mangled by the translation; the model gives set 1 then.
    public var deliversSet2: Bool {
        scancodeSet == 2 && commandByte & I8042CommandByte.translate == 0
    }

    private func appendKey(_ sequence: inout KeySequence, _ code: UInt8, extended: Bool = false) {
        if extended { sequence.append(Scancode.extendedPrefix) }
        if deliversSet2 {
            if code & Scancode.breakBit != 0 { sequence.append(Scancode.set2BreakPrefix) }
            sequence.append(Scancode.set2(fromSet1: code))
        } else {
            sequence.append(code)
        }
    }

    /// Queues a whole sequence or nothing, so a dropped keystroke never leaves
    /// a modifier pressed.
    private mutating func deliver(_ sequence: KeySequence) -> Bool {
        guard scanningEnabled, keyboardQueue.space >= sequence.count else {
            droppedBytes &+= UInt64(sequence.count)
            droppedKeystrokes &+= 1
            return false
        }
        var i = 0
        while i < sequence.count {
            keyboardQueue.push(sequence.bytes[i])
            i += 1
        }
        refill()
        return true
    }

    // MARK: Internals

    /// Moves the next byte into an empty output buffer: controller replies
    /// first, then the keyboard's bytes unless its interface is disabled.
    private mutating func refill() {
        if !outputBufferFull {
            if let byte = controllerQueue.pop() {
                outputByte = byte
                outputBufferFull = true
            } else if commandByte & I8042CommandByte.keyboardDisabled == 0, let byte = keyboardQueue.pop() {
                outputByte = byte
                outputBufferFull = true
                lastKeyboardByte = byte
            }
        }
        updateIRQ()
    }

    private mutating func controllerReply(_ byte: UInt8) {
        _ = controllerQueue.push(byte)
    }

    private func ramByte(_ index: UInt8) -> UInt8 {
        index == 0 ? commandByte : internalRAM[Int(index)]
    }

    private mutating func controllerData(_ command: UInt8, _ value: UInt8) {
        switch command {
        case 0x60...0x7F:
            let index = command & 0x1F
            if index == 0 {
                commandByte = value
                systemFlag = value & I8042CommandByte.system != 0
            } else {
                internalRAM[Int(index)] = value
            }
        case I8042Command.writeOutputPort:
            a20Enabled = value & 0x02 != 0
            if value & 0x01 == 0 { resetRequested = true }  // bit 0 drives the CPU reset line, active low
        case I8042Command.writeKeyboardOutput:
            controllerReply(value)  // as if the keyboard had sent it; never translated
        case I8042Command.writeAuxOutput:
            // No auxiliary port: like an AT-type controller the loopback is not
            // implemented; the byte goes nowhere and the keyboard's "resend" to an
            // unknown command answers, which Linux's i8042 takes as "no AUX" at once.
            controllerReply(KeyboardReply.resend)
        case I8042Command.writeAux:
            auxBytesDiscarded &+= 1  // nothing attached answers
        default:
            break
        }
    }

    // MARK: The keyboard

    private mutating func keyboardReceive(_ value: UInt8) {
        let pending = pendingKeyboardCommand
        pendingKeyboardCommand = 0
        // An argument byte never has bit 7 set; a command byte in its place
        // abandons the command waiting for it and is executed instead.
        if pending != 0 && value & 0x80 == 0 {
            keyboardArgument(pending, value)
            return
        }
        switch value {
        case KeyboardCommand.setLEDs, KeyboardCommand.typematic, KeyboardCommand.scancodeSet:
            keyboardReply(KeyboardReply.ack)
            pendingKeyboardCommand = value
        case KeyboardCommand.echo:
            keyboardReply(KeyboardReply.echo)
        case KeyboardCommand.identify:
            let second = translating ? KeyboardReply.identity2Translated : KeyboardReply.identity2
            keyboardReply(KeyboardReply.ack, KeyboardReply.identity, second)
        case KeyboardCommand.enableScanning:
            // Enable: clears the keyboard's buffer and starts scanning.
            keyboardQueue.removeAll()
            scanningEnabled = true
            keyboardReply(KeyboardReply.ack)
        case KeyboardCommand.disableScanning:
            // Default Disable: defaults, clears the buffer, stops scanning.
            resetKeyboard(scanning: false)
            keyboardReply(KeyboardReply.ack)
        case KeyboardCommand.setDefaults:
            resetKeyboard(scanning: true)
            keyboardReply(KeyboardReply.ack)
        case KeyboardCommand.resend:
            keyboardReply(lastKeyboardByte)
        case KeyboardCommand.reset:
            resetKeyboard(scanning: true)
            keyboardReply(KeyboardReply.ack, KeyboardReply.selfTestPassed)
        default:
            keyboardReply(KeyboardReply.resend)
        }
    }

    private mutating func keyboardArgument(_ command: UInt8, _ value: UInt8) {
        switch command {
        case KeyboardCommand.setLEDs:
            leds = value & 0x07
            keyboardReply(KeyboardReply.ack)
        case KeyboardCommand.typematic:
            typematic = value
            keyboardReply(KeyboardReply.ack)
        default:  // scancode set
            if value == 0 {
                // Report the current set; through the 8042's translation the
                // numbers 1, 2, 3 read as 0x43, 0x41, 0x3F.
                let reported = translating ? Self.translatedSetNumber(scancodeSet) : scancodeSet
                keyboardReply(KeyboardReply.ack, reported)
            } else {
                // Sets 1 and 2 are supported; a request for set 3 is acknowledged
                // and ignored (reading the set back shows it).
                if value == 1 || value == 2 { scancodeSet = value }
                keyboardReply(KeyboardReply.ack)
            }
        }
    }

    private static func translatedSetNumber(_ set: UInt8) -> UInt8 {
        set == 1 ? 0x43 : 0x41
    }

    private var translating: Bool { commandByte & I8042CommandByte.translate != 0 }

    /// The keyboard's replies go ahead of keystrokes it has buffered.
    private mutating func keyboardReply(_ a: UInt8, _ b: UInt8? = nil, _ c: UInt8? = nil) {
        if let c { if keyboardQueue.pushFront(c) { droppedBytes &+= 1 } }
        if let b { if keyboardQueue.pushFront(b) { droppedBytes &+= 1 } }
        if keyboardQueue.pushFront(a) { droppedBytes &+= 1 }
    }

    private mutating func resetKeyboard(scanning: Bool) {
        keyboardQueue.removeAll()
        pendingKeyboardCommand = 0
        scancodeSet = 2
        leds = 0
        typematic = Self.defaultTypematic
        scanningEnabled = scanning
    }
}

/// Up to 12 bytes of one key event sequence, built on the stack.
private struct KeySequence {
    var bytes = InlineArray<12, UInt8>(repeating: 0)
    var count = 0

    mutating func append(_ byte: UInt8) {
        if count < 12 {
            bytes[count] = byte
            count += 1
        }
    }
}
