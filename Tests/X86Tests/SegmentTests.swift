import XCTest
@testable import X86

final class SegmentTests: XCTestCase {
    func testSelector() {
        let s = SegmentSelector(index: 2, table: .gdt, rpl: 3)
        XCTAssertEqual(s.rawValue, 0x13)
        XCTAssertEqual(s.index, 2)
        XCTAssertEqual(s.rpl, 3)
        XCTAssertEqual(s.table, .gdt)
        XCTAssertEqual(s.hostSelector.rawValue, 0x10)
        let l = SegmentSelector(rawValue: 0x0F)
        XCTAssertEqual(l.table, .ldt)
        XCTAssertEqual(l.hostSelector.rawValue, 0x08)
        XCTAssertTrue(SegmentSelector(rawValue: 3).isNull)
        XCTAssertEqual(SegmentSelector(rawValue: 0x2B).byteOffset, 0x28)
    }

    func testFlatDescriptors() {
        // The well-known flat GDT entries.
        XCTAssertEqual(SegmentDescriptor.code64().rawValue, 0x00AF_9B00_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.code32().rawValue, 0x00CF_9B00_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.data().rawValue, 0x00CF_9300_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.code64(dpl: 3).rawValue, 0x00AF_FB00_0000_FFFF)
    }

    func testDescriptorDecode() {
        let d = SegmentDescriptor(base: 0x1234_5678, limit: 0xABCDE, type: 0xA, dpl: 2, avl: true,
                                  defaultBig: true, granularity: true)
        XCTAssertEqual(d.base, 0x1234_5678)
        XCTAssertEqual(d.limit, 0xABCDE)
        XCTAssertEqual(d.effectiveLimit, 0xABCD_EFFF)
        XCTAssertEqual(d.type, 0xA)
        XCTAssertTrue(d.isCodeOrData)
        XCTAssertEqual(d.dpl, 2)
        XCTAssertTrue(d.present)
        XCTAssertTrue(d.avl)
        XCTAssertFalse(d.long)
        XCTAssertTrue(d.defaultBig)
        XCTAssertTrue(d.granularity)
        XCTAssertEqual(SegmentDescriptor(rawValue: d.rawValue), d)
    }

    func testTSSDescriptor() {
        let t = SystemSegmentDescriptor.tss(base: 0xFFFF_8000_1234_5678, limit: 0x67)
        XCTAssertEqual(t.base, 0xFFFF_8000_1234_5678)
        XCTAssertEqual(t.limit, 0x67)
        XCTAssertEqual(t.type, 0x9)
        XCTAssertEqual(t.high, 0xFFFF_8000)
        XCTAssertEqual(t.low, 0x1200_8934_5678_0067)
        XCTAssertFalse(t.lowDescriptor.isCodeOrData)
        XCTAssertEqual(t.accessRights.rawValue, 0x89)
    }

    func testAccessRights() {
        XCTAssertEqual(AccessRights.code64().rawValue, 0xA09B)
        XCTAssertEqual(AccessRights.code32().rawValue, 0xC09B)
        XCTAssertEqual(AccessRights.data().rawValue, 0xC093)
        XCTAssertEqual(AccessRights.realMode().rawValue, 0x93)
        XCTAssertEqual(AccessRights.realMode(code: true).rawValue, 0x9B)
        XCTAssertEqual(AccessRights.tssBusy64.rawValue, 0x8B)
        XCTAssertEqual(AccessRights.tssBusy16.rawValue, 0x83)
        XCTAssertEqual(AccessRights.ldt.rawValue, 0x82)
        XCTAssertEqual(AccessRights.unusable.rawValue, 0x10000)
        XCTAssertEqual(AccessRights.virtual8086.rawValue, 0xF3)
        XCTAssertTrue(AccessRights.unusable.unusable)
        XCTAssertEqual(SegmentDescriptor.code64().accessRights, .code64())
        XCTAssertEqual(SegmentDescriptor.data().accessRights, .data())
        let ar = AccessRights(rawValue: 0xA09B)
        XCTAssertTrue(ar.long && ar.granularity && ar.present && ar.isCode)
        XCTAssertEqual(ar.type, 0xB)
        XCTAssertEqual(ar.rawValue & AccessRights.reservedMask, 0)
    }
}
