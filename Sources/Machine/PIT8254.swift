// The PC's Intel 8254 programmable interval timer (ports 0x40–0x43) with the
// channel-2 gate and output bits of port 0x61. Rules quoted below are from the
// Intel 82C54 datasheet (order 231244).
//
// Time is explicit: the owner tells the device what time it is, in PIT input
// clocks (1,193,182 Hz), with `advance(to:)` before an access; the device
// never reads a clock. Each counter is evaluated in closed form from the tick
// at which its count was loaded, so advancing time costs nothing and there is
// no per-tick simulation. Channel 0's OUT is IRQ 0: `takeIRQ0Edges(upTo:)`
// counts its rising edges and `nextIRQ0Tick(after:)` says when the next is due.
//
// PC wiring: the gates of channels 0 and 1 are tied high; channel 2's gate is
// port 0x61 bit 0 and its OUT is readable as port 0x61 bit 5.

/// One counter of the 8254.
public struct PIT8254Channel: Sendable {
    /// The counter mode, 0–5 (control-word modes 6 and 7 are 2 and 3).
    public private(set) var mode: UInt8 = 0
    /// The read/write access mode: 1 low byte, 2 high byte, 3 low then high.
    public private(set) var accessMode: UInt8 = 3
    /// Whether the counter counts in BCD (four decades, 0–9999).
    public private(set) var bcd = false
    /// Bits 5:0 of the last control word, as the read-back status reports them.
    public private(set) var controlBits: UInt8 = 0x30
    /// The GATE input.
    public private(set) var gate: Bool
    /// The last count written, 1–65536 (1–10000 in BCD; a written 0 is the maximum).
    public private(set) var initialCount: UInt32 = 0x1_0000

    /// A count has been written since the control word: the counter runs (in
    /// modes 1 and 5 once triggered as well).
    var armed = false
    /// The count of the running segment and the tick it was loaded into the
    /// counting element: counting starts there, so elapsed clocks = t - loadTick.
    var loadTick: UInt64 = 0
    var count: UInt32 = 0x1_0000
    /// Modes 2 and 3: a count written while counting takes over at the end of
    /// the current cycle (`loadTick`); until then this segment still runs.
    var hasPrevious = false
    var previousLoadTick: UInt64 = 0
    var previousCount: UInt32 = 0
    /// Counting suspended by a low gate: modes 0 and 4 keep `frozenElapsed`,
    /// modes 2 and 3 hold `frozenValue` with OUT high.
    var frozen = false
    var frozenElapsed: UInt64 = 0
    var frozenValue: UInt32 = 0
    /// Modes 1 and 5: a gate trigger has loaded the count.
    var triggered = false
    /// What reads return while the counter is not counting.
    var idleValue: UInt32 = 0

    var writeHighNext = false
    var pendingLow: UInt8 = 0
    var readHighNext = false
    var latchedCount: UInt16? = nil
    var latchedStatus: UInt8? = nil

    init(gate: Bool) {
        self.gate = gate
    }

    /// Whether a counter latch (count or read-back status) is waiting to be read.
    public var hasLatch: Bool { latchedCount != nil || latchedStatus != nil }

    /// The counter's modulus: 2^16 in binary, 10^4 in BCD.
    private var modulus: UInt64 { bcd ? 10_000 : 0x1_0000 }

    /// Modes 2 and 3 need at least two clocks per cycle ("a count of 1 is
    /// illegal" in mode 2); a count of 1 runs as 2.
    @inline(__always)
    private static func period(_ count: UInt32) -> UInt64 {
        count < 2 ? 2 : UInt64(count)
    }

    @inline(__always)
    private static func elapsed(_ tick: UInt64, since load: UInt64) -> UInt64 {
        tick >= load ? tick &- load : 0
    }

    /// `count - elapsed`, wrapping at the modulus (0 reads as the maximum count).
    private func wrapped(_ count: UInt32, minus elapsed: UInt64) -> UInt32 {
        let m = modulus
        return UInt32(truncatingIfNeeded: (UInt64(count) % m &+ m &- elapsed % m) % m)
    }

    // MARK: Evaluation at a tick

    /// The counting element and OUT at `tick` (not before the last mutation).
    public func state(at tick: UInt64) -> (value: UInt32, output: Bool) {
        guard armed else { return (idleValue, mode != 0) }
        switch mode {
        case 0, 4:
            let e = frozen ? frozenElapsed : PIT8254Channel.elapsed(tick, since: loadTick)
            // Mode 0: "OUT does not go high until N+1 CLK pulses after the
            // initial count is written" and stays high; the counter wraps on.
            // Mode 4: OUT strobes low for one clock when the count reaches 0.
            let output = mode == 0 ? e >= UInt64(count) : e != UInt64(count)
            return (wrapped(count, minus: e), output)
        case 1, 5:
            guard triggered else { return (initialCount, true) }
            let e = PIT8254Channel.elapsed(tick, since: loadTick)
            // Mode 1: OUT low from the clock after the trigger to terminal count.
            // Mode 5: OUT strobes low for one clock at terminal count.
            let output: Bool
            if mode == 1 {
                output = tick < loadTick || e >= UInt64(count)
            } else {
                output = e != UInt64(count)
            }
            return (wrapped(count, minus: e), output)
        default:
            // Modes 2 and 3: a low gate forces OUT high and stops counting.
            if frozen { return (frozenValue, true) }
            var load = loadTick
            var n = count
            if hasPrevious && tick < loadTick {
                load = previousLoadTick
                n = previousCount
            }
            if tick < load { return (n, true) }
            let p = PIT8254Channel.period(n)
            let phase = (tick &- load) % p
            if mode == 2 {
                // The count runs N..1; OUT is low while it reads 1, then the
                // reload puts it back high: one rising edge per N clocks.
                return (UInt32(truncatingIfNeeded: p &- phase), phase != p &- 1)
            }
            // Mode 3: OUT high for ceil(N/2) clocks, low for floor(N/2). The
            // count steps by 2: even N from N, odd N from N-1 (datasheet:
            // "the initial count minus one is loaded").
            let high = (p &+ 1) / 2
            let inHigh = phase < high
            let step = inHigh ? phase : phase &- high
            let start = p & 1 == 0 ? p : p &- 1
            return (UInt32(truncatingIfNeeded: start &- 2 &* step), inHigh)
        }
    }

    /// Rising edges of OUT in the interval (after, through]. Assumes the gate
    /// did not change in the interval (true for channels 0 and 1).
    public func risingEdges(after start: UInt64, through end: UInt64) -> UInt64 {
        guard end > start, armed, !frozen else { return 0 }
        switch mode {
        case 0, 1:
            if mode == 1 && !triggered { return 0 }
            return PIT8254Channel.single(loadTick &+ UInt64(count), start, end)
        case 4, 5:
            if mode == 5 && !triggered { return 0 }
            return PIT8254Channel.single(loadTick &+ UInt64(count) &+ 1, start, end)
        default:
            var edges: UInt64 = 0
            if hasPrevious {
                // The old cycle's last edge is exactly `loadTick`.
                let p = PIT8254Channel.period(previousCount)
                edges = PIT8254Channel.periodicUpTo(min(end, loadTick), previousLoadTick, p)
                    &- PIT8254Channel.periodicUpTo(min(start, loadTick), previousLoadTick, p)
            }
            let p = PIT8254Channel.period(count)
            return edges &+ PIT8254Channel.periodicUpTo(end, loadTick, p)
                &- PIT8254Channel.periodicUpTo(start, loadTick, p)
        }
    }

    /// The first rising edge of OUT strictly after `tick`, if one is coming
    /// without further programming (or a gate change).
    public func nextRisingEdge(after tick: UInt64) -> UInt64? {
        guard armed, !frozen else { return nil }
        let edge: UInt64
        switch mode {
        case 0, 1:
            if mode == 1 && !triggered { return nil }
            edge = loadTick &+ UInt64(count)
        case 4, 5:
            if mode == 5 && !triggered { return nil }
            edge = loadTick &+ UInt64(count) &+ 1
        default:
            if hasPrevious && tick < loadTick {
                return PIT8254Channel.nextPeriodic(after: tick, previousLoadTick, PIT8254Channel.period(previousCount))
            }
            return PIT8254Channel.nextPeriodic(after: tick, loadTick, PIT8254Channel.period(count))
        }
        return edge > tick ? edge : nil
    }

    @inline(__always)
    private static func single(_ edge: UInt64, _ start: UInt64, _ end: UInt64) -> UInt64 {
        start < edge && edge <= end ? 1 : 0
    }

    /// Edges at load + k·period (k ≥ 1) that are ≤ tick.
    @inline(__always)
    private static func periodicUpTo(_ tick: UInt64, _ load: UInt64, _ period: UInt64) -> UInt64 {
        tick >= load ? (tick &- load) / period : 0
    }

    @inline(__always)
    private static func nextPeriodic(after tick: UInt64, _ load: UInt64, _ period: UInt64) -> UInt64 {
        if tick < load { return load &+ period }
        return load &+ ((tick &- load) / period &+ 1) &* period
    }

    // MARK: Programming

    /// Drops a deferred-reload segment once time has passed its end.
    mutating func settle(now: UInt64) {
        if hasPrevious && now >= loadTick { hasPrevious = false }
    }

    /// A control word (not a latch command) for this counter: "all control
    /// logic is immediately reset and OUT goes to a known initial state" —
    /// low in mode 0, high otherwise — and counting waits for a new count.
    mutating func writeControl(_ value: UInt8, now: UInt64) {
        var newMode = (value >> 1) & 0x07
        if newMode >= 6 { newMode &-= 4 }  // x10 and x11: modes 2 and 3
        idleValue = state(at: now).value
        mode = newMode
        accessMode = (value >> 4) & 0x03
        bcd = value & 0x01 != 0
        controlBits = value & 0x3F
        armed = false
        hasPrevious = false
        frozen = false
        triggered = false
        writeHighNext = false
        readHighNext = false
        latchedCount = nil
        latchedStatus = nil
    }

    /// A byte written to the counter's port.
    mutating func writeCount(_ byte: UInt8, now: UInt64) {
        settle(now: now)
        let raw: UInt16
        switch accessMode {
        case 1:
            raw = UInt16(byte)
        case 2:
            raw = UInt16(byte) << 8
        default:
            if !writeHighNext {
                pendingLow = byte
                writeHighNext = true
                // Mode 0: "writing the first byte disables counting"; OUT is
                // low until the new count expires.
                if mode == 0 && armed {
                    idleValue = state(at: now).value
                    armed = false
                }
                return
            }
            writeHighNext = false
            raw = UInt16(pendingLow) | UInt16(byte) << 8
        }
        load(decode(raw), now: now)
    }

    /// The written count as a number of clocks; 0 is the maximum (2^16 or 10^4).
    private func decode(_ raw: UInt16) -> UInt32 {
        var value = UInt32(raw)
        if bcd {
            // Each nibble is one decade; non-decimal nibbles are taken at face value.
            value = UInt32(raw >> 12) * 1000 + UInt32((raw >> 8) & 0xF) * 100
                + UInt32((raw >> 4) & 0xF) * 10 + UInt32(raw & 0xF)
            return value == 0 ? 10_000 : value
        }
        return value == 0 ? 0x1_0000 : value
    }

    /// The counter's value as read from the port: binary truncated to 16 bits
    /// (the maximum count reads as 0), or four BCD digits.
    func encode(_ value: UInt32) -> UInt16 {
        guard bcd else { return UInt16(truncatingIfNeeded: value) }
        var v = value % 10_000
        var result: UInt16 = 0
        var shift: UInt16 = 0
        while shift < 16 {
            result |= UInt16(v % 10) << shift
            v /= 10
            shift += 4
        }
        return result
    }

    private mutating func load(_ newCount: UInt32, now: UInt64) {
        initialCount = newCount
        switch mode {
        case 0, 4:
            // "After a count is written, the new count is loaded on the next
            // CLK pulse"; a new count restarts the counter either way.
            count = newCount
            loadTick = now &+ 1
            armed = true
            frozen = !gate
            frozenElapsed = 0
        case 1, 5:
            // Loaded by the next gate trigger; a one-shot in progress is not
            // affected.
            if !armed || !triggered { count = newCount }
            armed = true
        default:
            if armed && !frozen && now >= loadTick {
                // Mode 2: "if a new count is written during counting, it is
                // loaded at the end of the current counting cycle" (mode 3
                // reloads at the end of a half-cycle; we use the full cycle so
                // that every segment starts with OUT high).
                if hasPrevious {
                    count = newCount
                } else {
                    let p = PIT8254Channel.period(count)
                    let cycles = (now &- loadTick) / p &+ 1
                    previousLoadTick = loadTick
                    previousCount = count
                    hasPrevious = true
                    loadTick = loadTick &+ cycles &* p
                    count = newCount
                }
            } else {
                count = newCount
                loadTick = now &+ 1
                armed = true
                hasPrevious = false
                if !gate {
                    // Counting waits for the gate; OUT stays high meanwhile.
                    frozen = true
                    frozenValue = newCount
                }
            }
        }
    }

    /// GATE changes (only channel 2's on the PC).
    mutating func setGate(_ high: Bool, now: UInt64) {
        settle(now: now)
        guard high != gate else { return }
        gate = high
        guard armed else { return }
        switch mode {
        case 0, 4:
            // Gate low suspends counting; gate high resumes on the next clock.
            if !high {
                if !frozen {
                    frozenElapsed = PIT8254Channel.elapsed(now, since: loadTick)
                    frozen = true
                }
            } else if frozen {
                loadTick = now &+ 1 &- frozenElapsed
                frozen = false
            }
        case 1, 5:
            // A rising edge triggers (or retriggers) the one-shot: the initial
            // count is loaded on the next clock.
            if high {
                triggered = true
                count = initialCount
                loadTick = now &+ 1
            }
        default:
            // Modes 2 and 3: gate low stops counting and forces OUT high; the
            // rising edge reloads the initial count on the next clock.
            if !high {
                if !frozen {
                    frozenValue = state(at: now).value
                    frozen = true
                    hasPrevious = false
                }
            } else if frozen {
                frozen = false
                count = initialCount
                loadTick = now &+ 1
            }
        }
    }

    /// The counter latch command: the count at this moment is held for reading
    /// until read ("if a Counter is latched and then, some time later, latched
    /// again before the count is read, the second Counter Latch Command is ignored").
    mutating func latchCount(now: UInt64) {
        if latchedCount == nil { latchedCount = encode(state(at: now).value) }
    }

    /// Read-back status latch: OUT (bit 7), NULL COUNT (bit 6), control bits 5:0.
    mutating func latchStatus(now: UInt64) {
        guard latchedStatus == nil else { return }
        let s = state(at: now)
        var status = controlBits
        if s.output { status |= 0x80 }
        if nullCount(now: now) { status |= 0x40 }
        latchedStatus = status
    }

    /// Whether the last count written has not yet been loaded into the counting element.
    func nullCount(now: UInt64) -> Bool {
        if !armed || now < loadTick { return true }
        return (mode == 1 || mode == 5) && !triggered
    }

    /// A byte read from the counter's port: a latched status first, then the
    /// latched count or the live count, low/high byte per the access mode.
    mutating func readCount(now: UInt64) -> UInt8 {
        if let status = latchedStatus {
            latchedStatus = nil
            return status
        }
        let value = latchedCount ?? encode(state(at: now).value)
        switch accessMode {
        case 1:
            latchedCount = nil
            return UInt8(truncatingIfNeeded: value)
        case 2:
            latchedCount = nil
            return UInt8(truncatingIfNeeded: value >> 8)
        default:
            if !readHighNext {
                readHighNext = true
                return UInt8(truncatingIfNeeded: value)
            }
            readHighNext = false
            latchedCount = nil
            return UInt8(truncatingIfNeeded: value >> 8)
        }
    }
}

/// The 8254 at 0x40–0x43 plus port 0x61. As a `Device`, offsets are relative
/// to port 0x40: 0–2 are the counters, 3 the control word, and 0x21 is port
/// 0x61; the bus routes only `counterPorts` and `systemControlPorts` here.
public struct PIT8254: ByteRegisterDevice, Sendable {
    /// The input clock of every counter, in Hz.
    public static let frequency: UInt64 = 1_193_182
    public static let counterPorts = PortRange(base: 0x40, count: 4)
    public static let systemControlPorts = PortRange(base: 0x61, count: 1)
    /// The port that `Device` offsets are relative to.
    public static let basePort: UInt16 = 0x40
    /// The `Device` offset of port 0x61.
    public static let systemControlOffset: UInt64 = 0x21
    public static let controlOffset: UInt64 = 3
    public static let irq: UInt8 = 0

    /// The count that makes a mode-0 one-shot ("interrupt on terminal count", §8254 mode 0) fire
    /// `ticks` of a `tscHz` clock from now, rounded down and kept in 1...65,535 (a count of 0 would
    /// mean 65,536): a deadline past 54.9 ms needs more than one shot. The host's own timer on CPUs
    /// without the VMX-preemption timer is armed with it.
    @inline(__always)
    public static func oneShotCount(ticks: UInt64, tscHz: UInt64) -> UInt16 {
        guard ticks > 0, tscHz > 0 else { return 1 }
        let (high, low) = ticks.multipliedFullWidth(by: frequency)
        if high >= tscHz { return 0xFFFF }        // the quotient would not fit in 64 bits
        let quotient = tscHz.dividingFullWidth((high, low)).quotient
        return UInt16(min(max(quotient, 1), 0xFFFF))
    }

    /// The current time in PIT clocks, as last given by the owner.
    public private(set) var now: UInt64
    public private(set) var channel0 = PIT8254Channel(gate: true)
    public private(set) var channel1 = PIT8254Channel(gate: true)
    public private(set) var channel2 = PIT8254Channel(gate: false)
    /// Port 0x61's writable bits.
    public private(set) var portB = SystemControlPortB()

    /// Channel 0 rising edges already counted but not yet taken, and the tick
    /// they were counted through.
    private var irq0Edges: UInt64 = 0
    private var irq0CountedThrough: UInt64

    /// Power-on: every counter idle (no count written), so there is no IRQ 0
    /// until the guest programs channel 0; the channel-2 gate is low.
    public init(now: UInt64 = 0) {
        self.now = now
        irq0CountedThrough = now
    }

    /// The `Device` offset of `port`, or nil when it is not a PIT port.
    public static func offset(ofPort port: UInt16) -> UInt64? {
        if counterPorts.contains(port) || systemControlPorts.contains(port) {
            return UInt64(port &- basePort)
        }
        return nil
    }

    /// Converts a span of `ticksPerSecond` clocks (a TSC, say) to PIT clocks,
    /// without overflow for any 64-bit input.
    public static func pitTicks(fromTicks ticks: UInt64, ticksPerSecond: UInt64) -> UInt64 {
        guard ticksPerSecond > 0 else { return 0 }
        let product = ticks.multipliedFullWidth(by: frequency)
        if product.high >= ticksPerSecond { return UInt64.max }
        return ticksPerSecond.dividingFullWidth((product.high, product.low)).quotient
    }

    // MARK: Time

    /// Moves the device's clock forward to `tick` (PIT clocks since an
    /// arbitrary epoch). Earlier times are ignored: time never runs backwards.
    public mutating func advance(to tick: UInt64) {
        if tick > now { now = tick }
    }

    /// Advances to `tick` and returns how many rising edges channel 0's OUT
    /// (IRQ 0) has made since the last call (or since power-on).
    public mutating func takeIRQ0Edges(upTo tick: UInt64) -> Int {
        advance(to: tick)
        countIRQ0Edges()
        let edges = irq0Edges
        irq0Edges = 0
        return edges > UInt64(Int.max) ? Int.max : Int(edges)
    }

    /// The tick of channel 0's next rising edge strictly after `tick`, if its
    /// current programming produces one; arm a host timer for it.
    public func nextIRQ0Tick(after tick: UInt64) -> UInt64? {
        channel0.nextRisingEdge(after: tick)
    }

    /// Channel 0's OUT (the IRQ 0 line level) now.
    public var irq0Level: Bool { channel0.state(at: now).output }

    private mutating func countIRQ0Edges() {
        irq0Edges &+= channel0.risingEdges(after: irq0CountedThrough, through: now)
        if now > irq0CountedThrough { irq0CountedThrough = now }
    }

    // MARK: Inspection

    /// Counter `index` (0–2); out-of-range indices give channel 2.
    public func channel(_ index: Int) -> PIT8254Channel {
        switch index {
        case 0: return channel0
        case 1: return channel1
        default: return channel2
        }
    }

    /// OUT of counter `index` now.
    public func output(channel index: Int) -> Bool {
        channel(index).state(at: now).output
    }

    /// The counting element of counter `index` now (65536 is the maximum count).
    public func counterValue(channel index: Int) -> UInt32 {
        channel(index).state(at: now).value
    }

    /// Whether channel 2's output reaches the speaker (gate and speaker data set).
    public var speakerEnabled: Bool { portB.speakerEnabled && portB.timer2GateHigh }

    // MARK: Device

    // Device: byte-wide registers (ByteRegisterDevice splits wider accesses).
    @inline(__always) public mutating func readByte(at offset: UInt64) -> UInt8 { readRegister(offset) }
    @inline(__always) public mutating func writeByte(at offset: UInt64, _ value: UInt8) { writeRegister(offset, value) }

    /// One byte at a `Device` offset (0–3, 0x21) at the current time.
    public mutating func readRegister(_ offset: UInt64) -> UInt8 {
        switch offset {
        case 0: return channel0.readCount(now: now)
        case 1: return channel1.readCount(now: now)
        case 2: return channel2.readCount(now: now)
        case PIT8254.systemControlOffset: return readSystemControl()
        default: return 0xFF  // the control word register is write-only
        }
    }

    public mutating func writeRegister(_ offset: UInt64, _ value: UInt8) {
        switch offset {
        case 0:
            countIRQ0Edges()  // edges of the old programming are kept
            channel0.writeCount(value, now: now)
        case 1:
            channel1.writeCount(value, now: now)
        case 2:
            channel2.writeCount(value, now: now)
        case PIT8254.controlOffset:
            writeControl(value)
        case PIT8254.systemControlOffset:
            writeSystemControl(value)
        default:
            break
        }
    }

    /// A byte read of an I/O port (0x40–0x43, 0x61; others read 0xFF).
    public mutating func readPort(_ port: UInt16) -> UInt8 {
        guard let offset = PIT8254.offset(ofPort: port) else { return 0xFF }
        return readRegister(offset)
    }

    /// A byte write of an I/O port (0x40–0x43, 0x61; others ignored).
    public mutating func writePort(_ port: UInt16, _ value: UInt8) {
        guard let offset = PIT8254.offset(ofPort: port) else { return }
        writeRegister(offset, value)
    }

    // MARK: Control word

    /// Port 0x43: SC1:SC0 (bits 7:6) select the counter, or 11 is the
    /// read-back command; RW1:RW0 (bits 5:4) = 00 is the counter latch command.
    private mutating func writeControl(_ value: UInt8) {
        let select = value >> 6
        if select == 3 {
            readBack(value)
            return
        }
        let isLatch = (value >> 4) & 0x03 == 0
        if select == 0 && !isLatch { countIRQ0Edges() }
        switch select {
        case 0:
            if isLatch { channel0.latchCount(now: now) } else { channel0.writeControl(value, now: now) }
        case 1:
            if isLatch { channel1.latchCount(now: now) } else { channel1.writeControl(value, now: now) }
        default:
            if isLatch { channel2.latchCount(now: now) } else { channel2.writeControl(value, now: now) }
        }
    }

    /// Read-back (8254 only): bit 5 = 0 latches the count, bit 4 = 0 latches
    /// the status, bits 3:1 select counters 2, 1, 0. A counter with both
    /// latched returns the status byte first.
    private mutating func readBack(_ value: UInt8) {
        let latchCount = value & 0x20 == 0
        let latchStatus = value & 0x10 == 0
        if value & 0x02 != 0 {
            if latchStatus { channel0.latchStatus(now: now) }
            if latchCount { channel0.latchCount(now: now) }
        }
        if value & 0x04 != 0 {
            if latchStatus { channel1.latchStatus(now: now) }
            if latchCount { channel1.latchCount(now: now) }
        }
        if value & 0x08 != 0 {
            if latchStatus { channel2.latchStatus(now: now) }
            if latchCount { channel2.latchCount(now: now) }
        }
    }

    // MARK: Port 0x61

    /// Port 0x61 now: the latched bits 3:0, the refresh toggle (bit 4) and
    /// channel 2's OUT (bit 5).
    public func readSystemControl() -> UInt8 {
        portB.read(tick: now, timer2Output: channel2.state(at: now).output)
    }

    /// A write to port 0x61: bit 0 drives channel 2's gate, bit 1 the speaker.
    public mutating func writeSystemControl(_ value: UInt8) {
        portB.write(value)
        channel2.setGate(portB.timer2GateHigh, now: now)
    }
}
