import Machine

// The host's time: the TSC rate (calibrated against the PIT at boot) and the
// wall clock, read once from the host's CMOS RTC and carried forward by the TSC.
// Guests' RTCs start from it ("time and date from the host").

enum HostTime {
    nonisolated(unsafe) static var tscHz: UInt64 = 1_000_000_000
    nonisolated(unsafe) static var bootTSC: UInt64 = 0
    nonisolated(unsafe) static var bootSeconds: Int64 = 0

    static func initialize() {
        tscHz = TSCCalibration.measureHz()
        bootSeconds = readHostRTC().secondsSinceEpoch
        bootTSC = rdtsc()
    }

    /// The TSC ticks in `microseconds` (at least 1).
    static func ticks(microseconds: UInt64) -> UInt64 { max(1, tscHz / 1_000_000 * microseconds) }

    /// Waits `microseconds` on the TSC.
    static func delay(microseconds: UInt64) {
        let end = rdtsc() &+ ticks(microseconds: microseconds)
        while rdtsc() < end { cpu_relax() }
    }

    /// Waits until `condition` holds or `microseconds` have passed on the TSC; whether it held.
    static func wait(microseconds: UInt64, until condition: () -> Bool) -> Bool {
        let end = rdtsc() &+ ticks(microseconds: microseconds)
        while !condition() {
            if rdtsc() >= end { return condition() }
            cpu_relax()
        }
        return true
    }

    static func now() -> CalendarDateTime {
        CalendarDateTime(secondsSinceEpoch: bootSeconds + Int64((rdtsc() &- bootTSC) / max(tscHz, 1)))
    }

    /// The MC146818 registers, read when no update is in progress (status A bit 7),
    /// in BCD or binary and 12- or 24-hour form as status B says.
    private static func readHostRTC() -> CalendarDateTime {
        func cmos(_ index: UInt8) -> UInt8 { outb(0x70, index); return inb(0x71) }
        var spins = 0
        while cmos(0x0A) & 0x80 != 0 && spins < 1_000_000 { spins += 1 }
        let statusB = cmos(0x0B)
        func value(_ raw: UInt8) -> Int { statusB & 0x04 != 0 ? Int(raw) : Int(raw >> 4) * 10 + Int(raw & 0x0F) }
        let rawHour = cmos(0x04)
        var hour = value(rawHour & 0x7F)
        if statusB & 0x02 == 0 && rawHour & 0x80 != 0 { hour = (hour % 12) + 12 }        // 12-hour PM
        let century = value(cmos(0x32))
        let year = (century >= 19 && century <= 21 ? century : 20) * 100 + value(cmos(0x09))
        return CalendarDateTime(year: year, month: max(1, value(cmos(0x08))), day: max(1, value(cmos(0x07))),
                                hour: hour, minute: value(cmos(0x02)), second: value(cmos(0x00)))
    }
}
