import XCTest
@testable import Machine

final class VGATextMirrorTests: XCTestCase {
    /// 1 MiB of guest RAM, zeroed, with a mirror that scans it at a given guest time.
    private final class Screen {
        let size = 1 << 20
        let ram: UnsafeMutableRawPointer
        let memory: GuestMemory
        var mirror = VGATextMirror()
        static let second: UInt64 = 1_000_000

        init() {
            ram = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
            ram.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            memory = GuestMemory(base: ram, size: UInt64(size))
        }
        deinit { ram.deallocate() }

        func write(row: Int, column: Int = 0, _ text: String, attribute: UInt16 = 0x0700) {
            for (i, byte) in text.utf8.enumerated() {
                _ = memory.store(UInt16(byte) | attribute, gpa: 0xB8000 + 2 * UInt64(80 * row + column + i))
            }
        }

        /// The rows reported at guest time `tsc`.
        func scan(at tsc: UInt64) -> [(Int, String)] {
            var seen: [(Int, String)] = []
            mirror.scan(memory, tsc: tsc, ticksPerSecond: Self.second) { row, text in
                seen.append((row, String(decoding: text, as: UTF8.self)))
            }
            return seen
        }
    }

    func testReportsOnlyChangedRowsAsTrimmedText() {
        let screen = Screen()
        XCTAssertTrue(screen.scan(at: 1).isEmpty, "a blank (zeroed) screen is not news")
        screen.write(row: 3, "Hello, VGA")
        var seen = screen.scan(at: 2)
        XCTAssertEqual(seen.count, 1)
        XCTAssertEqual(seen.first?.0, 3)
        XCTAssertEqual(seen.first?.1, "Hello, VGA", "a row's first change is reported at once")
        XCTAssertTrue(screen.scan(at: 3).isEmpty, "unchanged rows are not reported again")
        screen.write(row: 24, column: 79, "A", attribute: 0x1F00)
        seen = screen.scan(at: 4)
        XCTAssertEqual(seen.first?.0, 24)
        XCTAssertEqual(seen.first?.1.count, 80)
    }

    func testGuestWithoutVGARAMIsIgnored() {
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { ram.deallocate() }
        var mirror = VGATextMirror()
        var calls = 0
        mirror.scan(GuestMemory(base: ram, size: 4096), tsc: 0, ticksPerSecond: 1000) { _, _ in calls += 1 }
        XCTAssertEqual(calls, 0)
    }

    /// A status line whose spinner is redrawn every 10 ms for 5 s: reported at most once a second.
    func testSpinnerAloneIsReportedAtMostOncePerSecond() {
        let screen = Screen()
        let spinner = Array("|/-\\")
        var reports: [UInt64] = []
        let tick = Screen.second / 100
        for n in 0..<500 {
            screen.write(row: 0, "kernel running " + String(spinner[n % 4]))
            let now = 10 * Screen.second + UInt64(n) * tick
            for (row, _) in screen.scan(at: now) where row == 0 { reports.append(now) }
        }
        XCTAssertGreaterThanOrEqual(reports.count, 4, "the row still shows progress")
        XCTAssertLessThanOrEqual(reports.count, 6)
        for (a, b) in zip(reports, reports.dropFirst()) {
            XCTAssertGreaterThanOrEqual(b - a, Screen.second, "two reports less than a second apart")
        }
    }

    /// A row that changes in many places on every tick (a counter): at most 4 reports a second.
    func testContinuouslyChangingRowIsRateLimited() {
        let screen = Screen()
        var reports = 0
        let tick = Screen.second / 100
        for n in 0..<300 {
            screen.write(row: 5, "ticks \(1000 + n * 37) jiffies \(n * 991)")
            reports += screen.scan(at: Screen.second + UInt64(n) * tick).filter { $0.0 == 5 }.count
        }
        XCTAssertGreaterThanOrEqual(reports, 6)
        XCTAssertLessThanOrEqual(reports, 3 * 4 + 1)
    }

    /// A row changed twice in quick succession: the settled text is reported once it is stable.
    func testSettledRowIsReportedWhenStable() {
        let screen = Screen()
        screen.write(row: 2, "loading")
        XCTAssertEqual(screen.scan(at: 100).map { $0.1 }, ["loading"])
        screen.write(row: 2, "loading modules")
        XCTAssertTrue(screen.scan(at: 200).isEmpty, "changed right after the last report: wait")
        XCTAssertTrue(screen.scan(at: 200 + Screen.second / 40).isEmpty, "not stable long enough yet")
        XCTAssertEqual(screen.scan(at: 200 + Screen.second / 20).map { $0.1 }, ["loading modules"])
        XCTAssertTrue(screen.scan(at: 300 + Screen.second).isEmpty)
    }

    func testFlushReportsPendingRows() {
        let screen = Screen()
        screen.write(row: 1, "a|")
        _ = screen.scan(at: 10)
        screen.write(row: 1, "a/")
        XCTAssertTrue(screen.scan(at: 20).isEmpty)
        var flushed: [String] = []
        screen.mirror.flush(tsc: 30) { _, text in flushed.append(String(decoding: text, as: UTF8.self)) }
        XCTAssertEqual(flushed, ["a/"], "the final screen is never lost")
        screen.mirror.flush(tsc: 40) { _, _ in XCTFail("nothing pending any more") }
    }
}
