/// Follows a guest's VGA text screen (80x25 cells of character + attribute at
/// guest-physical 0xB8000, plain guest RAM: writes cost no exit) and reports the
/// rows that changed since it last looked, as text. The engine looks at timer
/// rate and prints those rows, so a VGA-only guest is usable on a serial console.
public struct VGATextMirror {
    public static let address: UInt64 = 0xB8000
    public static let columns = 80, rows = 25
    public static let cellBytes = columns * rows * 2

    /// The screen as last reported (characters only; attributes do not make a row "change").
    private var shown: [UInt8]

    public init() { shown = [UInt8](repeating: 0x20, count: Self.columns * Self.rows) }

    /// Calls `changed(row, text)` for each row whose characters differ from last time.
    /// Trailing spaces are trimmed; NUL and other control bytes show as spaces.
    public mutating func scan(_ memory: GuestMemory, changed: (Int, UnsafeRawBufferPointer) -> Void) {
        guard let screen = memory.bytes(gpa: Self.address, length: UInt64(Self.cellBytes)) else { return }
        var line = [UInt8](repeating: 0x20, count: Self.columns)
        for row in 0..<Self.rows {
            var differs = false
            for column in 0..<Self.columns {
                var c = screen[2 * (row * Self.columns + column)]
                if c < 0x20 || c >= 0x7F { c = 0x20 }
                line[column] = c
                if shown[row * Self.columns + column] != c { differs = true }
            }
            guard differs else { continue }
            for column in 0..<Self.columns { shown[row * Self.columns + column] = line[column] }
            var length = Self.columns
            while length > 0 && line[length - 1] == 0x20 { length -= 1 }
            line.withUnsafeBytes { changed(row, UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
        }
    }
}
