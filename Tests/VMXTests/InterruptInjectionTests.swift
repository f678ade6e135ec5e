import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// Interrupt delivery at VM entry against a fake VMCS (SDM Vol. 3C §26.6): inject when the guest
/// can take it, interrupt-window exiting while it cannot, window off when nothing is pending; NMIs;
/// the preemption timer's count.
final class InterruptInjectionTests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>

    /// 8259s at 0x20/0x28 with IRQ 0 unmasked and the PIT's IRQ0 pending.
    func pcWithIRQ0Pending() -> PC {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()), clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01),
                              (0x21, 0xFE), (0xA1, 0xFF), (0x43, 0x34), (0x40, 0xA9), (0x40, 0x04)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        pc.update(tsc: 10_000_000)
        XCTAssertTrue(pc.interruptPending)
        return pc
    }

    func testNothingPendingTurnsTheWindowOff() {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()), clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
        let vmcs = FakeVMCS()
        var controls: PrimaryProcessorBasedControls = [.hltExiting, .interruptWindowExiting]
        XCTAssertEqual(InterruptInjection.deliver(vmcs, pc: &pc, vcpu: 0, controls: &controls), .nothingPending)
        XCTAssertEqual(controls, [.hltExiting])
        XCTAssertEqual(vmcs.written(.procBasedControls), UInt64(PrimaryProcessorBasedControls.hltExiting.rawValue))
        XCTAssertNil(vmcs.written(.vmEntryInterruptionInformation))
    }

    func testInjectsWhenTheGuestCanTakeIt() {
        var pc = pcWithIRQ0Pending()
        let vmcs = FakeVMCS()
        vmcs.fields[.guestRFLAGS] = 0x202
        var controls: PrimaryProcessorBasedControls = [.hltExiting]
        XCTAssertEqual(InterruptInjection.deliver(vmcs, pc: &pc, vcpu: 0, controls: &controls), .injected(vector: 0x20))
        XCTAssertEqual(vmcs.written(.vmEntryInterruptionInformation), 0x8000_0020, "valid, external interrupt, vector 0x20")
        XCTAssertNil(vmcs.written(.procBasedControls), "the window was off and stays off: no VMWRITE")
        XCTAssertFalse(pc.interruptPending, "acknowledged: in service now")
    }

    /// IF = 0, blocking by STI, blocking by MOV SS, or another event being injected: wait for the window.
    func testWaitsForTheWindowWhenTheGuestCannot() {
        let blockers: [(String, (FakeVMCS) -> Void)] = [
            ("IF = 0", { $0.fields[.guestRFLAGS] = 0x2 }),
            ("STI blocking", { $0.fields[.guestInterruptibilityState] = 1 }),
            ("MOV SS blocking", { $0.fields[.guestInterruptibilityState] = 2 }),
            ("an event being injected", { $0.fields[.vmEntryInterruptionInformation] = 0x8000_030E }),
        ]
        for (name, block) in blockers {
            var pc = pcWithIRQ0Pending()
            let vmcs = FakeVMCS()
            vmcs.fields[.guestRFLAGS] = 0x202
            block(vmcs)
            var controls: PrimaryProcessorBasedControls = [.hltExiting]
            XCTAssertEqual(InterruptInjection.deliver(vmcs, pc: &pc, vcpu: 0, controls: &controls), .waitingForWindow, name)
            XCTAssertTrue(controls.contains(.interruptWindowExiting), name)
            XCTAssertEqual(vmcs.written(.procBasedControls), UInt64(controls.rawValue), name)
            XCTAssertTrue(pc.interruptPending, "\(name): still pending, not acknowledged")
            let writes = vmcs.writes.count
            XCTAssertEqual(InterruptInjection.deliver(vmcs, pc: &pc, vcpu: 0, controls: &controls), .waitingForWindow, name)
            XCTAssertEqual(vmcs.writes.count, writes, "\(name): the window is on already: no second VMWRITE")
        }
    }

    /// The interrupt-window exit: the guest opened the window, the interrupt goes in, the window goes off.
    func testTheWindowOpensAndTheInterruptGoesIn() {
        var pc = pcWithIRQ0Pending()
        let vmcs = FakeVMCS()
        var controls: PrimaryProcessorBasedControls = [.hltExiting, .interruptWindowExiting]
        vmcs.fields[.guestRFLAGS] = 0x202
        XCTAssertEqual(InterruptInjection.deliver(vmcs, pc: &pc, vcpu: 0, controls: &controls), .injected(vector: 0x20))
        XCTAssertFalse(controls.contains(.interruptWindowExiting))
        XCTAssertEqual(vmcs.written(.procBasedControls), UInt64(PrimaryProcessorBasedControls.hltExiting.rawValue))
    }

    func testNMIUnlessBlocked() {
        let vmcs = FakeVMCS()
        XCTAssertTrue(InterruptInjection.deliverNMI(vmcs))
        XCTAssertEqual(vmcs.written(.vmEntryInterruptionInformation), 0x8000_0202, "valid, NMI, vector 2")
        let blocked = FakeVMCS()
        blocked.fields[.guestInterruptibilityState] = 1 << 3
        XCTAssertFalse(InterruptInjection.deliverNMI(blocked))
        XCTAssertNil(blocked.written(.vmEntryInterruptionInformation))
    }

    /// The VMX-preemption timer counts once per 2^rate TSC ticks; a passed deadline is 0 (exit at once).
    func testPreemptionTimerCount() {
        XCTAssertEqual(InterruptInjection.preemptionTimerCount(now: 1000, deadline: 1000 + 64_000, rate: 0), 64_000)
        XCTAssertEqual(InterruptInjection.preemptionTimerCount(now: 1000, deadline: 1000 + 64_000, rate: 5), 2_000)
        XCTAssertEqual(InterruptInjection.preemptionTimerCount(now: 5000, deadline: 4000, rate: 0), 0)
        XCTAssertEqual(InterruptInjection.preemptionTimerCount(now: 5000, deadline: 5000, rate: 0), 0)
    }
}
