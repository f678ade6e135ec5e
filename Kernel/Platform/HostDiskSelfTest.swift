// selftest=hostdisk: the host disk driver (AHCI DMA or IDE PIO, whichever has the disk) on a
// test image (it overwrites the image's last 300 sectors). One 300-sector write with the
// 48-bit commands (PIO: two commands, 256 + 44 sectors; AHCI: one), a read of the same
// sectors with the 28-bit ones, sector by sector through the other form, FLUSH CACHE, and a
// range past the disk refused without I/O; then 1 MiB read from sector 0, measured (commands,
// TSC ticks). The boot test then finds the pattern in the image file (bochs-hostdisk-selftest,
// qemu-hostdisk-ahci-selftest).

enum HostDiskSelfTest {
    static let sectors = 300

    /// The byte at `offset` of sector `lba` in the pattern: the LBA and offset mixed.
    static func patternByte(lba: UInt64, offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: lba &* 7 &+ UInt64(offset) &* 13 &+ UInt64(offset >> 8))
    }

    static func run(_ frames: inout FrameAllocator) -> Bool {
        guard var disk = HostDiskAttachment.disk(frames: &frames) else { print("hostdisk test: FAILED (no disk)"); return false }
        defer { HostDiskAttachment.release(frames: &frames) }
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
        let before = disk.commandsIssued
        check(disk.write(lba: first, from: UnsafeRawBufferPointer(buffer)),
              "\(sectors)-sector write at LBA \(first) (\(disk.transferCommand(write: true, extended: disk.lba48)))")
        print("hostdisk test: the \(sectors)-sector write took \(disk.commandsIssued - before) command(s)")
        check(disk.flush(), "FLUSH CACHE\(disk.flushExt ? " EXT" : "")")
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        disk.alwaysExtended = false
        let read = disk.read(lba: first, into: buffer)
        // The 28-bit commands where they reach (a disk past 2^28 sectors needs the EXT ones there).
        let beyond28 = first + UInt64(sectors) > 0x0FFF_FFFF
        check(read && matches(buffer, from: first),
              "\(sectors)-sector read back (\(disk.transferCommand(write: false, extended: beyond28)))")
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        disk.alwaysExtended = disk.lba48
        var each = true
        var sector = 0
        while sector < sectors {
            let one = UnsafeMutableRawBufferPointer(rebasing: buffer[sector * 512..<(sector + 1) * 512])
            each = each && disk.read(lba: first + UInt64(sector), into: one) && matches(one, from: first + UInt64(sector))
            sector += 1
        }
        check(each, "sector by sector read back (\(disk.transferCommand(write: false, extended: disk.lba48)))")
        // A buffer at an odd address (PRDs need word alignment: the AHCI driver bounces it).
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let odd = UnsafeMutableRawBufferPointer(rebasing: buffer[1..<(1 + 3 * 512)])
        let oddRead = disk.read(lba: first + 7, into: odd)
        check(oddRead && matches(odd, from: first + 7), "3 sectors read into an odd address")
        if case .ahci(var ahci) = disk {
            // The device's own refusal (IDNF past its end) must come back as a clear error, and
            // the port must work again afterwards.
            let one = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<512])
            let refused = !ahci.readPastCapacityForTest(lba: ahci.sectorCount, into: one)
            let failure = HostAHCIDisk.describe(ahci.lastFailure)
            var isDeviceError = false
            if case .device(_, let error)? = ahci.lastFailure { isDeviceError = error != 0 }
            one.initializeMemory(as: UInt8.self, repeating: 0)
            let again = ahci.read(lba: first, into: one) && matches(one, from: first)
            check(refused && isDeviceError && again,
                  "READ DMA EXT at LBA \(ahci.sectorCount) refused by the drive (\(failure)), the port works again")
            disk = .ahci(ahci)
        }
        let past = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<1024])
        check(!disk.read(lba: disk.sectorCount - 1, into: past) && disk.lastFailure == .outOfRange,
              "2 sectors from the last one refused (past the disk)")
        measure(&disk, &frames)
        print("hostdisk test: \(failures == 0 ? "passed" : "FAILED")")
        return failures == 0
    }

    /// Reads 1 MiB (2048 sectors from sector 0, read-only) and reports the commands it took and
    /// its TSC ticks: what the driver costs per MiB (PIO: 8 commands, 2048 DRQ blocks of 256
    /// port reads; AHCI DMA: one command).
    static func measure(_ disk: inout HostDisk, _ frames: inout FrameAllocator) {
        let sectors = min(2048, Int(disk.sectorCount))
        guard let frame = frames.allocate(count: 256) else { print("hostdisk test: no memory for the 1 MiB read"); return }
        defer { frames.free(frame, count: 256) }
        let buffer = UnsafeMutableRawBufferPointer(start: physicalPointer(frame), count: sectors * 512)
        disk.alwaysExtended = disk.lba48      // the largest commands the driver has
        let commands = disk.commandsIssued
        let start = rdtsc()
        let ok = disk.read(lba: 0, into: buffer)
        let ticks = rdtsc() &- start
        print("hostdisk test: \(ok ? "read" : "FAILED to read") \(sectors) sectors (\(sectors / 2) KiB) in "
              + "\(disk.commandsIssued - commands) command(s), \(ticks) TSC ticks (\(ticks / max(HostTime.tscHz / 1_000_000, 1)) us)")
    }
}
