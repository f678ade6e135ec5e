import XCTest
@testable import Machine

final class CMOSRTCTests: XCTestCase {
    // MARK: Helpers

    private func read(_ rtc: inout CMOSRTC, _ register: UInt8) -> UInt8 {
        rtc.write(offset: 0, size: 1, value: UInt64(register))
        return UInt8(truncatingIfNeeded: rtc.read(offset: 1, size: 1))
    }

    private func write(_ rtc: inout CMOSRTC, _ register: UInt8, _ value: UInt8) {
        rtc.write(offset: 0, size: 1, value: UInt64(register))
        rtc.write(offset: 1, size: 1, value: UInt64(value))
    }

    private func makeRTC(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0)
        -> CMOSRTC
    {
        CMOSRTC(time: CalendarDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    private let second = CMOSRTC.ticksPerSecond

    // MARK: Calendar

    func testEpochIsThursday() {
        let date = CalendarDate(daysSinceEpoch: 0)
        XCTAssertEqual(date, CalendarDate(year: 1970, month: 1, day: 1))
        XCTAssertEqual(date.weekday, 4)
        XCTAssertEqual(date.daysSinceEpoch, 0)
        XCTAssertEqual(CalendarDate(daysSinceEpoch: -1), CalendarDate(year: 1969, month: 12, day: 31))
        XCTAssertEqual(CalendarDate.weekday(daysSinceEpoch: -1), 3)  // Wednesday
        XCTAssertEqual(CalendarDate.weekday(daysSinceEpoch: -7), 4)
    }

    func testLeapDay2000() {
        let leap = CalendarDate(year: 2000, month: 2, day: 29)
        XCTAssertEqual(leap.daysSinceEpoch, 11_016)  // 10957 days to 2000-01-01, + 31 + 28
        XCTAssertEqual(CalendarDate(daysSinceEpoch: 11_016), leap)
        XCTAssertEqual(CalendarDate(daysSinceEpoch: 11_017), CalendarDate(year: 2000, month: 3, day: 1))
        XCTAssertEqual(leap.weekday, 2)  // Tuesday
        XCTAssertTrue(CalendarDate.isLeapYear(2000))
        XCTAssertEqual(CalendarDate.daysInMonth(year: 2000, month: 2), 29)
    }

    func test2100IsNotLeap() {
        XCTAssertFalse(CalendarDate.isLeapYear(2100))
        XCTAssertFalse(CalendarDate.isLeapYear(1900))
        XCTAssertTrue(CalendarDate.isLeapYear(2024))
        XCTAssertFalse(CalendarDate.isLeapYear(2023))
        let feb28 = CalendarDate(year: 2100, month: 2, day: 28)
        XCTAssertEqual(CalendarDate(daysSinceEpoch: feb28.daysSinceEpoch + 1), CalendarDate(year: 2100, month: 3, day: 1))
        XCTAssertEqual(CalendarDate(year: 2100, month: 3, day: 1).weekday, 1)  // Monday
        XCTAssertEqual(CalendarDate.daysInMonth(year: 2100, month: 2), 28)
    }

    func testKnownTimestamps() {
        let t = CalendarDateTime(secondsSinceEpoch: 1_700_000_000)
        XCTAssertEqual(t, CalendarDateTime(year: 2023, month: 11, day: 14, hour: 22, minute: 13, second: 20))
        XCTAssertEqual(t.weekday, 2)
        XCTAssertEqual(t.secondsSinceEpoch, 1_700_000_000)
        // 2038-01-19 03:14:08 is 2^31.
        XCTAssertEqual(CalendarDateTime(year: 2038, month: 1, day: 19, hour: 3, minute: 14, second: 8).secondsSinceEpoch,
                       1 << 31)
        XCTAssertEqual(CalendarDateTime(secondsSinceEpoch: -1),
                       CalendarDateTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59))
    }

    func testDayRoundTripAndContinuity() {
        // Every day from 1422 to 2517: the conversion round-trips and each day
        // is the next day of the month or the first of the next month.
        var failures = 0
        var previous = CalendarDate(daysSinceEpoch: -200_001)
        var days: Int64 = -200_000
        while days <= 200_000 {
            let date = CalendarDate(daysSinceEpoch: days)
            let valid = date.daysSinceEpoch == days && (1...12).contains(date.month)
                && date.day >= 1 && date.day <= CalendarDate.daysInMonth(year: date.year, month: date.month)
            let continues = date.day == 1
                ? previous.day == CalendarDate.daysInMonth(year: previous.year, month: previous.month)
                    && (date.month == previous.month % 12 + 1)
                    && date.year == previous.year + (date.month == 1 ? 1 : 0)
                : date.day == previous.day + 1 && date.month == previous.month && date.year == previous.year
            if !valid || !continues {
                failures += 1
                if failures < 5 { XCTFail("day \(days): \(date) after \(previous)") }
            }
            previous = date
            days += 1
        }
        XCTAssertEqual(failures, 0)
    }

    func testOutOfRangeFieldsCarry() {
        XCTAssertEqual(CalendarDate(year: 2023, month: 13, day: 1).daysSinceEpoch,
                       CalendarDate(year: 2024, month: 1, day: 1).daysSinceEpoch)
        XCTAssertEqual(CalendarDate(year: 2024, month: 3, day: 0).daysSinceEpoch,
                       CalendarDate(year: 2024, month: 2, day: 29).daysSinceEpoch)
        XCTAssertEqual(CalendarDate(year: 2024, month: 0, day: 1).daysSinceEpoch,
                       CalendarDate(year: 2023, month: 12, day: 1).daysSinceEpoch)
    }

    // MARK: Registers

    func testReadsTimeInBCD() {
        var rtc = makeRTC(2024, 3, 9, 13, 45, 7)
        XCTAssertEqual(read(&rtc, CMOSRegister.seconds), 0x07)
        XCTAssertEqual(read(&rtc, CMOSRegister.minutes), 0x45)
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x13)
        XCTAssertEqual(read(&rtc, CMOSRegister.dayOfWeek), 0x07)  // Saturday
        XCTAssertEqual(read(&rtc, CMOSRegister.dayOfMonth), 0x09)
        XCTAssertEqual(read(&rtc, CMOSRegister.month), 0x03)
        XCTAssertEqual(read(&rtc, CMOSRegister.year), 0x24)
        XCTAssertEqual(read(&rtc, CMOSRegister.century), 0x20)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA), 0x26)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusB), 0x02)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusD), 0x80)
    }

    func testReadsTimeInBinary() {
        var rtc = makeRTC(1999, 12, 31, 23, 59, 58)
        write(&rtc, CMOSRegister.statusB, 0x06)
        XCTAssertEqual(read(&rtc, CMOSRegister.seconds), 58)
        XCTAssertEqual(read(&rtc, CMOSRegister.minutes), 59)
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 23)
        XCTAssertEqual(read(&rtc, CMOSRegister.dayOfMonth), 31)
        XCTAssertEqual(read(&rtc, CMOSRegister.month), 12)
        XCTAssertEqual(read(&rtc, CMOSRegister.year), 99)
        XCTAssertEqual(read(&rtc, CMOSRegister.century), 19)
        XCTAssertEqual(read(&rtc, CMOSRegister.dayOfWeek), 6)  // Friday
    }

    func testTwelveHourEncoding() {
        var rtc = makeRTC(2024, 1, 1, 0, 0, 0)
        write(&rtc, CMOSRegister.statusB, 0x00)  // BCD, 12-hour
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x12, "midnight is 12 AM")
        rtc.setTime(CalendarDateTime(year: 2024, month: 1, day: 1, hour: 12))
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x92, "noon is 12 PM")
        rtc.setTime(CalendarDateTime(year: 2024, month: 1, day: 1, hour: 11))
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x11)
        rtc.setTime(CalendarDateTime(year: 2024, month: 1, day: 1, hour: 13))
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x81)
        rtc.setTime(CalendarDateTime(year: 2024, month: 1, day: 1, hour: 23))
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x91)
        write(&rtc, CMOSRegister.statusB, RTCStatusB.binary)  // binary, 12-hour
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x8B)
    }

    func testTwelveHourWritesDecode() {
        var rtc = makeRTC(2024, 1, 1)
        write(&rtc, CMOSRegister.statusB, 0x00)
        write(&rtc, CMOSRegister.hours, 0x92)
        XCTAssertEqual(rtc.time.hour, 12)
        write(&rtc, CMOSRegister.hours, 0x12)
        XCTAssertEqual(rtc.time.hour, 0)
        write(&rtc, CMOSRegister.hours, 0x87)
        XCTAssertEqual(rtc.time.hour, 19)
        write(&rtc, CMOSRegister.statusB, RTCStatusB.hour24)
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x19)
    }

    func testGuestSetsTimeUnderSET() {
        var rtc = makeRTC(2020, 5, 5, 5, 5, 5)
        write(&rtc, CMOSRegister.statusB, 0x82 | RTCStatusB.updateEndedInterruptEnable)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusB), 0x82, "SET clears UIE")
        write(&rtc, CMOSRegister.seconds, 0x30)
        write(&rtc, CMOSRegister.minutes, 0x15)
        write(&rtc, CMOSRegister.hours, 0x08)
        write(&rtc, CMOSRegister.dayOfWeek, 0x04)
        write(&rtc, CMOSRegister.dayOfMonth, 0x27)
        write(&rtc, CMOSRegister.month, 0x06)
        write(&rtc, CMOSRegister.year, 0x25)
        write(&rtc, CMOSRegister.century, 0x20)
        rtc.advance(ticks: 5 * second)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2025, month: 6, day: 27, hour: 8, minute: 15, second: 30),
                       "no updates while SET")
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC) & RTCStatusC.updateEnded, 0)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA) & RTCStatusA.updateInProgress, 0)
        write(&rtc, CMOSRegister.statusB, 0x02)
        rtc.advance(ticks: second)
        XCTAssertEqual(read(&rtc, CMOSRegister.seconds), 0x31)
        XCTAssertEqual(rtc.dayOfWeek, 4)
    }

    func testReadOnlyRegistersAndUIPNotWritable() {
        var rtc = CMOSRTC()
        write(&rtc, CMOSRegister.statusD, 0x00)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusD), 0x80)
        write(&rtc, CMOSRegister.statusC, 0xF0)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0x00)
        write(&rtc, CMOSRegister.statusA, 0xA6)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA), 0x26)
    }

    func testNVRAMAndIndexPort() {
        var rtc = CMOSRTC()
        write(&rtc, 0x40, 0x5A)
        write(&rtc, 0x7F, 0xA5)
        XCTAssertEqual(read(&rtc, 0x40), 0x5A)
        XCTAssertEqual(read(&rtc, 0x7F), 0xA5)
        // Bit 7 of the index is the NMI mask: recorded, not part of the index.
        rtc.write(offset: 0, size: 1, value: 0xC0)
        XCTAssertTrue(rtc.nmiDisabled)
        XCTAssertEqual(rtc.index, 0x40)
        XCTAssertEqual(rtc.read(offset: 1, size: 1), 0x5A)
        rtc.write(offset: 0, size: 1, value: 0x0D)
        XCTAssertFalse(rtc.nmiDisabled)
        XCTAssertEqual(rtc.read(offset: 0, size: 1), 0xFF, "the index port is write-only")
        // A word OUT to 0x70 writes the index, then the data.
        rtc.write(offset: 0, size: 2, value: 0x7720)
        XCTAssertEqual(rtc.peek(0x20), 0x77)
        XCTAssertEqual(rtc.read(offset: 1, size: 2), 0xFF77)
    }

    func testMemorySizeRegisters() {
        var rtc = CMOSRTC()
        rtc.setMemorySize(bytesBelow4GiB: 32 << 20)
        XCTAssertEqual(read(&rtc, 0x15), 0x80)
        XCTAssertEqual(read(&rtc, 0x16), 0x02)  // 640 KiB
        XCTAssertEqual(read(&rtc, 0x17), 0x00)
        XCTAssertEqual(read(&rtc, 0x18), 0x7C)  // 31 MiB = 0x7C00 KiB
        XCTAssertEqual(read(&rtc, 0x30), 0x00)
        XCTAssertEqual(read(&rtc, 0x31), 0x7C)
        XCTAssertEqual(read(&rtc, 0x34), 0x00)
        XCTAssertEqual(read(&rtc, 0x35), 0x01)  // 16 MiB / 64 KiB = 0x100
        XCTAssertEqual(read(&rtc, 0x5B), 0)
        var sum: UInt16 = 0
        for i: UInt8 in 0x10...0x2D { sum &+= UInt16(read(&rtc, i)) }
        XCTAssertEqual(UInt16(read(&rtc, 0x2E)) << 8 | UInt16(read(&rtc, 0x2F)), sum)

        rtc.setMemorySize(bytesBelow4GiB: 3 << 30, bytesAbove4GiB: 1 << 30)
        XCTAssertEqual(read(&rtc, 0x17), 0xFF, "extended KiB saturates at 0xFFFF")
        XCTAssertEqual(read(&rtc, 0x18), 0xFF)
        XCTAssertEqual(read(&rtc, 0x34), 0x00)  // (3 GiB - 16 MiB) / 64 KiB = 0xBF00
        XCTAssertEqual(read(&rtc, 0x35), 0xBF)
        XCTAssertEqual(read(&rtc, 0x5B), 0x00)
        XCTAssertEqual(read(&rtc, 0x5C), 0x40)  // 1 GiB / 64 KiB = 0x4000
        XCTAssertEqual(read(&rtc, 0x5D), 0x00)

        rtc.setMemorySize(bytesBelow4GiB: 512 * 1024)
        XCTAssertEqual(read(&rtc, 0x17), 0)
        XCTAssertEqual(read(&rtc, 0x35), 0)
    }

    // MARK: Time keeping

    func testUpdateEndedOncePerSecond() {
        var rtc = makeRTC(2024, 3, 9, 13, 45, 7)
        write(&rtc, CMOSRegister.statusA, 0x20)  // no periodic flag
        rtc.advance(ticks: second - 1)
        XCTAssertEqual(read(&rtc, CMOSRegister.seconds), 0x07)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0)
        rtc.advance(ticks: 1)
        XCTAssertEqual(read(&rtc, CMOSRegister.seconds), 0x08)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.updateEnded, "UF without UIE: no IRQF")
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0, "reading C clears it")
        XCTAssertFalse(rtc.irqPending)
    }

    func testUpdateEndedInterrupt() {
        var rtc = makeRTC(2024, 3, 9)
        write(&rtc, CMOSRegister.statusA, 0x20)  // no periodic flag
        write(&rtc, CMOSRegister.statusB, 0x02 | RTCStatusB.updateEndedInterruptEnable)
        rtc.advance(ticks: second)
        XCTAssertTrue(rtc.irqAsserted)
        XCTAssertTrue(rtc.takeIRQ8())
        XCTAssertFalse(rtc.takeIRQ8())
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0x90)
        XCTAssertFalse(rtc.irqAsserted)
        rtc.advance(ticks: second)
        XCTAssertTrue(rtc.takeIRQ8())
        XCTAssertEqual(rtc.irqEdgeCount, 2)
    }

    func testAdvanceNanosecondsIsExact() {
        var rtc = makeRTC(2024, 3, 9)
        rtc.advance(to: 333_333_333)
        rtc.advance(to: 666_666_666)
        rtc.advance(to: 999_999_999)
        XCTAssertEqual(rtc.time.second, 0)
        rtc.advance(to: 1_000_000_000)
        XCTAssertEqual(rtc.time.second, 1)
        rtc.advance(to: 500_000_000)  // going back is ignored
        XCTAssertEqual(rtc.time.second, 1)
        // Many tiny steps add up without drift: 1 s in 1 µs steps... sampled as 10 000 steps of 100 µs.
        var now: UInt64 = 1_000_000_000
        for _ in 0..<10_000 {
            now += 100_000
            rtc.advance(to: now)
        }
        XCTAssertEqual(rtc.time.second, 2)
        rtc.advance(to: now + 3_600_000_000_000)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2024, month: 3, day: 9, hour: 1, minute: 0, second: 2))
    }

    func testInitialNanosecondsIsTheOrigin() {
        var rtc = CMOSRTC(time: CalendarDateTime(year: 2024, month: 1, day: 1), nanoseconds: 5_000_000_000)
        rtc.advance(to: 5_999_999_999)
        XCTAssertEqual(rtc.time.second, 0)
        rtc.advance(to: 6_000_000_000)
        XCTAssertEqual(rtc.time.second, 1)
    }

    func testCalendarRollovers() {
        var rtc = makeRTC(2099, 12, 31, 23, 59, 59)
        XCTAssertEqual(rtc.dayOfWeek, 5)  // Thursday
        rtc.advance(ticks: second)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2100, month: 1, day: 1))
        XCTAssertEqual(read(&rtc, CMOSRegister.century), 0x21)
        XCTAssertEqual(read(&rtc, CMOSRegister.year), 0x00)
        XCTAssertEqual(rtc.dayOfWeek, 6)  // Friday

        rtc.setTime(CalendarDateTime(year: 2100, month: 2, day: 28, hour: 23, minute: 59, second: 59))
        rtc.advance(ticks: second)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2100, month: 3, day: 1))

        rtc.setTime(CalendarDateTime(year: 2000, month: 2, day: 28, hour: 23, minute: 59, second: 59))
        rtc.advance(ticks: second)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2000, month: 2, day: 29))
        XCTAssertEqual(rtc.dayOfWeek, 3)  // Tuesday
        rtc.advance(ticks: 86_400 * second)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2000, month: 3, day: 1))
        XCTAssertEqual(rtc.dayOfWeek, 4)
    }

    func testLargeJumpMatchesCalendarArithmetic() {
        let start = CalendarDateTime(year: 2023, month: 6, day: 15, hour: 10, minute: 20, second: 30)
        var rtc = CMOSRTC(time: start)
        write(&rtc, CMOSRegister.statusA, 0x20)  // no periodic flag
        let seconds: Int64 = 400 * 86_400 + 12_345
        rtc.advance(ticks: UInt64(seconds) * second)
        let expected = CalendarDateTime(secondsSinceEpoch: start.secondsSinceEpoch + seconds)
        XCTAssertEqual(rtc.time, expected)
        XCTAssertEqual(rtc.dayOfWeek, expected.weekday + 1)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.alarm | RTCStatusC.updateEnded,
                       "the zeroed alarm registers (00:00:00) matched at a midnight")
    }

    func testOwnerSetTimeFromEpochSeconds() {
        var rtc = CMOSRTC()
        rtc.setTime(secondsSinceEpoch: 1_700_000_000)
        XCTAssertEqual(rtc.time, CalendarDateTime(year: 2023, month: 11, day: 14, hour: 22, minute: 13, second: 20))
        XCTAssertEqual(read(&rtc, CMOSRegister.dayOfWeek), 3)  // Tuesday = 3 (Sunday = 1)
        XCTAssertEqual(CMOSRTC().time, .epoch)
        XCTAssertEqual(CMOSRTC().dayOfWeek, 5)  // Thursday
    }

    // MARK: Periodic interrupt

    func testPeriodicRates() {
        var rtc = CMOSRTC()
        write(&rtc, CMOSRegister.statusA, 0x20)
        XCTAssertNil(rtc.periodicTicks)
        for rs: UInt8 in 3...15 {
            write(&rtc, CMOSRegister.statusA, 0x20 | rs)
            let hertz = UInt64(32768) >> UInt64(rs - 1)
            XCTAssertEqual(rtc.periodicTicks, CMOSRTC.ticksPerSecond / hertz, "RS \(rs)")
        }
        write(&rtc, CMOSRegister.statusA, 0x21)
        XCTAssertEqual(rtc.periodicTicks, 128)  // 256 Hz
        write(&rtc, CMOSRegister.statusA, 0x22)
        XCTAssertEqual(rtc.periodicTicks, 256)  // 128 Hz
    }

    func testPeriodicFlagWithoutPIE() {
        var rtc = CMOSRTC()  // RS = 6: 1024 Hz, 32 ticks
        rtc.advance(ticks: 31)
        XCTAssertEqual(rtc.peek(CMOSRegister.statusC), 0)
        rtc.advance(ticks: 1)
        XCTAssertEqual(rtc.peek(CMOSRegister.statusC), RTCStatusC.periodic)
        XCTAssertFalse(rtc.irqAsserted)
        XCTAssertFalse(rtc.irqPending)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.periodic)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0)
        rtc.advance(ticks: 64)
        XCTAssertEqual(rtc.periodicEventCount, 3)
    }

    func testPeriodicInterruptNeedsRegisterCRead() {
        var rtc = CMOSRTC()
        write(&rtc, CMOSRegister.statusA, 0x2F)  // 2 Hz
        write(&rtc, CMOSRegister.statusB, 0x02 | RTCStatusB.periodicInterruptEnable)
        rtc.advance(ticks: second / 2)
        XCTAssertTrue(rtc.irqAsserted)
        XCTAssertTrue(rtc.takeIRQ8())
        rtc.advance(ticks: second / 2)
        XCTAssertFalse(rtc.takeIRQ8(), "IRQF stays set until C is read: no new edge")
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0xD0)  // IRQF, PF, UF
        XCTAssertFalse(rtc.irqAsserted)
        rtc.advance(ticks: second / 2)
        XCTAssertTrue(rtc.takeIRQ8())
        XCTAssertEqual(rtc.irqEdgeCount, 2)
    }

    func testEnablingPIEWithPFSetRaisesIRQ() {
        var rtc = CMOSRTC()
        rtc.advance(ticks: 32)
        XCTAssertFalse(rtc.irqAsserted)
        write(&rtc, CMOSRegister.statusB, 0x02 | RTCStatusB.periodicInterruptEnable)
        XCTAssertTrue(rtc.irqAsserted)
        XCTAssertTrue(rtc.takeIRQ8())
        write(&rtc, CMOSRegister.statusB, 0x02)
        XCTAssertFalse(rtc.irqAsserted, "IRQF = PF·PIE + AF·AIE + UF·UIE")
        XCTAssertEqual(rtc.peek(CMOSRegister.statusC), RTCStatusC.periodic)
    }

    func testPeriodicContinuesUnderSETButNotInDividerReset() {
        var rtc = CMOSRTC()
        write(&rtc, CMOSRegister.statusB, 0x82)
        rtc.advance(ticks: 32)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.periodic)
        write(&rtc, CMOSRegister.statusB, 0x02)
        write(&rtc, CMOSRegister.statusA, 0x76)  // divider reset
        rtc.advance(ticks: 3 * second)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0)
        XCTAssertEqual(rtc.time, .epoch)
        XCTAssertFalse(rtc.dividerRunning)
    }

    // MARK: UIP and the divider

    func testUIPWindowBeforeUpdate() {
        var rtc = CMOSRTC()
        rtc.advance(ticks: second - 9)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA), 0x26)
        rtc.advance(ticks: 1)  // 244 µs before the update
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA), 0xA6)
        XCTAssertEqual(rtc.time.second, 0, "the time changes only at the update")
        rtc.advance(ticks: 8)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA), 0x26)
        XCTAssertEqual(rtc.time.second, 1)
        rtc.advance(ticks: second - 4)
        write(&rtc, CMOSRegister.statusB, 0x82)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusA) & RTCStatusA.updateInProgress, 0, "no UIP with SET")
    }

    func testLeavingDividerResetDelaysFirstUpdateHalfSecond() {
        var rtc = CMOSRTC()
        write(&rtc, CMOSRegister.statusA, 0x70)
        rtc.advance(ticks: 10 * second)
        XCTAssertEqual(rtc.time.second, 0)
        write(&rtc, CMOSRegister.statusA, 0x26)
        rtc.advance(ticks: second / 2 - 1)
        XCTAssertEqual(rtc.time.second, 0)
        rtc.advance(ticks: 1)
        XCTAssertEqual(rtc.time.second, 1)
    }

    // MARK: Alarm

    func testAlarmMatch() {
        var rtc = makeRTC(2024, 1, 1, 6, 30, 0)
        write(&rtc, CMOSRegister.statusA, 0x20)  // no periodic flag
        write(&rtc, CMOSRegister.secondsAlarm, 0x05)
        write(&rtc, CMOSRegister.minutesAlarm, 0x30)
        write(&rtc, CMOSRegister.hoursAlarm, 0x06)
        write(&rtc, CMOSRegister.statusB, 0x02 | RTCStatusB.alarmInterruptEnable)
        rtc.advance(ticks: 4 * second)
        XCTAssertFalse(rtc.irqAsserted)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.updateEnded)
        rtc.advance(ticks: second)
        XCTAssertTrue(rtc.takeIRQ8())
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), 0xB0)  // IRQF, AF, UF
        rtc.advance(ticks: second)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.updateEnded)
    }

    func testAlarmDontCareFiresEverySecond() {
        var rtc = makeRTC(2024, 1, 1)
        write(&rtc, CMOSRegister.statusA, 0x20)  // no periodic flag
        write(&rtc, CMOSRegister.secondsAlarm, 0xC0)
        write(&rtc, CMOSRegister.minutesAlarm, 0xFF)
        write(&rtc, CMOSRegister.hoursAlarm, 0xC3)
        for _ in 0..<3 {
            rtc.advance(ticks: second)
            XCTAssertEqual(read(&rtc, CMOSRegister.statusC), RTCStatusC.alarm | RTCStatusC.updateEnded)
        }
    }

    func testAlarmComparesTwelveHourEncoding() {
        var rtc = makeRTC(2024, 1, 1, 14, 59, 59)
        write(&rtc, CMOSRegister.statusB, 0x00)  // BCD, 12-hour
        write(&rtc, CMOSRegister.secondsAlarm, 0x00)
        write(&rtc, CMOSRegister.minutesAlarm, 0x00)
        write(&rtc, CMOSRegister.hoursAlarm, 0x83)  // 3 PM
        rtc.advance(ticks: second)
        XCTAssertEqual(read(&rtc, CMOSRegister.hours), 0x83)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC) & RTCStatusC.alarm, RTCStatusC.alarm)
    }

    func testAlarmWithinLargeJump() {
        var rtc = makeRTC(2024, 1, 1, 0, 0, 0)
        write(&rtc, CMOSRegister.secondsAlarm, 0x00)
        write(&rtc, CMOSRegister.minutesAlarm, 0x00)
        write(&rtc, CMOSRegister.hoursAlarm, 0x12)
        rtc.advance(ticks: 3 * 86_400 * second)
        XCTAssertEqual(read(&rtc, CMOSRegister.statusC) & RTCStatusC.alarm, RTCStatusC.alarm)
    }

    func testBCDHelpers() {
        XCTAssertEqual(RTCBCD.encode(59), 0x59)
        XCTAssertEqual(RTCBCD.encode(0), 0x00)
        XCTAssertEqual(RTCBCD.decode(0x99), 99)
        for value: UInt8 in 0...99 { XCTAssertEqual(RTCBCD.decode(RTCBCD.encode(value)), value) }
    }
}
