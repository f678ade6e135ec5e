import XCTest
import Machine

final class GuestMemoryTests: XCTestCase {
    let ram = TestRAM(size: 0x1000)

    func testContainsBounds() {
        let memory = ram.memory
        XCTAssertTrue(memory.contains(gpa: 0, length: 0))
        XCTAssertTrue(memory.contains(gpa: 0x1000, length: 0), "an empty range at the end")
        XCTAssertFalse(memory.contains(gpa: 0x1001, length: 0))
        XCTAssertTrue(memory.contains(gpa: 0, length: 0x1000))
        XCTAssertTrue(memory.contains(gpa: 0xFF0, length: 0x10), "ends exactly at the end")
        XCTAssertFalse(memory.contains(gpa: 0xFF0, length: 0x11), "end + 1")
        XCTAssertFalse(memory.contains(gpa: 0, length: 0x1001))
        XCTAssertFalse(memory.contains(gpa: 0xFFFF_FFFF_FFFF_F000, length: 16))
        XCTAssertFalse(memory.contains(gpa: UInt64.max, length: 1))
        XCTAssertFalse(memory.contains(gpa: 1, length: UInt64.max), "gpa + length wraps")
        XCTAssertFalse(memory.contains(gpa: UInt64.max, length: UInt64.max))
        XCTAssertFalse(memory.contains(gpa: 0x10, length: UInt64.max - 0xF), "wraps to exactly 0")
    }

    func testZeroSizedRAM() {
        let empty = TestRAM(size: 0)
        XCTAssertTrue(empty.memory.contains(gpa: 0, length: 0))
        XCTAssertFalse(empty.memory.contains(gpa: 0, length: 1))
        XCTAssertNil(empty.memory.load(UInt8.self, gpa: 0))
    }

    func testBytes() {
        ram.put("swift", at: 0x100)
        let view = ram.memory.bytes(gpa: 0x100, length: 5)
        XCTAssertEqual(view.map { Array($0) }, Array("swift".utf8))
        XCTAssertEqual(ram.memory.bytes(gpa: 0x1000, length: 0)?.count, 0)
        XCTAssertNil(ram.memory.bytes(gpa: 0xFFC, length: 5))
        XCTAssertNil(ram.memory.mutableBytes(gpa: UInt64.max - 1, length: 4))
    }

    func testLoadStoreLittleEndian() {
        let memory = ram.memory
        XCTAssertTrue(memory.store(UInt32(0x1122_3344), gpa: 0x201))  // unaligned
        XCTAssertEqual(ram.pointer.load(fromByteOffset: 0x201, as: UInt8.self), 0x44)
        XCTAssertEqual(ram.pointer.load(fromByteOffset: 0x204, as: UInt8.self), 0x11)
        XCTAssertEqual(memory.load(UInt32.self, gpa: 0x201), 0x1122_3344)
        XCTAssertEqual(memory.load(UInt16.self, gpa: 0x202), 0x2233)
        XCTAssertTrue(memory.store(UInt64.max, gpa: 0xFF8))
        XCTAssertEqual(memory.load(UInt64.self, gpa: 0xFF8), UInt64.max)
        XCTAssertFalse(memory.store(UInt64(1), gpa: 0xFF9))
        XCTAssertNil(memory.load(UInt64.self, gpa: 0xFF9))
        XCTAssertNil(memory.load(UInt64.self, gpa: UInt64.max - 3))
        XCTAssertEqual(memory.load(UInt64.self, gpa: 0xFF8), UInt64.max, "a failed store writes nothing")
    }

    func testCopyInOutAndFill() {
        let memory = ram.memory
        let image: [UInt8] = [0xEB, 0xFE, 0x90, 0xF4]
        XCTAssertTrue(image.withUnsafeBytes { memory.copyIn($0, gpa: 0x7C00 & 0xFFF) })
        XCTAssertEqual(memory.load(UInt32.self, gpa: 0xC00), 0xF490_FEEB)
        XCTAssertFalse(image.withUnsafeBytes { memory.copyIn($0, gpa: 0xFFD) })
        XCTAssertEqual(memory.load(UInt8.self, gpa: 0xFFD), 0, "nothing partially copied")
        XCTAssertTrue([UInt8]().withUnsafeBytes { memory.copyIn($0, gpa: 0x1000) })

        var out = [UInt8](repeating: 0, count: 4)
        XCTAssertTrue(out.withUnsafeMutableBytes { memory.copyOut(gpa: 0xC00, to: $0) })
        XCTAssertEqual(out, image)
        XCTAssertFalse(out.withUnsafeMutableBytes { memory.copyOut(gpa: UInt64.max, to: $0) })

        XCTAssertTrue(memory.fill(gpa: 0xC00, length: 2, with: 0xCC))
        XCTAssertEqual(memory.load(UInt32.self, gpa: 0xC00), 0xF490_CCCC)
        XCTAssertFalse(memory.fill(gpa: 0xFFF, length: 2, with: 0))
    }
}
