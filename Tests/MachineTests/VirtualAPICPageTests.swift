import XCTest
@testable import Machine

/// The virtual-APIC page mirrors the LocalAPIC model at every offset the processor virtualizes
/// reads of (SDM Vol. 3C §30.4.2), so a guest reading its APIC page without an exit sees what a
/// trapped read would have returned.
final class VirtualAPICPageTests: XCTestCase {
    func testMirrorMatchesTrappedReads() {
        var apic = LocalAPIC(id: 3, bootstrapProcessor: false, virtualWire: false, timerHz: 50_000_000, tscHz: 50_000_000)
        for (offset, value) in [(0x0F0, 0x1FF), (0x080, 0x20), (0x0D0, 0x0300_0000), (0x0E0, 0xF000_0000),
                                (0x320, 0x2_0040), (0x350, 0x700), (0x370, 0xFE), (0x3E0, 0xB), (0x380, 12345),
                                (0x310, 0x0200_0000)] as [(UInt64, UInt32)] {
            _ = apic.writeMMIO(offset: offset, size: 4, value: value, tsc: 0)
        }
        XCTAssertTrue(apic.accept(vector: 0x61, levelTriggered: true))
        XCTAssertTrue(apic.accept(vector: 0x42, levelTriggered: false))
        XCTAssertEqual(apic.acknowledge(), 0x61)
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        page.initializeMemory(as: UInt8.self, repeating: 0xEE, count: 4096)
        apic.mirror(into: page)
        for offset in VirtualAPICPage.virtualizedReads {
            let expected = offset == 0x0B0 ? 0 : apic.readMMIO(offset: UInt64(offset), size: 4, tsc: 0)
            XCTAssertEqual(VirtualAPICPage.register(page, offset: offset), expected, "offset \(String(offset, radix: 16))")
        }
        XCTAssertEqual(VirtualAPICPage.taskPriority(page), 0x20)
        XCTAssertEqual(page.load(fromByteOffset: 0x0A0, as: UInt32.self), 0xEEEE_EEEE, "PPR is not mirrored: its reads exit")
        XCTAssertEqual(page.load(fromByteOffset: 0x390, as: UInt32.self), 0xEEEE_EEEE, "nor the current count")
    }

    /// The guest's TPR, changed on the page, becomes the model's and gates delivery.
    func testVirtualTaskPriorityGatesDelivery() {
        var pc = VirtualPCSMPTests.PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                                         clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
        pc.enableAPIC(tscHz: 50_000_000, x2APIC: true, tscDeadline: true, physicalAddressBits: 39, vcpus: 1)
        pc.virtualAPICPages = true
        XCTAssertTrue(pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xF0, size: 4, value: 0x1FF, tsc: 0))
        XCTAssertEqual(pc.staleAPICPages, 1, "a register write leaves the page stale")
        pc.apicPageMirrored(vcpu: 0)
        XCTAssertEqual(pc.attentionVCPUs, 0)
        pc.takeVirtualTaskPriority(0x50, vcpu: 0)
        XCTAssertTrue(pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0x300, size: 4, value: 0x45 | 1 << 18, tsc: 0))  // self-IPI 0x45
        XCTAssertFalse(pc.interruptPending(vcpu: 0), "TPR class 5 holds back vector 0x45")
        pc.takeVirtualTaskPriority(0x30, vcpu: 0)
        XCTAssertTrue(pc.interruptPending(vcpu: 0))
        XCTAssertNotEqual(pc.attentionVCPUs & 1, 0)
    }
}
