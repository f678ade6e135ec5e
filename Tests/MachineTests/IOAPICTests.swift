import XCTest
@testable import Machine

/// The I/O APIC model (82093AA): registers through IOREGSEL/IOWIN, edge and level pins,
/// masking, remote IRR and EOI.
final class IOAPICTests: XCTestCase {
    func writeEntry(_ io: inout IOAPIC, pin: Int, low: UInt32, high: UInt32 = 0) {
        io.writeMMIO(offset: 0x00, size: 4, value: UInt32(0x11 + 2 * pin))
        io.writeMMIO(offset: 0x10, size: 4, value: high)
        io.writeMMIO(offset: 0x00, size: 4, value: UInt32(0x10 + 2 * pin))
        io.writeMMIO(offset: 0x10, size: 4, value: low)
    }
    func readRegister(_ io: inout IOAPIC, _ index: UInt32) -> UInt32 {
        io.writeMMIO(offset: 0x00, size: 4, value: index)
        return io.readMMIO(offset: 0x10, size: 4)
    }

    func testIdentificationRegisters() {
        var io = IOAPIC(id: 2)
        XCTAssertEqual(readRegister(&io, 0x01), 0x0017_0011, "24 pins, version 0x11")
        XCTAssertEqual(readRegister(&io, 0x00), 0x0200_0000)
        XCTAssertEqual(readRegister(&io, 0x02), 0x0200_0000)
        io.writeMMIO(offset: 0x10, size: 4, value: 0xFFFF_FFFF)    // IOREGSEL still 2: arbitration is read-only
        XCTAssertEqual(readRegister(&io, 0x02), 0x0200_0000)
        io.writeMMIO(offset: 0x00, size: 4, value: 0)
        io.writeMMIO(offset: 0x10, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(readRegister(&io, 0x00), 0x0F00_0000, "ID is bits 27:24")
        XCTAssertEqual(readRegister(&io, 0x02), 0x0F00_0000, "arbitration ID follows the ID")
        XCTAssertEqual(io.readMMIO(offset: 0x00, size: 4), 0x02)
        XCTAssertEqual(readRegister(&io, 0x40), 0, "beyond the table")
        XCTAssertEqual(readRegister(&io, 0x10), 0x1_0000, "entries reset masked")
        XCTAssertEqual(io.readMMIO(offset: 0x20, size: 4), 0)
    }

    func testEntryReservedAndReadOnlyBits() {
        var io = IOAPIC()
        writeEntry(&io, pin: 5, low: 0xFFFF_FFFF, high: 0xFFFF_FFFF)
        XCTAssertEqual(readRegister(&io, 0x10 + 10), 0x0001_AFFF, "delivery status, remote IRR, reserved: 0")
        XCTAssertEqual(readRegister(&io, 0x11 + 10), 0xFF00_0000, "destination in 63:56")
        XCTAssertEqual(io.entry(5).destination, 0xFF)
        XCTAssertTrue(io.entry(5).isMasked)
    }

    func testEdgePinSendsOncePerAssertion() {
        var io = IOAPIC()
        writeEntry(&io, pin: 2, low: 0x0000_0030, high: 0x0100_0000)   // fixed, physical, dest 1, edge, high
        XCTAssertEqual(io.setLevel(pin: 2, high: true),
                       IOAPICMessage(pin: 2, vector: 0x30, deliveryMode: .fixed, logicalDestination: false, destination: 1, levelTriggered: false))
        XCTAssertNil(io.setLevel(pin: 2, high: true), "no new edge")
        XCTAssertNil(io.setLevel(pin: 2, high: false))
        XCTAssertNotNil(io.setLevel(pin: 2, high: true))
        // Masked: the edge is lost, and unmasking does not bring it back.
        io.setLevel(pin: 2, high: false).map { XCTFail("\($0)") }
        writeEntry(&io, pin: 2, low: 0x0001_0030, high: 0x0100_0000)
        XCTAssertNil(io.setLevel(pin: 2, high: true))
        writeEntry(&io, pin: 2, low: 0x0000_0030, high: 0x0100_0000)
        XCTAssertNil(io.takeMessage())
        XCTAssertNil(io.setLevel(pin: 24, high: true), "no pin 24")
        XCTAssertNil(io.setLevel(pin: -1, high: true))
    }

    func testLevelPinRemoteIRRAndEOI() {
        var io = IOAPIC()
        // SCI: pin 9, level, active high, logical destination 1, vector 0x49.
        writeEntry(&io, pin: 9, low: 0x0000_8949, high: 0x0100_0000)
        let message = IOAPICMessage(pin: 9, vector: 0x49, deliveryMode: .lowestPriority, logicalDestination: true, destination: 1, levelTriggered: true)
        XCTAssertEqual(io.setLevel(pin: 9, high: true), message)
        XCTAssertTrue(io.entry(9).isRemoteIRR)
        XCTAssertEqual(readRegister(&io, 0x10 + 18) & (1 << 14), 1 << 14, "remote IRR reads 1")
        XCTAssertNil(io.setLevel(pin: 9, high: true), "held: nothing until EOI")
        XCTAssertFalse(io.endOfInterrupt(vector: 0x48), "another vector")
        XCTAssertTrue(io.endOfInterrupt(vector: 0x49))
        XCTAssertFalse(io.entry(9).isRemoteIRR)
        XCTAssertEqual(io.pendingPins, 1 << 9, "still asserted: pending again")
        XCTAssertEqual(io.entry(9).raw & IOAPICRedirectionEntry.deliveryStatus, IOAPICRedirectionEntry.deliveryStatus)
        XCTAssertEqual(io.takeMessage(), message, "a still-asserted level pin is delivered again")
        XCTAssertNil(io.takeMessage())
        // Deasserted before the EOI: nothing more.
        XCTAssertNil(io.setLevel(pin: 9, high: false))
        io.endOfInterrupt(vector: 0x49)
        XCTAssertFalse(io.entry(9).isRemoteIRR)
        XCTAssertNil(io.takeMessage())
    }

    func testMaskedLevelPinSendsOnUnmask() {
        var io = IOAPIC()
        writeEntry(&io, pin: 4, low: 0x0001_8034)                         // masked, level
        XCTAssertNil(io.setLevel(pin: 4, high: true))
        writeEntry(&io, pin: 4, low: 0x0000_8034)
        XCTAssertEqual(io.takeMessage()?.vector, 0x34)
        XCTAssertTrue(io.entry(4).isRemoteIRR)
        // Switching the entry to edge clears remote IRR.
        writeEntry(&io, pin: 4, low: 0x0000_0034)
        XCTAssertFalse(io.entry(4).isRemoteIRR)
    }

    func testActiveLowPolarity() {
        var io = IOAPIC()
        XCTAssertNil(io.setLevel(pin: 10, high: true))
        writeEntry(&io, pin: 10, low: 0x0000_A03A)                        // level, active low, unmasked
        XCTAssertNil(io.takeMessage(), "high is deasserted")
        XCTAssertEqual(io.setLevel(pin: 10, high: false)?.vector, 0x3A, "low asserts")
        // An unconnected (low) active-low level pin asserts as soon as it is unmasked.
        writeEntry(&io, pin: 11, low: 0x0000_A03B)
        XCTAssertEqual(io.takeMessage()?.vector, 0x3B)
    }

    func testISAIRQPinsFollowTheMADTOverrides() {
        XCTAssertEqual(IOAPIC.pin(forISAIRQ: 0), 2, "IRQ 0 → GSI 2, as the MADT's override says")
        XCTAssertNil(IOAPIC.pin(forISAIRQ: 2), "the cascade")
        XCTAssertEqual(IOAPIC.pin(forISAIRQ: 1), 1)
        XCTAssertEqual(IOAPIC.pin(forISAIRQ: Int(ACPITables.sciIRQ)), 9)
        XCTAssertEqual(IOAPIC.pin(forISAIRQ: 14), 14)
        XCTAssertNil(IOAPIC.pin(forISAIRQ: 16))
        XCTAssertNil(IOAPIC.pin(forISAIRQ: -1))
    }

    func testDeliveryModesPassThrough() {
        var io = IOAPIC()
        writeEntry(&io, pin: 0, low: 0x0000_0700)                         // ExtINT (8259 through pin 0)
        XCTAssertEqual(io.setLevel(pin: 0, high: true)?.deliveryMode, .extINT)
        writeEntry(&io, pin: 1, low: 0x0000_0400)
        XCTAssertEqual(io.setLevel(pin: 1, high: true)?.deliveryMode, .nmi)
    }
}

/// The I/O APIC and a local APIC wired together the way the engine will: a level-triggered
/// interrupt, its EOI clearing remote IRR, and re-delivery while the line stays high.
final class IOAPICLocalAPICTests: XCTestCase {
    func testLevelInterruptRoundTrip() {
        var io = IOAPIC(id: 1)
        var apic = LocalAPIC(id: 0, bootstrapProcessor: true, virtualWire: true, timerHz: 1_000_000, tscHz: 1_000_000)
        _ = apic.writeMMIO(offset: 0xF0, size: 4, value: 0x1FF, tsc: 0)
        // Pin 11: vector 0x3B, fixed, physical destination 0, level, active high.
        io.writeRegister(0x10 + 22, value: 0x0000_803B)
        io.writeRegister(0x11 + 22, value: 0)

        func deliver(_ m: IOAPICMessage) {
            XCTAssertTrue(apic.isDestination(UInt32(m.destination), logical: m.logicalDestination))
            XCTAssertTrue(apic.accept(vector: m.vector, levelTriggered: m.levelTriggered))
        }
        guard let first = io.setLevel(pin: 11, high: true) else { return XCTFail("no message") }
        deliver(first)
        XCTAssertEqual(apic.acknowledge(), 0x3B)
        XCTAssertNil(io.setLevel(pin: 11, high: true), "remote IRR holds the line")
        // The guest's handler does not clear the device's condition: EOI re-delivers.
        guard case let .endOfInterrupt(vector, level) = apic.writeMMIO(offset: 0xB0, size: 4, value: 0, tsc: 0) else {
            return XCTFail("no EOI")
        }
        XCTAssertTrue(level)
        XCTAssertTrue(io.endOfInterrupt(vector: vector))
        guard let again = io.takeMessage() else { return XCTFail("no re-delivery") }
        deliver(again)
        XCTAssertEqual(apic.acknowledge(), 0x3B)
        // Now the device drops the line before the EOI: nothing more.
        XCTAssertNil(io.setLevel(pin: 11, high: false))
        guard case let .endOfInterrupt(v2, _) = apic.writeMMIO(offset: 0xB0, size: 4, value: 0, tsc: 0) else { return XCTFail() }
        io.endOfInterrupt(vector: v2)
        XCTAssertNil(io.takeMessage())
        XCTAssertNil(apic.highestDeliverable())
    }
}
