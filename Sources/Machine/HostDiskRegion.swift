// Which part of the hypervisor's own disk a VM's disk is. A module line names it
// (`disk=host`, `disk=host:p1`, `disk=host:2048+65536`); the kernel resolves the name
// against the disk's size and, for a partition, its MBR (`MBRPartitionTable`), and
// claims the resulting sector range for that VM (`HostDiskClaims`): no two VMs share
// a sector, and no range reaches past the disk. Pure: the kernel's driver does the I/O.

/// `sectorCount` 512-byte sectors of the host disk from `start`.
public struct HostDiskRegion: Equatable, Sendable {
    public let start: UInt64
    public let sectorCount: UInt64

    public init(start: UInt64, sectorCount: UInt64) {
        self.start = start
        self.sectorCount = sectorCount
    }

    /// The first sector after the region (may be 2^64 - 1 at most; callers check `fits`).
    public var end: UInt64 { start &+ sectorCount }

    /// Whether the region is non-empty and lies inside a disk of `diskSectors` sectors.
    public func fits(diskSectors: UInt64) -> Bool {
        sectorCount > 0 && sectorCount <= diskSectors && start <= diskSectors - sectorCount
    }

    /// Whether the two regions share at least one sector.
    public func overlaps(_ other: HostDiskRegion) -> Bool {
        sectorCount > 0 && other.sectorCount > 0 && start < other.end && other.start < end
    }

    /// Whether sectors `[sector, sector + count)` of the region exist (overflow-safe).
    @inline(__always)
    public func contains(sector: UInt64, count: UInt64) -> Bool {
        count <= sectorCount && sector <= sectorCount &- count
    }
}

/// What a module line's `disk=host…` asks for.
public enum HostDiskSelector: Equatable, Sendable {
    /// `disk=host`: the whole disk.
    case wholeDisk
    /// `disk=host:pN`: MBR primary partition N (1…4).
    case partition(Int)
    /// `disk=host:START+COUNT`: COUNT sectors from sector START (decimal, 512-byte sectors).
    case sectors(start: UInt64, count: UInt64)

    /// The forms the argument takes, for messages.
    public static var syntax: String { "disk=host, disk=host:pN (MBR partition 1-4) or disk=host:START+COUNT (sectors)" }

    /// Whether a `disk=` value names the host disk (and so is parsed here, not as MiB).
    public static func namesHostDisk(_ value: Substring) -> Bool {
        value == "host" || value.hasPrefix("host:")
    }

    /// Parses the value of `disk=` (`host`, `host:pN`, `host:START+COUNT`).
    public init(parsing value: Substring) throws(HostDiskRegionError) {
        guard Self.namesHostDisk(value) else { throw .badSyntax(String(value)) }
        if value == "host" { self = .wholeDisk; return }
        let rest = value.dropFirst(5)
        if rest.first == "p" {
            guard rest.count == 2, let n = Int(rest.dropFirst()), n >= 1, n <= 4 else {
                throw .badSyntax(String(value))
            }
            self = .partition(n)
            return
        }
        let parts = rest.split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isDecimal(parts[0]), Self.isDecimal(parts[1]),
              let start = UInt64(parts[0]), let count = UInt64(parts[1]) else {
            throw .badSyntax(String(value))
        }
        guard count > 0 else { throw .emptyRange }
        guard start <= UInt64.max - count else { throw .badSyntax(String(value)) }
        self = .sectors(start: start, count: count)
    }

    /// Whether resolving needs sector 0 (the partition table).
    public var needsPartitionTable: Bool {
        if case .partition = self { return true }
        return false
    }

    /// The sector range this selector names on a disk of `diskSectors` sectors whose
    /// sector 0 is `sector0` (needed only for `.partition`).
    public func resolve(diskSectors: UInt64, sector0: UnsafeRawBufferPointer?) throws(HostDiskRegionError) -> HostDiskRegion {
        let region: HostDiskRegion
        switch self {
        case .wholeDisk:
            region = HostDiskRegion(start: 0, sectorCount: diskSectors)
            guard diskSectors > 0 else { throw .emptyRange }
        case .sectors(let start, let count):
            region = HostDiskRegion(start: start, sectorCount: count)
        case .partition(let number):
            guard let sector0 else { throw .noPartitionTable }
            let table = try MBRPartitionTable(sector0: sector0)
            let entry = table.entries[number - 1]
            guard !entry.isEmpty else { throw .emptyPartition(number) }
            guard !entry.isProtectiveGPT else { throw .protectiveGPT }
            guard !entry.isExtended else { throw .extendedPartition(number) }
            guard entry.startLBA > 0 else { throw .partitionOverlapsTable(number) }
            region = HostDiskRegion(start: UInt64(entry.startLBA), sectorCount: UInt64(entry.sectorCount))
            guard region.fits(diskSectors: diskSectors) else {
                throw .partitionPastTheDisk(number, start: region.start, count: region.sectorCount, diskSectors: diskSectors)
            }
        }
        guard region.fits(diskSectors: diskSectors) else {
            throw .pastTheDisk(start: region.start, count: region.sectorCount, diskSectors: diskSectors)
        }
        return region
    }

    private static func isDecimal(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

/// One entry of the classic MBR partition table (four 16-byte entries at byte 446 of
/// sector 0, the boot signature 0x55 0xAA at byte 510).
public struct MBRPartitionEntry: Equatable, Sendable {
    /// 0x00, or 0x80 for the active partition.
    public let bootIndicator: UInt8
    /// The system ID: 0 unused, 0x05/0x0F/0x85 extended, 0xEE a GPT protective entry.
    public let type: UInt8
    public let startLBA: UInt32
    public let sectorCount: UInt32

    public init(bootIndicator: UInt8, type: UInt8, startLBA: UInt32, sectorCount: UInt32) {
        self.bootIndicator = bootIndicator
        self.type = type
        self.startLBA = startLBA
        self.sectorCount = sectorCount
    }

    public var isEmpty: Bool { type == 0 || sectorCount == 0 }
    public var isExtended: Bool { type == 0x05 || type == 0x0F || type == 0x85 }
    public var isProtectiveGPT: Bool { type == 0xEE }
    public var region: HostDiskRegion { HostDiskRegion(start: UInt64(startLBA), sectorCount: UInt64(sectorCount)) }
}

/// The four primary entries of an MBR, validated: the signature is there, every boot
/// indicator is 0x00 or 0x80, and no two used entries overlap. The image is input the
/// guest (or whoever wrote the disk) controls, so nothing here trusts it further.
public struct MBRPartitionTable: Sendable {
    public static var entriesOffset: Int { 446 }
    public static var signatureOffset: Int { 510 }

    public let entries: InlineArray<4, MBRPartitionEntry>

    public init(sector0 bytes: UnsafeRawBufferPointer) throws(HostDiskRegionError) {
        guard bytes.count >= 512 else { throw .noPartitionTable }
        guard bytes[Self.signatureOffset] == 0x55, bytes[Self.signatureOffset + 1] == 0xAA else {
            throw .noPartitionTable
        }
        var entries = InlineArray<4, MBRPartitionEntry>(repeating: MBRPartitionEntry(bootIndicator: 0, type: 0,
                                                                                      startLBA: 0, sectorCount: 0))
        var index = 0
        while index < 4 {
            let at = Self.entriesOffset + index * 16
            let boot = bytes[at]
            guard boot == 0x00 || boot == 0x80 else { throw .badPartitionTable(entry: index + 1) }
            entries[index] = MBRPartitionEntry(
                bootIndicator: boot, type: bytes[at + 4],
                startLBA: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self)),
                sectorCount: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self)))
            index += 1
        }
        // Overlapping primary entries are a corrupt (or hostile) table: refuse all of it.
        var a = 0
        while a < 4 {
            var b = a + 1
            while b < 4 {
                if !entries[a].isEmpty && !entries[b].isEmpty && entries[a].region.overlaps(entries[b].region) {
                    throw .badPartitionTable(entry: b + 1)
                }
                b += 1
            }
            a += 1
        }
        self.entries = entries
    }
}

/// The sector ranges of the host disk handed out so far, each to one VM.
public struct HostDiskClaims {
    public private(set) var claims: [(owner: String, region: HostDiskRegion)] = []

    public init() {}

    /// Gives `region` to `owner`, or throws when it shares a sector with an earlier claim.
    public mutating func claim(_ region: HostDiskRegion, for owner: String) throws(HostDiskRegionError) {
        for earlier in claims where earlier.region.overlaps(region) {
            throw .overlap(owner: earlier.owner, start: earlier.region.start, count: earlier.region.sectorCount)
        }
        claims.append((owner, region))
    }
}

public enum HostDiskRegionError: Error, Equatable {
    case badSyntax(String)
    case emptyRange
    case pastTheDisk(start: UInt64, count: UInt64, diskSectors: UInt64)
    case noPartitionTable
    case badPartitionTable(entry: Int)
    case protectiveGPT
    case emptyPartition(Int)
    case extendedPartition(Int)
    case partitionOverlapsTable(Int)
    case partitionPastTheDisk(Int, start: UInt64, count: UInt64, diskSectors: UInt64)
    case overlap(owner: String, start: UInt64, count: UInt64)
    case noHostDisk
    /// `disk=host…` and a `+disk` module for the same guest.
    case twoDisks

    public var description: String {
        switch self {
        case .badSyntax(let value): return "bad host disk 'disk=\(value)' (\(HostDiskSelector.syntax))"
        case .emptyRange: return "the host disk region is empty"
        case .pastTheDisk(let start, let count, let disk):
            return "sectors \(start)+\(count) reach past the host disk's \(disk) sectors"
        case .noPartitionTable: return "the host disk has no MBR partition table (no 0x55AA signature in sector 0)"
        case .badPartitionTable(let entry): return "the host disk's MBR is invalid at entry \(entry) (bad boot indicator or overlapping partitions)"
        case .protectiveGPT: return "the host disk is partitioned with GPT (MBR type 0xEE): name a sector range (disk=host:START+COUNT)"
        case .emptyPartition(let n): return "MBR partition \(n) of the host disk is unused"
        case .extendedPartition(let n): return "MBR partition \(n) of the host disk is an extended partition (logical partitions are not supported)"
        case .partitionOverlapsTable(let n): return "MBR partition \(n) of the host disk starts at sector 0 (the partition table)"
        case .partitionPastTheDisk(let n, let start, let count, let disk):
            return "MBR partition \(n) of the host disk (sectors \(start)+\(count)) reaches past its \(disk) sectors"
        case .overlap(let owner, let start, let count):
            return "the host disk region overlaps sectors \(start)+\(count), already given to \(owner)"
        case .noHostDisk: return "no host disk: the hypervisor found no ATA disk (on an AHCI port, ata0-slave, ata1-master, ata1-slave)"
        case .twoDisks: return "disk=host and a +disk module for the same guest: it has one ATA disk, choose one"
        }
    }
}
