import XCTest
@testable import Machine

final class ConsoleInputDecoderTests: XCTestCase {
    private func decode(_ bytes: [UInt8], timeOut: Bool = false) -> [ConsoleEvent] {
        var decoder = ConsoleInputDecoder()
        var events: [ConsoleEvent] = []
        for byte in bytes { decoder.feed(byte) { events.append($0) } }
        if timeOut { decoder.timeOut { events.append($0) } }
        return events
    }

    private func chars(_ text: String) -> [ConsoleEvent] { text.utf8.map { .key(.character($0)) } }

    func testPlainBytesAreCharacters() {
        XCTAssertEqual(decode(Array("echo Hello World!\r".utf8)), chars("echo Hello World!\r"))
        XCTAssertEqual(decode([0x03, 0x7F, 0x09]), [.key(.character(0x03)), .key(.character(0x7F)), .key(.character(0x09))])
    }

    func testCtrlACommands() {
        XCTAssertEqual(decode([0x01, UInt8(ascii: "n")]), [.command(.nextVM)])
        XCTAssertEqual(decode([0x01, UInt8(ascii: "s")]), [.command(.statistics)])
        XCTAssertEqual(decode([0x01, UInt8(ascii: "x")]), [.command(.quit)])
        XCTAssertEqual(decode([0x01, UInt8(ascii: "h")]), [.command(.help)])
        XCTAssertEqual(decode([0x01, UInt8(ascii: "?")]), [.command(.help)])
        XCTAssertEqual(decode([0x01, UInt8(ascii: "t")]), [.command(.toggleTerminal)])
        XCTAssertEqual(decode([0x01, UInt8(ascii: "q")]), [.command(.unknown(UInt8(ascii: "q")))])
        XCTAssertEqual(decode([0x01]), [], "the escape key alone waits for its command")
        XCTAssertEqual(decode([0x01, 0x01, UInt8(ascii: "x")]), [.key(.character(0x01)), .key(.character(UInt8(ascii: "x")))],
                       "Ctrl-A Ctrl-A types one Ctrl-A; the x after it is a plain key")
    }

    func testCursorAndEditingKeys() {
        let esc: UInt8 = 0x1B
        XCTAssertEqual(decode([esc, 0x5B, 0x41, esc, 0x5B, 0x42, esc, 0x5B, 0x43, esc, 0x5B, 0x44]),
                       [.key(.up), .key(.down), .key(.right), .key(.left)])
        XCTAssertEqual(decode([esc, 0x4F, 0x41, esc, 0x4F, 0x48, esc, 0x4F, 0x46]), [.key(.up), .key(.home), .key(.end)],
                       "application cursor mode (SS3)")
        XCTAssertEqual(decode([esc] + Array("[1;5A".utf8)), [.key(.up)], "modifiers are ignored")
        XCTAssertEqual(decode([esc] + Array("[3~".utf8) + [esc] + Array("[2~".utf8) + [esc] + Array("[5~".utf8)
                              + [esc] + Array("[6~".utf8) + [esc] + Array("[1~".utf8) + [esc] + Array("[4~".utf8)),
                       [.key(.delete), .key(.insert), .key(.pageUp), .key(.pageDown), .key(.home), .key(.end)])
    }

    func testFunctionKeys() {
        let esc: UInt8 = 0x1B
        XCTAssertEqual(decode([esc, 0x4F, 0x50, esc, 0x4F, 0x53]), [.key(.function(1)), .key(.function(4))])
        let tildes = [15, 17, 18, 19, 20, 21, 23, 24].flatMap { [esc] + Array("[\($0)~".utf8) }
        XCTAssertEqual(decode(tildes), [5, 6, 7, 8, 9, 10, 11, 12].map { .key(.function(UInt8($0))) })
    }

    func testLoneEscapeAndBrokenSequences() {
        XCTAssertEqual(decode([0x1B]), [], "ESC alone waits: it may start a sequence")
        XCTAssertEqual(decode([0x1B], timeOut: true), [.key(.character(0x1B))], "after the time-out it is the Escape key")
        XCTAssertEqual(decode([0x1B, UInt8(ascii: "x")]), chars("\u{1B}x"), "Alt+x: ESC and x")
        XCTAssertEqual(decode([0x1B, 0x5B, 0x31], timeOut: true), chars("\u{1B}[1"), "a sequence cut short")
        XCTAssertEqual(decode([0x1B, 0x5B, 0x0D]), chars("\u{1B}[\r"), "a control character ends a broken sequence")
        XCTAssertEqual(decode([0x1B, 0x5B, 0x01, UInt8(ascii: "x")]), chars("\u{1B}[") + [.command(.quit)],
                       "Ctrl-A inside a broken sequence still works")
        XCTAssertEqual(decode([0x1B, 0x1B, 0x5B, 0x41]), [.key(.character(0x1B)), .key(.up)])
        XCTAssertEqual(decode([0x1B] + Array("[99~".utf8)), [], "an unknown key is dropped, not typed as garbage")
        XCTAssertEqual(decode([0x1B, 0x5B] + [UInt8](repeating: 0x31, count: 40) + [0x7E]).count, 43,
                       "an endless parameter list is given up as characters, never overflows")
    }

    func testDeviceAttributesReplyAnnouncesATerminal() {
        XCTAssertEqual(decode([0x1B] + Array("[?1;2c".utf8)), [.terminalAttached])
        XCTAssertEqual(decode([0x1B] + Array("[?6c".utf8) + Array("a".utf8)), [.terminalAttached, .key(.character(0x61))])
    }

    func testKeysAsScancodesAndTerminalBytes() {
        XCTAssertEqual(ConsoleKey.up.set1?.scancode, 0x48)
        XCTAssertEqual(ConsoleKey.up.set1?.extended, true)
        XCTAssertEqual(ConsoleKey.function(1).set1?.scancode, 0x3B)
        XCTAssertEqual(ConsoleKey.function(10).set1?.scancode, 0x44)
        XCTAssertEqual(ConsoleKey.function(12).set1?.scancode, 0x58)
        XCTAssertEqual(ConsoleKey.function(12).set1?.extended, false)
        XCTAssertNil(ConsoleKey.character(0x61).set1)
        func bytes(_ key: ConsoleKey) -> String {
            var out: [UInt8] = []
            key.terminalBytes { out.append($0) }
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(bytes(.up), "\u{1B}[A")
        XCTAssertEqual(bytes(.delete), "\u{1B}[3~")
        XCTAssertEqual(bytes(.function(2)), "\u{1B}OQ")
        XCTAssertEqual(bytes(.function(6)), "\u{1B}[17~")
        XCTAssertEqual(bytes(.function(12)), "\u{1B}[24~")
        XCTAssertEqual(bytes(.character(0x0D)), "\r")
        // What a key's terminal bytes decode to is the key again.
        for key: ConsoleKey in [.up, .down, .left, .right, .home, .end, .insert, .delete, .pageUp, .pageDown]
            + (1...12).map({ .function(UInt8($0)) }) {
            var out: [UInt8] = []
            key.terminalBytes { out.append($0) }
            XCTAssertEqual(decode(out), [.key(key)], "\(key)")
        }
    }
}
