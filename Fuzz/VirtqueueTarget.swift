// libFuzzer target: a virtio-blk device over the PCI transport fed rings a guest made up.
// The input is the guest's RAM (descriptor tables, available rings, request headers, the
// indirect tables and buffers all come from it) and a few transport writes: queue size and
// ring addresses, features, kicks, and calls that go on with deferred work.
//
// Input: [queue size selector] [desc, avail, used: 2 bytes each, in 16-byte units] [features]
//   [steps: a byte each - bit 0 kick / go on with deferred work, bit 1 reset and set up again]
//   [RAM image: the rest, at guest-physical 0].
// Invariants: nothing outside guest RAM is written (a guard page after it stays intact), one
// call never does more than one exit's budget (storage bytes and requests counted by the
// storage), the used ring only moves forward by at most the queue size, and deferred work on
// a 64-sector disk ends after a handful of calls (nothing feeds the ring back).
import Machine
#if canImport(Glibc)
import Glibc
#endif

/// A 64-sector RAM disk that counts what each call asks of it.
struct CountingStorage: BlockStorage {
    nonisolated(unsafe) static var bytes: UInt64 = 0
    nonisolated(unsafe) static var disk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 512, alignment: 16)
    var inner = ATABlockStorage(base: UnsafeMutableRawPointer(disk.baseAddress!), sectorCount: 64)

    var sectorCount: UInt64 { inner.sectorCount }
    mutating func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        Self.bytes &+= UInt64(buffer.count)
        return inner.read(sector: sector, into: buffer)
    }
    mutating func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        Self.bytes &+= UInt64(buffer.count)
        return inner.write(sector: sector, from: buffer)
    }
    mutating func writeZeroes(sector: UInt64, count: UInt64) -> Bool {
        Self.bytes &+= count &* 512
        return inner.writeZeroes(sector: sector, count: count)
    }
    mutating func flush() -> Bool { true }
}

let ramSize = 64 << 10
let guardSize = 4096
nonisolated(unsafe) let ramBuffer = UnsafeMutableRawPointer.allocate(byteCount: ramSize + guardSize, alignment: 4096)

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let sizes: [UInt16] = [1, 2, 4, 8, 16, 32, 64, 128, 3, 0, 256]
    let size = sizes[Int(input.byte()) % sizes.count]
    let desc = UInt64(input.integer(UInt16.self)) &* 16 % UInt64(ramSize + 64)
    let avail = UInt64(input.integer(UInt16.self)) &* 2 % UInt64(ramSize + 64)
    let used = UInt64(input.integer(UInt16.self)) &* 4 % UInt64(ramSize + 64)
    let features = UInt64(input.byte())
    let steps = input.take(16)
    let image = input.rest()
    ramBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: ramSize)
    ramBuffer.advanced(by: ramSize).initializeMemory(as: UInt8.self, repeating: 0xA5, count: guardSize)
    if image.count > 0 { ramBuffer.copyMemory(from: image.baseAddress!, byteCount: min(image.count, ramSize)) }
    let memory = GuestMemory(base: ramBuffer, size: UInt64(ramSize))
    var device = VirtioPCIDevice(model: VirtioBlock(storage: CountingStorage()), memory: memory)

    func setUp() {
        device.write(offset: 0x14, size: 1, value: 0)
        for status: UInt64 in [1, 3] { device.write(offset: 0x14, size: 1, value: status) }
        device.write(offset: 0x08, size: 4, value: 0)
        device.write(offset: 0x0C, size: 4, value: (features & 1 != 0 ? 1 << 28 : 0) | (features & 2 != 0 ? 1 << 29 : 0))
        device.write(offset: 0x08, size: 4, value: 1)
        device.write(offset: 0x0C, size: 4, value: 1)
        device.write(offset: 0x14, size: 1, value: 0xB)
        device.write(offset: 0x16, size: 2, value: 0)
        device.write(offset: 0x18, size: 2, value: UInt64(size))
        device.write(offset: 0x20, size: 8, value: desc)
        device.write(offset: 0x28, size: 8, value: avail)
        device.write(offset: 0x30, size: 8, value: used)
        device.write(offset: 0x1C, size: 2, value: 1)
        device.write(offset: 0x14, size: 1, value: 0xF)
    }
    setUp()
    for step in steps {
        if step & 2 != 0 { setUp() }
        // The device's own count of used entries (guest RAM's used.idx may hold what an earlier,
        // reset queue left there).
        let usedBefore = device.queue(0)?.usedIndex ?? 0
        CountingStorage.bytes = 0
        if step & 1 == 0 { device.write(offset: 0x3000, size: 2, value: 0) } else { device.continueDeferredWork() }
        fuzzCheck(CountingStorage.bytes <= DeviceWorkBudget.bytesPerExit,
                  "one call moved \(CountingStorage.bytes) bytes (budget \(DeviceWorkBudget.bytesPerExit))")
        let completed = (device.queue(0)?.usedIndex ?? 0) &- usedBefore
        fuzzCheck(completed <= UInt16(DeviceWorkBudget.requestsPerExit), "one call completed \(completed) requests")
    }
    // With nothing feeding the ring, deferred work on a 64-sector disk ends: at most one
    // request per budget of 32 for every entry of the queue.
    var calls = 0
    while device.hasDeferredWork && calls < 16 {
        device.continueDeferredWork()
        calls += 1
    }
    fuzzCheck(!device.hasDeferredWork, "work still deferred after 16 calls")
    for offset in 0..<guardSize {
        fuzzCheck(ramBuffer.load(fromByteOffset: ramSize + offset, as: UInt8.self) == 0xA5, "a write past RAM at +\(offset)")
    }
}

func seedImages() -> [(String, [UInt8])] {
    // Queue of 16 at 0x1000/0x2000/0x3000, one READ of sector 1 into 0x4000, status at 0x5000.
    var ram = [UInt8](repeating: 0, count: 0x6000)
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { ram[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    let descriptors: [(UInt64, UInt32, UInt16)] = [(0x4800, 16, 1), (0x4000, 1024, 3), (0x5000, 1, 2)]
    for (n, d) in descriptors.enumerated() {
        put(d.0, at: 0x1000 + 16 * n); put(d.1, at: 0x1008 + 16 * n); put(d.2, at: 0x100C + 16 * n)
        put(UInt16(n + 1), at: 0x100E + 16 * n)
    }
    put(UInt32(0), at: 0x4800); put(UInt64(1), at: 0x4808)
    put(UInt16(1), at: 0x2002); put(UInt16(0), at: 0x2004)
    let prefix: [UInt8] = [4, 0x00, 0x01, 0x00, 0x10, 0x00, 0x0C, 0] + [0, 1, 0, 1, 2, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    let read = ram
    put(UInt64(0x2000), at: 0x1010)      // the read lands on the available ring
    return [("read", seed(prefix, read)), ("self-feeding", seed(prefix, ram))]
}
