import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// The preemption timer and the turn's end before each entry (EntryTiming), on a PC whose PIT
/// channel 0 runs at about 1 kHz (TestPC.programTimer): 50,000 TSC ticks a period at 50 MHz.
final class EntryTimingTests: XCTestCase {
    var pc = TestPC.make()
    var armed: UInt64 = 0

    func enter(_ vmcs: FakeVMCS, now: UInt64, sliceEnd: UInt64, rate: Int = 0, preemptionTimer: Bool = true) -> Bool {
        EntryTiming.beforeEntry(vmcs, pc: &pc, now: now, sliceEnd: sliceEnd, armedDeadline: &armed,
                                preemptionTimer: preemptionTimer, rate: rate)
    }

    func testWithoutDeviceTimersTheTimerIsArmedForTheTurnsEndOnce() {
        let vmcs = FakeVMCS()
        XCTAssertEqual(pc.nextTimerTSC, .max)
        XCTAssertTrue(enter(vmcs, now: 1000, sliceEnd: 9000, rate: 3))
        XCTAssertEqual(vmcs.written(.vmxPreemptionTimerValue), (9000 - 1000) >> 3)
        XCTAssertEqual(armed, 9000)
        // The same deadline on the next entry: no VMWRITE.
        let again = FakeVMCS()
        XCTAssertTrue(enter(again, now: 2000, sliceEnd: 9000, rate: 3))
        XCTAssertTrue(again.writes.isEmpty)
        // After a preemption-timer exit (armed = 0) it is armed again, from the time left.
        armed = 0
        XCTAssertTrue(enter(again, now: 5000, sliceEnd: 9000, rate: 3))
        XCTAssertEqual(again.written(.vmxPreemptionTimerValue), 500)
    }

    func testTheTurnEndsByWallTime() {
        let vmcs = FakeVMCS()
        XCTAssertFalse(enter(vmcs, now: 9000, sliceEnd: 9000))
        XCTAssertFalse(enter(vmcs, now: 9001, sliceEnd: 9000))
        XCTAssertTrue(vmcs.writes.isEmpty)
    }

    func testADeviceTimerBeforeTheTurnsEndSetsTheDeadlineAndFiresWhenDue() {
        TestPC.programTimer(&pc)
        let first = pc.nextTimerTSC
        XCTAssertLessThan(first, 1_000_000)
        let vmcs = FakeVMCS()
        XCTAssertTrue(enter(vmcs, now: 0, sliceEnd: 1_000_000))
        XCTAssertEqual(armed, first)
        XCTAssertEqual(vmcs.written(.vmxPreemptionTimerValue), first)
        XCTAssertFalse(pc.pic.interruptRequested)
        // At the deadline the timer fires into the PIC and the next period is armed.
        let due = FakeVMCS()
        XCTAssertTrue(enter(due, now: first, sliceEnd: 1_000_000))
        XCTAssertTrue(pc.pic.interruptRequested)
        XCTAssertGreaterThan(pc.nextTimerTSC, first)
        XCTAssertEqual(armed, pc.nextTimerTSC)
        XCTAssertEqual(due.written(.vmxPreemptionTimerValue), pc.nextTimerTSC - first)
    }

    func testTheTurnsEndWinsOverALaterDeviceTimer() {
        TestPC.programTimer(&pc)
        let vmcs = FakeVMCS()
        XCTAssertTrue(enter(vmcs, now: 0, sliceEnd: 100))
        XCTAssertEqual(armed, 100)
        XCTAssertEqual(vmcs.written(.vmxPreemptionTimerValue), 100)
        // Past both: the timers are brought up to now first, then the turn ends.
        XCTAssertFalse(enter(vmcs, now: 2_000_000, sliceEnd: 100))
        XCTAssertTrue(pc.pic.interruptRequested)
    }

    func testWithoutThePreemptionTimerTheHostTimerIsArmed() {
        TestPC.programTimer(&pc)
        let vmcs = FakeVMCS()
        XCTAssertTrue(enter(vmcs, now: 0, sliceEnd: 1_000_000, preemptionTimer: false))
        XCTAssertEqual(vmcs.hostTimerDeadlines, [pc.nextTimerTSC])
        XCTAssertNil(vmcs.written(.vmxPreemptionTimerValue))
        XCTAssertTrue(enter(vmcs, now: 10, sliceEnd: 1_000_000, preemptionTimer: false))
        XCTAssertEqual(vmcs.hostTimerDeadlines.count, 1)        // the deadline did not move
    }
}
