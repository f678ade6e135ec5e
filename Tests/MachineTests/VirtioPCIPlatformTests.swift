import XCTest
import Machine

typealias TestPlatform = VirtioPCIPlatform<ATABlockStorage>

/// BAR 0 of one device of a platform, reached by guest-physical MMIO as the engine would.
struct PlatformBAR: Device {
    var platform: TestPlatform
    let slot: Int
    var base: UInt64 { inspect(platform.bus.function(device: slot)!) { $0.barAddress(0)! } }
    mutating func read(offset: UInt64, size: Int) -> UInt64 { platform.mmioRead(gpa: base + offset, size: size)! }
    mutating func write(offset: UInt64, size: Int, value: UInt64) {
        XCTAssertTrue(platform.mmioWrite(gpa: base + offset, size: size, value: value))
    }
}

final class VirtioPCIPlatformTests: XCTestCase {
    func cfg(_ platform: inout TestPlatform, device: Int, register: Int) -> UInt64 {
        platform.portOut(port: 0xCF8, size: 4, value: 0x8000_0000 | UInt64(device) << 11 | UInt64(register))
        return platform.portIn(port: 0xCFC, size: 4)!
    }

    func testEnumerationByPorts() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var platform = TestPlatform(memory: driver.memory, disk: VirtioBlock(storage: disk.storage),
                                    net: VirtioNet(mac: InlineArray(repeating: 2)))
        XCTAssertEqual(cfg(&platform, device: 0, register: 0), 0x1237_8086)
        XCTAssertEqual(cfg(&platform, device: 1, register: 0), 0x1042_1AF4)
        XCTAssertEqual(cfg(&platform, device: 2, register: 0), 0x1041_1AF4)
        XCTAssertEqual(cfg(&platform, device: 3, register: 0), 0xFFFF_FFFF)
        XCTAssertEqual(cfg(&platform, device: 1, register: 0x10), 0xE000_0000, "BAR 0 placed by firmware")
        XCTAssertEqual(cfg(&platform, device: 1, register: 0x14), 0xE000_4000, "BAR 1 (MSI-X) after BAR 0")
        XCTAssertEqual(cfg(&platform, device: 2, register: 0x10), 0xE000_8000)
        XCTAssertEqual(cfg(&platform, device: 2, register: 0x14), 0xE000_C000)
        XCTAssertEqual(cfg(&platform, device: 1, register: 0x3C) & 0xFFFF, 0x010A, "INTA, IRQ 10")
        XCTAssertEqual(cfg(&platform, device: 2, register: 0x3C) & 0xFFFF, 0x010B, "INTA, IRQ 11")
        XCTAssertEqual(cfg(&platform, device: 1, register: 4) & 7, 7, "I/O, memory, bus master on")
        XCTAssertNil(platform.mmioRead(gpa: 0xE000_D000, size: 4), "past the BARs")
        XCTAssertFalse(TestPlatform.decodes(port: 0xCF9, size: 1))
        let bare = TestPlatform(memory: driver.memory, disk: nil, net: nil)
        XCTAssertNil(bare.bus.function(device: 1))
    }

    func testDiskReadThroughMMIOAndIRQ10() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var bar = PlatformBAR(platform: TestPlatform(memory: driver.memory, disk: VirtioBlock(storage: disk.storage), net: nil), slot: 1)
        XCTAssertEqual(driver.initialize(&bar, features: 1 << 32 | 1 << 29, queueCount: 1), 0xF)
        let header = driver.allocate(16), data = driver.allocate(512), status = driver.allocate(1)
        driver.memory.store(UInt32(0), gpa: header)
        driver.memory.store(UInt64(7), gpa: header + 8)
        driver.chain(queue: 0, [(header, 16, false), (data, 512, true), (status, 1, true)])
        driver.makeAvailable(queue: 0, head: 0)
        XCTAssertEqual(bar.platform.assertedIRQs, 0)
        driver.kick(&bar, queue: 0)
        XCTAssertEqual(driver.bytes(at: data, count: 512), disk.sector(7))
        XCTAssertEqual(bar.platform.assertedIRQs, 1 << 10, "INTx asserted on IRQ 10")
        XCTAssertTrue(bar.platform.takeIRQChanges() == (raised: 1 << 10, lowered: 0))
        XCTAssertTrue(bar.platform.takeIRQChanges() == (raised: 0, lowered: 0), "no change since")
        XCTAssertEqual(bar.read(offset: 0x1000, size: 1), 1)
        XCTAssertEqual(bar.platform.assertedIRQs, 0, "reading ISR deasserts it")
        XCTAssertTrue(bar.platform.takeIRQChanges() == (raised: 0, lowered: 1 << 10))
        XCTAssertTrue(bar.platform.hasMMIODevice(at: 0xE000_3FFF))
        XCTAssertTrue(bar.platform.hasMMIODevice(at: 0xE000_4000), "BAR 1: MSI-X")
        XCTAssertFalse(bar.platform.hasMMIODevice(at: 0xE000_8000), "no net device in this platform")
    }

    func testTwoVMsPingThroughTheSwitch() {
        let drivers = [TestVirtioDriver(), TestVirtioDriver()]
        let macs: [[UInt8]] = [[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]]
        var platforms = (0..<2).map { n in
            TestPlatform(memory: drivers[n].memory, disk: nil, net: VirtioNet(mac: InlineArray { macs[n][$0] }))
        }
        var network = VirtualSwitch()
        var rxBuffers: [UInt64] = []
        for n in 0..<2 {
            XCTAssertEqual(network.addPort(mac: MACAddress(InlineArray { macs[n][$0] })), n)
            var bar = PlatformBAR(platform: platforms[n], slot: 2)
            XCTAssertEqual(drivers[n].initialize(&bar, features: 1 << 32 | 1 << 5 | 1 << 29 | 1 << 28, queueCount: 2), 0xF)
            // One receive buffer, then a frame to the other VM.
            let rx = drivers[n].allocate(1530)
            rxBuffers.append(rx)
            drivers[n].descriptor(table: drivers[n].queues[0].desc, 0, address: rx, length: 1530, flags: 2)
            drivers[n].makeAvailable(queue: 0, head: 0)
            drivers[n].kick(&bar, queue: 0)
            platforms[n] = bar.platform
        }
        // VM 0 sends, header and frame in one buffer (ANY_LAYOUT, as Linux does).
        let frame: [UInt8] = macs[1] + macs[0] + [0x08, 0x00] + Array("ping".utf8)
        let tx = drivers[0].allocate(12 + frame.count)
        drivers[0].ram.put([UInt8](repeating: 0, count: 12) + frame, at: Int(tx))
        drivers[0].descriptor(table: drivers[0].queues[1].desc, 0, address: tx, length: UInt32(12 + frame.count), flags: 0)
        drivers[0].makeAvailable(queue: 1, head: 0)
        var bar = PlatformBAR(platform: platforms[0], slot: 2)
        drivers[0].kick(&bar, queue: 1)
        platforms[0] = bar.platform
        XCTAssertTrue(platforms[0].transmitPending)
        let forwarded = platforms.withUnsafeMutableBufferPointer { network.forward(from: 0, ports: $0) }
        XCTAssertEqual(forwarded, 1)
        XCTAssertEqual(drivers[1].usedIndex(queue: 0), 1)
        XCTAssertEqual(drivers[1].usedElement(queue: 0, 0).length, UInt32(12 + frame.count))
        XCTAssertEqual(drivers[1].bytes(at: rxBuffers[1] + 12, count: frame.count), frame)
        XCTAssertEqual(drivers[0].usedIndex(queue: 0), 0, "nothing back to the sender")
        XCTAssertEqual(platforms[1].assertedIRQs, 1 << 11, "the receiver's IRQ 11")
        XCTAssertEqual(platforms[0].assertedIRQs, 1 << 11, "the sender's tx completion")
        XCTAssertEqual(network.counters(port: 1).framesOut, 1)
    }
}
