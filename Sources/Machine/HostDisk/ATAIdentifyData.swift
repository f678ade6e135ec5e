// What the host drivers (legacy IDE PIO and AHCI) need from an ATA device's IDENTIFY DEVICE
// data (ATA/ATAPI-8 ACS 7.16, table "IDENTIFY DEVICE data"): 256 little-endian words the
// drive reports. The drive is hardware the hypervisor does not trust blindly: a packet
// device, a drive without LBA or with zero sectors is refused here, not used.

/// The parsed IDENTIFY DEVICE words.
public struct ATAIdentifyData: Equatable, Sendable {
    /// User-addressable sectors: words 100–103 with the 48-bit feature set, else 60–61.
    public let sectorCount: UInt64
    /// The 48-bit address feature set is supported (word 83 bit 10, word 83 bits 15:14 = 01b).
    public let lba48: Bool
    /// FLUSH CACHE EXT is supported (word 83 bit 13, only with LBA48).
    public let flushCacheExt: Bool
    /// Model number, words 27–46, trailing spaces removed, non-printable bytes as '?'.
    public let model: String

    /// Why IDENTIFY data is refused.
    public enum Refusal: Error, Equatable {
        /// Word 0 bit 15 set: an ATAPI (packet) device, not a disk.
        case notATA
        /// Word 49 bit 9 clear: no LBA (CHS only), which ACS made mandatory.
        case noLBA
        /// The capacity words say 0 sectors.
        case noSectors
    }

    /// Parses `words` (at least 256; fewer is `noSectors`).
    public init(words: UnsafeBufferPointer<UInt16>) throws(Refusal) {
        guard words.count >= 256 else { throw .noSectors }
        guard words[0] & 0x8000 == 0 else { throw .notATA }
        guard words[49] & 0x0200 != 0 else { throw .noLBA }
        // Word 83: bit 14 must be one and bit 15 zero for the word to be valid (ACS 7.16.7.42).
        let word83Valid = words[83] & 0xC000 == 0x4000
        lba48 = word83Valid && words[83] & 0x0400 != 0
        flushCacheExt = lba48 && words[83] & 0x2000 != 0
        var count = UInt64(words[60]) | UInt64(words[61]) << 16
        if lba48 {
            count = UInt64(words[100]) | UInt64(words[101]) << 16 | UInt64(words[102]) << 32 | UInt64(words[103]) << 48
            // The 48-bit capacity reaches at most 2^48 sectors (ACS 4.12: LBA is 48 bits).
            count = min(count, 1 << 48)
        }
        guard count > 0 else { throw .noSectors }
        sectorCount = count
        model = Self.string(words, from: 27, through: 46)
    }

    /// Convenience for tests and callers holding the words in an array.
    public init(words: [UInt16]) throws(Refusal) {
        let parsed = words.withUnsafeBufferPointer { buffer in
            Result { () throws(Refusal) in try ATAIdentifyData(words: buffer) }
        }
        self = try parsed.get()
    }

    /// An ATA string: two characters per word, the first in bits 15:8 (ACS 3.4.9).
    static func string(_ words: UnsafeBufferPointer<UInt16>, from first: Int, through last: Int) -> String {
        var bytes: [UInt8] = []
        var index = first
        while index <= last {
            for byte in [UInt8(truncatingIfNeeded: words[index] >> 8), UInt8(truncatingIfNeeded: words[index])] {
                bytes.append(byte >= 0x20 && byte < 0x7F ? byte : 0x3F)
            }
            index += 1
        }
        while bytes.last == 0x20 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The DMA transfer commands the AHCI driver issues (ACS 7.21, 7.22, 7.60, 7.61).
public enum ATADMACommand {
    /// READ DMA (28-bit LBA, count 0 means 256).
    public static let readDMA: UInt8 = 0xC8
    /// WRITE DMA (28-bit).
    public static let writeDMA: UInt8 = 0xCA
    /// READ DMA EXT (48-bit LBA, count 0 means 65536).
    public static let readDMAExt: UInt8 = 0x25
    /// WRITE DMA EXT (48-bit).
    public static let writeDMAExt: UInt8 = 0x35
}
