import X86

/// Loads a Linux bzImage by the x86 boot protocol (Documentation/arch/x86/boot.rst),
/// skipping the real-mode setup code: the loader builds the zero page (struct
/// boot_params) itself and enters the protected-mode kernel directly, by the 64-bit
/// boot protocol when the kernel has a 64-bit entry point (xloadflags XLF_KERNEL_64),
/// else by the 32-bit boot protocol. Boot protocol 2.06 or newer is required.
///
/// Guest-physical layout:
///
///     0x00500            GDT: 0x10 __BOOT_CS (64-bit or 32-bit code), 0x18 __BOOT_DS
///     0x01000–0x07FFF    stack, RSP = 0x8000 (the kernel sets up its own at once)
///     0x08000            boot_params (the zero page), RSI at entry
///     0x09000–0x0FFFF    kernel command line, NUL-terminated
///     0x10000            64-bit only: PML4, 0x11000 PDPT, 0x12000… one page directory
///                        per GiB: identity map of max(4 GiB, RAM), 2 MiB pages
///     0x100000           the protected-mode kernel (or pref_address, see below)
///     high               the initrd, page aligned, as high as initrd_addr_max allows
///
/// 64-bit entry: long mode, CS = 0x10, DS/ES/SS/FS/GS = 0x18, RIP = load address + 0x200,
/// RSI = 0x8000, interrupts off. 32-bit entry: protected mode, paging off, same
/// selectors, EIP = code32_start (= the load address), ESI = 0x8000, EBP = EDI = EBX = 0.
public enum LinuxLoader {
    public static let gdtAddress: UInt64 = 0x500
    public static let stackTop: UInt64 = 0x8000
    public static let bootParamsAddress: UInt64 = 0x8000
    public static let commandLineAddress: UInt64 = 0x9000
    /// Room for the command line and its NUL.
    public static let commandLineRoom: UInt64 = 0x7000
    public static let pml4Address: UInt64 = 0x10000
    /// Where the low structures must end: the reserved area begins here.
    public static let lowMemoryEnd: UInt64 = 0x9F000
    public static let defaultLoadAddress: UInt64 = 0x10_0000
    public static let codeSelector: UInt16 = BootGDT.codeSelector   // __BOOT_CS
    public static let dataSelector: UInt16 = BootGDT.dataSelector   // __BOOT_DS
    public static let minimumVersion: UInt16 = 0x0206

    /// Offsets in the bzImage file (= offsets in boot_params) of setup header fields.
    public enum Header {
        public static let start: UInt64 = 0x1F1
        public static let setupSects: UInt64 = 0x1F1
        public static let bootFlag: UInt64 = 0x1FE
        public static let jump: UInt64 = 0x200
        public static let magic: UInt64 = 0x202
        public static let version: UInt64 = 0x206
        public static let typeOfLoader: UInt64 = 0x210
        public static let loadflags: UInt64 = 0x211
        public static let code32Start: UInt64 = 0x214
        public static let ramdiskImage: UInt64 = 0x218
        public static let ramdiskSize: UInt64 = 0x21C
        public static let heapEndPtr: UInt64 = 0x224
        public static let cmdLinePtr: UInt64 = 0x228
        public static let initrdAddrMax: UInt64 = 0x22C
        public static let kernelAlignment: UInt64 = 0x230
        public static let relocatableKernel: UInt64 = 0x234
        public static let xloadflags: UInt64 = 0x236
        public static let cmdlineSize: UInt64 = 0x238
        public static let prefAddress: UInt64 = 0x258
        public static let initSize: UInt64 = 0x260

        public static let magicValue: UInt32 = 0x5372_6448     // "HdrS"
        public static let bootFlagValue: UInt16 = 0xAA55
    }

    /// Offsets of the other boot_params fields we fill.
    public enum BootParams {
        public static let size: UInt64 = 4096
        public static let extRamdiskImage: UInt64 = 0x0C0
        public static let extRamdiskSize: UInt64 = 0x0C4
        public static let extCmdLinePtr: UInt64 = 0x0C8
        public static let e820Entries: UInt64 = 0x1E8
        public static let e820Table: UInt64 = 0x2D0
        public static let e820EntrySize: UInt64 = 20
        /// The end of the header area in boot_params (the setup header and its padding).
        public static let headerAreaEnd: UInt64 = 0x290
    }

    public enum LoadFlag {
        public static let loadedHigh: UInt8 = 1 << 0
        public static let canUseHeap: UInt8 = 1 << 7
    }
    public enum XLoadFlag {
        public static let kernel64: UInt16 = 1 << 0
        public static let canBeLoadedAbove4G: UInt16 = 1 << 1
    }
    public static let e820RAM: UInt32 = 1
    public static let e820Reserved: UInt32 = 2
    /// E820 entries: RAM below 0x9F000, reserved 0x9F000–0xFFFFF (EBDA, VGA, ROM), RAM above 1 MiB.
    public static let reservedLowStart: UInt64 = 0x9F000

    /// Everything `commit` will write, decided and checked.
    public struct Plan: Equatable, Sendable {
        /// Boot protocol version, e.g. 0x020F for 2.15.
        public var protocolVersion: UInt16
        public var entry64: Bool
        /// RIP at entry: load address + 0x200 (64-bit) or the load address (32-bit).
        public var entry: UInt64
        /// The protected-mode kernel: file bytes [kernelOffset, kernelOffset + kernelSize) → loadAddress.
        public var kernelOffset: UInt64
        public var kernelSize: UInt64
        public var loadAddress: UInt64
        public var runAddress: UInt64
        public var initSize: UInt64
        /// The setup header bytes [0x1F1, setupHeaderEnd) copied into boot_params.
        public var setupHeaderEnd: UInt64
        /// loadflags as boot_params gets them (CAN_USE_HEAP added).
        public var loadflags: UInt8
        public var initrdAddress: UInt64
        public var initrdSize: UInt64
        public var commandLineLength: UInt64
        public var e820: [MemoryMapEntry]
        /// GiB the identity map covers (0 for the 32-bit protocol).
        public var identityMappedGibibytes: Int
    }

    public struct Loaded: Sendable {
        public var state: CPUStartState
        /// Boot protocol version, e.g. 0x020F for 2.15.
        public var protocolVersion: UInt16
        public var entry64: Bool
        public var loadAddress: UInt64
        /// Bytes of the protected-mode kernel in the file.
        public var kernelSize: UInt64
        /// Where the kernel will decompress and run: [runAddress, runAddress + init_size).
        public var runAddress: UInt64
        public var initSize: UInt64
        public var bootParamsAddress: UInt64
        public var commandLineAddress: UInt64
        public var initrdAddress: UInt64
        public var initrdSize: UInt64
        /// GiB the identity map covers (0 for the 32-bit protocol).
        public var identityMappedGibibytes: Int
    }

    public enum LoadError: Error, Equatable, Sendable {
        case emptyImage
        case truncatedSetupHeader(fileSize: UInt64, needed: UInt64)
        case notBzImage
        case protocolTooOld(UInt16)
        case badBootFlag(UInt16)
        case setupHeaderTooShort(end: UInt64, needed: UInt64)
        case noProtectedModeKernel(setupSectors: UInt64)
        case notLoadedHigh
        case commandLineTooLong(length: UInt64, maximum: UInt64)
        case nulInCommandLine
        case memoryTooSmall(UInt64)
        case kernelDoesNotFit(address: UInt64, size: UInt64, ramSize: UInt64)
        case initrdDoesNotFit(size: UInt64, lowest: UInt64, highest: UInt64)
        case memoryTooLargeForIdentityMap(UInt64)
        case writeFailed(Structure)

        /// What the commit step writes (for the error that names the one that did not fit).
        public enum Structure: Equatable, Sendable {
            case kernel, initrd, bootParams, e820Table, commandLine, gdt, pageTables
            public var name: StaticString {
                switch self {
                case .kernel: return "the protected-mode kernel"
                case .initrd: return "the initrd"
                case .bootParams: return "boot_params"
                case .e820Table: return "the e820 table"
                case .commandLine: return "the command line"
                case .gdt: return "the boot GDT"
                case .pageTables: return "the identity-map page tables"
                }
            }
        }

        public var description: String {
            switch self {
            case .emptyImage: return "the kernel image is empty"
            case .truncatedSetupHeader(let size, let needed):
                return "truncated setup header: the file is \(size) bytes, the setup header needs "
                    + "\(needed) (to \(LoaderMath.hex(needed)))"
            case .notBzImage: return "not a bzImage: no \"HdrS\" setup header magic at 0x202"
            case .protocolTooOld(let version):
                return "bzImage boot protocol \(LinuxLoader.versionString(version)) is too old (need 2.06)"
            case .badBootFlag(let flag):
                return "bad boot_flag \(LoaderMath.hex(UInt64(flag))) at 0x1fe (need 0xaa55)"
            case .setupHeaderTooShort(let end, let needed):
                return "truncated setup header: it ends at \(LoaderMath.hex(end)) but the protocol's fields "
                    + "reach \(LoaderMath.hex(needed))"
            case .noProtectedModeKernel(let sectors):
                return "no protected-mode kernel after the \(sectors) setup sectors: the file ends there"
            case .notLoadedHigh:
                return "zImage kernels (loadflags LOADED_HIGH clear) are not supported"
            case .commandLineTooLong(let length, let maximum):
                return "the command line is \(length) bytes, the kernel accepts at most \(maximum)"
            case .nulInCommandLine: return "the kernel command line contains a NUL byte"
            case .memoryTooSmall(let size):
                return "guest RAM of \(LoaderMath.describeSize(size)) is too small for a Linux kernel at 1 MiB"
            case .kernelDoesNotFit(let address, let size, let ram):
                return "the kernel needs \(LoaderMath.hex(size)) bytes at \(LoaderMath.hex(address)), beyond "
                    + "\(LoaderMath.describeSize(ram)) of guest RAM"
            case .initrdDoesNotFit(let size, let lowest, let highest):
                return "the initrd (\(size) bytes) does not fit between the kernel's end \(LoaderMath.hex(lowest)) "
                    + "and \(LoaderMath.hex(highest))"
            case .memoryTooLargeForIdentityMap(let size):
                return "guest RAM of \(LoaderMath.describeSize(size)) is more than the boot identity map "
                    + "(page tables at 0x10000–0x9efff) can cover"
            case .writeFailed(let what): return "could not write \(what.name) into guest memory"
            }
        }
    }

    /// "2.06" for 0x0206.
    public static func versionString(_ version: UInt16) -> String {
        let minor = version & 0xFF
        return "\(version >> 8)." + (minor < 10 ? "0" : "") + "\(minor)"
    }

    /// Parses and checks the bzImage, the command line and the initrd size against the RAM
    /// size and decides where everything goes; writes nothing.
    public static func plan(_ image: UnsafeRawBufferPointer, commandLine: String = "", initrdSize: UInt64 = 0,
                            ramSize: UInt64) throws(LoadError) -> Plan {
        guard image.count > 0 else { throw .emptyImage }
        let file = ImageBytes(image)
        // The magic and version come first; a file too short to hold them is truncated.
        guard let magic = file.read(UInt32.self, at: Header.magic) else {
            throw .truncatedSetupHeader(fileSize: file.count, needed: Header.magic + 4)
        }
        guard magic == Header.magicValue else { throw .notBzImage }
        guard let version = file.read(UInt16.self, at: Header.version) else {
            throw .truncatedSetupHeader(fileSize: file.count, needed: Header.version + 2)
        }
        // 2.06 is the first protocol with cmdline_size and a 32-bit entry free of
        // real-mode assumptions (2.05 added relocatable kernels, 2.02 cmd_line_ptr).
        guard version >= minimumVersion else { throw .protocolTooOld(version) }
        let bootFlag = file.read(UInt16.self, at: Header.bootFlag)!
        guard bootFlag == Header.bootFlagValue else { throw .badBootFlag(bootFlag) }

        // "The end of setup header can be calculated as 0x0202 + byte value at offset
        // 0x0201" (the 2-byte short jump at 0x200 jumps over the header).
        let headerEnd = Header.magic + UInt64(file.read(UInt8.self, at: Header.jump + 1)!)
        let needed: UInt64 = version >= 0x020A ? Header.initSize + 4 : Header.cmdlineSize + 4
        guard headerEnd >= needed else { throw .setupHeaderTooShort(end: headerEnd, needed: needed) }
        guard file.count >= headerEnd else { throw .truncatedSetupHeader(fileSize: file.count, needed: headerEnd) }

        // setup_sects 0 means 4 (a compatibility rule from the days of a 4-sector setup).
        var setupSectors = UInt64(file.read(UInt8.self, at: Header.setupSects)!)
        if setupSectors == 0 { setupSectors = 4 }
        let kernelOffset = (setupSectors + 1) * 512
        guard kernelOffset < file.count else { throw .noProtectedModeKernel(setupSectors: setupSectors) }
        let kernelSize = file.count - kernelOffset

        let loadflags = file.read(UInt8.self, at: Header.loadflags)!
        guard loadflags & LoadFlag.loadedHigh != 0 else { throw .notLoadedHigh }
        let xloadflags: UInt16 = version >= 0x020C ? file.read(UInt16.self, at: Header.xloadflags)! : 0
        let entry64 = xloadflags & XLoadFlag.kernel64 != 0
        let relocatable = file.read(UInt8.self, at: Header.relocatableKernel)! != 0
        let kernelAlignment = UInt64(file.read(UInt32.self, at: Header.kernelAlignment)!)
        let initrdAddrMax = UInt64(file.read(UInt32.self, at: Header.initrdAddrMax)!)
        let cmdlineSize = UInt64(file.read(UInt32.self, at: Header.cmdlineSize)!)
        let prefAddress: UInt64 = version >= 0x020A ? file.read(UInt64.self, at: Header.prefAddress)! : 0
        let initSize: UInt64 = version >= 0x020A ? UInt64(file.read(UInt32.self, at: Header.initSize)!) : 0

        // The command line: at most cmdline_size bytes, not counting the NUL.
        let commandLineLength = UInt64(commandLine.utf8.count)
        guard !commandLine.utf8.contains(0) else { throw .nulInCommandLine }
        let commandLineMaximum = min(cmdlineSize, commandLineRoom - 1)
        guard commandLineLength <= commandLineMaximum else {
            throw .commandLineTooLong(length: commandLineLength, maximum: commandLineMaximum)
        }

        guard ramSize > defaultLoadAddress else { throw .memoryTooSmall(ramSize) }

        // Where to load. The kernel occupies [load, load + max(file size, init_size)) while it
        // decompresses; init_size (2.10) is the linear memory it needs from its start.
        let footprint = max(kernelSize, initSize)
        var loadAddress = defaultLoadAddress
        if relocatable && prefAddress >= defaultLoadAddress && prefAddress & 0xFFF == 0,
           let end = LoaderMath.end(prefAddress, footprint), end <= ramSize {
            // A relocatable kernel may go anywhere; its preferred address saves it a move.
            loadAddress = prefAddress
        }
        guard let loadEnd = LoaderMath.end(loadAddress, footprint), loadEnd <= ramSize else {
            throw .kernelDoesNotFit(address: loadAddress, size: footprint, ramSize: ramSize)
        }
        // Where it will run. A non-relocatable kernel "will unconditionally move itself and
        // run at" pref_address. A relocatable one realigns itself to kernel_alignment and,
        // in the x86 decompressor (arch/x86/boot/compressed/head_*.S), never goes below
        // LOAD_PHYSICAL_ADDR, which is what pref_address reports. It needs init_size there.
        var runAddress = loadAddress
        if relocatable {
            if kernelAlignment != 0 && kernelAlignment & (kernelAlignment - 1) == 0,
               let aligned = LoaderMath.alignUp(loadAddress, kernelAlignment) {
                runAddress = aligned
            }
            runAddress = max(runAddress, prefAddress)
        } else if prefAddress != 0 {
            runAddress = prefAddress
        }
        guard let runEnd = LoaderMath.end(runAddress, initSize), runEnd <= ramSize else {
            throw .kernelDoesNotFit(address: runAddress, size: initSize, ramSize: ramSize)
        }
        let kernelAreaEnd = max(loadEnd, runEnd)

        // The initrd: as high as allowed, page aligned, above everything the kernel uses.
        // initrd_addr_max is the highest address the initrd may occupy (inclusive);
        // XLF_CAN_BE_LOADED_ABOVE_4G lifts that limit (and the identity map covers all RAM).
        var initrdAddress: UInt64 = 0
        if initrdSize > 0 {
            let top = xloadflags & XLoadFlag.canBeLoadedAbove4G != 0
                ? ramSize : min(ramSize, initrdAddrMax + 1)
            let lowest = LoaderMath.alignUp(kernelAreaEnd, PageTable.pageSize) ?? UInt64.max
            guard initrdSize <= top, LoaderMath.alignDown(top - initrdSize, PageTable.pageSize) >= lowest else {
                throw .initrdDoesNotFit(size: initrdSize, lowest: kernelAreaEnd, highest: top)
            }
            initrdAddress = LoaderMath.alignDown(top - initrdSize, PageTable.pageSize)
        }

        // The identity map: 64-bit protocol only. "The range with setup_header.init_size
        // from start address of loaded kernel and zero page and command line buffer get
        // ident mapping"; we map all RAM and at least 4 GiB.
        var gibibytes = 0
        if entry64 {
            gibibytes = max(4, IdentityPageTables.gibibytes(covering: ramSize))
            guard pml4Address + IdentityPageTables.size(gibibytes: gibibytes) <= lowMemoryEnd else {
                throw .memoryTooLargeForIdentityMap(ramSize)
            }
        }

        // The e820 map: RAM below 0x9F000, reserved 0x9F000–0xFFFFF (EBDA, VGA, ROM), RAM above 1 MiB.
        let e820 = [
            MemoryMapEntry(base: 0, length: reservedLowStart, type: e820RAM),
            MemoryMapEntry(base: reservedLowStart, length: defaultLoadAddress - reservedLowStart, type: e820Reserved),
            MemoryMapEntry(base: defaultLoadAddress, length: ramSize - defaultLoadAddress, type: e820RAM),
        ]
        // The setup header goes to the same offset in boot_params; a header claiming to
        // run past boot_params' header area is cut there.
        return Plan(protocolVersion: version, entry64: entry64,
                    // The 64-bit entry point is 0x200 past the start of the protected-mode kernel.
                    entry: entry64 ? loadAddress + 0x200 : loadAddress,
                    kernelOffset: kernelOffset, kernelSize: kernelSize, loadAddress: loadAddress,
                    runAddress: runAddress, initSize: initSize,
                    setupHeaderEnd: min(headerEnd, BootParams.headerAreaEnd),
                    loadflags: loadflags | LoadFlag.canUseHeap, initrdAddress: initrdAddress, initrdSize: initrdSize,
                    commandLineLength: commandLineLength, e820: e820, identityMappedGibibytes: gibibytes)
    }

    /// Writes the plan: kernel, initrd, boot_params with its e820 table, command line,
    /// GDT and (64-bit) page tables; returns the start state with what was loaded.
    public static func commit(_ plan: Plan, image: UnsafeRawBufferPointer, commandLine: String = "",
                              initrd: UnsafeRawBufferPointer? = nil,
                              into memory: GuestMemory) throws(LoadError) -> Loaded {
        let file = ImageBytes(image)
        guard let kernel = file.slice(offset: plan.kernelOffset, length: plan.kernelSize),
              memory.copyIn(kernel, gpa: plan.loadAddress) else { throw .writeFailed(.kernel) }
        if plan.initrdSize > 0 {
            guard let initrd, UInt64(initrd.count) == plan.initrdSize, memory.copyIn(initrd, gpa: plan.initrdAddress) else {
                throw .writeFailed(.initrd)
            }
        }

        let bp = bootParamsAddress
        guard memory.fill(gpa: bp, length: BootParams.size, with: 0),
              let header = file.slice(offset: Header.start, length: plan.setupHeaderEnd - Header.start),
              memory.copyIn(header, gpa: bp + Header.start),
              memory.store(UInt8(0xFF), gpa: bp + Header.typeOfLoader),          // "undefined" loader ID
              memory.store(plan.loadflags, gpa: bp + Header.loadflags),
              // heap_end_ptr is an offset from the real-mode code's start, used only by the
              // real-mode setup we skip; 0xFE00 is the customary value for a 64 KiB segment.
              memory.store(UInt16(0xFE00), gpa: bp + Header.heapEndPtr),
              // code32_start defaults to the load address; a loader putting a kernel elsewhere
              // must update it. It is also the 32-bit entry point.
              memory.store(UInt32(truncatingIfNeeded: plan.loadAddress), gpa: bp + Header.code32Start),
              memory.store(UInt32(truncatingIfNeeded: commandLineAddress), gpa: bp + Header.cmdLinePtr),
              memory.store(UInt32(truncatingIfNeeded: commandLineAddress >> 32), gpa: bp + BootParams.extCmdLinePtr),
              memory.store(UInt32(truncatingIfNeeded: plan.initrdAddress), gpa: bp + Header.ramdiskImage),
              memory.store(UInt32(truncatingIfNeeded: plan.initrdSize), gpa: bp + Header.ramdiskSize),
              memory.store(UInt32(truncatingIfNeeded: plan.initrdAddress >> 32), gpa: bp + BootParams.extRamdiskImage),
              memory.store(UInt32(truncatingIfNeeded: plan.initrdSize >> 32), gpa: bp + BootParams.extRamdiskSize) else {
            throw .writeFailed(.bootParams)
        }
        for (index, region) in plan.e820.enumerated() {
            let entry = bp + BootParams.e820Table + UInt64(index) * BootParams.e820EntrySize
            guard memory.store(region.base, gpa: entry), memory.store(region.length, gpa: entry + 8),
                  memory.store(region.type, gpa: entry + 16) else { throw .writeFailed(.e820Table) }
        }
        guard memory.store(UInt8(truncatingIfNeeded: plan.e820.count), gpa: bp + BootParams.e820Entries) else {
            throw .writeFailed(.e820Table)
        }

        guard UInt64(commandLine.utf8.count) == plan.commandLineLength else { throw .writeFailed(.commandLine) }
        var gpa = commandLineAddress
        for byte in commandLine.utf8 {
            guard memory.store(byte, gpa: gpa) else { throw .writeFailed(.commandLine) }
            gpa += 1
        }
        guard memory.store(UInt8(0), gpa: gpa) else { throw .writeFailed(.commandLine) }

        guard BootGDT.write(at: gdtAddress, code64: plan.entry64, into: memory) else { throw .writeFailed(.gdt) }
        var state: CPUStartState
        if plan.entry64 {
            guard IdentityPageTables.write(pml4: pml4Address, gibibytes: plan.identityMappedGibibytes, into: memory) else {
                throw .writeFailed(.pageTables)
            }
            state = BootCPU.longMode(entry: plan.entry, stack: stackTop, pml4: pml4Address, gdtBase: gdtAddress)
        } else {
            state = BootCPU.protectedMode(entry: plan.entry, stack: stackTop, gdtBase: gdtAddress)
        }
        state.rsi = bp
        return Loaded(state: state, protocolVersion: plan.protocolVersion, entry64: plan.entry64,
                      loadAddress: plan.loadAddress, kernelSize: plan.kernelSize, runAddress: plan.runAddress,
                      initSize: plan.initSize, bootParamsAddress: bp, commandLineAddress: commandLineAddress,
                      initrdAddress: plan.initrdAddress, initrdSize: plan.initrdSize,
                      identityMappedGibibytes: plan.identityMappedGibibytes)
    }

    public static func load(_ image: UnsafeRawBufferPointer, commandLine: String = "",
                            initrd: UnsafeRawBufferPointer? = nil, reserved: [AddressRange] = [],
                            into memory: GuestMemory) throws(LoadError) -> Loaded {
        var plan = try plan(image, commandLine: commandLine, initrdSize: UInt64(initrd?.count ?? 0),
                            ramSize: memory.size)
        // Device windows the platform asks to keep out of the kernel's hands (the PCI ECAM window).
        for range in reserved { plan.e820.append(MemoryMapEntry(base: range.base, length: range.size, type: e820Reserved)) }
        return try commit(plan, image: image, commandLine: commandLine, initrd: initrd, into: memory)
    }
}
