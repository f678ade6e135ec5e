import XCTest
@testable import Machine

/// A 512-byte sector 0 with an MBR: `entries` as (boot, type, start, count), signature 0x55AA.
private func mbr(_ entries: [(UInt8, UInt8, UInt32, UInt32)], signature: Bool = true) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 512)
    for (i, e) in entries.enumerated() {
        let at = 446 + i * 16
        bytes[at] = e.0
        bytes[at + 4] = e.1
        for k in 0..<4 {
            bytes[at + 8 + k] = UInt8(truncatingIfNeeded: e.2 >> (8 * UInt32(k)))
            bytes[at + 12 + k] = UInt8(truncatingIfNeeded: e.3 >> (8 * UInt32(k)))
        }
    }
    if signature { bytes[510] = 0x55; bytes[511] = 0xAA }
    return bytes
}

private func parse(_ text: String) -> Result<HostDiskSelector, HostDiskRegionError> {
    do throws(HostDiskRegionError) { return .success(try HostDiskSelector(parsing: Substring(text))) }
    catch { return .failure(error) }
}

private func resolve(_ text: String, disk: UInt64, sector0: [UInt8]? = nil) -> Result<HostDiskRegion, HostDiskRegionError> {
    do throws(HostDiskRegionError) {
        let selector = try HostDiskSelector(parsing: Substring(text))
        if let sector0 {
            let result = sector0.withUnsafeBytes { b in
                Result { () throws(HostDiskRegionError) in try selector.resolve(diskSectors: disk, sector0: b) }
            }
            return result
        }
        return .success(try selector.resolve(diskSectors: disk, sector0: nil))
    } catch { return .failure(error) }
}

final class HostDiskRegionTests: XCTestCase {
    func testSelectorSyntax() {
        XCTAssertEqual(parse("host"), .success(.wholeDisk))
        XCTAssertEqual(parse("host:p1"), .success(.partition(1)))
        XCTAssertEqual(parse("host:p4"), .success(.partition(4)))
        XCTAssertEqual(parse("host:2048+65536"), .success(.sectors(start: 2048, count: 65536)))
        XCTAssertEqual(parse("host:0+1"), .success(.sectors(start: 0, count: 1)))
        for bad in ["hos", "hostx", "host:", "host:p0", "host:p5", "host:p12", "host:p", "host:pa",
                    "host:2048", "host:+5", "host:5+", "host:1+2+3", "host:-1+5", "host:0x10+5", "host:1 +5",
                    "host:18446744073709551615+1", "host:99999999999999999999+1"] {
            XCTAssertEqual(parse(bad), .failure(.badSyntax(String(bad))), bad)
        }
        XCTAssertEqual(parse("host:5+0"), .failure(.emptyRange))
        XCTAssertTrue(HostDiskSelector.namesHostDisk("host:p1"))
        XCTAssertFalse(HostDiskSelector.namesHostDisk("64"), "disk=MiB stays the scratch disk")
    }

    func testWholeDiskAndRanges() {
        XCTAssertEqual(resolve("host", disk: 20160), .success(HostDiskRegion(start: 0, sectorCount: 20160)))
        XCTAssertEqual(resolve("host:2048+2048", disk: 20160), .success(HostDiskRegion(start: 2048, sectorCount: 2048)))
        XCTAssertEqual(resolve("host:18112+2048", disk: 20160), .success(HostDiskRegion(start: 18112, sectorCount: 2048)),
                       "a range ending exactly at the last sector")
        XCTAssertEqual(resolve("host:18113+2048", disk: 20160),
                       .failure(.pastTheDisk(start: 18113, count: 2048, diskSectors: 20160)))
        XCTAssertEqual(resolve("host:0+20161", disk: 20160),
                       .failure(.pastTheDisk(start: 0, count: 20161, diskSectors: 20160)))
        XCTAssertEqual(resolve("host:18446744073709551000+615", disk: 20160),
                       .failure(.pastTheDisk(start: 18446744073709551000, count: 615, diskSectors: 20160)),
                       "no wrap-around near 2^64")
        XCTAssertEqual(resolve("host", disk: 0), .failure(.emptyRange))
    }

    func testPartitions() {
        let table = mbr([(0x80, 0x83, 2048, 2048), (0x00, 0x83, 8192, 2048), (0, 0, 0, 0), (0x00, 0x05, 12000, 100)])
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: table), .success(HostDiskRegion(start: 2048, sectorCount: 2048)))
        XCTAssertEqual(resolve("host:p2", disk: 20160, sector0: table), .success(HostDiskRegion(start: 8192, sectorCount: 2048)))
        XCTAssertEqual(resolve("host:p3", disk: 20160, sector0: table), .failure(.emptyPartition(3)))
        XCTAssertEqual(resolve("host:p4", disk: 20160, sector0: table), .failure(.extendedPartition(4)))
        XCTAssertEqual(resolve("host:p2", disk: 9000, sector0: table),
                       .failure(.partitionPastTheDisk(2, start: 8192, count: 2048, diskSectors: 9000)))
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: nil), .failure(.noPartitionTable))
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: mbr([(0, 0x83, 2048, 2048)], signature: false)),
                       .failure(.noPartitionTable))
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: mbr([(0, 0xEE, 1, 20159)])), .failure(.protectiveGPT))
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: mbr([(0, 0x83, 0, 100)])), .failure(.partitionOverlapsTable(1)))
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: mbr([(0x81, 0x83, 2048, 100)])),
                       .failure(.badPartitionTable(entry: 1)), "boot indicator neither 0x00 nor 0x80")
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: mbr([(0, 0x83, 2048, 4096), (0, 0x83, 4000, 10)])),
                       .failure(.badPartitionTable(entry: 2)), "overlapping entries")
        XCTAssertEqual(resolve("host:p1", disk: 0xFFFF_FFFF, sector0: mbr([(0, 0x83, 0xFFFF_FFFF, 0xFFFF_FFFF)])),
                       .failure(.partitionPastTheDisk(1, start: 0xFFFF_FFFF, count: 0xFFFF_FFFF, diskSectors: 0xFFFF_FFFF)))
        XCTAssertEqual(resolve("host:p1", disk: 20160, sector0: [UInt8](repeating: 0, count: 100)), .failure(.noPartitionTable),
                       "a short buffer is not read past its end")
    }

    func testRegionGeometry() {
        let r = HostDiskRegion(start: 100, sectorCount: 10)
        XCTAssertTrue(r.overlaps(HostDiskRegion(start: 109, sectorCount: 1)))
        XCTAssertFalse(r.overlaps(HostDiskRegion(start: 110, sectorCount: 5)), "adjacent is not overlapping")
        XCTAssertFalse(r.overlaps(HostDiskRegion(start: 90, sectorCount: 10)))
        XCTAssertTrue(r.overlaps(HostDiskRegion(start: 0, sectorCount: 1000)), "a region inside another")
        XCTAssertFalse(r.overlaps(HostDiskRegion(start: 105, sectorCount: 0)), "an empty region overlaps nothing")
        XCTAssertTrue(r.contains(sector: 9, count: 1))
        XCTAssertFalse(r.contains(sector: 9, count: 2))
        XCTAssertFalse(r.contains(sector: .max, count: 2), "no overflow")
    }

    func testClaimsRejectOverlaps() {
        var claims = HostDiskClaims()
        XCTAssertNoThrow(try claims.claim(HostDiskRegion(start: 2048, sectorCount: 2048), for: "a"))
        XCTAssertNoThrow(try claims.claim(HostDiskRegion(start: 4096, sectorCount: 2048), for: "b"))
        XCTAssertThrowsError(try claims.claim(HostDiskRegion(start: 0, sectorCount: 20160), for: "whole")) { error in
            XCTAssertEqual(error as? HostDiskRegionError, .overlap(owner: "a", start: 2048, count: 2048))
        }
        XCTAssertThrowsError(try claims.claim(HostDiskRegion(start: 6143, sectorCount: 2), for: "c")) { error in
            XCTAssertEqual(error as? HostDiskRegionError, .overlap(owner: "b", start: 4096, count: 2048))
            XCTAssertEqual((error as? HostDiskRegionError)?.description,
                           "the host disk region overlaps sectors 4096+2048, already given to b")
        }
        XCTAssertNoThrow(try claims.claim(HostDiskRegion(start: 6144, sectorCount: 2), for: "c"))
        XCTAssertEqual(claims.claims.map(\.owner), ["a", "b", "c"])
    }
}
