import XCTest
@testable import Machine

final class ConsoleScreenTests: XCTestCase {
    private func vga(_ rows: [Int: (String, UInt8)]) -> [UInt8] {
        var cells = [UInt8](repeating: 0, count: 4000)
        for i in 0..<2000 { cells[2 * i] = 0x20; cells[2 * i + 1] = 0x07 }
        for (row, (text, attribute)) in rows {
            for (i, byte) in text.utf8.enumerated() { cells[2 * (row * 80 + i)] = byte; cells[2 * (row * 80 + i) + 1] = attribute }
        }
        return cells
    }

    private func draw(_ screen: inout ConsoleScreen, _ cells: [UInt8]) -> String {
        var out: [UInt8] = []
        cells.withUnsafeBytes { screen.draw($0) { out.append($0) } }
        return String(decoding: out, as: UTF8.self)
    }

    func testDrawsAllRowsFirstThenOnlyChangedOnes() {
        var screen = ConsoleScreen()
        let first = draw(&screen, vga([0: ("Hello", 0x1F)]))
        XCTAssertTrue(first.hasPrefix("\u{1B}7"), "the cursor is saved")
        XCTAssertTrue(first.hasSuffix("\u{1B}[0m\u{1B}8"), "and restored")
        XCTAssertTrue(first.contains("\u{1B}[1;1H\u{1B}[0;97;44mHello\u{1B}[0;37;40m "), "bright white on blue, then grey on black")
        XCTAssertTrue(first.contains("\u{1B}[25;1H"), "every row on the first draw")
        XCTAssertEqual(draw(&screen, vga([0: ("Hello", 0x1F)])), "", "nothing changed: nothing drawn")
        let second = draw(&screen, vga([0: ("Hello", 0x1F), 7: ("x", 0x04)]))
        XCTAssertTrue(second.contains("\u{1B}[8;1H\u{1B}[0;31;40mx"), "VGA red is ANSI 31")
        XCTAssertFalse(second.contains("\u{1B}[1;1H"), "unchanged rows are not redrawn")
        let colour = draw(&screen, vga([0: ("Hello", 0x1E), 7: ("x", 0x04)]))
        XCTAssertTrue(colour.contains("\u{1B}[1;1H\u{1B}[0;93;44mHello"), "a colour change alone redraws the row (yellow)")
        screen.invalidate()
        XCTAssertTrue(draw(&screen, vga([0: ("Hello", 0x1E), 7: ("x", 0x04)])).contains("\u{1B}[25;1H"), "invalidate: all rows")
    }

    func testControlAndCodePageCharacters() {
        XCTAssertEqual(ConsoleScreen.printable(0x00), 0x20)
        XCTAssertEqual(ConsoleScreen.printable(0x1B), UInt8(ascii: "?"), "never an ESC on the terminal")
        XCTAssertEqual(ConsoleScreen.printable(0x9B), UInt8(ascii: "?"), "never a C1 CSI either")
        XCTAssertEqual(ConsoleScreen.printable(0xC4), UInt8(ascii: "-"))
        XCTAssertEqual(ConsoleScreen.printable(0xDB), UInt8(ascii: "#"))
        var screen = ConsoleScreen()
        let out = draw(&screen, vga([3: ("\u{1B}[2J", 0x07)]))
        XCTAssertFalse(out.contains("\u{1B}[2J"), "a guest cannot send escape sequences through its screen")
    }

    func testBeginSetsTheScrollingRegionAndEndResetsIt() {
        var screen = ConsoleScreen()
        var out: [UInt8] = []
        Array("guest\u{1B}".utf8).withUnsafeBytes { screen.begin(title: $0) { out.append($0) } }
        let begin = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(begin.contains("\u{1B}[27r"))
        XCTAssertTrue(begin.contains("guest?"), "the title is sanitised")
        out = []
        screen.end { out.append($0) }
        XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("\u{1B}[r"))
    }
}
