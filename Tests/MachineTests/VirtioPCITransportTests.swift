import XCTest
import Machine

typealias TestBlockDevice = VirtioPCIDevice<VirtioBlock<ATABlockStorage>>

final class VirtioPCITransportTests: XCTestCase {
    let version1: UInt64 = 1 << 32

    func makeDevice(_ driver: TestVirtioDriver, disk: TestDisk, readOnly: Bool = false) -> TestBlockDevice {
        TestBlockDevice(model: VirtioBlock(storage: disk.storage, readOnly: readOnly), memory: driver.memory)
    }

    func testConfigSpaceIdentityAndCapabilities() {
        var space = TestBlockDevice.configSpace()
        XCTAssertEqual(space.vendorID, 0x1AF4)
        XCTAssertEqual(space.deviceID, 0x1042)
        XCTAssertEqual(space.read(offset: 8, size: 1), 1, "revision 1: modern")
        XCTAssertEqual(space.read(offset: 0x0B, size: 1), 0x01, "mass storage")
        XCTAssertEqual(space.interruptPin, 1, "INTA")
        XCTAssertEqual(space.barKind(0), .memory32(prefetchable: false))
        XCTAssertEqual(space.barSizes[0], 0x4000)
        // Walk the capability list as a driver does.
        XCTAssertNotEqual(space.status & PCIStatus.capabilitiesList, 0)
        var pointer = Int(space.read(offset: 0x34, size: 1))
        var found: [UInt8: (bar: UInt32, offset: UInt32, length: UInt32, capLength: UInt32)] = [:]
        var multiplier: UInt32 = 0
        var msix = 0
        while pointer != 0 {
            if space.read(offset: pointer, size: 1) == 0x11 {
                msix = pointer
                pointer = Int(space.read(offset: pointer + 1, size: 1))
                continue
            }
            XCTAssertEqual(space.read(offset: pointer, size: 1), 0x09, "vendor-specific")
            let type = UInt8(space.read(offset: pointer + 3, size: 1))
            found[type] = (space.read(offset: pointer + 4, size: 1), space.read(offset: pointer + 8, size: 4),
                           space.read(offset: pointer + 12, size: 4), space.read(offset: pointer + 2, size: 1))
            if type == 2 { multiplier = space.read(offset: pointer + 16, size: 4) }
            pointer = Int(space.read(offset: pointer + 1, size: 1))
        }
        XCTAssertEqual(found.keys.sorted(), [1, 2, 3, 4])
        XCTAssertEqual(found[1]?.offset, 0x0000)
        XCTAssertEqual(found[1]?.length, 0x40)
        XCTAssertEqual(found[1]?.capLength, 16)
        XCTAssertEqual(found[2]?.offset, 0x3000)
        XCTAssertEqual(found[2]?.capLength, 20)
        XCTAssertEqual(multiplier, 4)
        XCTAssertEqual(found[3]?.offset, 0x1000)
        XCTAssertEqual(found[4]?.offset, 0x2000)
        XCTAssertTrue(found.values.allSatisfy { $0.bar == 0 })
        // MSI-X (PCI 3.0 §6.8.2): 2 vectors (one queue + config), table at BAR 1 + 0, PBA at BAR 1 + 0x800.
        XCTAssertEqual(msix, VirtioPCILayout.msixCapability)
        XCTAssertEqual(space.read(offset: msix + 2, size: 2), 1, "table size N-1, disabled, not masked")
        XCTAssertEqual(space.read(offset: msix + 4, size: 4), 0x000 | 1)
        XCTAssertEqual(space.read(offset: msix + 8, size: 4), 0x800 | 1)
        XCTAssertEqual(space.barKind(1), .memory32(prefetchable: false))
        XCTAssertEqual(space.barSizes[1], 0x1000)
        space.write(offset: msix + 2, size: 2, value: 0xFFFF)
        XCTAssertEqual(space.read(offset: msix + 2, size: 2), 0xC001, "only Enable and Function Mask are writable")
        space.write(offset: msix + 4, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(space.read(offset: msix + 4, size: 4), 1, "Table Offset/BIR is read-only")
    }

    func testFeatureNegotiation() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var device = makeDevice(driver, disk: disk)
        device.write(offset: 0x00, size: 4, value: 0)
        let low = device.read(offset: 0x04, size: 4)
        device.write(offset: 0x00, size: 4, value: 1)
        XCTAssertEqual(device.read(offset: 0x04, size: 4), 1, "VERSION_1 in the high word")
        XCTAssertEqual(low & (1 << 28 | 1 << 29), 1 << 28 | 1 << 29, "INDIRECT_DESC and EVENT_IDX")
        XCTAssertEqual(low & (1 << 9), 1 << 9, "FLUSH")
        XCTAssertEqual(low & (1 << 5), 0, "not read-only")
        device.write(offset: 0x00, size: 4, value: 2)
        XCTAssertEqual(device.read(offset: 0x04, size: 4), 0)
        XCTAssertEqual(device.read(offset: 0x12, size: 2), 1, "num_queues")
        XCTAssertEqual(device.read(offset: 0x10, size: 2), 0xFFFF, "no MSI-X: NO_VECTOR")

        // A legacy driver (no VERSION_1): FEATURES_OK does not stick.
        XCTAssertEqual(driver.initialize(&device, features: 1 << 9, queueCount: 1) & 8, 0)
        // A feature the device did not offer: refused.
        XCTAssertEqual(driver.initialize(&device, features: version1 | 1 << 3, queueCount: 1) & 8, 0)
        // DRIVER_OK without FEATURES_OK is dropped.
        device.write(offset: 0x14, size: 1, value: 0)
        device.write(offset: 0x14, size: 1, value: 7)
        XCTAssertEqual(device.read(offset: 0x14, size: 1), 3)
        // Accepted.
        XCTAssertEqual(driver.initialize(&device, features: version1 | 1 << 9, queueCount: 1), 0xF)
        XCTAssertEqual(device.negotiatedFeatures, version1 | 1 << 9)
        // Features are frozen after FEATURES_OK, and bits cannot be cleared except by reset.
        device.write(offset: 0x08, size: 4, value: 0)
        device.write(offset: 0x0C, size: 4, value: 0)
        XCTAssertEqual(device.negotiatedFeatures, version1 | 1 << 9)
        device.write(offset: 0x14, size: 1, value: 3)
        XCTAssertEqual(device.read(offset: 0x14, size: 1), 0xF)
        device.write(offset: 0x14, size: 1, value: 0x8F)
        XCTAssertEqual(device.read(offset: 0x14, size: 1), 0x8F, "FAILED may be set")
    }

    func testQueueRegistersAndReset() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var device = makeDevice(driver, disk: disk)
        XCTAssertEqual(device.read(offset: 0x18, size: 2), 128, "queue_size offers the maximum")
        XCTAssertEqual(driver.initialize(&device, features: version1, queueCount: 1), 0xF)
        XCTAssertEqual(device.read(offset: 0x1C, size: 2), 1)
        XCTAssertEqual(device.read(offset: 0x18, size: 2), 16)
        XCTAssertEqual(device.read(offset: 0x20, size: 8), 0x1000)
        XCTAssertEqual(device.read(offset: 0x2C, size: 4), 0, "high half of queue_driver")
        XCTAssertEqual(device.read(offset: 0x30, size: 4), 0x3000)
        XCTAssertEqual(device.read(offset: 0x1E, size: 2), 0, "queue_notify_off")
        // An enabled queue's registers are frozen.
        device.write(offset: 0x20, size: 8, value: 0x7000)
        XCTAssertEqual(device.read(offset: 0x20, size: 8), 0x1000)
        // Queue 1 does not exist on virtio-blk.
        device.write(offset: 0x16, size: 2, value: 1)
        XCTAssertEqual(device.read(offset: 0x18, size: 2), 0)
        // Reset: status 0 disables every queue and clears the features.
        device.write(offset: 0x14, size: 1, value: 0)
        XCTAssertEqual(device.read(offset: 0x14, size: 1), 0)
        device.write(offset: 0x16, size: 2, value: 0)
        XCTAssertEqual(device.read(offset: 0x1C, size: 2), 0)
        XCTAssertEqual(device.read(offset: 0x18, size: 2), 128)
        XCTAssertEqual(device.read(offset: 0x20, size: 8), 0)
        XCTAssertEqual(device.negotiatedFeatures, 0)
        XCTAssertEqual(device.queue(0)?.isEnabled, false)
    }

    func testISRReadToClearAndInterruptSuppression() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var device = makeDevice(driver, disk: disk)
        driver.initialize(&device, features: version1, queueCount: 1)
        let status = driver.allocate(1), data = driver.allocate(512), header = driver.allocate(16)
        driver.memory.store(UInt32(8), gpa: header)  // GET_ID
        driver.chain(queue: 0, [(header, 16, false), (data, 20, true), (status, 1, true)])
        driver.makeAvailable(queue: 0, head: 0)
        driver.kick(&device, queue: 0)
        XCTAssertTrue(device.interruptAsserted)
        XCTAssertEqual(device.read(offset: 0x1000, size: 1), 1, "queue interrupt")
        XCTAssertFalse(device.interruptAsserted)
        XCTAssertEqual(device.read(offset: 0x1000, size: 1), 0, "read clears")
        // VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt (no EVENT_IDX).
        driver.memory.store(UInt16(1), gpa: driver.queues[0].avail)
        driver.makeAvailable(queue: 0, head: 0)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(driver.usedIndex(queue: 0), 2)
        XCTAssertFalse(device.interruptAsserted)
    }

    func testEventIndex() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var device = makeDevice(driver, disk: disk)
        driver.initialize(&device, features: version1 | 1 << 29, queueCount: 1)
        let header = driver.allocate(16), data = driver.allocate(32), status = driver.allocate(1)
        driver.memory.store(UInt32(8), gpa: header)
        for index in 0..<4 {
            driver.chain(queue: 0, first: index * 3, [(header, 16, false), (data, 20, true), (status, 1, true)])
        }
        let usedEvent = driver.queues[0].avail + 4 + 2 * 16
        let availEvent = driver.queues[0].used + 4 + 8 * 16
        // used_event = 2: interrupt only when used.idx passes 2 → 3.
        driver.memory.store(UInt16(2), gpa: usedEvent)
        driver.makeAvailable(queue: 0, head: 0)
        driver.kick(&device, queue: 0)
        XCTAssertFalse(device.interruptAsserted, "used.idx 1: not yet")
        XCTAssertEqual(driver.memory.load(UInt16.self, gpa: availEvent), 1, "avail_event: kick me for the next entry")
        driver.makeAvailable(queue: 0, head: 3)
        driver.makeAvailable(queue: 0, head: 6)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(driver.usedIndex(queue: 0), 3)
        XCTAssertTrue(device.interruptAsserted, "used.idx went 1 → 3, past used_event 2")
        _ = device.read(offset: 0x1000, size: 1)
        driver.makeAvailable(queue: 0, head: 9)
        driver.kick(&device, queue: 0)
        XCTAssertFalse(device.interruptAsserted, "used_event still 2")
    }

    func testNotificationsBeforeDriverOKAreIgnored() {
        let driver = TestVirtioDriver(), disk = TestDisk(sectors: 8)
        var device = makeDevice(driver, disk: disk)
        driver.initialize(&device, features: version1, queueCount: 1, driverOK: false)
        let header = driver.allocate(16), status = driver.allocate(1)
        driver.memory.store(UInt32(4), gpa: header)
        driver.chain(queue: 0, [(header, 16, false), (status, 1, true)])
        driver.makeAvailable(queue: 0, head: 0)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(driver.usedIndex(queue: 0), 0)
        device.write(offset: 0x14, size: 1, value: 0xF)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(driver.usedIndex(queue: 0), 1)
        XCTAssertEqual(device.notifications, 2)
    }
}
