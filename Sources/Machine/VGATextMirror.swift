/// Follows a guest's VGA text screen (80x25 cells of character + attribute at
/// guest-physical 0xB8000, plain guest RAM: writes cost no exit) and reports the
/// rows that changed, as text, so a VGA-only guest is usable on a serial console
/// and in logs. The engine looks after every turn of the VM.
///
/// Rate limits (time in guest TSC ticks), so that a guest redrawing its status line
/// on every timer tick does not flood the log:
/// - a row is reported once its text has been stable for 1/20 s, or, while it
///   keeps changing, at most 4 times per guest second;
/// - a row whose only change since it was last reported is one character (a
///   spinner, a blinking mark) is reported at most once per guest second;
/// - `flush` reports every row still pending (when the guest stops).
public struct VGATextMirror {
    public static let address: UInt64 = 0xB8000
    public static let columns = 80, rows = 25
    public static let cellBytes = columns * rows * 2
    /// A changed row is reported once stable for 1/`stableDivisor` s.
    public static let stableDivisor: UInt64 = 20
    /// A row that keeps changing is reported at most `changingPerSecond` times per second.
    public static let changingPerSecond: UInt64 = 4

    /// The screen as last reported, and as last seen (characters only; attributes do not
    /// make a row "change").
    private var reported: [UInt8]
    private var seen: [UInt8]
    /// Per row: the TSC of its last change, and of its last report (`never` before the first).
    private var changedAt: [UInt64]
    private var reportedAt: [UInt64]
    private static let never: UInt64 = .max

    public init() {
        reported = [UInt8](repeating: 0x20, count: Self.columns * Self.rows)
        seen = reported
        changedAt = [UInt64](repeating: 0, count: Self.rows)
        reportedAt = [UInt64](repeating: Self.never, count: Self.rows)
    }

    /// Looks at the screen at guest time `tsc` (`ticksPerSecond`: the guest TSC rate) and
    /// calls `changed(row, text)` for each row due for a report (see the rate limits above).
    /// Trailing spaces are trimmed; NUL and other control bytes show as spaces.
    public mutating func scan(_ memory: GuestMemory, tsc: UInt64, ticksPerSecond: UInt64,
                              changed: (Int, UnsafeRawBufferPointer) -> Void) {
        guard let screen = memory.bytes(gpa: Self.address, length: UInt64(Self.cellBytes)) else { return }
        let second = max(ticksPerSecond, 1)
        for row in 0..<Self.rows {
            let base = row * Self.columns
            var differsFromSeen = false, cellsDifferingFromReported = 0
            for column in 0..<Self.columns {
                var c = screen[2 * (base + column)]
                if c < 0x20 || c >= 0x7F { c = 0x20 }
                if seen[base + column] != c { seen[base + column] = c; differsFromSeen = true }
                if reported[base + column] != c { cellsDifferingFromReported += 1 }
            }
            if differsFromSeen { changedAt[row] = tsc }
            guard cellsDifferingFromReported > 0 else { continue }
            let last = reportedAt[row]
            let due: Bool
            if last == Self.never {
                due = true
            } else if cellsDifferingFromReported == 1 {
                due = tsc &- last >= second                               // a spinner: once a second
            } else {
                due = tsc &- changedAt[row] >= second / Self.stableDivisor   // settled
                    || tsc &- last >= second / Self.changingPerSecond        // still changing
            }
            if due { report(row, tsc: tsc, changed) }
        }
    }

    /// Reports every row whose last seen text was not reported yet.
    public mutating func flush(tsc: UInt64, changed: (Int, UnsafeRawBufferPointer) -> Void) {
        for row in 0..<Self.rows {
            let base = row * Self.columns
            var differs = false
            for column in 0..<Self.columns where reported[base + column] != seen[base + column] { differs = true }
            if differs { report(row, tsc: tsc, changed) }
        }
    }

    private mutating func report(_ row: Int, tsc: UInt64, _ changed: (Int, UnsafeRawBufferPointer) -> Void) {
        let base = row * Self.columns
        for column in 0..<Self.columns { reported[base + column] = seen[base + column] }
        reportedAt[row] = tsc
        var length = Self.columns
        while length > 0 && seen[base + length - 1] == 0x20 { length -= 1 }
        seen.withUnsafeBytes { changed(row, UnsafeRawBufferPointer(rebasing: $0[base..<base + length])) }
    }
}
