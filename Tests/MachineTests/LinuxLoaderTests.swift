import XCTest
import X86
@testable import Machine

final class LinuxLoaderTests: XCTestCase {
    static let ram32M: UInt64 = 32 << 20
    static let bp: UInt64 = 0x8000

    func test64BitBootWithInitrdAndCommandLine() throws {
        let ram = TestRAM(size: Int(Self.ram32M))
        ram.scribble()
        let spec = BzImageSpec()
        let image = spec.build()
        let initrd = TestImage.pattern(10_000, seed: 42)
        let loaded = try image.loadLinux(into: ram, commandLine: "console=ttyS0 root=/dev/ram0", initrd: initrd).get()
        let state = loaded.state

        // Relocatable, and pref_address 16 MiB + init_size 4 MiB fits in 32 MiB: loaded there.
        XCTAssertEqual(loaded.protocolVersion, 0x020F)
        XCTAssertTrue(loaded.entry64)
        XCTAssertEqual(loaded.loadAddress, 0x100_0000)
        XCTAssertEqual(loaded.runAddress, 0x100_0000)
        XCTAssertEqual(loaded.kernelSize, 0x3000)
        XCTAssertEqual(ram.bytes(at: 0x100_0000, count: 0x3000), spec.kernelBytes)
        XCTAssertEqual(ram.u8(0x100_3000), 0xCC, "nothing past the kernel's bytes")

        // The 64-bit boot protocol.
        XCTAssertEqual(state.mode, .long)
        XCTAssertEqual(state.rip, 0x100_0200, "64-bit entry: load address + 0x200")
        XCTAssertEqual(state.rsi, Self.bp)
        XCTAssertEqual(state.rflags, 0x2)
        XCTAssertEqual(state.rbx, 0)
        XCTAssertEqual(state.rax, 0)
        XCTAssertEqual(state.cr0, [.pe, .mp, .et, .ne, .wp, .pg])
        XCTAssertEqual(state.cr4, [.pae])
        XCTAssertEqual(state.efer, [.lme, .lma, .nxe])
        XCTAssertEqual(state.cs.selector, 0x10, "__BOOT_CS")
        XCTAssertEqual(state.cs.accessRights, .code64())
        for segment in [state.ds, state.es, state.ss] {
            XCTAssertEqual(segment.selector, 0x18, "__BOOT_DS")
            XCTAssertEqual(segment.accessRights, .data())
        }
        XCTAssertEqual(state.gdtrBase, 0x500)
        XCTAssertEqual(state.gdtrLimit, 31)
        XCTAssertEqual(ram.u64(0x500), 0)
        XCTAssertEqual(ram.u64(0x508), 0)
        XCTAssertEqual(ram.u64(0x510), SegmentDescriptor.code64().rawValue)
        XCTAssertEqual(ram.u64(0x518), SegmentDescriptor.data().rawValue)

        // Identity map of 4 GiB at 0x10000.
        XCTAssertEqual(loaded.identityMappedGibibytes, 4)
        XCTAssertEqual(state.cr3, 0x1_0000)
        XCTAssertEqual(ram.u64(0x1_0000), PageTableEntry.table(0x1_1000).rawValue)
        XCTAssertEqual(ram.u64(0x1_1018), PageTableEntry.table(0x1_5000).rawValue)
        XCTAssertEqual(ram.u64(0x1_1020), 0)
        XCTAssertEqual(ram.u64(0x1_2000 + 8 * 8), PageTableEntry.page2M(0x100_0000).rawValue)

        // boot_params: zeroed, the setup header copied to 0x1F1, the loader's fields.
        XCTAssertEqual(ram.u64(Self.bp), 0, "screen_info zeroed")
        XCTAssertEqual(ram.u8(Self.bp + 0x1EF), 0, "sentinel")
        XCTAssertEqual(ram.u8(Self.bp + 0x1F1), 4, "setup_sects")
        XCTAssertEqual(ram.u16(Self.bp + 0x1FE), 0xAA55)
        XCTAssertEqual(ram.u32(Self.bp + 0x202), 0x5372_6448, "HdrS")
        XCTAssertEqual(ram.u16(Self.bp + 0x206), 0x020F)
        XCTAssertEqual(ram.u16(Self.bp + 0x20E), 0x1234, "kernel_version unchanged")
        XCTAssertEqual(ram.u8(Self.bp + 0x210), 0xFF, "type_of_loader")
        XCTAssertEqual(ram.u8(Self.bp + 0x211), 0x81, "loadflags: LOADED_HIGH | CAN_USE_HEAP")
        XCTAssertEqual(ram.u32(Self.bp + 0x214), 0x100_0000, "code32_start follows the load address")
        XCTAssertEqual(ram.u16(Self.bp + 0x224), 0xFE00, "heap_end_ptr")
        XCTAssertEqual(ram.u32(Self.bp + 0x228), 0x9000, "cmd_line_ptr")
        XCTAssertEqual(ram.u32(Self.bp + 0x0C8), 0, "ext_cmd_line_ptr")
        XCTAssertEqual(ram.string(at: 0x9000), "console=ttyS0 root=/dev/ram0")
        XCTAssertEqual(ram.u16(Self.bp + 0x236), 0x1, "xloadflags")
        XCTAssertEqual(ram.u32(Self.bp + 0x260), 0x40_0000, "init_size")
        XCTAssertEqual(ram.u32(Self.bp + 0x264), 0x5A5A_5A5A, "the header through 0x268")
        XCTAssertEqual(ram.u8(Self.bp + 0x268), 0, "nothing copied past the header end")

        // The initrd: at the top of RAM, page aligned.
        let initrdAddress: UInt64 = (Self.ram32M - 10_000) & ~0xFFF
        XCTAssertEqual(loaded.initrdAddress, initrdAddress)
        XCTAssertEqual(loaded.initrdSize, 10_000)
        XCTAssertEqual(ram.u32(Self.bp + 0x218), UInt32(initrdAddress), "ramdisk_image")
        XCTAssertEqual(ram.u32(Self.bp + 0x21C), 10_000, "ramdisk_size")
        XCTAssertEqual(ram.u32(Self.bp + 0x0C0), 0, "ext_ramdisk_image")
        XCTAssertEqual(ram.u32(Self.bp + 0x0C4), 0, "ext_ramdisk_size")
        XCTAssertEqual(ram.bytes(at: initrdAddress, count: 10_000), initrd)

        // E820 at 0x2D0: 20-byte entries; count at 0x1E8.
        XCTAssertEqual(ram.u8(Self.bp + 0x1E8), 3)
        let expected: [(UInt64, UInt64, UInt32)] = [(0, 0x9_F000, 1), (0x9_F000, 0x6_1000, 2), (0x10_0000, 0x1F0_0000, 1)]
        for (i, entry) in expected.enumerated() {
            let at = Self.bp + 0x2D0 + UInt64(i) * 20
            XCTAssertEqual(ram.u64(at), entry.0)
            XCTAssertEqual(ram.u64(at + 8), entry.1)
            XCTAssertEqual(ram.u32(at + 16), entry.2)
        }
        XCTAssertEqual(ram.u64(Self.bp + 0x2D0 + 60), 0, "no fourth entry")
    }

    func testProtocol209LoadsAtOneMiB() throws {
        // pref_address 16 MiB does not fit in 16 MiB, but an old (2.09) relocatable kernel
        // has no pref_address: loaded at 1 MiB, 32-bit entry (no xloadflags before 2.12).
        var spec = BzImageSpec()
        spec.version = 0x0209
        spec.jumpOffset = 0x3A      // header end 0x23C
        let ram = TestRAM(size: 16 << 20)
        let loaded = try spec.build().loadLinux(into: ram).get()
        XCTAssertEqual(loaded.loadAddress, 0x10_0000)
        XCTAssertFalse(loaded.entry64)
        XCTAssertEqual(ram.u8(Self.bp + 0x23C), 0, "header copied only up to its end")
        XCTAssertEqual(loaded.state.mode, .protected, "0x236 is padding before 2.12: no 64-bit entry")
    }

    func test32BitBootProtocol() throws {
        var spec = BzImageSpec()
        spec.xloadflags = 0
        spec.prefAddress = 0x40_0000
        let ram = TestRAM(size: Int(Self.ram32M))
        ram.scribble()
        let loaded = try spec.build().loadLinux(into: ram, commandLine: "quiet").get()
        let state = loaded.state
        XCTAssertFalse(loaded.entry64)
        XCTAssertEqual(loaded.loadAddress, 0x40_0000, "relocatable: at pref_address")
        XCTAssertEqual(state.mode, .protected)
        XCTAssertEqual(state.cr0, [.pe, .et, .ne])
        XCTAssertEqual(state.cr3, 0)
        XCTAssertEqual(state.efer, [])
        XCTAssertEqual(state.rip, 0x40_0000, "EIP = code32_start")
        XCTAssertEqual(ram.u32(Self.bp + 0x214), 0x40_0000)
        XCTAssertEqual(state.rsi, Self.bp)
        XCTAssertEqual(state.rbx, 0)
        XCTAssertEqual(state.cs.selector, 0x10)
        XCTAssertEqual(state.cs.accessRights, .code32())
        XCTAssertEqual(state.ds.selector, 0x18)
        XCTAssertEqual(state.ss.selector, 0x18)
        XCTAssertEqual(ram.u64(0x510), SegmentDescriptor.code32().rawValue)
        XCTAssertEqual(ram.u32(0x1_0000), 0xCCCC_CCCC, "no page tables")
        XCTAssertEqual(loaded.identityMappedGibibytes, 0)
        XCTAssertEqual(ram.u32(Self.bp + 0x218), 0, "no initrd")
        XCTAssertEqual(ram.u32(Self.bp + 0x21C), 0)
    }

    func testSetupSectsZeroMeansFour() throws {
        var spec = BzImageSpec()
        spec.setupSects = 0
        let ram = TestRAM(size: Int(Self.ram32M))
        let loaded = try spec.build().loadLinux(into: ram).get()
        XCTAssertEqual(loaded.kernelSize, 0x3000)
        XCTAssertEqual(ram.bytes(at: loaded.loadAddress, count: 16), Array(spec.kernelBytes[0..<16]))
    }

    func testInitrdAddrMaxAndAbove4GFlag() throws {
        var spec = BzImageSpec()
        spec.initrdAddrMax = 0x17F_FFFF        // the initrd may occupy bytes up to 24 MiB - 1
        let initrd = TestImage.pattern(0x1800, seed: 4)
        let ram = TestRAM(size: Int(Self.ram32M))
        XCTAssertEqual(try spec.build().loadLinux(into: ram, initrd: initrd).get().initrdAddress, 0x180_0000 - 0x2000)
        spec.xloadflags = 0x3                   // XLF_CAN_BE_LOADED_ABOVE_4G lifts the limit
        XCTAssertEqual(try spec.build().loadLinux(into: ram, initrd: initrd).get().initrdAddress, Self.ram32M - 0x2000)
    }

    func testEmptyInitrdIsNoInitrd() throws {
        let ram = TestRAM(size: Int(Self.ram32M))
        let loaded = try BzImageSpec().build().loadLinux(into: ram, initrd: []).get()
        XCTAssertEqual(loaded.initrdSize, 0)
        XCTAssertEqual(ram.u32(Self.bp + 0x218), 0)
    }

    func testIdentityMapCoversAllRAMAbove4GiBWorth() throws {
        // Only the size matters for the table count: a 4 GiB + 1 MiB GuestMemory is never touched
        // there, so test the computation the loader uses.
        XCTAssertEqual(max(4, IdentityPageTables.gibibytes(covering: (4 << 30) + (1 << 20))), 5)
        XCTAssertEqual(max(4, IdentityPageTables.gibibytes(covering: Self.ram32M)), 4)
    }

    func testOverlongHeaderIsClampedToTheHeaderArea() throws {
        var spec = BzImageSpec()
        spec.jumpOffset = 0xFF                  // header end 0x301, past boot_params' 0x290
        var image = spec.build()
        image.put(UInt32(0xDEAD_BEEF), at: 0x28C)
        image.put(UInt32(0xDEAD_BEEF), at: 0x290)
        let ram = TestRAM(size: Int(Self.ram32M))
        ram.scribble()
        _ = try image.loadLinux(into: ram).get()
        XCTAssertEqual(ram.u32(Self.bp + 0x28C), 0xDEAD_BEEF)
        XCTAssertEqual(ram.u32(Self.bp + 0x290), 0)
    }

    // MARK: - plan (pure) and commit

    func plan(_ image: TestImage, commandLine: String = "", initrdSize: UInt64 = 0,
              ramSize: UInt64 = ram32M) throws -> LinuxLoader.Plan {
        try image.bytes.withUnsafeBytes { buffer throws(LinuxLoader.LoadError) in
            try LinuxLoader.plan(buffer, commandLine: commandLine, initrdSize: initrdSize, ramSize: ramSize)
        }
    }

    func testPlanDecidesTheLayoutWithoutMemory() throws {
        let plan = try plan(BzImageSpec().build(), commandLine: "console=ttyS0", initrdSize: 10_000)
        XCTAssertEqual(plan.protocolVersion, 0x020F)
        XCTAssertTrue(plan.entry64)
        XCTAssertEqual(plan.loadAddress, 0x100_0000, "relocatable: at pref_address")
        XCTAssertEqual(plan.entry, 0x100_0200, "64-bit entry: load address + 0x200")
        XCTAssertEqual(plan.kernelOffset, 5 * 512)
        XCTAssertEqual(plan.kernelSize, 0x3000)
        XCTAssertEqual(plan.initrdSize, 10_000)
        XCTAssertEqual(plan.initrdAddress, Self.ram32M - 0x3000, "page aligned at the top of RAM")
        XCTAssertEqual(plan.commandLineLength, 13)
        XCTAssertEqual(plan.loadflags & LinuxLoader.LoadFlag.canUseHeap, LinuxLoader.LoadFlag.canUseHeap)
        XCTAssertEqual(plan.identityMappedGibibytes, 4)
        XCTAssertEqual(plan.e820, [
            MemoryMapEntry(base: 0, length: 0x9_F000, type: 1),
            MemoryMapEntry(base: 0x9_F000, length: 0x6_1000, type: 2),
            MemoryMapEntry(base: 0x10_0000, length: Self.ram32M - 0x10_0000, type: 1),
        ])
        // load = plan + commit: what it reports is what the plan said.
        let ram = TestRAM(size: Int(Self.ram32M))
        let loaded = try BzImageSpec().build().loadLinux(into: ram, commandLine: "console=ttyS0",
                                                        initrd: TestImage.pattern(10_000)).get()
        XCTAssertEqual(loaded.state.rip, plan.entry)
        XCTAssertEqual(loaded.initrdAddress, plan.initrdAddress)
        XCTAssertEqual(ram.u8(Self.bp + LinuxLoader.BootParams.e820Entries), 3)
    }

    func testPlanForRAMAbove4GiBMapsAllOfIt() throws {
        // No 4 GiB buffer needed: the plan only does arithmetic on the size.
        let ram: UInt64 = (4 << 30) + (1 << 20)
        let plan = try plan(BzImageSpec().build(), ramSize: ram)
        XCTAssertEqual(plan.identityMappedGibibytes, 5)
        XCTAssertEqual(plan.e820.last, MemoryMapEntry(base: 0x10_0000, length: ram - 0x10_0000, type: 1))
        var spec = BzImageSpec()
        spec.xloadflags = 0
        XCTAssertEqual(try self.plan(spec.build(), ramSize: ram).identityMappedGibibytes, 0, "32-bit: no page tables")
    }

    func testCommitFailsNamingTheStructure() throws {
        let image = BzImageSpec().build()
        let plan = try plan(image, commandLine: "quiet", initrdSize: 0x1000)
        let initrd = TestImage.pattern(0x1000)
        func commit(_ ram: TestRAM, commandLine: String = "quiet", initrd: [UInt8]) -> LinuxLoader.LoadError? {
            image.bytes.withUnsafeBytes { buffer in
                initrd.withUnsafeBytes { initrdBuffer in
                    Result { () throws(LinuxLoader.LoadError) in
                        try LinuxLoader.commit(plan, image: buffer, commandLine: commandLine, initrd: initrdBuffer,
                                               into: ram.memory)
                    }
                }
            }.failure
        }
        // Planned for 32 MiB, committed into 16 MiB: the kernel at 16 MiB does not fit.
        let error = commit(TestRAM(size: 16 << 20), initrd: initrd)
        XCTAssertEqual(error, .writeFailed(.kernel))
        XCTAssertEqual(error?.description, "could not write the protected-mode kernel into guest memory")
        XCTAssertEqual(commit(TestRAM(size: Int(Self.ram32M)), initrd: Array(initrd[0..<0x800])), .writeFailed(.initrd),
                       "an initrd of another size than planned")
        XCTAssertEqual(commit(TestRAM(size: Int(Self.ram32M)), commandLine: "loud", initrd: initrd),
                       .writeFailed(.commandLine), "a command line of another length than planned")
        XCTAssertNil(commit(TestRAM(size: Int(Self.ram32M)), initrd: initrd))
    }

    func testVersionString() {
        XCTAssertEqual(LinuxLoader.versionString(0x0206), "2.06")
        XCTAssertEqual(LinuxLoader.versionString(0x020F), "2.15")
    }

    // MARK: - Refusals

    func error(_ image: TestImage, ramSize: UInt64 = ram32M, commandLine: String = "",
               initrd: [UInt8]? = nil) -> LinuxLoader.LoadError? {
        image.loadLinux(into: TestRAM(size: Int(ramSize)), commandLine: commandLine, initrd: initrd).failure
    }

    func testHeaderErrors() {
        XCTAssertEqual(error(TestImage()), .emptyImage)
        XCTAssertEqual(LinuxLoader.LoadError.emptyImage.description, "the kernel image is empty")
        XCTAssertEqual(error(TestImage(size: 0x100)), .truncatedSetupHeader(fileSize: 0x100, needed: 0x206))
        XCTAssertEqual(LinuxLoader.LoadError.truncatedSetupHeader(fileSize: 0x100, needed: 0x206).description,
                       "truncated setup header: the file is 256 bytes, the setup header needs 518 (to 0x206)")
        XCTAssertEqual(error(TestImage(size: 0x1000)), .notBzImage)
        XCTAssertEqual(LinuxLoader.LoadError.notBzImage.description, "not a bzImage: no \"HdrS\" setup header magic at 0x202")
        let headerOnly = TestImage(bytes: Array(BzImageSpec().build().bytes[0..<0x207]))
        XCTAssertEqual(error(headerOnly), .truncatedSetupHeader(fileSize: 0x207, needed: 0x208))
        var old = BzImageSpec(); old.version = 0x0204
        XCTAssertEqual(error(old.build()), .protocolTooOld(0x0204))
        XCTAssertEqual(LinuxLoader.LoadError.protocolTooOld(0x0204).description, "bzImage boot protocol 2.04 is too old (need 2.06)")
        var flag = BzImageSpec(); flag.bootFlag = 0x1234
        XCTAssertEqual(error(flag.build()), .badBootFlag(0x1234))
        var short = BzImageSpec(); short.jumpOffset = 0x30
        XCTAssertEqual(error(short.build()), .setupHeaderTooShort(end: 0x232, needed: 0x264))
        var short206 = BzImageSpec(); short206.version = 0x0206; short206.jumpOffset = 0x30
        XCTAssertEqual(error(short206.build()), .setupHeaderTooShort(end: 0x232, needed: 0x23C))
        // The file ends inside the setup header.
        let cut = TestImage(bytes: Array(BzImageSpec().build().bytes[0..<0x240]))
        XCTAssertEqual(error(cut), .truncatedSetupHeader(fileSize: 0x240, needed: 0x268))
        XCTAssertEqual(LinuxLoader.LoadError.truncatedSetupHeader(fileSize: 0x240, needed: 0x268).description,
                       "truncated setup header: the file is 576 bytes, the setup header needs 616 (to 0x268)")
        // Nothing after the setup sectors.
        var noKernel = BzImageSpec(); noKernel.kernelBytes = []
        XCTAssertEqual(error(noKernel.build()), .noProtectedModeKernel(setupSectors: 4))
        var tooManySectors = BzImageSpec(); tooManySectors.setupSects = 200; tooManySectors.kernelBytes = []
        XCTAssertEqual(error(TestImage(bytes: Array(tooManySectors.build().bytes[0..<0x1000]))), .noProtectedModeKernel(setupSectors: 200))
        var zImage = BzImageSpec(); zImage.loadflags = 0
        XCTAssertEqual(error(zImage.build()), .notLoadedHigh)
    }

    func testCommandLineErrors() {
        var spec = BzImageSpec(); spec.cmdlineSize = 16
        XCTAssertNil(error(spec.build(), commandLine: String(repeating: "x", count: 16)))
        XCTAssertEqual(error(spec.build(), commandLine: String(repeating: "x", count: 17)),
                       .commandLineTooLong(length: 17, maximum: 16))
        XCTAssertEqual(LinuxLoader.LoadError.commandLineTooLong(length: 17, maximum: 16).description,
                       "the command line is 17 bytes, the kernel accepts at most 16")
        spec.cmdlineSize = 0xFFFF_FFFF       // capped by the loader's 28 KiB buffer
        XCTAssertEqual(error(spec.build(), commandLine: String(repeating: "x", count: 0x7000)),
                       .commandLineTooLong(length: 0x7000, maximum: 0x6FFF))
        XCTAssertEqual(error(BzImageSpec().build(), commandLine: "a\u{0}b"), .nulInCommandLine)
    }

    func testPlacementErrors() {
        XCTAssertEqual(error(BzImageSpec().build(), ramSize: 1 << 20), .memoryTooSmall(1 << 20))
        // Relocatable, pref_address does not fit: loaded at 1 MiB, but the decompressor will
        // run at max(pref_address, aligned load address) = 16 MiB and need init_size there.
        XCTAssertEqual(error(BzImageSpec().build(), ramSize: 16 << 20),
                       .kernelDoesNotFit(address: 0x100_0000, size: 0x40_0000, ramSize: 16 << 20))
        XCTAssertEqual(LinuxLoader.LoadError.kernelDoesNotFit(address: 0x100_0000, size: 0x40_0000, ramSize: 16 << 20).description,
                       "the kernel needs 0x400000 bytes at 0x1000000, beyond 16 MiB of guest RAM")
        // Non-relocatable: it moves itself to pref_address.
        var fixed = BzImageSpec(); fixed.relocatable = 0; fixed.prefAddress = 0x80_0000
        XCTAssertEqual(error(fixed.build(), ramSize: 10 << 20), .kernelDoesNotFit(address: 0x80_0000, size: 0x40_0000, ramSize: 10 << 20))
        fixed.prefAddress = 0x40_0000
        let ram = TestRAM(size: 10 << 20)
        let loaded = try? fixed.build().loadLinux(into: ram).get()
        XCTAssertEqual(loaded?.loadAddress, 0x10_0000, "not relocatable: loaded at 1 MiB")
        XCTAssertEqual(loaded?.runAddress, 0x40_0000)
        // A huge init_size that would wrap: refused, no trap.
        var huge = BzImageSpec(); huge.initSize = 0xFFFF_FFFF
        XCTAssertEqual(error(huge.build()), .kernelDoesNotFit(address: 0x10_0000, size: 0xFFFF_FFFF, ramSize: Self.ram32M))
        var hugePref = BzImageSpec(); hugePref.prefAddress = UInt64.max & ~0xFFF
        XCTAssertEqual(error(hugePref.build()),
                       .kernelDoesNotFit(address: UInt64.max & ~0xFFF, size: 0x40_0000, ramSize: Self.ram32M))
        // The initrd must fit between the kernel's end (20 MiB) and the top of RAM.
        let initrd = [UInt8](repeating: 1, count: 12 << 20 + 1)
        XCTAssertEqual(error(BzImageSpec().build(), initrd: initrd),
                       .initrdDoesNotFit(size: 12 << 20 + 1, lowest: 0x140_0000, highest: Self.ram32M))
        XCTAssertEqual(LinuxLoader.LoadError.initrdDoesNotFit(size: 100, lowest: 0x140_0000, highest: Self.ram32M).description,
                       "the initrd (100 bytes) does not fit between the kernel's end 0x1400000 and 0x2000000")
        var lowMax = BzImageSpec(); lowMax.initrdAddrMax = 0xFF_FFFF
        XCTAssertEqual(error(lowMax.build(), initrd: [1, 2, 3]),
                       .initrdDoesNotFit(size: 3, lowest: 0x140_0000, highest: 0x100_0000))
    }

    /// With pci=on the ECAM window is an E820 reserved entry (Linux then accepts the MCFG window).
    func testReservedRangesBecomeE820Entries() throws {
        let ram = TestRAM(size: Int(Self.ram32M))
        _ = try BzImageSpec().build().bytes.withUnsafeBytes {
            try LinuxLoader.load($0, reserved: [AddressRange(base: 0xF000_0000, size: 1 << 20)], into: ram.memory)
        }
        XCTAssertEqual(ram.u8(Self.bp + LinuxLoader.BootParams.e820Entries), 4)
        let entry = Self.bp + LinuxLoader.BootParams.e820Table + 3 * 20
        XCTAssertEqual(ram.u64(entry), 0xF000_0000)
        XCTAssertEqual(ram.u64(entry + 8), 1 << 20)
        XCTAssertEqual(ram.u32(entry + 16), 2)
    }
}
