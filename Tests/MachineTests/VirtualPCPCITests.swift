import XCTest
@testable import Machine

/// The virtual PC with its PCI platform plugged in: configuration mechanism #1 on the PC's
/// ports (beside the reset register at 0xCF9), the BARs as emulated MMIO, and the virtio
/// devices' INTx lines on the 8259 (IRQ 10/11, edge) and the I/O APIC (active low, level).
final class VirtualPCPCITests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>

    /// BAR 0 of slot `slot`, reached through the PC as the MMIO exit reaches it.
    struct PCBAR: Device {
        var pc: PC
        let base: UInt64
        mutating func read(offset: UInt64, size: Int) -> UInt64 { pc.mmioRead(gpa: base + offset, size: size, tsc: 0)! }
        mutating func write(offset: UInt64, size: Int, value: UInt64) {
            XCTAssertTrue(pc.mmioWrite(gpa: base + offset, size: size, value: value, tsc: 0))
        }
    }

    final class Fixture {
        let driver: TestVirtioDriver
        let disk: TestDisk
        let platform = UnsafeMutablePointer<TestPlatform>.allocate(capacity: 1)
        init(net: Bool = false, sectors: Int = 16, ramSize: Int = 0x40000) {
            driver = TestVirtioDriver(ramSize: ramSize)
            disk = TestDisk(sectors: sectors)
            TestPlatform.initialize(at: platform, memory: driver.memory, disk: disk.storage, readOnly: false,
                                        mac: net ? InlineArray(repeating: 2) : nil)
        }
        deinit { platform.deinitialize(count: 1); platform.deallocate() }

        func makePC(apic: Bool) -> PC {
            var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                        clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
            if apic { pc.enableAPIC(tscHz: 50_000_000, x2APIC: true, tscDeadline: true, physicalAddressBits: 39) }
            pc.attachPCI(platform)
            return pc
        }
    }

    func config(_ pc: inout PC, device: Int, register: Int, size: Int = 4) -> UInt32 {
        pc.portOut(port: 0xCF8, size: 4, value: 0x8000_0000 | UInt32(device) << 11 | UInt32(register & ~3), tsc: 0)
        return pc.portIn(port: 0xCFC + UInt16(register & 3), size: size, tsc: 0)
    }

    /// A read request for sector `sector` on the disk's queue, kicked through the PC.
    func readSector(_ bar: inout PCBAR, _ driver: TestVirtioDriver, sector: UInt64, head: Int) -> UInt64 {
        Self.readSector(&bar, driver, sector: sector, head: head)
    }

    static func readSector(_ bar: inout PCBAR, _ driver: TestVirtioDriver, sector: UInt64, head: Int) -> UInt64 {
        let header = driver.allocate(16), data = driver.allocate(512), status = driver.allocate(1)
        driver.memory.store(UInt32(0), gpa: header)
        driver.memory.store(sector, gpa: header + 8)
        driver.chain(queue: 0, first: head, [(header, 16, false), (data, 512, true), (status, 1, true)])
        driver.makeAvailable(queue: 0, head: UInt16(head))
        driver.kick(&bar, queue: 0)
        XCTAssertEqual(driver.memory.load(UInt8.self, gpa: status), 0, "VIRTIO_BLK_S_OK")
        return data
    }

    func testConfigurationMechanismOnThePCPorts() {
        let fixture = Fixture(net: true)
        var pc = fixture.makePC(apic: false)
        XCTAssertEqual(config(&pc, device: 0, register: 0), 0x1237_8086, "host bridge")
        XCTAssertEqual(config(&pc, device: 1, register: 0), 0x1042_1AF4, "virtio-blk")
        XCTAssertEqual(config(&pc, device: 2, register: 0), 0x1041_1AF4, "virtio-net")
        XCTAssertEqual(config(&pc, device: 1, register: 2, size: 2), 0x1042, "a word at 0xCFE")
        XCTAssertEqual(config(&pc, device: 1, register: 0x3C, size: 1), 10, "interrupt line at 0xCFC, a byte")
        XCTAssertEqual(config(&pc, device: 2, register: 0x3C, size: 1), 11)
        XCTAssertEqual(config(&pc, device: 5, register: 0), 0xFFFF_FFFF, "empty slot")
        XCTAssertEqual(pc.portIn(port: 0xCF8, size: 4, tsc: 0), 0x8000_2800, "CONFIG_ADDRESS reads back (slot 5)")
        // A byte at 0xCF9 is still the reset control register, not CONFIG_ADDRESS.
        pc.portOut(port: 0xCF9, size: 1, value: 0x06, tsc: 0)
        XCTAssertEqual(pc.powerRequest, .acpiReset)
        XCTAssertEqual(pc.portIn(port: 0xCF8, size: 4, tsc: 0), 0x8000_2800, "CONFIG_ADDRESS untouched")
        XCTAssertTrue(pc.bus.unhandled.isEmpty, "every PCI port access was the bus's")
        // Without a platform the ports float as before.
        var plain = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()), clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
        XCTAssertEqual(config(&plain, device: 0, register: 0), 0xFFFF_FFFF)
        XCTAssertFalse(plain.hasMMIODevice(at: 0xE000_0000))
    }

    func testBARsAreMMIODevices() {
        let fixture = Fixture(net: true)
        var pc = fixture.makePC(apic: false)
        XCTAssertTrue(pc.hasMMIODevice(at: 0xE000_0000), "virtio-blk BAR 0")
        XCTAssertTrue(pc.hasMMIODevice(at: 0xE000_4FFF), "virtio-blk BAR 1 (MSI-X) end")
        XCTAssertFalse(pc.hasMMIODevice(at: 0xE000_5000), "between the disk's BAR 1 and the net's BAR 0")
        XCTAssertTrue(pc.hasMMIODevice(at: 0xE000_CFFF), "virtio-net BAR 1 end")
        XCTAssertFalse(pc.hasMMIODevice(at: 0xE000_D000))
        XCTAssertNil(pc.mmioRead(gpa: 0xE000_D000, size: 4, tsc: 0))
        XCTAssertEqual(pc.mmioRead(gpa: 0xE000_0000 + 0x12, size: 2, tsc: 0), 1, "virtio-blk num_queues")
        XCTAssertEqual(pc.mmioRead(gpa: 0xE000_8000 + 0x12, size: 2, tsc: 0), 2, "virtio-net num_queues")
        // The guest moves BAR 0 of the disk: the old address no longer decodes, the new one does.
        pc.portOut(port: 0xCF8, size: 4, value: 0x8000_0800 | 0x10, tsc: 0)
        pc.portOut(port: 0xCFC, size: 4, value: 0xE800_0000, tsc: 0)
        XCTAssertFalse(pc.hasMMIODevice(at: 0xE000_0000))
        XCTAssertEqual(pc.mmioRead(gpa: 0xE800_0012, size: 2, tsc: 0), 1)
    }

    /// The device region at an address: one answer for one device's pages (a BAR's, the ECAM
    /// window's), different answers for neighbouring BARs, the APICs before a BAR moved onto them.
    func testMMIORegionsTellDevicesApart() {
        let fixture = Fixture(net: true)
        var pc = fixture.makePC(apic: true)
        XCTAssertEqual(pc.mmioRegion(at: 0xE000_0FFC), pc.mmioRegion(at: 0xE000_1000), "virtio-blk BAR 0's pages")
        XCTAssertNotNil(pc.mmioRegion(at: 0xE000_3FFC))
        XCTAssertNotEqual(pc.mmioRegion(at: 0xE000_3FFC), pc.mmioRegion(at: 0xE000_4000), "BAR 0 and BAR 1 are adjacent")
        XCTAssertNil(pc.mmioRegion(at: 0xE000_5000), "between the disk's BAR 1 and the net's BAR 0")
        XCTAssertEqual(pc.mmioRegion(at: 0xF000_8FFE), pc.mmioRegion(at: 0xF000_9000), "ECAM across two functions")
        XCTAssertNotEqual(pc.mmioRegion(at: 0xFEC0_0000), pc.mmioRegion(at: 0xFEE0_0000), "I/O APIC and local APIC")
        pc.portOut(port: 0xCF8, size: 4, value: 0x8000_0800 | 0x10, tsc: 0)
        pc.portOut(port: 0xCFC, size: 4, value: 0xFEE0_0000, tsc: 0)             // BAR 0 over the local APIC
        XCTAssertNotEqual(pc.mmioRegion(at: 0xFEE0_0FFC), pc.mmioRegion(at: 0xFEE0_1000), "the APIC's page, then the BAR's")
        XCTAssertEqual(pc.mmioRegion(at: 0xFEE0_1000), pc.mmioRegion(at: 0xFEE0_2000))
    }

    /// A BAR moved onto the local APIC's page or the I/O APIC's window does not take them over:
    /// the APICs answer there (their version registers), and the BAR answers again once moved back.
    func testBARsMovedOntoTheAPICsLeaveThemTheAPICs() {
        let fixture = Fixture()
        var pc = fixture.makePC(apic: true)
        func moveBAR0(_ address: UInt32) {
            pc.portOut(port: 0xCF8, size: 4, value: 0x8000_0800 | 0x10, tsc: 0)
            pc.portOut(port: 0xCFC, size: 4, value: address, tsc: 0)
        }
        moveBAR0(0xFEE0_0000)
        XCTAssertEqual(pc.mmioRead(gpa: 0xFEE0_0030, size: 4, tsc: 0), UInt64(LocalAPIC.versionValue), "local APIC version")
        XCTAssertTrue(pc.mmioWrite(gpa: 0xFEE0_0080, size: 4, value: 0x20, tsc: 0))
        XCTAssertEqual(pc.mmioRead(gpa: 0xFEE0_0080, size: 4, tsc: 0), 0x20, "TPR written in the APIC")
        XCTAssertEqual(pc.mmioRead(gpa: 0xFEE0_1000, size: 4, tsc: 0), 0, "the disk's ISR page, past the APIC's page")
        moveBAR0(0xFEC0_0000)
        XCTAssertTrue(pc.mmioWrite(gpa: 0xFEC0_0000, size: 4, value: UInt64(IOAPIC.versionRegister), tsc: 0))
        XCTAssertEqual(pc.mmioRead(gpa: 0xFEC0_0010, size: 4, tsc: 0), UInt64(IOAPIC.versionValue), "I/O APIC version")
        XCTAssertEqual(pc.mmioRead(gpa: 0xFEC0_1000, size: 4, tsc: 0), 0, "the disk's ISR page, past the I/O APIC's window")
        moveBAR0(0xE000_0000)
        XCTAssertEqual(pc.mmioRead(gpa: 0xE000_0012, size: 2, tsc: 0), 1, "virtio-blk num_queues at its BAR again")
    }

    /// Without APICs: IRQ 10 reaches the 8259 as a rising edge when the device completes a request.
    func testDiskInterruptThroughThe8259() {
        let fixture = Fixture()
        var bar = PCBAR(pc: fixture.makePC(apic: false), base: 0xE000_0000)
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xFB),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01), (0xA1, 0xFB)] as [(UInt16, UInt32)] {
            bar.pc.portOut(port: port, size: 1, value: value, tsc: 0)     // IRQ 10 (slave IR2) unmasked
        }
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1), 0xF)
        XCTAssertFalse(bar.pc.interruptPending)
        let data = readSector(&bar, fixture.driver, sector: 3, head: 0)
        XCTAssertEqual(fixture.driver.bytes(at: data, count: 512), fixture.disk.sector(3))
        XCTAssertTrue(bar.pc.interruptPending, "IRQ 10 raised")
        XCTAssertEqual(bar.pc.acknowledge(), 0x2A, "slave vector base 0x28 + IR2")
        XCTAssertEqual(bar.read(offset: 0x1000, size: 1), 1, "ISR: used buffer")
        XCTAssertEqual(bar.pc.pci!.pointee.assertedIRQs, 0, "reading ISR deasserts INTx")
        bar.pc.portOut(port: 0xA0, size: 1, value: 0x20, tsc: 0)
        bar.pc.portOut(port: 0x20, size: 1, value: 0x20, tsc: 0)
        XCTAssertFalse(bar.pc.interruptPending)
        _ = readSector(&bar, fixture.driver, sector: 4, head: 3)
        XCTAssertTrue(bar.pc.interruptPending, "the next completion is a new edge")
    }

    /// With APICs: IRQ 10 is I/O APIC pin 10, level-triggered and active low as Linux programs it:
    /// one message per assertion, none after the driver read ISR and sent EOI.
    func testDiskInterruptThroughTheIOAPIC() {
        let fixture = Fixture()
        var bar = PCBAR(pc: fixture.makePC(apic: true), base: 0xE000_0000)
        func ioapic(_ register: UInt32, _ value: UInt32) {
            bar.pc.mmioWrite(gpa: IOAPIC.defaultBase, size: 4, value: UInt64(register), tsc: 0)
            bar.pc.mmioWrite(gpa: IOAPIC.defaultBase + 0x10, size: 4, value: UInt64(value), tsc: 0)
        }
        XCTAssertTrue(bar.pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xF0, size: 4, value: 0x1FF, tsc: 0))
        ioapic(0x10 + 2 * 10 + 1, 0)
        ioapic(0x10 + 2 * 10, 0x41 | 1 << 13 | 1 << 15)          // vector 0x41, active low, level, unmasked
        XCTAssertFalse(bar.pc.interruptPending, "the idle INTx# line is high: nothing asserted")
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1), 0xF)
        let data = readSector(&bar, fixture.driver, sector: 9, head: 0)
        XCTAssertEqual(fixture.driver.bytes(at: data, count: 512), fixture.disk.sector(9))
        XCTAssertTrue(bar.pc.interruptPending)
        XCTAssertEqual(bar.pc.acknowledge(), 0x41)
        XCTAssertEqual(bar.read(offset: 0x1000, size: 1), 1)
        XCTAssertTrue(bar.pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xB0, size: 4, value: 0, tsc: 0))   // EOI
        XCTAssertFalse(bar.pc.interruptPending, "deasserted before EOI: no second message")
        XCTAssertEqual(bar.pc.ioapic!.pinLevels & (1 << 10), 1 << 10, "pin idle high again")
    }

    /// A request bigger than one exit's budget: the PC arms its timer for the next step
    /// (`deviceWorkTSC`, 200 µs of guest time on: the guest runs in between), each `update(tsc:)`
    /// from then moves one budget more, and when the request is done the timer goes back to the
    /// devices' own and IRQ 10 is raised.
    func testDeferredDiskWorkGoesOnAtEachUpdate() {
        let fixture = Fixture(sectors: 2048, ramSize: 0x10_0000)
        var bar = PCBAR(pc: fixture.makePC(apic: false), base: 0xE000_0000)
        XCTAssertEqual(fixture.driver.initialize(&bar, features: 1 << 32, queueCount: 1), 0xF)
        XCTAssertEqual(bar.pc.nextTimerTSC, .max)
        let driver = fixture.driver
        driver.nextBuffer = 0x10000
        let header = driver.allocate(16), data = driver.allocate(320 * 1024), status = driver.allocate(1)
        driver.memory.store(UInt32(0), gpa: header)
        driver.memory.store(UInt64(7), gpa: header + 8)
        driver.chain(queue: 0, [(header, 16, false), (data, 320 * 1024, true), (status, 1, true)])
        driver.makeAvailable(queue: 0, head: 0)
        driver.kick(&bar, queue: 0)
        let gap = bar.pc.deviceWorkGapTSC
        XCTAssertEqual(gap, 10_000, "200 µs at 50 MHz")
        XCTAssertEqual(bar.pc.nextTimerTSC, gap, "deferred: the next step 200 µs on")
        XCTAssertEqual(driver.usedIndex(queue: 0), 0)
        bar.pc.update(tsc: gap - 1)
        XCTAssertEqual(bar.pc.pci!.pointee.block!.continuations, 0, "the guest runs first")
        bar.pc.update(tsc: gap + 5)
        XCTAssertEqual(bar.pc.nextTimerTSC, 2 * gap + 5, "256 of 320 KiB done; the next step 200 µs on")
        XCTAssertEqual(driver.usedIndex(queue: 0), 0)
        bar.pc.update(tsc: 3 * gap)
        XCTAssertEqual(driver.usedIndex(queue: 0), 1)
        XCTAssertEqual(driver.memory.load(UInt8.self, gpa: status), 0)
        XCTAssertEqual(driver.bytes(at: data + 319 * 1024, count: 512), fixture.disk.sector(7 + 638))
        XCTAssertEqual(bar.pc.nextTimerTSC, .max, "nothing left: no timer")
        XCTAssertEqual(bar.pc.pci!.pointee.block!.continuations, 2)
        XCTAssertEqual(bar.pc.pci!.pointee.assertedIRQs, 1 << 10, "the completion interrupts")
    }
}
