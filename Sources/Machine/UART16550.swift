// A National Semiconductor PC16550D UART (the PC's COM ports), as seen by a
// guest driver such as Linux's 8250: registers, FIFOs, interrupt identification,
// modem control and loopback. The line is infinitely fast: a byte written to
// THR is transmitted at once, so LSR.THRE and LSR.TEMT always read 1.

/// A 16550A UART at eight consecutive ports (COM1: 0x3F8–0x3FF, IRQ 4).
/// Transmitted bytes go to `sink`; the host feeds input with `receive(_:)`.
public struct UART16550<Sink: ByteSink>: ByteRegisterDevice {
    /// Where transmitted bytes go (not used in loopback mode).
    public var sink: Sink

    public private(set) var interruptEnable: UInt8 = 0
    public private(set) var lineControl: UInt8 = 0
    public private(set) var modemControl: UInt8 = 0
    public private(set) var scratch: UInt8 = 0
    /// DLM:DLL. Baud = 1.8432 MHz / (16 × divisor); 12 (9600 baud) at reset.
    public private(set) var divisorLatch: UInt16 = 12
    public private(set) var fifosEnabled = false
    /// FCR bits 7:6 (the receiver trigger level); informational, see `interruptIdentification`.
    public private(set) var receiverTrigger: UInt8 = 0
    /// The modem inputs (CTS, DSR, RI, DCD in MSR bits 7:4) outside loopback mode.
    /// A connected, ready terminal by default.
    public private(set) var modemInputs: UInt8 = UARTModemStatus.dcd | UARTModemStatus.dsr | UARTModemStatus.cts
    /// Bytes handed to `sink` since reset.
    public private(set) var transmittedCount: UInt64 = 0

    private var receiver = ByteFIFO()
    private var lineErrors: UInt8 = 0
    private var modemDeltas: UInt8 = 0
    /// The THRE interrupt latch: set when THR becomes empty, cleared by reading
    /// IIR while it is the reported source or by writing THR (datasheet Table IV).
    private var transmitterEmptyPending = false

    public init(sink: Sink) {
        self.sink = sink
    }

    /// Master reset: every register to its datasheet reset value (Table III);
    /// the sink and the transmitted count are kept.
    public mutating func reset() {
        interruptEnable = 0
        lineControl = 0
        modemControl = 0
        scratch = 0
        divisorLatch = 12
        fifosEnabled = false
        receiverTrigger = 0
        receiver.removeAll()
        lineErrors = 0
        modemDeltas = 0
        transmitterEmptyPending = false
    }

    // MARK: Device

    // Device: byte-wide registers (ByteRegisterDevice splits wider accesses).
    @inline(__always) public mutating func readByte(at offset: UInt64) -> UInt8 { readRegister(offset) }
    @inline(__always) public mutating func writeByte(at offset: UInt64, _ value: UInt8) { writeRegister(offset, value) }

    // MARK: Registers

    public mutating func readRegister(_ offset: UInt64) -> UInt8 {
        switch offset {
        case UARTRegister.data:
            if dlab { return UInt8(truncatingIfNeeded: divisorLatch) }
            return receiver.pop() ?? 0
        case UARTRegister.interruptEnable:
            if dlab { return UInt8(truncatingIfNeeded: divisorLatch >> 8) }
            return interruptEnable
        case UARTRegister.interruptIdentification:
            let id = interruptIdentification
            // Reading IIR clears a THRE interrupt when it is the one reported.
            if id == UARTInterruptID.transmitterEmpty { transmitterEmptyPending = false }
            return id | (fifosEnabled ? UARTInterruptID.fifosEnabled : 0)
        case UARTRegister.lineControl:
            return lineControl
        case UARTRegister.modemControl:
            return modemControl
        case UARTRegister.lineStatus:
            let value = lineStatus
            lineErrors = 0  // OE, PE, FE, BI clear on read
            return value
        case UARTRegister.modemStatus:
            let value = modemStatus
            modemDeltas = 0  // the delta bits clear on read
            return value
        case UARTRegister.scratch:
            return scratch
        default:
            return 0xFF
        }
    }

    public mutating func writeRegister(_ offset: UInt64, _ value: UInt8) {
        switch offset {
        case UARTRegister.data:
            if dlab {
                divisorLatch = (divisorLatch & 0xFF00) | UInt16(value)
            } else {
                transmit(value)
            }
        case UARTRegister.interruptEnable:
            if dlab {
                divisorLatch = (divisorLatch & 0x00FF) | UInt16(value) << 8
                return
            }
            let old = interruptEnable
            interruptEnable = value & UARTInterruptEnable.writable
            let thre = UARTInterruptEnable.transmitterEmpty
            // Enabling ETBEI while THR is empty raises the THRE interrupt at once;
            // Linux's start_tx relies on this to kick transmission.
            if interruptEnable & thre != 0 && old & thre == 0 { transmitterEmptyPending = true }
            if interruptEnable & thre == 0 { transmitterEmptyPending = false }
        case UARTRegister.interruptIdentification:
            writeFIFOControl(value)
        case UARTRegister.lineControl:
            lineControl = value
        case UARTRegister.modemControl:
            let before = modemStatusLines
            modemControl = value & UARTModemControl.writable
            noteModemLines(from: before)
        case UARTRegister.scratch:
            scratch = value
        default:
            break  // LSR and MSR writes are factory-test only; ignored.
        }
    }

    // MARK: Host side

    /// Delivers a byte from the host (keyboard, pipe) to the receiver.
    /// Returns false when it was lost: in loopback mode (the serial input is
    /// disconnected) or on an overrun (LSR.OE is then set).
    @discardableResult
    public mutating func receive(_ byte: UInt8) -> Bool {
        if loopback { return false }
        return deliver(byte)
    }

    /// How many bytes `receive(_:)` can take now without an overrun.
    public var receiveSpace: Int {
        if loopback { return 0 }
        return receiverCapacity - receiver.count
    }

    /// Sets the modem inputs (CTS, DSR, RI, DCD: MSR bits 7:4) seen outside loopback.
    public mutating func setModemInputs(_ lines: UInt8) {
        let before = modemStatusLines
        modemInputs = lines & 0xF0
        noteModemLines(from: before)
    }

    /// Whether the UART's interrupt output is active (IIR bit 0 clear).
    public var interruptPending: Bool {
        interruptIdentification != UARTInterruptID.none
    }

    /// The PC's IRQ line for this UART: the interrupt output is gated onto the
    /// ISA bus by MCR.OUT2, which loopback mode forces inactive.
    /// (Inlined: the exit path asks after every COM1 access, and a call here made the
    /// compiler copy the whole UART to the stack first.)
    @inline(__always)
    public var irqAsserted: Bool {
        modemControl & UARTModemControl.out2 != 0 && !loopback && interruptPending
    }

    /// The IIR interrupt ID (bits 3:0) without side effects, highest priority
    /// first (datasheet Table IV): line status, received data, THR empty, modem status.
    public var interruptIdentification: UInt8 {
        let ier = interruptEnable
        if ier & UARTInterruptEnable.lineStatus != 0 && lineErrors != 0 {
            return UARTInterruptID.receiverLineStatus
        }
        // Without a notion of time, data below the FIFO trigger level is reported
        // at once (as if the character time-out had elapsed) with ID 0x4.
        if ier & UARTInterruptEnable.receivedData != 0 && !receiver.isEmpty {
            return UARTInterruptID.receivedDataAvailable
        }
        if ier & UARTInterruptEnable.transmitterEmpty != 0 && transmitterEmptyPending {
            return UARTInterruptID.transmitterEmpty
        }
        if ier & UARTInterruptEnable.modemStatus != 0 && modemDeltas != 0 {
            return UARTInterruptID.modemStatus
        }
        return UARTInterruptID.none
    }

    /// LSR without the read side effect. THR and the shift register are always
    /// empty because transmission is instantaneous.
    public var lineStatus: UInt8 {
        var value = UARTLineStatus.transmitterHoldingEmpty | UARTLineStatus.transmitterEmpty | lineErrors
        if !receiver.isEmpty { value |= UARTLineStatus.dataReady }
        return value
    }

    /// MSR without the read side effect.
    public var modemStatus: UInt8 {
        modemStatusLines | modemDeltas
    }

    /// Bytes waiting in the receiver.
    public var receivedCount: Int { receiver.count }

    public var loopback: Bool { modemControl & UARTModemControl.loopback != 0 }

    // MARK: Internals

    private var dlab: Bool { lineControl & UARTLineControl.divisorLatchAccess != 0 }

    /// 16 bytes with FIFOs enabled; the single RBR in 16450 mode.
    private var receiverCapacity: Int { fifosEnabled ? ByteFIFO.depth : 1 }

    private mutating func transmit(_ byte: UInt8) {
        transmitterEmptyPending = false  // writing THR clears the THRE interrupt
        if loopback {
            // Loopback: the transmitter output feeds the receiver input (datasheet 8.6).
            _ = deliver(byte)
        } else {
            sink.put(byte)
            transmittedCount &+= 1
        }
        // The byte left at once, so THR is empty again: the THRE interrupt re-arms.
        transmitterEmptyPending = true
    }

    private mutating func deliver(_ byte: UInt8) -> Bool {
        if receiver.push(byte, limit: receiverCapacity) { return true }
        lineErrors |= UARTLineStatus.overrunError
        // FIFO mode: the new character is lost. 16450 mode: it overwrites RBR.
        if !fifosEnabled { receiver.overwriteNewest(byte) }
        return false
    }

    private mutating func writeFIFOControl(_ value: UInt8) {
        let enable = value & UARTFIFOControl.enable != 0
        // Changing FCR bit 0 clears both FIFOs; other bits take effect only
        // with bit 0 set (datasheet 8.4).
        if enable != fifosEnabled {
            receiver.removeAll()
            fifosEnabled = enable
        }
        guard enable else { return }
        if value & UARTFIFOControl.resetReceiver != 0 { receiver.removeAll() }
        receiverTrigger = value & UARTFIFOControl.triggerMask
    }

    /// MSR bits 7:4. In loopback the modem outputs drive the inputs:
    /// RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD (datasheet 8.6); Linux's 8250
    /// autoconfig checks this.
    private var modemStatusLines: UInt8 {
        guard loopback else { return modemInputs }
        let mcr = modemControl
        var lines: UInt8 = 0
        if mcr & UARTModemControl.rts != 0 { lines |= UARTModemStatus.cts }
        if mcr & UARTModemControl.dtr != 0 { lines |= UARTModemStatus.dsr }
        if mcr & UARTModemControl.out1 != 0 { lines |= UARTModemStatus.ri }
        if mcr & UARTModemControl.out2 != 0 { lines |= UARTModemStatus.dcd }
        return lines
    }

    private mutating func noteModemLines(from before: UInt8) {
        let after = modemStatusLines
        let changed = before ^ after
        if changed & UARTModemStatus.cts != 0 { modemDeltas |= UARTModemStatus.deltaCTS }
        if changed & UARTModemStatus.dsr != 0 { modemDeltas |= UARTModemStatus.deltaDSR }
        // TERI is set on the trailing edge only (RI going inactive).
        if before & UARTModemStatus.ri != 0 && after & UARTModemStatus.ri == 0 {
            modemDeltas |= UARTModemStatus.trailingEdgeRI
        }
        if changed & UARTModemStatus.dcd != 0 { modemDeltas |= UARTModemStatus.deltaDCD }
    }
}
