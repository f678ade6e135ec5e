// The focused VM's VGA text screen drawn on the hypervisor's terminal as a
// screen (terminal mode): the 80x25 cells in the terminal's top rows with their
// colours, redrawn row by row when they change, and the serial output scrolling
// underneath (a scrolling region from row 27, ECMA-48 DECSTBM). Emits VT100/xterm
// escape sequences; pure, so it is unit-tested on the host.

public struct ConsoleScreen {
    public static let columns = VGATextMirror.columns, rows = VGATextMirror.rows
    /// The first terminal row of the scrolling serial output (row 26 is a title line).
    public static let firstLogRow = rows + 2

    /// The cells as drawn (character | attribute << 8); nil entries: never drawn.
    private var drawn: [UInt16]
    private var valid = false

    public init() { drawn = [UInt16](repeating: 0, count: Self.columns * Self.rows) }

    /// The next `draw` redraws every row (focus moved to another VM).
    public mutating func invalidate() { valid = false }

    /// Enters terminal mode: clears the terminal, writes `title` on row 26 and
    /// confines scrolling to the rows below it, the cursor at the bottom.
    public mutating func begin(title: UnsafeRawBufferPointer, _ emit: (UInt8) -> Void) {
        sequence("\u{1B}[0m\u{1B}[2J", emit)
        setTitle(title, emit)
        sequence("\u{1B}[\(Self.firstLogRow)r", emit)   // DECSTBM: top margin, bottom = last line
        sequence("\u{1B}[999;1H", emit)
        valid = false
    }

    /// Row 26: what the screen above shows (the focused VM's name, the keys).
    public func setTitle(_ title: UnsafeRawBufferPointer, _ emit: (UInt8) -> Void) {
        sequence("\u{1B}7\u{1B}[\(Self.rows + 1);1H\u{1B}[0;7m", emit)  // save cursor, reverse video
        var n = 0
        for byte in title where n < Self.columns { emit(byte < 0x20 || byte >= 0x7F ? UInt8(ascii: "?") : byte); n += 1 }
        sequence("\u{1B}[0m\u{1B}[K\u{1B}8", emit)
    }

    /// Leaves terminal mode: the whole terminal scrolls again, the cursor at the bottom.
    public func end(_ emit: (UInt8) -> Void) {
        sequence("\u{1B}[0m\u{1B}[r\u{1B}[999;1H\r\n", emit)
    }

    /// Draws the rows of `screen` (4000 bytes of VGA text memory) that differ from
    /// what was drawn, with the cursor saved and restored around them.
    public mutating func draw(_ screen: UnsafeRawBufferPointer, _ emit: (UInt8) -> Void) {
        guard screen.count >= Self.columns * Self.rows * 2 else { return }
        var saved = false
        for row in 0..<Self.rows {
            let base = row * Self.columns
            var differs = !valid
            for column in 0..<Self.columns where !differs {
                let cell = UInt16(screen[2 * (base + column)]) | UInt16(screen[2 * (base + column) + 1]) << 8
                if drawn[base + column] != cell { differs = true }
            }
            guard differs else { continue }
            if !saved { sequence("\u{1B}7", emit); saved = true }
            sequence("\u{1B}[\(row + 1);1H", emit)
            var attribute: Int = -1
            for column in 0..<Self.columns {
                let character = screen[2 * (base + column)], attr = screen[2 * (base + column) + 1]
                drawn[base + column] = UInt16(character) | UInt16(attr) << 8
                if Int(attr) != attribute {
                    attribute = Int(attr)
                    Self.selectGraphicRendition(attr, emit)
                }
                emit(Self.printable(character))
            }
        }
        valid = true
        if saved { sequence("\u{1B}[0m\u{1B}8", emit) }
    }

    /// A VGA attribute byte (foreground bits 3:0 with bit 3 bright, background bits 6:4;
    /// bit 7, blink, ignored) as an SGR sequence. VGA's colour order is
    /// black, blue, green, cyan, red, magenta, brown, grey; ANSI's has red and blue swapped.
    public static func selectGraphicRendition(_ attribute: UInt8, _ emit: (UInt8) -> Void) {
        let ansi: [UInt8] = [0, 4, 2, 6, 1, 5, 3, 7]
        let fg = attribute & 0x0F, bg = (attribute >> 4) & 0x07
        sequence("\u{1B}[0;", emit)
        let fgCode = (fg & 0x08 != 0 ? 90 : 30) + Int(ansi[Int(fg & 0x07)])
        number(fgCode, emit)
        emit(UInt8(ascii: ";"))
        number(40 + Int(ansi[Int(bg)]), emit)
        emit(UInt8(ascii: "m"))
    }

    /// A VGA character as the terminal shows it: ASCII as is, code page 437's line
    /// and block characters as their ASCII look-alikes, the rest as a space or '?'.
    public static func printable(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x20...0x7E: return c
        case 0x00: return 0x20
        case 0xB3, 0xBA: return UInt8(ascii: "|")
        case 0xC4, 0xCD: return UInt8(ascii: "-")
        case 0xB0...0xB2, 0xDB...0xDF: return UInt8(ascii: "#")
        case 0xB4...0xB9, 0xBB...0xC3, 0xC5...0xCC, 0xCE...0xDA: return UInt8(ascii: "+")
        case 0xF9, 0xFA: return UInt8(ascii: ".")
        default: return UInt8(ascii: "?")
        }
    }

    private static func number(_ n: Int, _ emit: (UInt8) -> Void) {
        if n >= 10 { number(n / 10, emit) }
        emit(UInt8(ascii: "0") + UInt8(n % 10))
    }

    private static func sequence(_ text: String, _ emit: (UInt8) -> Void) {
        for byte in text.utf8 { emit(byte) }
    }

    private func sequence(_ text: String, _ emit: (UInt8) -> Void) { Self.sequence(text, emit) }
}
