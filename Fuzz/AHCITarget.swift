// libFuzzer target: what the host AHCI driver builds from values a disk or an HBA reports
// (hardware the hypervisor does not trust blindly). Input: [selector] then, by selector:
// 0: 512 bytes of IDENTIFY DEVICE data (ATAIdentifyData);
// 1: [physical, 8] [bytes, 4] [capacity, 1] [flags, 1]: a PRDT (AHCICommandTable.writePRDT);
// 2: [lba, 8] [sectors, 4] [extended, 1]: a transfer's command FIS.
// Invariants: a parsed disk has 1…2^48 sectors and FLUSH CACHE EXT only with LBA48; a PRDT
// covers exactly the bytes, contiguously, in entries of at most 4 MiB inside the table and
// below 4 GiB without 64-bit addressing; a FIS exists only for an address range the form reaches.
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    switch input.byte() % 3 {
    case 0:
        let words = input.take(512)
        guard words.count == 512 else { return }
        let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 2)
        defer { aligned.deallocate() }
        aligned.copyMemory(from: words)
        let parsed = Result { () throws(ATAIdentifyData.Refusal) in
            try ATAIdentifyData(words: UnsafeBufferPointer(aligned.bindMemory(to: UInt16.self)))
        }
        guard case .success(let data) = parsed else { return }
        fuzzCheck(data.sectorCount >= 1 && data.sectorCount <= 1 << 48, "capacity \(data.sectorCount)")
        fuzzCheck(!data.flushCacheExt || data.lba48, "FLUSH CACHE EXT without LBA48")
        fuzzCheck(data.model.utf8.count <= 40, "model of \(data.model.utf8.count) bytes")
    case 1:
        let physical = input.integer(UInt64.self)
        let bytes = Int(input.integer(UInt32.self) % (600 << 20))
        let capacity = Int(input.byte())
        let addresses64 = input.byte() & 1 != 0
        let size = AHCICommandTable.prdtOffset + capacity * AHCICommandTable.prdEntrySize
        let table = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 128)
        defer { table.deallocate() }
        guard let entries = AHCICommandTable.writePRDT(into: table, capacity: capacity, physical: physical, byteCount: bytes,
                                                       addresses64: addresses64) else { return }
        fuzzCheck(entries >= 1 && entries <= capacity, "\(entries) entries in a table of \(capacity)")
        var next = physical
        var total = 0
        for i in 0..<entries {
            let entry = table + AHCICommandTable.prdtOffset + i * AHCICommandTable.prdEntrySize
            let address = UInt64(entry.load(as: UInt32.self)) | UInt64(entry.load(fromByteOffset: 4, as: UInt32.self)) << 32
            let count = Int(entry.load(fromByteOffset: 12, as: UInt32.self) & 0x3F_FFFF) + 1
            fuzzCheck(address == next && address & 1 == 0 && count & 1 == 0, "entry \(i) at \(address), \(count) bytes")
            fuzzCheck(entry.load(fromByteOffset: 12, as: UInt32.self) >> 22 == 0, "entry \(i) sets reserved or I bits")
            next &+= UInt64(count)
            total += count
        }
        fuzzCheck(total == bytes, "the PRDT covers \(total) of \(bytes) bytes")
        fuzzCheck(addresses64 || next <= 1 << 32, "a PRD reaches past 4 GiB without 64-bit addressing")
    default:
        let lba = input.integer(UInt64.self)
        let sectors = Int(input.integer(UInt32.self))
        let extended = input.byte() & 1 != 0
        guard let fis = RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: lba, sectors: sectors,
                                                         extended: extended) else { return }
        let limit: UInt64 = extended ? 1 << 48 : 1 << 28
        fuzzCheck(sectors >= 1 && sectors <= (extended ? 65536 : 256) && lba + UInt64(sectors) <= limit,
                  "a FIS for \(sectors) sectors at \(lba)")
        let encodedCount = fis.count == 0 ? (extended ? 65536 : 256) : Int(fis.count)
        fuzzCheck(encodedCount == sectors, "count \(fis.count) for \(sectors) sectors")
        let encodedLBA = extended ? fis.lba : fis.lba | UInt64(fis.device & 0x0F) << 24
        fuzzCheck(encodedLBA == lba && fis.device & 0x40 != 0, "LBA \(encodedLBA) for \(lba)")
    }
}

func seedImages() -> [(String, [UInt8])] {
    var identify = [UInt8](repeating: 0, count: 512)
    identify[98] = 0x00; identify[99] = 0x02          // word 49: LBA
    identify[166] = 0x00; identify[167] = 0x64        // word 83: valid, LBA48, FLUSH CACHE EXT
    identify[200] = 0xC0; identify[201] = 0x4E        // words 100-103: 20,160 sectors
    let prdt: [UInt8] = [1, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x60, 0x00, 120, 0]
    let fis: [UInt8] = [2, 0x54, 0x4D, 0, 0x10, 0, 0, 0, 0, 0x2C, 0x01, 0, 0, 1]
    return [("identify", [0] + identify), ("prdt", prdt), ("fis", fis)]
}
