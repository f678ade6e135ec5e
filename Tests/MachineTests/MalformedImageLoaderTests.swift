import XCTest
@testable import Machine

/// Deterministic mutation of valid images: whatever the bytes, a loader either loads or
/// throws; it never traps (overflow, out-of-bounds) and never writes outside RAM.
final class MalformedImageLoaderTests: XCTestCase {
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Overwrites a few bytes (or 16/32/64-bit words of extreme values) in `[from, from + span)`.
    static func mutate(_ image: TestImage, from: Int = 0, span: Int, random: inout Random) -> TestImage {
        var copy = image
        for _ in 0..<(1 + random.below(3)) {
            let at = from + random.below(span)
            switch random.below(4) {
            case 0: copy.bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 1: copy.put(UInt32.max - UInt32(random.below(16)), at: at)
            case 2: copy.put(UInt64.max - UInt64(random.below(4096)), at: at)
            default: copy.put(UInt16(truncatingIfNeeded: random.next()), at: at)
            }
        }
        if random.below(8) == 0 { copy.bytes.removeLast(random.below(copy.count)) }
        return copy
    }

    func testMutatedELF64Images() {
        var image = ELFBuilder.elf64(entry: 0x20_0000, segments: [
            TestSegment(offset: 0x200, vaddr: 0x20_0000, paddr: 0x20_0000, filesz: 0x100, memsz: 0x1000),
            TestSegment(offset: 0x300, vaddr: 0x30_0000, paddr: 0x30_0000, filesz: 0x100, memsz: 0x100),
        ])
        image.ensure(0x400)
        let ram = TestRAM(size: 4 << 20)
        var random = Random(state: 1)
        var loaded = 0
        for _ in 0..<400 {
            if case .success = Self.mutate(image, span: 64 + 2 * 56, random: &random).loadELF64(into: ram) { loaded += 1 }
        }
        XCTAssertGreaterThan(loaded, 0)
    }

    func testMutatedMultibootImages() {
        var elf = ELFBuilder.elf32(entry: 0x10_0000, segments: [
            TestSegment(offset: 0x100, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x100, memsz: 0x2000),
        ])
        MultibootBuilder.putHeader(in: &elf, at: 0x100, flags: 3)
        elf.ensure(0x200)
        var aout = TestImage(size: 0x300)
        MultibootBuilder.putHeader(in: &aout, at: 0x40, flags: 1 << 16 | 3,
                                   addresses: (0x10_0040, 0x10_0000, 0x10_0200, 0x10_2000, 0x10_0000))
        let ram = TestRAM(size: 2 << 20)
        var random = Random(state: 2)
        var loaded = 0
        for _ in 0..<300 {
            if case .success = Self.mutate(elf, span: 0x54, random: &random).loadMultiboot(into: ram, modules: [[1, 2]]) {
                loaded += 1
            }
            // The a.out fields (the checksum still holds: flags and magic are left alone).
            if case .success = Self.mutate(aout, from: 0x4C, span: 0x14, random: &random)
                .loadMultiboot(into: ram, commandLine: "x") { loaded += 1 }
        }
        XCTAssertGreaterThan(loaded, 0)
    }

    func testMutatedBzImages() {
        let image = BzImageSpec().build()
        let ram = TestRAM(size: 24 << 20)
        var random = Random(state: 3)
        var loaded = 0
        for _ in 0..<300 {
            // The setup header, 0x1F1–0x268.
            let mutated = Self.mutate(image, from: 0x1F1, span: 0x77, random: &random)
            if case .success = mutated.loadLinux(into: ram, commandLine: "console=ttyS0", initrd: [1, 2, 3, 4]) {
                loaded += 1
            }
        }
        XCTAssertGreaterThan(loaded, 0)
    }
}
