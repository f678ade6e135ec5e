import XCTest
@testable import Machine

final class GuestClockTests: XCTestCase {
    func testScalesTSCToPITTicksAndNanoseconds() {
        let clock = GuestClock(tscHz: 50_000_000, tscBase: 1_000)
        XCTAssertEqual(clock.pitTicks(at: 1_000), 0)
        XCTAssertEqual(clock.pitTicks(at: 1_000 + 50_000_000), 1_193_182)       // one second
        XCTAssertEqual(clock.nanoseconds(at: 1_000 + 500_000), 10_000_000)      // 10 ms
        XCTAssertEqual(clock.pitTicks(at: 1_000 + 41), 0)                       // 41 * 1193182 / 5e7 = 0.98
        XCTAssertEqual(clock.pitTicks(at: 1_000 + 42), 1)
    }

    func testInverseRoundsUpToTheFirstTSCOfATick() {
        let clock = GuestClock(tscHz: 50_000_000, tscBase: 7)
        for tick: UInt64 in [0, 1, 2, 11_932, 1_193_182, 123_456_789] {
            let tsc = clock.tsc(atTick: tick, hz: 1_193_182)
            XCTAssertEqual(clock.pitTicks(at: tsc), tick)
            if tsc > 7 { XCTAssertLessThan(clock.pitTicks(at: tsc - 1), tick) }
        }
    }

    func testHugeDistancesSaturateInsteadOfTrapping() {
        let clock = GuestClock(tscHz: 1, tscBase: 0)
        XCTAssertEqual(clock.nanoseconds(at: .max), .max)
        XCTAssertEqual(clock.tsc(atTick: .max, hz: 1), .max)
        XCTAssertEqual(GuestClock(tscHz: 0, tscBase: 0).tscHz, 1)
    }
}
