import XCTest
@testable import Machine

// The pure halves of the host disk drivers: IDENTIFY DEVICE parsing, the AHCI command
// structures (command header, Register H2D FIS, PRDT), register decoding and port selection.

/// IDENTIFY words of a disk: LBA, `sectors` (LBA48 words when `lba48`), model "QEMU HARDDISK".
private func identifyWords(sectors: UInt64, lba48: Bool = true, flushExt: Bool = true, model: String = "QEMU HARDDISK") -> [UInt16] {
    var words = [UInt16](repeating: 0, count: 256)
    words[49] = 0x0200
    words[60] = UInt16(truncatingIfNeeded: min(sectors, 0x0FFF_FFFF))
    words[61] = UInt16(truncatingIfNeeded: min(sectors, 0x0FFF_FFFF) >> 16)
    if lba48 {
        words[83] = 0x4000 | 0x0400 | (flushExt ? 0x2000 : 0)
        for i in 0..<4 { words[100 + i] = UInt16(truncatingIfNeeded: sectors >> (16 * UInt64(i))) }
    } else {
        words[83] = 0x4000
    }
    var bytes = Array(model.utf8)
    bytes += [UInt8](repeating: 0x20, count: 40 - bytes.count)
    for i in 0..<20 { words[27 + i] = UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1]) }
    return words
}

private func identify(_ words: [UInt16]) -> Result<ATAIdentifyData, ATAIdentifyData.Refusal> {
    do throws(ATAIdentifyData.Refusal) { return .success(try ATAIdentifyData(words: words)) } catch { return .failure(error) }
}

final class ATAIdentifyDataTests: XCTestCase {
    func testLBA48DiskReportsItsCapacityFlagsAndModel() throws {
        let data = try identify(identifyWords(sectors: 20160)).get()
        XCTAssertEqual(data.sectorCount, 20160)
        XCTAssertTrue(data.lba48)
        XCTAssertTrue(data.flushCacheExt)
        XCTAssertEqual(data.model, "QEMU HARDDISK")
    }

    func testCapacityBeyondLBA28ComesFromWords100To103() throws {
        let data = try identify(identifyWords(sectors: 0x1_2345_6789)).get()
        XCTAssertEqual(data.sectorCount, 0x1_2345_6789)
    }

    func testWithoutLBA48TheLBA28CapacityAndNoFlushExt() throws {
        var words = identifyWords(sectors: 4096, lba48: false)
        words[100] = 0xFFFF          // ignored without the feature set
        let data = try identify(words).get()
        XCTAssertEqual(data.sectorCount, 4096)
        XCTAssertFalse(data.lba48)
        XCTAssertFalse(data.flushCacheExt)
    }

    func testWord83WithBit15SetIsNotValidSoNoLBA48() throws {
        var words = identifyWords(sectors: 4096)
        words[83] |= 0x8000
        let data = try identify(words).get()
        XCTAssertFalse(data.lba48)
        XCTAssertEqual(data.sectorCount, 4096)
    }

    func testPacketDeviceNoLBAAndZeroCapacityAreRefused() {
        var atapi = identifyWords(sectors: 100)
        atapi[0] = 0x8580
        XCTAssertEqual(identify(atapi), .failure(.notATA))
        var chs = identifyWords(sectors: 100)
        chs[49] = 0
        XCTAssertEqual(identify(chs), .failure(.noLBA))
        XCTAssertEqual(identify(identifyWords(sectors: 0)), .failure(.noSectors))
        XCTAssertEqual(identify([UInt16](repeating: 0, count: 100)), .failure(.noSectors))
    }

    func testCapacityIsCappedAt2To48AndModelBytesAreSanitized() throws {
        var words = identifyWords(sectors: UInt64.max)
        words[27] = 0x0141            // "\u{1}A": a control character becomes '?'
        let data = try identify(words).get()
        XCTAssertEqual(data.sectorCount, 1 << 48)
        XCTAssertTrue(data.model.hasPrefix("?A"))
    }
}

final class AHCICommandTests: XCTestCase {
    func testCommandHeaderLayout() {
        var bytes = [UInt8](repeating: 0xEE, count: 32)
        let header = AHCICommandHeader(fisLength: 5, write: true, prdtLength: 3, commandTable: 0x1_2345_6780)
        bytes.withUnsafeMutableBytes { header.encode(into: $0.baseAddress!) }
        // DW0: CFL 5, W (bit 6), PRDTL 3 in bits 31:16; DW1 PRDBC 0; DW2/3 CTBA, CTBAU.
        XCTAssertEqual(Array(bytes[0..<4]), [0x45, 0x00, 0x03, 0x00])
        XCTAssertEqual(Array(bytes[4..<8]), [0, 0, 0, 0])
        XCTAssertEqual(Array(bytes[8..<16]), [0x80, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00])
        XCTAssertEqual(Array(bytes[16..<32]), [UInt8](repeating: 0, count: 16))
        bytes[4] = 0x00; bytes[5] = 0x02
        XCTAssertEqual(bytes.withUnsafeBytes { AHCICommandHeader.transferredBytes($0.baseAddress!) }, 512)
        XCTAssertEqual(AHCICommandHeader(fisLength: 5, write: false, prdtLength: 0, commandTable: 0).dword0, 5)
    }

    func testReadDMAExtFIS() throws {
        let fis = try XCTUnwrap(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: 0xAB_CDEF_1234_56,
                                                                 sectors: 300, extended: true))
        var bytes = [UInt8](repeating: 0xEE, count: 20)
        bytes.withUnsafeMutableBytes { fis.encode(into: $0.baseAddress!) }
        XCTAssertEqual(bytes, [0x27, 0x80, 0x25, 0x00,
                               0x56, 0x34, 0x12, 0x40,
                               0xEF, 0xCD, 0xAB, 0x00,
                               0x2C, 0x01, 0x00, 0x00,
                               0, 0, 0, 0])
    }

    func testExtendedCountOf65536IsZeroAndLimitsAreEnforced() throws {
        let full = try XCTUnwrap(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.writeDMAExt, lba: 0, sectors: 65536, extended: true))
        XCTAssertEqual(full.count, 0)
        XCTAssertNil(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: 0, sectors: 65537, extended: true))
        XCTAssertNil(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: 0, sectors: 0, extended: true))
        XCTAssertNil(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: (1 << 48) - 1, sectors: 2, extended: true))
        XCTAssertNotNil(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: (1 << 48) - 1, sectors: 1, extended: true))
    }

    func testLBA28FormPutsBits27To24InTheDeviceRegister() throws {
        let fis = try XCTUnwrap(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMA, lba: 0x0ABC_DEF1, sectors: 256, extended: false))
        XCTAssertEqual(fis.device, 0x4A)
        XCTAssertEqual(fis.lba, 0xBC_DEF1)
        XCTAssertEqual(fis.count, 0)           // 256
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes.withUnsafeMutableBytes { fis.encode(into: $0.baseAddress!) }
        XCTAssertEqual(Array(bytes[4..<11]), [0xF1, 0xDE, 0xBC, 0x4A, 0, 0, 0])
        XCTAssertNil(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMA, lba: 0, sectors: 257, extended: false))
        XCTAssertNil(RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMA, lba: 0x0FFF_FFFF, sectors: 2, extended: false))
    }

    /// The PRDT entries (DBA, DBAU, reserved, DBC) of a table built by writePRDT.
    private func prdt(physical: UInt64, bytes: Int, capacity: Int = 120, addresses64: Bool = false) -> [(UInt64, UInt32)]? {
        var table = [UInt8](repeating: 0xEE, count: 0x80 + 16 * capacity)
        let count = table.withUnsafeMutableBytes {
            AHCICommandTable.writePRDT(into: $0.baseAddress!, capacity: capacity, physical: physical, byteCount: bytes,
                                       addresses64: addresses64)
        }
        guard let count else { return nil }
        return (0..<count).map { i in
            table.withUnsafeBytes { t in
                let at = 0x80 + 16 * i
                let low = UInt64(t.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                let high = UInt64(t.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
                XCTAssertEqual(t.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self), 0)
                return (low | high << 32, t.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
            }
        }
    }

    func testPRDTSplitsAt4MiBWithByteCountMinusOne() throws {
        let one = try XCTUnwrap(prdt(physical: 0x20_0000, bytes: 512))
        XCTAssertEqual(one.map { $0.0 }, [0x20_0000])
        XCTAssertEqual(one.map { $0.1 }, [511])           // DBC bit 0 set, I clear
        let big = try XCTUnwrap(prdt(physical: 0x100_0000, bytes: 65536 * 512))   // 32 MiB: 8 entries
        XCTAssertEqual(big.count, 8)
        XCTAssertEqual(big.map { $0.0 }, (0..<8).map { 0x100_0000 + UInt64($0) * (4 << 20) })
        XCTAssertTrue(big.allSatisfy { $0.1 == (4 << 20) - 1 })
        let uneven = try XCTUnwrap(prdt(physical: 0x1000, bytes: (4 << 20) + 1024))
        XCTAssertEqual(uneven.map { $0.1 }, [(4 << 20) - 1, 1023])
    }

    func testPRDTRefusesWhatTheHBACannotAddress() {
        XCTAssertNil(prdt(physical: 0x1001, bytes: 512))                        // odd address
        XCTAssertNil(prdt(physical: 0x1000, bytes: 511))                        // odd length
        XCTAssertNil(prdt(physical: 0x1000, bytes: 0))
        XCTAssertNil(prdt(physical: 0xFFFF_FE00, bytes: 1024))                  // past 4 GiB without S64A
        XCTAssertNotNil(prdt(physical: 0xFFFF_FE00, bytes: 512))                // ends exactly at 4 GiB
        XCTAssertEqual(prdt(physical: 0x1_0000_0000, bytes: 512, addresses64: true)?.first?.0, 0x1_0000_0000)
        XCTAssertNil(prdt(physical: UInt64.max - 511, bytes: 1024, addresses64: true))   // wraps
        XCTAssertNil(prdt(physical: 0x1000, bytes: 3 * (4 << 20), capacity: 2))  // more entries than fit
        XCTAssertEqual(AHCICommandTable.prdCapacity(tableSize: 0x800), 120)
    }
}

final class AHCIRegisterTests: XCTestCase {
    func testPortRegisterAddresses() {
        XCTAssertEqual(AHCIHostRegister.port(0, AHCIPortRegister.commandIssue), 0x138)
        XCTAssertEqual(AHCIHostRegister.port(5, AHCIPortRegister.sataStatus), 0x100 + 5 * 0x80 + 0x28)
        XCTAssertEqual(AHCIHostRegister.fullSize, 0x1100)
    }

    func testCapabilities() {
        // NP 5 (6 ports), NCS 31 (32 slots), S64A, SAM, interface speed Gen1; SSS clear.
        let cap = AHCICapabilities(rawValue: 0xC014_1F05)
        XCTAssertEqual(cap.numberOfPorts, 6)
        XCTAssertEqual(cap.commandSlots, 32)
        XCTAssertTrue(cap.addresses64)
        XCTAssertFalse(cap.staggeredSpinUp)
        XCTAssertTrue(cap.ahciOnly)
        XCTAssertTrue(AHCICapabilities(rawValue: 1 << 27).staggeredSpinUp)
    }

    func testTaskFileAndSATAStatus() {
        let idle = AHCITaskFileData(rawValue: 0x0050)
        XCTAssertFalse(idle.busy); XCTAssertFalse(idle.failed)
        let aborted = AHCITaskFileData(rawValue: 0x0451)
        XCTAssertTrue(aborted.failed); XCTAssertEqual(aborted.error, 0x04); XCTAssertEqual(aborted.status, 0x51)
        XCTAssertTrue(AHCITaskFileData(rawValue: 0x80).busy)
        XCTAssertTrue(AHCITaskFileData(rawValue: 0x58).busy)       // DRQ
        XCTAssertTrue(AHCITaskFileData(rawValue: 0x70).failed)     // DF
        let up = AHCISATAStatus(rawValue: 0x113)
        XCTAssertTrue(up.devicePresent); XCTAssertEqual(up.speed, 1); XCTAssertEqual(up.powerManagement, 1)
        XCTAssertFalse(AHCISATAStatus(rawValue: 0x001).devicePresent)
        XCTAssertFalse(AHCISATAStatus(rawValue: 0x004).devicePresent)
    }

    func testClassCodeAndBAR5() {
        XCTAssertTrue(PCIClassCode(classRevisionDword: 0x0106_0102).isAHCI)
        XCTAssertFalse(PCIClassCode(classRevisionDword: 0x0106_0002).isAHCI)   // vendor-specific SATA
        XCTAssertFalse(PCIClassCode(classRevisionDword: 0x0101_8002).isAHCI)   // IDE
        XCTAssertEqual(AHCIBaseAddress.decode(bar5: 0xFEBF_1000, upper: nil), 0xFEBF_1000)
        XCTAssertEqual(AHCIBaseAddress.decode(bar5: 0xFEBF_1008, upper: nil), 0xFEBF_1000)   // prefetchable bit
        XCTAssertNil(AHCIBaseAddress.decode(bar5: 0x0000_C001, upper: nil))                   // I/O BAR
        XCTAssertNil(AHCIBaseAddress.decode(bar5: 0, upper: nil))                             // unassigned
        XCTAssertNil(AHCIBaseAddress.decode(bar5: 0xFEBF_1004, upper: nil))                   // 64-bit, no upper dword
        XCTAssertEqual(AHCIBaseAddress.decode(bar5: 0xFEBF_1004, upper: 0x2), 0x2_FEBF_1000)
        XCTAssertNil(AHCIBaseAddress.decode(bar5: 0xFEBF_1002, upper: nil))                   // reserved type
    }

    func testPortDeviceFromStatusAndSignature() {
        let up = AHCISATAStatus(rawValue: 0x113)
        XCTAssertEqual(AHCIPortDevice(status: up, signature: 0x101), .ataDisk)
        XCTAssertEqual(AHCIPortDevice(status: up, signature: 0xEB14_0101), .atapi)
        XCTAssertEqual(AHCIPortDevice(status: up, signature: 0x9669_0101), .other(signature: 0x9669_0101))
        XCTAssertEqual(AHCIPortDevice(status: AHCISATAStatus(rawValue: 0), signature: 0x101), .none(detection: 0))
        XCTAssertEqual(AHCIPortDevice(status: AHCISATAStatus(rawValue: 1), signature: 0x101), .none(detection: 1))
        XCTAssertEqual(AHCIPortDevice.none(detection: 0).description, "no device")
        XCTAssertEqual(AHCIPortDevice.other(signature: 0x9669_0101).description, "signature 0x96690101 (not an ATA disk)")
    }

    func testImplementedPortsLowestFirstAndNeverMoreThanNP() {
        let six = AHCICapabilities(rawValue: 5)
        XCTAssertEqual(Array(AHCIImplementedPorts(portsImplemented: 0x3F, capabilities: six)), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(Array(AHCIImplementedPorts(portsImplemented: 0b1010_0100, capabilities: six)), [2, 5, 7])
        // PI claims 32 ports on a 6-port HBA: only the first six set bits are looked at.
        XCTAssertEqual(Array(AHCIImplementedPorts(portsImplemented: 0xFFFF_FFFF, capabilities: six)), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(Array(AHCIImplementedPorts(portsImplemented: 0x8000_0000, capabilities: AHCICapabilities(rawValue: 31))), [31])
        XCTAssertEqual(Array(AHCIImplementedPorts(portsImplemented: 0, capabilities: six)), [])
    }
}
