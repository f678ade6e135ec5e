import XCTest
import Machine

/// One test per class of guest mistake in a split virtqueue: the device enters
/// DEVICE_NEEDS_RESET, counts it, raises a configuration interrupt, stops using the queue,
/// touches nothing outside the VM's RAM, and works again after a reset.
final class VirtioMalformedRingTests: XCTestCase {
    let version1: UInt64 = 1 << 32
    let indirect: UInt64 = 1 << 28
    let ramSize: UInt64 = 0x40000

    /// Sets up a virtio-blk device, lets `build` write a bad request (or configure a bad
    /// queue), kicks, and checks the device's answer.
    func expectViolation(_ expected: VirtqueueError, features: UInt64? = nil, file: StaticString = #filePath, line: UInt = #line,
                         configure: ((TestVirtioDriver) -> Void)? = nil,
                         build: (TestVirtioDriver) -> Void) {
        let driver = TestVirtioDriver(ramSize: Int(ramSize)), disk = TestDisk(sectors: 16)
        var device = TestBlockDevice(model: VirtioBlock(storage: disk.storage), memory: driver.memory)
        configure?(driver)
        driver.initialize(&device, features: features ?? version1, queueCount: 1)
        build(driver)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(device.lastError, expected, file: file, line: line)
        XCTAssertEqual(device.malformedCount, 1, file: file, line: line)
        XCTAssertNotEqual(device.read(offset: 0x14, size: 1) & 64, 0, "DEVICE_NEEDS_RESET", file: file, line: line)
        XCTAssertEqual(device.read(offset: 0x1000, size: 1) & 2, 2, "configuration change interrupt", file: file, line: line)
        XCTAssertTrue(driver.guardIntact, "nothing written outside the VM", file: file, line: line)
        XCTAssertEqual(disk.sector(0), TestDisk(sectors: 1).sector(0), "the disk is untouched", file: file, line: line)
        // No more processing until reset, even of a good request.
        let usedBefore = driver.usedIndex(queue: 0)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(driver.usedIndex(queue: 0), usedBefore, file: file, line: line)
        // Reset and a well-formed request: the device works again.
        driver.queues[0].availIndex = 0
        driver.queues[0].size = 16
        driver.queues[0].desc = 0x1000
        driver.queues[0].avail = 0x2000
        driver.queues[0].used = 0x3000
        driver.memory.fill(gpa: 0x1000, length: 0x3000, with: 0)
        XCTAssertEqual(driver.initialize(&device, features: version1, queueCount: 1), 0xF, file: file, line: line)
        let header = driver.allocate(16), data = driver.allocate(512), status = driver.allocate(1)
        driver.memory.store(UInt32(0), gpa: header)
        driver.memory.store(UInt64(0), gpa: header + 8)
        driver.chain(queue: 0, [(header, 16, false), (data, 512, true), (status, 1, true)])
        driver.makeAvailable(queue: 0, head: 0)
        driver.kick(&device, queue: 0)
        XCTAssertEqual(driver.usedIndex(queue: 0), 1, "works after reset", file: file, line: line)
        XCTAssertEqual(driver.bytes(at: data, count: 512), disk.sector(0), file: file, line: line)
    }

    /// A good header and status byte; `middle` goes between them.
    func request(_ driver: TestVirtioDriver, middle: [(address: UInt64, length: UInt32, writable: Bool)]) -> [(address: UInt64, length: UInt32, writable: Bool)] {
        let header = driver.allocate(16), status = driver.allocate(1)
        driver.memory.store(UInt32(0), gpa: header)
        return [(header, 16, false)] + middle + [(status, 1, true)]
    }

    func testQueueSizeNotAPowerOfTwo() {
        expectViolation(.invalidQueueSize, configure: { $0.queues[0].size = 12 }) { _ in }
    }

    func testQueueSizeAboveMaximum() {
        expectViolation(.invalidQueueSize, configure: { $0.queues[0].size = 256 }) { _ in }
    }

    func testRingOutsideRAM() {
        expectViolation(.ringOutsideRAM, configure: { $0.queues[0].desc = 0x40000 - 0x80 }) { _ in }
    }

    func testUsedRingOnTheAvailableRing() {
        expectViolation(.ringsOverlap, configure: { $0.queues[0].used = $0.queues[0].avail }) { _ in }
    }

    func testUsedRingOnTheDescriptorTable() {
        // The used ring's last element and avail_event reach into the table's first descriptor.
        expectViolation(.ringsOverlap, configure: { $0.queues[0].used = $0.queues[0].desc - 0x80 }) { _ in }
    }

    func testReadIntoTheAvailableRing() {
        // A self-feeding request: the data read would become the next available entries.
        expectViolation(.writableBufferOverlapsRing) { driver in
            driver.chain(queue: 0, self.request(driver, middle: [(driver.queues[0].avail, 512, true)]))
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testStatusByteOnTheUsedRing() {
        expectViolation(.writableBufferOverlapsRing) { driver in
            let header = driver.allocate(16)
            driver.memory.store(UInt32(8), gpa: header)
            driver.chain(queue: 0, [(header, 16, false), (driver.queues[0].used + 0x7F, 1, true)])
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testReadIntoTheDescriptorTable() {
        expectViolation(.writableBufferOverlapsRing) { driver in
            driver.chain(queue: 0, self.request(driver, middle: [(driver.queues[0].desc + 0xF0, 512, true)]))
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testRingMisaligned() {
        expectViolation(.ringOutsideRAM, configure: { $0.queues[0].desc = 0x1008 }) { _ in }
    }

    func testAvailableIndexTooFarAhead() {
        expectViolation(.availableIndexOutOfRange) { driver in
            driver.chain(queue: 0, self.request(driver, middle: []))
            driver.memory.store(UInt16(17), gpa: driver.queues[0].avail + 2)
        }
    }

    func testHeadIndexOutOfRange() {
        expectViolation(.descriptorIndexOutOfRange) { driver in
            driver.makeAvailable(queue: 0, head: 16)
        }
    }

    func testNextIndexOutOfRange() {
        expectViolation(.descriptorIndexOutOfRange) { driver in
            driver.chain(queue: 0, self.request(driver, middle: []))
            driver.memory.store(UInt16(0xFFFF), gpa: driver.queues[0].desc + 14)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testBufferPastTheEndOfRAM() {
        expectViolation(.bufferOutsideRAM) { driver in
            driver.chain(queue: 0, self.request(driver, middle: [(0x40000 - 256, 512, true)]))
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testBufferAddressWraps() {
        expectViolation(.bufferOutsideRAM) { driver in
            driver.chain(queue: 0, self.request(driver, middle: [(UInt64.max - 100, 512, true)]))
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testHugeLength() {
        expectViolation(.bufferOutsideRAM) { driver in
            driver.chain(queue: 0, self.request(driver, middle: [(0x8000, UInt32.max, true)]))
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testChainLoop() {
        expectViolation(.chainTooLong) { driver in
            let header = driver.allocate(16)
            driver.descriptor(table: driver.queues[0].desc, 0, address: header, length: 16, flags: 1, next: 1)
            driver.descriptor(table: driver.queues[0].desc, 1, address: header, length: 16, flags: 1, next: 0)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testIndirectChainLongerThanTheQueue() {
        expectViolation(.chainTooLong, features: version1 | indirect) { driver in
            // 32 entries, each to the next, in an indirect table: longer than the 16-entry queue.
            let table = driver.allocate(32 * 16), data = driver.allocate(16)
            for n in 0..<32 {
                driver.descriptor(table: table, n, address: data, length: 16, flags: n == 31 ? 2 : 1, next: UInt16(n + 1))
            }
            driver.descriptor(table: driver.queues[0].desc, 0, address: table, length: 32 * 16, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testLoopInsideIndirectTable() {
        expectViolation(.chainTooLong, features: version1 | indirect) { driver in
            let table = driver.allocate(32), data = driver.allocate(16)
            driver.descriptor(table: table, 0, address: data, length: 16, flags: 1, next: 1)
            driver.descriptor(table: table, 1, address: data, length: 16, flags: 1, next: 0)
            driver.descriptor(table: driver.queues[0].desc, 0, address: table, length: 32, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testIndirectWithoutTheFeature() {
        expectViolation(.indirectNotAllowed) { driver in
            let table = driver.allocate(48)
            driver.descriptor(table: driver.queues[0].desc, 0, address: table, length: 48, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testIndirectWithNext() {
        expectViolation(.indirectNotAllowed, features: version1 | indirect) { driver in
            let table = driver.allocate(48)
            driver.descriptor(table: driver.queues[0].desc, 0, address: table, length: 48, flags: 5, next: 1)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testIndirectTableOfBadLength() {
        expectViolation(.indirectTableLength, features: version1 | indirect) { driver in
            let table = driver.allocate(48)
            driver.descriptor(table: driver.queues[0].desc, 0, address: table, length: 40, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testEmptyIndirectTable() {
        expectViolation(.indirectTableLength, features: version1 | indirect) { driver in
            driver.descriptor(table: driver.queues[0].desc, 0, address: 0x8000, length: 0, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testIndirectTableOutsideRAM() {
        expectViolation(.bufferOutsideRAM, features: version1 | indirect) { driver in
            driver.descriptor(table: driver.queues[0].desc, 0, address: 0x40000 - 16, length: 48, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testNestedIndirect() {
        expectViolation(.nestedIndirect, features: version1 | indirect) { driver in
            let outer = driver.allocate(16), inner = driver.allocate(48)
            driver.descriptor(table: outer, 0, address: inner, length: 48, flags: 4)
            driver.descriptor(table: driver.queues[0].desc, 0, address: outer, length: 16, flags: 4)
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testReadableAfterWritable() {
        expectViolation(.readableAfterWritable) { driver in
            let header = driver.allocate(16), data = driver.allocate(512), status = driver.allocate(1)
            driver.chain(queue: 0, [(header, 16, false), (status, 1, true), (data, 512, false)])
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testRequestWithoutStatusByte() {
        expectViolation(.malformedRequest) { driver in
            let header = driver.allocate(16)
            driver.chain(queue: 0, [(header, 16, false)])
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    func testShortHeader() {
        expectViolation(.malformedRequest) { driver in
            let header = driver.allocate(16), status = driver.allocate(1)
            driver.chain(queue: 0, [(header, 8, false), (status, 1, true)])
            driver.makeAvailable(queue: 0, head: 0)
        }
    }

    /// The chain walker alone, on every error, without a transport: nothing traps.
    func testEveryErrorIsThrownNotTrapped() throws {
        let driver = TestVirtioDriver()
        var queue = SplitVirtqueue(maxSize: 16)
        queue.size = 16
        queue.descriptorArea = 0x1000
        queue.driverArea = 0x2000
        queue.deviceArea = 0x3000
        try queue.enable(memory: driver.memory, features: version1)
        var chain = VirtqueueChain()
        driver.memory.store(UInt16(0x8000), gpa: 0x2002)  // avail.idx far ahead
        XCTAssertThrowsError(try queue.pop(into: &chain, memory: driver.memory)) {
            XCTAssertEqual($0 as? VirtqueueError, .availableIndexOutOfRange)
        }
        XCTAssertEqual(queue.lastAvailableIndex, 0, "nothing taken")
    }
}
