import XCTest
@testable import Machine

final class GuestImageKindTests: XCTestCase {
    func kind(_ bytes: [UInt8]) -> GuestImageKind { bytes.withUnsafeBytes { GuestImageKind.detect($0) } }

    func testRecognizesEachKind() {
        var bz = [UInt8](repeating: 0, count: 0x400)
        bz[0x1FE] = 0x55; bz[0x1FF] = 0xAA
        bz.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        XCTAssertEqual(kind(bz), .linux)

        var mb = [UInt8](repeating: 0, count: 64)
        mb.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])      // an ELF that is also Multiboot
        let magic: UInt32 = 0x1BAD_B002, flags: UInt32 = 3, checksum = 0 &- (magic &+ flags)
        for (i, v) in [magic, flags, checksum].enumerated() {
            withUnsafeBytes(of: v.littleEndian) { mb.replaceSubrange(16 + 4 * i..<20 + 4 * i, with: $0) }
        }
        XCTAssertEqual(kind(mb), .multiboot)

        var badChecksum = mb
        badChecksum[24] ^= 1
        XCTAssertEqual(kind(badChecksum), .elf)
        XCTAssertEqual(kind([0x90, 0x90, 0xF4]), .flat)
        XCTAssertEqual(kind([]), .flat)
    }
}
