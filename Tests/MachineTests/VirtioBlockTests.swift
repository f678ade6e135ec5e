import XCTest
import Machine

final class VirtioBlockTests: XCTestCase {
    let version1: UInt64 = 1 << 32
    let indirect: UInt64 = 1 << 28

    struct Rig {
        let driver = TestVirtioDriver(ramSize: 0x20_0000)
        let disk: TestDisk
        var device: TestBlockDevice
        init(readOnly: Bool = false, features: UInt64, sectors: Int = 64) {
            disk = TestDisk(sectors: sectors)
            device = TestBlockDevice(model: VirtioBlock(storage: disk.storage, readOnly: readOnly, serial: "vda-serial"),
                                     memory: driver.memory)
            driver.initialize(&device, features: features, queueCount: 1)
        }
        /// Sends one request made of `buffers` at descriptor 0 and returns its used element.
        mutating func submit(_ buffers: [(address: UInt64, length: UInt32, writable: Bool)]) -> (id: UInt32, length: UInt32) {
            driver.chain(queue: 0, buffers)
            driver.makeAvailable(queue: 0, head: 0)
            let before = driver.usedIndex(queue: 0)
            driver.kick(&device, queue: 0)
            XCTAssertEqual(driver.usedIndex(queue: 0), before &+ 1, "one request completed")
            return driver.usedElement(queue: 0, before)
        }
        func header(type: UInt32, sector: UInt64) -> UInt64 {
            let address = driver.allocate(16)
            driver.memory.store(type, gpa: address)
            driver.memory.store(UInt32(0), gpa: address + 4)
            driver.memory.store(sector, gpa: address + 8)
            return address
        }
        func status(_ address: UInt64) -> UInt8 { driver.memory.load(UInt8.self, gpa: address)! }
    }

    func testCapacityAndConfig() {
        var rig = Rig(features: version1)
        XCTAssertEqual(rig.device.read(offset: 0x2000, size: 8), 64, "capacity in sectors")
        XCTAssertEqual(rig.device.read(offset: 0x2000, size: 4), 64)
        XCTAssertEqual(rig.device.read(offset: 0x2004, size: 4), 0)
        XCTAssertEqual(rig.device.read(offset: 0x200C, size: 4), 126, "seg_max")
        XCTAssertEqual(rig.device.read(offset: 0x2014, size: 4), 512, "blk_size")
        XCTAssertEqual(rig.device.read(offset: 0x2100, size: 4), 0, "past the config")
    }

    func testReadSectors() {
        var rig = Rig(features: version1)
        let header = rig.header(type: 0, sector: 5), data = rig.driver.allocate(1024), status = rig.driver.allocate(1)
        rig.driver.memory.store(UInt8(0xEE), gpa: status)
        let used = rig.submit([(header, 16, false), (data, 1024, true), (status, 1, true)])
        XCTAssertEqual(used.id, 0)
        XCTAssertEqual(used.length, 1025, "data and status written")
        XCTAssertEqual(rig.status(status), 0)
        XCTAssertEqual(rig.driver.bytes(at: data, count: 512), rig.disk.sector(5))
        XCTAssertEqual(rig.driver.bytes(at: data + 512, count: 512), rig.disk.sector(6))
        XCTAssertEqual(rig.device.model.counters.bytesRead, 1024)
    }

    func testWriteSectorsSplitAcrossUnalignedBuffers() {
        var rig = Rig(features: version1)
        // 1024 bytes in pieces of 100, 700, 224: sectors straddle the guest buffers.
        let pieces: [UInt32] = [100, 700, 224]
        var buffers: [(address: UInt64, length: UInt32, writable: Bool)] = [(rig.header(type: 1, sector: 10), 16, false)]
        var expected: [UInt8] = []
        for (n, length) in pieces.enumerated() {
            let address = rig.driver.allocate(Int(length))
            let bytes = (0..<Int(length)).map { UInt8(truncatingIfNeeded: $0 * 7 + n) }
            rig.driver.ram.put(bytes, at: Int(address))
            expected += bytes
            buffers.append((address, length, false))
        }
        let status = rig.driver.allocate(1)
        buffers.append((status, 1, true))
        let used = rig.submit(buffers)
        XCTAssertEqual(used.length, 1)
        XCTAssertEqual(rig.status(status), 0)
        XCTAssertEqual(rig.disk.sector(10) + rig.disk.sector(11), expected)
        // Read it back through unaligned buffers, with the status byte in the last data buffer.
        let a = rig.driver.allocate(300), b = rig.driver.allocate(725)
        let back = rig.submit([(rig.header(type: 0, sector: 10), 16, false), (a, 300, true), (b, 725, true)])
        XCTAssertEqual(back.length, 1025)
        XCTAssertEqual(rig.driver.bytes(at: a, count: 300) + rig.driver.bytes(at: b, count: 724), expected)
        XCTAssertEqual(rig.status(b + 724), 0)
    }

    func testIndirectDescriptors() {
        var rig = Rig(features: version1 | indirect)
        let table = rig.driver.allocate(48)
        let header = rig.header(type: 0, sector: 63), data = rig.driver.allocate(512), status = rig.driver.allocate(1)
        rig.driver.descriptor(table: table, 0, address: header, length: 16, flags: 1, next: 1)
        rig.driver.descriptor(table: table, 1, address: data, length: 512, flags: 3, next: 2)
        rig.driver.descriptor(table: table, 2, address: status, length: 1, flags: 2)
        rig.driver.descriptor(table: rig.driver.queues[0].desc, 0, address: table, length: 48, flags: 4)
        rig.driver.makeAvailable(queue: 0, head: 0)
        rig.driver.kick(&rig.device, queue: 0)
        XCTAssertEqual(rig.driver.usedElement(queue: 0, 0).length, 513)
        XCTAssertEqual(rig.status(status), 0)
        XCTAssertEqual(rig.driver.bytes(at: data, count: 512), rig.disk.sector(63))
    }

    func testOutOfRangeFlushGetIDAndUnsupported() {
        var rig = Rig(features: version1)
        let data = rig.driver.allocate(1024), status = rig.driver.allocate(1)
        _ = rig.submit([(rig.header(type: 0, sector: 63), 16, false), (data, 1024, true), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 1, "sector 64 is past the end: IOERR")
        _ = rig.submit([(rig.header(type: 0, sector: .max), 16, false), (data, 512, true), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 1, "sector + count wraps: IOERR")
        _ = rig.submit([(rig.header(type: 0, sector: 0), 16, false), (data, 100, true), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 1, "not a whole number of sectors: IOERR")
        _ = rig.submit([(rig.header(type: 4, sector: 0), 16, false), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 0, "FLUSH")
        XCTAssertEqual(rig.device.model.counters.flushes, 1)
        let id = rig.submit([(rig.header(type: 8, sector: 0), 16, false), (data, 20, true), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 0)
        XCTAssertEqual(id.length, 21)
        XCTAssertEqual(rig.driver.bytes(at: data, count: 20), Array("vda-serial".utf8) + [UInt8](repeating: 0, count: 10))
        _ = rig.submit([(rig.header(type: 99, sector: 0), 16, false), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 2, "UNSUPP")
        XCTAssertEqual(rig.device.status & VirtioStatus.deviceNeedsReset, 0, "request errors are not ring errors")
    }

    func testWriteZeroesAndDiscard() {
        var rig = Rig(features: version1)
        let segment = rig.driver.allocate(16), status = rig.driver.allocate(1)
        rig.driver.memory.store(UInt64(3), gpa: segment)
        rig.driver.memory.store(UInt32(2), gpa: segment + 8)
        rig.driver.memory.store(UInt32(0), gpa: segment + 12)
        _ = rig.submit([(rig.header(type: 13, sector: 0), 16, false), (segment, 16, false), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 0)
        XCTAssertEqual(rig.disk.sector(3), [UInt8](repeating: 0, count: 512))
        XCTAssertEqual(rig.disk.sector(4), [UInt8](repeating: 0, count: 512))
        XCTAssertNotEqual(rig.disk.sector(5), [UInt8](repeating: 0, count: 512))
        rig.driver.memory.store(UInt64(62), gpa: segment)
        rig.driver.memory.store(UInt32(4), gpa: segment + 8)
        _ = rig.submit([(rig.header(type: 11, sector: 0), 16, false), (segment, 16, false), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 1, "discard past the end")
    }

    func testReadOnlyDisk() {
        var rig = Rig(readOnly: true, features: version1 | 1 << 5)
        XCTAssertEqual(rig.device.negotiatedFeatures & (1 << 5), 1 << 5, "VIRTIO_BLK_F_RO offered")
        let before = rig.disk.sector(0)
        let data = rig.driver.allocate(512), status = rig.driver.allocate(1)
        rig.driver.ram.put([UInt8](repeating: 0x55, count: 512), at: Int(data))
        _ = rig.submit([(rig.header(type: 1, sector: 0), 16, false), (data, 512, false), (status, 1, true)])
        XCTAssertEqual(rig.status(status), 1, "write to a read-only disk: IOERR")
        XCTAssertEqual(rig.disk.sector(0), before)
    }

    func testManyRequestsInOneKick() {
        var rig = Rig(features: version1)
        let status = rig.driver.allocate(16)
        var datas: [UInt64] = []
        for n in 0..<5 {
            let data = rig.driver.allocate(512)
            datas.append(data)
            rig.driver.chain(queue: 0, first: n * 3, [(rig.header(type: 0, sector: UInt64(n)), 16, false), (data, 512, true), (status + UInt64(n), 1, true)])
            rig.driver.makeAvailable(queue: 0, head: UInt16(n * 3))
        }
        rig.driver.kick(&rig.device, queue: 0)
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 5)
        for n in 0..<5 {
            XCTAssertEqual(rig.driver.usedElement(queue: 0, UInt16(n)).id, UInt32(n * 3))
            XCTAssertEqual(rig.driver.bytes(at: datas[n], count: 512), rig.disk.sector(n))
        }
    }

    /// Budgeted processing goes on with `continueDeferredWork` until nothing is deferred; returns
    /// how many calls that took.
    func finishDeferred(_ rig: inout Rig, limit: Int = 1000) -> Int {
        var calls = 0
        while rig.device.hasDeferredWork && calls < limit {
            rig.device.continueDeferredWork()
            calls += 1
        }
        return calls
    }

    func testLargeReadCompletesInPartsAcrossCalls() {
        // 512 KiB in four 128 KiB buffers: one exit's budget moves a quarter of it.
        var rig = Rig(features: version1, sectors: 2048)
        rig.driver.nextBuffer = 0x10000
        let header = rig.header(type: 0, sector: 100)
        let buffers = (0..<4).map { _ in rig.driver.allocate(128 * 1024) }, status = rig.driver.allocate(1)
        rig.driver.memory.store(UInt8(0xEE), gpa: status)
        rig.driver.chain(queue: 0, [(header, 16, false)] + buffers.map { ($0, UInt32(128 * 1024), true) } + [(status, 1, true)])
        rig.driver.makeAvailable(queue: 0, head: 0)
        rig.driver.kick(&rig.device, queue: 0)
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 0, "not complete after one exit's budget")
        XCTAssertTrue(rig.device.hasDeferredWork)
        XCTAssertEqual(rig.status(status), 0xEE, "the status byte is written last")
        XCTAssertEqual(rig.driver.bytes(at: buffers[0], count: 512), rig.disk.sector(100), "the first part is there")
        XCTAssertEqual(finishDeferred(&rig), 3, "three more exits of 128 KiB each")
        XCTAssertEqual(rig.device.continuations, 3)
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 1)
        XCTAssertEqual(rig.driver.usedElement(queue: 0, 0).length, 512 * 1024 + 1)
        XCTAssertEqual(rig.status(status), 0)
        for n in [0, 255, 256, 700, 1023] {
            XCTAssertEqual(rig.driver.bytes(at: buffers[n / 256] + UInt64(n % 256) * 512, count: 512), rig.disk.sector(100 + n), "sector \(n)")
        }
        XCTAssertEqual(rig.device.model.counters.reads, 1)
        XCTAssertEqual(rig.device.model.counters.bytesRead, 512 * 1024)
        XCTAssertTrue(rig.driver.usedIndex(queue: 0) == 1 && rig.device.interruptAsserted, "one interrupt at the end")
    }

    func testLargeWriteZeroesIsDoneInParts() {
        // 1,000 sectors zeroed: 256 per exit, so four exits.
        var rig = Rig(features: version1, sectors: 2048)
        let header = rig.header(type: 13, sector: 0), segment = rig.driver.allocate(16), status = rig.driver.allocate(1)
        rig.driver.memory.store(UInt64(500), gpa: segment)
        rig.driver.memory.store(UInt32(1000), gpa: segment + 8)
        rig.driver.memory.store(UInt32(0), gpa: segment + 12)
        rig.driver.chain(queue: 0, [(header, 16, false), (segment, 16, false), (status, 1, true)])
        rig.driver.makeAvailable(queue: 0, head: 0)
        rig.driver.kick(&rig.device, queue: 0)
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 0)
        XCTAssertEqual(rig.disk.sector(500), [UInt8](repeating: 0, count: 512))
        XCTAssertNotEqual(rig.disk.sector(500 + 256), [UInt8](repeating: 0, count: 512), "past the first exit's budget")
        XCTAssertEqual(finishDeferred(&rig), 3)
        XCTAssertEqual(rig.status(status), 0)
        XCTAssertEqual(rig.disk.sector(1499), [UInt8](repeating: 0, count: 512))
        XCTAssertNotEqual(rig.disk.sector(1500), [UInt8](repeating: 0, count: 512), "not one sector more")
        XCTAssertNotEqual(rig.disk.sector(499), [UInt8](repeating: 0, count: 512), "not one sector before")
    }

    func testFullQueueIsTakenAFewRequestsPerExit() {
        // 16 requests with one kick, each a 64 KiB write: two per exit's 128 KiB.
        var rig = Rig(features: version1, sectors: 4096)
        rig.driver.nextBuffer = 0x10000
        let data = rig.driver.allocate(64 * 1024)
        for n in 0..<16 {
            let header = rig.header(type: 1, sector: UInt64(n) * 128), status = rig.driver.allocate(1)
            rig.driver.chain(queue: 0, first: 0, [(header, 16, false), (data, 64 * 1024, false), (status, 1, true)])
            // Each request has its own descriptors: copy the chain into slots 3n...
            for d in 0..<3 {
                let from = rig.driver.queues[0].desc + UInt64(d) * 16, to = rig.driver.queues[0].desc + UInt64(3 * (n % 5) + d) * 16
                if n % 5 != 0 { rig.driver.ram.put(rig.driver.bytes(at: from, count: 16), at: Int(to)) }
            }
            let base = UInt16(3 * (n % 5))
            rig.driver.memory.store(base + 1, gpa: rig.driver.queues[0].desc + UInt64(base) * 16 + 14)
            rig.driver.memory.store(base + 2, gpa: rig.driver.queues[0].desc + UInt64(base + 1) * 16 + 14)
            rig.driver.makeAvailable(queue: 0, head: base)
            if n % 5 == 4 || n == 15 {
                rig.driver.kick(&rig.device, queue: 0)
                _ = finishDeferred(&rig)
            }
        }
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 16)
        XCTAssertEqual(rig.device.model.counters.writes, 16)
        XCTAssertGreaterThanOrEqual(rig.device.continuations, 6, "at most two 64 KiB requests per exit")
    }

    func testRequestCountBoundsOneExit() {
        // 16 zero-length reads in one kick with a budget of 5 requests: three calls, 5 + 5 + 5 + 1.
        var rig = Rig(features: version1)
        for n in 0..<16 {
            let header = rig.header(type: 0, sector: 0), status = rig.driver.allocate(1)
            rig.driver.descriptor(table: rig.driver.queues[0].desc, 2 * n, address: header, length: 16, flags: 1, next: UInt16(2 * n + 1) % 16)
            rig.driver.descriptor(table: rig.driver.queues[0].desc, (2 * n + 1) % 16, address: status, length: 1, flags: 2)
            if n < 8 { rig.driver.makeAvailable(queue: 0, head: UInt16(2 * n)) }
        }
        var queue = rig.device.queue(0)!
        var chain = VirtqueueChain()
        var budget = DeviceWorkBudget(requests: 5)
        var model = rig.device.model
        XCTAssertEqual(try model.process(queue: 0, &queue, chain: &chain, memory: rig.driver.memory, budget: &budget), .budgetSpent)
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 5)
        budget = DeviceWorkBudget(requests: 5)
        XCTAssertEqual(try model.process(queue: 0, &queue, chain: &chain, memory: rig.driver.memory, budget: &budget), .drained)
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 8)
        XCTAssertEqual(model.counters.reads, 8)
    }

    func testResetDropsARequestInProgress() {
        var rig = Rig(features: version1, sectors: 2048)
        rig.driver.nextBuffer = 0x10000
        let header = rig.header(type: 0, sector: 0), data = rig.driver.allocate(256 * 1024), status = rig.driver.allocate(1)
        rig.driver.chain(queue: 0, [(header, 16, false), (data, 256 * 1024, true), (status, 1, true)])
        rig.driver.makeAvailable(queue: 0, head: 0)
        rig.driver.kick(&rig.device, queue: 0)
        XCTAssertTrue(rig.device.hasDeferredWork)
        rig.device.write(offset: 0x14, size: 1, value: 0)
        XCTAssertFalse(rig.device.hasDeferredWork, "reset: nothing left to go on with")
        rig.device.continueDeferredWork()
        XCTAssertEqual(rig.driver.usedIndex(queue: 0), 0, "the dropped request is never completed")
        // A malformed ring while work is deferred ends the deferral too.
        rig.driver.queues[0].availIndex = 0
        XCTAssertEqual(rig.driver.initialize(&rig.device, features: version1, queueCount: 1), 0xF)
        rig.driver.makeAvailable(queue: 0, head: 0)
        rig.driver.kick(&rig.device, queue: 0)
        XCTAssertTrue(rig.device.hasDeferredWork)
        rig.driver.memory.store(UInt16(100), gpa: rig.driver.queues[0].avail + 2)
        rig.device.continueDeferredWork()
        rig.device.continueDeferredWork()
        XCTAssertEqual(rig.device.lastError, .availableIndexOutOfRange)
        XCTAssertFalse(rig.device.hasDeferredWork)
    }
}
