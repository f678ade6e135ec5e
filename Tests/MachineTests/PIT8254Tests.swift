import XCTest
@testable import Machine

final class PIT8254Tests: XCTestCase {
    /// Programs `channel` with a control word and a lo/hi count at the current time.
    private func program(_ pit: inout PIT8254, channel: UInt8, mode: UInt8, count: UInt16) {
        pit.writePort(0x43, channel << 6 | 0x30 | mode << 1)
        pit.writePort(0x40 + UInt16(channel), UInt8(truncatingIfNeeded: count))
        pit.writePort(0x40 + UInt16(channel), UInt8(truncatingIfNeeded: count >> 8))
    }

    /// A lo/hi read of `channel`'s port.
    private func read16(_ pit: inout PIT8254, channel: UInt16) -> UInt16 {
        let low = pit.readPort(0x40 + channel)
        let high = pit.readPort(0x40 + channel)
        return UInt16(low) | UInt16(high) << 8
    }

    // MARK: Power-on

    func testPowerOnCountersAreIdle() {
        var pit = PIT8254()
        XCTAssertNil(pit.nextIRQ0Tick(after: 0))
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 10 * PIT8254.frequency), 0)
        XCTAssertEqual(pit.readPort(0x61) & 0x2F, 0, "gate low, speaker off, channel 2 OUT low")
        XCTAssertEqual(pit.readPort(0x43), 0xFF, "the control register is write-only")
    }

    // MARK: Mode 2

    func testMode2At100Hz() {
        var pit = PIT8254()
        let count: UInt16 = 11932  // Linux's LATCH for HZ = 100
        program(&pit, channel: 0, mode: 2, count: count)
        XCTAssertEqual(pit.channel0.mode, 2)
        XCTAssertEqual(pit.channel0.initialCount, 11932)
        XCTAssertEqual((PIT8254.frequency + 11932 / 2) / 11932, 100)
        // The count is loaded on the first clock after the write (tick 1); OUT
        // rises at every reload, N clocks apart.
        XCTAssertEqual(pit.nextIRQ0Tick(after: 0), 1 + 11932)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 1 + 11932), 1 + 2 * 11932)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 11932), 0)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 11933), 1)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 11933), 0, "edges are taken once")
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 1 + 100 * 11932), 99, "100 edges in 100 periods")
        // Over ten seconds of PIT time: 100 Hz.
        var pit2 = PIT8254()
        program(&pit2, channel: 0, mode: 2, count: count)
        var total = 0
        var tick: UInt64 = 0
        while tick < 10 * PIT8254.frequency {
            tick += 4_321  // an arbitrary polling interval
            total += pit2.takeIRQ0Edges(upTo: tick)
        }
        XCTAssertEqual(total, Int((tick - 1) / 11932))
        XCTAssertEqual(Double(total) / (Double(tick) / Double(PIT8254.frequency)), 100, accuracy: 0.5)
    }

    func testMode2OutputAndCount() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 4)
        XCTAssertTrue(pit.irq0Level)
        pit.advance(to: 1)
        XCTAssertEqual(pit.counterValue(channel: 0), 4)
        pit.advance(to: 3)
        XCTAssertEqual(pit.counterValue(channel: 0), 2)
        XCTAssertTrue(pit.irq0Level)
        pit.advance(to: 4)
        XCTAssertEqual(pit.counterValue(channel: 0), 1)
        XCTAssertFalse(pit.irq0Level, "OUT is low for the one clock the count is 1")
        pit.advance(to: 5)
        XCTAssertEqual(pit.counterValue(channel: 0), 4, "reloaded")
        XCTAssertTrue(pit.irq0Level)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 5), 1)
    }

    func testMode2NewCountTakesEffectAtEndOfCycle() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 100)  // edges at 101, 201, ...
        pit.advance(to: 150)
        pit.writePort(0x40, 50)
        pit.writePort(0x40, 0)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 150), 201, "the current cycle finishes")
        XCTAssertEqual(pit.nextIRQ0Tick(after: 201), 251, "then the new count runs")
        pit.advance(to: 160)
        XCTAssertEqual(pit.counterValue(channel: 0), 100 - 59)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 301), 4)  // 101, 201, 251, 301
    }

    func testReprogrammingChannel0KeepsEarlierEdges() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 10)
        pit.advance(to: 55)  // edges at 11, 21, 31, 41, 51
        program(&pit, channel: 0, mode: 2, count: 1000)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 60), 5)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 60), 56 + 1000)
    }

    // MARK: Mode 3

    func testMode3SquareWaveHalfPeriod() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 3, count: 1000)
        XCTAssertEqual(pit.channel0.controlBits, 0x36)
        var highs = 0
        for tick in UInt64(1)...1000 {
            pit.advance(to: tick)
            if pit.irq0Level { highs += 1 }
            if tick == 1 + 499 {
                XCTAssertTrue(pit.irq0Level)
                XCTAssertEqual(pit.counterValue(channel: 0), 2)
            }
            if tick == 1 + 500 {
                XCTAssertFalse(pit.irq0Level, "falls after N/2 clocks")
                XCTAssertEqual(pit.counterValue(channel: 0), 1000, "the count steps by two from N again")
            }
        }
        XCTAssertEqual(highs, 500, "high for half the period")
        pit.advance(to: 1 + 1000)
        XCTAssertTrue(pit.irq0Level)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 1 + 10_000), 10)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 1 + 10_000), 1 + 11_000)
    }

    func testMode3OddCount() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 3, count: 5)
        var levels: [Bool] = []
        for tick in UInt64(1)...5 {
            pit.advance(to: tick)
            levels.append(pit.irq0Level)
        }
        XCTAssertEqual(levels, [true, true, true, false, false], "(N+1)/2 high, (N-1)/2 low")
    }

    func testMode7IsMode3() {
        var pit = PIT8254()
        pit.writePort(0x43, 0x3E)
        XCTAssertEqual(pit.channel0.mode, 3)
    }

    // MARK: Mode 0

    func testMode0OutputRisesAtTerminalCount() {
        var pit = PIT8254()
        pit.advance(to: 100)
        pit.writePort(0x43, 0x30)  // channel 0, lo/hi, mode 0
        XCTAssertFalse(pit.irq0Level, "OUT goes low on the control word")
        pit.writePort(0x40, 10)
        pit.writePort(0x40, 0)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 100), 100 + 10 + 1, "N+1 clocks after the write")
        pit.advance(to: 110)
        XCTAssertFalse(pit.irq0Level)
        XCTAssertEqual(pit.counterValue(channel: 0), 1)
        pit.advance(to: 111)
        XCTAssertTrue(pit.irq0Level)
        XCTAssertEqual(pit.counterValue(channel: 0), 0)
        pit.advance(to: 112)
        XCTAssertTrue(pit.irq0Level, "OUT stays high")
        XCTAssertEqual(read16(&pit, channel: 0), 0xFFFF, "the counter wraps and keeps counting")
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 1_000_000), 1, "a one-shot")
        XCTAssertNil(pit.nextIRQ0Tick(after: 1_000_000))
        // A new count rearms it.
        pit.writePort(0x40, 5)
        XCTAssertFalse(pit.irq0Level, "the first byte stops counting, OUT low")
        pit.writePort(0x40, 0)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 1_000_000), 1_000_006)
    }

    func testLinuxOneShotShutdownSequence() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 11932)
        pit.advance(to: 50_000)
        // pit_shutdown: mode 0, count 0.
        pit.writePort(0x43, 0x30)
        pit.writePort(0x40, 0)
        pit.writePort(0x40, 0)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 50_000), 4)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 50_000), 50_001 + 65_536)
    }

    // MARK: Count 0

    func testCountZeroIs65536() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 0)
        XCTAssertEqual(pit.channel0.initialCount, 65_536)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 0), 1 + 65_536)
        pit.advance(to: 1)
        XCTAssertEqual(read16(&pit, channel: 0), 0x0000, "65536 reads as 0")
        pit.advance(to: 2)
        XCTAssertEqual(read16(&pit, channel: 0), 0xFFFF)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 1 + 18 * 65_536), 18, "18.2 Hz")
    }

    // MARK: Reading

    func testCounterLatchHoldsValueWhileTimeAdvances() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 60_000)
        pit.advance(to: 1_001)
        pit.writePort(0x43, 0x00)  // latch channel 0
        XCTAssertTrue(pit.channel0.hasLatch)
        pit.advance(to: 20_000)
        pit.writePort(0x43, 0x00)  // a second latch before reading is ignored
        XCTAssertEqual(read16(&pit, channel: 0), 59_000, "the value at latch time")
        XCTAssertFalse(pit.channel0.hasLatch)
        XCTAssertEqual(read16(&pit, channel: 0), 60_000 - 19_999, "then the live count")
    }

    func testLowHighReadFlipFlop() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 2, count: 0x1234)
        pit.advance(to: 1)
        XCTAssertEqual(pit.readPort(0x40), 0x34)
        XCTAssertEqual(pit.readPort(0x40), 0x12)
        XCTAssertEqual(pit.readPort(0x40), 0x34, "low again")
        XCTAssertEqual(pit.readPort(0x40), 0x12)
        // Latch between the bytes of a pair: the flip-flop carries on, so the
        // next read is the latched high byte, which releases the latch.
        pit.advance(to: 0x11)
        XCTAssertEqual(pit.readPort(0x40), 0x24)
        pit.writePort(0x43, 0x00)
        pit.advance(to: 0x200)
        XCTAssertEqual(pit.readPort(0x40), 0x12)
        XCTAssertFalse(pit.channel0.hasLatch)
        XCTAssertEqual(read16(&pit, channel: 0), 0x1234 - 0x1FF, "then the live count")
        // A control word resets the flip-flop.
        XCTAssertEqual(pit.readPort(0x40), 0x35)
        pit.writePort(0x43, 0x34)
        pit.writePort(0x40, 0x78)
        pit.writePort(0x40, 0x56)
        pit.advance(to: 0x201)
        XCTAssertEqual(read16(&pit, channel: 0), 0x5678)
    }

    func testLowByteOnlyAndHighByteOnlyAccess() {
        var pit = PIT8254()
        pit.writePort(0x43, 0x54)  // channel 1, low byte only, mode 2
        pit.writePort(0x41, 18)   // the PC/AT refresh timer
        XCTAssertEqual(pit.channel1.initialCount, 18)
        pit.advance(to: 3)
        XCTAssertEqual(pit.readPort(0x41), 16)
        XCTAssertEqual(pit.readPort(0x41), 16, "every read is the low byte")
        pit.writePort(0x43, 0x64)  // channel 1, high byte only, mode 2
        pit.writePort(0x41, 0x02)
        XCTAssertEqual(pit.channel1.initialCount, 0x200)
        pit.advance(to: 4 + 0x80)
        XCTAssertEqual(pit.readPort(0x41), 0x01)
    }

    func testReadBackStatusAndCount() {
        var pit = PIT8254()
        pit.writePort(0x43, 0xB0)  // channel 2, lo/hi, mode 0
        pit.writePort(0x43, 0xE8)  // read-back status of channel 2
        XCTAssertEqual(pit.readPort(0x42), 0x40 | 0x30, "OUT low, null count, RW=3, mode 0")
        pit.writePort(0x61, 0x01)
        pit.writePort(0x42, 0x00)
        pit.writePort(0x42, 0x10)
        pit.advance(to: 0x100)
        pit.writePort(0x43, 0xC8)  // read-back count and status of channel 2
        pit.advance(to: 0x2000)
        XCTAssertEqual(pit.readPort(0x42), 0x30, "status first: OUT low, count loaded")
        XCTAssertEqual(read16(&pit, channel: 2), 0x1000 - 0xFF)
        pit.advance(to: 0x1000 + 1)
        pit.writePort(0x43, 0xE8)
        XCTAssertEqual(pit.readPort(0x42), 0x80 | 0x30, "OUT high at terminal count")
    }

    func testBCDCounting() {
        var pit = PIT8254()
        pit.writePort(0x43, 0x35)  // channel 0, lo/hi, mode 2, BCD
        pit.writePort(0x40, 0x00)
        pit.writePort(0x40, 0x10)  // 1000 decimal
        XCTAssertTrue(pit.channel0.bcd)
        XCTAssertEqual(pit.channel0.initialCount, 1000)
        pit.advance(to: 1 + 1)
        XCTAssertEqual(read16(&pit, channel: 0), 0x0999)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 0), 1001)
        pit.writePort(0x43, 0x35)
        pit.writePort(0x40, 0)
        pit.writePort(0x40, 0)
        XCTAssertEqual(pit.channel0.initialCount, 10_000, "BCD 0 is 10^4")
    }

    // MARK: Port 0x61 and channel 2

    /// Linux's pit_calibrate_tsc: gate high, speaker off, channel 2 in mode 0
    /// with a 50 ms count, then poll port 0x61 bit 5.
    func testLinuxPITCalibrationLoop() {
        var pit = PIT8254()
        var tick: UInt64 = 5_000
        pit.advance(to: tick)
        let latch = UInt16(PIT8254.frequency / (1000 / 50))  // CAL_LATCH: 59659
        pit.writePort(0x61, (pit.readPort(0x61) & ~0x02) | 0x01)
        XCTAssertTrue(pit.portB.timer2GateHigh)
        XCTAssertFalse(pit.speakerEnabled)
        pit.writePort(0x43, 0xB0)
        pit.writePort(0x42, UInt8(latch & 0xFF))
        pit.writePort(0x42, UInt8(latch >> 8))
        let start = tick
        var loops = 0
        while pit.readPort(0x61) & 0x20 == 0 {
            tick += 7  // the guest's loop costs a few PIT clocks per iteration
            pit.advance(to: tick)
            loops += 1
            if loops > 1_000_000 { break }
        }
        let elapsed = tick - start
        XCTAssertGreaterThanOrEqual(elapsed, UInt64(latch) + 1)
        XCTAssertLessThan(elapsed, UInt64(latch) + 1 + 7)
        XCTAssertGreaterThan(loops, 1_000, "Linux wants many polls (loopmin)")
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: tick), 0, "channel 2 does not drive IRQ 0")
    }

    /// Linux's quick_pit_calibrate reads the live MSB of channel 2 counting
    /// down from 0xFFFF.
    func testLinuxQuickPITCalibrationMSBReads() {
        var pit = PIT8254()
        pit.writePort(0x61, 0x01)
        pit.writePort(0x43, 0xB0)
        pit.writePort(0x42, 0xFF)
        pit.writePort(0x42, 0xFF)
        var previous: UInt8 = 0xFF
        var tick: UInt64 = 1
        for expected in stride(from: 0xFF, to: 0xF0, by: -1) {
            pit.advance(to: tick)
            _ = pit.readPort(0x42)  // LSB, discarded
            let msb = pit.readPort(0x42)
            XCTAssertEqual(Int(msb), expected)
            XCTAssertLessThanOrEqual(msb, previous)
            previous = msb
            tick += 256
        }
    }

    func testGateLowSuspendsChannel2() {
        var pit = PIT8254()
        pit.writePort(0x43, 0xB0)
        pit.writePort(0x42, 100)
        pit.writePort(0x42, 0)
        pit.advance(to: 1_000)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0, "the gate is low: no counting")
        XCTAssertEqual(pit.counterValue(channel: 2), 100)
        pit.writePort(0x61, 0x01)  // gate high at 1000: counting from the next clock
        pit.advance(to: 1_040)
        XCTAssertEqual(pit.counterValue(channel: 2), 61)
        pit.writePort(0x61, 0x00)  // suspend
        pit.advance(to: 5_000)
        XCTAssertEqual(pit.counterValue(channel: 2), 61)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0)
        pit.writePort(0x61, 0x01)
        pit.advance(to: 5_000 + 61)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0)
        pit.advance(to: 5_000 + 62)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0x20)
    }

    func testGateControlsMode3SquareWaveForTheSpeaker() {
        var pit = PIT8254()
        pit.writePort(0x43, 0xB6)  // channel 2, lo/hi, square wave
        pit.writePort(0x42, 0x00)
        pit.writePort(0x42, 0x01)  // 256
        pit.advance(to: 10)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0x20, "gate low forces OUT high")
        pit.writePort(0x61, 0x03)
        XCTAssertTrue(pit.speakerEnabled)
        pit.advance(to: 11 + 128)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0, "low for the second half")
        pit.writePort(0x61, 0x02)
        XCTAssertEqual(pit.readPort(0x61) & 0x23, 0x22, "gate low: OUT high again, speaker bit kept")
    }

    func testMode1OneShotTriggeredByGate() {
        var pit = PIT8254()
        pit.writePort(0x43, 0xB2)  // channel 2, lo/hi, mode 1
        pit.writePort(0x42, 10)
        pit.writePort(0x42, 0)
        pit.advance(to: 50)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0x20, "OUT high until triggered")
        pit.writePort(0x61, 0x01)  // trigger
        pit.advance(to: 51)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0)
        pit.advance(to: 61)
        XCTAssertEqual(pit.readPort(0x61) & 0x20, 0x20)
    }

    func testMode4Strobe() {
        var pit = PIT8254()
        program(&pit, channel: 0, mode: 4, count: 3)
        XCTAssertTrue(pit.irq0Level)
        pit.advance(to: 4)
        XCTAssertFalse(pit.irq0Level, "one clock low at terminal count")
        pit.advance(to: 5)
        XCTAssertTrue(pit.irq0Level)
        XCTAssertEqual(pit.takeIRQ0Edges(upTo: 100), 1)
    }

    func testRefreshBitToggles() {
        var pit = PIT8254()
        let first = pit.readPort(0x61) & 0x10
        pit.advance(to: SystemControlPortB.refreshPeriodTicks)
        XCTAssertNotEqual(pit.readPort(0x61) & 0x10, first)
        pit.writePort(0x61, 0xFF)
        XCTAssertEqual(pit.portB.latched, 0x0F, "bits 7:4 are read-only")
    }

    // MARK: Device interface and time

    func testDeviceOffsetsAndTime() {
        XCTAssertEqual(PIT8254.offset(ofPort: 0x40), 0)
        XCTAssertEqual(PIT8254.offset(ofPort: 0x43), 3)
        XCTAssertEqual(PIT8254.offset(ofPort: 0x61), PIT8254.systemControlOffset)
        XCTAssertNil(PIT8254.offset(ofPort: 0x44))
        var pit = PIT8254(now: 1_000)
        pit.write(offset: 3, size: 1, value: 0x34)
        pit.write(offset: 0, size: 1, value: 0x00)
        pit.write(offset: 0, size: 1, value: 0x01)
        XCTAssertEqual(pit.nextIRQ0Tick(after: 1_000), 1_001 + 256)
        pit.advance(to: 500)
        XCTAssertEqual(pit.now, 1_000, "time never runs backwards")
        pit.write(offset: PIT8254.systemControlOffset, size: 1, value: 0x01)
        XCTAssertTrue(pit.portB.timer2GateHigh)
        XCTAssertEqual(pit.read(offset: 0x30, size: 1), 0xFF)
        XCTAssertEqual(PIT8254.pitTicks(fromTicks: 3_000_000_000, ticksPerSecond: 3_000_000_000), PIT8254.frequency)
        XCTAssertEqual(PIT8254.pitTicks(fromTicks: 1_000 * 1_000_000_000, ticksPerSecond: 1_000_000_000),
                       1_000 * PIT8254.frequency, "no overflow in the 128-bit product")
        XCTAssertEqual(PIT8254.pitTicks(fromTicks: UInt64.max, ticksPerSecond: 1), UInt64.max, "saturates")
        XCTAssertEqual(PIT8254.pitTicks(fromTicks: 5, ticksPerSecond: 0), 0)
    }

    // The host timer's one-shot count (HostTimer, CPUs without the VMX-preemption timer).
    func testOneShotCountConvertsTSCTicksToPITClocks() {
        // 1 ms of a 1 GHz TSC is 1,193 PIT clocks (1,193.182 rounded down).
        XCTAssertEqual(PIT8254.oneShotCount(ticks: 1_000_000, tscHz: 1_000_000_000), 1_193)
        // 50 ms of a 2.5 GHz TSC: 59,659 clocks, still one shot.
        XCTAssertEqual(PIT8254.oneShotCount(ticks: 125_000_000, tscHz: 2_500_000_000), 59_659)
    }

    func testOneShotCountClampsToTheCounterRange() {
        // Past 54.9 ms: the largest count (a count of 0 would be 65,536 and is never written).
        XCTAssertEqual(PIT8254.oneShotCount(ticks: 60_000_000, tscHz: 1_000_000_000), 0xFFFF)
        // A deadline now or passed, or shorter than one PIT clock: the shortest shot, 1.
        XCTAssertEqual(PIT8254.oneShotCount(ticks: 0, tscHz: 1_000_000_000), 1)
        XCTAssertEqual(PIT8254.oneShotCount(ticks: 500, tscHz: 1_000_000_000), 1)
        // Ticks whose product with the PIT rate overflows 64 bits, and a TSC rate of 0: no trap.
        XCTAssertEqual(PIT8254.oneShotCount(ticks: .max, tscHz: 1_000_000_000), 0xFFFF)
        XCTAssertEqual(PIT8254.oneShotCount(ticks: 1_000, tscHz: 0), 1)
    }
}
