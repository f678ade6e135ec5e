import XCTest
import X86
@testable import VTx

final class BitmapTests: XCTestCase {
    func testIOLocations() {
        let com1 = IOBitmap.location(port: 0x3F8)
        XCTAssertEqual(com1.bitmap, .a)
        XCTAssertEqual(com1.byteOffset, 0x7F)
        XCTAssertEqual(com1.bitMask, 1)
        let b = IOBitmap.location(port: 0x8000)
        XCTAssertEqual(b.bitmap, .b)
        XCTAssertEqual(b.byteOffset, 0)
        XCTAssertEqual(b.bitMask, 1)
        let last = IOBitmap.location(port: 0xFFFF)
        XCTAssertEqual(last.bitmap, .b)
        XCTAssertEqual(last.byteOffset, 0xFFF)
        XCTAssertEqual(last.bitMask, 0x80)
        XCTAssertEqual(IOBitmap.location(port: 0x7FFF).bitmap, .a)
    }

    func testIOAccessExits() {
        let set: Set<UInt16> = [0x61]
        XCTAssertTrue(IOBitmap.accessExits(port: 0x61, size: 1) { set.contains($0) })
        XCTAssertTrue(IOBitmap.accessExits(port: 0x60, size: 2) { set.contains($0) }, "second byte hits 0x61")
        XCTAssertFalse(IOBitmap.accessExits(port: 0x62, size: 4) { set.contains($0) })
        XCTAssertTrue(IOBitmap.accessExits(port: 0xFFFE, size: 4) { _ in false }, "wraparound always exits")
        XCTAssertFalse(IOBitmap.accessExits(port: 0xFFFC, size: 4) { _ in false })
    }

    func testIOBitmapPages() {
        let a = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        let b = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { a.deallocate(); b.deallocate() }
        let bm = IOBitmap(a: a, b: b)
        bm.clearAll()
        bm.setExiting(port: 0x3F8)
        XCTAssertEqual(a.load(fromByteOffset: 0x7F, as: UInt8.self), 1)
        XCTAssertTrue(bm.isExiting(port: 0x3F8))
        XCTAssertFalse(bm.isExiting(port: 0x3F9))
        XCTAssertTrue(bm.exits(port: 0x3F6, size: 4))
        bm.setExiting(port: 0x8001)
        XCTAssertEqual(b.load(fromByteOffset: 0, as: UInt8.self), 2)
        bm.clearExiting(port: 0x3F8)
        XCTAssertFalse(bm.isExiting(port: 0x3F8))
        bm.setExiting(ports: 0xFFF0, count: 100)
        XCTAssertEqual(b.load(fromByteOffset: 0xFFE, as: UInt8.self), 0xFF)
        XCTAssertEqual(b.load(fromByteOffset: 0xFFF, as: UInt8.self), 0xFF)
        XCTAssertFalse(bm.isExiting(port: 0))
        bm.setAll()
        XCTAssertTrue(bm.isExiting(port: 0x1234) && bm.isExiting(port: 0xABCD))
        bm.setExiting(ports: 0x60, count: 5, exiting: false)
        XCTAssertFalse(bm.exits(port: 0x60, size: 4))
        XCTAssertTrue(bm.exits(port: 0x64, size: 2))
    }

    func testMSRLocations() {
        let efer = MSRBitmap.location(msr: 0xC000_0080, write: true)
        XCTAssertEqual(efer?.byteOffset, 3072 + 16)
        XCTAssertEqual(efer?.bitMask, 1)
        XCTAssertEqual(MSRBitmap.location(msr: 0xC000_0080, write: false)?.byteOffset, 1024 + 16)
        let misc = MSRBitmap.location(msr: 0x1A0, write: false)
        XCTAssertEqual(misc?.byteOffset, 0x34)
        XCTAssertEqual(misc?.bitMask, 1)
        XCTAssertEqual(MSRBitmap.location(msr: 0x1A0, write: true)?.byteOffset, 2048 + 0x34)
        XCTAssertEqual(MSRBitmap.location(msr: 0x1FFF, write: true)?.byteOffset, 2048 + 1023)
        XCTAssertEqual(MSRBitmap.location(msr: 0x1FFF, write: true)?.bitMask, 0x80)
        XCTAssertNil(MSRBitmap.location(msr: 0x4000_0000, write: false))
        XCTAssertNil(MSRBitmap.location(msr: 0x2000, write: false))
        XCTAssertNil(MSRBitmap.location(msr: 0xC000_2000, write: true))
    }

    func testMSRBitmapPage() {
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        let bm = MSRBitmap(page: page)
        bm.clearAll()
        XCTAssertFalse(bm.isExiting(msr: MSR.ia32EFER, write: true))
        XCTAssertTrue(bm.isExiting(msr: 0x4000_0000, write: false), "out of range always exits")
        bm.setExiting(msr: MSR.ia32EFER, read: false, write: true)
        XCTAssertEqual(page.load(fromByteOffset: 3072 + 16, as: UInt8.self), 1)
        XCTAssertTrue(bm.isExiting(msr: MSR.ia32EFER, write: true))
        XCTAssertFalse(bm.isExiting(msr: MSR.ia32EFER, write: false))
        bm.setExiting(msr: MSR.ia32APICBase)
        XCTAssertTrue(bm.isExiting(msr: 0x1B, write: false) && bm.isExiting(msr: 0x1B, write: true))
        bm.setAll()
        bm.clearExiting(msr: MSR.ia32FSBase)
        XCTAssertFalse(bm.isExiting(msr: MSR.ia32FSBase, write: false))
        XCTAssertFalse(bm.isExiting(msr: MSR.ia32FSBase, write: true))
        XCTAssertTrue(bm.isExiting(msr: MSR.ia32GSBase, write: true))
    }
}
