import X86

/// Loads a Multiboot (specification 0.6.96, "Multiboot 1") kernel, its boot modules and
/// command lines, builds the Multiboot information structure, and returns the machine
/// state the specification requires at the kernel's entry (§3.2 "Machine state"):
///
/// - EAX = 0x2BADB002, EBX = physical address of the Multiboot information structure;
/// - 32-bit protected mode, paging off: CR0 = PE|ET|NE;
/// - CS a 32-bit read/execute code segment, offset 0, limit 0xFFFFFFFF (selector 0x10;
///   the specification leaves the value undefined), DS/ES/FS/GS/SS flat read/write data
///   (0x18), in a GDT at 0x500 the kernel must replace before loading segment registers;
/// - EFLAGS = 0x2: VM (bit 17) and IF (bit 9) clear;
/// - ESP is undefined by the specification; we give ESP = 0x8000, a 28 KiB stack at
///   0x1000–0x7FFF, so a kernel that pushes before setting up its own stack survives.
///
/// Guest-physical layout:
///
///     0x0500            GDT (32 bytes)
///     0x1000–0x7FFF     stack (ESP = 0x8000); the kernel may not overlap 0x500–0x7FFF
///     kernel            where its ELF p_paddr / a.out load_addr say (usually 1 MiB)
///     modules           page-aligned, one after the other, above the kernel's end
///     info              just below 0x80000 if the kernel and modules leave it free,
///                       else on the first page after the last module (or the kernel)
///
/// The info block holds the multiboot_info structure, then the memory map, the module
/// list and the strings (command line, module strings, boot loader name).
public enum MultibootLoader {
    /// The header magic a kernel carries (§3.1.2).
    public static let headerMagic: UInt32 = 0x1BAD_B002
    /// The value in EAX at entry (§3.2).
    public static let bootloaderMagic: UInt32 = 0x2BAD_B002
    /// The header must lie within the first 8192 bytes, 32-bit aligned (§3.1.1).
    public static let searchLength = 8192

    public static let gdtAddress: UInt64 = 0x500
    public static let stackTop: UInt64 = 0x8000
    /// [0x500, 0x8000): GDT and stack, which no kernel segment may overlap.
    public static let loaderAreaStart: UInt64 = 0x500
    public static let loaderAreaEnd: UInt64 = 0x8000
    /// The info block preferably ends here (below the EBDA and 0xA0000).
    public static let preferredInfoEnd: UInt64 = 0x80000
    public static let codeSelector: UInt16 = BootGDT.codeSelector
    public static let dataSelector: UInt16 = BootGDT.dataSelector

    /// Header flags (§3.1.2). Bits 0–15 are requirements: a loader must refuse a kernel
    /// setting one it does not understand; bits 16–31 are optional features.
    public enum HeaderFlag {
        public static let pageAlignModules: UInt32 = 1 << 0
        public static let memoryInfo: UInt32 = 1 << 1
        public static let videoMode: UInt32 = 1 << 2
        public static let addressFields: UInt32 = 1 << 16
        static let understoodRequirements: UInt32 = pageAlignModules | memoryInfo | videoMode
    }

    /// multiboot_info.flags bits (§3.3).
    public enum InfoFlag {
        public static let memory: UInt32 = 1 << 0
        public static let commandLine: UInt32 = 1 << 2
        public static let modules: UInt32 = 1 << 3
        public static let memoryMap: UInt32 = 1 << 6
        public static let bootLoaderName: UInt32 = 1 << 9
    }

    /// Offsets in the multiboot_info structure (§3.3).
    public enum InfoOffset {
        public static let flags: UInt64 = 0
        public static let memLower: UInt64 = 4
        public static let memUpper: UInt64 = 8
        public static let cmdline: UInt64 = 16
        public static let modsCount: UInt64 = 20
        public static let modsAddr: UInt64 = 24
        public static let mmapLength: UInt64 = 44
        public static let mmapAddr: UInt64 = 48
        public static let bootLoaderName: UInt64 = 64
        /// The structure is 116 bytes up to the framebuffer fields; we reserve 128.
        public static let structureSize: UInt64 = 128
    }

    /// The memory map's entries: "size" (20, not counting itself), base_addr, length, type.
    public static let memoryMapEntrySize: UInt64 = 24
    public static let moduleEntrySize: UInt64 = 16
    public static let memoryAvailable: UInt32 = 1
    public static let memoryReserved: UInt32 = 2
    /// The top of conventional memory we report: 0x9FC00–0xFFFFF (EBDA, VGA, ROM) is reserved.
    public static let lowMemoryEnd: UInt64 = 0x9FC00

    /// A boot module: its bytes and its string (usually its path and arguments).
    public struct Module {
        public var image: UnsafeRawBufferPointer
        public var string: String
        public init(image: UnsafeRawBufferPointer, string: String = "") {
            self.image = image
            self.string = string
        }
    }

    public enum KernelFormat: Equatable, Sendable { case elf32, elf64, aoutKludge }

    /// Where a module landed: [start, end) and the address of its string.
    public struct LoadedModule: Equatable, Sendable {
        public var start: UInt64
        public var end: UInt64
        public var stringAddress: UInt64
    }

    /// Everything `commit` will write, decided and checked.
    public struct Plan: Equatable, Sendable {
        public var format: KernelFormat
        public var headerOffset: UInt64
        public var headerFlags: UInt32
        /// ELF: the segments with a non-zero p_memsz (empty for the a.out kludge).
        public var segments: [ELFSegment]
        /// a.out kludge: file bytes [fileOffset, fileOffset + fileSize) → kernelStart, zeros to kernelEnd.
        public var fileOffset: UInt64
        public var fileSize: UInt64
        public var kernelStart: UInt64
        public var kernelEnd: UInt64
        public var entry: UInt64
        /// Where the modules go, with the addresses of their strings.
        public var modules: [LoadedModule]
        public var infoAddress: UInt64
        public var infoSize: UInt64
        /// Inside the info block: the memory map, the module list, the strings.
        public var memoryMapAddress: UInt64
        public var moduleListAddress: UInt64
        public var commandLineAddress: UInt64
        public var bootLoaderNameAddress: UInt64
        public var memoryMap: [MemoryMapEntry]
        /// mem_lower and mem_upper, in KiB.
        public var memLower: UInt32
        public var memUpper: UInt32

        public var infoEnd: UInt64 { infoAddress + infoSize }
    }

    /// The result of a load.
    public struct Loaded: Sendable {
        public var state: CPUStartState
        public var format: KernelFormat
        /// File offset of the Multiboot header.
        public var headerOffset: UInt64
        public var headerFlags: UInt32
        /// The physical range the kernel occupies (lowest segment start to highest end).
        public var kernelStart: UInt64
        public var kernelEnd: UInt64
        public var entry: UInt64
        public var infoAddress: UInt64
        /// [infoAddress, infoEnd): the info structure, memory map, module list and strings.
        public var infoEnd: UInt64
        public var modules: [LoadedModule]
        /// The kernel asked for a video mode (header flag 2). We offer no framebuffer, so
        /// the request is ignored (info flag 11 stays clear), as the spec allows.
        public var videoModeIgnored: Bool
    }

    public enum LoadError: Error, Equatable, Sendable {
        case emptyImage
        case memoryTooSmall(UInt64)
        case noHeader
        case checksumMismatch(offset: UInt64)
        case unsupportedRequiredFlags(UInt32)
        case truncatedHeader(offset: UInt64)
        case headerAddressBelowLoadAddress(headerAddress: UInt32, loadAddress: UInt32)
        case loadAddressBeforeFileStart(loadAddress: UInt32)
        case loadEndBelowLoadAddress(loadEnd: UInt32, loadAddress: UInt32)
        case loadEndPastEndOfFile(loadEnd: UInt32)
        case bssEndBelowLoadEnd(bssEnd: UInt32, loadEnd: UInt64)
        case kernelOutsideRAM(start: UInt64, end: UInt64, ramSize: UInt64)
        case elf(ELFError)
        case segmentAbove4GiB(index: Int, physicalAddress: UInt64)
        case entryOutsideRAM(entry: UInt64, ramSize: UInt64)
        case overlapsLoaderArea(start: UInt64, end: UInt64)
        case moduleDoesNotFit(index: Int, size: UInt64, start: UInt64)
        case nulInString(String)
        case noRoomForInfo(size: UInt64)
        case writeFailed(Structure)

        /// What the commit step writes (for the error that names the one that did not fit).
        public enum Structure: Equatable, Sendable {
            case kernel, module, info, strings, moduleList, memoryMap, gdt
            public var name: StaticString {
                switch self {
                case .kernel: return "the kernel"
                case .module: return "a boot module"
                case .info: return "the Multiboot information structure"
                case .strings: return "the Multiboot strings"
                case .moduleList: return "the module list"
                case .memoryMap: return "the memory map"
                case .gdt: return "the boot GDT"
                }
            }
        }

        public var description: String {
            switch self {
            case .emptyImage: return "the kernel image is empty"
            case .memoryTooSmall(let size):
                return "guest RAM of \(LoaderMath.describeSize(size)) is below the 1 MiB minimum"
            case .noHeader: return "no Multiboot header in the first 8192 bytes"
            case .checksumMismatch(let offset):
                return "Multiboot header checksum mismatch (header at file offset \(LoaderMath.hex(offset)))"
            case .unsupportedRequiredFlags(let bits):
                return "Multiboot header requires unsupported features (flags \(LoaderMath.hex(UInt64(bits))))"
            case .truncatedHeader(let offset):
                return "truncated Multiboot header at file offset \(LoaderMath.hex(offset)): "
                    + "flag 16 needs the address fields"
            case .headerAddressBelowLoadAddress(let header, let load):
                return "Multiboot header_addr \(LoaderMath.hex(UInt64(header))) is below load_addr "
                    + LoaderMath.hex(UInt64(load))
            case .loadAddressBeforeFileStart(let load):
                return "Multiboot load_addr \(LoaderMath.hex(UInt64(load))) lies before the start of the file"
            case .loadEndBelowLoadAddress(let end, let load):
                return "Multiboot load_end_addr \(LoaderMath.hex(UInt64(end))) is below load_addr "
                    + LoaderMath.hex(UInt64(load))
            case .loadEndPastEndOfFile(let end):
                return "Multiboot load_end_addr \(LoaderMath.hex(UInt64(end))) lies past the end of the file"
            case .bssEndBelowLoadEnd(let bss, let end):
                return "Multiboot bss_end_addr \(LoaderMath.hex(UInt64(bss))) is below the end of the loaded image "
                    + LoaderMath.hex(end)
            case .kernelOutsideRAM(let start, let end, let ram):
                return "kernel at \(LoaderMath.hex(start))–\(LoaderMath.hex(end)) does not fit in "
                    + "\(LoaderMath.describeSize(ram)) of guest RAM"
            case .elf(let error): return error.description
            case .segmentAbove4GiB(let index, let address):
                return "ELF program header \(index): segment at \(LoaderMath.hex(address)) is not below 4 GiB, "
                    + "out of reach with paging off"
            case .entryOutsideRAM(let entry, let ram):
                return "entry point \(LoaderMath.hex(entry)) is outside \(LoaderMath.describeSize(ram)) of guest RAM"
            case .overlapsLoaderArea(let start, let end):
                return "kernel at \(LoaderMath.hex(start))–\(LoaderMath.hex(end)) overlaps the loader's GDT and "
                    + "stack at 0x500–0x7fff"
            case .moduleDoesNotFit(let index, let size, let start):
                return "module \(index) (\(size) bytes) does not fit in guest RAM below 4 GiB at "
                    + LoaderMath.hex(start)
            case .nulInString(let what): return "the \(what) contains a NUL byte"
            case .noRoomForInfo(let size):
                return "no room for the Multiboot information (\(size) bytes) below 0x80000 or above the "
                    + "kernel and modules"
            case .writeFailed(let what): return "could not write \(what.name) into guest memory"
            }
        }
    }

    /// A found and checksummed header.
    struct Header {
        var offset: UInt64
        var flags: UInt32
    }

    /// Finds the first 4-byte-aligned magic in the first 8192 bytes whose checksum holds
    /// (magic + flags + checksum ≡ 0 mod 2^32). A magic with a bad checksum is skipped,
    /// but reported if no valid header follows.
    static func findHeader(_ file: ImageBytes) throws(LoadError) -> Header {
        var firstBad: UInt64? = nil
        var offset: UInt64 = 0
        // The 12 mandatory bytes must lie inside both the file and the first 8192 bytes.
        while offset + 12 <= UInt64(searchLength) && offset + 12 <= file.count {
            if file.read(UInt32.self, at: offset)! == headerMagic {
                let flags = file.read(UInt32.self, at: offset + 4)!
                let checksum = file.read(UInt32.self, at: offset + 8)!
                if headerMagic &+ flags &+ checksum == 0 { return Header(offset: offset, flags: flags) }
                if firstBad == nil { firstBad = offset }
            }
            offset += 4
        }
        if let bad = firstBad { throw .checksumMismatch(offset: bad) }
        throw .noHeader
    }

    /// A kernel ready to copy: where its bytes go and where it starts.
    struct KernelPlan {
        var format: KernelFormat
        var ranges: [(start: UInt64, end: UInt64)]
        var entry: UInt64
        // a.out kludge only: file bytes [fileOffset, fileOffset + fileSize) → loadAddress.
        var fileOffset: UInt64 = 0
        var fileSize: UInt64 = 0
        var loadAddress: UInt64 = 0
        var elf: ELFImage? = nil
    }

    /// The a.out kludge (header flag 16, §3.1.3): the header's address fields say where
    /// the image goes. header_addr is the physical address the header itself is loaded
    /// at, so the file is loaded from offset `headerOffset - (header_addr - load_addr)`.
    /// load_end_addr 0 means "to the end of the file", bss_end_addr 0 means "no bss".
    static func planAOut(_ file: ImageBytes, header: Header, ramSize: UInt64) throws(LoadError) -> KernelPlan {
        let o = header.offset
        guard file.contains(offset: o, length: 32) else { throw .truncatedHeader(offset: o) }
        let headerAddr = file.read(UInt32.self, at: o + 12)!
        let loadAddr = file.read(UInt32.self, at: o + 16)!
        let loadEndAddr = file.read(UInt32.self, at: o + 20)!
        let bssEndAddr = file.read(UInt32.self, at: o + 24)!
        let entryAddr = file.read(UInt32.self, at: o + 28)!

        guard headerAddr >= loadAddr else {
            throw .headerAddressBelowLoadAddress(headerAddress: headerAddr, loadAddress: loadAddr)
        }
        let delta = UInt64(headerAddr - loadAddr)
        guard delta <= o else { throw .loadAddressBeforeFileStart(loadAddress: loadAddr) }
        let fileOffset = o - delta
        let fileSize: UInt64
        if loadEndAddr == 0 {
            fileSize = file.count - fileOffset
        } else {
            guard loadEndAddr >= loadAddr else {
                throw .loadEndBelowLoadAddress(loadEnd: loadEndAddr, loadAddress: loadAddr)
            }
            fileSize = UInt64(loadEndAddr - loadAddr)
            guard file.contains(offset: fileOffset, length: fileSize) else {
                throw .loadEndPastEndOfFile(loadEnd: loadEndAddr)
            }
        }
        let loadEnd = UInt64(loadAddr) + fileSize      // ≤ 2^32 + 2^32: no overflow
        var end = loadEnd
        if bssEndAddr != 0 {
            guard UInt64(bssEndAddr) >= loadEnd else { throw .bssEndBelowLoadEnd(bssEnd: bssEndAddr, loadEnd: loadEnd) }
            end = UInt64(bssEndAddr)
        }
        // A file over 4 GiB could push the end past 2^32, out of reach with paging off.
        guard end <= ramSize && end <= 1 << 32 else {
            throw .kernelOutsideRAM(start: UInt64(loadAddr), end: end, ramSize: ramSize)
        }
        return KernelPlan(format: .aoutKludge, ranges: [(UInt64(loadAddr), end)], entry: UInt64(entryAddr),
                          fileOffset: fileOffset, fileSize: fileSize, loadAddress: UInt64(loadAddr))
    }

    /// An ELF kernel: ELF32 for i386, or ELF64 for x86-64 (as GRUB accepts) as long as
    /// everything lies below 4 GiB, where 32-bit code with paging off can reach it.
    static func planELF(_ bytes: UnsafeRawBufferPointer, ramSize: UInt64) throws(LoadError) -> KernelPlan {
        let elf: ELFImage
        do throws(ELFError) {
            elf = try ELFImage.parse(bytes)
            let machine = elf.elfClass == .elf32 ? ELFImage.machine386 : ELFImage.machineX86_64
            guard elf.type == ELFImage.typeExecutable else { throw .wrongType(elf.type) }
            guard elf.machine == machine else { throw .wrongMachine(found: elf.machine, needed: machine) }
            try elf.checkPlacement(ramSize: ramSize)
        } catch {
            throw .elf(error)
        }
        var ranges: [(start: UInt64, end: UInt64)] = []
        for segment in elf.segments where segment.memorySize > 0 {
            guard segment.physicalEnd <= 1 << 32 else {
                throw .segmentAbove4GiB(index: segment.index, physicalAddress: segment.physicalAddress)
            }
            ranges.append((segment.physicalAddress, segment.physicalEnd))
        }
        return KernelPlan(format: elf.elfClass == .elf32 ? .elf32 : .elf64, ranges: ranges,
                          entry: elf.physicalEntry, elf: elf)
    }

    /// Parses and checks the kernel, its modules and strings against the RAM size and
    /// places everything; writes nothing (the modules' bytes are only counted).
    public static func plan(_ image: UnsafeRawBufferPointer, commandLine: String = "", modules: [Module] = [],
                            bootLoaderName: String = "Swiftvisor", ramSize: UInt64,
                            reserved: [AddressRange] = []) throws(LoadError) -> Plan {
        guard image.count > 0 else { throw .emptyImage }
        guard ramSize >= 1 << 20 else { throw .memoryTooSmall(ramSize) }
        let file = ImageBytes(image)
        let header = try findHeader(file)
        let unknownRequirements = header.flags & 0xFFFF & ~HeaderFlag.understoodRequirements
        guard unknownRequirements == 0 else { throw .unsupportedRequiredFlags(unknownRequirements) }

        // Flag 16 takes precedence over the executable format, ELF or not (§3.1.3).
        let kernel: KernelPlan
        if header.flags & HeaderFlag.addressFields != 0 {
            kernel = try planAOut(file, header: header, ramSize: ramSize)
        } else {
            kernel = try planELF(image, ramSize: ramSize)
        }
        // Below 4 GiB implies below 2^32: EIP is 32 bits wide.
        guard kernel.entry < ramSize && kernel.entry < 1 << 32 else {
            throw .entryOutsideRAM(entry: kernel.entry, ramSize: ramSize)
        }
        var kernelStart = UInt64.max, kernelEnd: UInt64 = 0
        for range in kernel.ranges {
            guard !LoaderMath.overlaps(range.start, range.end, loaderAreaStart, loaderAreaEnd) else {
                throw .overlapsLoaderArea(start: range.start, end: range.end)
            }
            kernelStart = min(kernelStart, range.start)
            kernelEnd = max(kernelEnd, range.end)
        }
        if kernel.ranges.isEmpty { kernelStart = kernel.loadAddress; kernelEnd = kernel.loadAddress }

        // Strings are NUL-terminated in guest memory: an embedded NUL would cut them short.
        guard !commandLine.utf8.contains(0) else { throw .nulInString("kernel command line") }
        guard !bootLoaderName.utf8.contains(0) else { throw .nulInString("boot loader name") }
        for (index, module) in modules.enumerated() where module.string.utf8.contains(0) {
            throw .nulInString("string of module \(index)")
        }

        // Modules: page-aligned (always, so header flag 0 is honoured), above the kernel.
        var placed: [LoadedModule] = []
        let limit = min(ramSize, 1 << 32)
        // (A kernel entirely below 0x500 must not push them into the loader's area.)
        var cursor = max(LoaderMath.alignUp(kernelEnd, PageTable.pageSize) ?? UInt64.max, loaderAreaEnd)
        for (index, module) in modules.enumerated() {
            let size = UInt64(module.image.count)
            guard let end = LoaderMath.end(cursor, size), end <= limit else {
                throw .moduleDoesNotFit(index: index, size: size, start: cursor)
            }
            placed.append(LoadedModule(start: cursor, end: end, stringAddress: 0))
            cursor = LoaderMath.alignUp(end, PageTable.pageSize) ?? UInt64.max
        }
        let allocatedEnd = placed.last?.end ?? kernelEnd

        // The memory map: conventional memory, the reserved EBDA/VGA/ROM area, RAM above 1 MiB.
        var map = [MemoryMapEntry(base: 0, length: min(ramSize, lowMemoryEnd), type: memoryAvailable),
                   MemoryMapEntry(base: lowMemoryEnd, length: 0x10_0000 - lowMemoryEnd, type: memoryReserved)]
        if ramSize > 0x10_0000 {
            map.append(MemoryMapEntry(base: 0x10_0000, length: ramSize - 0x10_0000, type: memoryAvailable))
        }
        // Device windows the platform asks to keep out of the kernel's hands (the PCI ECAM window).
        for range in reserved { map.append(MemoryMapEntry(base: range.base, length: range.size, type: memoryReserved)) }

        // The info block's size and internal layout.
        let mmapOffset = InfoOffset.structureSize
        let modsOffset = mmapOffset + UInt64(map.count) * memoryMapEntrySize
        let stringsOffset = modsOffset + UInt64(placed.count) * moduleEntrySize
        var stringsSize = UInt64(commandLine.utf8.count) + 1 + UInt64(bootLoaderName.utf8.count) + 1
        for module in modules { stringsSize += UInt64(module.string.utf8.count) + 1 }
        let infoSize = stringsOffset + stringsSize

        // Where it goes: just below 0x80000, else on the page after the last module.
        func isFree(_ start: UInt64, _ end: UInt64) -> Bool {
            for range in kernel.ranges where LoaderMath.overlaps(start, end, range.start, range.end) { return false }
            for module in placed where LoaderMath.overlaps(start, end, module.start, module.end) { return false }
            return true
        }
        var infoAddress: UInt64? = nil
        if infoSize <= preferredInfoEnd - loaderAreaEnd {
            let start = LoaderMath.alignDown(preferredInfoEnd - infoSize, 16)
            if start >= loaderAreaEnd && isFree(start, preferredInfoEnd) { infoAddress = start }
        }
        if infoAddress == nil, let above = LoaderMath.alignUp(allocatedEnd, PageTable.pageSize),
           let end = LoaderMath.end(max(above, loaderAreaEnd), infoSize), end <= limit,
           isFree(max(above, loaderAreaEnd), end) {
            infoAddress = max(above, loaderAreaEnd)
        }
        guard let info = infoAddress else { throw .noRoomForInfo(size: infoSize) }

        // The strings, in the order commit writes them: command line, module strings, name.
        var stringCursor = info + stringsOffset
        func stringAt(_ s: String) -> UInt64 {
            let at = stringCursor
            stringCursor += UInt64(s.utf8.count) + 1
            return at
        }
        let commandLineAddress = stringAt(commandLine)
        for index in placed.indices { placed[index].stringAddress = stringAt(modules[index].string) }
        let nameAddress = stringAt(bootLoaderName)
        // mem_lower: KiB from 0 (at most 640); mem_upper: KiB from 1 MiB to the first hole.
        let memLower = UInt32(min(ramSize, lowMemoryEnd) >> 10)
        let memUpper = ramSize > 0x10_0000 ? UInt32(min((ramSize - 0x10_0000) >> 10, 0xFFFF_FFFF)) : 0
        return Plan(format: kernel.format, headerOffset: header.offset, headerFlags: header.flags,
                    segments: kernel.elf?.segments.filter { $0.memorySize > 0 } ?? [],
                    fileOffset: kernel.fileOffset, fileSize: kernel.fileSize,
                    kernelStart: kernelStart, kernelEnd: kernelEnd, entry: kernel.entry, modules: placed,
                    infoAddress: info, infoSize: infoSize, memoryMapAddress: info + mmapOffset,
                    moduleListAddress: info + modsOffset, commandLineAddress: commandLineAddress,
                    bootLoaderNameAddress: nameAddress, memoryMap: map, memLower: memLower, memUpper: memUpper)
    }

    /// Writes the plan: kernel, modules, the information structure with its memory map,
    /// module list and strings, and the GDT; returns the start state with what was loaded.
    public static func commit(_ plan: Plan, image: UnsafeRawBufferPointer, commandLine: String = "",
                              modules: [Module] = [], bootLoaderName: String = "Swiftvisor",
                              into memory: GuestMemory) throws(LoadError) -> Loaded {
        let file = ImageBytes(image)
        if plan.format == .aoutKludge {
            guard plan.kernelEnd >= plan.kernelStart, plan.kernelEnd - plan.kernelStart >= plan.fileSize,
                  let bytes = file.slice(offset: plan.fileOffset, length: plan.fileSize),
                  memory.copyIn(bytes, gpa: plan.kernelStart),
                  memory.fill(gpa: plan.kernelStart + plan.fileSize,
                              length: plan.kernelEnd - plan.kernelStart - plan.fileSize, with: 0) else {
                throw .writeFailed(.kernel)
            }
        } else {
            guard ELFImage.copy(plan.segments, from: image, into: memory) else { throw .writeFailed(.kernel) }
        }
        guard modules.count == plan.modules.count else { throw .writeFailed(.module) }
        for (index, module) in modules.enumerated() {
            let placed = plan.modules[index]
            guard UInt64(module.image.count) == placed.end - placed.start, memory.copyIn(module.image, gpa: placed.start) else {
                throw .writeFailed(.module)
            }
        }
        let info = plan.infoAddress
        guard memory.fill(gpa: info, length: plan.infoSize, with: 0) else { throw .writeFailed(.info) }
        /// Writes `s` and its NUL at `at`, inside the info block.
        func putString(_ s: String, at: UInt64) throws(LoadError) {
            guard let end = LoaderMath.end(at, UInt64(s.utf8.count) + 1), end <= plan.infoEnd else {
                throw .writeFailed(.strings)
            }
            var gpa = at
            for byte in s.utf8 {
                guard memory.store(byte, gpa: gpa) else { throw .writeFailed(.strings) }
                gpa += 1
            }
            guard memory.store(UInt8(0), gpa: gpa) else { throw .writeFailed(.strings) }
        }
        try putString(commandLine, at: plan.commandLineAddress)
        for (index, placed) in plan.modules.enumerated() {
            try putString(modules[index].string, at: placed.stringAddress)
            let entry = plan.moduleListAddress + UInt64(index) * moduleEntrySize
            guard memory.store(UInt32(truncatingIfNeeded: placed.start), gpa: entry),
                  memory.store(UInt32(truncatingIfNeeded: placed.end), gpa: entry + 4),
                  memory.store(UInt32(truncatingIfNeeded: placed.stringAddress), gpa: entry + 8) else {
                throw .writeFailed(.moduleList)
            }
        }
        try putString(bootLoaderName, at: plan.bootLoaderNameAddress)
        for (index, region) in plan.memoryMap.enumerated() {
            let entry = plan.memoryMapAddress + UInt64(index) * memoryMapEntrySize
            guard memory.store(UInt32(memoryMapEntrySize - 4), gpa: entry),   // size excludes itself
                  memory.store(region.base, gpa: entry + 4),
                  memory.store(region.length, gpa: entry + 12),
                  memory.store(region.type, gpa: entry + 20) else { throw .writeFailed(.memoryMap) }
        }
        let flags = InfoFlag.memory | InfoFlag.commandLine | InfoFlag.modules | InfoFlag.memoryMap
            | InfoFlag.bootLoaderName
        guard memory.store(flags, gpa: info + InfoOffset.flags),
              memory.store(plan.memLower, gpa: info + InfoOffset.memLower),
              memory.store(plan.memUpper, gpa: info + InfoOffset.memUpper),
              memory.store(UInt32(truncatingIfNeeded: plan.commandLineAddress), gpa: info + InfoOffset.cmdline),
              memory.store(UInt32(truncatingIfNeeded: plan.modules.count), gpa: info + InfoOffset.modsCount),
              memory.store(UInt32(truncatingIfNeeded: plan.moduleListAddress), gpa: info + InfoOffset.modsAddr),
              memory.store(UInt32(truncatingIfNeeded: UInt64(plan.memoryMap.count) * memoryMapEntrySize),
                           gpa: info + InfoOffset.mmapLength),
              memory.store(UInt32(truncatingIfNeeded: plan.memoryMapAddress), gpa: info + InfoOffset.mmapAddr),
              memory.store(UInt32(truncatingIfNeeded: plan.bootLoaderNameAddress), gpa: info + InfoOffset.bootLoaderName)
        else { throw .writeFailed(.info) }

        guard BootGDT.write(at: gdtAddress, code64: false, into: memory) else { throw .writeFailed(.gdt) }
        var state = BootCPU.protectedMode(entry: plan.entry, stack: stackTop, gdtBase: gdtAddress)
        state.rax = UInt64(bootloaderMagic)
        state.rbx = info
        return Loaded(state: state, format: plan.format, headerOffset: plan.headerOffset, headerFlags: plan.headerFlags,
                      kernelStart: plan.kernelStart, kernelEnd: plan.kernelEnd, entry: plan.entry,
                      infoAddress: info, infoEnd: plan.infoEnd, modules: plan.modules,
                      videoModeIgnored: plan.headerFlags & HeaderFlag.videoMode != 0)
    }

    /// Loads `image` with `commandLine` and `modules` into `memory`.
    public static func load(_ image: UnsafeRawBufferPointer, commandLine: String = "", modules: [Module] = [],
                            bootLoaderName: String = "Swiftvisor", reserved: [AddressRange] = [],
                            into memory: GuestMemory) throws(LoadError) -> Loaded {
        let plan = try plan(image, commandLine: commandLine, modules: modules, bootLoaderName: bootLoaderName,
                            ramSize: memory.size, reserved: reserved)
        return try commit(plan, image: image, commandLine: commandLine, modules: modules,
                          bootLoaderName: bootLoaderName, into: memory)
    }
}
