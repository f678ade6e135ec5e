import XCTest
@testable import Machine

final class PIC8259Tests: XCTestCase {
    /// Linux's init_8259A: mask everything, ICW1 0x11, ICW2 0x20/0x28,
    /// ICW3 4/2, ICW4 1, then the given masks.
    private func makeLinuxPIC(masterMask: UInt8 = 0x00, slaveMask: UInt8 = 0x00) -> PIC8259 {
        var pic = PIC8259()
        pic.writePort(0x21, 0xFF)
        pic.writePort(0xA1, 0xFF)
        pic.writePort(0x20, 0x11)  // ICW1: edge, cascade, ICW4 follows
        pic.writePort(0x21, 0x20)  // ICW2: IRQ 0–7 at vectors 0x20–0x27
        pic.writePort(0x21, 0x04)  // ICW3: slave on IR2
        pic.writePort(0x21, 0x01)  // ICW4: 8086 mode, normal EOI
        pic.writePort(0xA0, 0x11)
        pic.writePort(0xA1, 0x28)  // IRQ 8–15 at vectors 0x28–0x2F
        pic.writePort(0xA1, 0x02)  // slave ID 2
        pic.writePort(0xA1, 0x01)
        pic.writePort(0x21, masterMask)
        pic.writePort(0xA1, slaveMask)
        return pic
    }

    // MARK: Initialisation

    func testLinuxInitSequence() {
        var pic = makeLinuxPIC(masterMask: 0xFB, slaveMask: 0xFF)
        XCTAssertTrue(pic.master.initialized)
        XCTAssertTrue(pic.slave.initialized)
        XCTAssertFalse(pic.master.initializing)
        XCTAssertEqual(pic.master.vectorBase, 0x20)
        XCTAssertEqual(pic.slave.vectorBase, 0x28)
        XCTAssertEqual(pic.master.cascadeConfig, 0x04)
        XCTAssertEqual(pic.slave.cascadeConfig, 0x02)
        XCTAssertTrue(pic.master.mode8086)
        XCTAssertFalse(pic.master.autoEOI)
        XCTAssertFalse(pic.master.levelTriggered)
        XCTAssertFalse(pic.master.singleMode)
        XCTAssertTrue(pic.cascaded)
        XCTAssertEqual(pic.readPort(0x21), 0xFB, "the data port reads IMR")
        XCTAssertEqual(pic.readPort(0xA1), 0xFF)
        XCTAssertEqual(pic.readPort(0x20), 0x00, "the command port reads IRR after ICW1")
        XCTAssertNil(pic.pendingVector())
    }

    func testPowerOnStateDeliversNothing() {
        var pic = PIC8259()
        pic.setLevel(irq: 1, high: true)
        pic.setLevel(irq: 9, high: true)
        XCTAssertNil(pic.pendingVector(), "every IRQ is masked until the guest programs the PICs")
        XCTAssertFalse(pic.interruptRequested)
        XCTAssertEqual(pic.readPort(0x21), 0xFF)
    }

    func testICW1ClearsIMRAndSkipsICW3InSingleMode() {
        var pic = PIC8259()
        pic.writePort(0x20, 0x13)  // ICW1: single, ICW4 follows
        XCTAssertTrue(pic.master.initializing)
        XCTAssertEqual(pic.master.imr, 0, "ICW1 clears the IMR")
        pic.writePort(0x21, 0x08)  // ICW2
        pic.writePort(0x21, 0x01)  // ICW4 (no ICW3 in single mode)
        XCTAssertFalse(pic.master.initializing)
        XCTAssertEqual(pic.master.vectorBase, 0x08)
        XCTAssertFalse(pic.cascaded)
        pic.writePort(0x21, 0x55)
        XCTAssertEqual(pic.master.imr, 0x55, "after the ICWs the data port is OCW1")
        // Without cascading, IR2 is an ordinary input.
        pic.writePort(0x21, 0x00)
        pic.setLevel(irq: 2, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x0A)
    }

    func testICW1WithoutICW4ClearsICW4Functions() {
        var pic = PIC8259()
        pic.writePort(0x20, 0x11)
        pic.writePort(0x21, 0x20)
        pic.writePort(0x21, 0x04)
        pic.writePort(0x21, 0x03)  // ICW4 with AEOI
        XCTAssertTrue(pic.master.autoEOI)
        pic.writePort(0x20, 0x10)  // ICW1 without IC4
        pic.writePort(0x21, 0x20)
        pic.writePort(0x21, 0x04)
        XCTAssertFalse(pic.master.initializing, "no ICW4 expected")
        XCTAssertFalse(pic.master.autoEOI)
        XCTAssertFalse(pic.master.mode8086)
    }

    func testICW1ResetsEdgeSense() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 3, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x23)
        pic.writePort(0x20, 0x11)
        pic.writePort(0x21, 0x20)
        pic.writePort(0x21, 0x04)
        pic.writePort(0x21, 0x01)
        XCTAssertNil(pic.pendingVector(), "a line already high must make a new low-to-high transition")
        pic.setLevel(irq: 3, high: false)
        pic.setLevel(irq: 3, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x23)
    }

    // MARK: Masking, priority, EOI

    func testMaskingHoldsTheRequest() {
        var pic = makeLinuxPIC(masterMask: 0x08)
        pic.setLevel(irq: 3, high: true)
        XCTAssertNil(pic.pendingVector(), "IRQ 3 is masked")
        XCTAssertEqual(pic.readPort(0x20), 0x08, "but it is in IRR")
        pic.writePort(0x21, 0x00)
        XCTAssertEqual(pic.pendingVector(), 0x23, "unmasking delivers the held request")
        XCTAssertEqual(pic.acknowledge(), 0x23)
    }

    func testIRQ0HasPriorityOverIRQ1() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 1, high: true)
        pic.setLevel(irq: 0, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x20)
        XCTAssertEqual(pic.acknowledge(), 0x20)
        XCTAssertEqual(pic.master.isr, 0x01)
        XCTAssertEqual(pic.master.irr, 0x02)
        XCTAssertNil(pic.pendingVector(), "IRQ 1 waits for IRQ 0's EOI")
        pic.writePort(0x20, 0x20)  // non-specific EOI
        XCTAssertEqual(pic.master.isr, 0)
        XCTAssertEqual(pic.acknowledge(), 0x21)
        XCTAssertEqual(pic.master.isr, 0x02)
    }

    func testHigherPriorityNestsOverInService() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 4, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x24)
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x21, "IRQ 1 outranks IRQ 4 in service")
        XCTAssertEqual(pic.acknowledge(), 0x21)
        XCTAssertEqual(pic.master.isr, 0x12)
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.master.isr, 0x10, "a non-specific EOI ends the highest priority in service")
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.master.isr, 0)
    }

    func testSpecificEOI() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 5, high: true)
        _ = pic.acknowledge()
        pic.setLevel(irq: 3, high: true)
        _ = pic.acknowledge()
        XCTAssertEqual(pic.master.isr, 0x28)
        pic.writePort(0x20, 0x65)  // specific EOI, level 5
        XCTAssertEqual(pic.master.isr, 0x08)
        pic.writePort(0x20, 0x63)
        XCTAssertEqual(pic.master.isr, 0)
    }

    func testEdgeTriggeredLineNeedsANewEdge() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 6, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x26)
        pic.writePort(0x20, 0x20)
        XCTAssertNil(pic.pendingVector(), "a line held high is one interrupt in edge mode")
        pic.setLevel(irq: 6, high: true)
        XCTAssertNil(pic.pendingVector())
        pic.setLevel(irq: 6, high: false)
        pic.setLevel(irq: 6, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x26)
    }

    func testLevelTriggeredLineRequestsAgainAfterEOI() {
        var pic = PIC8259()
        pic.writePort(0x20, 0x19)  // ICW1 with LTIM
        pic.writePort(0x21, 0x20)
        pic.writePort(0x21, 0x04)
        pic.writePort(0x21, 0x01)
        XCTAssertTrue(pic.master.levelTriggered)
        pic.setLevel(irq: 5, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x25)
        XCTAssertNil(pic.pendingVector(), "in service")
        XCTAssertEqual(pic.master.irr & 0x20, 0x20, "IRR follows the level")
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.pendingVector(), 0x25, "still high after EOI: another interrupt")
        pic.setLevel(irq: 5, high: false)
        XCTAssertNil(pic.pendingVector())
    }

    func testPulseIsHeldUntilAcknowledged() {
        var pic = makeLinuxPIC()
        pic.pulse(irq: 0)
        pic.setLevel(irq: 0, high: false)
        XCTAssertEqual(pic.pendingVector(), 0x20, "a pulse survives the line going low")
        pic.pulse(irq: 0)
        XCTAssertEqual(pic.acknowledge(), 0x20, "two pulses before INTA merge")
        pic.writePort(0x20, 0x20)
        XCTAssertNil(pic.pendingVector())
        pic.pulse(irq: 0)
        XCTAssertEqual(pic.acknowledge(), 0x20)
    }

    func testAutoEOI() {
        var pic = PIC8259()
        pic.writePort(0x20, 0x11)
        pic.writePort(0x21, 0x08)
        pic.writePort(0x21, 0x04)
        pic.writePort(0x21, 0x03)  // 8086 mode, AEOI
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x09)
        XCTAssertEqual(pic.master.isr, 0, "AEOI leaves nothing in service")
        pic.setLevel(irq: 4, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x0C, "no EOI needed")
    }

    func testOutOfRangeIRQsAreIgnored() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 16, high: true)
        pic.pulse(irq: 200)
        XCTAssertNil(pic.pendingVector())
        pic.setLevel(irq: 2, high: true)
        XCTAssertNil(pic.pendingVector(), "IR2 is the cascade input, not a device line")
    }

    // MARK: Cascade

    func testCascadeIRQ8() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 8, high: true)
        XCTAssertEqual(pic.master.irr, 0x04, "the slave's INT requests master IR2")
        XCTAssertEqual(pic.pendingVector(), 0x28)
        XCTAssertEqual(pic.acknowledge(), 0x28)
        XCTAssertEqual(pic.master.isr, 0x04, "master IR2 in service")
        XCTAssertEqual(pic.slave.isr, 0x01)
        XCTAssertEqual(pic.master.irr, 0)
        XCTAssertEqual(pic.slave.irr, 0)
        // Linux EOIs the slave, then the master.
        pic.writePort(0xA0, 0x20)
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.master.isr, 0)
        XCTAssertEqual(pic.slave.isr, 0)
    }

    func testCascadePriorityAndNesting() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 12, high: true)
        pic.setLevel(irq: 3, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x2C, "IR2 (the slave) outranks IR3")
        pic.setLevel(irq: 9, high: true)
        XCTAssertNil(pic.pendingVector(), "IR2 in service blocks the whole slave in fully nested mode")
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x21, "IRQ 1 outranks IR2")
        pic.writePort(0x20, 0x20)  // ends IRQ 1
        pic.writePort(0xA0, 0x20)  // ends IRQ 12
        pic.writePort(0x20, 0x20)  // ends IR2
        XCTAssertEqual(pic.acknowledge(), 0x29, "IRQ 9 was still pending on the slave")
        pic.writePort(0xA0, 0x20)
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.acknowledge(), 0x23)
    }

    func testCascadeMaskedAtMaster() {
        var pic = makeLinuxPIC(masterMask: 0x04)
        pic.setLevel(irq: 14, high: true)
        XCTAssertNil(pic.pendingVector(), "IR2 masked at the master")
        pic.writePort(0x21, 0x00)
        XCTAssertEqual(pic.acknowledge(), 0x2E)
    }

    func testSlaveInAutoEOIDeliversBackToBackRequests() {
        var pic = PIC8259()
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x03),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x03)] as [(UInt16, UInt8)] {
            pic.writePort(port, value)
        }
        pic.setLevel(irq: 8, high: true)
        pic.setLevel(irq: 9, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x28)
        XCTAssertEqual(pic.acknowledge(), 0x29, "the slave's INT stays up, so IR2 is requested again")
        XCTAssertNil(pic.pendingVector())
    }

    func testSpecialFullyNestedMode() {
        var pic = PIC8259()
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x11),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01)] as [(UInt16, UInt8)] {
            pic.writePort(port, value)
        }
        XCTAssertTrue(pic.master.specialFullyNested)
        pic.setLevel(irq: 12, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x2C)
        pic.setLevel(irq: 9, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x29, "a higher slave request gets through IR2 in service")
    }

    // MARK: Spurious interrupts

    func testSpuriousIRQ7() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 3, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x23)  // INTR seen by the CPU...
        pic.setLevel(irq: 3, high: false)                          // ...then the request goes away
        XCTAssertNil(pic.pendingVector())
        XCTAssertEqual(pic.acknowledge(), 0x27, "INTA returns the default IR7")
        XCTAssertEqual(pic.master.isr, 0, "a spurious IRQ 7 sets no ISR bit")
        // Linux's check: read ISR, bit 7 clear means spurious.
        pic.writePort(0x20, 0x0B)
        XCTAssertEqual(pic.readPort(0x20) & 0x80, 0)
    }

    func testSpuriousIRQ15KeepsMasterIR2InService() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 10, high: true)
        XCTAssertEqual(pic.pendingVector(), 0x2A)
        pic.setLevel(irq: 10, high: false)
        XCTAssertEqual(pic.pendingVector(), 0x2F, "the master has latched IR2; the slave has nothing")
        XCTAssertEqual(pic.acknowledge(), 0x2F)
        XCTAssertEqual(pic.slave.isr, 0, "no ISR bit on the slave")
        XCTAssertEqual(pic.master.isr, 0x04, "master IR2 in service: it needs an EOI")
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.master.isr, 0)
        XCTAssertNil(pic.pendingVector())
    }

    // MARK: OCW3

    func testReadIRRAndISRThroughOCW3() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 1, high: true)
        pic.setLevel(irq: 4, high: true)
        XCTAssertEqual(pic.readPort(0x20), 0x12, "IRR")
        XCTAssertEqual(pic.acknowledge(), 0x21)
        pic.writePort(0x20, 0x0B)  // OCW3: read ISR
        XCTAssertTrue(pic.master.readsISR)
        XCTAssertEqual(pic.readPort(0x20), 0x02)
        XCTAssertEqual(pic.readPort(0x20), 0x02, "the selection sticks")
        pic.writePort(0x20, 0x08)  // OCW3 with RR = 0: no change
        XCTAssertEqual(pic.readPort(0x20), 0x02)
        pic.writePort(0x20, 0x0A)  // read IRR
        XCTAssertEqual(pic.readPort(0x20), 0x10)
        XCTAssertEqual(pic.readPort(0x21), 0x00, "the data port still reads IMR")
        pic.writePort(0xA0, 0x0B)
        XCTAssertEqual(pic.readPort(0xA0), 0x00, "slave ISR")
    }

    func testPollMode() {
        var pic = makeLinuxPIC(masterMask: 0x00)
        pic.setLevel(irq: 5, high: true)
        pic.setLevel(irq: 6, high: true)
        pic.writePort(0x20, 0x0C)  // OCW3: poll
        XCTAssertTrue(pic.master.pollArmed)
        XCTAssertEqual(pic.readPort(0x20), 0x85, "I bit and the highest pending level")
        XCTAssertFalse(pic.master.pollArmed)
        XCTAssertEqual(pic.master.isr, 0x20, "the poll read acknowledged IRQ 5")
        XCTAssertEqual(pic.master.irr, 0x40)
        XCTAssertEqual(pic.readPort(0x20), 0x40, "the next read is an ordinary IRR read")
        pic.writePort(0x20, 0x0C)
        XCTAssertEqual(pic.readPort(0x20), 0x00, "IRQ 6 is blocked by IRQ 5 in service: no interrupt")
        pic.writePort(0x20, 0x20)
        pic.writePort(0x20, 0x0C)
        XCTAssertEqual(pic.readPort(0x20), 0x86)
    }

    func testPollOnTheSlave() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 11, high: true)
        pic.writePort(0xA0, 0x0C)
        XCTAssertEqual(pic.readPort(0xA0), 0x83)
        XCTAssertEqual(pic.slave.isr, 0x08)
        XCTAssertNil(pic.pendingVector(), "the serviced slave request no longer requests the master")
        XCTAssertEqual(pic.master.isr, 0)
    }

    func testSpecialMaskMode() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x21)
        pic.setLevel(irq: 5, high: true)
        XCTAssertNil(pic.pendingVector())
        pic.writePort(0x21, 0x02)  // mask the level in service
        pic.writePort(0x20, 0x68)  // OCW3: set special mask mode
        XCTAssertTrue(pic.master.specialMask)
        XCTAssertEqual(pic.pendingVector(), 0x25, "lower priorities are enabled")
        XCTAssertEqual(pic.acknowledge(), 0x25)
        pic.writePort(0x20, 0x20)  // non-specific EOI skips masked IRQ 1
        XCTAssertEqual(pic.master.isr, 0x02)
        pic.writePort(0x20, 0x48)  // reset special mask mode
        XCTAssertFalse(pic.master.specialMask)
        pic.writePort(0x20, 0x61)
        XCTAssertEqual(pic.master.isr, 0)
    }

    // MARK: Rotation

    func testRotateOnNonSpecificEOI() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 0, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x20)
        pic.writePort(0x20, 0xA0)  // rotate on non-specific EOI: IRQ 0 becomes lowest
        XCTAssertEqual(pic.master.highestPriorityLevel, 1)
        pic.setLevel(irq: 0, high: false)
        pic.setLevel(irq: 0, high: true)
        pic.setLevel(irq: 7, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x27, "IRQ 7 now outranks IRQ 0")
        pic.writePort(0x20, 0x20)
        XCTAssertEqual(pic.acknowledge(), 0x20)
    }

    func testSetPriorityAndRotateOnSpecificEOI() {
        var pic = makeLinuxPIC()
        pic.writePort(0x20, 0xC4)  // IRQ 4 lowest: IRQ 5 highest
        XCTAssertEqual(pic.master.highestPriorityLevel, 5)
        pic.setLevel(irq: 4, high: true)
        pic.setLevel(irq: 6, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x26)
        pic.writePort(0x20, 0xE6)  // rotate on specific EOI 6: IRQ 7 highest
        XCTAssertEqual(pic.master.isr, 0)
        XCTAssertEqual(pic.master.highestPriorityLevel, 7)
        XCTAssertEqual(pic.acknowledge(), 0x24)
        pic.writePort(0x20, 0x40)  // no operation
        XCTAssertEqual(pic.master.isr, 0x10)
    }

    func testRotateInAutoEOIMode() {
        var pic = PIC8259()
        pic.writePort(0x20, 0x13)
        pic.writePort(0x21, 0x08)
        pic.writePort(0x21, 0x03)
        pic.writePort(0x20, 0x80)  // rotate in AEOI mode (set)
        pic.setLevel(irq: 2, high: true)
        pic.setLevel(irq: 3, high: true)
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.acknowledge(), 0x09)
        XCTAssertEqual(pic.master.highestPriorityLevel, 2)
        XCTAssertEqual(pic.acknowledge(), 0x0A)
        pic.writePort(0x20, 0x00)  // clear
        XCTAssertFalse(pic.master.rotateOnAutoEOI)
    }

    // MARK: Device interface

    func testDeviceOffsets() {
        XCTAssertEqual(PIC8259.offset(ofPort: 0x20), 0x00)
        XCTAssertEqual(PIC8259.offset(ofPort: 0x21), 0x01)
        XCTAssertEqual(PIC8259.offset(ofPort: 0xA0), 0x80)
        XCTAssertEqual(PIC8259.offset(ofPort: 0xA1), 0x81)
        XCTAssertNil(PIC8259.offset(ofPort: 0x22))
        XCTAssertTrue(PIC8259.masterPorts.contains(0x21))
        XCTAssertTrue(PIC8259.slavePorts.contains(0xA0))

        var pic = makeLinuxPIC()
        pic.write(offset: 0x81, size: 1, value: 0x5A)
        XCTAssertEqual(pic.slave.imr, 0x5A)
        XCTAssertEqual(pic.read(offset: 0x81, size: 1), 0x5A)
        pic.write(offset: 0x01, size: 1, value: 0xF0)
        pic.setLevel(irq: 1, high: true)
        XCTAssertEqual(pic.read(offset: 0x00, size: 2), 0xF002, "IRR, then IMR at 0x21")
        XCTAssertEqual(pic.read(offset: 0x40, size: 1), 0xFF, "not a PIC register")
        XCTAssertEqual(pic.readPort(0x22), 0xFF)
    }

    func testResetKeepsLineLevels() {
        var pic = makeLinuxPIC()
        pic.setLevel(irq: 4, high: true)
        pic.reset()
        XCTAssertFalse(pic.master.initialized)
        XCTAssertEqual(pic.master.lines, 0x10)
        XCTAssertNil(pic.pendingVector())
    }
}
