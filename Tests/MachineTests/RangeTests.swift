import XCTest
import Machine

final class RangeTests: XCTestCase {
    func testPortRange() {
        let com1 = PortRange(base: 0x3F8, count: 8)
        XCTAssertFalse(com1.contains(0x3F7))
        XCTAssertTrue(com1.contains(0x3F8))
        XCTAssertTrue(com1.contains(0x3FF))
        XCTAssertFalse(com1.contains(0x400))
        XCTAssertEqual(com1.last, 0x3FF)
        XCTAssertEqual(com1.offset(of: 0x3FD), 5)
        let all = PortRange(base: 0, count: 0x1_0000)
        XCTAssertTrue(all.contains(0xFFFF))
        let top = PortRange(base: 0xFFFF, count: 1)
        XCTAssertTrue(top.contains(0xFFFF))
        XCTAssertFalse(top.contains(0))
        XCTAssertFalse(PortRange(base: 0x10, count: 0).contains(0x10))
        switch UInt16(0x3FA) {
        case com1: break
        default: XCTFail("pattern match")
        }
    }

    func testAddressRange() {
        let hpet = AddressRange(base: 0xFED0_0000, size: 0x400)
        XCTAssertTrue(hpet.contains(0xFED0_0000))
        XCTAssertTrue(hpet.contains(0xFED0_03FF))
        XCTAssertFalse(hpet.contains(0xFED0_0400))
        XCTAssertFalse(hpet.contains(0xFECF_FFFF))
        XCTAssertTrue(hpet.contains(0xFED0_03F8, length: 8))
        XCTAssertFalse(hpet.contains(0xFED0_03FC, length: 8))
        XCTAssertEqual(hpet.offset(of: 0xFED0_00F0), 0xF0)
        let top = AddressRange(base: UInt64.max - 0xFFF, size: 0x1000)
        XCTAssertTrue(top.contains(UInt64.max))
        XCTAssertTrue(top.contains(UInt64.max - 7, length: 8))
        XCTAssertFalse(top.contains(UInt64.max - 7, length: 9))
        XCTAssertFalse(top.contains(UInt64.max, length: UInt64.max))
    }

    func testIOAccessMasks() {
        XCTAssertEqual(IOAccess.allOnes(size: 1), 0xFF)
        XCTAssertEqual(IOAccess.allOnes(size: 2), 0xFFFF)
        XCTAssertEqual(IOAccess.allOnes(size: 4), 0xFFFF_FFFF)
        XCTAssertEqual(IOAccess.allOnes(size: 8), UInt64.max)
        XCTAssertEqual(IOAccess.mask(size: 0), 0)
        XCTAssertEqual(IOAccess.mask(size: -1), 0)
        XCTAssertTrue(IOAccess.isValid(size: 4))
        XCTAssertFalse(IOAccess.isValid(size: 3))
    }

    func testByteSinkFormatting() {
        var sink = RecordingSink()
        sink.putHex(0)
        sink.put(" ")
        sink.putHex(0x3F8)
        sink.put(" ")
        sink.putHex(0x5, minimumDigits: 4)
        sink.put(" ")
        sink.putHex(UInt64.max)
        sink.put(" ")
        sink.putDecimal(0)
        sink.put(" ")
        sink.putDecimal(4096)
        sink.put(" ")
        sink.putDecimal(UInt64.max)
        XCTAssertEqual(sink.text, "0x0 0x3f8 0x0005 0xffffffffffffffff 0 4096 18446744073709551615")
    }
}
