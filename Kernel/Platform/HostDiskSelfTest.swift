// selftest=hostdisk: the host ATA driver on a test image (it overwrites the image's last
// 300 sectors). One 300-sector write (two commands: 256 + 44 sectors) with the 48-bit
// commands, a read of the same sectors with the 28-bit ones, sector by sector through the
// other form, FLUSH CACHE, and a range past the disk refused without I/O. The boot test
// then finds the pattern in the image file (bochs-hostdisk-selftest).

enum HostDiskSelfTest {
    static let sectors = 300

    /// The byte at `offset` of sector `lba` in the pattern: the LBA and offset mixed.
    static func patternByte(lba: UInt64, offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: lba &* 7 &+ UInt64(offset) &* 13 &+ UInt64(offset >> 8))
    }

    static func run(_ frames: inout FrameAllocator) -> Bool {
        guard var disk = HostDiskAttachment.disk else { print("hostdisk test: FAILED (no disk)"); return false }
        guard disk.sectorCount > UInt64(sectors) else { print("hostdisk test: FAILED (disk too small)"); return false }
        let pages = (sectors * 512 + 4095) / 4096
        guard let frame = frames.allocate(count: pages) else { print("hostdisk test: FAILED (no memory)"); return false }
        defer { frames.free(frame, count: pages) }
        let buffer = UnsafeMutableRawBufferPointer(start: physicalPointer(frame), count: sectors * 512)
        let first = disk.sectorCount - UInt64(sectors)
        var failures = 0
        func check(_ ok: Bool, _ what: String) {
            print("hostdisk test: \(ok ? "PASS" : "FAILED") \(what)")
            if !ok { failures += 1 }
        }
        func matches(_ bytes: UnsafeMutableRawBufferPointer, from lba: UInt64) -> Bool {
            var i = 0
            while i < bytes.count {
                if bytes[i] != patternByte(lba: lba + UInt64(i / 512), offset: i % 512) { return false }
                i += 1
            }
            return true
        }

        var i = 0
        while i < buffer.count { buffer[i] = patternByte(lba: first + UInt64(i / 512), offset: i % 512); i += 1 }
        disk.alwaysExtended = disk.lba48
        check(disk.write(lba: first, from: UnsafeRawBufferPointer(buffer)),
              "\(sectors)-sector write at LBA \(first) (\(disk.lba48 ? "WRITE SECTORS EXT" : "WRITE SECTORS"))")
        check(disk.flush(), "FLUSH CACHE\(disk.flushExt ? " EXT" : "")")
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        disk.alwaysExtended = false
        let read = disk.read(lba: first, into: buffer)
        check(read && matches(buffer, from: first), "\(sectors)-sector read back (READ SECTORS)")
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        disk.alwaysExtended = disk.lba48
        var each = true
        var sector = 0
        while sector < sectors {
            let one = UnsafeMutableRawBufferPointer(rebasing: buffer[sector * 512..<(sector + 1) * 512])
            each = each && disk.read(lba: first + UInt64(sector), into: one) && matches(one, from: first + UInt64(sector))
            sector += 1
        }
        check(each, "sector by sector read back (\(disk.lba48 ? "READ SECTORS EXT" : "READ SECTORS"))")
        let past = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<1024])
        check(!disk.read(lba: disk.sectorCount - 1, into: past) && disk.lastFailure == .outOfRange,
              "2 sectors from the last one refused (past the disk)")
        print("hostdisk test: \(failures == 0 ? "passed" : "FAILED")")
        return failures == 0
    }
}
