import XCTest
import Machine

final class UnhandledPortTableTests: XCTestCase {
    func testKeepsPortsSorted() {
        var table = UnhandledPortTable()
        for port: UInt16 in [0x70, 0x20, 0xFFFF, 0x0, 0x64, 0x20] { table.recordRead(port: port) }
        XCTAssertEqual(table.count, 5)
        XCTAssertEqual((0..<table.count).map { table[$0].port }, [0x0, 0x20, 0x64, 0x70, 0xFFFF])
        XCTAssertEqual(table.counts(port: 0x20)?.reads, 2)
    }

    func testEmptySummary() {
        let table = UnhandledPortTable()
        var sink = RecordingSink()
        table.writeSummary(to: &sink)
        XCTAssertEqual(sink.text, "")
        XCTAssertTrue(table.isEmpty)
    }

    func testRemoveAll() {
        var table = UnhandledPortTable()
        table.recordWrite(port: 1)
        table.removeAll()
        XCTAssertTrue(table.isEmpty)
        XCTAssertNil(table.counts(port: 1))
    }
}
