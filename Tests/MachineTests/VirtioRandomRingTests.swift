import XCTest
import Machine

/// Seeded random garbage in the rings and descriptor tables of virtio-blk and virtio-net:
/// whatever the guest writes, the device never traps, never writes outside the VM's RAM
/// (guard bytes) and either completes requests or enters NEEDS_RESET.
final class VirtioRandomRingTests: XCTestCase {
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Mostly plausible values near RAM, sometimes anything.
        mutating func address(ram: UInt64) -> UInt64 {
            switch next() % 8 {
            case 0: return next()
            case 1: return ram - next() % 64
            default: return next() % ram
            }
        }
    }

    /// Fills queue `q`'s descriptor table and available ring with random entries and kicks.
    func scramble<D: Device>(_ driver: TestVirtioDriver, _ device: inout D, queue q: Int, random: inout SplitMix64) {
        let ram = driver.memory.size
        let queue = driver.queues[q]
        for index in 0..<Int(queue.size) {
            let flags = UInt16(truncatingIfNeeded: random.next()) & (random.next() % 4 == 0 ? 0xFFFF : 0x7)
            let length = random.next() % 4 == 0 ? UInt32(truncatingIfNeeded: random.next()) : UInt32(random.next() % 2048)
            driver.descriptor(table: queue.desc, index, address: random.address(ram: ram), length: length, flags: flags,
                              next: UInt16(truncatingIfNeeded: random.next() % 24))
        }
        // Some indirect tables of random entries somewhere in RAM.
        for _ in 0..<4 {
            let table = 0x9000 + (random.next() % 64) * 16
            for index in 0..<8 {
                driver.descriptor(table: table, index, address: random.address(ram: ram), length: UInt32(random.next() % 4096),
                                  flags: UInt16(truncatingIfNeeded: random.next() % 8), next: UInt16(random.next() % 10))
            }
        }
        for _ in 0..<(1 + random.next() % 4) {
            driver.makeAvailable(queue: q, head: UInt16(random.next() % 20))
        }
        if random.next() % 16 == 0 {
            driver.memory.store(UInt16(truncatingIfNeeded: random.next()), gpa: queue.avail + 2)
        }
        driver.kick(&device, queue: q)
    }

    func testRandomBlockRings() {
        var random = SplitMix64(state: 0x5EED_0011)
        var resets = 0, completed = 0
        for round in 0..<300 {
            let driver = TestVirtioDriver(), disk = TestDisk(sectors: 32)
            var device = TestBlockDevice(model: VirtioBlock(storage: disk.storage), memory: driver.memory)
            driver.initialize(&device, features: 1 << 32 | 1 << 28 | (round % 2 == 0 ? 1 << 29 : 0), queueCount: 1)
            for _ in 0..<4 { scramble(driver, &device, queue: 0, random: &random) }
            XCTAssertTrue(driver.guardIntact, "round \(round)")
            if device.status & VirtioStatus.deviceNeedsReset != 0 {
                resets += 1
                XCTAssertGreaterThan(device.malformedCount, 0)
            }
            completed += Int(driver.usedIndex(queue: 0))
            XCTAssertLessThanOrEqual(UInt16(driver.usedIndex(queue: 0)), 16, "never more completions than entries made available")
        }
        // Both outcomes happen: random rings are mostly rejected, some requests complete.
        XCTAssertGreaterThan(resets, 150)
        XCTAssertGreaterThan(completed, 0)
        print("random blk rings: \(resets) of 300 devices reset, \(completed) requests completed")
    }

    func testRandomNetRings() {
        var random = SplitMix64(state: 0x5EED_0022)
        var resets = 0
        for round in 0..<200 {
            let vms = [TestNetVM(), TestNetVM()]
            var devices = [vms[0].makeDevice(mac: [2, 0, 0, 0, 0, 1]), vms[1].makeDevice(mac: [2, 0, 0, 0, 0, 2])]
            var network = VirtualSwitch()
            _ = network.addPort(mac: MACAddress(value: 0x0200_0000_0001)); _ = network.addPort(mac: MACAddress(value: 0x0200_0000_0002))
            scramble(vms[1].driver, &devices[1], queue: 0, random: &random)
            scramble(vms[0].driver, &devices[0], queue: 1, random: &random)
            devices.withUnsafeMutableBufferPointer { _ = network.forward(from: 0, ports: $0) }
            XCTAssertTrue(vms.allSatisfy { $0.driver.guardIntact }, "round \(round)")
            resets += devices.filter { $0.status & VirtioStatus.deviceNeedsReset != 0 }.count
        }
        XCTAssertGreaterThan(resets, 100)
        print("random net rings: \(resets) of 400 devices reset")
    }
}
