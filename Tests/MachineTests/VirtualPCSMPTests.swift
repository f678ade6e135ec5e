import XCTest
@testable import Machine

/// The virtual PC with several vCPUs: one local APIC each (APIC ID = index), IPIs between them
/// (fixed, broadcast shorthands, INIT and SIPI), I/O APIC messages to the addressed APIC, and
/// per-vCPU timers and pending interrupts (SDM Vol. 3A §11.6).
final class VirtualPCSMPTests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>
    let tscHz: UInt64 = 50_000_000
    let base = LocalAPIC.defaultBase

    func makePC(vcpus: Int) -> PC {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: tscHz, tscBase: 0))
        pc.enableAPIC(tscHz: tscHz, x2APIC: true, tscDeadline: true, physicalAddressBits: 39, vcpus: vcpus)
        for i in 0..<vcpus { write(&pc, vcpu: i, 0xF0, 0x1FF) }     // SVR: software enable
        return pc
    }

    func write(_ pc: inout PC, vcpu: Int, _ offset: UInt64, _ value: UInt32, tsc: UInt64 = 0) {
        XCTAssertTrue(pc.mmioWrite(gpa: base + offset, size: 4, value: UInt64(value), tsc: tsc, vcpu: vcpu))
    }

    func read(_ pc: inout PC, vcpu: Int, _ offset: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: pc.mmioRead(gpa: base + offset, size: 4, tsc: 0, vcpu: vcpu) ?? 0xDEAD)
    }

    /// ICR high (destination in bits 31:24), then ICR low (sends).
    func sendIPI(_ pc: inout PC, from: Int, to destination: UInt32, low: UInt32) {
        write(&pc, vcpu: from, 0x310, destination << 24)
        write(&pc, vcpu: from, 0x300, low)
    }

    func testEachVCPUReadsItsOwnAPICID() {
        var pc = makePC(vcpus: 4)
        XCTAssertEqual(pc.vcpuCount, 4)
        for i in 0..<4 { XCTAssertEqual(read(&pc, vcpu: i, 0x20) >> 24, UInt32(i), "APIC ID of vCPU \(i)") }
        XCTAssertNotEqual(pc.lapics[0].apicBase & LocalAPIC.baseBSP, 0, "vCPU 0 is the BSP")
        XCTAssertEqual(pc.lapics[1].apicBase & LocalAPIC.baseBSP, 0)
    }

    func testFixedIPIReachesOnlyItsTarget() {
        var pc = makePC(vcpus: 3)
        sendIPI(&pc, from: 0, to: 2, low: 0x40)               // fixed, physical, vector 0x40
        XCTAssertFalse(pc.interruptPending(vcpu: 0))
        XCTAssertFalse(pc.interruptPending(vcpu: 1))
        XCTAssertTrue(pc.interruptPending(vcpu: 2))
        XCTAssertTrue(pc.takeSignals(vcpu: 0).sentIPI, "the sender gives way to its target")
        XCTAssertEqual(pc.signalledVCPUs, 0, "taken")
        XCTAssertEqual(pc.acknowledge(vcpu: 2), 0x40)
        XCTAssertFalse(pc.interruptPending(vcpu: 2), "in service")
        write(&pc, vcpu: 2, 0xB0, 0)                           // EOI
        XCTAssertEqual(read(&pc, vcpu: 2, 0x100 + 0x40 / 32 * 0x10), 0, "ISR clear after EOI")
    }

    func testBroadcastShorthands() {
        var pc = makePC(vcpus: 4)
        sendIPI(&pc, from: 1, to: 0, low: 0x41 | 3 << 18)      // all excluding self
        XCTAssertEqual(pc.pendingVCPUs, 0b1101)
        XCTAssertEqual(pc.signalledVCPUs, 0b0010, "the sender")
        var other = makePC(vcpus: 4)
        sendIPI(&other, from: 3, to: 0, low: 0x42 | 1 << 18)   // self
        XCTAssertEqual(other.pendingVCPUs, 0b1000)
        XCTAssertEqual(other.signalledVCPUs, 0, "a self-IPI asks nobody to give way")
    }

    /// INIT then SIPI, as an OS starts an AP (§8.4.4.1): signals for the engine, not vectors.
    func testINITAndStartupIPI() {
        var pc = makePC(vcpus: 2)
        sendIPI(&pc, from: 0, to: 1, low: 5 << 8 | 1 << 14)    // INIT, assert
        XCTAssertEqual(pc.signalledVCPUs, 0b11, "the target, and the sender (sentIPI)")
        _ = pc.takeSignals(vcpu: 0)
        sendIPI(&pc, from: 0, to: 1, low: 6 << 8 | 0x9A)       // SIPI, vector 0x9A
        let signals = pc.takeSignals(vcpu: 1)
        XCTAssertTrue(signals.initialization)
        XCTAssertEqual(signals.startupVector, 0x9A)
        XCTAssertEqual(pc.signalledVCPUs, 0b01, "the sender of the SIPI")
        XCTAssertTrue(pc.takeSignals(vcpu: 1).isEmpty)
        _ = pc.takeSignals(vcpu: 0)
        XCTAssertFalse(pc.interruptPending(vcpu: 1), "INIT and SIPI are not IDT vectors")
        // The obsolete INIT level de-assert does nothing.
        sendIPI(&pc, from: 0, to: 1, low: 5 << 8 | 1 << 15)
        XCTAssertEqual(pc.signalledVCPUs, 0)
    }

    /// INIT to all including self reaches the APs only: the BSP, with no firmware to restart in,
    /// ignores it and keeps its APIC state.
    func testINITLeavesTheBSPAlone() {
        var pc = makePC(vcpus: 2)
        sendIPI(&pc, from: 0, to: 0, low: 5 << 8 | 1 << 14 | 2 << 18)    // INIT, all including self
        XCTAssertFalse(pc.takeSignals(vcpu: 0).initialization)
        XCTAssertTrue(pc.takeSignals(vcpu: 1).initialization)
        XCTAssertTrue(pc.lapics[0].softwareEnabled, "the BSP's APIC was not reset")
        XCTAssertFalse(pc.lapics[1].softwareEnabled, "the AP's APIC was")
    }

    func testNMIIPI() {
        var pc = makePC(vcpus: 2)
        sendIPI(&pc, from: 1, to: 0, low: 4 << 8)
        XCTAssertTrue(pc.takeSignals(vcpu: 0).nmi)
    }

    /// An I/O APIC pin routed to APIC ID 3 interrupts vCPU 3 only; masked, nobody.
    func testIOAPICRoutesToTheAddressedVCPU() {
        var pc = makePC(vcpus: 4)
        func ioapic(_ register: UInt32, _ value: UInt32) {
            XCTAssertTrue(pc.mmioWrite(gpa: IOAPIC.defaultBase, size: 4, value: UInt64(register), tsc: 0))
            XCTAssertTrue(pc.mmioWrite(gpa: IOAPIC.defaultBase + 0x10, size: 4, value: UInt64(value), tsc: 0))
        }
        ioapic(0x10 + 2 * 4 + 1, 3 << 24)                      // pin 4 (COM1): destination APIC 3
        ioapic(0x10 + 2 * 4, 0x34)                             // vector 0x34, edge, unmasked
        pc.portOut(port: 0x3FC, size: 1, value: 0x08, tsc: 0)  // COM1 MCR: OUT2 gates the IRQ line
        pc.portOut(port: 0x3F9, size: 1, value: 0x02, tsc: 0)  // COM1 IER: THRE interrupt
        XCTAssertEqual(pc.pendingVCPUs, 0b1000)
        XCTAssertEqual(pc.acknowledge(vcpu: 3), 0x34)
    }

    /// Each vCPU's timer counts on its own; the PC's next timer is the earliest of them.
    func testPerVCPUTimers() {
        var pc = makePC(vcpus: 2)
        write(&pc, vcpu: 1, 0x3E0, 0xB)                        // divide by 1
        write(&pc, vcpu: 1, 0x320, 0x50)                       // one-shot, vector 0x50
        write(&pc, vcpu: 1, 0x380, 1000, tsc: 0)
        XCTAssertEqual(pc.nextTimerTSC, 1000)
        pc.update(tsc: 999)
        XCTAssertEqual(pc.pendingVCPUs, 0)
        pc.update(tsc: 1000)
        XCTAssertEqual(pc.pendingVCPUs, 0b10)
        XCTAssertEqual(pc.acknowledge(vcpu: 1), 0x50)
    }

    /// The 8259's INTR reaches the BSP only (LINT0 virtual wire), never an AP.
    func testPICOnlyReachesTheBSP() {
        var pc = makePC(vcpus: 2)
        pc.portOut(port: 0x20, size: 1, value: 0x11, tsc: 0)    // ICW1
        pc.portOut(port: 0x21, size: 1, value: 0x20, tsc: 0)    // ICW2: vectors 0x20-0x27
        pc.portOut(port: 0x21, size: 1, value: 0x04, tsc: 0)
        pc.portOut(port: 0x21, size: 1, value: 0x01, tsc: 0)
        pc.portOut(port: 0x21, size: 1, value: 0xEF, tsc: 0)    // only IRQ 4 unmasked
        pc.portOut(port: 0x3FC, size: 1, value: 0x08, tsc: 0)
        pc.portOut(port: 0x3F9, size: 1, value: 0x02, tsc: 0)
        XCTAssertEqual(pc.pendingVCPUs, 0b01)
    }
}

final class StartupIPIStateTests: XCTestCase {
    /// SIPI vector 0x9A: CS = 0x9A00, base 0x9A000, IP 0, real mode (SDM Vol. 3A §8.4.4.1).
    func testStartState() {
        let s = CPUStartState.startupIPI(vector: 0x9A)
        XCTAssertEqual(s.mode, .real)
        XCTAssertEqual(s.cs.selector, 0x9A00)
        XCTAssertEqual(s.cs.base, 0x9A000)
        XCTAssertEqual(s.cs.limit, 0xFFFF)
        XCTAssertEqual(s.rip, 0)
        XCTAssertEqual(s.ds.selector, 0)
        XCTAssertFalse(s.cr0.contains(.pe))
        XCTAssertFalse(s.cr0.contains(.pg))
        XCTAssertEqual(s.idtrLimit, 0x3FF)
    }
}
