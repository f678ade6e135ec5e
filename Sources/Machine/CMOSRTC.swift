// A Motorola MC146818A real-time clock with its 128 bytes of CMOS RAM, as
// wired in the PC/AT: index port 0x70, data port 0x71, IRQ 8.
//
// The device never reads a clock. Its owner sets the wall-clock time
// (`setTime`) and feeds elapsed time (`advance(to:)` in monotonic nanoseconds,
// or `advance(ticks:)` in 32.768 kHz time-base ticks); the owner should advance
// the device before forwarding a guest access so that UIP and the flags are current.
//
// The clock is kept internally in binary, 24-hour form and converted on every
// access according to register B (DM, 24/12). So, unlike the real chip, flipping
// DM or 24/12 without rewriting the time re-encodes it instead of producing
// garbage; guests (Linux, Windows, BIOSes) never rely on the garbage.

/// CMOS register indices (the value written to port 0x70, bits 6:0).
public enum CMOSRegister {
    public static let seconds: UInt8 = 0x00
    public static let secondsAlarm: UInt8 = 0x01
    public static let minutes: UInt8 = 0x02
    public static let minutesAlarm: UInt8 = 0x03
    public static let hours: UInt8 = 0x04
    public static let hoursAlarm: UInt8 = 0x05
    /// 1 = Sunday ... 7 = Saturday.
    public static let dayOfWeek: UInt8 = 0x06
    public static let dayOfMonth: UInt8 = 0x07
    public static let month: UInt8 = 0x08
    /// The year within the century, 0...99.
    public static let year: UInt8 = 0x09
    public static let statusA: UInt8 = 0x0A
    public static let statusB: UInt8 = 0x0B
    public static let statusC: UInt8 = 0x0C
    public static let statusD: UInt8 = 0x0D
    /// Base memory in KiB (little-endian word), normally 640.
    public static let baseMemoryLow: UInt8 = 0x15
    public static let baseMemoryHigh: UInt8 = 0x16
    /// Memory above 1 MiB in KiB (word, saturating at 0xFFFF).
    public static let extendedMemoryLow: UInt8 = 0x17
    public static let extendedMemoryHigh: UInt8 = 0x18
    /// The AT checksum (big-endian) of bytes 0x10–0x2D.
    public static let checksumHigh: UInt8 = 0x2E
    public static let checksumLow: UInt8 = 0x2F
    /// A copy of 0x17/0x18 (the POST-detected extended memory).
    public static let extendedMemory2Low: UInt8 = 0x30
    public static let extendedMemory2High: UInt8 = 0x31
    /// The century (IBM AT convention; ACPI FADT.CENTURY normally points here).
    public static let century: UInt8 = 0x32
    /// Memory above 16 MiB in 64 KiB units (word, saturating), as SeaBIOS/QEMU use it.
    public static let memoryAbove16MiBLow: UInt8 = 0x34
    public static let memoryAbove16MiBHigh: UInt8 = 0x35
    /// Memory above 4 GiB in 64 KiB units (3 bytes, little-endian), the QEMU convention.
    public static let memoryAbove4GiB: UInt8 = 0x5B
}

/// Register A bits.
public enum RTCStatusA {
    /// UIP: an update cycle is in progress or starts within 244 µs. Read-only.
    public static let updateInProgress: UInt8 = 0x80
    /// DV2–DV0: the time-base divider.
    public static let dividerMask: UInt8 = 0x70
    /// DV = 010: a 32.768 kHz time base, running (what every PC programs).
    public static let divider32kHz: UInt8 = 0x20
    /// RS3–RS0: the periodic-interrupt rate select.
    public static let rateMask: UInt8 = 0x0F
}

/// Register B bits.
public enum RTCStatusB {
    /// SET: updates are inhibited so the time can be written.
    public static let set: UInt8 = 0x80
    public static let periodicInterruptEnable: UInt8 = 0x40
    public static let alarmInterruptEnable: UInt8 = 0x20
    public static let updateEndedInterruptEnable: UInt8 = 0x10
    /// Stored only: the SQW pin is not connected on the PC.
    public static let squareWaveEnable: UInt8 = 0x08
    /// DM: 1 = binary, 0 = BCD.
    public static let binary: UInt8 = 0x04
    /// 1 = 24-hour, 0 = 12-hour (hours bit 7 = PM).
    public static let hour24: UInt8 = 0x02
    /// Stored only: the chip's built-in (pre-1987 US) daylight-saving switch is
    /// not modelled; PC operating systems never enable it.
    public static let daylightSavingEnable: UInt8 = 0x01
}

/// Register C bits (read-only; reading C clears them).
public enum RTCStatusC {
    /// IRQF = PF·PIE + AF·AIE + UF·UIE: the IRQ output is active.
    public static let interruptRequest: UInt8 = 0x80
    public static let periodic: UInt8 = 0x40
    public static let alarm: UInt8 = 0x20
    public static let updateEnded: UInt8 = 0x10
}

/// Register D bits.
public enum RTCStatusD {
    /// VRT: the RAM and time are valid (the battery is good). Always set.
    public static let validRAMAndTime: UInt8 = 0x80
}

/// The PC CMOS/RTC at ports 0x70–0x71 (offset 0: index, offset 1: data).
public struct CMOSRTC: ByteRegisterDevice {
    public static let ports = PortRange(base: 0x70, count: 2)
    public static var irq: UInt8 { 8 }
    /// The time-base frequency: the divider chain counts 32768 ticks per second.
    public static var ticksPerSecond: UInt64 { 32768 }

    /// The selected register (port 0x70 bits 6:0).
    public private(set) var index: UInt8 = 0
    /// Port 0x70 bit 7 (NMI disable) as last written. Kept for the owner; the
    /// device itself ignores it.
    public private(set) var nmiDisabled = false
    /// Register A without UIP (bits 6:0). 0x26 after a BIOS: 32.768 kHz, 1024 Hz.
    public private(set) var statusA: UInt8 = 0x26
    /// Register B. 0x02 after a BIOS: 24-hour, BCD, no interrupts.
    public private(set) var statusB: UInt8 = RTCStatusB.hour24
    /// Periodic events (PF settings) since creation, including ones that
    /// coincided with an already set PF; the owner may use it to compensate ticks.
    public private(set) var periodicEventCount: UInt64 = 0
    /// Rising edges of the IRQ output since creation.
    public private(set) var irqEdgeCount: UInt64 = 0
    /// A rising edge of IRQ 8 not yet taken with `takeIRQ8()`.
    public private(set) var irqPending = false

    /// The RAM bytes 0x0E–0x7F and the alarm registers; the clock registers
    /// and registers A–D live in the fields below.
    private var ram = InlineArray<128, UInt8>(repeating: 0)
    // The clock, binary and 24-hour.
    private var second: UInt8 = 0
    private var minute: UInt8 = 0
    private var hour: UInt8 = 0
    private var weekday: UInt8 = 5  // 1 = Sunday; 1970-01-01 was a Thursday
    private var dayOfMonth: UInt8 = 1
    private var month: UInt8 = 1
    private var yearOfCentury: UInt8 = 70
    private var century: UInt8 = 19
    /// Register C bits 6:4.
    private var flags: UInt8 = 0
    private var irqLine = false
    /// The position of the divider chain within the current second, 0..<32768.
    private var divider: UInt32 = 0
    private var lastNanoseconds: UInt64
    /// The fraction of a tick not yet counted, in units of 1/1_000_000_000 tick.
    private var tickRemainder: UInt64 = 0

    /// A clock reading `time` at monotonic instant `nanoseconds`, with
    /// 640 KiB of base memory and no extended memory recorded.
    public init(time: CalendarDateTime = .epoch, nanoseconds: UInt64 = 0) {
        lastNanoseconds = nanoseconds
        setTime(time)
        setMemorySize(bytesBelow4GiB: 640 * 1024)
    }

    // MARK: Owner side: time

    /// Sets the clock; the new second starts now (the divider chain restarts).
    public mutating func setTime(_ time: CalendarDateTime) {
        let normalized = CalendarDateTime(secondsSinceEpoch: time.secondsSinceEpoch)
        store(normalized)
        weekday = UInt8(normalized.weekday + 1)
        divider = 0
    }

    public mutating func setTime(secondsSinceEpoch seconds: Int64) {
        setTime(CalendarDateTime(secondsSinceEpoch: seconds))
    }

    /// The clock as a date and 24-hour time (year = century × 100 + year register).
    public var time: CalendarDateTime {
        CalendarDateTime(
            year: Int(century) * 100 + Int(yearOfCentury), month: Int(month), day: Int(dayOfMonth),
            hour: Int(hour), minute: Int(minute), second: Int(second))
    }

    /// The day-of-week register, 1 = Sunday ... 7 = Saturday (kept independently
    /// of the date, as the chip does: it is whatever was last written, advanced daily).
    public var dayOfWeek: Int { Int(weekday) }

    /// Moves time forward to the monotonic instant `nanoseconds`; an earlier
    /// instant than the last one is ignored.
    public mutating func advance(to nanoseconds: UInt64) {
        guard nanoseconds > lastNanoseconds else { return }
        let elapsed = nanoseconds - lastNanoseconds
        lastNanoseconds = nanoseconds
        // ticks = elapsed × 32768 / 10⁹ exactly, carrying the remainder, without
        // overflowing 64 bits for any realistic gap.
        let billion: UInt64 = 1_000_000_000
        var ticks = (elapsed / billion) &* Self.ticksPerSecond
        let scaled = (elapsed % billion) * Self.ticksPerSecond + tickRemainder
        ticks &+= scaled / billion
        tickRemainder = scaled % billion
        advance(ticks: ticks)
    }

    /// Runs the divider chain for `ticks` periods of the 32.768 kHz time base.
    public mutating func advance(ticks: UInt64) {
        guard ticks > 0, dividerRunning else { return }
        let start = UInt64(divider)
        let end = start &+ ticks
        // The periodic flag comes from a tap of the divider chain; it keeps
        // running with SET = 1 and is set whatever PIE says.
        if let period = periodicTicks {
            let events = end / period - start / period
            if events > 0 {
                flags |= RTCStatusC.periodic
                periodicEventCount &+= events
            }
        }
        divider = UInt32(end % Self.ticksPerSecond)
        let seconds = end / Self.ticksPerSecond
        if seconds > 0 && statusB & RTCStatusB.set == 0 {
            runUpdateCycles(seconds)
        }
        updateIRQ()
    }

    /// The periodic interrupt period in time-base ticks, nil when RS = 0.
    /// RS 1 and 2 give 256 and 128 Hz with a 32.768 kHz time base (datasheet
    /// Table 5); RS 3...15 give 32768 >> (RS − 1) Hz, 8192 Hz down to 2 Hz.
    public var periodicTicks: UInt64? {
        switch statusA & RTCStatusA.rateMask {
        case 0: return nil
        case 1: return 128
        case 2: return 256
        case let rs: return UInt64(1) << UInt64(rs - 1)
        }
    }

    /// Whether the divider chain counts: DV = 000, 001 or 010. The test modes
    /// and the reset modes (DV = 11x) stop it.
    public var dividerRunning: Bool {
        statusA & RTCStatusA.dividerMask <= RTCStatusA.divider32kHz
    }

    /// UIP: set during the last 244 µs (8 ticks) before each update. The update
    /// itself happens in zero time at the second boundary, so "UIP = 0 ⇒ at
    /// least 244 µs until the registers change" holds as on the chip.
    public var updateInProgress: Bool {
        dividerRunning && statusB & RTCStatusB.set == 0
            && UInt64(divider) >= Self.ticksPerSecond - Self.uipTicks
    }

    private static var uipTicks: UInt64 { 8 }

    // MARK: Owner side: interrupts

    /// The IRQ 8 output (IRQF): active from a flag with its enable set until
    /// register C is read. For a level-triggered route (IOAPIC).
    public var irqAsserted: Bool { flags & statusB & Self.interruptSources != 0 }

    /// Takes a rising edge of IRQ 8 (for the edge-triggered 8259 route): true
    /// once per edge. The next edge needs the guest to read register C.
    public mutating func takeIRQ8() -> Bool {
        let pending = irqPending
        irqPending = false
        return pending
    }

    /// C bits 6:4 line up with their enables in B bits 6:4.
    private static var interruptSources: UInt8 { 0x70 }

    private mutating func updateIRQ() {
        let level = irqAsserted
        if level && !irqLine {
            irqPending = true
            irqEdgeCount &+= 1
        }
        irqLine = level
    }

    // MARK: Owner side: NVRAM and memory size

    /// Records the memory size the way BIOSes do and updates the checksum:
    /// 0x15/0x16 base KiB; 0x17/0x18 and 0x30/0x31 KiB above 1 MiB (≤ 0xFFFF);
    /// 0x34/0x35 64 KiB units above 16 MiB (≤ 0xFFFF); 0x5B–0x5D 64 KiB units above 4 GiB.
    public mutating func setMemorySize(baseKiB: UInt16 = 640, bytesBelow4GiB: UInt64, bytesAbove4GiB: UInt64 = 0) {
        let mebibyte: UInt64 = 1 << 20
        let extendedKiB = bytesBelow4GiB > mebibyte ? min((bytesBelow4GiB - mebibyte) / 1024, 0xFFFF) : 0
        let above16 = bytesBelow4GiB > 16 * mebibyte ? min((bytesBelow4GiB - 16 * mebibyte) / 65536, 0xFFFF) : 0
        let above4G = min(bytesAbove4GiB / 65536, 0xFF_FFFF)
        storeWord(UInt16(baseKiB), at: CMOSRegister.baseMemoryLow)
        storeWord(UInt16(extendedKiB), at: CMOSRegister.extendedMemoryLow)
        storeWord(UInt16(extendedKiB), at: CMOSRegister.extendedMemory2Low)
        storeWord(UInt16(above16), at: CMOSRegister.memoryAbove16MiBLow)
        ram[Int(CMOSRegister.memoryAbove4GiB)] = UInt8(truncatingIfNeeded: above4G)
        ram[Int(CMOSRegister.memoryAbove4GiB) + 1] = UInt8(truncatingIfNeeded: above4G >> 8)
        ram[Int(CMOSRegister.memoryAbove4GiB) + 2] = UInt8(truncatingIfNeeded: above4G >> 16)
        updateChecksum()
    }

    /// Recomputes the AT checksum at 0x2E (high) / 0x2F (low): the 16-bit sum of
    /// bytes 0x10–0x2D. Call after changing those bytes with `writeRegister`.
    public mutating func updateChecksum() {
        var sum: UInt16 = 0
        var i = 0x10
        while i <= 0x2D {
            sum &+= UInt16(ram[i])
            i += 1
        }
        ram[Int(CMOSRegister.checksumHigh)] = UInt8(truncatingIfNeeded: sum >> 8)
        ram[Int(CMOSRegister.checksumLow)] = UInt8(truncatingIfNeeded: sum)
    }

    private mutating func storeWord(_ value: UInt16, at index: UInt8) {
        ram[Int(index)] = UInt8(truncatingIfNeeded: value)
        ram[Int(index) + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    // MARK: Device

    // Device: byte-wide registers (ByteRegisterDevice splits wider accesses).
    @inline(__always) public mutating func readByte(at offset: UInt64) -> UInt8 { readPort(offset) }
    @inline(__always) public mutating func writeByte(at offset: UInt64, _ value: UInt8) { writePort(offset, value) }

    /// Port 0x70 is write-only (reads float high); port 0x71 reads the selected register.
    public mutating func readPort(_ offset: UInt64) -> UInt8 {
        offset == 1 ? readRegister(index) : 0xFF
    }

    public mutating func writePort(_ offset: UInt64, _ value: UInt8) {
        switch offset {
        case 0:
            index = value & 0x7F
            nmiDisabled = value & 0x80 != 0
        case 1:
            writeRegister(index, value)
        default:
            break
        }
    }

    // MARK: Registers

    /// A register read with its side effect (reading C clears the flags).
    public mutating func readRegister(_ register: UInt8) -> UInt8 {
        let value = peek(register)
        if register & 0x7F == CMOSRegister.statusC {
            flags = 0
            updateIRQ()
        }
        return value
    }

    /// A register as the guest would read it, without side effects.
    public func peek(_ register: UInt8) -> UInt8 {
        switch register & 0x7F {
        case CMOSRegister.seconds: return encode(second)
        case CMOSRegister.minutes: return encode(minute)
        case CMOSRegister.hours: return encodeHour(hour)
        case CMOSRegister.dayOfWeek: return encode(weekday)
        case CMOSRegister.dayOfMonth: return encode(dayOfMonth)
        case CMOSRegister.month: return encode(month)
        case CMOSRegister.year: return encode(yearOfCentury)
        case CMOSRegister.century: return encode(century)
        case CMOSRegister.statusA: return statusA | (updateInProgress ? RTCStatusA.updateInProgress : 0)
        case CMOSRegister.statusB: return statusB
        case CMOSRegister.statusC: return flags | (irqAsserted ? RTCStatusC.interruptRequest : 0)
        case CMOSRegister.statusD: return RTCStatusD.validRAMAndTime
        case let other: return ram[Int(other)]
        }
    }

    /// A register write as the guest makes it (the owner may use it to fill NVRAM).
    public mutating func writeRegister(_ register: UInt8, _ value: UInt8) {
        switch register & 0x7F {
        case CMOSRegister.seconds: second = decode(value)
        case CMOSRegister.minutes: minute = decode(value)
        case CMOSRegister.hours: hour = decodeHour(value)
        case CMOSRegister.dayOfWeek: weekday = decode(value)
        case CMOSRegister.dayOfMonth: dayOfMonth = decode(value)
        case CMOSRegister.month: month = decode(value)
        case CMOSRegister.year: yearOfCentury = decode(value)
        case CMOSRegister.century: century = decode(value)
        case CMOSRegister.statusA: writeStatusA(value)
        case CMOSRegister.statusB: writeStatusB(value)
        case CMOSRegister.statusC, CMOSRegister.statusD: break  // read-only
        case let other: ram[Int(other)] = value
        }
    }

    private mutating func writeStatusA(_ value: UInt8) {
        let wasReset = statusA & 0x60 == 0x60
        statusA = value & ~RTCStatusA.updateInProgress
        if statusA & 0x60 == 0x60 {
            // DV = 11x holds the divider chain in reset.
            divider = 0
        } else if wasReset && dividerRunning {
            // Leaving reset: "the first update cycle begins one-half second later".
            divider = UInt32(Self.ticksPerSecond / 2)
        }
    }

    private mutating func writeStatusB(_ value: UInt8) {
        var value = value
        // SET = 1 aborts any update in progress and clears UIE (datasheet, register B).
        if value & RTCStatusB.set != 0 { value &= ~RTCStatusB.updateEndedInterruptEnable }
        statusB = value
        // IRQF is combinational: enabling a source whose flag is already set
        // raises the IRQ at once, disabling it drops the IRQ.
        updateIRQ()
    }

    // MARK: Update cycle

    private mutating func runUpdateCycles(_ count: UInt64) {
        var remaining = count
        // An alarm can match at most once a day per distinct time, so only the
        // last day needs to be stepped second by second; jump over the rest.
        let day: UInt64 = 86_400
        if remaining > day {
            jump(seconds: remaining - day)
            remaining = day
        }
        while remaining > 0 {
            stepOneSecond()
            if alarmMatches { flags |= RTCStatusC.alarm }
            remaining -= 1
        }
        flags |= RTCStatusC.updateEnded
    }

    /// One update: advance the clock by a second with calendar carries. A field
    /// the guest set out of range carries on the next increment.
    private mutating func stepOneSecond() {
        second &+= 1
        if second < 60 { return }
        second = 0
        minute &+= 1
        if minute < 60 { return }
        minute = 0
        hour &+= 1
        if hour < 24 { return }
        hour = 0
        weekday = weekday >= 7 ? 1 : weekday &+ 1
        dayOfMonth &+= 1
        let length = CalendarDate.daysInMonth(year: Int(century) * 100 + Int(yearOfCentury), month: Int(month))
        if Int(dayOfMonth) <= length { return }
        dayOfMonth = 1
        month &+= 1
        if month <= 12 { return }
        month = 1
        yearOfCentury &+= 1
        if yearOfCentury < 100 { return }
        yearOfCentury = 0
        // The MC146818 has no century counter; the PC chipsets that keep one in
        // 0x32 carry into it, and so do we.
        century = century >= 99 ? 0 : century &+ 1
    }

    /// Advances the clock by `seconds` arithmetically; the day of week moves by
    /// the number of days crossed from whatever it was.
    private mutating func jump(seconds: UInt64) {
        let now = time
        let before = now.secondsSinceEpoch
        let after = CalendarDateTime(secondsSinceEpoch: before + Int64(seconds))
        let daysCrossed = floorDiv(after.secondsSinceEpoch, 86_400) - floorDiv(before, 86_400)
        let base = weekday >= 1 && weekday <= 7 ? Int64(weekday) - 1 : Int64(now.weekday)
        weekday = UInt8((base + daysCrossed % 7) % 7 + 1)
        store(after)
    }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return a % b < 0 ? q - 1 : q
    }

    private mutating func store(_ time: CalendarDateTime) {
        let year = ((time.year % 10_000) + 10_000) % 10_000
        century = UInt8(year / 100)
        yearOfCentury = UInt8(year % 100)
        month = UInt8(time.month)
        dayOfMonth = UInt8(time.day)
        hour = UInt8(time.hour)
        minute = UInt8(time.minute)
        second = UInt8(time.second)
    }

    /// The chip compares the alarm bytes with the time bytes as stored, so the
    /// comparison is made on the encoded values; an alarm byte with bits 7:6 = 11
    /// is "don't care" (datasheet, "Alarm").
    private var alarmMatches: Bool {
        Self.alarmField(ram[Int(CMOSRegister.secondsAlarm)], matches: encode(second))
            && Self.alarmField(ram[Int(CMOSRegister.minutesAlarm)], matches: encode(minute))
            && Self.alarmField(ram[Int(CMOSRegister.hoursAlarm)], matches: encodeHour(hour))
    }

    private static func alarmField(_ alarm: UInt8, matches value: UInt8) -> Bool {
        alarm & 0xC0 == 0xC0 || alarm == value
    }

    // MARK: Encoding

    private var binaryMode: Bool { statusB & RTCStatusB.binary != 0 }

    private func encode(_ value: UInt8) -> UInt8 {
        binaryMode ? value : RTCBCD.encode(value)
    }

    private func decode(_ value: UInt8) -> UInt8 {
        binaryMode ? value : RTCBCD.decode(value)
    }

    /// 12-hour mode: hours 1...12 with bit 7 = PM; midnight is 12 AM, noon 12 PM.
    private func encodeHour(_ hour: UInt8) -> UInt8 {
        if statusB & RTCStatusB.hour24 != 0 { return encode(hour) }
        let twelve = hour % 12 == 0 ? 12 : hour % 12
        return encode(twelve) | (hour >= 12 ? 0x80 : 0)
    }

    private func decodeHour(_ value: UInt8) -> UInt8 {
        if statusB & RTCStatusB.hour24 != 0 { return decode(value) }
        let twelve = decode(value & 0x7F)
        return twelve % 12 + (value & 0x80 != 0 ? 12 : 0)
    }
}

/// Packed binary-coded decimal as the RTC uses it.
public enum RTCBCD {
    /// 0...99 → 0x00...0x99 (larger values wrap the tens digit).
    @inline(__always)
    public static func encode(_ value: UInt8) -> UInt8 {
        (value / 10) << 4 | value % 10
    }

    /// 0x00...0x99 → 0...99; invalid digits are weighted as they are.
    @inline(__always)
    public static func decode(_ value: UInt8) -> UInt8 {
        (value >> 4) &* 10 &+ (value & 0x0F)
    }
}
