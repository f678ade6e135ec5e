import XCTest
import Machine

final class LineBufferTests: XCTestCase {
    private func feed(_ text: String, into buffer: inout LineBuffer<RecordingLines>) {
        for byte in text.utf8 { buffer.put(byte) }
    }

    func testFlushesOnNewline() {
        var buffer = LineBuffer(output: RecordingLines())
        feed("hello", into: &buffer)
        XCTAssertTrue(buffer.output.lines.isEmpty)
        XCTAssertEqual(buffer.count, 5)
        feed("\nworld\r\n\n", into: &buffer)
        XCTAssertEqual(buffer.output.lines.map(\.text), ["hello", "world", ""])
        XCTAssertEqual(buffer.output.lines.map(\.complete), [true, true, true])
        XCTAssertEqual(buffer.count, 0)
    }

    func testFlushesWhenFull() {
        var buffer = LineBuffer(output: RecordingLines())
        let long = String(repeating: "a", count: 256) + String(repeating: "b", count: 10) + "\n"
        feed(long, into: &buffer)
        XCTAssertEqual(buffer.output.lines.count, 2)
        XCTAssertEqual(buffer.output.lines[0].text, String(repeating: "a", count: 256))
        XCTAssertFalse(buffer.output.lines[0].complete)
        XCTAssertEqual(buffer.output.lines[1].text, String(repeating: "b", count: 10))
        XCTAssertTrue(buffer.output.lines[1].complete)
    }

    func testExplicitFlush() {
        var buffer = LineBuffer(output: RecordingLines())
        buffer.flush()
        XCTAssertTrue(buffer.output.lines.isEmpty, "nothing to flush")
        feed("partial", into: &buffer)
        buffer.flush()
        XCTAssertEqual(buffer.output.lines.count, 1)
        XCTAssertEqual(buffer.output.lines[0].text, "partial")
        XCTAssertFalse(buffer.output.lines[0].complete)
    }

    func testLoneCarriageReturnIsKept() {
        var buffer = LineBuffer(output: RecordingLines())
        feed("a\rb\n", into: &buffer)
        XCTAssertEqual(buffer.output.lines.map(\.text), ["a\rb"])
    }

    func testAsUARTSink() {
        var uart = UART16550(sink: LineBuffer(output: RecordingLines()))
        for byte in "boot ok\r\n".utf8 { uart.writeRegister(UARTRegister.data, byte) }
        XCTAssertEqual(uart.sink.output.lines.map(\.text), ["boot ok"])
    }
}
