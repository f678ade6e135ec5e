import XCTest
@testable import X86

final class PagingTests: XCTestCase {
    func testFlags() {
        XCTAssertEqual(PageTableFlags.present.rawValue, 1)
        XCTAssertEqual(PageTableFlags.writable.rawValue, 2)
        XCTAssertEqual(PageTableFlags.user.rawValue, 4)
        XCTAssertEqual(PageTableFlags.pageSize.rawValue, 0x80)
        XCTAssertEqual(PageTableFlags.global.rawValue, 0x100)
        XCTAssertEqual(PageTableFlags.noExecute.rawValue, 1 << 63)
    }

    func testEntries() {
        XCTAssertEqual(PageTableEntry.table(0x1000).rawValue, 0x1003)
        XCTAssertEqual(PageTableEntry.page2M(0x20_0000).rawValue, 0x20_0083)
        XCTAssertEqual(PageTableEntry.page1G(0x4000_0000).rawValue, 0x4000_0083)
        XCTAssertEqual(PageTableEntry.page2M(0x20_1234).address, 0x20_0000)
        let e = PageTableEntry.page4K(0xDEAD_B000, flags: [.present, .noExecute])
        XCTAssertEqual(e.rawValue, 0x8000_0000_DEAD_B001)
        XCTAssertEqual(e.address, 0xDEAD_B000)
        XCTAssertTrue(e.flags.contains(.noExecute))
        XCTAssertTrue(e.isPresent)
        XCTAssertFalse(e.isLargePage)
        XCTAssertEqual(PageTableEntry.frame2MiBMask, 0x000F_FFFF_FFE0_0000)
        XCTAssertEqual(PageTableEntry.frame1GiBMask, 0x000F_FFFF_C000_0000)
    }

    func testIndices() {
        let va: UInt64 = 0xFFFF_8000_4020_3ABC
        XCTAssertEqual(PageTable.pml4Index(va), 256)
        XCTAssertEqual(PageTable.pdptIndex(va), 1)
        XCTAssertEqual(PageTable.pdIndex(va), 1)
        XCTAssertEqual(PageTable.ptIndex(va), 3)
        XCTAssertEqual(PageTable.pageOffset(va), 0xABC)
        XCTAssertEqual(PageTable.pml4Index(0x0000_7FFF_FFFF_FFFF), 255)
        XCTAssertTrue(PageTable.isCanonical(va))
        XCTAssertTrue(PageTable.isCanonical(0x0000_7FFF_FFFF_F000))
        XCTAssertFalse(PageTable.isCanonical(0x0000_8000_0000_0000))
    }
}
