// A fixed ATA disk: its medium, its identity, its CHS translation and the
// settings commands change (multiple mode, current geometry), plus the
// IDENTIFY DEVICE data it reports (ATA/ATAPI-6 8.15, Table 16).

/// A CHS translation: `cylinders × heads × sectorsPerTrack` sectors,
/// sector numbers 1-based.
public struct ATAGeometry: Equatable, Sendable {
    public var cylinders: UInt16
    public var heads: UInt8
    public var sectorsPerTrack: UInt8

    public init(cylinders: UInt16, heads: UInt8, sectorsPerTrack: UInt8) {
        self.cylinders = cylinders
        self.heads = heads
        self.sectorsPerTrack = sectorsPerTrack
    }

    /// Sectors addressable through this translation.
    public var sectors: UInt64 {
        UInt64(cylinders) * UInt64(heads) * UInt64(sectorsPerTrack)
    }

    /// The translation with `heads` and `sectorsPerTrack` covering as much of
    /// `capacity` as whole cylinders allow (at least one cylinder, at most `maxCylinders`).
    public static func covering(capacity: UInt64, heads: UInt8, sectorsPerTrack: UInt8,
                                maxCylinders: UInt16) -> ATAGeometry {
        let perCylinder = UInt64(heads) * UInt64(sectorsPerTrack)
        var cylinders = perCylinder == 0 ? 0 : capacity / perCylinder
        if cylinders > UInt64(maxCylinders) { cylinders = UInt64(maxCylinders) }
        if cylinders == 0 { cylinders = 1 }
        return ATAGeometry(cylinders: UInt16(cylinders), heads: heads, sectorsPerTrack: sectorsPerTrack)
    }

    /// The LBA of CHS address (C, H, S): `(C × heads + H) × sectorsPerTrack + S − 1`
    /// (ATA-6 Annex, "CHS to LBA translation"); nil when H or S is outside the
    /// translation (S = 0, S > sectorsPerTrack, H ≥ heads). A cylinder beyond
    /// `cylinders` is left to the capacity check.
    public func lba(cylinder: UInt16, head: UInt8, sector: UInt8) -> UInt64? {
        guard sector >= 1, sector <= sectorsPerTrack, head < heads else { return nil }
        return (UInt64(cylinder) * UInt64(heads) + UInt64(head)) * UInt64(sectorsPerTrack) + UInt64(sector) - 1
    }

    /// The CHS address of `lba`; the cylinder saturates at 0xFFFF.
    public func chs(lba: UInt64) -> (cylinder: UInt16, head: UInt8, sector: UInt8) {
        let spt = UInt64(max(sectorsPerTrack, 1))
        let heads = UInt64(max(self.heads, 1))
        let track = lba / spt
        let cylinder = track / heads
        return (UInt16(min(cylinder, 0xFFFF)), UInt8(track % heads), UInt8(lba % spt + 1))
    }
}

/// A fixed (non-removable, non-packet) ATA disk with LBA28 and CHS addressing, on any
/// `BlockStorage`: RAM (`ATABlockStorage`) or a region of a host disk (the kernel's).
public struct ATADisk<Storage: BlockStorage> {
    /// LBA28 addresses sectors 0 ... 0x0FFF_FFFE; IDENTIFY words 60–61 hold at
    /// most 0x0FFF_FFFF. A larger medium is exposed up to that size.
    public static var maxLBA28Sectors: UInt64 { 0x0FFF_FFFF }
    /// The largest block READ/WRITE MULTIPLE can use (IDENTIFY word 47).
    public static var maxMultipleSectors: UInt8 { 16 }

    public private(set) var storage: Storage
    /// Sectors the guest can address: the medium, capped at `maxLBA28Sectors`.
    public let capacity: UInt64
    /// The power-on CHS translation: 16 heads, 63 sectors per track and as many
    /// cylinders as fit, capped at 16383 (IDENTIFY words 1, 3, 6).
    public let defaultGeometry: ATAGeometry
    /// The translation in effect; INITIALIZE DEVICE PARAMETERS changes it
    /// (IDENTIFY words 54–58).
    public internal(set) var currentGeometry: ATAGeometry
    /// Sectors per DRQ block of READ/WRITE MULTIPLE; 0 when multiple mode is
    /// disabled (the power-on state). Set by SET MULTIPLE MODE.
    public internal(set) var multipleSectors: UInt8 = 0

    /// ATA strings: ASCII, space padded, at most 20 / 8 / 40 bytes.
    public let serialNumber: StaticString
    public let firmwareRevision: StaticString
    public let model: StaticString

    public init(storage: Storage,
                serialNumber: StaticString = "SV0000000001",
                firmwareRevision: StaticString = "1.0",
                model: StaticString = "SWIFTVISOR VIRTUAL DISK") {
        self.storage = storage
        self.capacity = min(storage.sectorCount, Self.maxLBA28Sectors)
        let geometry = ATAGeometry.covering(capacity: capacity, heads: 16, sectorsPerTrack: 63, maxCylinders: 16383)
        self.defaultGeometry = geometry
        self.currentGeometry = geometry
        self.serialNumber = serialNumber
        self.firmwareRevision = firmwareRevision
        self.model = model
    }

    /// Whether sectors `[lba, lba + count)` are addressable.
    @inline(__always)
    public func contains(lba: UInt64, count: UInt64) -> Bool {
        count <= capacity && lba <= capacity &- count
    }

    /// Applies INITIALIZE DEVICE PARAMETERS: `heads` (1...16) and `sectorsPerTrack`;
    /// false when the translation is invalid (no sectors per track), which the
    /// command aborts.
    public mutating func setTranslation(heads: UInt8, sectorsPerTrack: UInt8) -> Bool {
        guard sectorsPerTrack != 0, heads >= 1, heads <= 16 else { return false }
        currentGeometry = ATAGeometry.covering(capacity: capacity, heads: heads,
                                               sectorsPerTrack: sectorsPerTrack, maxCylinders: 0xFFFF)
        return true
    }

    /// Applies SET MULTIPLE MODE: 0 disables, otherwise a power of two up to
    /// `maxMultipleSectors`; false for any other block size (the command aborts).
    public mutating func setMultiple(_ sectors: UInt8) -> Bool {
        guard sectors <= Self.maxMultipleSectors, sectors & (sectors &- 1) == 0 else { return false }
        multipleSectors = sectors
        return true
    }

    /// Copies sector `lba` into `words`; false when the medium could not deliver it.
    @inline(__always)
    public mutating func read(sector lba: UInt64, into words: inout ATASectorWords) -> Bool {
        withUnsafeMutableBytes(of: &words) { storage.read(sector: lba, into: $0) }
    }

    /// Stores `words` as sector `lba`; false when the medium did not take it.
    @inline(__always)
    public mutating func write(sector lba: UInt64, from words: inout ATASectorWords) -> Bool {
        withUnsafeBytes(of: &words) { storage.write(sector: lba, from: $0) }
    }

    /// Returns true once every completed write is on the medium (FLUSH CACHE).
    @inline(__always)
    public mutating func flush() -> Bool { storage.flush() }

    /// Restores the power-on settings.
    public mutating func resetSettings() {
        currentGeometry = defaultGeometry
        multipleSectors = 0
    }

    // MARK: IDENTIFY DEVICE

    /// Fills `words` with the IDENTIFY DEVICE data (ATA-6 Table 16). Words not
    /// set are 0 (reserved, obsolete, or features this disk lacks: DMA, LBA48,
    /// security, SMART, write cache).
    public func identify(into words: inout ATASectorWords) {
        var index = 0
        while index < 256 { words[index] = 0; index &+= 1 }

        // 0: general configuration. Bit 15 = 0: ATA device; bit 7 = 0: not
        // removable; bit 6: fixed device (obsolete but still checked by drivers).
        words[0] = 0x0040
        // 1, 3, 6: default translation (obsolete in ATA-6, used by BIOSes and old drivers).
        words[1] = defaultGeometry.cylinders
        words[3] = UInt16(defaultGeometry.heads)
        words[6] = UInt16(defaultGeometry.sectorsPerTrack)
        Self.put(serialNumber, into: &words, word: 10, words: 10)
        Self.put(firmwareRevision, into: &words, word: 23, words: 4)
        Self.put(model, into: &words, word: 27, words: 20)
        // 47: bits 15:8 = 0x80, bits 7:0 = largest READ/WRITE MULTIPLE block.
        words[47] = 0x8000 | UInt16(Self.maxMultipleSectors)
        // 49: capabilities. Bit 9 LBA supported, bit 11 IORDY supported; no DMA (bit 8).
        words[49] = 0x0A00
        // 50: bit 14 shall be 1 (the word is valid).
        words[50] = 0x4000
        // 51: obsolete PIO timing mode, 2 as drives of the era report.
        words[51] = 0x0200
        // 53: bit 0 words 54–58 valid, bit 1 words 64–70 valid; not bit 2 (word 88, UDMA).
        words[53] = 0x0003
        // 54–58: the current translation and its capacity (58:57).
        let current = currentGeometry
        words[54] = current.cylinders
        words[55] = UInt16(current.heads)
        words[56] = UInt16(current.sectorsPerTrack)
        let currentSectors = UInt32(truncatingIfNeeded: min(current.sectors, UInt64(UInt32.max)))
        words[57] = UInt16(truncatingIfNeeded: currentSectors)
        words[58] = UInt16(truncatingIfNeeded: currentSectors >> 16)
        // 59: bit 8 = the multiple setting in bits 7:0 is valid.
        if multipleSectors != 0 { words[59] = 0x0100 | UInt16(multipleSectors) }
        // 60–61: total user-addressable LBA28 sectors (low word first).
        let total = UInt32(truncatingIfNeeded: capacity)
        words[60] = UInt16(truncatingIfNeeded: total)
        words[61] = UInt16(truncatingIfNeeded: total >> 16)
        // 64: advanced PIO modes 3 and 4 supported; 65–68: cycle times in ns.
        words[64] = 0x0003
        words[65] = 120
        words[66] = 120
        words[67] = 120
        words[68] = 120
        // 80: major version. Bits 1–6: ATA-1 ... ATA/ATAPI-6. 81: minor version not reported.
        words[80] = 0x007E
        // 82–84: command sets supported. 82 bit 3: power management (CHECK POWER MODE,
        // IDLE, STANDBY). 83 bit 12: FLUSH CACHE; no LBA48 (bit 10). Bit 14 of 83 and
        // 84 shall be 1, bit 15 0 (the words are valid).
        words[82] = 0x0008
        words[83] = 0x4000 | 0x1000
        words[84] = 0x4000
        // 85–87: the same sets, enabled.
        words[85] = 0x0008
        words[86] = 0x1000
        words[87] = 0x4000
        // 255: integrity word. Bits 7:0 signature 0xA5; bits 15:8 a checksum making
        // the sum of all 512 bytes 0 modulo 256.
        var sum: UInt8 = 0xA5
        index = 0
        while index < 255 {
            let word = words[index]
            sum = sum &+ UInt8(truncatingIfNeeded: word) &+ UInt8(truncatingIfNeeded: word >> 8)
            index &+= 1
        }
        words[255] = UInt16(0 &- sum) << 8 | 0x00A5
    }

    /// Stores `text` as an ATA string of `count` words from `first`: space padded,
    /// and within each word the first character in bits 15:8 (ATA-6 3.2.9,
    /// "byte ordering for ATA strings"). Characters beyond `2 × count` are dropped.
    static func put(_ text: StaticString, into words: inout ATASectorWords, word first: Int, words count: Int) {
        var offset = 0
        while offset < count {
            words[first + offset] = 0x2020
            offset &+= 1
        }
        text.withUTF8Buffer { bytes in
            var position = 0
            while position < bytes.count && position < count &* 2 {
                let slot = first + position / 2
                let byte = UInt16(bytes[position])
                if position & 1 == 0 {
                    words[slot] = (words[slot] & 0x00FF) | byte << 8
                } else {
                    words[slot] = (words[slot] & 0xFF00) | byte
                }
                position &+= 1
            }
        }
    }
}
