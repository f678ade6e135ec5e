// One legacy IDE channel (primary: 0x1F0–0x1F7 + 0x3F6, IRQ 14) with an
// optional master disk, driven by PIO as ATA/ATAPI-6 describes: the command
// block register file, the Status/DRQ handshake, INTRQ with nIEN, software
// reset and the device signature. Like a real drive, the device is BSY for a
// while after a command is written and after each PIO data-out block (and
// between PIO data-in blocks): the channel enters a *busy phase* whose outcome
// (the Status it ends with, whether it raises INTRQ) is already decided, and
// whoever owns guest time (`VirtualPC`) ends it with `finishBusyPhase()` when
// the delay has passed. The interrupt therefore never arrives inside the very
// port access that started the work (ATA-6 9.6-9.10, the PIO protocols).

/// An IDE channel with at most one device, the master (device 0).
///
/// - No device at all (`ATAChannel.absent`): nobody drives the bus, every
///   register reads 0xFF (data 0xFFFF) and writes are ignored, which drivers
///   take as "no channel here" at once.
/// - Device 1 selected (DEV = 1) with no device 1: device 0 answers Status and
///   Alternate Status reads with 0x00 on its behalf (ATA-6 9.16.1), ignores
///   commands, and does not drive INTRQ. The other command block registers are
///   shared latches written to both devices, so they read back what was
///   written; Linux's `ata_sff_dev_classify` relies on the 0x00 status to
///   conclude "no device".
///
/// Route the command block ports with `offset = port − 0x1F0` and port 0x3F6
/// with `offset = ATARegister.control`; raise IRQ 14 while `irqPending`; when
/// `busyPhasePending` turns true, call `finishBusyPhase()` a short, fixed time later.
public struct ATAChannel<Storage: BlockStorage>: Device {
    /// Device 0, or nil for a channel with nothing attached.
    public private(set) var master: ATADisk<Storage>?

    // The command block register file (both devices latch every write).
    public private(set) var features: UInt8 = 0
    public private(set) var sectorCount: UInt8 = 0
    public private(set) var lbaLow: UInt8 = 0
    public private(set) var lbaMid: UInt8 = 0
    public private(set) var lbaHigh: UInt8 = 0
    public private(set) var deviceSelect: UInt8 = 0
    public private(set) var error: UInt8 = 0
    public private(set) var deviceControl: UInt8 = 0
    /// Device 0's Status register.
    private var status: UInt8 = ATAStatus.idle
    /// Device 0's interrupt pending state; INTRQ is this gated by nIEN and DEV.
    public private(set) var interruptPending = false
    /// Device 0 is BSY working on a command or block; `finishBusyPhase()` ends it.
    public private(set) var busyPhasePending = false
    /// The Status the busy phase ends with, and whether it then asserts INTRQ.
    private var statusAfterBusy: UInt8 = ATAStatus.idle
    private var interruptAfterBusy = false

    // The PIO transfer in progress.
    /// Transfer phases (constants, not an enum with cases, so that no Hashable
    /// witness, and with it the stdlib's random hashing seed, is emitted).
    private enum Phase {
        static var none: UInt8 { 0 }
        static var identify: UInt8 { 1 }
        static var read: UInt8 { 2 }
        static var write: UInt8 { 3 }
    }
    private var phase = Phase.none
    private var buffer = ATASectorWords(repeating: 0)
    /// The next word of `buffer` to transfer.
    private var wordIndex = 0
    /// The sector in `buffer` (read) or to be written from it (write).
    private var transferLBA: UInt64 = 0
    /// Sectors of the command not yet fully transferred, the current one included.
    private var sectorsRemaining = 0
    /// Sectors per DRQ block: 1, or the multiple setting for READ/WRITE MULTIPLE.
    private var blockSectors = 1
    /// Sectors of the current DRQ block not yet fully transferred.
    private var sectorsLeftInBlock = 0
    /// Whether the command addressed sectors by LBA (else CHS), for the register write-back.
    private var transferUsesLBA = true

    // Statistics.
    /// Sectors transferred to the host by READ SECTORS / READ MULTIPLE.
    public private(set) var sectorsRead: UInt64 = 0
    /// Sectors committed to the medium by WRITE SECTORS / WRITE MULTIPLE.
    public private(set) var sectorsWritten: UInt64 = 0
    /// Commands device 0 accepted for execution (including ones it aborted).
    public private(set) var commandsExecuted: UInt64 = 0
    /// The code of the last command device 0 executed.
    public private(set) var lastCommand: UInt8 = 0

    /// A channel whose master is `master` (nil: nothing attached), in the
    /// post-reset state: signature in the registers, status 0x50.
    public init(master: ATADisk<Storage>?) {
        self.master = master
        reset()
    }

    /// A channel with a master disk on `storage`.
    public init(storage: Storage) {
        self.init(master: ATADisk(storage: storage))
    }

    /// A channel with nothing attached: every register floats at 0xFF.
    public static var absent: ATAChannel { ATAChannel(master: nil) }

    /// Whether any device is attached (otherwise the bus floats).
    public var isPresent: Bool { master != nil }

    /// Hardware reset (power-on or RESET-): the device's settings revert to their
    /// defaults, any command ends, the signature is placed and nIEN is cleared.
    public mutating func reset() {
        deviceControl = 0
        features = 0
        master?.resetSettings()
        finishReset()
    }

    // MARK: Host view

    /// The INTRQ line (IRQ 14 on the primary channel): device 0 has an interrupt
    /// pending, nIEN is clear and device 0 is the selected device.
    public var irqPending: Bool {
        interruptPending && master != nil && !device1Selected
            && deviceControl & ATADeviceControl.interruptDisable == 0
    }

    /// The value a read of Alternate Status would return (no side effect).
    public var alternateStatus: UInt8 {
        guard master != nil else { return 0xFF }
        return device1Selected ? 0x00 : status
    }

    /// Whether a PIO data transfer is waiting for the host (Status.DRQ).
    public var dataRequested: Bool { phase != Phase.none && status & ATAStatus.dataRequest != 0 }

    /// The end of a busy phase: BSY clears, Status takes the value the command or
    /// block decided (DRQ for the next block, DRDY when done, ERR on failure) and,
    /// where the protocol says so, the device asserts its interrupt (INTRQ when
    /// nIEN is clear). Does nothing when no busy phase is pending.
    public mutating func finishBusyPhase() {
        guard busyPhasePending else { return }
        busyPhasePending = false
        status = statusAfterBusy
        if interruptAfterBusy { interruptPending = true }
    }

    // MARK: Device

    /// Offset 0 with a 2-, 4- or 8-byte access transfers 1, 2 or 4 data words
    /// (the first in the low bits). Other offsets are byte registers; a wider
    /// access is split into consecutive byte accesses, and bytes beyond the
    /// channel's registers read 0xFF.
    public mutating func read(offset: UInt64, size: Int) -> UInt64 {
        guard master != nil else { return IOAccess.allOnes(size: size) }
        if size == 1 { return UInt64(readRegister(offset)) }
        if offset == ATARegister.data {
            var value: UInt64 = 0
            var word = 0
            while word < size / 2 && word < 4 {
                value |= UInt64(readData()) << UInt64(word &* 16)
                word &+= 1
            }
            return value
        }
        var value: UInt64 = 0
        var index = 0
        while index < size && index < 8 {
            let byteOffset = offset &+ UInt64(index)
            let byte: UInt8 = Self.isByteRegister(byteOffset) ? readRegister(byteOffset) : 0xFF
            value |= UInt64(byte) << UInt64(index &* 8)
            index &+= 1
        }
        return value
    }

    /// Offset 0 with a 2-, 4- or 8-byte access transfers 1, 2 or 4 data words
    /// (the low word first). A 1-byte write to the data port is a driver bug and
    /// is ignored (committing a word with an undefined high byte would corrupt
    /// the sector). Other offsets as in `read`.
    public mutating func write(offset: UInt64, size: Int, value: UInt64) {
        guard master != nil else { return }
        if size == 1 { writeRegister(offset, UInt8(truncatingIfNeeded: value)); return }
        if offset == ATARegister.data {
            var word = 0
            while word < size / 2 && word < 4 {
                writeData(UInt16(truncatingIfNeeded: value >> UInt64(word &* 16)))
                word &+= 1
            }
            return
        }
        var index = 0
        while index < size && index < 8 {
            let byteOffset = offset &+ UInt64(index)
            if Self.isByteRegister(byteOffset) {
                writeRegister(byteOffset, UInt8(truncatingIfNeeded: value >> UInt64(index &* 8)))
            }
            index &+= 1
        }
    }

    // MARK: Registers

    /// A byte read of one register. A byte read of the data port returns the
    /// low byte of the next word and consumes the whole word, as the device
    /// sees a full DIOR- strobe.
    public mutating func readRegister(_ offset: UInt64) -> UInt8 {
        guard master != nil else { return 0xFF }
        if offset == ATARegister.control { return alternateStatus }
        // While BSY is set the device owns the register file: every command block
        // register reads as Status (ATA-2/3 behaviour, harmless under ATA-6).
        if status & ATAStatus.busy != 0 && offset <= ATARegister.status {
            return device1Selected ? 0x00 : status
        }
        switch offset {
        case ATARegister.data: return UInt8(truncatingIfNeeded: readData())
        case ATARegister.error: return error
        case ATARegister.sectorCount: return sectorCount
        case ATARegister.lbaLow: return lbaLow
        case ATARegister.lbaMid: return lbaMid
        case ATARegister.lbaHigh: return lbaHigh
        case ATARegister.device: return deviceSelect
        case ATARegister.status:
            if device1Selected { return 0x00 }
            // Reading Status (not Alternate Status) acknowledges the interrupt.
            interruptPending = false
            return status
        default: return 0xFF
        }
    }

    public mutating func writeRegister(_ offset: UInt64, _ value: UInt8) {
        guard master != nil else { return }
        if offset == ATARegister.control { writeDeviceControl(value); return }
        // Writes while BSY is set are not accepted (the host shall not make them).
        if status & ATAStatus.busy != 0 { return }
        switch offset {
        case ATARegister.data: break  // byte write of the data port: ignored, see `write`
        case ATARegister.features: features = value
        case ATARegister.sectorCount: sectorCount = value
        case ATARegister.lbaLow: lbaLow = value
        case ATARegister.lbaMid: lbaMid = value
        case ATARegister.lbaHigh: lbaHigh = value
        case ATARegister.device: deviceSelect = value
        case ATARegister.command: execute(value)
        default: break
        }
    }

    /// The next data word of a PIO data-in transfer; 0xFFFF when none is in
    /// progress (nothing drives the data lines).
    public mutating func readData() -> UInt16 {
        guard master != nil, !device1Selected, phase == Phase.read || phase == Phase.identify,
              status & ATAStatus.dataRequest != 0 else { return 0xFFFF }
        let word = buffer[wordIndex]
        wordIndex &+= 1
        if wordIndex == ATABlockStorage.wordsPerSector { finishDataInSector() }
        return word
    }

    /// The next data word of a PIO data-out transfer; ignored when none is in progress.
    public mutating func writeData(_ word: UInt16) {
        guard master != nil, !device1Selected, phase == Phase.write,
              status & ATAStatus.dataRequest != 0 else { return }
        buffer[wordIndex] = word
        wordIndex &+= 1
        if wordIndex == ATABlockStorage.wordsPerSector { finishDataOutSector() }
    }

    /// Device Control. Both devices see it whatever DEV selects. SRST going 1
    /// starts a reset (BSY, any command abandoned); SRST going 0 ends it: the
    /// signature is placed and the device is ready, without an interrupt
    /// (ATA-6 9.2). Settings (multiple mode, translation) survive a software reset.
    public mutating func writeDeviceControl(_ value: UInt8) {
        guard master != nil else { return }
        let wasResetting = deviceControl & ATADeviceControl.softwareReset != 0
        deviceControl = value
        let resetting = value & ATADeviceControl.softwareReset != 0
        if resetting && !wasResetting {
            phase = Phase.none
            wordIndex = 0
            interruptPending = false
            busyPhasePending = false
            status = ATAStatus.busy
        } else if !resetting && wasResetting {
            finishReset()
        }
    }

    // MARK: Commands

    private var device1Selected: Bool { deviceSelect & ATADeviceSelect.device1 != 0 }

    private static func isByteRegister(_ offset: UInt64) -> Bool {
        (offset >= ATARegister.error && offset <= ATARegister.status) || offset == ATARegister.control
    }

    /// The end of any reset and of EXECUTE DEVICE DIAGNOSTIC: the ATA signature
    /// (sector count 1, LBA low 1, LBA mid 0, LBA high 0, device 0; ATA-6 9.12),
    /// the diagnostic code in Error, status ready.
    private mutating func finishReset() {
        phase = Phase.none
        wordIndex = 0
        interruptPending = false
        busyPhasePending = false
        sectorCount = 1
        lbaLow = 1
        lbaMid = 0
        lbaHigh = 0
        deviceSelect = 0
        error = ATAError.diagnosticPassed
        status = ATAStatus.idle
    }

    private mutating func execute(_ command: UInt8) {
        guard master != nil else { return }
        if device1Selected {
            // The absent device 1 ignores its commands, except EXECUTE DEVICE
            // DIAGNOSTIC, which both devices run regardless of DEV (ATA-6 8.11).
            guard command == ATACommand.executeDeviceDiagnostic else { return }
        }
        // Writing Command clears a pending interrupt and ends any transfer.
        interruptPending = false
        phase = Phase.none
        wordIndex = 0
        error = 0
        commandsExecuted &+= 1
        lastCommand = command

        switch command {
        case ATACommand.readSectors, ATACommand.readSectorsNoRetry:
            startTransfer(phase: Phase.read, blockSectors: 1)
        case ATACommand.writeSectors, ATACommand.writeSectorsNoRetry:
            startTransfer(phase: Phase.write, blockSectors: 1)
        case ATACommand.readMultiple, ATACommand.writeMultiple:
            // Without SET MULTIPLE MODE having enabled multiple mode these are aborted.
            let block = Int(master?.multipleSectors ?? 0)
            if block == 0 { fail(ATAError.aborted); return }
            startTransfer(phase: command == ATACommand.readMultiple ? Phase.read : Phase.write, blockSectors: block)
        case ATACommand.readVerifySectors, ATACommand.readVerifySectorsNoRetry:
            // Reads the sectors without transferring them: only the address matters.
            guard let (lba, count) = requestedRange() else { return }
            if master!.contains(lba: lba, count: UInt64(count)) {
                complete()
            } else {
                fail(ATAError.idNotFound)
            }
        case ATACommand.identifyDevice:
            master!.identify(into: &buffer)
            phase = Phase.identify
            sectorsRemaining = 1
            blockSectors = 1
            sectorsLeftInBlock = 1
            // PIO data-in: BSY, then DRQ with INTRQ (ATA-6 9.7).
            becomeBusy(then: ATAStatus.dataReady, interrupt: true)
        case ATACommand.initializeDeviceParameters:
            // Sector count: logical sectors per track; device bits 3:0: heads − 1.
            let heads = (deviceSelect & ATADeviceSelect.headMask) &+ 1
            if master!.setTranslation(heads: heads, sectorsPerTrack: sectorCount) {
                complete()
            } else {
                fail(ATAError.aborted)
            }
        case ATACommand.setMultipleMode:
            if master!.setMultiple(sectorCount) { complete() } else { fail(ATAError.aborted) }
        case ATACommand.executeDeviceDiagnostic:
            // Device 0 passed, device 1 absent; device 0 interrupts (ATA-6 8.11).
            finishReset()
            becomeBusy(then: ATAStatus.idle, interrupt: true)
        case ATACommand.checkPowerMode:
            sectorCount = 0xFF  // active or idle
            complete()
        case ATACommand.flushCache:
            // Done when the medium says every completed write is on it (RAM: at once;
            // a host disk: its own FLUSH CACHE acknowledged).
            if master!.flush() { complete() } else { fail(ATAError.aborted) }
        case ATACommand.setFeatures,  // every subcommand accepted; none changes how the model behaves
             ATACommand.standbyImmediate, ATACommand.idleImmediate,
             ATACommand.standby, ATACommand.idle,
             ATACommand.recalibrate...0x1F,
             ATACommand.seek...0x7F:
            complete()
        default:
            // NOP, IDENTIFY PACKET DEVICE (this is not an ATAPI device), DEVICE RESET
            // (packet devices only), DMA, LBA48 and every unknown code.
            fail(ATAError.aborted)
        }
    }

    /// The start address and sector count (1...256; 0 means 256) of a media
    /// command, or nil after failing it with IDNF for an invalid CHS address.
    private mutating func requestedRange() -> (lba: UInt64, count: Int)? {
        let count = sectorCount == 0 ? 256 : Int(sectorCount)
        if deviceSelect & ATADeviceSelect.lba != 0 {
            transferUsesLBA = true
            let lba = UInt64(deviceSelect & ATADeviceSelect.headMask) << 24
                | UInt64(lbaHigh) << 16 | UInt64(lbaMid) << 8 | UInt64(lbaLow)
            return (lba, count)
        }
        transferUsesLBA = false
        let cylinder = UInt16(lbaHigh) << 8 | UInt16(lbaMid)
        let head = deviceSelect & ATADeviceSelect.headMask
        guard let lba = master!.currentGeometry.lba(cylinder: cylinder, head: head, sector: lbaLow) else {
            fail(ATAError.idNotFound)
            return nil
        }
        return (lba, count)
    }

    /// Starts READ/WRITE SECTORS or MULTIPLE. The whole range is checked first:
    /// a command reaching past the medium transfers nothing and fails with IDNF,
    /// the registers still holding its (first failing) start address.
    private mutating func startTransfer(phase newPhase: UInt8, blockSectors block: Int) {
        guard let (lba, count) = requestedRange() else { return }
        guard master!.contains(lba: lba, count: UInt64(count)) else {
            fail(ATAError.idNotFound)
            return
        }
        phase = newPhase
        transferLBA = lba
        sectorsRemaining = count
        blockSectors = block
        sectorsLeftInBlock = min(block, count)
        wordIndex = 0
        if newPhase == Phase.read {
            guard master!.read(sector: lba, into: &buffer) else { fail(ATAError.uncorrectable); return }
            // PIO data-in: BSY, then DRQ with INTRQ at the start of every block (ATA-6 9.7).
            becomeBusy(then: ATAStatus.dataReady, interrupt: true)
        } else {
            // PIO data-out: BSY, then DRQ; the host sends the first block without
            // waiting for an interrupt (ATA-6 9.8).
            becomeBusy(then: ATAStatus.dataReady, interrupt: false)
        }
    }

    /// The host has read the last word of the sector in `buffer`.
    private mutating func finishDataInSector() {
        wordIndex = 0
        if phase == Phase.identify {
            phase = Phase.none
            status = ATAStatus.idle
            return
        }
        sectorsRead &+= 1
        advance()
        if sectorsRemaining == 0 {
            // No interrupt after the last block of a PIO data-in command.
            phase = Phase.none
            status = ATAStatus.idle
            return
        }
        guard master!.read(sector: transferLBA, into: &buffer) else { fail(ATAError.uncorrectable); return }
        if sectorsLeftInBlock == 0 {
            // The next block: BSY while the drive reads it, then DRQ and INTRQ.
            sectorsLeftInBlock = min(blockSectors, sectorsRemaining)
            becomeBusy(then: ATAStatus.dataReady, interrupt: true)
        } else {
            // The next sector of the same block (READ MULTIPLE): DRQ stays set.
            status = ATAStatus.dataReady
        }
    }

    /// The host has written the 256th word of a sector: it goes to the medium.
    private mutating func finishDataOutSector() {
        wordIndex = 0
        // A medium that refuses the sector ends the command: ABRT, the registers
        // holding the failing sector's address (ATA-6 8.62: WRITE SECTORS errors).
        guard master!.write(sector: transferLBA, from: &buffer) else { fail(ATAError.aborted); return }
        sectorsWritten &+= 1
        advance()
        if sectorsRemaining == 0 {
            // BSY while the block is written, then the interrupt that completes the command.
            phase = Phase.none
            becomeBusy(then: ATAStatus.idle, interrupt: true)
            return
        }
        if sectorsLeftInBlock == 0 {
            // BSY while the block is written, then DRQ and INTRQ: the device wants the next one.
            sectorsLeftInBlock = min(blockSectors, sectorsRemaining)
            becomeBusy(then: ATAStatus.dataReady, interrupt: true)
        } else {
            // The next sector of the same block (WRITE MULTIPLE): DRQ stays set.
            status = ATAStatus.dataReady
        }
    }

    /// One sector done: move to the next, and keep the register file tracking
    /// the transfer (count of sectors left, address of the next sector) so an
    /// interrupted command leaves a meaningful address behind.
    private mutating func advance() {
        transferLBA &+= 1
        sectorsRemaining &-= 1
        sectorsLeftInBlock &-= 1
        sectorCount &-= 1
        if transferUsesLBA {
            lbaLow = UInt8(truncatingIfNeeded: transferLBA)
            lbaMid = UInt8(truncatingIfNeeded: transferLBA >> 8)
            lbaHigh = UInt8(truncatingIfNeeded: transferLBA >> 16)
            deviceSelect = (deviceSelect & ~ATADeviceSelect.headMask)
                | UInt8(truncatingIfNeeded: transferLBA >> 24) & ATADeviceSelect.headMask
        } else {
            let chs = master!.currentGeometry.chs(lba: transferLBA)
            lbaLow = chs.sector
            lbaMid = UInt8(truncatingIfNeeded: chs.cylinder)
            lbaHigh = UInt8(truncatingIfNeeded: chs.cylinder >> 8)
            deviceSelect = (deviceSelect & ~ATADeviceSelect.headMask) | (chs.head & ATADeviceSelect.headMask)
        }
    }

    /// A command without data completes: BSY, then ready and interrupt (ATA-6 9.9).
    private mutating func complete() {
        becomeBusy(then: ATAStatus.idle, interrupt: true)
    }

    /// A command fails: BSY, then Status ERR (0x41), the cause in Error, interrupt.
    private mutating func fail(_ cause: UInt8) {
        phase = Phase.none
        error = cause
        becomeBusy(then: ATAStatus.failed, interrupt: true)
    }

    /// Status BSY (DRQ clear) until `finishBusyPhase()`, which sets `next` and,
    /// with `interrupt`, asserts the interrupt.
    private mutating func becomeBusy(then next: UInt8, interrupt: Bool) {
        status = ATAStatus.busy
        statusAfterBusy = next
        interruptAfterBusy = interrupt
        busyPhasePending = true
    }
}
