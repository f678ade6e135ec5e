import XCTest
@testable import Machine

/// A medium that records what the channel asks of it and fails where told to: the
/// stand-in for a host disk whose drive reports an error or times out.
struct ScriptedStorage: BlockStorage {
    var sectors: [[UInt8]]
    var failReadAt: UInt64? = nil
    var failWriteAt: UInt64? = nil
    var failFlush = false
    var flushes = 0
    var sectorCount: UInt64 { UInt64(sectors.count) }

    init(sectors: Int) { self.sectors = Array(repeating: [UInt8](repeating: 0, count: 512), count: sectors) }

    mutating func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard sector != failReadAt, buffer.count == 512, sector < sectorCount else { return false }
        buffer.copyBytes(from: sectors[Int(sector)])
        return true
    }
    mutating func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        guard sector != failWriteAt, buffer.count == 512, sector < sectorCount else { return false }
        sectors[Int(sector)] = Array(buffer)
        return true
    }
    mutating func writeZeroes(sector: UInt64, count: UInt64) -> Bool { false }
    mutating func flush() -> Bool { flushes += 1; return !failFlush }
}

final class ATAChannelStorageTests: XCTestCase {
    func testReadsAndWritesGoThroughTheStorage() {
        var ata = ATAChannel(storage: ScriptedStorage(sectors: 16))
        ata.issueLBA(ATACommand.writeSectors, lba: 3, count: 1)
        ata.writeBlock((0..<256).map { UInt16($0) | 0xA500 })
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.idle)
        XCTAssertEqual(ata.master?.storage.sectors[3][0..<4], [0x00, 0xA5, 0x01, 0xA5], "little-endian words")
        ata.issueLBA(ATACommand.readSectors, lba: 3, count: 1)
        XCTAssertEqual(ata.readBlock()[255], 0xA5FF)
        ata.issue(ATACommand.flushCache)
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.idle)
        XCTAssertEqual(ata.master?.storage.flushes, 1, "FLUSH CACHE reaches the medium")
    }

    func testAReadTheMediumRefusesEndsWithUNC() {
        var storage = ScriptedStorage(sectors: 16)
        storage.failReadAt = 5
        var ata = ATAChannel(storage: storage)
        ata.issueLBA(ATACommand.readSectors, lba: 5, count: 1)
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.failed)
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.uncorrectable)
        // A multi-sector read fails at the sector the medium refused, after the good ones.
        ata.issueLBA(ATACommand.readSectors, lba: 4, count: 2)
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.dataReady)
        _ = ata.readBlock()
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.failed)
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.uncorrectable)
        XCTAssertEqual(ata.inb(ATARegister.lbaLow), 5, "the registers hold the failing sector")
        XCTAssertFalse(ata.dataRequested)
    }

    func testAWriteTheMediumRefusesEndsWithABRT() {
        var storage = ScriptedStorage(sectors: 16)
        storage.failWriteAt = 7
        var ata = ATAChannel(storage: storage)
        ata.issueLBA(ATACommand.writeSectors, lba: 7, count: 1)
        ata.writeBlock([UInt16](repeating: 0x1234, count: 256))
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.failed)
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.aborted)
        XCTAssertEqual(ata.sectorsWritten, 0)
        XCTAssertEqual(ata.master?.storage.sectors[7][0], 0)
    }

    func testAFlushTheMediumRefusesEndsWithABRT() {
        var storage = ScriptedStorage(sectors: 16)
        storage.failFlush = true
        var ata = ATAChannel(storage: storage)
        ata.issue(ATACommand.flushCache)
        XCTAssertEqual(ata.inb(ATARegister.status), ATAStatus.failed)
        XCTAssertEqual(ata.inb(ATARegister.error), ATAError.aborted)
    }
}
