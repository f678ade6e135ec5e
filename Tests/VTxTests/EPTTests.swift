import XCTest
import X86
@testable import VTx

final class EPTTests: XCTestCase {
    func testEntries() {
        XCTAssertEqual(EPTEntry.table(0x5000).rawValue, 0x5007)
        // 2 MiB WB RWX leaf: 7 | 6 << 3 | 1 << 7.
        XCTAssertEqual(EPTEntry.page2M(0x20_0000).rawValue, 0x20_00B7)
        XCTAssertEqual(EPTEntry.page1G(0x4000_0000).rawValue, 0x4000_00B7)
        XCTAssertEqual(EPTEntry.page4K(0x1234_5000, permissions: .readWrite, memoryType: .uncacheable).rawValue,
                       0x1234_5003)
        XCTAssertEqual(EPTEntry.page4K(0x1000, memoryType: .writeBack, ignorePAT: true).rawValue, 0x1077)
        let e = EPTEntry(rawValue: 0x8000_0000_1234_53B7)
        XCTAssertEqual(e.address, 0x1234_5000)
        XCTAssertEqual(e.memoryType, .writeBack)
        XCTAssertTrue(e.isLargePage && e.accessed && e.dirty && e.isPresent)
        XCTAssertEqual(e.permissions, .all)
        XCTAssertFalse(EPTEntry.empty.isPresent)
        XCTAssertTrue(EPTEntry(rawValue: 2).isWriteWithoutRead)
        XCTAssertNil(EPTEntry(rawValue: 2 << 3).memoryType)
        XCTAssertEqual(EPTMemoryType.writeProtected.rawValue, 5)
        XCTAssertEqual(EPTMemoryType.writeThrough.rawValue, 4)
        XCTAssertEqual(EPTMemoryType.writeCombining.rawValue, 1)
    }

    func testIndices() {
        let gpa: UInt64 = 0x0000_0080_4020_3ABC
        XCTAssertEqual(EPT.pml4Index(gpa), 1)
        XCTAssertEqual(EPT.pdptIndex(gpa), 1)
        XCTAssertEqual(EPT.pdIndex(gpa), 1)
        XCTAssertEqual(EPT.ptIndex(gpa), 3)
    }

    func testEPTPointer() {
        let eptp = EPTPointer(pml4Address: 0x12_3000)
        XCTAssertEqual(eptp.rawValue, 0x12_301E)
        XCTAssertEqual(eptp.pageWalkLength, 4)
        XCTAssertEqual(eptp.memoryType, .writeBack)
        XCTAssertEqual(eptp.pml4Address, 0x12_3000)
        XCTAssertEqual(EPTPointer(pml4Address: 0x1000, enableAccessedDirty: true).rawValue, 0x105E)
        let cap = EPTVPIDCapability(rawValue: 0x0000_0F01_0633_4141)
        XCTAssertTrue(eptp.isValid(for: cap))
        XCTAssertTrue(EPTPointer(pml4Address: 0x1000, memoryType: .uncacheable).isValid(for: cap))
        XCTAssertFalse(EPTPointer(pml4Address: 0x1000, memoryType: .writeThrough).isValid(for: cap))
        XCTAssertFalse(EPTPointer(pml4Address: 0x1000, pageWalkLength: 5).isValid(for: cap))
        XCTAssertFalse(EPTPointer(pml4Address: 0x1000, supervisorShadowStack: true).isValid(for: cap))
        XCTAssertFalse(EPTPointer(rawValue: 0x111E).isValid(for: cap), "reserved bit 8")
        XCTAssertFalse(EPTPointer(pml4Address: 1 << 40).isValid(for: cap, physicalAddressBits: 39))
        XCTAssertFalse(eptp.isValid(for: EPTVPIDCapability(rawValue: 0)))
    }

    func testInvalidationTypesAndDescriptors() {
        XCTAssertEqual(INVEPTType.singleContext.rawValue, 1)
        XCTAssertEqual(INVEPTType.allContext.rawValue, 2)
        XCTAssertEqual(INVVPIDType.individualAddress.rawValue, 0)
        XCTAssertEqual(INVVPIDType.singleContext.rawValue, 1)
        XCTAssertEqual(INVVPIDType.allContexts.rawValue, 2)
        XCTAssertEqual(INVVPIDType.singleContextRetainingGlobals.rawValue, 3)
        XCTAssertEqual(MemoryLayout<INVEPTDescriptor>.size, 16)
        XCTAssertEqual(MemoryLayout<INVVPIDDescriptor>.size, 16)
        var d = INVVPIDDescriptor(vpid: 7, linearAddress: 0xFFFF_8000_0000_0000)
        withUnsafeBytes(of: &d) { raw in
            XCTAssertEqual(raw.load(fromByteOffset: 0, as: UInt64.self), 7)
            XCTAssertEqual(raw.load(fromByteOffset: 8, as: UInt64.self), 0xFFFF_8000_0000_0000)
        }
        XCTAssertEqual(INVEPTDescriptor(eptPointer: 0x301E).reserved, 0)
    }
}
