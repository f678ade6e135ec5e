import XCTest
@testable import Machine

/// The local APIC model (SDM Vol. 3A ch. 11): register rules, priority, EOI, timer modes, IPIs,
/// x2APIC MSRs and IA32_APIC_BASE transitions.
final class LocalAPICTests: XCTestCase {
    /// Timer clock = TSC / 10: one timer tick every 10 TSC ticks before the divider.
    static let tscHz: UInt64 = 1_000_000_000
    static let timerHz: UInt64 = 100_000_000

    func makeAPIC(id: UInt32 = 0, bsp: Bool = true, virtualWire: Bool = true) -> LocalAPIC {
        LocalAPIC(id: id, bootstrapProcessor: bsp, virtualWire: virtualWire,
                  timerHz: LocalAPICTests.timerHz, tscHz: LocalAPICTests.tscHz)
    }

    /// A software-enabled APIC (SVR = 0x1FF, spurious vector 0xFF).
    func enabledAPIC(id: UInt32 = 0) -> LocalAPIC {
        var apic = makeAPIC(id: id)
        XCTAssertEqual(apic.writeMMIO(offset: 0xF0, size: 4, value: 0x1FF, tsc: 0), .none)
        return apic
    }

    func read(_ apic: inout LocalAPIC, _ offset: UInt32, tsc: UInt64 = 0) -> UInt32 {
        apic.readMMIO(offset: UInt64(offset), size: 4, tsc: tsc)
    }
    @discardableResult
    func write(_ apic: inout LocalAPIC, _ offset: UInt32, _ value: UInt32, tsc: UInt64 = 0) -> LocalAPICEffect {
        apic.writeMMIO(offset: UInt64(offset), size: 4, value: value, tsc: tsc)
    }

    // MARK: Reset and register rules

    func testResetState() {
        var apic = makeAPIC(id: 3, bsp: false, virtualWire: false)
        XCTAssertEqual(apic.apicBase, 0xFEE0_0800, "enabled, xAPIC, not BSP")
        XCTAssertEqual(read(&apic, 0x20), 3 << 24)
        XCTAssertEqual(read(&apic, 0x30), 0x0006_0014)
        XCTAssertEqual(read(&apic, 0xF0), 0xFF, "software-disabled, spurious vector 0xFF")
        XCTAssertEqual(read(&apic, 0xE0), 0xFFFF_FFFF, "flat model")
        for offset: UInt32 in [0x2F0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370] {
            XCTAssertEqual(read(&apic, offset), 0x1_0000, "LVT \(offset) masked")
        }
        let bsp = makeAPIC(id: 0, bsp: true, virtualWire: true)
        XCTAssertEqual(bsp.apicBase, 0xFEE0_0900)
        XCTAssertEqual(bsp.lvtLINT0, 0x700, "ExtINT, unmasked: virtual-wire mode")
        XCTAssertEqual(bsp.lvtLINT1, 0x400, "NMI")
        XCTAssertTrue(bsp.acceptsPICInterrupt)
        XCTAssertEqual(bsp.lint1Route, .nmi)
        XCTAssertFalse(apic.acceptsPICInterrupt, "an AP's LINT0 is masked")
    }

    func testReadOnlyAndReservedRegisters() {
        var apic = enabledAPIC()
        write(&apic, 0x30, 0x1234)
        XCTAssertEqual(read(&apic, 0x30), 0x0006_0014, "version is read-only")
        write(&apic, 0xA0, 0xFF)
        XCTAssertEqual(read(&apic, 0xA0), 0, "PPR is read-only")
        write(&apic, 0x390, 0x55)
        XCTAssertEqual(read(&apic, 0x390), 0, "current count is read-only")
        XCTAssertEqual(read(&apic, 0xB0), 0, "EOI is write-only")
        // A reserved register reads 0 and is an illegal register address in the next ESR latch.
        XCTAssertEqual(read(&apic, 0x40), 0)
        XCTAssertEqual(read(&apic, 0x280), 0, "errors show only after an ESR write")
        write(&apic, 0x280, 0)
        XCTAssertEqual(read(&apic, 0x280), 0x80)
        write(&apic, 0x280, 0)
        XCTAssertEqual(read(&apic, 0x280), 0, "latched errors are replaced by the next write")
        // Reserved bits are dropped.
        write(&apic, 0x80, 0xFFFF_FFFF)
        XCTAssertEqual(read(&apic, 0x80), 0xFF)
        write(&apic, 0x20, 0x0512_3456)
        XCTAssertEqual(read(&apic, 0x20), 0x0500_0000)
        write(&apic, 0xD0, 0xFFFF_FFFF)
        XCTAssertEqual(read(&apic, 0xD0), 0xFF00_0000)
        write(&apic, 0xE0, 0x0000_0000)
        XCTAssertEqual(read(&apic, 0xE0), 0x0FFF_FFFF, "cluster model; bits 27:0 read 1")
        write(&apic, 0x3E0, 0xFFFF_FFFF)
        XCTAssertEqual(read(&apic, 0x3E0), 0xB)
        write(&apic, 0x350, 0xFFFF_FFFF)
        XCTAssertEqual(read(&apic, 0x350), 0x1_A7FF, "LINT0: vector, mode, polarity, trigger, mask; not status/remote IRR")
        write(&apic, 0x370, 0xFFFF_FFFF)
        XCTAssertEqual(read(&apic, 0x370), 0x1_00FF)
        write(&apic, 0x320, 0xFFFF_FFFF)
        XCTAssertEqual(read(&apic, 0x320), 0x7_00FF, "timer: vector, mask, mode bits 18:17")
        // Unaligned and narrow accesses.
        write(&apic, 0x80, 0x42)
        XCTAssertEqual(apic.readMMIO(offset: 0x80, size: 1, tsc: 0), 0x42)
        XCTAssertEqual(apic.readMMIO(offset: 0x81, size: 1, tsc: 0), 0)
        XCTAssertEqual(apic.writeMMIO(offset: 0x80, size: 1, value: 0x10, tsc: 0), .none)
        XCTAssertEqual(read(&apic, 0x80), 0x42, "a byte write does not reach the register")
        XCTAssertEqual(apic.readMMIO(offset: 0x1000, size: 4, tsc: 0), 0)
    }

    func testSoftwareDisableMasksLVTs() {
        var apic = enabledAPIC()
        write(&apic, 0x320, 0x20030)
        XCTAssertEqual(read(&apic, 0x320), 0x20030)
        write(&apic, 0xF0, 0xFF)
        XCTAssertFalse(apic.softwareEnabled)
        XCTAssertEqual(read(&apic, 0x320), 0x30030, "software disable sets every mask")
        XCTAssertEqual(read(&apic, 0x350) & 0x1_0000, 0x1_0000)
        write(&apic, 0x320, 0x20030)
        XCTAssertEqual(read(&apic, 0x320), 0x30030, "masks cannot be cleared while disabled")
        XCTAssertFalse(apic.accept(vector: 0x40, levelTriggered: false), "a disabled APIC accepts no fixed interrupt")
        write(&apic, 0xF0, 0x1FF)
        write(&apic, 0x320, 0x20030)
        XCTAssertEqual(read(&apic, 0x320), 0x20030)
    }

    // MARK: Priority, acceptance, EOI

    func testAcceptanceByPriorityClass() {
        var apic = enabledAPIC()
        XCTAssertNil(apic.highestDeliverable())
        XCTAssertTrue(apic.accept(vector: 0x31, levelTriggered: false))
        XCTAssertTrue(apic.accept(vector: 0x52, levelTriggered: true))
        XCTAssertEqual(read(&apic, 0x200 + 0x10), 1 << 17, "IRR bank 1 holds vector 0x31")
        XCTAssertEqual(read(&apic, 0x180 + 0x20), 1 << 18, "TMR bank 2 holds vector 0x52 (level)")
        XCTAssertEqual(apic.highestDeliverable(), 0x52)
        XCTAssertEqual(apic.acknowledge(), 0x52)
        XCTAssertEqual(read(&apic, 0x100 + 0x20), 1 << 18, "ISR bank 2 holds vector 0x52")
        XCTAssertEqual(read(&apic, 0xA0), 0x50, "PPR = ISRV class")
        XCTAssertNil(apic.highestDeliverable(), "0x31 is below the in-service class")
        XCTAssertTrue(apic.accept(vector: 0x5F, levelTriggered: false))
        XCTAssertNil(apic.highestDeliverable(), "same class as in service: held")
        XCTAssertTrue(apic.accept(vector: 0x61, levelTriggered: false))
        XCTAssertEqual(apic.highestDeliverable(), 0x61, "a higher class nests")
        XCTAssertEqual(apic.acknowledge(), 0x61)
        // EOI retires the highest in-service vector and reports its trigger mode.
        XCTAssertEqual(write(&apic, 0xB0, 0), .endOfInterrupt(vector: 0x61, levelTriggered: false))
        XCTAssertEqual(apic.highestDeliverable(), nil, "0x5F still waits for 0x52's class")
        XCTAssertEqual(write(&apic, 0xB0, 0), .endOfInterrupt(vector: 0x52, levelTriggered: true))
        XCTAssertEqual(apic.highestDeliverable(), 0x5F)
        XCTAssertEqual(apic.acknowledge(), 0x5F)
        XCTAssertEqual(write(&apic, 0xB0, 0), .endOfInterrupt(vector: 0x5F, levelTriggered: false))
        XCTAssertEqual(apic.acknowledge(), 0x31)
        XCTAssertEqual(write(&apic, 0xB0, 0), .endOfInterrupt(vector: 0x31, levelTriggered: false))
        XCTAssertEqual(write(&apic, 0xB0, 0), .none, "EOI with nothing in service")
    }

    func testTPRHoldsBackLowerClasses() {
        var apic = enabledAPIC()
        write(&apic, 0x80, 0x45)
        XCTAssertEqual(read(&apic, 0xA0), 0x45, "PPR = TPR when no higher class is in service")
        apic.accept(vector: 0x4F, levelTriggered: false)
        XCTAssertNil(apic.highestDeliverable(), "class 4 is not above TPR class 4")
        XCTAssertEqual(read(&apic, 0x90), 0x45, "APR = TPR")
        XCTAssertEqual(apic.acknowledge(), 0xFF, "nothing deliverable: the spurious vector")
        XCTAssertEqual(read(&apic, 0x100 + 0x70), 0, "the spurious vector is not put in service")
        apic.accept(vector: 0x50, levelTriggered: false)
        XCTAssertEqual(apic.highestDeliverable(), 0x50)
        XCTAssertEqual(read(&apic, 0x90), 0x50, "APR = IRRV class")
        write(&apic, 0x80, 0)
        XCTAssertEqual(apic.acknowledge(), 0x50)
        XCTAssertEqual(apic.acknowledge(), 0xFF, "0x4F waits below the in-service 0x50: spurious")
        XCTAssertEqual(write(&apic, 0xB0, 0), .endOfInterrupt(vector: 0x50, levelTriggered: false))
        XCTAssertEqual(apic.acknowledge(), 0x4F)
    }

    func testIllegalVectors() {
        var apic = enabledAPIC()
        XCTAssertFalse(apic.accept(vector: 15, levelTriggered: false))
        XCTAssertNil(apic.highestDeliverable())
        XCTAssertEqual(write(&apic, 0x300, 0x000_0005), .none, "fixed IPI with vector 5 is not sent")
        write(&apic, 0x280, 0)
        XCTAssertEqual(read(&apic, 0x280), 0x60, "send and receive illegal vector")
        // The error LVT raises its vector.
        write(&apic, 0x370, 0xFE)
        apic.accept(vector: 3, levelTriggered: false)
        XCTAssertEqual(apic.highestDeliverable(), 0xFE)
    }

    // MARK: Timer

    func testOneShotTimer() {
        var apic = enabledAPIC()
        write(&apic, 0x3E0, 0x3, tsc: 0)                       // divide by 16: 160 TSC per decrement
        write(&apic, 0x320, 0x30, tsc: 0)                      // one-shot, vector 0x30
        write(&apic, 0x380, 1000, tsc: 1000)
        XCTAssertEqual(read(&apic, 0x380), 1000)
        XCTAssertEqual(apic.nextTimerTSC, 1000 + 160_000)
        XCTAssertEqual(read(&apic, 0x390, tsc: 1000), 1000)
        XCTAssertEqual(read(&apic, 0x390, tsc: 1000 + 160 * 250), 750)
        XCTAssertEqual(read(&apic, 0x390, tsc: 1000 + 160 * 250 + 159), 750)
        apic.update(tsc: 160_999)
        XCTAssertNil(apic.highestDeliverable(), "not yet")
        apic.update(tsc: 161_000)
        XCTAssertEqual(apic.highestDeliverable(), 0x30)
        XCTAssertEqual(apic.nextTimerTSC, .max, "one-shot: done")
        XCTAssertEqual(read(&apic, 0x390, tsc: 200_000), 0)
        // Writing 0 stops a running count.
        write(&apic, 0x380, 10, tsc: 300_000)
        write(&apic, 0x380, 0, tsc: 300_001)
        XCTAssertEqual(apic.nextTimerTSC, .max)
        XCTAssertEqual(read(&apic, 0x390, tsc: 300_002), 0)
    }

    func testPeriodicTimer() {
        var apic = enabledAPIC()
        write(&apic, 0x3E0, 0xB)                               // divide by 1: 10 TSC per decrement
        write(&apic, 0x320, 0x2_0040)                          // periodic, vector 0x40
        write(&apic, 0x380, 100, tsc: 0)
        XCTAssertEqual(apic.timerMode, .periodic)
        XCTAssertEqual(apic.nextTimerTSC, 1000)
        var fired = 0
        var tsc: UInt64 = 0
        while tsc < 100_000 {
            tsc += 1000
            apic.update(tsc: tsc)
            if apic.highestDeliverable() == 0x40 {
                fired += 1
                _ = apic.acknowledge()
                _ = write(&apic, 0xB0, 0, tsc: tsc)
            }
        }
        XCTAssertEqual(fired, 100, "one interrupt per 1000 TSC ticks")
        XCTAssertEqual(apic.nextTimerTSC, 101_000)
        XCTAssertEqual(read(&apic, 0x390, tsc: 100_500), 50, "reloaded count runs down again")
        XCTAssertEqual(read(&apic, 0x390, tsc: 101_000), 100, "reloaded at expiry")
        // Many expiries between looks coalesce into one request, and the schedule stays on the grid.
        apic.update(tsc: 105_500)
        XCTAssertEqual(apic.highestDeliverable(), 0x40)
        XCTAssertEqual(apic.nextTimerTSC, 106_000)
        // Masked: counts, but requests nothing.
        _ = apic.acknowledge(); _ = write(&apic, 0xB0, 0, tsc: 105_500)
        write(&apic, 0x320, 0x3_0040, tsc: 105_500)
        apic.update(tsc: 110_000)
        XCTAssertNil(apic.highestDeliverable())
        XCTAssertEqual(apic.nextTimerTSC, 111_000)
    }

    func testTSCDeadlineTimer() {
        var apic = enabledAPIC()
        apic.writeTSCDeadline(5000, tsc: 0)
        XCTAssertEqual(apic.readTSCDeadline(), 0, "ignored outside TSC-deadline mode")
        write(&apic, 0x380, 100, tsc: 0)
        write(&apic, 0x320, 0x4_00EC, tsc: 10)                 // TSC-deadline, vector 0xEC
        XCTAssertEqual(apic.timerMode, .tscDeadline)
        XCTAssertEqual(read(&apic, 0x380), 0, "the mode change disarmed the count")
        XCTAssertEqual(apic.nextTimerTSC, .max)
        write(&apic, 0x380, 100, tsc: 20)
        XCTAssertEqual(read(&apic, 0x380), 0, "initial count is ignored in TSC-deadline mode")
        XCTAssertEqual(read(&apic, 0x390, tsc: 30), 0)
        apic.writeTSCDeadline(50_000, tsc: 40)
        XCTAssertEqual(apic.readTSCDeadline(), 50_000)
        XCTAssertEqual(apic.nextTimerTSC, 50_000)
        apic.update(tsc: 49_999)
        XCTAssertNil(apic.highestDeliverable())
        apic.update(tsc: 50_000)
        XCTAssertEqual(apic.highestDeliverable(), 0xEC)
        XCTAssertEqual(apic.readTSCDeadline(), 0, "the deadline clears when it fires")
        XCTAssertEqual(apic.nextTimerTSC, .max)
        // A deadline in the past fires at once; 0 disarms.
        _ = apic.acknowledge(); _ = write(&apic, 0xB0, 0)
        apic.writeTSCDeadline(10, tsc: 60_000)
        XCTAssertEqual(apic.highestDeliverable(), 0xEC)
        _ = apic.acknowledge(); _ = write(&apic, 0xB0, 0)
        apic.writeTSCDeadline(70_000, tsc: 60_000)
        apic.writeTSCDeadline(0, tsc: 60_001)
        apic.update(tsc: 80_000)
        XCTAssertNil(apic.highestDeliverable())
        // Leaving TSC-deadline mode disarms it too.
        apic.writeTSCDeadline(90_000, tsc: 80_000)
        write(&apic, 0x320, 0x00EC, tsc: 80_001)
        XCTAssertEqual(apic.nextTimerTSC, .max)
        XCTAssertEqual(apic.readTSCDeadline(), 0)
    }

    func testDivideConfigurationValues() {
        var apic = enabledAPIC()
        let expected: [(UInt32, UInt64)] = [(0x0, 2), (0x1, 4), (0x2, 8), (0x3, 16), (0x8, 32), (0x9, 64), (0xA, 128), (0xB, 1)]
        for (code, divisor) in expected {
            write(&apic, 0x3E0, code)
            XCTAssertEqual(apic.timerDivisor, divisor, "code \(code)")
        }
    }

    // MARK: IPIs

    func testICRSendsIPIs() {
        var apic = enabledAPIC(id: 1)
        write(&apic, 0x310, 0x0200_0000)
        // INIT assert, level-triggered, physical destination 2 (what Linux's wakeup_secondary_cpu_via_init sends).
        XCTAssertEqual(write(&apic, 0x300, 0x0000_C500), .interprocessorInterrupt(APICInterprocessorInterrupt(
            vector: 0, deliveryMode: .initialization, logicalDestination: false, assert: true, levelTriggered: true,
            shorthand: .none, destination: 2, source: 1)))
        guard case let .interprocessorInterrupt(deassert) = write(&apic, 0x300, 0x0000_8500) else { return XCTFail() }
        XCTAssertTrue(deassert.isINITLevelDeassert)
        guard case let .interprocessorInterrupt(sipi) = write(&apic, 0x300, 0x0000_0698) else { return XCTFail() }
        XCTAssertEqual(sipi.deliveryMode, .startup)
        XCTAssertEqual(sipi.vector, 0x98, "start at 0x98000")
        XCTAssertEqual(read(&apic, 0x300) & (1 << 12), 0, "delivery status idle: routed synchronously")
        XCTAssertEqual(read(&apic, 0x310), 0x0200_0000)
        guard case let .interprocessorInterrupt(all) = write(&apic, 0x300, 0x000C_40FD) else { return XCTFail() }
        XCTAssertEqual(all.shorthand, .allExcludingSelf)
        XCTAssertEqual(all.vector, 0xFD)
        guard case let .interprocessorInterrupt(nmi) = write(&apic, 0x300, 0x0000_0C00) else { return XCTFail() }
        XCTAssertEqual(nmi.deliveryMode, .nmi)
        XCTAssertTrue(nmi.logicalDestination)
        XCTAssertEqual(write(&apic, 0x300, 0x0000_0300), .none, "reserved delivery mode: nothing sent")
    }

    func testDestinationMatching() {
        var apic = enabledAPIC(id: 2)
        XCTAssertTrue(apic.isDestination(2, logical: false))
        XCTAssertFalse(apic.isDestination(3, logical: false))
        XCTAssertTrue(apic.isDestination(0xFF, logical: false), "broadcast")
        write(&apic, 0xD0, 0x0400_0000)                                   // flat logical ID bit 2
        XCTAssertTrue(apic.isDestination(0x06, logical: true))
        XCTAssertFalse(apic.isDestination(0x03, logical: true))
        write(&apic, 0xE0, 0x0FFF_FFFF)                                   // cluster model
        write(&apic, 0xD0, 0x3200_0000)                                   // cluster 3, member bit 1
        XCTAssertTrue(apic.isDestination(0x33, logical: true))
        XCTAssertFalse(apic.isDestination(0x23, logical: true))
        XCTAssertFalse(apic.isDestination(0x31, logical: true))
    }

    // MARK: x2APIC and IA32_APIC_BASE

    func testAPICBaseTransitions() {
        var apic = makeAPIC(id: 0x23, bsp: true)
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0D00), .none, "xAPIC → x2APIC")
        XCTAssertTrue(apic.x2APICMode)
        XCTAssertEqual(apic.id, 0x23)
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0900), .generalProtection, "x2APIC → xAPIC is illegal")
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0500), .generalProtection, "EXTD without EN is invalid")
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0100), .none, "x2APIC → disabled")
        XCTAssertFalse(apic.hardwareEnabled)
        XCTAssertTrue(apic.acceptsPICInterrupt, "a disabled APIC passes INTR straight through")
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0D00), .generalProtection, "disabled → x2APIC is illegal")
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0900), .none, "disabled → xAPIC")
        XCTAssertEqual(apic.id, 0x23)
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0901), .generalProtection, "reserved bit 0")
        XCTAssertEqual(apic.writeAPICBase(1 << 45 | 0x900), .generalProtection, "above MAXPHYADDR")
        XCTAssertEqual(apic.writeAPICBase(0xFED0_0800), .none, "relocation; BSP stays the processor's")
        XCTAssertEqual(apic.mmioBase, 0xFED0_0000)
        XCTAssertEqual(apic.apicBase & LocalAPIC.baseBSP, LocalAPIC.baseBSP)
        var noX2 = LocalAPIC(id: 0, bootstrapProcessor: true, virtualWire: false, timerHz: 1, tscHz: 1, x2APICSupported: false)
        XCTAssertEqual(noX2.writeAPICBase(0xFEE0_0D00), .generalProtection)
    }

    func testX2APICMSRs() {
        var apic = makeAPIC(id: 0x13)
        XCTAssertNil(apic.readMSR(0x802, tsc: 0), "#GP outside x2APIC mode")
        XCTAssertEqual(apic.writeAPICBase(0xFEE0_0D00), .none)
        XCTAssertEqual(apic.readMSR(0x802, tsc: 0), 0x13, "32-bit x2APIC ID")
        XCTAssertEqual(apic.readMSR(0x803, tsc: 0), 0x0006_0014)
        XCTAssertEqual(apic.readMSR(0x80D, tsc: 0), 0x1_0008, "logical ID: cluster 1, bit 3")
        XCTAssertNil(apic.readMSR(0x809, tsc: 0), "no APR in x2APIC mode")
        XCTAssertNil(apic.readMSR(0x80E, tsc: 0), "no DFR in x2APIC mode")
        XCTAssertNil(apic.readMSR(0x80B, tsc: 0), "EOI is write-only")
        XCTAssertNil(apic.readMSR(0x831, tsc: 0), "no ICR high half")
        XCTAssertNil(apic.readMSR(0x83F, tsc: 0), "SELF IPI is write-only")
        XCTAssertEqual(apic.writeMSR(0x802, value: 5, tsc: 0), .generalProtection, "ID is read-only")
        XCTAssertEqual(apic.writeMSR(0x80D, value: 5, tsc: 0), .generalProtection, "LDR is read-only")
        XCTAssertEqual(apic.writeMSR(0x80F, value: 1 << 32 | 0x1FF, tsc: 0), .generalProtection, "bits 63:32")
        XCTAssertEqual(apic.writeMSR(0x80F, value: 0x1FF, tsc: 0), .none)
        XCTAssertEqual(apic.readMSR(0x80F, tsc: 0), 0x1FF)
        XCTAssertEqual(apic.writeMSR(0x808, value: 0x20, tsc: 0), .none)
        XCTAssertEqual(apic.readMSR(0x80A, tsc: 0), 0x20, "PPR")
        // Self IPI.
        XCTAssertEqual(apic.writeMSR(0x83F, value: 0x1_00, tsc: 0), .generalProtection, "reserved bits")
        XCTAssertEqual(apic.writeMSR(0x83F, value: 0x31, tsc: 0), .none)
        XCTAssertEqual(apic.highestDeliverable(), 0x31)
        XCTAssertEqual(apic.acknowledge(), 0x31)
        XCTAssertEqual(apic.writeMSR(0x80B, value: 1, tsc: 0), .generalProtection, "EOI takes only 0")
        XCTAssertEqual(apic.writeMSR(0x80B, value: 0, tsc: 0), .endOfInterrupt(vector: 0x31, levelTriggered: false))
        // The 64-bit ICR.
        XCTAssertEqual(apic.writeMSR(0x830, value: 0x0000_0007_0000_40F0, tsc: 0), .interprocessorInterrupt(APICInterprocessorInterrupt(
            vector: 0xF0, deliveryMode: .fixed, logicalDestination: false, assert: true, levelTriggered: false,
            shorthand: .none, destination: 7, source: 0x13)))
        XCTAssertEqual(apic.readMSR(0x830, tsc: 0), 0x0000_0007_0000_40F0)
        XCTAssertEqual(apic.writeMSR(0x830, value: 1 << 12 | 0x40F0, tsc: 0), .generalProtection, "delivery status is reserved in x2APIC")
        XCTAssertTrue(apic.isDestination(0x13, logical: false))
        XCTAssertTrue(apic.isDestination(0x1_0008, logical: true))
        XCTAssertFalse(apic.isDestination(0x2_0008, logical: true))
        // Timer through MSRs.
        XCTAssertEqual(apic.writeMSR(0x83E, value: 0xB, tsc: 0), .none)
        XCTAssertEqual(apic.writeMSR(0x832, value: 0x50, tsc: 0), .none)
        XCTAssertEqual(apic.writeMSR(0x838, value: 10, tsc: 0), .none)
        XCTAssertEqual(apic.readMSR(0x839, tsc: 50), 5)
        XCTAssertEqual(apic.writeMSR(0x839, value: 1, tsc: 0), .generalProtection, "current count is read-only")
        // The MMIO page is dark in x2APIC mode.
        XCTAssertEqual(read(&apic, 0x20), 0)
    }

    func testINITResetsButKeepsIdentity() {
        var apic = enabledAPIC(id: 4)
        apic.accept(vector: 0x40, levelTriggered: false)
        write(&apic, 0x380, 1000)
        apic.receiveINIT()
        XCTAssertNil(apic.highestDeliverable())
        XCTAssertFalse(apic.softwareEnabled)
        XCTAssertEqual(apic.nextTimerTSC, .max)
        XCTAssertEqual(read(&apic, 0x20), 4 << 24)
        XCTAssertEqual(apic.apicBase, 0xFEE0_0900)
    }

    func testFixedLINTPin() {
        var apic = enabledAPIC()
        write(&apic, 0x350, 0x0_8035)                          // LINT0 fixed, level, vector 0x35
        XCTAssertEqual(apic.lint0Route, .fixed(vector: 0x35, levelTriggered: true))
        XCTAssertFalse(apic.acceptsPICInterrupt)
        XCTAssertTrue(apic.assertLocalInterrupt(lint1: false))
        XCTAssertEqual(apic.acknowledge(), 0x35)
        XCTAssertEqual(write(&apic, 0xB0, 0), .endOfInterrupt(vector: 0x35, levelTriggered: true))
        write(&apic, 0x350, 0x1_0700)
        XCTAssertEqual(apic.lint0Route, .masked)
    }
}

/// A hostile guest's view: random accesses of every width, offset, MSR and value never trap the
/// model, and the read-only facts stay what they are.
final class LocalAPICHostileTests: XCTestCase {
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testRandomAccesses() {
        var rng = SplitMix64(state: 10)
        var apic = LocalAPIC(id: 1, bootstrapProcessor: false, virtualWire: false, timerHz: 100_000_000, tscHz: 1_000_000_000)
        var tsc: UInt64 = 0
        var ipis = 0
        for _ in 0..<200_000 {
            tsc &+= rng.next() % 5000
            let r = rng.next()
            let offset = r % 0x1100
            let size = [1, 2, 4, 8][Int((r >> 16) & 3)]
            let value = UInt32(truncatingIfNeeded: rng.next())
            switch (r >> 20) % 8 {
            case 0: _ = apic.readMMIO(offset: offset, size: size, tsc: tsc)
            case 1, 2:
                // Mostly aligned dword writes, so they land on registers.
                if case .interprocessorInterrupt = apic.writeMMIO(offset: offset & 0xFF0, size: 4, value: value, tsc: tsc) { ipis += 1 }
            case 3: _ = apic.readMSR(0x800 + UInt32(r >> 32) % 0x100, tsc: tsc)
            case 4: _ = apic.writeMSR(0x800 + UInt32(r >> 32) % 0x100, value: rng.next() >> (r >> 58), tsc: tsc)
            case 5: _ = apic.writeAPICBase(rng.next() & 0xFFFF_FFFF_FFFF_FDFF | 0xD00 & r)
            case 6: apic.writeTSCDeadline(tsc &+ rng.next() % 100_000, tsc: tsc)
            default:
                apic.update(tsc: tsc)
                if apic.highestDeliverable() != nil { _ = apic.acknowledge() }
                _ = apic.accept(vector: UInt8(truncatingIfNeeded: value), levelTriggered: value & 0x100 != 0)
            }
            XCTAssertTrue(apic.nextTimerTSC == .max || apic.nextTimerTSC > 0)
            if let v = apic.highestDeliverable() { XCTAssertGreaterThanOrEqual(v, 16) }
            XCTAssertLessThanOrEqual(apic.ppr, 0xFF)
        }
        XCTAssertGreaterThan(ipis, 0, "the random ICR writes sent IPIs")
        if apic.xAPICMode {
            XCTAssertEqual(apic.readMMIO(offset: 0x30, size: 4, tsc: tsc), LocalAPIC.versionValue)
        }
    }
}

/// Routing IPIs among the APICs of a 4-vCPU VM the way the engine will: `isTarget(of:isSender:)`
/// on each, `receive(_:)` on the targets.
final class LocalAPICRoutingTests: XCTestCase {
    func makeVCPUs() -> [LocalAPIC] {
        (0..<4).map { i in
            var a = LocalAPIC(id: UInt32(i), bootstrapProcessor: i == 0, virtualWire: i == 0, timerHz: 1, tscHz: 1)
            _ = a.writeMMIO(offset: 0xF0, size: 4, value: 0x1FF, tsc: 0)
            _ = a.writeMMIO(offset: 0xD0, size: 4, value: UInt32(1 << i) << 24, tsc: 0)   // flat logical ID 1 << i
            return a
        }
    }

    /// Sends `icrLow` with destination `dest` from vCPU `from`; returns each vCPU's delivery.
    func send(_ apics: inout [LocalAPIC], from: Int, icrLow: UInt32, dest: UInt32) -> [LocalAPICDelivery] {
        _ = apics[from].writeMMIO(offset: 0x310, size: 4, value: dest << 24, tsc: 0)
        guard case let .interprocessorInterrupt(ipi) = apics[from].writeMMIO(offset: 0x300, size: 4, value: icrLow, tsc: 0) else {
            XCTFail("no IPI")
            return []
        }
        return (0..<apics.count).map { i in
            apics[i].isTarget(of: ipi, isSender: i == from) ? apics[i].receive(ipi) : .ignored
        }
    }

    func testShorthandsAndDestinations() {
        var apics = makeVCPUs()
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x000C_00F0, dest: 0), [.ignored, .requested, .requested, .requested], "all but self")
        XCTAssertEqual(send(&apics, from: 1, icrLow: 0x0008_00F1, dest: 0), [.requested, .requested, .requested, .requested], "all including self")
        XCTAssertEqual(send(&apics, from: 2, icrLow: 0x0004_00F2, dest: 0), [.ignored, .ignored, .requested, .ignored], "self")
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_00F3, dest: 3), [.ignored, .ignored, .ignored, .requested], "physical 3")
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_08F4, dest: 0x6), [.ignored, .requested, .requested, .ignored], "logical 0b0110")
        XCTAssertEqual(apics[3].acknowledge(), 0xF3)
        XCTAssertEqual(apics[2].acknowledge(), 0xF4)
    }

    func testINITAndSIPI() {
        var apics = makeVCPUs()
        // Linux's wakeup_secondary_cpu_via_init: INIT assert, INIT de-assert, then SIPI twice.
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_C500, dest: 2), [.ignored, .ignored, .initialization, .ignored])
        XCTAssertFalse(apics[2].softwareEnabled, "INIT reset the APIC")
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_8500, dest: 2), [.ignored, .ignored, .ignored, .ignored], "de-assert ignored")
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_0699, dest: 2), [.ignored, .ignored, .startup(vector: 0x99), .ignored])
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_0400, dest: 1), [.ignored, .nmi, .ignored, .ignored])
        // A software-disabled APIC still takes NMI, INIT and SIPI but no fixed interrupt.
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_0030, dest: 2), [.ignored, .ignored, .ignored, .ignored])
        XCTAssertEqual(send(&apics, from: 0, icrLow: 0x0000_0400, dest: 2), [.ignored, .ignored, .nmi, .ignored])
    }
}
