// The memory structures an AHCI port reads a command from (AHCI 1.3.1 section 4.2): the
// command header in the command list, the command table with its command FIS and the
// physical region descriptor table (PRDT). Each is encoded into bytes the HBA fetches by
// DMA; nothing here allocates, so the kernel builds commands on the VM-exit path.

/// One entry of the command list: 32 bytes (AHCI 4.2.2).
public struct AHCICommandHeader: Equatable, Sendable {
    public static var size: Int { 32 }

    /// CFL: the command FIS length in dwords (2…16).
    public var fisLength: UInt8
    /// W: data flows from memory to the device.
    public var write: Bool
    /// PRDTL: entries in the PRDT.
    public var prdtLength: UInt16
    /// CTBA/CTBAU: physical address of the command table, 128-byte aligned.
    public var commandTable: UInt64

    public init(fisLength: UInt8, write: Bool, prdtLength: UInt16, commandTable: UInt64) {
        self.fisLength = fisLength
        self.write = write
        self.prdtLength = prdtLength
        self.commandTable = commandTable
    }

    /// DW0: CFL in bits 4:0, W bit 6, PRDTL in bits 31:16 (A, P, R, B, C, PMP all zero).
    public var dword0: UInt32 {
        UInt32(fisLength & 0x1F) | (write ? 1 << 6 : 0) | UInt32(prdtLength) << 16
    }

    /// Writes the 32 bytes at `slot` (PRDBC, DW1, is zeroed: the HBA counts the bytes in it).
    public func encode(into slot: UnsafeMutableRawPointer) {
        slot.storeBytes(of: dword0.littleEndian, as: UInt32.self)
        slot.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
        slot.storeBytes(of: UInt32(truncatingIfNeeded: commandTable).littleEndian, toByteOffset: 8, as: UInt32.self)
        slot.storeBytes(of: UInt32(truncatingIfNeeded: commandTable >> 32).littleEndian, toByteOffset: 12, as: UInt32.self)
        var offset = 16
        while offset < Self.size { slot.storeBytes(of: UInt32(0), toByteOffset: offset, as: UInt32.self); offset += 4 }
    }

    /// PRDBC (DW1): the bytes the HBA transferred, read back after the command.
    public static func transferredBytes(_ slot: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: slot.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    }
}

/// The Register Host to Device FIS that carries an ATA command (SATA 3.0 10.3.4): 20 bytes.
public struct RegisterHostToDeviceFIS: Equatable, Sendable {
    public static var type: UInt8 { 0x27 }
    /// In dwords: the command header's CFL.
    public static var dwords: UInt8 { 5 }

    public var command: UInt8
    public var features: UInt16 = 0
    public var lba: UInt64 = 0
    public var device: UInt8 = 0
    public var count: UInt16 = 0
    public var control: UInt8 = 0

    public init(command: UInt8, lba: UInt64 = 0, count: UInt16 = 0, device: UInt8 = 0, features: UInt16 = 0) {
        self.command = command
        self.lba = lba
        self.count = count
        self.device = device
        self.features = features
    }

    /// A data transfer of `sectors` sectors (1…65536 with `extended`, 1…256 without) from `lba`
    /// in LBA mode (device bit 6); nil when the count or the address does not fit the form.
    public static func transfer(command: UInt8, lba: UInt64, sectors: Int, extended: Bool) -> RegisterHostToDeviceFIS? {
        if extended {
            // ACS 4.12: 48-bit LBA; a count of 0 means 65536 sectors.
            guard sectors >= 1, sectors <= 65536, lba < 1 << 48, lba + UInt64(sectors) <= 1 << 48 else { return nil }
            return RegisterHostToDeviceFIS(command: command, lba: lba, count: UInt16(truncatingIfNeeded: sectors), device: 0x40)
        }
        // 28-bit: LBA bits 27:24 in the device register; a count of 0 means 256 sectors.
        guard sectors >= 1, sectors <= 256, lba < 1 << 28, lba + UInt64(sectors) <= 1 << 28 else { return nil }
        return RegisterHostToDeviceFIS(command: command, lba: lba & 0xFF_FFFF, count: UInt16(sectors & 0xFF),
                                       device: 0x40 | UInt8(truncatingIfNeeded: lba >> 24) & 0x0F)
    }

    /// Writes the 20 bytes at `fis` (the command table's CFIS area).
    public func encode(into fis: UnsafeMutableRawPointer) {
        let bytes: InlineArray<20, UInt8> = [
            Self.type, 0x80,                                     // C: this FIS carries a command
            command, UInt8(truncatingIfNeeded: features),
            UInt8(truncatingIfNeeded: lba), UInt8(truncatingIfNeeded: lba >> 8), UInt8(truncatingIfNeeded: lba >> 16), device,
            UInt8(truncatingIfNeeded: lba >> 24), UInt8(truncatingIfNeeded: lba >> 32), UInt8(truncatingIfNeeded: lba >> 40),
            UInt8(truncatingIfNeeded: features >> 8),
            UInt8(truncatingIfNeeded: count), UInt8(truncatingIfNeeded: count >> 8), 0, control,
            0, 0, 0, 0,
        ]
        var index = 0
        while index < 20 { fis.storeBytes(of: bytes[index], toByteOffset: index, as: UInt8.self); index += 1 }
    }
}

/// The command table (AHCI 4.2.3): CFIS at 0x00 (64 bytes), ACMD at 0x40, the PRDT at 0x80.
public enum AHCICommandTable {
    public static var commandFISOffset: Int { 0x00 }
    public static var prdtOffset: Int { 0x80 }
    public static var prdEntrySize: Int { 16 }
    /// The most one PRD entry moves: DBC is 22 bits of byte count minus one (4.2.3.3).
    public static var maxBytesPerEntry: Int { 4 << 20 }
    /// Command tables are 128-byte aligned (CTBA bits 6:0 reserved).
    public static var alignment: UInt64 { 128 }

    /// Entries a table of `size` bytes holds.
    public static func prdCapacity(tableSize: Int) -> Int { max(0, (tableSize - prdtOffset) / prdEntrySize) }

    /// Describes `byteCount` bytes of physically contiguous memory at `physical` in PRD entries
    /// written into the table at `table` (at most `capacity` of them), interrupts off (I = 0).
    /// The entry count; nil when the region cannot be described: an odd address or length (DBA
    /// bit 0 and DBC bit 0 are reserved: word granularity), zero bytes, more entries than fit,
    /// or (without 64-bit addressing) memory above 4 GiB.
    public static func writePRDT(into table: UnsafeMutableRawPointer, capacity: Int, physical: UInt64, byteCount: Int,
                                 addresses64: Bool) -> Int? {
        guard byteCount > 0, physical & 1 == 0, byteCount & 1 == 0 else { return nil }
        let (end, overflow) = physical.addingReportingOverflow(UInt64(byteCount))
        guard !overflow, addresses64 || end <= 1 << 32 else { return nil }
        let entries = (byteCount + maxBytesPerEntry - 1) / maxBytesPerEntry
        guard entries <= capacity else { return nil }
        var index = 0
        var address = physical
        var left = byteCount
        while index < entries {
            let bytes = min(left, maxBytesPerEntry)
            let entry = table + prdtOffset + index * prdEntrySize
            entry.storeBytes(of: UInt32(truncatingIfNeeded: address).littleEndian, as: UInt32.self)
            entry.storeBytes(of: UInt32(truncatingIfNeeded: address >> 32).littleEndian, toByteOffset: 4, as: UInt32.self)
            entry.storeBytes(of: UInt32(0), toByteOffset: 8, as: UInt32.self)
            // DBC: byte count minus one, bit 0 always 1 (an even count); I (bit 31) clear.
            entry.storeBytes(of: UInt32(bytes - 1).littleEndian, toByteOffset: 12, as: UInt32.self)
            address &+= UInt64(bytes)
            left -= bytes
            index += 1
        }
        return entries
    }
}

/// The received-FIS area (AHCI 4.2.1): 256 bytes, 256-byte aligned.
public enum AHCIReceivedFIS {
    public static var size: Int { 256 }
    public static var alignment: UInt64 { 256 }
}

/// The command list (AHCI 4.2.2): 32 headers, 1 KiB aligned.
public enum AHCICommandList {
    public static var size: Int { 32 * AHCICommandHeader.size }
    public static var alignment: UInt64 { 1024 }
}
