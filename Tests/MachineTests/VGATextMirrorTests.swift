import XCTest
@testable import Machine

final class VGATextMirrorTests: XCTestCase {
    func testReportsOnlyChangedRowsAsTrimmedText() {
        let size = 1 << 20
        let ram = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        defer { ram.deallocate() }
        ram.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        let memory = GuestMemory(base: ram, size: UInt64(size))
        var mirror = VGATextMirror()
        var seen: [(Int, String)] = []
        func scan() {
            seen = []
            mirror.scan(memory) { row, text in seen.append((row, String(decoding: text, as: UTF8.self))) }
        }
        scan()
        XCTAssertTrue(seen.isEmpty, "a blank (zeroed) screen is not news")
        for (i, byte) in "Hello, VGA".utf8.enumerated() {
            _ = memory.store(UInt16(byte) | 0x0700, gpa: 0xB8000 + 2 * UInt64(80 * 3 + i))
        }
        scan()
        XCTAssertEqual(seen.count, 1)
        XCTAssertEqual(seen.first?.0, 3)
        XCTAssertEqual(seen.first?.1, "Hello, VGA")
        scan()
        XCTAssertTrue(seen.isEmpty, "unchanged rows are not reported again")
        _ = memory.store(UInt16(0x41) | 0x1F00, gpa: 0xB8000 + 2 * UInt64(80 * 24 + 79))
        scan()
        XCTAssertEqual(seen.first?.0, 24)
        XCTAssertEqual(seen.first?.1.count, 80)
    }

    func testGuestWithoutVGARAMIsIgnored() {
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { ram.deallocate() }
        var mirror = VGATextMirror()
        var calls = 0
        mirror.scan(GuestMemory(base: ram, size: 4096)) { _, _ in calls += 1 }
        XCTAssertEqual(calls, 0)
    }
}
