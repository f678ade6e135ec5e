import XCTest
import Machine

/// One split virtqueue as a test driver lays it out in guest RAM.
struct TestQueue {
    var desc: UInt64
    var avail: UInt64
    var used: UInt64
    var size: UInt16
    var availIndex: UInt16 = 0
    var usedSeen: UInt16 = 0
}

/// A minimal virtio driver over the modern PCI transport (what Linux's virtio_pci_modern
/// does), with its rings in a TestRAM whose last `guard` bytes lie outside the VM's RAM.
final class TestVirtioDriver {
    static let guardBytes = 0x1000
    let ram: TestRAM
    let memory: GuestMemory
    var queues: [TestQueue] = []
    var nextBuffer: UInt64 = 0x8000

    init(ramSize: Int = 0x40000) {
        ram = TestRAM(size: ramSize + Self.guardBytes)
        ram.pointer.advanced(by: ramSize).initializeMemory(as: UInt8.self, repeating: 0xA5, count: Self.guardBytes)
        memory = GuestMemory(base: ram.pointer, size: UInt64(ramSize))
        queues = [TestQueue(desc: 0x1000, avail: 0x2000, used: 0x3000, size: 16),
                  TestQueue(desc: 0x4000, avail: 0x5000, used: 0x6000, size: 16)]
    }

    /// The bytes past the VM's RAM are as they were.
    var guardIntact: Bool {
        (0..<Self.guardBytes).allSatisfy { ram.pointer.load(fromByteOffset: Int(memory.size) + $0, as: UInt8.self) == 0xA5 }
    }

    func common<D: Device>(_ device: inout D, _ offset: UInt64, _ size: Int) -> UInt64 {
        device.read(offset: offset, size: size)
    }

    /// Device initialization (§3.1.1) with `features`; returns the status read back.
    @discardableResult
    func initialize<D: Device>(_ device: inout D, features: UInt64, queueCount: Int, driverOK: Bool = true) -> UInt8 {
        device.write(offset: 0x14, size: 1, value: 0)
        device.write(offset: 0x14, size: 1, value: 1)
        device.write(offset: 0x14, size: 1, value: 3)
        device.write(offset: 0x08, size: 4, value: 0)
        device.write(offset: 0x0C, size: 4, value: features & 0xFFFF_FFFF)
        device.write(offset: 0x08, size: 4, value: 1)
        device.write(offset: 0x0C, size: 4, value: features >> 32)
        device.write(offset: 0x14, size: 1, value: 0xB)
        guard device.read(offset: 0x14, size: 1) & 8 != 0 else { return UInt8(device.read(offset: 0x14, size: 1)) }
        for index in 0..<queueCount {
            let queue = queues[index]
            device.write(offset: 0x16, size: 2, value: UInt64(index))
            device.write(offset: 0x18, size: 2, value: UInt64(queue.size))
            device.write(offset: 0x20, size: 4, value: queue.desc & 0xFFFF_FFFF)
            device.write(offset: 0x24, size: 4, value: queue.desc >> 32)
            device.write(offset: 0x28, size: 8, value: queue.avail)
            device.write(offset: 0x30, size: 8, value: queue.used)
            device.write(offset: 0x1C, size: 2, value: 1)
        }
        if driverOK { device.write(offset: 0x14, size: 1, value: 0xF) }
        return UInt8(device.read(offset: 0x14, size: 1))
    }

    func descriptor(table: UInt64, _ index: Int, address: UInt64, length: UInt32, flags: UInt16, next: UInt16 = 0) {
        let entry = table + UInt64(index) * 16
        memory.store(address, gpa: entry)
        memory.store(length, gpa: entry + 8)
        memory.store(flags, gpa: entry + 12)
        memory.store(next, gpa: entry + 14)
    }

    /// Writes a chain of `buffers` at descriptors `first...` of queue `q`'s table (NEXT-linked).
    func chain(queue q: Int, first: Int = 0, _ buffers: [(address: UInt64, length: UInt32, writable: Bool)]) {
        for (offset, buffer) in buffers.enumerated() {
            let last = offset == buffers.count - 1
            descriptor(table: queues[q].desc, first + offset, address: buffer.address, length: buffer.length,
                       flags: (last ? 0 : 1) | (buffer.writable ? 2 : 0), next: UInt16(first + offset + 1))
        }
    }

    /// Puts `head` in queue `q`'s available ring and publishes it.
    func makeAvailable(queue q: Int, head: UInt16) {
        let queue = queues[q]
        memory.store(head, gpa: queue.avail + 4 + 2 * UInt64(queue.availIndex % queue.size))
        queues[q].availIndex &+= 1
        memory.store(queues[q].availIndex, gpa: queue.avail + 2)
    }

    func usedIndex(queue q: Int) -> UInt16 { memory.load(UInt16.self, gpa: queues[q].used + 2)! }

    /// The used-ring element `n`.
    func usedElement(queue q: Int, _ n: UInt16) -> (id: UInt32, length: UInt32) {
        let element = queues[q].used + 4 + 8 * UInt64(n % queues[q].size)
        return (memory.load(UInt32.self, gpa: element)!, memory.load(UInt32.self, gpa: element + 4)!)
    }

    func kick<D: Device>(_ device: inout D, queue q: Int) {
        device.write(offset: 0x3000 + 4 * UInt64(q), size: 2, value: UInt64(q))
    }

    /// A fresh buffer of `length` bytes in RAM (16-byte aligned).
    func allocate(_ length: Int) -> UInt64 {
        let address = nextBuffer
        nextBuffer += UInt64((length + 15) & ~15)
        return address
    }

    func bytes(at gpa: UInt64, count: Int) -> [UInt8] {
        Array(memory.bytes(gpa: gpa, length: UInt64(count))!)
    }
}

/// A disk image in host memory.
final class TestDisk {
    let pointer: UnsafeMutableRawPointer
    let sectors: Int
    init(sectors: Int) {
        self.sectors = sectors
        pointer = UnsafeMutableRawPointer.allocate(byteCount: sectors * 512, alignment: 16)
        for index in 0..<(sectors * 512) { pointer.storeBytes(of: UInt8(truncatingIfNeeded: index / 512 &+ index), toByteOffset: index, as: UInt8.self) }
    }
    deinit { pointer.deallocate() }
    var storage: ATABlockStorage { ATABlockStorage(base: pointer, sectorCount: UInt64(sectors)) }
    func sector(_ n: Int) -> [UInt8] { Array(UnsafeRawBufferPointer(start: pointer + n * 512, count: 512)) }
}

/// `body` applied to a mutable copy of `value` (for the `mutating` accessors of a returned value).
func inspect<T, R>(_ value: T, _ body: (inout T) -> R) -> R {
    var copy = value
    return body(&copy)
}
