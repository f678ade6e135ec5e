// The medium behind an ATA disk: raw memory owned by the caller (a Multiboot
// module or RAM outside the guest in the kernel, an mmap'd image in the hosted
// engine, an array in tests), addressed in 512-byte sectors.

/// One sector as the ATA data port sees it: 256 little-endian words.
public typealias ATASectorWords = InlineArray<256, UInt16>

/// `sectorCount` sectors of 512 bytes at `base`. The storage does not own the
/// memory; the owner keeps it alive and writable for as long as the disk is in use.
public struct ATABlockStorage {
    public static var sectorSize: Int { 512 }
    public static var wordsPerSector: Int { 256 }

    /// The first byte of sector 0; nil for an empty medium.
    public let base: UnsafeMutableRawPointer?
    public let sectorCount: UInt64

    /// `sectorCount` sectors at `base`.
    public init(base: UnsafeMutableRawPointer, sectorCount: UInt64) {
        precondition(sectorCount <= UInt64(Int.max) / 512, "disk image larger than the address space")
        self.base = base
        self.sectorCount = sectorCount
    }

    /// The whole sectors of `buffer`; a trailing partial sector is not used.
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.base = buffer.baseAddress
        self.sectorCount = buffer.baseAddress == nil ? 0 : UInt64(buffer.count / 512)
    }

    /// Whether sectors `[lba, lba + count)` all exist (overflow-safe).
    @inline(__always)
    public func contains(lba: UInt64, count: UInt64) -> Bool {
        count <= sectorCount && lba <= sectorCount &- count
    }

    /// Copies sector `lba` into `words`; false (and `words` untouched) when out of range.
    public func read(sector lba: UInt64, into words: inout ATASectorWords) -> Bool {
        guard let base, lba < sectorCount else { return false }
        let start = UnsafeRawPointer(base + Int(lba) &* 512)
        // One bulk copy: the sector is the data port's words in little-endian order.
        // (Element-wise access to an InlineArray parameter copies the whole array per
        // element at -Osize: 256 copies of 512 bytes, tens of thousands of instructions
        // in the VM-exit path.)
        withUnsafeMutableBytes(of: &words) { bytes in
            bytes.baseAddress!.copyMemory(from: start, byteCount: 512)
        }
        #if _endian(big)
        var index = 0
        while index < 256 { words[index] = UInt16(littleEndian: words[index]); index &+= 1 }
        #endif
        return true
    }

    /// Stores `words` as sector `lba`; false (and nothing written) when out of range.
    public func write(sector lba: UInt64, from words: borrowing ATASectorWords) -> Bool {
        guard let base, lba < sectorCount else { return false }
        let start = base + Int(lba) &* 512
        withUnsafeBytes(of: words) { bytes in
            start.copyMemory(from: bytes.baseAddress!, byteCount: 512)
        }
        #if _endian(big)
        var index = 0
        while index < 256 {
            start.storeBytes(of: words[index].littleEndian, toByteOffset: index &* 2, as: UInt16.self)
            index &+= 1
        }
        #endif
        return true
    }
}
