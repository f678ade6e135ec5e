import XCTest
import Machine

final class PortBusTests: XCTestCase {
    private func makeBus() -> PortBus<RecordingSink, RecordingSink> {
        PortBus(com1Sink: RecordingSink(), debugSink: RecordingSink())
    }

    func testCOM1Routing() {
        var bus = makeBus()
        for byte in "ok".utf8 { bus.portOut(port: 0x3F8, size: 1, value: UInt32(byte)) }
        XCTAssertEqual(bus.com1.sink.text, "ok")
        XCTAssertEqual(bus.portIn(port: 0x3FD, size: 1), 0x60)  // LSR
        bus.portOut(port: 0x3FF, size: 1, value: 0xA5)
        XCTAssertEqual(bus.portIn(port: 0x3FF, size: 1), 0xA5)  // SCR
        bus.portOut(port: 0x3FB, size: 1, value: 0x80)
        bus.portOut(port: 0x3F8, size: 1, value: 0x01)
        XCTAssertEqual(bus.com1.divisorLatch & 0xFF, 0x01)
        bus.com1.receive(0x71)
        bus.portOut(port: 0x3FB, size: 1, value: 0x03)
        XCTAssertEqual(bus.portIn(port: 0x3F8, size: 1), 0x71)
        XCTAssertTrue(bus.debugConsole.sink.bytes.isEmpty)
        XCTAssertTrue(bus.unhandled.isEmpty)
    }

    func testCOM1InterruptVisibleToOwner() {
        var bus = makeBus()
        bus.portOut(port: 0x3FC, size: 1, value: 0x0B)  // DTR | RTS | OUT2
        bus.portOut(port: 0x3F9, size: 1, value: 0x01)  // ERBFI
        XCTAssertFalse(bus.com1.irqAsserted)
        bus.com1.receive(0x0D)
        XCTAssertTrue(bus.com1.irqAsserted)
        XCTAssertEqual(bus.portIn(port: 0x3FA, size: 1), 0x04)
    }

    func testDebugConsolePort() {
        var bus = makeBus()
        for byte in "E9!\n".utf8 { bus.portOut(port: 0xE9, size: 1, value: UInt32(byte)) }
        XCTAssertEqual(bus.debugConsole.sink.text, "E9!\n")
        XCTAssertEqual(bus.portIn(port: 0xE9, size: 1), 0xE9)
        XCTAssertTrue(bus.com1.sink.bytes.isEmpty)
        XCTAssertTrue(bus.unhandled.isEmpty)
    }

    func testUnknownPortsReadAllOnesAndAreCounted() {
        var bus = makeBus()
        XCTAssertEqual(bus.portIn(port: 0x61, size: 1), 0xFF)
        XCTAssertEqual(bus.portIn(port: 0x61, size: 2), 0xFFFF)
        XCTAssertEqual(bus.portIn(port: 0x61, size: 4), 0xFFFF_FFFF)
        bus.portOut(port: 0x61, size: 1, value: 0x03)
        bus.portOut(port: 0xCF8, size: 4, value: 0x8000_0000)
        XCTAssertEqual(bus.portIn(port: 0xCFC, size: 4), 0xFFFF_FFFF)
        XCTAssertEqual(bus.unhandled.counts(port: 0x61), UnhandledPortCount(port: 0x61, reads: 3, writes: 1))
        XCTAssertEqual(bus.unhandled.counts(port: 0xCF8), UnhandledPortCount(port: 0xCF8, reads: 0, writes: 1))
        XCTAssertEqual(bus.unhandled.counts(port: 0xCFC), UnhandledPortCount(port: 0xCFC, reads: 1, writes: 0))
        XCTAssertNil(bus.unhandled.counts(port: 0x60))
        XCTAssertEqual(bus.unhandled.count, 3)
        var report = RecordingSink()
        bus.unhandled.writeSummary(to: &report)
        XCTAssertEqual(report.text, "0x61 r3 w1, 0xcf8 r0 w1, 0xcfc r1 w0")
    }

    func testPostCodePortIgnored() {
        var bus = makeBus()
        bus.portOut(port: 0x80, size: 1, value: 0x42)
        XCTAssertEqual(bus.lastPostCode, 0x42)
        XCTAssertEqual(bus.portIn(port: 0x80, size: 1), 0xFF)
        XCTAssertTrue(bus.unhandled.isEmpty)
        XCTAssertTrue(bus.com1.sink.bytes.isEmpty)
        XCTAssertTrue(bus.debugConsole.sink.bytes.isEmpty)
    }

    func testPortsAdjacentToDevicesAreUnhandled() {
        var bus = makeBus()
        XCTAssertEqual(bus.portIn(port: 0x3F7, size: 1), 0xFF)
        XCTAssertEqual(bus.portIn(port: 0x400, size: 1), 0xFF)
        bus.portOut(port: 0xE8, size: 1, value: 0x41)
        bus.portOut(port: 0xEA, size: 1, value: 0x41)
        XCTAssertTrue(bus.debugConsole.sink.bytes.isEmpty)
        XCTAssertEqual(bus.unhandled.count, 4)
    }

    func testWideCOM1AccessIsConfinedToTheAccessSize() {
        var bus = makeBus()
        // A 32-bit IN at 0x3FC reads MCR, LSR, MSR, SCR.
        bus.portOut(port: 0x3FF, size: 1, value: 0x12)
        XCTAssertEqual(bus.portIn(port: 0x3FC, size: 4), 0x12B0_6000)
        // A 16-bit IN at 0x3FF reads SCR then a byte past the UART.
        XCTAssertEqual(bus.portIn(port: 0x3FF, size: 2), 0xFF12)
    }

    func testUnhandledTableOverflow() {
        var bus = makeBus()
        for port in UInt16(0x1000)..<UInt16(0x1000 + 70) {
            bus.portOut(port: port, size: 1, value: 0)
        }
        _ = bus.portIn(port: 0x2000, size: 1)
        XCTAssertEqual(bus.unhandled.count, UnhandledPortTable.capacity)
        XCTAssertEqual(bus.unhandled.untrackedAccesses, 7)
        XCTAssertEqual(bus.unhandled[0].port, 0x1000)
        XCTAssertEqual(bus.unhandled[63].port, 0x103F)
        // Tracked ports keep counting after the table is full.
        bus.portOut(port: 0x1000, size: 1, value: 0)
        XCTAssertEqual(bus.unhandled.counts(port: 0x1000)?.writes, 2)
        var report = RecordingSink()
        bus.unhandled.writeSummary(to: &report)
        XCTAssertTrue(report.text.hasPrefix("0x1000 r0 w2, 0x1001 r0 w1"))
        XCTAssertTrue(report.text.hasSuffix("0x103f r0 w1 +7 untracked"))
    }
}
