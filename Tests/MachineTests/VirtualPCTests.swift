import XCTest
@testable import Machine

final class VirtualPCTests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>
    let tscHz: UInt64 = 50_000_000

    func makePC() -> PC {
        PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()), clock: GuestClock(tscHz: tscHz, tscBase: 0))
    }

    /// Linux's 8259A setup: vectors 0x20/0x28, slave on IRQ2, 8086 mode, only IRQ0 unmasked.
    func initializePIC(_ pc: inout PC, tsc: UInt64 = 0) {
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01),
                              (0x21, 0xFE), (0xA1, 0xFF)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: tsc)
        }
    }

    func testNoTimerUntilThePITIsProgrammed() {
        var pc = makePC()
        XCTAssertEqual(pc.nextTimerTSC, .max)
        pc.update(tsc: 1_000_000_000)
        XCTAssertFalse(pc.interruptPending)
    }

    func testPITAt100HzRaisesIRQ0ThroughThePIC() {
        var pc = makePC()
        initializePIC(&pc)
        // Channel 0, lo/hi, mode 2, count 11932: 100 Hz.
        pc.portOut(port: 0x43, size: 1, value: 0x34, tsc: 0)
        pc.portOut(port: 0x40, size: 1, value: 11_932 & 0xFF, tsc: 0)
        pc.portOut(port: 0x40, size: 1, value: 11_932 >> 8, tsc: 0)
        let first = pc.nextTimerTSC
        // About 10 ms of a 50 MHz TSC.
        XCTAssertGreaterThan(first, 490_000)
        XCTAssertLessThan(first, 510_000)
        pc.update(tsc: first - 1)
        XCTAssertFalse(pc.interruptPending)
        pc.update(tsc: first)
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x20)
        XCTAssertFalse(pc.interruptPending)
        // Not again until EOI and the next period.
        pc.portOut(port: 0x20, size: 1, value: 0x20, tsc: first + 10)
        XCTAssertGreaterThan(pc.nextTimerTSC, first + 490_000)
        // Edges come at 1 + 11932k PIT ticks: 99 within the first second, the 100th just after.
        pc.update(tsc: tscHz)
        XCTAssertEqual(pc.timerInterrupts, 99)
        pc.update(tsc: tscHz + 1_000)
        XCTAssertEqual(pc.timerInterrupts, 100)
    }

    func testMaskedIRQ0IsNotRequested() {
        var pc = makePC()
        initializePIC(&pc)
        pc.portOut(port: 0x21, size: 1, value: 0xFF, tsc: 0)
        pc.portOut(port: 0x43, size: 1, value: 0x34, tsc: 0)
        pc.portOut(port: 0x40, size: 1, value: 100, tsc: 0)
        pc.portOut(port: 0x40, size: 1, value: 0, tsc: 0)
        pc.update(tsc: 10_000_000)
        XCTAssertFalse(pc.interruptPending)
        XCTAssertGreaterThan(pc.timerInterrupts, 0)
    }

    func testPortsRouteToTheirDevices() {
        var pc = makePC()
        initializePIC(&pc)
        XCTAssertEqual(pc.portIn(port: 0x21, size: 1, tsc: 0), 0xFE)          // IMR reads back
        pc.portOut(port: 0x3FF, size: 1, value: 0x5A, tsc: 0)
        XCTAssertEqual(pc.portIn(port: 0x3FF, size: 1, tsc: 0), 0x5A)         // UART scratch via the bus
        XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: 0), 0xFF)         // no disk: floating bus
        XCTAssertEqual(pc.portIn(port: 0x1234, size: 2, tsc: 0), 0xFFFF)
        XCTAssertEqual(pc.bus.unhandled.counts(port: 0x1234)?.reads, 1)
    }

    func testCOM1InterruptLineFollowsTheUART() {
        var pc = makePC()
        initializePIC(&pc)
        pc.portOut(port: 0x21, size: 1, value: 0xEF, tsc: 0)                  // unmask IRQ4 only
        pc.portOut(port: 0x3FC, size: 1, value: 0x08, tsc: 0)                 // MCR.OUT2: IRQ line enabled
        pc.portOut(port: 0x3F9, size: 1, value: 0x02, tsc: 0)                 // IER: THR empty
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x24)
    }

    func testChannel2GateAndOutputThroughPort61() {
        var pc = makePC()
        pc.portOut(port: 0x61, size: 1, value: 0x01, tsc: 0)                  // gate on, speaker off
        pc.portOut(port: 0x43, size: 1, value: 0xB0, tsc: 0)                  // channel 2, mode 0
        pc.portOut(port: 0x42, size: 1, value: 0x9C, tsc: 0)
        pc.portOut(port: 0x42, size: 1, value: 0x2E, tsc: 0)                  // 11932: 10 ms
        XCTAssertEqual(pc.portIn(port: 0x61, size: 1, tsc: 100_000) & 0x20, 0)
        XCTAssertEqual(pc.portIn(port: 0x61, size: 1, tsc: 600_000) & 0x20, 0x20)
    }
}

final class VirtualPCDeviceTests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>

    func testRTCKeepsGuestTimeFromTheClock() {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: 1_000_000, tscBase: 0),
                    wallClock: CalendarDateTime(year: 2026, month: 11, day: 27, hour: 7, minute: 59, second: 58),
                    ramBytes: 16 << 20)
        func cmos(_ index: UInt32, tsc: UInt64) -> UInt32 {
            pc.portOut(port: 0x70, size: 1, value: index, tsc: tsc)
            return pc.portIn(port: 0x71, size: 1, tsc: tsc)
        }
        XCTAssertEqual(cmos(0x00, tsc: 0), 0x58)                  // seconds, BCD
        XCTAssertEqual(cmos(0x04, tsc: 0), 0x07)
        XCTAssertEqual(cmos(0x00, tsc: 3_000_000), 0x01)          // three seconds later: 08:00:01
        XCTAssertEqual(cmos(0x02, tsc: 3_000_000), 0x00)
        XCTAssertEqual(cmos(0x04, tsc: 3_000_000), 0x08)
        XCTAssertEqual(cmos(0x09, tsc: 3_000_000), 0x26)
        XCTAssertEqual(cmos(0x34, tsc: 0), 0x00)                  // 16 MiB: nothing above 16 MiB
        XCTAssertEqual(cmos(0x17, tsc: 0) | cmos(0x18, tsc: 0) << 8, 15 * 1024)   // KiB above 1 MiB
    }

    func testTypedKeysRaiseIRQ1WithScancodeSet1() {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: 1_000_000, tscBase: 0))
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xFD)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        pc.type(ascii: UInt8(ascii: "a"))
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x21)
        XCTAssertEqual(pc.portIn(port: 0x64, size: 1, tsc: 0) & 1, 1)        // output buffer full
        XCTAssertEqual(pc.portIn(port: 0x60, size: 1, tsc: 0), 0x1E)         // 'a' make code
        // The break code follows at once: a new IRQ 1 edge although the line never dropped.
        pc.portOut(port: 0x20, size: 1, value: 0x20, tsc: 0)                 // EOI
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x21)
        XCTAssertEqual(pc.portIn(port: 0x60, size: 1, tsc: 0), 0x9E)         // 'a' break code
        pc.portOut(port: 0x20, size: 1, value: 0x20, tsc: 0)
        XCTAssertFalse(pc.interruptPending)
    }
}

final class VirtualPCVGAAndResetTests: XCTestCase {
    func testCursorRegistersAreAcceptedAndReadBack() {
        var pc = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                           clock: GuestClock(tscHz: 1, tscBase: 0))
        pc.portOut(port: 0x3D4, size: 1, value: 0x0E, tsc: 0)
        pc.portOut(port: 0x3D5, size: 1, value: 0x01, tsc: 0)
        pc.portOut(port: 0x3D4, size: 2, value: 0x400F, tsc: 0)          // index 0x0F, data 0x40 in one OUT
        XCTAssertEqual(pc.cursorPosition, 0x140)
        pc.portOut(port: 0x3D4, size: 1, value: 0x0E, tsc: 0)
        XCTAssertEqual(pc.portIn(port: 0x3D5, size: 1, tsc: 0), 0x01)
        XCTAssertNil(pc.bus.unhandled.counts(port: 0x3D4))
    }

    func testKeyboardControllerResetLineIsVisible() {
        var pc = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                           clock: GuestClock(tscHz: 1, tscBase: 0))
        XCTAssertFalse(pc.resetRequested)
        pc.portOut(port: 0x64, size: 1, value: 0xFE, tsc: 0)
        XCTAssertTrue(pc.resetRequested)
    }
}
