// libFuzzer target: a module line's disk=host… value resolved against a host disk's size
// and sector 0 (the MBR, which whoever wrote the disk controls): HostDiskSelector and
// MBRPartitionTable. Input: [disk sectors, 8 bytes] [value length] [value] [sector 0...].
// Invariant: whatever resolves is a non-empty region inside the disk, and a partition's
// region is that MBR entry's.
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let diskSectors = input.integer(UInt64.self)
    let length = Int(input.byte() % 32)
    let value = fuzzString(input.take(min(length, input.remaining)))
    let sector0 = input.rest()
    let selector: HostDiskSelector
    do throws(HostDiskRegionError) { selector = try HostDiskSelector(parsing: Substring(value)) } catch { return }
    let region: HostDiskRegion
    do throws(HostDiskRegionError) {
        region = try selector.resolve(diskSectors: diskSectors, sector0: sector0)
    } catch { return }
    fuzzCheck(region.sectorCount > 0 && region.fits(diskSectors: diskSectors),
              "\(value) resolved to \(region.start)+\(region.sectorCount) on a disk of \(diskSectors) sectors")
    if case .partition(let n) = selector {
        let table = try? MBRPartitionTable(sector0: sector0)
        fuzzCheck(table?.entries[n - 1].region == region, "partition \(n) resolved to another region")
    }
}

func seedImages() -> [(String, [UInt8])] {
    var mbr = [UInt8](repeating: 0, count: 512)
    let entry: [UInt8] = [0x80, 0, 0, 0, 0x83, 0, 0, 0, 0x00, 0x08, 0, 0, 0x00, 0x08, 0, 0]   // 2048+2048
    mbr.replaceSubrange(446..<462, with: entry)
    mbr[510] = 0x55
    mbr[511] = 0xAA
    let size: [UInt8] = [0xC0, 0x4E, 0, 0, 0, 0, 0, 0]      // 20,160 sectors
    func line(_ text: String) -> [UInt8] { [UInt8(text.utf8.count)] + Array(text.utf8) }
    return [("p1", size + line("host:p1") + mbr), ("range", size + line("host:8192+2048") + mbr),
            ("whole", size + line("host") + mbr)]
}
