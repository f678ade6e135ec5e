import XCTest
@testable import Machine

final class ConsoleInputRouteTests: XCTestCase {
    /// A PC whose UART has its FIFOs on (16 bytes), as a serial driver sets it up.
    private func pc() -> VirtualPC<RecordingSink, RecordingSink, ATABlockStorage> {
        var pc = VirtualPC<RecordingSink, RecordingSink, ATABlockStorage>(bus: PortBus(com1Sink: RecordingSink(), debugSink: RecordingSink()), clock: GuestClock(tscHz: 1_000_000_000, tscBase: 0))
        pc.portOut(port: 0x3FA, size: 1, value: 0x01, tsc: 0)    // FCR: FIFOs on
        return pc
    }

    /// Reads everything the keyboard has queued (one byte per read, as a driver does).
    private func drainKeyboard(_ pc: inout VirtualPC<RecordingSink, RecordingSink, ATABlockStorage>) -> [UInt8] {
        var bytes: [UInt8] = []
        while pc.portIn(port: 0x64, size: 1, tsc: 0) & 1 != 0 {
            bytes.append(UInt8(pc.portIn(port: 0x60, size: 1, tsc: 0)))
        }
        return bytes
    }

    private func drainUART(_ pc: inout VirtualPC<RecordingSink, RecordingSink, ATABlockStorage>) -> [UInt8] {
        var bytes: [UInt8] = []
        while pc.portIn(port: 0x3FD, size: 1, tsc: 0) & 1 != 0 {
            bytes.append(UInt8(pc.portIn(port: 0x3F8, size: 1, tsc: 0)))
        }
        return bytes
    }

    func testRouteNames() {
        XCTAssertEqual(ConsoleInputRoute(name: "keyboard"), .keyboard)
        XCTAssertEqual(ConsoleInputRoute(name: "serial"), .serial)
        XCTAssertEqual(ConsoleInputRoute(name: "both"), .both)
        XCTAssertNil(ConsoleInputRoute(name: "mouse"))
    }

    func testBothRoutesGetTheKey() {
        var pc = pc()
        pc.typeConsoleKey(.character(UInt8(ascii: "H")), route: .both)
        XCTAssertEqual(drainKeyboard(&pc), [0x2A, 0x23, 0xA3, 0xAA], "Shift make, H make, H break, Shift break")
        XCTAssertEqual(drainUART(&pc), [UInt8(ascii: "H")])
        pc.typeConsoleKey(.up, route: .both)
        XCTAssertEqual(drainKeyboard(&pc), [0xE0, 0x48, 0xE0, 0xC8], "an extended key: E0-prefixed make and break")
        XCTAssertEqual(drainUART(&pc), Array("\u{1B}[A".utf8))
        pc.typeConsoleKey(.character(0x0D), route: .both)
        XCTAssertEqual(drainKeyboard(&pc), [0x1C, 0x9C], "CR is the Enter key")
        XCTAssertEqual(drainUART(&pc), [0x0D])
    }

    func testOneRouteOnly() {
        var pc = pc()
        pc.typeConsoleKey(.character(UInt8(ascii: "a")), route: .keyboard)
        XCTAssertEqual(drainUART(&pc), [])
        XCTAssertEqual(drainKeyboard(&pc), [0x1E, 0x9E])
        pc.typeConsoleKey(.function(1), route: .serial)
        XCTAssertEqual(drainKeyboard(&pc), [])
        XCTAssertEqual(drainUART(&pc), Array("\u{1B}OP".utf8))
    }

    func testRoomForKeysAndIRQs() {
        var pc = pc()
        // Unmask everything at the PIC (ICW1-4, then OCW1 0) so IRQ 1 and 4 reach INTR.
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0x00)] {
            pc.portOut(port: UInt16(port), size: 1, value: UInt32(value), tsc: 0)
        }
        pc.portOut(port: 0x3F9, size: 1, value: 0x01, tsc: 0)   // UART IER: received-data interrupt
        pc.portOut(port: 0x3FC, size: 1, value: 0x08, tsc: 0)   // MCR.OUT2 gates the UART's IRQ line
        pc.typeConsoleKey(.character(UInt8(ascii: "a")), route: .serial)
        XCTAssertTrue(pc.interruptPending, "IRQ 4 raised by the received byte")
        XCTAssertEqual(pc.acknowledge(), 0x24)
        pc.typeConsoleKey(.character(UInt8(ascii: "a")), route: .keyboard)
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x21)

        var full = self.pc()
        XCTAssertTrue(full.hasRoomForKey(.both))
        for _ in 0..<40 { full.typeConsoleKey(.character(UInt8(ascii: "A")), route: .both) }
        XCTAssertFalse(full.hasRoomForKey(.both), "a guest that reads neither stops the input")
        XCTAssertFalse(full.hasRoomForKey(.keyboard))
        _ = drainUART(&full)
        XCTAssertTrue(full.hasRoomForKey(.both), "one route with room is enough: the guest may read only that one")
        XCTAssertTrue(full.hasRoomForKey(.serial))
        XCTAssertFalse(full.hasRoomForKey(.keyboard))
    }
}
