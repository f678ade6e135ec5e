import XCTest
@testable import Machine

final class UART16550Tests: XCTestCase {
    private func makeUART() -> UART16550<RecordingSink> { UART16550(sink: RecordingSink()) }

    func testResetValues() {
        var uart = makeUART()
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptEnable), 0)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x01)
        XCTAssertEqual(uart.readRegister(UARTRegister.lineControl), 0)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemControl), 0)
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus), 0x60)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus), 0xB0)  // DCD, DSR, CTS; no deltas
        XCTAssertFalse(uart.interruptPending)
    }

    func testTransmitGoesToSink() {
        var uart = makeUART()
        for byte in Array("hi\n".utf8) { uart.writeRegister(UARTRegister.data, byte) }
        XCTAssertEqual(uart.sink.text, "hi\n")
        XCTAssertEqual(uart.transmittedCount, 3)
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus) & 0x60, 0x60)  // THRE and TEMT stay set
    }

    func testDivisorLatchRoundTrip() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.interruptEnable, 0x05)
        uart.writeRegister(UARTRegister.lineControl, 0x83)  // DLAB, 8N1
        uart.writeRegister(0, 0x01)  // DLL: 115200 baud
        uart.writeRegister(1, 0x02)  // DLM
        XCTAssertEqual(uart.readRegister(0), 0x01)
        XCTAssertEqual(uart.readRegister(1), 0x02)
        XCTAssertEqual(uart.divisorLatch, 0x0201)
        XCTAssertTrue(uart.sink.bytes.isEmpty, "a DLL write is not a transmit")
        uart.writeRegister(UARTRegister.lineControl, 0x03)
        XCTAssertEqual(uart.readRegister(1), 0x05, "IER is back once DLAB is clear")
        XCTAssertEqual(uart.readRegister(UARTRegister.lineControl), 0x03)
        uart.writeRegister(0, 0x41)
        XCTAssertEqual(uart.sink.bytes, [0x41])
        XCTAssertEqual(uart.divisorLatch, 0x0201)
    }

    func testLineStatusBeforeAndAfterReceive() {
        var uart = makeUART()
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus) & UARTLineStatus.dataReady, 0)
        XCTAssertTrue(uart.receive(0x61))
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus), 0x61)  // DR | THRE | TEMT
        XCTAssertEqual(uart.readRegister(UARTRegister.data), 0x61)
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus), 0x60)
        XCTAssertEqual(uart.readRegister(UARTRegister.data), 0, "an empty RBR reads 0")
    }

    func testReceiveFIFOOrderAndOverrun() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.interruptIdentification, 0x07)  // enable + clear FIFOs
        for byte in UInt8(0)..<16 { XCTAssertTrue(uart.receive(byte)) }
        XCTAssertEqual(uart.receiveSpace, 0)
        XCTAssertFalse(uart.receive(99), "the 17th byte is lost")
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus), 0x63)  // DR | OE | THRE | TEMT
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus), 0x61, "OE clears on read")
        for byte in UInt8(0)..<16 { XCTAssertEqual(uart.readRegister(UARTRegister.data), byte) }
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus) & 1, 0)
    }

    func testNonFIFOModeHoldsOneByteAndOverwrites() {
        var uart = makeUART()
        XCTAssertTrue(uart.receive(1))
        XCTAssertFalse(uart.receive(2))
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus) & UARTLineStatus.overrunError, UARTLineStatus.overrunError)
        XCTAssertEqual(uart.readRegister(UARTRegister.data), 2, "16450 overrun: the new character replaces RBR")
    }

    func testFIFOControlReflectedInIIRAndClearsReceiver() {
        var uart = makeUART()
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification) & 0xC0, 0)
        uart.writeRegister(UARTRegister.interruptIdentification, 0xC1)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0xC1)
        uart.receive(1)
        uart.receive(2)
        uart.writeRegister(UARTRegister.interruptIdentification, 0x03)  // reset receiver FIFO
        XCTAssertEqual(uart.receivedCount, 0)
        uart.receive(3)
        uart.writeRegister(UARTRegister.interruptIdentification, 0x00)  // disabling FIFOs clears them
        XCTAssertEqual(uart.receivedCount, 0)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x01)
    }

    func testInterruptPriority() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.interruptEnable, 0x0F)
        // THRE was raised by enabling ETBEI with THR empty.
        XCTAssertTrue(uart.interruptPending)
        XCTAssertEqual(uart.interruptIdentification, 0x02)
        uart.receive(0x41)
        XCTAssertEqual(uart.interruptIdentification, 0x04, "received data outranks THRE")
        uart.receive(0x42)  // overrun in 16450 mode
        XCTAssertEqual(uart.interruptIdentification, 0x06, "line status outranks received data")
        _ = uart.readRegister(UARTRegister.lineStatus)
        XCTAssertEqual(uart.interruptIdentification, 0x04)
        _ = uart.readRegister(UARTRegister.data)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x02)
        // Reading IIR cleared THRE; a modem-status change is next.
        uart.setModemInputs(UARTModemStatus.dsr)
        XCTAssertEqual(uart.interruptIdentification, 0x00)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus), 0x20 | 0x08 | 0x01)  // DSR | DDCD | DCTS
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x01)
        XCTAssertFalse(uart.interruptPending)
    }

    func testTransmitterEmptyInterruptClearing() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.data, 0x41)
        XCTAssertFalse(uart.interruptPending, "no interrupt while ETBEI is clear")
        uart.writeRegister(UARTRegister.interruptEnable, UARTInterruptEnable.transmitterEmpty)
        XCTAssertTrue(uart.interruptPending)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x02)
        XCTAssertFalse(uart.interruptPending, "reading IIR clears THRE when it is the source")
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x01)
        uart.writeRegister(UARTRegister.data, 0x42)
        XCTAssertTrue(uart.interruptPending, "the written byte left at once: THR empty again")
        uart.writeRegister(UARTRegister.interruptEnable, 0)
        XCTAssertFalse(uart.interruptPending)
        // Linux's UART_BUG_THRE probe: set ETBEI, read IIR, clear, set again, read IIR.
        uart.writeRegister(UARTRegister.interruptEnable, 0x02)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification) & 0x0F, 0x02)
        uart.writeRegister(UARTRegister.interruptEnable, 0)
        uart.writeRegister(UARTRegister.interruptEnable, 0x02)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification) & 0x0F, 0x02)
    }

    func testReadingIIRDoesNotClearOtherSources() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.interruptEnable, UARTInterruptEnable.receivedData)
        uart.receive(7)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x04)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptIdentification), 0x04)
        _ = uart.readRegister(UARTRegister.data)
        XCTAssertFalse(uart.interruptPending)
    }

    func testIRQLineGatedByOUT2() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.interruptEnable, UARTInterruptEnable.receivedData)
        uart.receive(1)
        XCTAssertTrue(uart.interruptPending)
        XCTAssertFalse(uart.irqAsserted)
        uart.writeRegister(UARTRegister.modemControl, UARTModemControl.out2 | UARTModemControl.dtr | UARTModemControl.rts)
        XCTAssertTrue(uart.irqAsserted)
    }

    func testLoopback() {
        var uart = makeUART()
        // Linux 8250 autoconfig: MCR = LOOP | OUT2 | RTS, expect MSR[7:4] = DCD | CTS.
        uart.writeRegister(UARTRegister.modemControl, 0x1A)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus) & 0xF0, 0x90)
        uart.writeRegister(UARTRegister.modemControl, 0x1F)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus) & 0xF0, 0xF0)
        uart.writeRegister(UARTRegister.modemControl, 0x10)
        // RI fell: TERI; the others changed: deltas.
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus), 0x0F)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus), 0x00, "deltas clear on read")

        uart.writeRegister(UARTRegister.data, 0x5A)
        XCTAssertTrue(uart.sink.bytes.isEmpty, "loopback does not reach the line")
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus) & 1, 1)
        XCTAssertEqual(uart.readRegister(UARTRegister.data), 0x5A)
        XCTAssertFalse(uart.receive(0x11), "the serial input is disconnected in loopback")
        XCTAssertEqual(uart.receiveSpace, 0)

        uart.writeRegister(UARTRegister.modemControl, 0x03)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemControl), 0x03)
        uart.writeRegister(UARTRegister.data, 0x5B)
        XCTAssertEqual(uart.sink.bytes, [0x5B])
        XCTAssertEqual(uart.readRegister(UARTRegister.modemStatus) & 0xF0, 0xB0)
    }

    func testModemControlUpperBitsReadZero() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.modemControl, 0xE3)
        XCTAssertEqual(uart.readRegister(UARTRegister.modemControl), 0x03)
        uart.writeRegister(UARTRegister.interruptEnable, 0xF0)
        XCTAssertEqual(uart.readRegister(UARTRegister.interruptEnable), 0x00)
    }

    func testScratch() {
        var uart = makeUART()
        for value: UInt8 in [0x00, 0x55, 0xAA, 0xFF] {
            uart.writeRegister(UARTRegister.scratch, value)
            XCTAssertEqual(uart.readRegister(UARTRegister.scratch), value)
        }
    }

    func testUnknownOffsetsAndWideAccessesAreHarmless() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.lineStatus, 0x00)
        uart.writeRegister(UARTRegister.modemStatus, 0x00)
        XCTAssertEqual(uart.readRegister(UARTRegister.lineStatus), 0x60)
        XCTAssertEqual(uart.readRegister(12), 0xFF)
        uart.writeRegister(12, 0x12)
        uart.write(offset: 7, size: 2, value: 0x1234)
        XCTAssertEqual(uart.scratch, 0x34)
        XCTAssertEqual(uart.read(offset: 7, size: 2), 0xFF34)
        uart.write(offset: UInt64.max, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(uart.read(offset: UInt64.max, size: 4), 0xFFFF_FFFF)
        // A 16-bit read at offset 4 is MCR then LSR.
        XCTAssertEqual(uart.read(offset: 4, size: 2), 0x6000)
    }

    func testReset() {
        var uart = makeUART()
        uart.writeRegister(UARTRegister.lineControl, 0x83)
        uart.writeRegister(0, 1)
        uart.writeRegister(UARTRegister.lineControl, 0x03)
        uart.writeRegister(UARTRegister.interruptEnable, 0x0F)
        uart.receive(1)
        uart.reset()
        XCTAssertEqual(uart.lineControl, 0)
        XCTAssertEqual(uart.interruptEnable, 0)
        XCTAssertEqual(uart.receivedCount, 0)
        XCTAssertEqual(uart.divisorLatch, 12)
        XCTAssertFalse(uart.interruptPending)
    }
}
