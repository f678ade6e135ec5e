import XCTest
@testable import Machine

final class I8042Tests: XCTestCase {
    // MARK: Helpers

    private func status(_ kbc: inout I8042) -> UInt8 {
        UInt8(truncatingIfNeeded: kbc.read(offset: I8042.commandOffset, size: 1))
    }

    private func command(_ kbc: inout I8042, _ value: UInt8) {
        kbc.write(offset: I8042.commandOffset, size: 1, value: UInt64(value))
    }

    private func data(_ kbc: inout I8042, _ value: UInt8) {
        kbc.write(offset: I8042.dataOffset, size: 1, value: UInt64(value))
    }

    /// Reads port 0x60 while OBF is set, as a polling driver does.
    private func drain(_ kbc: inout I8042) -> [UInt8] {
        var bytes: [UInt8] = []
        while status(&kbc) & I8042Status.outputFull != 0 && bytes.count < 1000 {
            bytes.append(UInt8(truncatingIfNeeded: kbc.read(offset: I8042.dataOffset, size: 1)))
        }
        return bytes
    }

    private func typed(_ text: String, translate: Bool = true) -> [UInt8] {
        var kbc = I8042()
        if !translate {
            command(&kbc, I8042Command.writeCommandByte)
            data(&kbc, I8042.defaultCommandByte & ~I8042CommandByte.translate)
        }
        for byte in text.utf8 { XCTAssertTrue(kbc.type(ascii: byte)) }
        return drain(&kbc)
    }

    // MARK: Controller

    func testInitialState() {
        var kbc = I8042()
        XCTAssertEqual(status(&kbc), I8042Status.system | I8042Status.notInhibited)
        XCTAssertFalse(kbc.irq1Asserted)
        XCTAssertFalse(kbc.resetRequested)
        XCTAssertEqual(kbc.commandByte, 0x65)
        XCTAssertEqual(kbc.read(offset: 1, size: 1), 0xFF, "0x61 is not the 8042's")
    }

    func testReadCommandByte() {
        var kbc = I8042()
        command(&kbc, I8042Command.readCommandByte)
        XCTAssertEqual(status(&kbc), 0x1D)  // OBF, SYS, A2 (command), not inhibited
        XCTAssertEqual(drain(&kbc), [0x65])
        XCTAssertEqual(status(&kbc) & I8042Status.outputFull, 0)
    }

    func testWriteCommandByte() {
        var kbc = I8042()
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x40)
        XCTAssertEqual(kbc.commandByte, 0x40)
        XCTAssertEqual(status(&kbc), I8042Status.notInhibited, "SYS follows bit 2; A2 clear after a data write")
        command(&kbc, 0x20)
        XCTAssertEqual(drain(&kbc), [0x40])
        command(&kbc, I8042Command.selfTest)
        XCTAssertEqual(drain(&kbc), [0x55])
        XCTAssertEqual(status(&kbc) & I8042Status.system, I8042Status.system, "a passed self-test sets SYS")
    }

    func testInternalRAM() {
        var kbc = I8042()
        command(&kbc, 0x65)
        data(&kbc, 0x9C)
        command(&kbc, 0x25)
        XCTAssertEqual(drain(&kbc), [0x9C])
        XCTAssertEqual(kbc.commandByte, 0x65)
    }

    func testInterfaceTests() {
        var kbc = I8042()
        command(&kbc, I8042Command.selfTest)
        XCTAssertEqual(drain(&kbc), [0x55])
        command(&kbc, I8042Command.testKeyboard)
        XCTAssertEqual(drain(&kbc), [0x00])
        command(&kbc, I8042Command.testAux)
        XCTAssertEqual(drain(&kbc), [KeyboardReply.auxTestNoDevice], "no auxiliary device")
        command(&kbc, I8042Command.readInputPort)
        XCTAssertEqual(drain(&kbc), [0x80])
    }

    func testAuxEnableDisableBits() {
        var kbc = I8042()
        command(&kbc, I8042Command.enableAux)
        XCTAssertEqual(kbc.commandByte & I8042CommandByte.auxDisabled, 0)
        command(&kbc, I8042Command.disableAux)
        XCTAssertEqual(kbc.commandByte & I8042CommandByte.auxDisabled, I8042CommandByte.auxDisabled)
    }

    func testAuxLoopbackLooksAbsent() {
        // Linux's i8042_check_aux: 0xD3 0x5A must not come back as AUX data.
        var kbc = I8042()
        command(&kbc, I8042Command.writeAuxOutput)
        data(&kbc, 0x5A)
        XCTAssertEqual(status(&kbc) & I8042Status.auxOutputFull, 0)
        XCTAssertEqual(drain(&kbc), [0xFE])
        XCTAssertTrue(kbc.scanningEnabled, "the argument does not reach the keyboard")
    }

    func testWriteToAbsentAuxIsSwallowed() {
        var kbc = I8042()
        command(&kbc, I8042Command.writeAux)
        data(&kbc, KeyboardCommand.disableScanning)
        XCTAssertEqual(drain(&kbc), [])
        XCTAssertTrue(kbc.scanningEnabled, "not sent to the keyboard")
        XCTAssertEqual(kbc.auxBytesDiscarded, 1)
    }

    func testWriteKeyboardOutputBuffer() {
        var kbc = I8042()
        command(&kbc, I8042Command.writeKeyboardOutput)
        data(&kbc, 0x42)
        XCTAssertTrue(kbc.takeIRQ1())
        XCTAssertEqual(drain(&kbc), [0x42])
    }

    func testOutputPortAndA20() {
        var kbc = I8042()
        command(&kbc, I8042Command.readOutputPort)
        let port = drain(&kbc)[0]
        XCTAssertEqual(port & 0x03, 0x03, "reset inactive, A20 on")
        command(&kbc, I8042Command.writeOutputPort)
        data(&kbc, 0xDD)
        XCTAssertFalse(kbc.a20Enabled)
        XCTAssertFalse(kbc.resetRequested)
        command(&kbc, I8042Command.writeOutputPort)
        data(&kbc, 0xDF)
        XCTAssertTrue(kbc.a20Enabled)
        command(&kbc, I8042Command.disableA20)
        XCTAssertFalse(kbc.a20Enabled)
        command(&kbc, I8042Command.enableA20)
        XCTAssertTrue(kbc.a20Enabled)
        XCTAssertFalse(kbc.resetRequested)
    }

    func testResetViaPulse() {
        var kbc = I8042()
        command(&kbc, I8042Command.pulseResetLine)
        XCTAssertTrue(kbc.resetRequested)
        kbc.clearResetRequest()
        XCTAssertFalse(kbc.resetRequested)
        command(&kbc, 0xFF)  // pulses nothing
        XCTAssertFalse(kbc.resetRequested)
        command(&kbc, 0xF0)  // pulses every line, reset included
        XCTAssertTrue(kbc.resetRequested)
    }

    func testResetViaOutputPort() {
        var kbc = I8042()
        command(&kbc, I8042Command.writeOutputPort)
        data(&kbc, 0xFE)
        XCTAssertTrue(kbc.resetRequested)
        kbc.reset()
        XCTAssertFalse(kbc.resetRequested)
    }

    func testEmptyDataPortReturnsLastByte() {
        var kbc = I8042()
        command(&kbc, I8042Command.selfTest)
        XCTAssertEqual(kbc.read(offset: 0, size: 1), 0x55)
        XCTAssertEqual(kbc.read(offset: 0, size: 1), 0x55)
        XCTAssertEqual(status(&kbc) & I8042Status.outputFull, 0)
    }

    func testWideAccessSplitsIntoBytes() {
        var kbc = I8042()
        command(&kbc, I8042Command.selfTest)
        XCTAssertEqual(kbc.read(offset: 0, size: 2), 0xFF55)
        XCTAssertEqual(kbc.read(offset: 4, size: 1), 0x1C)  // SYS, A2, not inhibited
    }

    // MARK: IRQ 1

    func testIRQ1PerByte() {
        var kbc = I8042()
        XCTAssertTrue(kbc.type(ascii: 0x61))
        XCTAssertTrue(kbc.irq1Asserted)
        XCTAssertTrue(kbc.takeIRQ1())
        XCTAssertFalse(kbc.takeIRQ1())
        XCTAssertEqual(kbc.readData(), 0x1E)
        XCTAssertTrue(kbc.takeIRQ1(), "the break code entering the buffer is a new edge")
        XCTAssertEqual(kbc.readData(), 0x9E)
        XCTAssertFalse(kbc.takeIRQ1())
        XCTAssertFalse(kbc.irq1Asserted)
        XCTAssertEqual(kbc.irq1EdgeCount, 2)
    }

    func testNoIRQ1WhenDisabledThenEnabling() {
        var kbc = I8042()
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x64)
        XCTAssertTrue(kbc.type(ascii: 0x61))
        XCTAssertFalse(kbc.irq1Asserted)
        XCTAssertFalse(kbc.takeIRQ1())
        XCTAssertEqual(status(&kbc) & I8042Status.outputFull, I8042Status.outputFull)
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x65)
        XCTAssertTrue(kbc.takeIRQ1(), "enabling with a byte waiting raises IRQ 1")
        XCTAssertEqual(drain(&kbc), [0x1E, 0x9E])
    }

    // MARK: Keyboard commands

    func testKeyboardReset() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.reset)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xAA])
        XCTAssertEqual(status(&kbc) & I8042Status.command, 0)
    }

    func testIdentify() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.identify)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xAB, 0x41], "0x83 is translated to 0x41")
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x25)  // no translation
        data(&kbc, KeyboardCommand.identify)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xAB, 0x83])
    }

    func testEchoUnknownAndScanningCommands() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.echo)
        XCTAssertEqual(drain(&kbc), [0xEE])
        data(&kbc, 0xE8)
        XCTAssertEqual(drain(&kbc), [0xFE])
        data(&kbc, 0x12)
        XCTAssertEqual(drain(&kbc), [0xFE])
        data(&kbc, KeyboardCommand.disableScanning)
        XCTAssertEqual(drain(&kbc), [0xFA])
        XCTAssertFalse(kbc.scanningEnabled)
        data(&kbc, KeyboardCommand.enableScanning)
        XCTAssertEqual(drain(&kbc), [0xFA])
        XCTAssertTrue(kbc.scanningEnabled)
        data(&kbc, KeyboardCommand.setDefaults)
        XCTAssertEqual(drain(&kbc), [0xFA])
    }

    func testSetLEDsAndTypematic() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.setLEDs)
        XCTAssertEqual(drain(&kbc), [0xFA])
        data(&kbc, 0x05)
        XCTAssertEqual(drain(&kbc), [0xFA])
        XCTAssertEqual(kbc.leds, 0x05)
        data(&kbc, KeyboardCommand.typematic)
        data(&kbc, 0x20)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xFA])
        XCTAssertEqual(kbc.typematic, 0x20)
        data(&kbc, KeyboardCommand.reset)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xAA])
        XCTAssertEqual(kbc.leds, 0)
        XCTAssertEqual(kbc.typematic, I8042.defaultTypematic)
    }

    func testCommandInPlaceOfArgumentIsExecuted() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.setLEDs)
        data(&kbc, KeyboardCommand.echo)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xEE])
        XCTAssertEqual(kbc.leds, 0)
    }

    func testScancodeSetCommand() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.scancodeSet)
        data(&kbc, 0)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xFA, 0x41], "set 2 reads as 0x41 through translation")
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x25)
        data(&kbc, KeyboardCommand.scancodeSet)
        data(&kbc, 0)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xFA, 0x02])
        data(&kbc, KeyboardCommand.scancodeSet)
        data(&kbc, 1)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xFA])
        XCTAssertEqual(kbc.scancodeSet, 1)
        data(&kbc, KeyboardCommand.scancodeSet)
        data(&kbc, 3)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xFA])
        XCTAssertEqual(kbc.scancodeSet, 1, "set 3 is not supported")
        data(&kbc, KeyboardCommand.scancodeSet)
        data(&kbc, 0)
        XCTAssertEqual(drain(&kbc), [0xFA, 0xFA, 0x01])
        XCTAssertFalse(kbc.deliversSet2)
        XCTAssertTrue(kbc.type(ascii: 0x61))
        XCTAssertEqual(drain(&kbc), [0x1E, 0x9E])
    }

    func testResend() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.echo)
        XCTAssertEqual(drain(&kbc), [0xEE])
        data(&kbc, KeyboardCommand.resend)
        XCTAssertEqual(drain(&kbc), [0xEE])
    }

    func testRepliesGoAheadOfBufferedKeys() {
        var kbc = I8042()
        XCTAssertTrue(kbc.type(ascii: 0x61))
        XCTAssertTrue(kbc.type(ascii: 0x62))
        data(&kbc, KeyboardCommand.echo)
        // 0x1E is already in the output buffer; the reply comes next.
        XCTAssertEqual(drain(&kbc), [0x1E, 0xEE, 0x9E, 0x30, 0xB0])
    }

    func testControllerRepliesGoAheadOfKeys() {
        var kbc = I8042()
        XCTAssertTrue(kbc.type(ascii: 0x61))
        command(&kbc, I8042Command.readCommandByte)
        XCTAssertEqual(drain(&kbc), [0x1E, 0x65, 0x9E])
    }

    // MARK: Typing

    func testTypeLowercaseDigitsAndControls() {
        XCTAssertEqual(typed("a"), [0x1E, 0x9E])
        XCTAssertEqual(typed("z1"), [0x2C, 0xAC, 0x02, 0x82])
        XCTAssertEqual(typed("0"), [0x0B, 0x8B])
        XCTAssertEqual(typed(" "), [0x39, 0xB9])
        XCTAssertEqual(typed("\n"), [0x1C, 0x9C])
        XCTAssertEqual(typed("\r"), [0x1C, 0x9C])
        XCTAssertEqual(typed("\u{8}"), [0x0E, 0x8E])
        XCTAssertEqual(typed("\u{7F}"), [0x0E, 0x8E])
        XCTAssertEqual(typed("\t"), [0x0F, 0x8F])
        XCTAssertEqual(typed("\u{1B}"), [0x01, 0x81])
    }

    func testTypeShiftedAndControl() {
        XCTAssertEqual(typed("A"), [0x2A, 0x1E, 0x9E, 0xAA])
        XCTAssertEqual(typed("!"), [0x2A, 0x02, 0x82, 0xAA])
        XCTAssertEqual(typed(":"), [0x2A, 0x27, 0xA7, 0xAA])
        XCTAssertEqual(typed("?"), [0x2A, 0x35, 0xB5, 0xAA])
        XCTAssertEqual(typed("~"), [0x2A, 0x29, 0xA9, 0xAA])
        XCTAssertEqual(typed("|"), [0x2A, 0x2B, 0xAB, 0xAA])
        XCTAssertEqual(typed("\u{3}"), [0x1D, 0x2E, 0xAE, 0x9D], "Ctrl-C")
    }

    func testTypePunctuation() {
        XCTAssertEqual(typed("-=[];',./`\\"), [
            0x0C, 0x8C, 0x0D, 0x8D, 0x1A, 0x9A, 0x1B, 0x9B, 0x27, 0xA7, 0x28, 0xA8,
            0x33, 0xB3, 0x34, 0xB4, 0x35, 0xB5, 0x29, 0xA9, 0x2B, 0xAB,
        ])
    }

    func testUnmappedASCIIIsRejected() {
        var kbc = I8042()
        XCTAssertFalse(kbc.type(ascii: 0x00))
        XCTAssertFalse(kbc.type(ascii: 0x80))
        XCTAssertEqual(drain(&kbc), [])
    }

    func testEveryPrintableASCIIHasADistinctKeystroke() {
        var seen = Set<UInt16>()
        for ascii: UInt8 in 0x20...0x7E {
            guard let stroke = Scancode.keystroke(ascii: ascii) else {
                XCTFail("no key for \(ascii)")
                continue
            }
            XCTAssertFalse(stroke.control)
            XCTAssertTrue(stroke.scancode > 0 && stroke.scancode < 0x58)
            XCTAssertTrue(seen.insert(UInt16(stroke.scancode) << 1 | (stroke.shift ? 1 : 0)).inserted, "\(ascii)")
        }
        XCTAssertEqual(seen.count, 95)
    }

    func testUntranslatedSet2() {
        XCTAssertEqual(typed("a", translate: false), [0x1C, 0xF0, 0x1C])
        XCTAssertEqual(typed("A", translate: false), [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12])
        XCTAssertEqual(typed("\n", translate: false), [0x5A, 0xF0, 0x5A])
    }

    func testExtendedKeys() {
        var kbc = I8042()
        XCTAssertTrue(kbc.pressKey(scancode: Scancode.up, extended: true))
        XCTAssertTrue(kbc.releaseKey(scancode: Scancode.up, extended: true))
        XCTAssertEqual(drain(&kbc), [0xE0, 0x48, 0xE0, 0xC8])
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x25)
        XCTAssertTrue(kbc.pressKey(scancode: Scancode.up, extended: true))
        XCTAssertTrue(kbc.releaseKey(scancode: Scancode.up, extended: true))
        XCTAssertEqual(drain(&kbc), [0xE0, 0x75, 0xE0, 0xF0, 0x75])
        XCTAssertTrue(kbc.receiveFromKeyboard(0xE1))
        XCTAssertEqual(drain(&kbc), [0xE1])
    }

    func testSet2TableSpotChecksAndIsInjective() {
        XCTAssertEqual(Scancode.set2(fromSet1: 0x1E), 0x1C)  // A
        XCTAssertEqual(Scancode.set2(fromSet1: 0x01), 0x76)  // Esc
        XCTAssertEqual(Scancode.set2(fromSet1: 0x41), 0x83)  // F7
        XCTAssertEqual(Scancode.set2(fromSet1: 0x58), 0x07)  // F12
        XCTAssertEqual(Scancode.set2(fromSet1: 0x9E), 0x1C, "the break bit is ignored")
        var seen = Set<UInt8>()
        for code: UInt8 in 0x01...0x7F { XCTAssertTrue(seen.insert(Scancode.set2(fromSet1: code)).inserted, "\(code)") }
    }

    // MARK: Queue limits and disabling

    func testFullQueueDropsWholeKeystrokes() {
        var kbc = I8042()
        // The first byte moves to the output buffer; the queue holds 64 more.
        var accepted = 0
        while kbc.type(ascii: 0x41) { accepted += 1 }  // 4 bytes each
        XCTAssertEqual(accepted, 16)
        XCTAssertEqual(kbc.queuedCount, 63)
        XCTAssertEqual(kbc.droppedKeystrokes, 1)
        XCTAssertEqual(kbc.droppedBytes, 4)
        XCTAssertFalse(kbc.type(ascii: 0x61), "2 bytes do not fit in the 1 free")
        XCTAssertTrue(kbc.pressKey(scancode: 0x1E), "1 byte does")
        XCTAssertEqual(kbc.droppedKeystrokes, 2)
        XCTAssertEqual(kbc.droppedBytes, 6)
        let bytes = drain(&kbc)
        XCTAssertEqual(bytes.count, 65)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x2A, 0x1E, 0x9E, 0xAA])
        XCTAssertEqual(bytes.last, 0x1E)
    }

    func testScanningDisabledDropsKeys() {
        var kbc = I8042()
        data(&kbc, KeyboardCommand.disableScanning)
        XCTAssertEqual(drain(&kbc), [0xFA])
        XCTAssertFalse(kbc.type(ascii: 0x61))
        XCTAssertFalse(kbc.pressKey(scancode: 0x1E))
        XCTAssertEqual(kbc.droppedKeystrokes, 2)
        XCTAssertEqual(kbc.droppedBytes, 3)
        XCTAssertEqual(drain(&kbc), [])
        data(&kbc, KeyboardCommand.enableScanning)
        XCTAssertEqual(drain(&kbc), [0xFA])
        XCTAssertTrue(kbc.type(ascii: 0x61))
        XCTAssertEqual(drain(&kbc), [0x1E, 0x9E])
    }

    func testDisabledInterfaceHoldsKeys() {
        var kbc = I8042()
        command(&kbc, I8042Command.disableKeyboard)
        XCTAssertTrue(kbc.type(ascii: 0x61))
        XCTAssertEqual(status(&kbc) & I8042Status.outputFull, 0)
        XCTAssertFalse(kbc.takeIRQ1())
        command(&kbc, I8042Command.readCommandByte)
        XCTAssertEqual(drain(&kbc), [0x75], "controller replies still come through")
        command(&kbc, I8042Command.enableKeyboard)
        XCTAssertTrue(kbc.takeIRQ1())
        XCTAssertEqual(drain(&kbc), [0x1E, 0x9E])
    }

    func testWritingToKeyboardReenablesInterface() {
        var kbc = I8042()
        command(&kbc, I8042Command.disableKeyboard)
        data(&kbc, KeyboardCommand.echo)
        XCTAssertEqual(kbc.commandByte & I8042CommandByte.keyboardDisabled, 0)
        XCTAssertEqual(drain(&kbc), [0xEE])
    }

    func testControllerResetRestoresDefaults() {
        var kbc = I8042()
        command(&kbc, I8042Command.writeCommandByte)
        data(&kbc, 0x00)
        data(&kbc, KeyboardCommand.disableScanning)
        kbc.reset()
        XCTAssertEqual(kbc.commandByte, 0x65)
        XCTAssertTrue(kbc.scanningEnabled)
        XCTAssertEqual(kbc.queuedCount, 0)
        XCTAssertEqual(status(&kbc), 0x14)
    }
}
