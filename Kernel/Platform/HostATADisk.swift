import Machine

// The hypervisor's own disk: an ATA device on a legacy IDE channel, driven by polled
// PIO as ATA/ATAPI-8 ACS describes it (IDENTIFY DEVICE, READ/WRITE SECTORS and their
// 48-bit EXT forms, FLUSH CACHE (EXT)), interrupts off (nIEN). Guests never reach these
// ports: every guest port access exits (the VMs' I/O bitmaps are all ones) and meets
// the guest's virtual PC. Each VM's disk is a region of this disk (HostDiskStorage).
// Single CPU: a command runs to its end inside one call, nothing else touches the channel.

/// One ATA device (not packet) found on a legacy channel.
struct HostATADisk: HostBlockDevice {

    /// Command block base (data register) and control block (Alternate Status / Device Control).
    let commandBase: UInt16
    let controlPort: UInt16
    /// Device 0 (master) or 1 (slave).
    let device: UInt8
    /// User-addressable sectors: IDENTIFY words 100–103 with LBA48, else 60–61.
    let sectorCount: UInt64
    /// The 48-bit address feature set (IDENTIFY word 83 bit 10).
    let lba48: Bool
    /// FLUSH CACHE EXT is supported (word 83 bit 13); else FLUSH CACHE (0xE7).
    let flushExt: Bool

    /// Where a command failed, for the report (shared with the AHCI driver).
    typealias Failure = HostDiskFailure

    /// Phases a timeout names.
    enum Phase {
        static var ready: UInt8 { 1 }
        static var data: UInt8 { 2 }
        static var completion: UInt8 { 3 }
        static var flush: UInt8 { 4 }
    }

    /// Sectors per command: 256 (LBA28's "0 means 256") keeps one path for both forms.
    static var sectorsPerCommand: UInt64 { 256 }

    var lastFailure: Failure? = nil
    var commandsIssued: UInt64 = 0
    /// Use the 48-bit commands for every address, not only past LBA28's reach (the self-test
    /// runs both forms on the same sectors).
    var alwaysExtended = false

    /// The first ATA disk on the legacy channels, primary (0x1F0/0x3F6) then secondary
    /// (0x170/0x376), master then slave, skipping packet devices (the CD-ROM the kernel was
    /// booted from); with its model (IDENTIFY words 27–46).
    static func probe() -> (disk: HostATADisk, model: String)? {
        var channel = 0
        while channel < 2 {
            let command: UInt16 = channel == 0 ? 0x1F0 : 0x170
            let control: UInt16 = channel == 0 ? 0x3F6 : 0x376
            channel += 1
            // Nobody drives a channel without devices: its Status floats at 0xFF.
            if inb(command &+ 7) == 0xFF && inb(control) == 0xFF { continue }
            for device: UInt8 in 0...1 {
                if let found = identify(commandBase: command, controlPort: control, device: device) { return found }
            }
        }
        return nil
    }

    /// IDENTIFY DEVICE (ACS 7.16) on one device; nil for an absent or packet device.
    private static func identify(commandBase: UInt16, controlPort: UInt16, device: UInt8) -> (disk: HostATADisk, model: String)? {
        outb(controlPort, ATADeviceControl.interruptDisable)
        outb(commandBase &+ 6, 0xA0 | device << 4)
        settle(controlPort)
        // An absent device 1 reads 0x00 through device 0 (ACS-2 table "device 1 not present").
        let before = inb(commandBase &+ 7)
        if before == 0x00 || before == 0xFF { return nil }
        guard waitWhileBusy(controlPort, ticks: timeoutTicks(milliseconds: 1000)) != nil else { return nil }
        outb(commandBase &+ 2, 0)
        outb(commandBase &+ 3, 0)
        outb(commandBase &+ 4, 0)
        outb(commandBase &+ 5, 0)
        outb(commandBase &+ 7, ATACommand.identifyDevice)
        settle(controlPort)
        guard let status = waitWhileBusy(controlPort, ticks: timeoutTicks(milliseconds: 1000)) else { return nil }
        // A packet device aborts IDENTIFY DEVICE and leaves its signature 0x14/0xEB (ACS 9.12).
        if status & (ATAStatus.error | ATAStatus.dataRequest) != ATAStatus.dataRequest {
            _ = inb(commandBase &+ 7)
            return nil
        }
        var words = InlineArray<256, UInt16>(repeating: 0)
        withUnsafeMutableBytes(of: &words) { insw_block(commandBase, $0.baseAddress, 256) }
        _ = inb(commandBase &+ 7)
        let parsed = withUnsafeBytes(of: &words) { bytes in
            Result { () throws(ATAIdentifyData.Refusal) in try ATAIdentifyData(words: bytes.bindMemory(to: UInt16.self)) }
        }
        guard case .success(let identify) = parsed else { return nil }
        let disk = HostATADisk(commandBase: commandBase, controlPort: controlPort, device: device,
                               sectorCount: identify.sectorCount, lba48: identify.lba48, flushExt: identify.flushCacheExt)
        return (disk, identify.model)
    }

    /// Where the disk sits, as Bochs names it (`ata1-master`).
    var location: String {
        "ata\(commandBase == 0x1F0 ? 0 : 1)-\(device == 0 ? "master" : "slave")"
    }

    func transferCommand(write: Bool, extended: Bool) -> String {
        (write ? "WRITE SECTORS" : "READ SECTORS") + (extended ? " EXT" : "")
    }

    // MARK: Transfers

    /// Reads `buffer.count / 512` sectors from `lba`.
    mutating func read(lba: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        transfer(lba: lba, sectors: UInt64(buffer.count / 512), base: buffer.baseAddress, write: false)
    }

    /// Writes `buffer.count / 512` sectors at `lba` (into the drive's cache: `flush` makes them durable).
    mutating func write(lba: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        transfer(lba: lba, sectors: UInt64(buffer.count / 512), base: UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                 write: true)
    }

    /// FLUSH CACHE (EXT) (ACS 7.10, 7.11): true once the drive reports every cached write on the medium.
    mutating func flush() -> Bool {
        guard ready() else { return false }
        outb(commandBase &+ 6, 0xA0 | device << 4)
        settle(controlPort)
        outb(commandBase &+ 7, flushExt ? ATACommand.flushCacheExt : ATACommand.flushCache)
        commandsIssued &+= 1
        settle(controlPort)
        // A flush may take the drive many seconds (ACS: up to 30 s).
        guard let status = Self.waitWhileBusy(controlPort, ticks: Self.timeoutTicks(milliseconds: 30_000)) else {
            return fail(.timeout(phase: Phase.flush))
        }
        _ = inb(commandBase &+ 7)
        if status & (ATAStatus.error | ATAStatus.deviceFault) != 0 {
            return fail(.device(status: status, error: inb(commandBase &+ 1)))
        }
        return true
    }

    /// Splits a transfer into commands of at most `sectorsPerCommand` sectors.
    private mutating func transfer(lba: UInt64, sectors: UInt64, base: UnsafeMutableRawPointer?, write: Bool) -> Bool {
        guard sectors <= sectorCount, lba <= sectorCount &- sectors else { return fail(.outOfRange) }
        guard sectors > 0, let base else { return true }
        var done: UInt64 = 0
        while done < sectors {
            let count = min(sectors &- done, Self.sectorsPerCommand)
            guard command(lba: lba &+ done, count: count, buffer: base + Int(done &* 512), write: write) else { return false }
            done &+= count
        }
        return true
    }

    /// One READ/WRITE SECTORS (EXT) command: the PIO data-in or data-out protocol (ACS-2 Annex on
    /// PIO protocols): per sector, BSY clear and DRQ set, then 256 words; ERR or DF ends it.
    private mutating func command(lba: UInt64, count: UInt64, buffer: UnsafeMutableRawPointer, write: Bool) -> Bool {
        guard ready() else { return false }
        commandsIssued &+= 1
        let extended = lba48 && (alwaysExtended || lba &+ count > 0x0FFF_FFFF)
        if extended {
            outb(commandBase &+ 6, 0x40 | device << 4)
            // 48-bit registers are FIFOs of two bytes: the high-order byte first (ACS 6.2).
            outb(commandBase &+ 2, UInt8(truncatingIfNeeded: count >> 8))
            outb(commandBase &+ 3, UInt8(truncatingIfNeeded: lba >> 24))
            outb(commandBase &+ 4, UInt8(truncatingIfNeeded: lba >> 32))
            outb(commandBase &+ 5, UInt8(truncatingIfNeeded: lba >> 40))
            outb(commandBase &+ 2, UInt8(truncatingIfNeeded: count))
            outb(commandBase &+ 3, UInt8(truncatingIfNeeded: lba))
            outb(commandBase &+ 4, UInt8(truncatingIfNeeded: lba >> 8))
            outb(commandBase &+ 5, UInt8(truncatingIfNeeded: lba >> 16))
            outb(commandBase &+ 7, write ? ATACommand.writeSectorsExt : ATACommand.readSectorsExt)
        } else {
            outb(commandBase &+ 6, 0xE0 | device << 4 | UInt8(truncatingIfNeeded: lba >> 24) & 0x0F)
            outb(commandBase &+ 2, UInt8(truncatingIfNeeded: count))     // 256 is written as 0
            outb(commandBase &+ 3, UInt8(truncatingIfNeeded: lba))
            outb(commandBase &+ 4, UInt8(truncatingIfNeeded: lba >> 8))
            outb(commandBase &+ 5, UInt8(truncatingIfNeeded: lba >> 16))
            outb(commandBase &+ 7, write ? ATACommand.writeSectors : ATACommand.readSectors)
        }
        var sector: UInt64 = 0
        while sector < count {
            settle(controlPort)
            guard let status = Self.waitWhileBusy(controlPort, ticks: Self.timeoutTicks(milliseconds: 5_000)) else {
                return fail(.timeout(phase: Phase.data))
            }
            if status & (ATAStatus.error | ATAStatus.deviceFault) != 0 {
                _ = inb(commandBase &+ 7)
                return fail(.device(status: status, error: inb(commandBase &+ 1)))
            }
            guard status & ATAStatus.dataRequest != 0 else { return fail(.protocolViolation(status: status)) }
            let at = buffer + Int(sector &* 512)
            if write { outsw_block(commandBase, at, 256) } else { insw_block(commandBase, at, 256) }
            sector &+= 1
        }
        // After the last block: BSY clear, no DRQ, no error; reading Status clears INTRQ.
        settle(controlPort)
        guard let status = Self.waitWhileBusy(controlPort, ticks: Self.timeoutTicks(milliseconds: 5_000)) else {
            return fail(.timeout(phase: Phase.completion))
        }
        _ = inb(commandBase &+ 7)
        if status & (ATAStatus.error | ATAStatus.deviceFault) != 0 {
            return fail(.device(status: status, error: inb(commandBase &+ 1)))
        }
        if status & ATAStatus.dataRequest != 0 { return fail(.protocolViolation(status: status)) }
        return true
    }

    /// Selects the device and waits until it is neither BSY nor DRQ and is DRDY.
    private mutating func ready() -> Bool {
        outb(commandBase &+ 6, 0xA0 | device << 4)
        settle(controlPort)
        guard let status = Self.waitWhileBusy(controlPort, ticks: Self.timeoutTicks(milliseconds: 1000)) else {
            return fail(.timeout(phase: Phase.ready))
        }
        if status & (ATAStatus.ready | ATAStatus.dataRequest) != ATAStatus.ready {
            // A transfer left half done (a guest's request that failed mid-way): start over.
            softwareReset()
            return fail(.protocolViolation(status: status))
        }
        return true
    }

    /// Records the failure; a timed-out device is reset so the next command finds it idle.
    private mutating func fail(_ failure: Failure) -> Bool {
        lastFailure = failure
        if case .timeout = failure { softwareReset() }
        return false
    }

    /// SRST (ACS-2 11.2 Device Control): both devices of the channel reset, nIEN kept.
    private func softwareReset() {
        outb(controlPort, ATADeviceControl.interruptDisable | ATADeviceControl.softwareReset)
        Self.delay(ticks: Self.timeoutTicks(milliseconds: 1) / 100 + 1)     // ≥ 5 µs
        outb(controlPort, ATADeviceControl.interruptDisable)
        Self.delay(ticks: Self.timeoutTicks(milliseconds: 2))
        _ = Self.waitWhileBusy(controlPort, ticks: Self.timeoutTicks(milliseconds: 5_000))
    }

    // MARK: Timing

    /// The 400 ns a device may take to show a new Status after a command or a block:
    /// four Alternate Status reads (ACS-2: each ISA read takes at least 100 ns).
    @inline(__always)
    private func settle(_ control: UInt16) { Self.settle(control) }

    @inline(__always)
    private static func settle(_ control: UInt16) {
        _ = inb(control); _ = inb(control); _ = inb(control); _ = inb(control)
    }

    /// Polls Alternate Status until BSY clears; the status, or nil after `ticks` TSC ticks.
    private static func waitWhileBusy(_ control: UInt16, ticks: UInt64) -> UInt8? {
        let start = rdtsc()
        while true {
            let status = inb(control)
            if status & ATAStatus.busy == 0 { return status }
            if rdtsc() &- start > ticks { return nil }
            cpu_relax()
        }
    }

    private static func delay(ticks: UInt64) {
        let start = rdtsc()
        while rdtsc() &- start < ticks { cpu_relax() }
    }

    @inline(__always)
    private static func timeoutTicks(milliseconds: UInt64) -> UInt64 {
        HostTime.tscHz / 1000 &* milliseconds
    }
}
