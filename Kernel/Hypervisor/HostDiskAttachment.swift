import Machine

// Module lines with disk=host… get their region of the host disk here, once all lines are
// parsed: the disk is found (HostAHCIDisk.probe, else HostATADisk.probe, once per boot),
// each selector resolved (MBR partitions read from sector 0) and claimed, so that no two
// VMs share a sector and no region reaches past the disk. A guest whose region is refused
// is not run; the message says why.

enum HostDiskAttachment {
    nonisolated(unsafe) private static var probed = false
    nonisolated(unsafe) private static var found: HostDisk? = nil

    /// The host disk, probed on first use (and reported): an ATA disk on an AHCI port when the
    /// machine has an AHCI HBA with one, else one on the legacy IDE channels.
    static func disk(frames: inout FrameAllocator) -> HostDisk? {
        if !probed {
            probed = true
            var model = ""
            if let (disk, name) = HostAHCIDisk.probe(frames: &frames) {
                found = .ahci(disk)
                model = name
            } else if let (disk, name) = HostATADisk.probe() {
                found = .ata(disk)
                model = name
            } else {
                print("hostdisk: no ATA disk on the legacy IDE channels")
            }
            if let disk = found {
                print("hostdisk: \(disk.location): \(model), \(disk.sectorCount) sectors"
                      + "\(disk.lba48 ? ", LBA48" : ""), \(disk.flushExt ? "FLUSH CACHE EXT" : "FLUSH CACHE")")
            }
        }
        return found
    }

    /// At the end of the run: the drive's write cache goes to the medium, whatever the guests
    /// flushed themselves (their writes are durable once the run ends); an AHCI port is stopped
    /// and its frame given back.
    static func flushAtEnd(frames: inout FrameAllocator) {
        guard probed, var disk = found else { return }
        print("hostdisk: \(disk.flush() ? "flushed" : "FLUSH CACHE FAILED") at the end of the run")
        release(frames: &frames)
    }

    /// Stops using the disk (the AHCI port's structures freed); a later use probes again.
    static func release(frames: inout FrameAllocator) {
        if case .ahci(var disk)? = found { disk.release(frames: &frames) }
        found = nil
        probed = false
    }

    /// Resolves every guest's `disk=host…`; guests refused are removed, with a message in `errors`.
    static func attach(_ guests: inout [GuestSpec], errors: inout [String], frames: inout FrameAllocator) {
        guard guests.contains(where: { $0.options.hostDisk != nil }) else { return }
        var claims = HostDiskClaims()
        var sector0: [UInt8]? = nil
        var kept: [GuestSpec] = []
        for var guest in guests {
            guard let selector = guest.options.hostDisk else { kept.append(guest); continue }
            do throws(HostDiskRegionError) {
                guard var disk = disk(frames: &frames) else { throw .noHostDisk }
                if guest.disk != nil { throw .twoDisks }
                if selector.needsPartitionTable && sector0 == nil {
                    var bytes = [UInt8](repeating: 0, count: 512)
                    if bytes.withUnsafeMutableBytes({ disk.read(lba: 0, into: $0) }) { sector0 = bytes }
                }
                let region: HostDiskRegion
                if let sector0 {
                    region = try sector0.withUnsafeBytes { bytes in
                        Result { () throws(HostDiskRegionError) in try selector.resolve(diskSectors: disk.sectorCount, sector0: bytes) }
                    }.get()
                } else {
                    region = try selector.resolve(diskSectors: disk.sectorCount, sector0: nil)
                }
                try claims.claim(region, for: String(guest.name))
                guest.hostDiskStorage = HostDiskStorage(disk: disk, region: region)
                print("[\(guest.name)] disk: host disk \(disk.location) sectors \(region.start)+\(region.sectorCount)")
                kept.append(guest)
            } catch {
                errors.append("\(guest.name): \(error.description)")
            }
        }
        guests = kept
    }
}
