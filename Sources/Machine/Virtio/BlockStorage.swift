// The medium behind a virtio-blk disk: 512-byte sectors read, written, zeroed and
// flushed. `ATABlockStorage` (memory owned by the caller: a RAM module in the kernel,
// an array in tests) is the RAM implementation; the kernel's `HostDiskStorage` (a region
// of the hypervisor's own ATA disk) and `GuestDiskStorage` (either of the two, chosen per
// VM) conform too, and `ATAChannel` runs on any of them.

public protocol BlockStorage {
    var sectorCount: UInt64 { get }
    /// Reads `buffer.count / 512` sectors from `sector` into `buffer` (a whole number of sectors).
    mutating func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool
    /// Writes `buffer.count / 512` sectors from `buffer` at `sector`.
    mutating func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool
    /// Sets `count` sectors from `sector` to zero.
    mutating func writeZeroes(sector: UInt64, count: UInt64) -> Bool
    /// Returns once every completed write is on the medium.
    mutating func flush() -> Bool
}

extension ATABlockStorage: BlockStorage {
    public func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let count = UInt64(buffer.count / 512)
        guard let base, buffer.count % 512 == 0, contains(lba: sector, count: count) else { return false }
        if count > 0 { buffer.baseAddress!.copyMemory(from: base + Int(sector) &* 512, byteCount: buffer.count) }
        return true
    }

    public func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        let count = UInt64(buffer.count / 512)
        guard let base, buffer.count % 512 == 0, contains(lba: sector, count: count) else { return false }
        if count > 0 { (base + Int(sector) &* 512).copyMemory(from: buffer.baseAddress!, byteCount: buffer.count) }
        return true
    }

    public func writeZeroes(sector: UInt64, count: UInt64) -> Bool {
        guard let base, contains(lba: sector, count: count) else { return false }
        if count > 0 { (base + Int(sector) &* 512).initializeMemory(as: UInt8.self, repeating: 0, count: Int(count) &* 512) }
        return true
    }

    /// RAM is always up to date.
    public func flush() -> Bool { true }
}
