import XCTest
@testable import Machine
import X86

/// The PVH direct boot: entry from the Xen PHYS32_ENTRY note, hvm_start_info (magic, version,
/// command line, memory map, initrd as module 0), 32-bit protected-mode start state, and
/// refusals with reasons for malformed or misplaced kernels.
final class PVHLoaderTests: XCTestCase {
    /// An ELF64 "vmlinux": one PT_LOAD of 0x3000 bytes at physical 16 MiB (virtual higher half),
    /// and a PT_NOTE holding a Go note and then Xen's PHYS32_ENTRY (type 18) = 16 MiB + 0x40.
    func kernel(entryNote: [UInt8]? = nil, noteName: [UInt8] = Array("Xen".utf8) + [0], paddr: UInt64 = 0x100_0000,
                noteType: UInt32 = 18) -> TestImage {
        let load = TestSegment(offset: 0x1000, vaddr: 0xFFFF_FFFF_8100_0000, paddr: paddr, filesz: 0x2000, memsz: 0x3000)
        var notes = TestImage()
        func note(_ name: [UInt8], _ type: UInt32, _ desc: [UInt8]) {
            let at = notes.count
            notes.put(UInt32(name.count), at: at)
            notes.put(UInt32(desc.count), at: at + 4)
            notes.put(type, at: at + 8)
            notes.put(bytes: name, at: at + 12)
            let descAt = at + 12 + (name.count + 3) / 4 * 4
            notes.put(bytes: desc, at: descAt)
            notes.ensure(descAt + (desc.count + 3) / 4 * 4)
        }
        note(Array("Go".utf8) + [0], 4, [1, 2, 3, 4, 5, 6, 7, 8])
        var entry = TestImage()
        entry.put(UInt32(truncatingIfNeeded: paddr + 0x40), at: 0)
        note(noteName, noteType, entryNote ?? entry.bytes)
        let noteSegment = TestSegment(type: 4, offset: 0x800, vaddr: 0, paddr: 0, filesz: UInt64(notes.count),
                                      memsz: UInt64(notes.count))
        var image = ELFBuilder.elf64(entry: 0xFFFF_FFFF_8100_0000, segments: [load, noteSegment])
        image.put(bytes: notes.bytes, at: 0x800)
        image.put(bytes: TestImage.pattern(0x2000), at: 0x1000)
        return image
    }

    func plan(_ image: TestImage, commandLine: String = "console=ttyS0", initrd: UInt64 = 0,
              ram: UInt64 = 64 << 20) -> Result<PVHLoader.Plan, PVHLoader.LoadError> {
        image.bytes.withUnsafeBytes { bytes in
            Result { () throws(PVHLoader.LoadError) in
                try PVHLoader.plan(bytes, commandLine: commandLine, initrdSize: initrd, ramSize: ram)
            }
        }
    }

    func testDetectedByItsNote() {
        kernel().bytes.withUnsafeBytes { XCTAssertEqual(GuestImageKind.detect($0), .pvh) }
        kernel(noteName: Array("Xem".utf8) + [0]).bytes.withUnsafeBytes { XCTAssertEqual(GuestImageKind.detect($0), .elf) }
        kernel(noteType: 17).bytes.withUnsafeBytes { XCTAssertEqual(GuestImageKind.detect($0), .elf) }
    }

    func testPlanTakesTheEntryFromTheNote() throws {
        let p = try plan(kernel(), initrd: 5000).get()
        XCTAssertEqual(p.entry, 0x100_0040)
        XCTAssertEqual(p.kernelEnd, 0x100_3000)
        XCTAssertEqual(p.initrdSize, 5000)
        XCTAssertEqual(p.initrdAddress, (64 << 20) - 0x2000, "page-aligned at the top of RAM")
        XCTAssertEqual(p.memoryMap, [
            .init(base: 0, length: 0x9F000, type: 1),
            .init(base: 0x9F000, length: 0x10_0000 - 0x9F000, type: 2),
            .init(base: 0x10_0000, length: (64 << 20) - 0x10_0000, type: 1)])
    }

    func testEightByteNoteAndRefusals() {
        var eight = TestImage()
        eight.put(UInt64(0x100_0100), at: 0)
        XCTAssertEqual(try plan(kernel(entryNote: eight.bytes)).get().entry, 0x100_0100)
        XCTAssertEqual(plan(kernel(entryNote: [1, 2])).failure, .badEntryNote(descriptorSize: 2))
        var outside = TestImage()
        outside.put(UInt32(0x200_0000), at: 0)
        XCTAssertEqual(plan(kernel(entryNote: outside.bytes)).failure, .entryOutsideKernel(entry: 0x200_0000))
        XCTAssertEqual(plan(kernel(paddr: 0x4000)).failure, .kernelOverlapsBootArea(segment: 0))
        XCTAssertEqual(plan(kernel(), commandLine: String(repeating: "x", count: 4096)).failure,
                       .commandLineTooLong(length: 4096, maximum: 4095))
        XCTAssertEqual(plan(kernel(), initrd: 63 << 20).failure,
                       .initrdDoesNotFit(size: 63 << 20, kernelEnd: 0x100_3000, ramSize: 64 << 20))
        XCTAssertEqual(plan(kernel(), ram: 16 << 20).failure,
                       .elf(.segmentOutsideRAM(index: 0, physicalAddress: 0x100_0000, memorySize: 0x3000, ramSize: 16 << 20)))
        // A truncated note segment is no note at all.
        var cut = kernel()
        cut.bytes = Array(cut.bytes[0..<0x810]) + Array(repeating: 0, count: 0x2800 - 0x810)
        cut.bytes.withUnsafeBytes { XCTAssertEqual(GuestImageKind.detect($0), .elf) }
    }

    func testCommitWritesStartInfoAndStartState() throws {
        let ram = TestRAM(size: 64 << 20)
        let image = kernel()
        let initrd: [UInt8] = TestImage.pattern(5000, seed: 9)
        let (p, state) = try image.bytes.withUnsafeBytes { bytes in
            try initrd.withUnsafeBytes { rd in
                try PVHLoader.load(bytes, commandLine: "console=ttyS0 quiet", initrd: rd, into: ram.memory)
            }
        }
        XCTAssertEqual(state.mode, .protected)
        XCTAssertEqual(state.rip, 0x100_0040)
        XCTAssertEqual(state.rbx, PVHLoader.startInfoAddress)
        XCTAssertEqual(state.cr0, [.pe, .et, .ne])
        XCTAssertEqual(state.tr.limit, 0x67)
        let si = PVHLoader.startInfoAddress
        XCTAssertEqual(ram.u32(si), 0x336E_C578)
        XCTAssertEqual(ram.u32(si + 4), 1)
        XCTAssertEqual(ram.u32(si + 12), 1, "one module: the initrd")
        XCTAssertEqual(ram.u64(si + 16), PVHLoader.moduleListAddress)
        XCTAssertEqual(ram.u64(PVHLoader.moduleListAddress), p.initrdAddress)
        XCTAssertEqual(ram.u64(PVHLoader.moduleListAddress + 8), 5000)
        XCTAssertEqual(ram.bytes(at: p.initrdAddress, count: 5000), initrd)
        XCTAssertEqual(ram.u64(si + 24), PVHLoader.commandLineAddress)
        XCTAssertEqual(ram.bytes(at: PVHLoader.commandLineAddress, count: 20), Array("console=ttyS0 quiet".utf8) + [0])
        XCTAssertEqual(ram.u64(si + 40), PVHLoader.memoryMapAddress)
        XCTAssertEqual(ram.u32(si + 48), 3)
        XCTAssertEqual(ram.u64(PVHLoader.memoryMapAddress + 48), 0x10_0000, "third entry: RAM from 1 MiB")
        XCTAssertEqual(ram.u32(PVHLoader.memoryMapAddress + 48 + 16), 1)
        XCTAssertEqual(ram.bytes(at: 0x100_0000, count: 0x2000), TestImage.pattern(0x2000))
        XCTAssertEqual(ram.bytes(at: 0x100_2000, count: 16), Array(repeating: 0, count: 16), "bss zeroed")
    }

    /// With pci=on the ECAM window is reserved in the memory map after RAM.
    func testReservedRangesJoinTheMemoryMap() throws {
        let ram = TestRAM(size: 64 << 20)
        let image = kernel()
        let (p, _) = try image.bytes.withUnsafeBytes { bytes in
            try PVHLoader.load(bytes, reserved: [AddressRange(base: 0xF000_0000, size: 1 << 20)], into: ram.memory)
        }
        XCTAssertEqual(p.memoryMap.count, 4)
        XCTAssertEqual(p.memoryMap.last, MemoryMapEntry(base: 0xF000_0000, length: 1 << 20, type: 2))
        XCTAssertEqual(ram.u32(PVHLoader.startInfoAddress + 48), 4)
        let entry = PVHLoader.memoryMapAddress + 3 * 24
        XCTAssertEqual(ram.u64(entry), 0xF000_0000)
        XCTAssertEqual(ram.u64(entry + 8), 1 << 20)
        XCTAssertEqual(ram.u32(entry + 16), 2)
    }
}
