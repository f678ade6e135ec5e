import XCTest
@testable import Machine

/// Host memory standing in for a disk image.
final class ATATestImage {
    let pointer: UnsafeMutableRawPointer
    let sectors: Int

    init(sectors: Int) {
        self.sectors = sectors
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(sectors * 512, 1), alignment: 16)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(sectors * 512, 1))
    }

    deinit { pointer.deallocate() }

    var storage: ATABlockStorage { ATABlockStorage(base: pointer, sectorCount: UInt64(sectors)) }

    func byte(_ offset: Int) -> UInt8 { pointer.load(fromByteOffset: offset, as: UInt8.self) }

    /// Fills every sector with `ATATestImage.patternWord(lba:index:)`.
    func fillPattern() {
        for lba in 0..<sectors {
            for index in 0..<256 {
                pointer.storeBytes(of: Self.patternWord(lba: lba, index: index).littleEndian,
                                   toByteOffset: lba * 512 + index * 2, as: UInt16.self)
            }
        }
    }

    static func patternWord(lba: Int, index: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: lba &* 0x9E37 ^ index &* 0x0101 ^ 0x5A00)
    }

    func words(lba: Int) -> [UInt16] {
        precondition(lba >= 0 && lba < sectors, "sector outside the test image")
        return (0..<256).map { UInt16(littleEndian: pointer.load(fromByteOffset: lba * 512 + $0 * 2, as: UInt16.self)) }
    }
}

/// Driver-side helpers: what a PIO driver does through the ports. The `issue…`
/// and block helpers let the drive's busy phase run to its end (`settle`), as a
/// driver that waits for BSY to clear sees it; the busy phase itself is tested
/// with raw register accesses.
extension ATAChannel {
    /// Time passes until the drive is no longer BSY with work in hand.
    mutating func settle() {
        XCTAssertEqual(busyPhasePending, inb(ATARegister.control) == ATAStatus.busy)
        finishBusyPhase()
    }

    mutating func outb(_ register: UInt64, _ value: UInt8) {
        write(offset: register, size: 1, value: UInt64(value))
    }

    mutating func inb(_ register: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: read(offset: register, size: 1))
    }

    /// Sets up an LBA28 command for device 0 and issues it.
    mutating func issueLBA(_ command: UInt8, lba: UInt32, count: UInt8) {
        outb(ATARegister.device, 0xE0 | UInt8(truncatingIfNeeded: lba >> 24) & 0x0F)
        outb(ATARegister.sectorCount, count)
        outb(ATARegister.lbaLow, UInt8(truncatingIfNeeded: lba))
        outb(ATARegister.lbaMid, UInt8(truncatingIfNeeded: lba >> 8))
        outb(ATARegister.lbaHigh, UInt8(truncatingIfNeeded: lba >> 16))
        outb(ATARegister.command, command)
        settle()
    }

    /// Sets up a CHS command for device 0 and issues it.
    mutating func issueCHS(_ command: UInt8, cylinder: UInt16, head: UInt8, sector: UInt8, count: UInt8) {
        outb(ATARegister.device, 0xA0 | head & 0x0F)
        outb(ATARegister.sectorCount, count)
        outb(ATARegister.lbaLow, sector)
        outb(ATARegister.lbaMid, UInt8(truncatingIfNeeded: cylinder))
        outb(ATARegister.lbaHigh, UInt8(truncatingIfNeeded: cylinder >> 8))
        outb(ATARegister.command, command)
        settle()
    }

    mutating func issue(_ command: UInt8) {
        outb(ATARegister.command, command)
        settle()
    }

    /// 256 16-bit reads of the data port (then the next block's busy phase, if any, ends).
    mutating func readBlock() -> [UInt16] {
        let words = (0..<256).map { _ in UInt16(truncatingIfNeeded: read(offset: ATARegister.data, size: 2)) }
        settle()
        return words
    }

    /// 256 16-bit writes of the data port (then the block's busy phase ends).
    mutating func writeBlock(_ words: [UInt16]) {
        for word in words { write(offset: ATARegister.data, size: 2, value: UInt64(word)) }
        settle()
    }
}

final class ATAChannelTests: XCTestCase {
    private func makeChannel(sectors: Int = 64) -> (ATAChannel<ATABlockStorage>, ATATestImage) {
        let image = ATATestImage(sectors: sectors)
        return (ATAChannel(storage: image.storage), image)
    }

    private func block(seed: Int) -> [UInt16] {
        (0..<256).map { UInt16(truncatingIfNeeded: seed &* 0x3131 &+ $0 &* 7) }
    }

    // MARK: Reset state and signature

    func testPowerOnSignatureAndIdleStatus() {
        let (channel, _) = makeChannel()
        var ata = channel
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.inb(ATARegister.control), 0x50)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x01)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaMid), 0)
        XCTAssertEqual(ata.inb(ATARegister.lbaHigh), 0)
        XCTAssertEqual(ata.inb(ATARegister.device), 0)
        XCTAssertFalse(ata.irqPending)
        XCTAssertTrue(ata.isPresent)
    }

    func testRegistersLatchAndReadBack() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.sectorCount, 0x55)
        ata.outb(ATARegister.lbaLow, 0xAA)
        ata.outb(ATARegister.lbaMid, 0x12)
        ata.outb(ATARegister.lbaHigh, 0x34)
        ata.outb(ATARegister.device, 0xE5)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 0x55)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 0xAA)
        XCTAssertEqual(ata.inb(ATARegister.lbaMid), 0x12)
        XCTAssertEqual(ata.inb(ATARegister.lbaHigh), 0x34)
        XCTAssertEqual(ata.inb(ATARegister.device), 0xE5)
        // A 16-bit access to a byte register is split: sector count, then LBA low.
        XCTAssertEqual(ata.read(offset: ATARegister.sectorCount, size: 2), 0xAA55)
        // Bytes past the command block are not the channel's.
        XCTAssertEqual(ata.read(offset: ATARegister.status, size: 2), 0xFF50)
    }

    func testSoftwareResetBusyThenSignature() {
        var (ata, _) = makeChannel()
        ata.issueLBA(ATACommand.readSectors, lba: 5, count: 4)
        XCTAssertEqual(ata.inb(ATARegister.control), 0x58)
        XCTAssertTrue(ata.irqPending)

        ata.outb(ATARegister.control, ATADeviceControl.softwareReset | ATADeviceControl.interruptDisable)
        XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY while SRST is set")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x80)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 0x80, "registers read as Status while BSY")
        XCTAssertFalse(ata.interruptPending, "reset clears a pending interrupt")
        ata.outb(ATARegister.lbaLow, 0x77)  // ignored while BSY
        ata.outb(ATARegister.command, ATACommand.identifyDevice)  // ignored while BSY

        ata.outb(ATARegister.control, ATADeviceControl.interruptDisable)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaMid), 0)
        XCTAssertEqual(ata.inb(ATARegister.lbaHigh), 0)
        XCTAssertEqual(ata.inb(ATARegister.device), 0)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x01, "diagnostic code: device 0 passed")
        XCTAssertFalse(ata.interruptPending, "no interrupt after a software reset")
        XCTAssertFalse(ata.dataRequested, "the interrupted read is gone")
        XCTAssertEqual(ata.read(offset: ATARegister.data, size: 2), 0xFFFF)
    }

    func testExecuteDeviceDiagnostic() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.lbaMid, 0x14)
        ata.outb(ATARegister.device, 0xB0)  // even with device 1 selected, device 0 runs it
        ata.issue(ATACommand.executeDeviceDiagnostic)
        XCTAssertTrue(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.device), 0)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x01)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaMid), 0)
    }

    // MARK: Absent devices

    func testAbsentSlaveReadsZeroStatusAndIgnoresCommands() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.device, 0xB0)  // DEV = 1
        XCTAssertEqual(ata.inb(ATARegister.status), 0x00)
        XCTAssertEqual(ata.inb(ATARegister.control), 0x00)
        ata.outb(ATARegister.sectorCount, 0x55)
        ata.outb(ATARegister.lbaLow, 0xAA)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 0x55, "the register file is shared")
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 0xAA)
        ata.issue(ATACommand.identifyDevice)
        XCTAssertFalse(ata.interruptPending)
        XCTAssertFalse(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x00)
        XCTAssertEqual(ata.read(offset: ATARegister.data, size: 2), 0xFFFF)
        XCTAssertEqual(ata.commandsExecuted, 0)

        ata.outb(ATARegister.device, 0xA0)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    func testSelectingSlaveTristatesMasterInterrupt() {
        var (ata, _) = makeChannel()
        ata.issue(ATACommand.flushCache)
        XCTAssertTrue(ata.irqPending)
        ata.outb(ATARegister.device, 0xB0)
        XCTAssertFalse(ata.irqPending, "only the selected device drives INTRQ")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x00)
        ata.outb(ATARegister.device, 0xA0)
        XCTAssertTrue(ata.irqPending, "the slave's status read did not acknowledge the master")
    }

    func testChannelWithoutDiskFloats() {
        var ata = ATAChannel<ATABlockStorage>.absent
        XCTAssertFalse(ata.isPresent)
        for register in UInt64(0)...7 {
            XCTAssertEqual(ata.read(offset: register, size: 1), 0xFF, "register \(register)")
        }
        XCTAssertEqual(ata.read(offset: ATARegister.control, size: 1), 0xFF)
        XCTAssertEqual(ata.read(offset: ATARegister.data, size: 2), 0xFFFF)
        XCTAssertEqual(ata.read(offset: ATARegister.data, size: 4), 0xFFFF_FFFF)
        ata.outb(ATARegister.sectorCount, 0x55)
        ata.issue(ATACommand.identifyDevice)
        ata.outb(ATARegister.control, ATADeviceControl.softwareReset)
        ata.outb(ATARegister.control, 0)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 0xFF)
        XCTAssertEqual(ata.inb(ATARegister.status), 0xFF)
        XCTAssertFalse(ata.irqPending)
        var bare = ATAChannel<ATABlockStorage>(master: nil)
        XCTAssertEqual(bare.inb(ATARegister.lbaHigh), 0xFF)
    }

    // MARK: IDENTIFY DEVICE

    func testIdentifyTransferStatusAndInterrupt() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.device, 0xA0)
        ata.issue(ATACommand.identifyDevice)
        XCTAssertTrue(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.control), 0x58)
        XCTAssertTrue(ata.irqPending, "alternate status does not acknowledge")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        XCTAssertFalse(ata.irqPending, "status read acknowledges")
        var words: [UInt16] = []
        for index in 0..<256 {
            XCTAssertEqual(ata.inb(ATARegister.control), 0x58, "DRQ before word \(index)")
            words.append(UInt16(truncatingIfNeeded: ata.read(offset: ATARegister.data, size: 2)))
        }
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertFalse(ata.irqPending, "no interrupt after the last data-in block")
        XCTAssertEqual(words[0], 0x0040)
        XCTAssertEqual(ata.read(offset: ATARegister.data, size: 2), 0xFFFF, "no DRQ: the bus floats")
    }

    private func identify(_ ata: inout ATAChannel<ATABlockStorage>) -> [UInt16] {
        ata.outb(ATARegister.device, 0xA0)
        ata.issue(ATACommand.identifyDevice)
        _ = ata.inb(ATARegister.status)
        return ata.readBlock()
    }

    private func ataString(_ words: [UInt16], _ range: Range<Int>) -> String {
        var bytes: [UInt8] = []
        for index in range {
            bytes.append(UInt8(words[index] >> 8))
            bytes.append(UInt8(words[index] & 0xFF))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testIdentifyStringsAreByteSwappedAndPadded() {
        var (ata, _) = makeChannel()
        let words = identify(&ata)
        XCTAssertEqual(words[27], 0x5357, "\"SW\": first character in the high byte")
        XCTAssertEqual(words[28], 0x4946, "\"IF\"")
        XCTAssertEqual(ataString(words, 27..<47), "SWIFTVISOR VIRTUAL DISK" + String(repeating: " ", count: 17))
        XCTAssertEqual(ataString(words, 10..<20), "SV0000000001        ")
        XCTAssertEqual(ataString(words, 23..<27), "1.0     ")
        XCTAssertEqual(words[46], 0x2020)
    }

    func testIdentifyCustomStringsAreTruncated() {
        let image = ATATestImage(sectors: 8)
        let disk = ATADisk(storage: image.storage, serialNumber: "123456789012345678901234",
                           firmwareRevision: "ABC", model: "M")
        var ata = ATAChannel(master: disk)
        let words = identify(&ata)
        XCTAssertEqual(ataString(words, 10..<20), "12345678901234567890")
        XCTAssertEqual(ataString(words, 23..<27), "ABC     ")
        XCTAssertEqual(words[27], 0x4D20)
        XCTAssertEqual(words[21], 0, "nothing spills past the serial number")
    }

    func testIdentifyGeometryAndCapacityOf10MiBImage() {
        var (ata, _) = makeChannel(sectors: 10 * 1024 * 1024 / 512)  // 20480 sectors
        let words = identify(&ata)
        XCTAssertEqual(words[0], 0x0040, "fixed ATA device")
        XCTAssertEqual(words[1], 20, "20480 / (16 × 63) cylinders")
        XCTAssertEqual(words[3], 16)
        XCTAssertEqual(words[6], 63)
        XCTAssertEqual(words[47], 0x8010)
        XCTAssertNotEqual(words[49] & 0x0200, 0, "LBA supported")
        XCTAssertEqual(words[49] & 0x0100, 0, "no DMA")
        XCTAssertEqual(words[53] & 1, 1, "words 54–58 valid")
        XCTAssertEqual(words[54], 20)
        XCTAssertEqual(words[55], 16)
        XCTAssertEqual(words[56], 63)
        XCTAssertEqual(UInt32(words[58]) << 16 | UInt32(words[57]), 20 * 16 * 63)
        XCTAssertEqual(words[59], 0, "multiple mode off at power-on")
        XCTAssertEqual(UInt32(words[61]) << 16 | UInt32(words[60]), 20480)
        XCTAssertNotEqual(words[80] & 0x0040, 0, "ATA/ATAPI-6")
        XCTAssertEqual(words[83] & 0xC000, 0x4000, "word 83 valid")
        XCTAssertEqual(words[83] & 0x0400, 0, "no LBA48")
        XCTAssertNotEqual(words[83] & 0x1000, 0, "FLUSH CACHE")
        XCTAssertEqual(words[84] & 0xC000, 0x4000)
        XCTAssertEqual(words[87] & 0xC000, 0x4000)
    }

    func testIdentifyChecksum() {
        for sectors in [1, 64, 20480, 123_457] {
            let image = ATATestImage(sectors: min(sectors, 64))
            let storage = ATABlockStorage(base: image.pointer, sectorCount: UInt64(sectors))
            var ata = ATAChannel(storage: storage)
            let words = identify(&ata)
            XCTAssertEqual(words[255] & 0xFF, 0xA5)
            var sum: UInt8 = 0
            for word in words { sum = sum &+ UInt8(word & 0xFF) &+ UInt8(word >> 8) }
            XCTAssertEqual(sum, 0, "\(sectors) sectors")
        }
    }

    func testIdentifyLargeDisksCapCylindersAndLBA28() {
        let image = ATATestImage(sectors: 1)  // IDENTIFY never touches the medium
        var big = ATAChannel(storage: ATABlockStorage(base: image.pointer, sectorCount: 40_000_000))
        var words = identify(&big)
        XCTAssertEqual(words[1], 16383)
        XCTAssertEqual(words[3], 16)
        XCTAssertEqual(words[6], 63)
        XCTAssertEqual(UInt32(words[61]) << 16 | UInt32(words[60]), 40_000_000)

        var huge = ATAChannel(storage: ATABlockStorage(base: image.pointer, sectorCount: 1 << 30))
        words = identify(&huge)
        XCTAssertEqual(UInt32(words[61]) << 16 | UInt32(words[60]), 0x0FFF_FFFF, "LBA28 limit")

        var tiny = ATAChannel(storage: ATABlockStorage(base: image.pointer, sectorCount: 1))
        words = identify(&tiny)
        XCTAssertEqual(words[1], 1, "at least one cylinder")
        XCTAssertEqual(UInt32(words[61]) << 16 | UInt32(words[60]), 1)
    }

    func testIdentifyWith32BitAccessesMatches16Bit() {
        var (ata, _) = makeChannel()
        let expected = identify(&ata)
        ata.issue(ATACommand.identifyDevice)
        var words: [UInt16] = []
        for _ in 0..<128 {
            let pair = ata.read(offset: ATARegister.data, size: 4)
            words.append(UInt16(truncatingIfNeeded: pair))
            words.append(UInt16(truncatingIfNeeded: pair >> 16))
        }
        XCTAssertEqual(words, expected)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    func testIdentifyPacketDeviceAborts() {
        var (ata, _) = makeChannel()
        ata.issue(ATACommand.identifyPacketDevice)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x04)
        XCTAssertFalse(ata.dataRequested)
    }

    // MARK: Reads and writes

    func testWriteThenReadBackLBA28() {
        var (ata, image) = makeChannel()
        let data = block(seed: 1)
        ata.issueLBA(ATACommand.writeSectors, lba: 7, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58, "the device asks for data")
        XCTAssertFalse(ata.irqPending, "no interrupt before the first data-out block")
        ata.writeBlock(Array(data[0..<255]))
        XCTAssertEqual(image.words(lba: 7), [UInt16](repeating: 0, count: 256), "nothing committed before word 256")
        XCTAssertEqual(ata.inb(ATARegister.control), 0x58)
        ata.write(offset: ATARegister.data, size: 2, value: UInt64(data[255]))
        XCTAssertEqual(image.words(lba: 7), data)
        XCTAssertEqual(image.byte(7 * 512), UInt8(data[0] & 0xFF), "little-endian on the medium")
        XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY while the block is written")
        XCTAssertFalse(ata.irqPending)
        ata.finishBusyPhase()
        XCTAssertTrue(ata.irqPending, "completion interrupt")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertFalse(ata.irqPending)

        ata.issueLBA(ATACommand.readSectors, lba: 7, count: 1)
        XCTAssertTrue(ata.irqPending, "the sector is ready")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        XCTAssertEqual(ata.readBlock(), data)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.sectorsRead, 1)
        XCTAssertEqual(ata.sectorsWritten, 1)
    }

    func testLBA28UsesDeviceRegisterBits() {
        let image = ATATestImage(sectors: 1)
        // A medium claiming 2^25 sectors; only sector 0x0100_0000 + 0 is checked through the
        // address decode, by failing one past the end.
        var ata = ATAChannel(storage: ATABlockStorage(base: image.pointer, sectorCount: 0x0100_0000))
        ata.issueLBA(ATACommand.readVerifySectors, lba: 0x00FF_FFFF, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        ata.issueLBA(ATACommand.readVerifySectors, lba: 0x0100_0000, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "LBA bit 24 comes from the device register")
        XCTAssertEqual(ata.inb(ATARegister.error), 0x10)
    }

    func testWriteThenReadBackCHS() {
        var (ata, image) = makeChannel(sectors: 20480)
        let data = block(seed: 2)
        // (C 1, H 2, S 3) → (1 × 16 + 2) × 63 + 3 − 1 = 1136.
        ata.issueCHS(ATACommand.writeSectors, cylinder: 1, head: 2, sector: 3, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        ata.writeBlock(data)
        XCTAssertEqual(image.words(lba: 1136), data)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)

        // Read it back through LBA, and through CHS.
        ata.issueLBA(ATACommand.readSectors, lba: 1136, count: 1)
        XCTAssertEqual(ata.readBlock(), data)
        ata.issueCHS(ATACommand.readSectors, cylinder: 1, head: 2, sector: 3, count: 1)
        XCTAssertEqual(ata.readBlock(), data)

        // The last sector of the default translation: (19 × 16 + 15) × 63 + 62 = 20159.
        let last = block(seed: 3)
        ata.issueCHS(ATACommand.writeSectors, cylinder: 19, head: 15, sector: 63, count: 1)
        ata.writeBlock(last)
        XCTAssertEqual(image.words(lba: 20159), last)

        // A cylinder above 255 uses the cylinder high register. With a 1-head,
        // 1-sector translation (INITIALIZE DEVICE PARAMETERS) the cylinder is the LBA.
        ata.outb(ATARegister.device, 0xA0)
        ata.outb(ATARegister.sectorCount, 1)
        ata.issue(ATACommand.initializeDeviceParameters)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        let far = block(seed: 4)
        ata.issueCHS(ATACommand.writeSectors, cylinder: 0x1234, head: 0, sector: 1, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        ata.writeBlock(far)
        XCTAssertEqual(image.words(lba: 0x1234), far)
    }

    func testCHSCrossesTracksAndUpdatesRegisters() {
        var (ata, image) = makeChannel(sectors: 20480)
        image.fillPattern()
        // Sector 63 of head 0 then sector 1 of head 1: LBAs 62 and 63.
        ata.issueCHS(ATACommand.readSectors, cylinder: 0, head: 0, sector: 63, count: 2)
        XCTAssertEqual(ata.readBlock(), image.words(lba: 62))
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 1)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 1, "next sector number")
        XCTAssertEqual(ata.inb(ATARegister.device) & 0x0F, 1, "next head")
        XCTAssertEqual(ata.readBlock(), image.words(lba: 63))
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    func testInvalidCHSAddressFailsIDNF() {
        var (ata, _) = makeChannel(sectors: 20480)
        ata.issueCHS(ATACommand.readSectors, cylinder: 0, head: 0, sector: 0, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "sector numbers start at 1")
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.idNotFound)
        ata.issueCHS(ATACommand.readSectors, cylinder: 0, head: 0, sector: 64, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.idNotFound)
        // Cylinder 20 lies past the 20 reported cylinders but its sectors (20160...) exist:
        // only the capacity limits an address. Cylinder 21 starts at 21168 > 20480.
        ata.issueCHS(ATACommand.readSectors, cylinder: 20, head: 0, sector: 1, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        ata.issueCHS(ATACommand.readSectors, cylinder: 21, head: 0, sector: 1, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41)
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.idNotFound)
    }

    func testReadSectorCountZeroMeans256() {
        var (ata, image) = makeChannel(sectors: 400)
        image.fillPattern()
        ata.issueLBA(ATACommand.readSectors, lba: 100, count: 0)
        for sector in 0..<256 {
            XCTAssertTrue(ata.irqPending, "interrupt for sector \(sector)")
            XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
            XCTAssertFalse(ata.irqPending)
            let words = ata.readBlock()
            if words != image.words(lba: 100 + sector) {
                XCTFail("sector \(100 + sector) differs")
                return
            }
        }
        XCTAssertFalse(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.sectorsRead, 256)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 0)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), UInt8((100 + 256) & 0xFF), "next LBA")
        XCTAssertEqual(ata.inb(ATARegister.lbaMid), UInt8((100 + 256) >> 8))
    }

    func testWriteSectorCountZeroMeans256() {
        var (ata, image) = makeChannel(sectors: 300)
        ata.issueLBA(ATACommand.writeSectors, lba: 20, count: 0)
        for sector in 0..<256 {
            XCTAssertEqual(ata.inb(ATARegister.control), 0x58, "sector \(sector)")
            ata.writeBlock(block(seed: sector))
            XCTAssertTrue(ata.irqPending, "interrupt after sector \(sector)")
            _ = ata.inb(ATARegister.status)
        }
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.sectorsWritten, 256)
        XCTAssertEqual(image.words(lba: 20), block(seed: 0))
        XCTAssertEqual(image.words(lba: 275), block(seed: 255))
        XCTAssertEqual(image.words(lba: 276), [UInt16](repeating: 0, count: 256))
        XCTAssertEqual(image.words(lba: 19), [UInt16](repeating: 0, count: 256))
    }

    func testMultiSectorReadStatusBetweenSectors() {
        var (ata, image) = makeChannel()
        image.fillPattern()
        ata.issueLBA(ATACommand.readSectors, lba: 3, count: 3)
        for sector in 0..<3 {
            XCTAssertTrue(ata.irqPending)
            XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
            for index in 0..<256 {
                XCTAssertEqual(ata.inb(ATARegister.control), 0x58)
                let word = UInt16(truncatingIfNeeded: ata.read(offset: ATARegister.data, size: 2))
                XCTAssertEqual(word, ATATestImage.patternWord(lba: 3 + sector, index: index))
            }
            if sector < 2 {
                // Between blocks: BSY with DRQ clear, no interrupt, the data port floats.
                XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY after sector \(sector)")
                XCTAssertFalse(ata.irqPending)
                XCTAssertEqual(ata.read(offset: ATARegister.data, size: 2), 0xFFFF)
                ata.finishBusyPhase()
            }
        }
        XCTAssertEqual(ata.inb(ATARegister.control), 0x50, "no busy phase after the last data-in block")
        XCTAssertFalse(ata.busyPhasePending)
        XCTAssertFalse(ata.irqPending)
    }

    func testInterruptDisableGatesLineNotPending() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.control, ATADeviceControl.interruptDisable)
        ata.issue(ATACommand.flushCache)
        XCTAssertTrue(ata.interruptPending)
        XCTAssertFalse(ata.irqPending, "nIEN keeps INTRQ released")
        ata.outb(ATARegister.control, 0)
        XCTAssertTrue(ata.irqPending, "clearing nIEN shows the pending interrupt")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertFalse(ata.irqPending)

        // Polling with nIEN: the status read still acknowledges.
        ata.outb(ATARegister.control, ATADeviceControl.interruptDisable)
        ata.issueLBA(ATACommand.readSectors, lba: 0, count: 1)
        XCTAssertFalse(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        ata.outb(ATARegister.control, 0)
        XCTAssertFalse(ata.irqPending)
    }

    func testCommandWriteClearsPendingInterrupt() {
        var (ata, _) = makeChannel()
        ata.issue(ATACommand.setFeatures)
        XCTAssertTrue(ata.irqPending)
        ata.outb(ATARegister.control, ATADeviceControl.interruptDisable)
        ata.issueLBA(ATACommand.writeSectors, lba: 0, count: 1)
        XCTAssertFalse(ata.interruptPending, "writing Command acknowledges the previous interrupt")
    }

    func testOutOfRangeFailsIDNFWithoutTransfer() {
        var (ata, image) = makeChannel(sectors: 64)
        ata.issueLBA(ATACommand.readSectors, lba: 64, count: 1)
        XCTAssertTrue(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x10)
        XCTAssertEqual(ata.read(offset: ATARegister.data, size: 2), 0xFFFF)

        ata.issueLBA(ATACommand.writeSectors, lba: 63, count: 2)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "the range must fit as a whole")
        XCTAssertEqual(ata.inb(ATARegister.error), 0x10)
        ata.writeBlock(block(seed: 9))
        XCTAssertEqual(image.words(lba: 63), [UInt16](repeating: 0, count: 256))
        XCTAssertEqual(ata.sectorsWritten, 0)

        ata.issueLBA(ATACommand.readSectors, lba: 0x0FFF_FFFF, count: 0)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x10)

        // The last sector is fine, and ERR clears with the next command.
        ata.issueLBA(ATACommand.readSectors, lba: 63, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
        XCTAssertEqual(ata.inb(ATARegister.error), 0)
    }

    func testUnknownCommandAborts() {
        var (ata, _) = makeChannel()
        for command: UInt8 in [0xFF, ATACommand.nop, 0xC8 /* READ DMA */, 0x24 /* READ SECTORS EXT */, 0x08] {
            ata.issue(command)
            XCTAssertTrue(ata.irqPending)
            XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "command \(command)")
            XCTAssertEqual(ata.inb(ATARegister.error), 0x04)
        }
        ata.issue(ATACommand.flushCache)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.lastCommand, ATACommand.flushCache)
    }

    func testAcceptedNonDataCommands() {
        var (ata, _) = makeChannel()
        for command in [ATACommand.flushCache, ATACommand.setFeatures, ATACommand.idleImmediate,
                        ATACommand.standbyImmediate, ATACommand.recalibrate, 0x1F, ATACommand.seek] {
            ata.issue(command)
            XCTAssertTrue(ata.irqPending, "command \(command)")
            XCTAssertEqual(ata.inb(ATARegister.status), 0x50, "command \(command)")
            XCTAssertFalse(ata.irqPending)
        }
        ata.issue(ATACommand.checkPowerMode)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(ata.inb(ATARegister.sectorCount), 0xFF, "active or idle")
    }

    func testReadVerify() {
        var (ata, _) = makeChannel(sectors: 64)
        ata.issueLBA(ATACommand.readVerifySectors, lba: 0, count: 64)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertFalse(ata.dataRequested)
        ata.issueLBA(ATACommand.readVerifySectors, lba: 1, count: 64)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x10)
        XCTAssertEqual(ata.sectorsRead, 0)
    }

    // MARK: Data port widths

    func testByteAccessToDataPort() {
        var (ata, image) = makeChannel()
        image.fillPattern()
        ata.issueLBA(ATACommand.readSectors, lba: 2, count: 1)
        let first = ata.inb(ATARegister.data)
        XCTAssertEqual(first, UInt8(ATATestImage.patternWord(lba: 2, index: 0) & 0xFF), "low byte")
        let second = UInt16(truncatingIfNeeded: ata.read(offset: ATARegister.data, size: 2))
        XCTAssertEqual(second, ATATestImage.patternWord(lba: 2, index: 1), "the byte read consumed a word")

        ata.issueLBA(ATACommand.writeSectors, lba: 4, count: 1)
        ata.outb(ATARegister.data, 0x12)  // ignored
        ata.writeBlock(block(seed: 4))
        XCTAssertEqual(image.words(lba: 4), block(seed: 4))
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    func testDwordWritesAreTwoWords() {
        var (ata, image) = makeChannel()
        let data = block(seed: 5)
        ata.issueLBA(ATACommand.writeSectors, lba: 1, count: 1)
        for pair in 0..<128 {
            let value = UInt64(data[pair * 2]) | UInt64(data[pair * 2 + 1]) << 16
            ata.write(offset: ATARegister.data, size: 4, value: value)
        }
        ata.settle()
        XCTAssertEqual(image.words(lba: 1), data)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    // MARK: Multiple mode, translation

    func testReadWriteMultiple() {
        var (ata, image) = makeChannel()
        image.fillPattern()
        ata.issueLBA(ATACommand.readMultiple, lba: 0, count: 4)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "multiple mode is off")
        XCTAssertEqual(ata.inb(ATARegister.error), 0x04)

        ata.outb(ATARegister.sectorCount, 3)
        ata.issue(ATACommand.setMultipleMode)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "not a power of two")
        ata.outb(ATARegister.sectorCount, 32)
        ata.issue(ATACommand.setMultipleMode)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "above word 47's limit")
        ata.outb(ATARegister.sectorCount, 4)
        ata.issue(ATACommand.setMultipleMode)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertEqual(identify(&ata)[59], 0x0104)

        // 10 sectors in blocks of 4, 4, 2: one interrupt per block.
        ata.issueLBA(ATACommand.readMultiple, lba: 10, count: 10)
        for sector in 0..<10 {
            XCTAssertEqual(ata.interruptPending, sector % 4 == 0, "sector \(sector)")
            XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
            XCTAssertEqual(ata.readBlock(), image.words(lba: 10 + sector))
        }
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)

        ata.issueLBA(ATACommand.writeMultiple, lba: 30, count: 6)
        XCTAssertFalse(ata.interruptPending)
        for sector in 0..<6 {
            XCTAssertEqual(ata.inb(ATARegister.control), 0x58)
            ata.writeBlock(block(seed: 40 + sector))
            XCTAssertEqual(ata.interruptPending, sector == 3 || sector == 5, "sector \(sector)")
            _ = ata.inb(ATARegister.status)
        }
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        for sector in 0..<6 { XCTAssertEqual(image.words(lba: 30 + sector), block(seed: 40 + sector)) }
        XCTAssertEqual(ata.sectorsWritten, 6)

        ata.outb(ATARegister.sectorCount, 0)
        ata.issue(ATACommand.setMultipleMode)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50, "0 disables")
        XCTAssertEqual(identify(&ata)[59], 0)
    }

    func testInitializeDeviceParametersChangesTranslation() {
        var (ata, image) = makeChannel(sectors: 20480)
        // 4 heads (device bits 3:0 = heads − 1), 17 sectors per track.
        ata.outb(ATARegister.device, 0xA3)
        ata.outb(ATARegister.sectorCount, 17)
        ata.issue(ATACommand.initializeDeviceParameters)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        let words = identify(&ata)
        XCTAssertEqual(words[1], 20, "default translation unchanged")
        XCTAssertEqual(words[54], UInt16(20480 / (4 * 17)))
        XCTAssertEqual(words[55], 4)
        XCTAssertEqual(words[56], 17)
        XCTAssertEqual(UInt32(words[58]) << 16 | UInt32(words[57]), UInt32(20480 / 68 * 68))

        // (C 2, H 1, S 5) → (2 × 4 + 1) × 17 + 4 = 157.
        let data = block(seed: 6)
        ata.issueCHS(ATACommand.writeSectors, cylinder: 2, head: 1, sector: 5, count: 1)
        ata.writeBlock(data)
        XCTAssertEqual(image.words(lba: 157), data)
        ata.issueCHS(ATACommand.readSectors, cylinder: 0, head: 4, sector: 1, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41, "head 4 is outside a 4-head translation")

        ata.outb(ATARegister.sectorCount, 0)
        ata.issue(ATACommand.initializeDeviceParameters)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x41)
        XCTAssertEqual(ata.inb(ATARegister.error), 0x04)

        ata.reset()
        XCTAssertEqual(identify(&ata)[55], 16, "hardware reset restores the default translation")
    }

    // MARK: Busy phases (ATA-6 9.6-9.10: BSY first, then DRQ/DRDY and INTRQ)

    func testCommandsAreBusyBeforeTheyComplete() {
        var (ata, image) = makeChannel()
        image.fillPattern()
        for (command, after, interrupts) in [(ATACommand.identifyDevice, UInt8(0x58), true),
                                             (ATACommand.flushCache, 0x50, true),
                                             (0xFF, 0x41, true)] as [(UInt8, UInt8, Bool)] {
            ata.outb(ATARegister.device, 0xA0)
            ata.outb(ATARegister.command, command)
            XCTAssertTrue(ata.busyPhasePending, "command \(command)")
            XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY, DRQ clear: command \(command)")
            XCTAssertEqual(ata.inb(ATARegister.status), 0x80)
            XCTAssertEqual(ata.inb(ATARegister.error), 0x80, "registers read as Status while BSY")
            XCTAssertFalse(ata.irqPending, "no interrupt before the drive is done")
            ata.finishBusyPhase()
            XCTAssertFalse(ata.busyPhasePending)
            XCTAssertEqual(ata.irqPending, interrupts, "command \(command)")
            XCTAssertEqual(ata.inb(ATARegister.status), after, "command \(command)")
            XCTAssertFalse(ata.irqPending, "status read acknowledges")
            ata.finishBusyPhase()   // no busy phase pending: nothing happens
            XCTAssertEqual(ata.inb(ATARegister.control), after)
            XCTAssertFalse(ata.irqPending)
            if command == ATACommand.identifyDevice { _ = ata.readBlock() }
        }
    }

    func testInterruptDrivenReadOneEdgePerBlock() {
        var (ata, image) = makeChannel()
        image.fillPattern()
        ata.outb(ATARegister.device, 0xE0)
        ata.outb(ATARegister.sectorCount, 3)
        ata.outb(ATARegister.lbaLow, 9)
        ata.outb(ATARegister.lbaMid, 0)
        ata.outb(ATARegister.lbaHigh, 0)
        ata.outb(ATARegister.command, ATACommand.readSectors)
        var edges = 0
        for sector in 0..<3 {
            XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY before block \(sector)")
            XCTAssertFalse(ata.irqPending)
            ata.finishBusyPhase()
            if ata.irqPending { edges += 1 }
            XCTAssertEqual(ata.inb(ATARegister.control), 0x58)
            XCTAssertTrue(ata.irqPending, "alternate status does not acknowledge")
            XCTAssertEqual(ata.inb(ATARegister.status), 0x58)
            XCTAssertFalse(ata.irqPending)
            var words: [UInt16] = []
            for _ in 0..<256 { words.append(UInt16(truncatingIfNeeded: ata.read(offset: ATARegister.data, size: 2))) }
            XCTAssertEqual(words, image.words(lba: 9 + sector))
        }
        XCTAssertEqual(edges, 3, "one INTRQ per data-in block")
        XCTAssertFalse(ata.busyPhasePending)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    func testInterruptDrivenWriteOneEdgePerBlockIncludingTheLast() {
        var (ata, image) = makeChannel()
        ata.outb(ATARegister.device, 0xE0)
        ata.outb(ATARegister.sectorCount, 3)
        ata.outb(ATARegister.lbaLow, 20)
        ata.outb(ATARegister.lbaMid, 0)
        ata.outb(ATARegister.lbaHigh, 0)
        ata.outb(ATARegister.command, ATACommand.writeSectors)
        XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY after the command")
        ata.finishBusyPhase()
        XCTAssertFalse(ata.irqPending, "no interrupt before the first data-out block")
        var edges = 0
        for sector in 0..<3 {
            XCTAssertEqual(ata.inb(ATARegister.control), 0x58, "DRQ for block \(sector)")
            for word in block(seed: 70 + sector) { ata.write(offset: ATARegister.data, size: 2, value: UInt64(word)) }
            XCTAssertEqual(image.words(lba: 20 + sector), block(seed: 70 + sector))
            XCTAssertEqual(ata.inb(ATARegister.control), 0x80, "BSY after block \(sector)")
            XCTAssertFalse(ata.irqPending, "the interrupt waits for the end of the busy phase")
            ata.write(offset: ATARegister.data, size: 2, value: 0x1234)   // ignored while BSY
            ata.finishBusyPhase()
            if ata.irqPending { edges += 1 }
            XCTAssertEqual(ata.inb(ATARegister.status), sector < 2 ? 0x58 : 0x50)
            XCTAssertFalse(ata.irqPending)
        }
        XCTAssertEqual(edges, 3, "one INTRQ after every data-out block, the last (completion) included")
        XCTAssertEqual(ata.sectorsWritten, 3)
        XCTAssertEqual(image.words(lba: 23), [UInt16](repeating: 0, count: 256), "nothing past the range")
    }

    func testMultipleModeIsBusyOnlyBetweenBlocks() {
        var (ata, image) = makeChannel()
        image.fillPattern()
        ata.outb(ATARegister.sectorCount, 2)
        ata.issue(ATACommand.setMultipleMode)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)

        // READ MULTIPLE of 3 sectors in blocks of 2, 1: BSY before each block, not inside one.
        ata.issueLBA(ATACommand.readMultiple, lba: 4, count: 3)
        var busyAfter: [Bool] = []
        for sector in 0..<3 {
            XCTAssertEqual(ata.inb(ATARegister.status), 0x58, "sector \(sector)")
            for _ in 0..<256 { _ = ata.read(offset: ATARegister.data, size: 2) }
            busyAfter.append(ata.busyPhasePending)
            ata.finishBusyPhase()
        }
        XCTAssertEqual(busyAfter, [false, true, false], "BSY only where a new block starts; none after the last")

        // WRITE MULTIPLE of 3 sectors: BSY (then INTRQ) after each block, the last included.
        ata.issueLBA(ATACommand.writeMultiple, lba: 40, count: 3)
        busyAfter = []
        var interrupts: [Bool] = []
        for sector in 0..<3 {
            XCTAssertEqual(ata.inb(ATARegister.control), 0x58, "sector \(sector)")
            for word in block(seed: sector) { ata.write(offset: ATARegister.data, size: 2, value: UInt64(word)) }
            busyAfter.append(ata.busyPhasePending)
            ata.finishBusyPhase()
            interrupts.append(ata.irqPending)
            _ = ata.inb(ATARegister.status)
        }
        XCTAssertEqual(busyAfter, [false, true, true])
        XCTAssertEqual(interrupts, [false, true, true])
        XCTAssertEqual(image.words(lba: 42), block(seed: 2))
    }

    func testInterruptDisableDuringBusyPhase() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.control, ATADeviceControl.interruptDisable)
        ata.outb(ATARegister.command, ATACommand.flushCache)
        ata.finishBusyPhase()
        XCTAssertTrue(ata.interruptPending)
        XCTAssertFalse(ata.irqPending, "nIEN: INTRQ stays released")
        XCTAssertEqual(ata.inb(ATARegister.control), 0x50)
        ata.outb(ATARegister.control, 0)
        XCTAssertTrue(ata.irqPending)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
        XCTAssertFalse(ata.irqPending)
    }

    func testSoftwareResetEndsABusyPhase() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.command, ATACommand.flushCache)
        XCTAssertTrue(ata.busyPhasePending)
        ata.outb(ATARegister.control, ATADeviceControl.softwareReset)
        XCTAssertFalse(ata.busyPhasePending, "the command is abandoned")
        ata.outb(ATARegister.control, 0)
        ata.finishBusyPhase()
        XCTAssertFalse(ata.irqPending, "no completion interrupt for an abandoned command")
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50)
    }

    func testWritesToCommandBlockIgnoredWhileBusy() {
        var (ata, _) = makeChannel()
        ata.outb(ATARegister.lbaLow, 0x11)
        ata.outb(ATARegister.command, ATACommand.flushCache)
        ata.outb(ATARegister.lbaLow, 0x22)
        ata.outb(ATARegister.command, ATACommand.identifyDevice)
        ata.finishBusyPhase()
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 0x11)
        XCTAssertEqual(ata.lastCommand, ATACommand.flushCache)
        XCTAssertEqual(ata.inb(ATARegister.status), 0x50, "the IDENTIFY written while BSY never ran")
    }

    // MARK: Ports and storage

    func testControlOffsetMatchesPorts() {
        XCTAssertEqual(UInt64(ATAPorts.primaryControl.base - ATAPorts.primaryCommandBlock.base), ATARegister.control)
        XCTAssertEqual(UInt64(ATAPorts.secondaryControl.base - ATAPorts.secondaryCommandBlock.base), ATARegister.control)
        XCTAssertEqual(ATAPorts.primaryIRQ, 14)
        XCTAssertTrue(ATAPorts.primaryCommandBlock.contains(0x1F7))
        XCTAssertFalse(ATAPorts.primaryCommandBlock.contains(0x1F8))
    }

    func testBlockStorageBounds() {
        let image = ATATestImage(sectors: 4)
        let partial = ATABlockStorage(UnsafeMutableRawBufferPointer(start: image.pointer, count: 4 * 512 - 1))
        XCTAssertEqual(partial.sectorCount, 3, "a partial sector is not used")
        XCTAssertEqual(ATABlockStorage(UnsafeMutableRawBufferPointer(start: nil, count: 0)).sectorCount, 0)
        let storage = image.storage
        XCTAssertTrue(storage.contains(lba: 0, count: 4))
        XCTAssertFalse(storage.contains(lba: 1, count: 4))
        XCTAssertFalse(storage.contains(lba: UInt64.max, count: 2), "no wrap")
        var words = ATASectorWords(repeating: 7)
        XCTAssertFalse(storage.read(sector: 4, into: &words))
        XCTAssertEqual(words[0], 7)
        XCTAssertFalse(storage.write(sector: 4, from: words))
        XCTAssertTrue(storage.write(sector: 3, from: words))
        XCTAssertEqual(image.byte(3 * 512), 7)
        XCTAssertEqual(image.byte(3 * 512 + 1), 0)
    }

    func testGeometryConversions() {
        let geometry = ATAGeometry(cylinders: 20, heads: 16, sectorsPerTrack: 63)
        XCTAssertEqual(geometry.lba(cylinder: 0, head: 0, sector: 1), 0)
        XCTAssertEqual(geometry.lba(cylinder: 1, head: 2, sector: 3), 1136)
        XCTAssertNil(geometry.lba(cylinder: 0, head: 16, sector: 1))
        XCTAssertNil(geometry.lba(cylinder: 0, head: 0, sector: 0))
        for lba: UInt64 in [0, 62, 63, 1007, 1008, 1136, 20159] {
            let chs = geometry.chs(lba: lba)
            XCTAssertEqual(geometry.lba(cylinder: chs.cylinder, head: chs.head, sector: chs.sector), lba)
        }
    }
}

/// The ATA channel inside the virtual PC: its busy phase is guest time, scheduled
/// through `nextTimerTSC` with the PIT's, and INTRQ reaches the 8259 as IRQ 14.
final class VirtualPCATATests: XCTestCase {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>
    let tscHz: UInt64 = 50_000_000
    var image = ATATestImage(sectors: 64)

    /// A PC with a disk, the PICs at 0x20/0x28 and only IRQ 2 (the cascade) and IRQ 14 unmasked.
    func makePC() -> PC {
        var pc = PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: tscHz, tscBase: 0))
        pc.ata = ATAChannel(storage: image.storage)
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01),
                              (0x21, 0xFB), (0xA1, 0xBF)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
        return pc
    }

    func issue(_ pc: inout PC, _ command: UInt8, lba: UInt8, count: UInt8, tsc: UInt64) {
        for (port, value) in [(0x1F6, 0xE0), (0x1F2, UInt32(count)), (0x1F3, UInt32(lba)), (0x1F4, 0), (0x1F5, 0),
                              (0x1F7, UInt32(command))] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: tsc)
        }
    }

    /// INTA and EOI to both PICs: the vector delivered.
    func takeInterrupt(_ pc: inout PC, tsc: UInt64) -> UInt8 {
        let vector = pc.acknowledge()
        pc.portOut(port: 0xA0, size: 1, value: 0x20, tsc: tsc)
        pc.portOut(port: 0x20, size: 1, value: 0x20, tsc: tsc)
        return vector
    }

    func testBusyDelayIs100MicrosecondsOfGuestTime() {
        let pc = makePC()
        XCTAssertEqual(pc.ataBusyTSC, 5_000, "100 µs of a 50 MHz TSC")
        XCTAssertEqual(pc.nextTimerTSC, .max, "nothing armed while the drive is idle")
    }

    func testWriteCompletionInterruptComesAfterTheBusyDelay() {
        var pc = makePC()
        issue(&pc, ATACommand.writeSectors, lba: 3, count: 2, tsc: 1_000)
        XCTAssertEqual(pc.portIn(port: 0x3F6, size: 1, tsc: 1_000), 0x80, "BSY after the command")
        XCTAssertEqual(pc.nextTimerTSC, 6_000)
        pc.update(tsc: 5_999)
        XCTAssertEqual(pc.portIn(port: 0x3F6, size: 1, tsc: 5_999), 0x80)
        XCTAssertEqual(pc.portIn(port: 0x3F6, size: 1, tsc: 6_000), 0x58, "a status read after the deadline sees DRQ")
        XCTAssertEqual(pc.nextTimerTSC, .max)
        XCTAssertFalse(pc.interruptPending, "no interrupt before the first data-out block")

        var edges = 0
        var now: UInt64 = 10_000
        for sector in 0..<2 {
            // One `rep outsw`: the whole block in one exit, at one TSC.
            for index in 0..<256 { pc.portOut(port: 0x1F0, size: 2, value: UInt32(0x4000 + sector * 256 + index), tsc: now) }
            XCTAssertEqual(pc.portIn(port: 0x3F6, size: 1, tsc: now), 0x80, "BSY after block \(sector)")
            XCTAssertFalse(pc.interruptPending, "IRQ 14 does not arrive in the exit that wrote the block")
            XCTAssertEqual(pc.nextTimerTSC, now + 5_000)
            pc.update(tsc: now + 4_999)
            XCTAssertFalse(pc.interruptPending)
            pc.update(tsc: now + 5_000)
            XCTAssertTrue(pc.interruptPending, "IRQ 14 after block \(sector)")
            XCTAssertEqual(takeInterrupt(&pc, tsc: now + 5_000), 0x2E)
            edges += 1
            XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: now + 5_001), sector == 0 ? 0x58 : 0x50)
            now += 10_000
        }
        XCTAssertEqual(edges, 2)
        XCTAssertEqual(image.words(lba: 4)[255], UInt16(0x4000 + 511))
        XCTAssertEqual(pc.nextTimerTSC, .max)
    }

    func testInterruptDrivenReadIRQ14PerBlock() {
        image.fillPattern()
        var pc = makePC()
        issue(&pc, ATACommand.readSectors, lba: 7, count: 3, tsc: 0)
        var now: UInt64 = 0
        for sector in 0..<3 {
            XCTAssertFalse(pc.interruptPending)
            now = pc.nextTimerTSC
            XCTAssertNotEqual(now, .max, "busy before block \(sector)")
            pc.update(tsc: now)
            XCTAssertTrue(pc.interruptPending, "IRQ 14 for block \(sector)")
            XCTAssertEqual(takeInterrupt(&pc, tsc: now), 0x2E)
            XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: now), 0x58)
            var words: [UInt16] = []
            for _ in 0..<128 {
                let pair = pc.portIn(port: 0x1F0, size: 4, tsc: now)
                words.append(UInt16(truncatingIfNeeded: pair))
                words.append(UInt16(truncatingIfNeeded: pair >> 16))
            }
            XCTAssertEqual(words, image.words(lba: 7 + sector))
        }
        XCTAssertEqual(pc.nextTimerTSC, .max, "no busy phase after the last data-in block")
        XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: now), 0x50)
        XCTAssertFalse(pc.interruptPending)
    }

    func testStatusReadBeforeTheCPUTakesIRQ14DoesNotLoseIt() {
        // A teaching kernel's write request with interrupts off: data, Status polled (which
        // acknowledges the drive), FLUSH CACHE, Status polled again; then interrupts on.
        var pc = makePC()
        issue(&pc, ATACommand.writeSectors, lba: 1, count: 1, tsc: 0)
        pc.update(tsc: pc.nextTimerTSC)
        for index in 0..<256 { pc.portOut(port: 0x1F0, size: 2, value: UInt32(index), tsc: 10_000) }
        pc.update(tsc: pc.nextTimerTSC)
        XCTAssertTrue(pc.interruptPending, "IRQ 14 after the block")
        XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: 20_000), 0x50, "Status read: the drive drops INTRQ")
        XCTAssertFalse(pc.ata.irqPending)
        XCTAssertTrue(pc.interruptPending, "the PIC still holds the request")
        pc.portOut(port: 0x1F7, size: 1, value: UInt32(ATACommand.flushCache), tsc: 20_000)
        pc.update(tsc: pc.nextTimerTSC)
        XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: 30_000), 0x50)
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(takeInterrupt(&pc, tsc: 30_000), 0x2E, "one IRQ 14 once the CPU takes interrupts")
        XCTAssertFalse(pc.interruptPending, "and only one")
    }

    func testInterruptDisableKeepsIRQ14Quiet() {
        var pc = makePC()
        pc.portOut(port: 0x3F6, size: 1, value: 0x02, tsc: 0)
        issue(&pc, ATACommand.flushCache, lba: 0, count: 0, tsc: 0)
        pc.update(tsc: pc.nextTimerTSC)
        XCTAssertFalse(pc.interruptPending, "nIEN")
        XCTAssertEqual(pc.portIn(port: 0x3F6, size: 1, tsc: 10_000), 0x50)
        pc.portOut(port: 0x3F6, size: 1, value: 0x00, tsc: 10_000)
        XCTAssertTrue(pc.interruptPending, "clearing nIEN releases the pending interrupt")
    }

    func testPITAndATADeadlinesShareTheTimer() {
        var pc = makePC()
        pc.portOut(port: 0x43, size: 1, value: 0x34, tsc: 0)
        pc.portOut(port: 0x40, size: 1, value: 11_932 & 0xFF, tsc: 0)
        pc.portOut(port: 0x40, size: 1, value: 11_932 >> 8, tsc: 0)
        let pitDeadline = pc.nextTimerTSC
        XCTAssertGreaterThan(pitDeadline, 100_000)
        issue(&pc, ATACommand.flushCache, lba: 0, count: 0, tsc: 100)
        XCTAssertEqual(pc.nextTimerTSC, 5_100, "the drive is due before the PIT")
        XCTAssertEqual(pc.pitTimerTSC, pitDeadline)
        pc.update(tsc: 5_100)
        XCTAssertEqual(pc.nextTimerTSC, pitDeadline, "the PIT's deadline again")
        XCTAssertEqual(pc.timerInterrupts, 0, "the drive's deadline fired no IRQ0")
        XCTAssertTrue(pc.interruptPending)
        XCTAssertEqual(takeInterrupt(&pc, tsc: 5_100), 0x2E)

        // A software reset abandons the command and its deadline.
        issue(&pc, ATACommand.flushCache, lba: 0, count: 0, tsc: 6_000)
        XCTAssertEqual(pc.nextTimerTSC, 11_000)
        pc.portOut(port: 0x3F6, size: 1, value: 0x04, tsc: 6_001)
        XCTAssertEqual(pc.nextTimerTSC, pitDeadline)
        pc.portOut(port: 0x3F6, size: 1, value: 0x00, tsc: 6_002)
        pc.update(tsc: 20_000)
        XCTAssertFalse(pc.interruptPending)
        XCTAssertEqual(pc.portIn(port: 0x1F7, size: 1, tsc: 20_000), 0x50)
    }
}
