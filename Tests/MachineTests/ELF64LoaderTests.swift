import XCTest
import X86
@testable import Machine

final class ELF64LoaderTests: XCTestCase {
    static let ram16M: UInt64 = 16 << 20
    let text = TestImage.pattern(0x180, seed: 3)
    let data = TestImage.pattern(0x40, seed: 77)

    /// A higher-half kernel: text at vaddr 0xffffffff80200000 → paddr 0x200000, data+bss at
    /// 0xffffffff80201000 → 0x201000, a PT_NOTE in between.
    func higherHalfKernel() -> TestImage {
        let base: UInt64 = 0xFFFF_FFFF_8020_0000
        var image = ELFBuilder.elf64(entry: base + 0x10, segments: [
            TestSegment(offset: 0x1000, vaddr: base, paddr: 0x20_0000, filesz: 0x180, memsz: 0x180),
            TestSegment(type: 4, offset: 0, vaddr: 0, paddr: 0, filesz: 0, memsz: 0),
            TestSegment(offset: 0x2000, vaddr: base + 0x1000, paddr: 0x20_1000, filesz: 0x40, memsz: 0x3000),
        ])
        image.put(bytes: text, at: 0x1000)
        image.put(bytes: data, at: 0x2000)
        return image
    }

    func testHigherHalfKernelHappyPath() throws {
        let ram = TestRAM(size: Int(Self.ram16M))
        ram.scribble()
        let state = try higherHalfKernel().loadELF64(into: ram).get()

        XCTAssertEqual(state.mode, .long)
        XCTAssertEqual(state.rip, 0x20_0010, "e_entry translated from the virtual to the physical range")
        XCTAssertEqual(state.cr0, [.pe, .mp, .et, .ne, .wp, .pg])
        XCTAssertEqual(state.cr4, [.pae])
        XCTAssertEqual(state.efer, [.lme, .lma, .nxe])
        XCTAssertEqual(state.cr3, 0x1000)
        XCTAssertEqual(state.rsp, 0x8000)
        XCTAssertEqual(state.rflags, 0x2)
        XCTAssertEqual(state.rbx, Self.ram16M)
        XCTAssertEqual(state.cs.selector, 0x10)
        XCTAssertEqual(state.cs.accessRights, .code64())
        XCTAssertEqual(state.ds.selector, 0x18)
        XCTAssertEqual(state.ss.selector, 0x18)
        XCTAssertEqual(state.ds.accessRights, .data())
        XCTAssertEqual(state.gdtrBase, 0x500)
        XCTAssertEqual(state.gdtrLimit, 31)
        XCTAssertEqual(ram.u64(0x500), 0)
        XCTAssertEqual(ram.u64(0x510), SegmentDescriptor.code64().rawValue)
        XCTAssertEqual(ram.u64(0x518), SegmentDescriptor.data().rawValue)

        // Segments: file bytes, then zeros up to p_memsz; nothing beyond.
        XCTAssertEqual(ram.bytes(at: 0x20_0000, count: 0x180), text)
        XCTAssertEqual(ram.u8(0x20_0180), 0xCC, "nothing written past p_memsz")
        XCTAssertEqual(ram.bytes(at: 0x20_1000, count: 0x40), data)
        XCTAssertEqual(ram.bytes(at: 0x20_1040, count: 0x2FC0), Array(repeating: 0, count: 0x2FC0), "bss zeroed")
        XCTAssertEqual(ram.u8(0x20_4000), 0xCC)

        // Identity map of 4 GiB: PML4 → PDPT → four directories of 2 MiB pages, rest zero.
        XCTAssertEqual(ram.u64(0x1000), PageTableEntry.table(0x2000).rawValue)
        XCTAssertEqual(ram.u64(0x1008), 0)
        for i in 0..<4 { XCTAssertEqual(ram.u64(0x2000 + UInt64(i) * 8), PageTableEntry.table(0x3000 + UInt64(i) * 0x1000).rawValue) }
        XCTAssertEqual(ram.u64(0x2020), 0)
        XCTAssertEqual(ram.u64(0x3008), PageTableEntry.page2M(0x20_0000).rawValue)
        XCTAssertEqual(ram.u64(0x6FF8), PageTableEntry.page2M(0xFFE0_0000).rawValue)
    }

    func testEntryOutsideAnySegmentIsPhysical() throws {
        var image = ELFBuilder.elf64(entry: 0x20_0040, segments: [
            TestSegment(offset: 0x1000, vaddr: 0x20_0000, paddr: 0x20_0000, filesz: 0x10, memsz: 0x10),
        ])
        image.ensure(0x1010)
        let ram = TestRAM(size: Int(Self.ram16M))
        let state = try image.loadELF64(into: ram).get()
        XCTAssertEqual(state.rip, 0x20_0040)
    }

    func testBootBlockMovesAboveLowSegments() throws {
        // A kernel occupying 0–0x10fff: the GDT, tables and stack go to the next page.
        var image = ELFBuilder.elf64(entry: 0x1000, segments: [
            TestSegment(offset: 0x1000, vaddr: 0, paddr: 0, filesz: 0x100, memsz: 0x1_1000),
        ])
        image.put(bytes: text, at: 0x1000)
        let ram = TestRAM(size: Int(Self.ram16M))
        ram.scribble()
        let state = try image.loadELF64(into: ram).get()
        XCTAssertEqual(state.cr3, 0x1_2000)
        XCTAssertEqual(state.gdtrBase, 0x1_1500)
        XCTAssertEqual(state.rsp, 0x1_9000)
        XCTAssertEqual(ram.u64(0x1_1510), SegmentDescriptor.code64().rawValue)
        XCTAssertEqual(ram.u64(0x1_2000), PageTableEntry.table(0x1_3000).rawValue)
        XCTAssertEqual(ram.u64(0x1_3018), PageTableEntry.table(0x1_7000).rawValue)
        XCTAssertEqual(ram.u64(0x1_4000), PageTableEntry.page2M(0).rawValue)
        XCTAssertEqual(ram.bytes(at: 0, count: 0x100), Array(text[0..<0x100]), "the kernel is intact")
        XCTAssertEqual(ram.u64(0x500), 0, "the kernel's own bss at 0x500 zeroed, not a GDT")
    }

    func testNoRoomForBootBlock() {
        var image = ELFBuilder.elf64(entry: 0x1000, segments: [
            TestSegment(offset: 0x1000, vaddr: 0, paddr: 0, filesz: 0x10, memsz: 0xFF_C000),
        ])
        image.ensure(0x1010)
        let ram = TestRAM(size: Int(Self.ram16M))
        let error = image.loadELF64(into: ram).failure
        XCTAssertEqual(error, .noRoomForBootBlock(segmentsEnd: 0xFF_C000, ramSize: Self.ram16M))
        XCTAssertEqual(error?.description, "no room for the GDT, page tables and stack (32 KiB): the segments cover "
            + "0x500–0x7fff and nothing is free between their end 0xffc000 and the end of 16 MiB of guest RAM below 4 GiB")
    }

    /// Loads `image` into 16 MiB and returns the ELF error.
    func elfError(_ image: TestImage) -> ELFError? {
        let ram = TestRAM(size: Int(Self.ram16M))
        let error = image.loadELF64(into: ram).failure
        guard case .elf(let inner)? = error else { XCTFail("expected an ELF error, got \(String(describing: error))"); return nil }
        return inner
    }

    func minimal(_ segments: [TestSegment]? = nil, entry: UInt64 = 0x10_0000) -> TestImage {
        var image = ELFBuilder.elf64(entry: entry, segments: segments ?? [
            TestSegment(offset: 0x100, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x10, memsz: 0x10),
        ])
        image.ensure(0x110)
        return image
    }

    func testEmptyImage() {
        let ram = TestRAM(size: 0x10000)
        let error = TestImage().loadELF64(into: ram).failure
        XCTAssertEqual(error, .emptyImage)
        XCTAssertEqual(error?.description, "the kernel image is empty")
    }

    func testHeaderErrors() {
        XCTAssertEqual(elfError(TestImage(bytes: [0x7F, 0x45, 0x4C])), .truncatedHeader(fileSize: 3, needed: 52))
        var bad = minimal(); bad.bytes[1] = 0x46
        XCTAssertEqual(elfError(bad), .badMagic)
        XCTAssertEqual(ELFError.badMagic.description, "not an ELF file: bad magic")
        var truncated = minimal(); truncated.bytes.removeLast(truncated.count - 40)
        XCTAssertEqual(elfError(truncated), .truncatedHeader(fileSize: 40, needed: 64))
        XCTAssertEqual(ELFError.truncatedHeader(fileSize: 40, needed: 64).description,
                       "truncated ELF header: the file is 40 bytes, the header needs 64")
        var cls = minimal(); cls.bytes[4] = 3
        XCTAssertEqual(elfError(cls), .unsupportedClass(3))
        var bigEndian = minimal(); bigEndian.bytes[5] = 2
        XCTAssertEqual(elfError(bigEndian), .notLittleEndian(2))
        var version = minimal(); version.bytes[6] = 0
        XCTAssertEqual(elfError(version), .unsupportedVersion(0))
        var elf32 = ELFBuilder.elf32(entry: 0x10_0000, segments: [
            TestSegment(offset: 0x100, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x10, memsz: 0x10)])
        elf32.ensure(0x110)
        XCTAssertEqual(elfError(elf32), .wrongClass(found: .elf32, needed: .elf64))
        XCTAssertEqual(ELFError.wrongClass(found: .elf32, needed: .elf64).description, "ELF32 file where an ELF64 file is needed")
        var dyn = minimal(); dyn.put(UInt16(3), at: 16)
        XCTAssertEqual(elfError(dyn), .wrongType(3))
        XCTAssertEqual(ELFError.wrongType(3).description, "ELF type 3 is not an executable (ET_EXEC, 2)")
        var i386 = minimal(); i386.put(UInt16(3), at: 18)
        XCTAssertEqual(elfError(i386), .wrongMachine(found: 3, needed: 62))
        XCTAssertEqual(ELFError.wrongMachine(found: 3, needed: 62).description, "ELF machine 3 is not x86-64 (62)")
    }

    func testProgramHeaderTableErrors() {
        var small = minimal(); small.put(UInt16(40), at: 54)
        XCTAssertEqual(elfError(small), .programHeaderEntryTooSmall(found: 40, needed: 56))
        var xnum = minimal(); xnum.put(UInt16(0xFFFF), at: 56)
        XCTAssertEqual(elfError(xnum), .extendedProgramHeaderCount)
        var many = minimal(); many.put(UInt16(100), at: 56)
        XCTAssertEqual(elfError(many), .programHeaderTableOutsideFile(offset: 64, count: 100, entrySize: 56))
        XCTAssertEqual(ELFError.programHeaderTableOutsideFile(offset: 64, count: 100, entrySize: 56).description,
                       "ELF program header table (100 entries of 56 bytes at offset 0x40) extends past the end of the file")
        var wrap = minimal(); wrap.put(UInt64.max - 10, at: 32)
        XCTAssertEqual(elfError(wrap), .programHeaderTableOutsideFile(offset: UInt64.max - 10, count: 1, entrySize: 56))
        var none = minimal(); none.put(UInt16(0), at: 56)
        XCTAssertEqual(elfError(none), .noLoadableSegments)
        none.put(UInt64.max, at: 32)
        XCTAssertEqual(elfError(none), .noLoadableSegments, "e_phoff is irrelevant without program headers")
        let onlyNote = minimal([TestSegment(type: 4, offset: 0x100, vaddr: 0, paddr: 0, filesz: 0x10, memsz: 0x10)])
        XCTAssertEqual(elfError(onlyNote), .noLoadableSegments)
        let onlyEmpty = minimal([TestSegment(offset: 0x100, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0, memsz: 0)])
        XCTAssertEqual(elfError(onlyEmpty), .noLoadableSegments)
    }

    func testSegmentErrors() {
        let ok = TestSegment(offset: 0x100, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x10, memsz: 0x10)
        let note = TestSegment(type: 4, offset: 0, vaddr: 0, paddr: 0, filesz: 0, memsz: 0)
        // Header 2 (after a PT_LOAD and a PT_NOTE) reads past the file's 0x110 bytes.
        let pastEnd = TestSegment(offset: 0x100, vaddr: 0x20_0000, paddr: 0x20_0000, filesz: 0x11, memsz: 0x11)
        XCTAssertEqual(elfError(minimal([ok, note, pastEnd])), .segmentPastEndOfFile(index: 2))
        XCTAssertEqual(ELFError.segmentPastEndOfFile(index: 2).description, "ELF program header 2 extends past the end of the file")
        // p_offset + p_filesz overflows UInt64.
        let wrapping = TestSegment(offset: UInt64.max - 7, vaddr: 0x20_0000, paddr: 0x20_0000, filesz: 0x10, memsz: 0x10)
        XCTAssertEqual(elfError(minimal([wrapping])), .segmentPastEndOfFile(index: 0))
        let hugeFile = TestSegment(offset: 0x100, vaddr: 0, paddr: 0x20_0000, filesz: UInt64.max, memsz: UInt64.max)
        XCTAssertEqual(elfError(minimal([hugeFile])), .segmentPastEndOfFile(index: 0))
        let fileOverMem = TestSegment(offset: 0x100, vaddr: 0x20_0000, paddr: 0x20_0000, filesz: 0x10, memsz: 0x8)
        XCTAssertEqual(elfError(minimal([fileOverMem])), .fileSizeExceedsMemorySize(index: 0, fileSize: 0x10, memorySize: 8))
        XCTAssertEqual(ELFError.fileSizeExceedsMemorySize(index: 0, fileSize: 0x10, memorySize: 8).description,
                       "ELF program header 0: p_filesz 0x10 exceeds p_memsz 0x8")
        // p_paddr + p_memsz overflows UInt64.
        let addressWrap = TestSegment(offset: 0x100, vaddr: 0, paddr: 0xFFFF_FFFF_FFFF_F000, filesz: 0x10, memsz: 0x2000)
        XCTAssertEqual(elfError(minimal([addressWrap])),
                       .segmentAddressOverflow(index: 0, physicalAddress: 0xFFFF_FFFF_FFFF_F000, memorySize: 0x2000))
        // Outside RAM.
        let high = TestSegment(offset: 0x100, vaddr: 0x100_0000, paddr: 0x100_0000, filesz: 0x10, memsz: 0x1000)
        let outside = elfError(minimal([ok, high]))
        XCTAssertEqual(outside, .segmentOutsideRAM(index: 1, physicalAddress: 0x100_0000, memorySize: 0x1000, ramSize: Self.ram16M))
        XCTAssertEqual(outside?.description, "segment at 0x1000000 (0x1000 bytes) does not fit in 16 MiB of guest RAM")
        let straddling = TestSegment(offset: 0x100, vaddr: 0, paddr: 0xFF_F000, filesz: 0x10, memsz: 0x1001)
        XCTAssertNotNil(elfError(minimal([straddling])))
        // Overlaps, in either program-header order.
        let overlapping = TestSegment(offset: 0x100, vaddr: 0x10_0008, paddr: 0x10_0008, filesz: 0x10, memsz: 0x10)
        XCTAssertEqual(elfError(minimal([ok, note, overlapping])), .segmentsOverlap(first: 0, second: 2))
        XCTAssertEqual(elfError(minimal([overlapping, ok])), .segmentsOverlap(first: 0, second: 1))
        XCTAssertEqual(ELFError.segmentsOverlap(first: 0, second: 2).description,
                       "ELF program headers 0 and 2 overlap in physical memory")
        let nested = TestSegment(offset: 0x100, vaddr: 0, paddr: 0xF_0000, filesz: 0x10, memsz: 0x20_0000)
        XCTAssertEqual(elfError(minimal([ok, high.with(paddr: 0x40_0000), nested])), .segmentsOverlap(first: 0, second: 2))
        // Adjacent segments are fine.
        let adjacent = TestSegment(offset: 0x100, vaddr: 0x10_0010, paddr: 0x10_0010, filesz: 0x10, memsz: 0x10)
        XCTAssertNil(minimal([ok, adjacent]).loadELF64(into: TestRAM(size: Int(Self.ram16M))).failure)
    }

    func testEntryOutsideRAM() {
        let error = elfError(minimal(entry: 0x4000_0000))
        XCTAssertEqual(error, .entryOutsideRAM(entry: 0x4000_0000, ramSize: Self.ram16M))
        XCTAssertEqual(error?.description, "entry point 0x40000000 is outside 16 MiB of guest RAM")
    }

    func testManyProgramHeadersStayFast() throws {
        // 20,000 adjacent one-byte segments: the overlap check must not be quadratic.
        let count = 20_000
        let segments = (0..<count).map {
            TestSegment(offset: 0x10_0000, vaddr: 0x20_0000 + UInt64($0), paddr: 0x20_0000 + UInt64($0), filesz: 0, memsz: 1)
        }
        var image = ELFBuilder.elf64(entry: 0x20_0000, segments: segments)
        image.ensure(0x10_0000)
        let ram = TestRAM(size: Int(Self.ram16M))
        let state = try image.loadELF64(into: ram).get()
        XCTAssertEqual(state.rip, 0x20_0000)
    }

    func testFlatGuestLoaderTablesUnchanged() throws {
        // The refactor onto IdentityPageTables keeps FlatGuestLoader's layout.
        let ram = TestRAM(size: 1 << 20)
        let state = try [UInt8(0xF4)].withUnsafeBytes { try FlatGuestLoader.load($0, mode: .long, into: ram.memory) }
        XCTAssertEqual(state.cr3, 0x1000)
        XCTAssertEqual(ram.u64(0x1000), PageTableEntry.table(0x2000).rawValue)
        for i in 0..<4 {
            XCTAssertEqual(ram.u64(0x2000 + UInt64(i) * 8), PageTableEntry.table(0x3000 + UInt64(i) * 0x1000).rawValue)
            for j in [0, 1, 511] {
                XCTAssertEqual(ram.u64(0x3000 + UInt64(i) * 0x1000 + UInt64(j) * 8),
                               PageTableEntry.page2M((UInt64(i) << 30) | (UInt64(j) << 21)).rawValue)
            }
        }
        XCTAssertEqual(ram.u8(0x8000), 0xF4)
    }

    // MARK: plan (pure) and commit

    func testPlanPlacesSegmentsAndBootBlockWithoutMemory() throws {
        let plan = try higherHalfKernel().bytes.withUnsafeBytes { buffer throws(ELF64Loader.LoadError) in
            try ELF64Loader.plan(buffer, ramSize: Self.ram16M)
        }
        XCTAssertEqual(plan.entry, 0x20_0010)
        XCTAssertEqual(plan.segments.map(\.physicalAddress), [0x20_0000, 0x20_1000], "PT_NOTE (p_memsz 0) left out")
        XCTAssertEqual(plan.segments.map(\.memorySize), [0x180, 0x3000])
        XCTAssertEqual(plan.bootBlockBase, 0)
        XCTAssertEqual(plan.gdtAddress, 0x500)
        XCTAssertEqual(plan.pml4Address, 0x1000)
        XCTAssertEqual(plan.stackTop, 0x8000)
        XCTAssertEqual(plan.identityMappedGibibytes, 4)
        XCTAssertEqual(plan.ramSize, Self.ram16M)
    }

    func testPlanMovesBootBlockAboveLowSegments() throws {
        var image = ELFBuilder.elf64(entry: 0x1000, segments: [
            TestSegment(offset: 0x1000, vaddr: 0, paddr: 0, filesz: 0x100, memsz: 0x1_1000),
        ])
        image.put(bytes: text, at: 0x1000)
        let plan = try image.bytes.withUnsafeBytes { buffer throws(ELF64Loader.LoadError) in
            try ELF64Loader.plan(buffer, ramSize: Self.ram16M)
        }
        XCTAssertEqual(plan.bootBlockBase, 0x1_1000)
        XCTAssertEqual(plan.stackTop, 0x1_9000)
        let refused = image.bytes.withUnsafeBytes { buffer in
            Result { () throws(ELF64Loader.LoadError) in try ELF64Loader.plan(buffer, ramSize: 0x1_8000) }
        }.failure
        XCTAssertEqual(refused, .noRoomForBootBlock(segmentsEnd: 0x1_1000, ramSize: 0x1_8000))
    }

    func testCommitOfAPlanForMoreRAMFailsNamingTheSegment() throws {
        // A plan made for 16 MiB committed into 1 MiB: the kernel at 2 MiB does not fit.
        let image = higherHalfKernel()
        let ram = TestRAM(size: 1 << 20)
        let error = image.bytes.withUnsafeBytes { buffer in
            Result { () throws(ELF64Loader.LoadError) in
                let plan = try ELF64Loader.plan(buffer, ramSize: Self.ram16M)
                return try ELF64Loader.commit(plan, image: buffer, into: ram.memory)
            }
        }.failure
        XCTAssertEqual(error, .writeFailed(.kernelSegment))
        XCTAssertEqual(error?.description, "could not write a kernel segment into guest memory")
    }

    func testCommitFailsNamingThePageTables() throws {
        // Segments low in RAM, the boot block planned at 0 but RAM shrunk under the page tables.
        let image = minimal([TestSegment(offset: 0x100, vaddr: 0x8000, paddr: 0x8000, filesz: 0x10, memsz: 0x10)],
                            entry: 0x8000)
        let ram = TestRAM(size: 0x2000)
        let error = image.bytes.withUnsafeBytes { buffer in
            Result { () throws(ELF64Loader.LoadError) in
                var plan = try ELF64Loader.plan(buffer, ramSize: Self.ram16M)
                plan.segments = []
                return try ELF64Loader.commit(plan, image: buffer, into: ram.memory)
            }
        }.failure
        XCTAssertEqual(error, .writeFailed(.pageTables))
    }

    func testELFImageCopyReportsASegmentThatDoesNotFit() throws {
        let image = higherHalfKernel()
        let plan = try image.bytes.withUnsafeBytes { buffer throws(ELF64Loader.LoadError) in
            try ELF64Loader.plan(buffer, ramSize: Self.ram16M)
        }
        let ram = TestRAM(size: 0x20_2000)      // segment 1 (0x201000 + 0x3000) runs past the end
        ram.scribble()
        XCTAssertFalse(image.bytes.withUnsafeBytes { ELFImage.copy(plan.segments, from: $0, into: ram.memory) })
        let big = TestRAM(size: Int(Self.ram16M))
        big.scribble()
        XCTAssertTrue(image.bytes.withUnsafeBytes { ELFImage.copy(plan.segments, from: $0, into: big.memory) })
        XCTAssertEqual(big.bytes(at: 0x20_1000, count: 0x40), data)
        XCTAssertEqual(big.bytes(at: 0x20_1040, count: 0x2FC0), Array(repeating: 0, count: 0x2FC0), "bss zeroed")
        var truncated = plan.segments
        truncated[0].offset = UInt64(image.count)       // p_offset past the end of the file
        XCTAssertFalse(image.bytes.withUnsafeBytes { ELFImage.copy(truncated, from: $0, into: big.memory) })
    }

    func testFlatGuestPlanPerMode() throws {
        let long = try FlatGuestLoader.plan(imageSize: 0x100, mode: .long, ramSize: 1 << 20)
        XCTAssertEqual(long, FlatGuestLoader.Plan(mode: .long, imageSize: 0x100, loadAddress: 0x8000, entry: 0x8000,
                                                  stack: 0x8000, identityMappedGibibytes: 4, ramSize: 1 << 20))
        let real = try FlatGuestLoader.plan(imageSize: 0x100, mode: .real, ramSize: 1 << 20)
        XCTAssertEqual(real.stack, 0x7FF0)
        XCTAssertEqual(real.identityMappedGibibytes, 0)
        XCTAssertEqual(try FlatGuestLoader.plan(imageSize: 1, mode: .protected, ramSize: 1 << 20).identityMappedGibibytes, 0)
        XCTAssertEqual(FlatGuestLoader.startState(long).cr3, 0x1000)
        XCTAssertEqual(FlatGuestLoader.startState(long).rbx, 1 << 20)
        XCTAssertEqual(FlatGuestLoader.startState(real).idtrLimit, 0x3FF)

        XCTAssertThrowsError(try FlatGuestLoader.plan(imageSize: 0, mode: .long, ramSize: 1 << 20)) {
            XCTAssertEqual($0 as? FlatGuestLoader.LoadError, .emptyImage)
        }
        XCTAssertThrowsError(try FlatGuestLoader.plan(imageSize: 0x8001, mode: .long, ramSize: 0x1_0000)) {
            XCTAssertEqual($0 as? FlatGuestLoader.LoadError, .imageTooLarge(imageSize: 0x8001, room: 0x8000))
        }
        XCTAssertThrowsError(try FlatGuestLoader.plan(imageSize: 1, mode: .long, ramSize: 0xFFFF)) {
            XCTAssertEqual($0 as? FlatGuestLoader.LoadError, .memoryTooSmall(0xFFFF))
        }
    }

    func testFlatGuestCommitFailsNamingTheStructure() throws {
        let image: [UInt8] = Array(repeating: 0xF4, count: 0x100)
        let plan = try FlatGuestLoader.plan(imageSize: 0x100, mode: .long, ramSize: 1 << 20)
        let small = TestRAM(size: 0x8000)      // the image at 0x8000 does not fit
        XCTAssertThrowsError(try image.withUnsafeBytes { try FlatGuestLoader.commit(plan, image: $0, into: small.memory) }) {
            XCTAssertEqual($0 as? FlatGuestLoader.LoadError, .writeFailed(.image))
            XCTAssertEqual(($0 as? FlatGuestLoader.LoadError)?.description, "could not write the guest image into guest memory")
        }
        XCTAssertThrowsError(try image.withUnsafeBytes { try FlatGuestLoader.commit(plan, image: UnsafeRawBufferPointer(rebasing: $0[0..<1]), into: small.memory) }) {
            XCTAssertEqual($0 as? FlatGuestLoader.LoadError, .writeFailed(.image), "an image of another size than planned")
        }
    }

    func testIdentityPageTablesLimits() {
        let ram = TestRAM(size: 0x8000)
        XCTAssertFalse(IdentityPageTables.write(pml4: 0x1000, gibibytes: 0, into: ram.memory))
        XCTAssertFalse(IdentityPageTables.write(pml4: 0x1000, gibibytes: 513, into: ram.memory))
        XCTAssertFalse(IdentityPageTables.write(pml4: 0x1800, gibibytes: 1, into: ram.memory), "unaligned")
        XCTAssertFalse(IdentityPageTables.write(pml4: 0x3000, gibibytes: 4, into: ram.memory), "past the end of RAM")
        XCTAssertTrue(IdentityPageTables.write(pml4: 0x1000, gibibytes: 4, into: ram.memory))
        XCTAssertEqual(IdentityPageTables.gibibytes(covering: 0), 1)
        XCTAssertEqual(IdentityPageTables.gibibytes(covering: 1 << 30), 1)
        XCTAssertEqual(IdentityPageTables.gibibytes(covering: (1 << 30) + 1), 2)
        XCTAssertEqual(IdentityPageTables.gibibytes(covering: UInt64.max), 513)
    }
}

extension TestSegment {
    func with(paddr: UInt64) -> TestSegment {
        var copy = self
        copy.paddr = paddr
        copy.vaddr = paddr
        return copy
    }
}
