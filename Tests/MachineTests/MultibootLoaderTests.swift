import XCTest
import X86
@testable import Machine

final class MultibootLoaderTests: XCTestCase {
    static let ram16M: UInt64 = 16 << 20
    let text = TestImage.pattern(0x200, seed: 5)
    let data = TestImage.pattern(0x20, seed: 99)

    /// An ELF32 higher-half kernel: text at vaddr 0xC0100000 → paddr 0x100000 (file offset
    /// 0x1000, holding the Multiboot header at its start), data+bss at 0xC0101000 → 0x101000.
    func higherHalfKernel(flags: UInt32 = 0x3) -> TestImage {
        var image = ELFBuilder.elf32(entry: 0xC010_000C, segments: [
            TestSegment(offset: 0x1000, vaddr: 0xC010_0000, paddr: 0x10_0000, filesz: 0x200, memsz: 0x200),
            TestSegment(offset: 0x1200, vaddr: 0xC010_1000, paddr: 0x10_1000, filesz: 0x20, memsz: 0x2000),
        ])
        image.put(bytes: text, at: 0x1000)
        image.put(bytes: data, at: 0x1200)
        MultibootBuilder.putHeader(in: &image, at: 0x1000, flags: flags)
        return image
    }

    func testELF32HigherHalfKernelWithModules() throws {
        let ram = TestRAM(size: Int(Self.ram16M))
        ram.scribble()
        let module0 = TestImage.pattern(5000, seed: 1), module1 = TestImage.pattern(10, seed: 2)
        let image = higherHalfKernel()
        let loaded = try image.loadMultiboot(into: ram, commandLine: "console=ttyS0 debug",
                                             modules: [module0, module1], strings: ["initrd.img", "extra arg"]).get()
        let state = loaded.state

        XCTAssertEqual(loaded.format, .elf32)
        XCTAssertEqual(loaded.headerOffset, 0x1000)
        XCTAssertFalse(loaded.videoModeIgnored)
        // Entry: 0xC010000C lies in segment 0's virtual range → 0x10000C.
        XCTAssertEqual(state.rip, 0x10_000C)
        XCTAssertEqual(loaded.entry, 0x10_000C)
        XCTAssertEqual(state.mode, .protected)
        XCTAssertEqual(state.cr0, [.pe, .et, .ne])
        XCTAssertEqual(state.cr4, [])
        XCTAssertEqual(state.efer, [])
        XCTAssertEqual(state.rax, 0x2BAD_B002)
        XCTAssertEqual(state.rbx, loaded.infoAddress)
        XCTAssertEqual(state.rflags, 0x2, "IF and VM clear")
        XCTAssertEqual(state.rsp, 0x8000)
        XCTAssertEqual(state.cs.selector, 0x10)
        XCTAssertEqual(state.cs.base, 0)
        XCTAssertEqual(state.cs.limit, 0xFFFF_FFFF)
        XCTAssertEqual(state.cs.accessRights, .code32())
        for segment in [state.ds, state.es, state.fs, state.gs, state.ss] {
            XCTAssertEqual(segment.selector, 0x18)
            XCTAssertEqual(segment.limit, 0xFFFF_FFFF)
            XCTAssertEqual(segment.accessRights, .data())
        }
        XCTAssertEqual(state.gdtrBase, 0x500)
        XCTAssertEqual(state.gdtrLimit, 31)
        XCTAssertEqual(ram.u64(0x510), SegmentDescriptor.code32().rawValue)
        XCTAssertEqual(ram.u64(0x518), SegmentDescriptor.data().rawValue)

        // The kernel: both segments, bss zeroed.
        XCTAssertEqual(loaded.kernelStart, 0x10_0000)
        XCTAssertEqual(loaded.kernelEnd, 0x10_3000)
        XCTAssertEqual(ram.bytes(at: 0x10_000C, count: 0x1F4), Array(image.bytes[0x100C..<0x1200]))
        XCTAssertEqual(ram.u32(0x10_0000), 0x1BAD_B002)
        XCTAssertEqual(ram.bytes(at: 0x10_1000, count: 0x20), data)
        XCTAssertEqual(ram.bytes(at: 0x10_1020, count: 0x1FE0), Array(repeating: 0, count: 0x1FE0))

        // Modules: page aligned, above the kernel, in order.
        XCTAssertEqual(loaded.modules.map { $0.start }, [0x10_3000, 0x10_5000])
        XCTAssertEqual(loaded.modules.map { $0.end }, [0x10_3000 + 5000, 0x10_500A])
        XCTAssertEqual(ram.bytes(at: 0x10_3000, count: 5000), module0)
        XCTAssertEqual(ram.bytes(at: 0x10_5000, count: 10), module1)

        // The information structure.
        let info = loaded.infoAddress
        XCTAssertEqual(info & 3, 0)
        XCTAssertGreaterThanOrEqual(info, 0x8000)
        XCTAssertLessThanOrEqual(loaded.infoEnd, 0x80000, "just below 0x80000")
        XCTAssertEqual(ram.u32(info + 0), 1 << 0 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9)
        XCTAssertEqual(ram.u32(info + 4), 639, "mem_lower: KiB below 0x9FC00")
        XCTAssertEqual(ram.u32(info + 8), 15 * 1024, "mem_upper: KiB from 1 MiB to the end of RAM")
        XCTAssertEqual(ram.u32(info + 12), 0, "no boot device")
        XCTAssertEqual(ram.string(at: UInt64(ram.u32(info + 16))), "console=ttyS0 debug")
        XCTAssertEqual(ram.u32(info + 20), 2)
        let mods = UInt64(ram.u32(info + 24))
        XCTAssertEqual(ram.u32(mods), 0x10_3000)
        XCTAssertEqual(ram.u32(mods + 4), 0x10_3000 + 5000)
        XCTAssertEqual(ram.string(at: UInt64(ram.u32(mods + 8))), "initrd.img")
        XCTAssertEqual(ram.u32(mods + 12), 0)
        XCTAssertEqual(ram.u32(mods + 16), 0x10_5000)
        XCTAssertEqual(ram.u32(mods + 20), 0x10_500A)
        XCTAssertEqual(ram.string(at: UInt64(ram.u32(mods + 24))), "extra arg")
        XCTAssertEqual(loaded.modules[1].stringAddress, UInt64(ram.u32(mods + 24)))

        // Memory map: 3 entries of 24 bytes (size field 20).
        XCTAssertEqual(ram.u32(info + 44), 72)
        let mmap = UInt64(ram.u32(info + 48))
        let expected: [(UInt64, UInt64, UInt32)] = [(0, 0x9_FC00, 1), (0x9_FC00, 0x6_0400, 2), (0x10_0000, 0xF0_0000, 1)]
        for (i, entry) in expected.enumerated() {
            let at = mmap + UInt64(i) * 24
            XCTAssertEqual(ram.u32(at), 20)
            XCTAssertEqual(ram.u64(at + 4), entry.0)
            XCTAssertEqual(ram.u64(at + 12), entry.1)
            XCTAssertEqual(ram.u32(at + 20), entry.2)
        }
        XCTAssertEqual(ram.string(at: UInt64(ram.u32(info + 64))), "Swiftvisor")

        // Every structure lies inside [info, infoEnd), clear of kernel and modules.
        for address in [mods, mmap, UInt64(ram.u32(info + 16)), UInt64(ram.u32(info + 64))] {
            XCTAssertTrue(address >= info && address < loaded.infoEnd)
        }
    }

    func testNoModulesAndVideoRequestIgnored() throws {
        let ram = TestRAM(size: Int(Self.ram16M))
        let loaded = try higherHalfKernel(flags: 0x7).loadMultiboot(into: ram).get()
        XCTAssertTrue(loaded.videoModeIgnored)
        XCTAssertEqual(ram.u32(loaded.infoAddress) & (1 << 11), 0, "no framebuffer info")
        XCTAssertEqual(ram.u32(loaded.infoAddress + 20), 0, "mods_count 0")
        XCTAssertEqual(ram.string(at: UInt64(ram.u32(loaded.infoAddress + 16))), "")
    }

    func testOptionalUnknownFlagsAreIgnored() throws {
        let ram = TestRAM(size: Int(Self.ram16M))
        XCTAssertNoThrow(try higherHalfKernel(flags: 0x3 | 1 << 20).loadMultiboot(into: ram).get())
    }

    func testInfoGoesAboveModulesWhenTheKernelCoversLowMemory() throws {
        // A kernel covering 0x10000–0x8ffff leaves no room below 0x80000.
        var image = ELFBuilder.elf32(entry: 0x1_0000, segments: [
            TestSegment(offset: 0x100, vaddr: 0x1_0000, paddr: 0x1_0000, filesz: 0x100, memsz: 0x8_0000),
        ])
        MultibootBuilder.putHeader(in: &image, at: 0x100, flags: 0)
        image.ensure(0x200)
        let ram = TestRAM(size: Int(Self.ram16M))
        let loaded = try image.loadMultiboot(into: ram, modules: [[1, 2, 3]]).get()
        XCTAssertEqual(loaded.modules[0].start, 0x9_0000)
        XCTAssertEqual(loaded.infoAddress, 0x9_1000)
        XCTAssertEqual(loaded.state.rbx, 0x9_1000)
        XCTAssertEqual(ram.u32(0x9_1000 + 20), 1)
    }

    func testKernelBelowTheLoaderAreaPushesModulesAboveIt() throws {
        // A tiny a.out kernel at 0x100–0x3ff: modules start at 0x8000, not on the stack.
        let image = aoutKernel(loadEnd: 0x400, bssEnd: 0, load: 0x100, header: 0x140, entry: 0x100, size: 0x300)
        let ram = TestRAM(size: Int(Self.ram16M))
        let loaded = try image.loadMultiboot(into: ram, modules: [[9, 9, 9]]).get()
        XCTAssertEqual(loaded.kernelEnd, 0x400)
        XCTAssertEqual(loaded.modules[0].start, 0x8000)
        XCTAssertGreaterThanOrEqual(loaded.infoAddress, 0x8003)
        XCTAssertEqual(ram.bytes(at: 0x8000, count: 3), [9, 9, 9])
    }

    func testELF64MultibootKernel() throws {
        var image = ELFBuilder.elf64(entry: 0x20_0000, segments: [
            TestSegment(offset: 0x1000, vaddr: 0x20_0000, paddr: 0x20_0000, filesz: 0x40, memsz: 0x40),
        ])
        image.put(bytes: text, at: 0x1000)
        MultibootBuilder.putHeader(in: &image, at: 0x1000, flags: 0x2)
        let ram = TestRAM(size: Int(Self.ram16M))
        let loaded = try image.loadMultiboot(into: ram).get()
        XCTAssertEqual(loaded.format, .elf64)
        XCTAssertEqual(loaded.state.rip, 0x20_0000)
        XCTAssertEqual(loaded.state.mode, .protected)
    }

    // MARK: - plan (pure) and commit

    func testPlanPlacesKernelModulesInfoAndStringsWithoutMemory() throws {
        let module0 = TestImage.pattern(5000, seed: 1), module1 = TestImage.pattern(10, seed: 2)
        let plan = try higherHalfKernel().bytes.withUnsafeBytes { image in
            try module0.withUnsafeBytes { m0 in
                try module1.withUnsafeBytes { m1 in
                    try MultibootLoader.plan(image, commandLine: "console=ttyS0 debug",
                                             modules: [.init(image: m0, string: "initrd.img"), .init(image: m1, string: "x")],
                                             ramSize: Self.ram16M)
                }
            }
        }
        XCTAssertEqual(plan.format, .elf32)
        XCTAssertEqual(plan.headerOffset, 0x1000)
        XCTAssertEqual(plan.entry, 0x10_000C)
        XCTAssertEqual(plan.segments.map(\.physicalAddress), [0x10_0000, 0x10_1000])
        XCTAssertEqual(plan.kernelStart, 0x10_0000)
        XCTAssertEqual(plan.kernelEnd, 0x10_3000)
        XCTAssertEqual(plan.modules.map(\.start), [0x10_3000, 0x10_5000])
        XCTAssertEqual(plan.modules.map(\.end), [0x10_3000 + 5000, 0x10_500A])
        // The info block: structure (128), memory map (3 × 24), module list (2 × 16), then the strings.
        let info = plan.infoAddress
        XCTAssertEqual(plan.memoryMapAddress, info + 128)
        XCTAssertEqual(plan.moduleListAddress, info + 128 + 72)
        XCTAssertEqual(plan.commandLineAddress, info + 128 + 72 + 32)
        XCTAssertEqual(plan.modules[0].stringAddress, plan.commandLineAddress + 20, "after \"console=ttyS0 debug\" and its NUL")
        XCTAssertEqual(plan.modules[1].stringAddress, plan.modules[0].stringAddress + 11)
        XCTAssertEqual(plan.bootLoaderNameAddress, plan.modules[1].stringAddress + 2)
        XCTAssertEqual(plan.infoEnd, plan.bootLoaderNameAddress + 11, "\"Swiftvisor\" and its NUL end the block")
        XCTAssertLessThanOrEqual(plan.infoEnd, 0x80000)
        XCTAssertEqual(plan.memoryMap, [
            MemoryMapEntry(base: 0, length: 0x9_FC00, type: 1),
            MemoryMapEntry(base: 0x9_FC00, length: 0x6_0400, type: 2),
            MemoryMapEntry(base: 0x10_0000, length: 0xF0_0000, type: 1),
        ])
        XCTAssertEqual(plan.memLower, 639)
        XCTAssertEqual(plan.memUpper, 15 * 1024)
    }

    func testPlanOfAnAOutKludgeKernel() throws {
        let plan = try aoutKernel().bytes.withUnsafeBytes { try MultibootLoader.plan($0, ramSize: Self.ram16M) }
        XCTAssertEqual(plan.format, .aoutKludge)
        XCTAssertEqual(plan.segments, [])
        XCTAssertEqual(plan.fileOffset, 0)
        XCTAssertEqual(plan.fileSize, 0x200)
        XCTAssertEqual(plan.kernelStart, 0x10_0000)
        XCTAssertEqual(plan.kernelEnd, 0x10_2000)
        XCTAssertEqual(plan.entry, 0x10_0080)
        XCTAssertEqual(plan.modules, [])
    }

    func testCommitFailsNamingTheStructure() throws {
        let image = higherHalfKernel()
        let module = TestImage.pattern(16, seed: 9)
        func commit(ramSize: Int, withModule: Bool) throws -> MultibootLoader.LoadError? {
            let ram = TestRAM(size: ramSize)
            return image.bytes.withUnsafeBytes { buffer in
                module.withUnsafeBytes { m in
                    Result { () throws(MultibootLoader.LoadError) in
                        // Planned for 16 MiB with one module.
                        let plan = try MultibootLoader.plan(buffer, modules: [.init(image: m)], ramSize: Self.ram16M)
                        return try MultibootLoader.commit(plan, image: buffer, modules: withModule ? [.init(image: m)] : [],
                                                          into: ram.memory)
                    }
                }
            }.failure
        }
        // 1 MiB of RAM: the kernel at 1 MiB does not fit.
        let error = try commit(ramSize: 1 << 20, withModule: true)
        XCTAssertEqual(error, .writeFailed(.kernel))
        XCTAssertEqual(error?.description, "could not write the kernel into guest memory")
        XCTAssertEqual(try commit(ramSize: Int(Self.ram16M), withModule: false), .writeFailed(.module),
                       "other modules than planned")
        XCTAssertNil(try commit(ramSize: Int(Self.ram16M), withModule: true))
    }

    /// A raw binary with an a.out-kludge header at offset 0x40.
    func aoutKernel(loadEnd: UInt32 = 0x10_0200, bssEnd: UInt32 = 0x10_2000, load: UInt32 = 0x10_0000,
                    header: UInt32 = 0x10_0040, entry: UInt32 = 0x10_0080, size: Int = 0x300) -> TestImage {
        var image = TestImage(bytes: TestImage.pattern(size, seed: 33))
        MultibootBuilder.putHeader(in: &image, at: 0x40, flags: 1 << 16 | 0x3,
                                   addresses: (header, load, loadEnd, bssEnd, entry))
        return image
    }

    func testAOutKludge() throws {
        let ram = TestRAM(size: Int(Self.ram16M))
        ram.scribble()
        let image = aoutKernel()
        let loaded = try image.loadMultiboot(into: ram).get()
        XCTAssertEqual(loaded.format, .aoutKludge)
        XCTAssertEqual(loaded.state.rip, 0x10_0080)
        XCTAssertEqual(loaded.kernelStart, 0x10_0000)
        XCTAssertEqual(loaded.kernelEnd, 0x10_2000)
        // load_end_addr - load_addr = 0x200 bytes from file offset 0, then bss to 0x102000.
        XCTAssertEqual(ram.bytes(at: 0x10_0000, count: 0x200), Array(image.bytes[0..<0x200]))
        XCTAssertEqual(ram.bytes(at: 0x10_0200, count: 0x1E00), Array(repeating: 0, count: 0x1E00))
        XCTAssertEqual(ram.u8(0x10_2000), 0xCC)
        XCTAssertEqual(ram.u32(loaded.infoAddress), 0x24D)
    }

    func testAOutKludgeFromAFileOffset() throws {
        // header_addr - load_addr = 0x20: loading starts at file offset 0x40 - 0x20 = 0x20.
        // load_end_addr 0: to the end of the file; bss_end_addr 0: no bss.
        let ram = TestRAM(size: Int(Self.ram16M))
        ram.scribble()
        let image = aoutKernel(loadEnd: 0, bssEnd: 0, load: 0x20_0000, header: 0x20_0020, entry: 0x20_0000)
        let loaded = try image.loadMultiboot(into: ram).get()
        XCTAssertEqual(loaded.kernelEnd, 0x20_0000 + 0x300 - 0x20)
        XCTAssertEqual(ram.bytes(at: 0x20_0000, count: 0x2E0), Array(image.bytes[0x20..<0x300]))
        XCTAssertEqual(ram.u8(0x20_02E0), 0xCC)
        XCTAssertEqual(ram.u32(0x20_0020), 0x1BAD_B002)
    }

    func testAOutKludgeTakesPrecedenceOverELF() throws {
        var image = higherHalfKernel()
        MultibootBuilder.putHeader(in: &image, at: 0x1000, flags: 1 << 16,
                                   addresses: (0x30_1000, 0x30_0000, 0, 0, 0x30_1010))
        let ram = TestRAM(size: Int(Self.ram16M))
        let loaded = try image.loadMultiboot(into: ram).get()
        XCTAssertEqual(loaded.format, .aoutKludge)
        XCTAssertEqual(loaded.state.rip, 0x30_1010)
        XCTAssertEqual(ram.u32(0x30_1000), 0x1BAD_B002)
        XCTAssertEqual(ram.u32(0x30_0000), 0x464C_457F, "the whole file, ELF header included")
    }

    func testLaterValidHeaderWinsOverBadChecksum() throws {
        var image = aoutKernel()
        MultibootBuilder.putHeader(in: &image, at: 0x8, flags: 0, checksumError: 1)
        let ram = TestRAM(size: Int(Self.ram16M))
        XCTAssertEqual(try image.loadMultiboot(into: ram).get().headerOffset, 0x40)
    }

    // MARK: - Refusals

    func error(_ image: TestImage, ramSize: UInt64 = ram16M, commandLine: String = "",
               modules: [[UInt8]] = []) -> MultibootLoader.LoadError? {
        let ram = TestRAM(size: Int(ramSize))
        return image.loadMultiboot(into: ram, commandLine: commandLine, modules: modules).failure
    }

    func testHeaderSearchErrors() {
        XCTAssertEqual(error(TestImage()), .emptyImage)
        XCTAssertEqual(MultibootLoader.LoadError.emptyImage.description, "the kernel image is empty")
        XCTAssertEqual(error(TestImage(size: 0x4000, fill: 0x90)), .noHeader)
        XCTAssertEqual(MultibootLoader.LoadError.noHeader.description, "no Multiboot header in the first 8192 bytes")
        XCTAssertEqual(error(TestImage(bytes: [0x02, 0xB0, 0xAD, 0x1B])), .noHeader, "shorter than a header")
        // Beyond the first 8192 bytes, straddling the limit, or misaligned: not found.
        var late = TestImage(size: 0x4000); MultibootBuilder.putHeader(in: &late, at: 0x2000, flags: 0)
        XCTAssertEqual(error(late), .noHeader)
        var straddling = TestImage(size: 0x4000); MultibootBuilder.putHeader(in: &straddling, at: 8188, flags: 0)
        XCTAssertEqual(error(straddling), .noHeader)
        var misaligned = TestImage(size: 0x100); MultibootBuilder.putHeader(in: &misaligned, at: 0x12, flags: 0)
        XCTAssertEqual(error(misaligned), .noHeader)
        var bad = TestImage(size: 0x100); MultibootBuilder.putHeader(in: &bad, at: 0x10, flags: 3, checksumError: 1)
        XCTAssertEqual(error(bad), .checksumMismatch(offset: 0x10))
        XCTAssertEqual(MultibootLoader.LoadError.checksumMismatch(offset: 0x10).description,
                       "Multiboot header checksum mismatch (header at file offset 0x10)")
        // Required-feature bits the loader does not know.
        XCTAssertEqual(error(higherHalfKernel(flags: 0x3 | 1 << 3 | 1 << 15)), .unsupportedRequiredFlags(0x8008))
        XCTAssertEqual(MultibootLoader.LoadError.unsupportedRequiredFlags(0x8008).description,
                       "Multiboot header requires unsupported features (flags 0x8008)")
    }

    func testAOutErrors() {
        // Flag 16 but the file ends inside the address fields.
        var short = TestImage(size: 0x50); MultibootBuilder.putHeader(in: &short, at: 0x40, flags: 1 << 16)
        XCTAssertEqual(error(short), .truncatedHeader(offset: 0x40))
        XCTAssertEqual(error(aoutKernel(load: 0x10_0050)),
                       .headerAddressBelowLoadAddress(headerAddress: 0x10_0040, loadAddress: 0x10_0050))
        // header_addr - load_addr = 0x100 > header offset 0x40.
        XCTAssertEqual(error(aoutKernel(load: 0xF_FF40)), .loadAddressBeforeFileStart(loadAddress: 0xF_FF40))
        XCTAssertEqual(error(aoutKernel(loadEnd: 0xF_0000)), .loadEndBelowLoadAddress(loadEnd: 0xF_0000, loadAddress: 0x10_0000))
        XCTAssertEqual(error(aoutKernel(loadEnd: 0x10_0301)), .loadEndPastEndOfFile(loadEnd: 0x10_0301))
        XCTAssertEqual(MultibootLoader.LoadError.loadEndPastEndOfFile(loadEnd: 0x10_0301).description,
                       "Multiboot load_end_addr 0x100301 lies past the end of the file")
        XCTAssertEqual(error(aoutKernel(bssEnd: 0x10_0100)), .bssEndBelowLoadEnd(bssEnd: 0x10_0100, loadEnd: 0x10_0200))
        // Far beyond RAM, near the top of the 32-bit space: no overflow, a clear refusal.
        XCTAssertEqual(error(aoutKernel(loadEnd: 0xFFFF_FF00, bssEnd: 0xFFFF_FFFF, load: 0xFFFF_FE00, header: 0xFFFF_FE40,
                                        entry: 0xFFFF_FE80)),
                       .kernelOutsideRAM(start: 0xFFFF_FE00, end: 0xFFFF_FFFF, ramSize: Self.ram16M))
        XCTAssertEqual(MultibootLoader.LoadError.kernelOutsideRAM(start: 0xFFFF_FE00, end: 0xFFFF_FFFF, ramSize: Self.ram16M).description,
                       "kernel at 0xfffffe00–0xffffffff does not fit in 16 MiB of guest RAM")
        XCTAssertEqual(error(aoutKernel(bssEnd: 0x100_1000)), .kernelOutsideRAM(start: 0x10_0000, end: 0x100_1000, ramSize: Self.ram16M))
        XCTAssertEqual(error(aoutKernel(entry: 0x200_0000)), .entryOutsideRAM(entry: 0x200_0000, ramSize: Self.ram16M))
        // Overlapping the loader's GDT and stack.
        XCTAssertEqual(error(aoutKernel(loadEnd: 0x7200, bssEnd: 0, load: 0x7000, header: 0x7040, entry: 0x7000)),
                       .overlapsLoaderArea(start: 0x7000, end: 0x7200))
        XCTAssertEqual(MultibootLoader.LoadError.overlapsLoaderArea(start: 0x7000, end: 0x7200).description,
                       "kernel at 0x7000–0x7200 overlaps the loader's GDT and stack at 0x500–0x7fff")
    }

    func testELFErrors() {
        // A valid header in a file that is not ELF and has no a.out fields.
        var notELF = TestImage(size: 0x100); MultibootBuilder.putHeader(in: &notELF, at: 0x20, flags: 0)
        XCTAssertEqual(error(notELF), .elf(.badMagic))
        XCTAssertEqual(MultibootLoader.LoadError.elf(.badMagic).description, "not an ELF file: bad magic")
        var x8664 = higherHalfKernel(); x8664.put(UInt16(62), at: 18)
        XCTAssertEqual(error(x8664), .elf(.wrongMachine(found: 62, needed: 3)))
        XCTAssertEqual(ELFError.wrongMachine(found: 62, needed: 3).description, "ELF machine 62 is not i386 (3)")
        var outside = higherHalfKernel(); outside.put(UInt32(0x100_0000), at: 52 + 32 + 12)   // segment 1 p_paddr
        XCTAssertEqual(error(outside), .elf(.segmentOutsideRAM(index: 1, physicalAddress: 0x100_0000, memorySize: 0x2000,
                                                             ramSize: Self.ram16M)))
        var pastEnd = higherHalfKernel(); pastEnd.put(UInt32(0x1000), at: 52 + 32 + 16)       // segment 1 p_filesz
        XCTAssertEqual(error(pastEnd), .elf(.segmentPastEndOfFile(index: 1)))
        var overlap = higherHalfKernel(); overlap.put(UInt32(0x10_0100), at: 52 + 32 + 12)
        XCTAssertEqual(error(overlap), .elf(.segmentsOverlap(first: 0, second: 1)))
        var low = ELFBuilder.elf32(entry: 0x1000, segments: [
            TestSegment(offset: 0x100, vaddr: 0x1000, paddr: 0x1000, filesz: 0x100, memsz: 0x100)])
        MultibootBuilder.putHeader(in: &low, at: 0x100, flags: 0)
        low.ensure(0x200)
        XCTAssertEqual(error(low), .overlapsLoaderArea(start: 0x1000, end: 0x1100))
        var entry = higherHalfKernel(); entry.put(UInt32(0x4000_0000), at: 24)
        XCTAssertEqual(error(entry), .entryOutsideRAM(entry: 0x4000_0000, ramSize: Self.ram16M))
    }

    func testPlacementErrors() {
        XCTAssertEqual(error(higherHalfKernel(), ramSize: 512 << 10), .memoryTooSmall(512 << 10))
        XCTAssertEqual(MultibootLoader.LoadError.memoryTooSmall(512 << 10).description,
                       "guest RAM of 512 KiB is below the 1 MiB minimum")
        let big = [UInt8](repeating: 7, count: 1 << 20)
        XCTAssertEqual(error(higherHalfKernel(), ramSize: 2 << 20, modules: [[1], big]),
                       .moduleDoesNotFit(index: 1, size: 1 << 20, start: 0x10_4000))
        XCTAssertEqual(MultibootLoader.LoadError.moduleDoesNotFit(index: 1, size: 1 << 20, start: 0x10_4000).description,
                       "module 1 (1048576 bytes) does not fit in guest RAM below 4 GiB at 0x104000")
        XCTAssertEqual(error(higherHalfKernel(), commandLine: "a\u{0}b"), .nulInString("kernel command line"))
        XCTAssertEqual(MultibootLoader.LoadError.nulInString("kernel command line").description,
                       "the kernel command line contains a NUL byte")
        // A kernel from 0x8000 to the end of RAM leaves no room for the information structure.
        var everywhere = ELFBuilder.elf32(entry: 0x8000, segments: [
            TestSegment(offset: 0x100, vaddr: 0x8000, paddr: 0x8000, filesz: 0x100, memsz: UInt64(Self.ram16M) - 0x8000)])
        MultibootBuilder.putHeader(in: &everywhere, at: 0x100, flags: 0)
        everywhere.ensure(0x200)
        guard case .noRoomForInfo(let size)? = error(everywhere) else { return XCTFail("expected noRoomForInfo") }
        XCTAssertEqual(MultibootLoader.LoadError.noRoomForInfo(size: size).description,
                       "no room for the Multiboot information (\(size) bytes) below 0x80000 or above the kernel and modules")
    }

    /// With pci=on the ECAM window is reserved in the map (type 2), and the info block makes room for it.
    func testReservedRangesJoinTheMemoryMap() throws {
        let plan = try higherHalfKernel().bytes.withUnsafeBytes {
            try MultibootLoader.plan($0, ramSize: Self.ram16M, reserved: [AddressRange(base: 0xF000_0000, size: 1 << 20)])
        }
        XCTAssertEqual(plan.memoryMap.count, 4)
        XCTAssertEqual(plan.memoryMap.last, MemoryMapEntry(base: 0xF000_0000, length: 1 << 20, type: 2))
        XCTAssertEqual(plan.moduleListAddress, plan.memoryMapAddress + 4 * 24)
    }
}
