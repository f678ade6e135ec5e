// Pure proleptic-Gregorian calendar arithmetic for the CMOS RTC: days since
// 1970-01-01 to year/month/day and weekday, and back. No time zones, no leap
// seconds (the RTC keeps whatever local or UTC time its owner gives it).

/// A Gregorian calendar date.
public struct CalendarDate: Equatable, Sendable {
    /// The full year, e.g. 2024 (years before 1 CE use astronomical numbering).
    public var year: Int
    /// 1...12.
    public var month: Int
    /// 1...31.
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` after 1970-01-01 (negative: before it).
    public init(daysSinceEpoch days: Int64) {
        // Count in 400-year eras starting on 0000-03-01, so that the leap day is
        // the last day of each shifted year and the month lengths from March
        // onward follow the 153-days-per-5-months pattern.
        let shifted = days + 719_468  // 0000-03-01 → 1970-01-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March ... 11 = February
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.init(year: Int(year), month: Int(month), day: Int(day))
    }

    /// Days from 1970-01-01 to this date. Out-of-range days and months are
    /// carried arithmetically (day 0 is the last day of the previous month,
    /// month 13 is January of the next year).
    public var daysSinceEpoch: Int64 {
        var year = Int64(year)
        var month = Int64(month) - 1
        year += month >= 0 ? month / 12 : (month - 11) / 12
        month = ((month % 12) + 12) % 12 + 1  // 1...12
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400  // 0...399
        let shiftedMonth = month > 2 ? month - 3 : month + 9  // March = 0
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 = Sunday ... 6 = Saturday. 1970-01-01 was a Thursday.
    public var weekday: Int {
        CalendarDate.weekday(daysSinceEpoch: daysSinceEpoch)
    }

    public static func weekday(daysSinceEpoch days: Int64) -> Int {
        let value = (days + 4) % 7  // day 0 is a Thursday (4)
        return Int(value < 0 ? value + 7 : value)
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// 28...31; 30 for a month outside 1...12.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 2: return isLeapYear(year) ? 29 : 28
        default: return 30
        }
    }
}

/// A date and time of day (24-hour clock), as the RTC counts it.
public struct CalendarDateTime: Equatable, Sendable {
    public var date: CalendarDate
    /// 0...23.
    public var hour: Int
    /// 0...59.
    public var minute: Int
    /// 0...59.
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        date = CalendarDate(year: year, month: month, day: day)
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The moment `seconds` after 1970-01-01 00:00:00 (negative: before it).
    public init(secondsSinceEpoch seconds: Int64) {
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        date = CalendarDate(daysSinceEpoch: days)
        hour = Int(rest / 3600)
        minute = Int(rest % 3600 / 60)
        second = Int(rest % 60)
    }

    /// Seconds since 1970-01-01 00:00:00; out-of-range fields carry arithmetically.
    public var secondsSinceEpoch: Int64 {
        date.daysSinceEpoch * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
    }

    public var year: Int { date.year }
    public var month: Int { date.month }
    public var day: Int { date.day }
    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int { date.weekday }

    /// 1970-01-01 00:00:00.
    public static var epoch: CalendarDateTime { CalendarDateTime(year: 1970, month: 1, day: 1) }
}
