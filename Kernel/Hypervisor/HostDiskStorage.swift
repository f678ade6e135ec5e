import Machine

// The media behind a VM's ATA disk (VirtualPC's DiskStorage): RAM (a +disk module or a
// disk=MiB scratch disk, lost at power-off) or a region of the host disk (disk=host…,
// written through the hypervisor's own driver, AHCI or IDE, durable once flushed). Both
// run on the VM-exit path: plain values, a switch, no allocation or reference counting.

/// A VM's disk on `region` of the host disk: the VM's sector n is the disk's `region.start + n`.
struct HostDiskStorage: BlockStorage {
    var disk: HostDisk
    let region: HostDiskRegion

    var sectorCount: UInt64 { region.sectorCount }

    mutating func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard buffer.count % 512 == 0, region.contains(sector: sector, count: UInt64(buffer.count / 512)) else { return false }
        return disk.read(lba: region.start &+ sector, into: buffer)
    }

    mutating func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        guard buffer.count % 512 == 0, region.contains(sector: sector, count: UInt64(buffer.count / 512)) else { return false }
        return disk.write(lba: region.start &+ sector, from: buffer)
    }

    mutating func writeZeroes(sector: UInt64, count: UInt64) -> Bool {
        guard region.contains(sector: sector, count: count) else { return false }
        var zeros = InlineArray<512, UInt8>(repeating: 0)
        var done: UInt64 = 0
        while done < count {
            let ok = withUnsafeBytes(of: &zeros) { disk.write(lba: region.start &+ sector &+ done, from: $0) }
            guard ok else { return false }
            done &+= 1
        }
        return true
    }

    /// The drive's FLUSH CACHE (EXT), acknowledged.
    mutating func flush() -> Bool { disk.flush() }
}

/// RAM or a host-disk region, chosen per VM when it is built.
enum GuestDiskStorage: BlockStorage {
    case memory(ATABlockStorage)
    case host(HostDiskStorage)

    var sectorCount: UInt64 {
        switch self {
        case .memory(let ram): return ram.sectorCount
        case .host(let host): return host.sectorCount
        }
    }

    mutating func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        switch self {
        case .memory(let ram): return ram.read(sector: sector, into: buffer)
        case .host(var host):
            let ok = host.read(sector: sector, into: buffer)
            self = .host(host)
            return ok
        }
    }

    mutating func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .memory(let ram): return ram.write(sector: sector, from: buffer)
        case .host(var host):
            let ok = host.write(sector: sector, from: buffer)
            self = .host(host)
            return ok
        }
    }

    mutating func writeZeroes(sector: UInt64, count: UInt64) -> Bool {
        switch self {
        case .memory(let ram): return ram.writeZeroes(sector: sector, count: count)
        case .host(var host):
            let ok = host.writeZeroes(sector: sector, count: count)
            self = .host(host)
            return ok
        }
    }

    mutating func flush() -> Bool {
        switch self {
        case .memory(let ram): return ram.flush()
        case .host(var host):
            let ok = host.flush()
            self = .host(host)
            return ok
        }
    }
}
