import XCTest
@testable import Machine

/// The virtual PC with the APIC interrupt model: ISA lines through the I/O APIC to the local
/// APIC, the local APIC timer on the PC's timer schedule, EOI back to the I/O APIC, and the
/// 8259 through LINT0 (virtual wire) while the guest has not set up its APICs.
final class VirtualPCAPICTests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>
    let tscHz: UInt64 = 50_000_000
    let apicBase: UInt64 = LocalAPIC.defaultBase

    func makePC() -> PC {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: tscHz, tscBase: 0))
        pc.enableAPIC(tscHz: tscHz, x2APIC: true, tscDeadline: true, physicalAddressBits: 39)
        return pc
    }

    func ioapicWrite(_ pc: inout PC, register: UInt32, _ value: UInt32) {
        XCTAssertTrue(pc.mmioWrite(gpa: IOAPIC.defaultBase, size: 4, value: UInt64(register), tsc: 0))
        XCTAssertTrue(pc.mmioWrite(gpa: IOAPIC.defaultBase + 0x10, size: 4, value: UInt64(value), tsc: 0))
    }

    func lapicWrite(_ pc: inout PC, _ offset: UInt64, _ value: UInt32, tsc: UInt64 = 0) {
        XCTAssertTrue(pc.mmioWrite(gpa: apicBase + offset, size: 4, value: UInt64(value), tsc: tsc))
    }

    func testDevicePagesAreDecoded() {
        let pc = makePC()
        XCTAssertTrue(pc.hasMMIODevice(at: IOAPIC.defaultBase + 0x10))
        XCTAssertTrue(pc.hasMMIODevice(at: apicBase + 0x30))
        XCTAssertFalse(pc.hasMMIODevice(at: 0xFED0_0000))
        var plain = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()), clock: GuestClock(tscHz: tscHz, tscBase: 0))
        XCTAssertFalse(plain.hasMMIODevice(at: IOAPIC.defaultBase))
        XCTAssertNil(plain.mmioRead(gpa: apicBase, size: 4, tsc: 0))
    }

    /// The PIT's IRQ0 arrives on I/O APIC pin 2 (the MADT's override) as the programmed vector.
    func testPITThroughTheIOAPIC() {
        var pc = makePC()
        lapicWrite(&pc, 0xF0, 0x1FF)                         // SVR: software enable, spurious 0xFF
        ioapicWrite(&pc, register: 0x10 + 2 * 2, 0x30)       // pin 2: vector 0x30, edge, unmasked
        ioapicWrite(&pc, register: 0x10 + 2 * 2 + 1, 0)      // destination APIC 0
        for (port, value) in [(0x43, 0x34), (0x40, 11_932 & 0xFF), (0x40, 11_932 >> 8)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        // The 8259 is masked (reset state: no ICWs), so only the APIC path can deliver.
        let due = pc.nextTimerTSC
        pc.update(tsc: due)
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x30)
        XCTAssertFalse(pc.interruptPending, "in service now")
        lapicWrite(&pc, 0xB0, 0)                             // EOI
        XCTAssertEqual(pc.mmioRead(gpa: apicBase + 0x100 + 0x30, size: 4, tsc: 0), 0, "ISR clear after EOI")
    }

    /// The local APIC timer in one-shot mode fires on the PC's schedule.
    func testLocalAPICTimerOneShot() {
        var pc = makePC()
        lapicWrite(&pc, 0xF0, 0x1FF)
        lapicWrite(&pc, 0x3E0, 0xB)                          // divide by 1
        lapicWrite(&pc, 0x320, 0x40)                         // LVT timer: one-shot, vector 0x40
        lapicWrite(&pc, 0x380, 50_000, tsc: 1000)            // 1 ms at 50 MHz
        XCTAssertEqual(pc.nextTimerTSC, 51_000)
        pc.update(tsc: 50_999)
        XCTAssertFalse(pc.interruptPending)
        pc.update(tsc: 51_000)
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x40)
        XCTAssertEqual(pc.nextTimerTSC, .max, "one-shot: no further expiry")
    }

    /// Level-triggered pin: remote IRR until the local APIC's EOI, re-delivered while held.
    func testLevelTriggeredEOIReachesTheIOAPIC() {
        var pc = makePC()
        lapicWrite(&pc, 0xF0, 0x1FF)
        // COM1's IRQ 4 as level-triggered vector 0x34 (a guest may program it so).
        ioapicWrite(&pc, register: 0x10 + 4 * 2, 0x34 | 1 << 15)
        ioapicWrite(&pc, register: 0x10 + 4 * 2 + 1, 0)
        pc.portOut(port: 0x3FC, size: 1, value: 0x08, tsc: 0)     // UART MCR: OUT2 gates the IRQ line
        pc.portOut(port: 0x3F9, size: 1, value: 0x02, tsc: 0)     // UART IER: THR empty interrupt
        XCTAssertTrue(pc.interruptPending, "THRE raises IRQ 4")
        XCTAssertEqual(pc.acknowledge(), 0x34)
        lapicWrite(&pc, 0xB0, 0)                                  // EOI while the line is still high
        XCTAssertTrue(pc.interruptPending, "a held level line is delivered again after EOI")
    }

    /// Before the guest programs its APICs, the 8259's interrupts reach the CPU through LINT0.
    func testVirtualWireDeliversThe8259() {
        var pc = makePC()
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xFE)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        for (port, value) in [(0x43, 0x34), (0x40, 11_932 & 0xFF), (0x40, 11_932 >> 8)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        pc.update(tsc: pc.nextTimerTSC)
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(pc.acknowledge(), 0x20, "IRQ0 from the 8259 (ExtINT)")
    }

    func testAPICMSRs() {
        var pc = makePC()
        XCTAssertEqual(pc.apicMSRRead(0x1B, tsc: 0).map { $0 & ~0xFFF }, apicBase)
        XCTAssertNil(pc.apicMSRRead(0x802, tsc: 0), "x2APIC MSRs #GP in xAPIC mode")
        XCTAssertTrue(pc.apicMSRWrite(0x1B, value: apicBase | 1 << 11 | 1 << 10 | 1 << 8, tsc: 0), "enter x2APIC mode")
        XCTAssertEqual(pc.apicMSRRead(0x802, tsc: 0), 0, "x2APIC ID 0")
        XCTAssertFalse(pc.apicMSRWrite(0x1B, value: apicBase | 1 << 11 | 1 << 8, tsc: 0), "x2APIC -> xAPIC is illegal")
        XCTAssertFalse(pc.hasMMIODevice(at: apicBase), "the xAPIC page is dark in x2APIC mode")
        XCTAssertNil(pc.apicMSRRead(0x10, tsc: 0), "not an APIC MSR")
    }
}

extension VirtualPCAPICTests {
    /// The local APIC timer in periodic mode against the PIT: a period of a quarter PIT tick
    /// gives four timer interrupts per IRQ0 (the lapic guest checks the same from inside).
    func testPeriodicTimerAgainstThePIT() {
        var pc = makePC()
        lapicWrite(&pc, 0xF0, 0x1FF)
        ioapicWrite(&pc, register: 0x14, 0x30)
        ioapicWrite(&pc, register: 0x15, 0)
        for (port, value) in [(0x43, 0x34), (0x40, 11_932 & 0xFF), (0x40, 11_932 >> 8)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        let pitPeriod = tscHz / 100
        lapicWrite(&pc, 0x3E0, 0xB)
        lapicWrite(&pc, 0x320, 0x40 | 1 << 17)
        lapicWrite(&pc, 0x380, UInt32(pitPeriod / 4), tsc: 0)
        var timer = 0, pit = 0
        var now: UInt64 = 0
        while pit < 10 {
            now = pc.nextTimerTSC
            pc.update(tsc: now)
            while pc.interruptPending {
                let v = pc.acknowledge()
                if v == 0x40 { timer += 1 } else if v == 0x30 { pit += 1 }
                lapicWrite(&pc, 0xB0, 0, tsc: now)
            }
        }
        XCTAssertTrue((36...44).contains(timer), "\(timer) timer interrupts in 10 PIT ticks")
    }
}
