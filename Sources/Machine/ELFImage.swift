// ELF executable parsing for the guest loaders (System V gABI, "ELF Header" and
// "Program Header"): the little-endian ELF32 and ELF64 file headers and their PT_LOAD
// program headers. Everything read from the file is untrusted; every offset, size
// and address sum is checked for overflow and against the file's length.

/// What is wrong with an ELF file, or with where its segments would go.
public enum ELFError: Error, Equatable, Sendable {
    case truncatedHeader(fileSize: UInt64, needed: UInt64)
    case badMagic
    case unsupportedClass(UInt8)
    case wrongClass(found: ELFImage.Class, needed: ELFImage.Class)
    case notLittleEndian(UInt8)
    case unsupportedVersion(UInt8)
    case wrongType(UInt16)
    case wrongMachine(found: UInt16, needed: UInt16)
    case programHeaderEntryTooSmall(found: UInt16, needed: UInt16)
    case extendedProgramHeaderCount
    case programHeaderTableOutsideFile(offset: UInt64, count: UInt16, entrySize: UInt16)
    /// Program headers are numbered from 0, in file order.
    case segmentPastEndOfFile(index: Int)
    case fileSizeExceedsMemorySize(index: Int, fileSize: UInt64, memorySize: UInt64)
    case segmentAddressOverflow(index: Int, physicalAddress: UInt64, memorySize: UInt64)
    case segmentOutsideRAM(index: Int, physicalAddress: UInt64, memorySize: UInt64, ramSize: UInt64)
    case segmentsOverlap(first: Int, second: Int)
    case noLoadableSegments
    case entryOutsideRAM(entry: UInt64, ramSize: UInt64)

    public var description: String {
        switch self {
        case .truncatedHeader(let size, let needed):
            return "truncated ELF header: the file is \(size) bytes, the header needs \(needed)"
        case .badMagic: return "not an ELF file: bad magic"
        case .unsupportedClass(let c): return "unsupported ELF class \(c) (need 1, ELF32, or 2, ELF64)"
        case .wrongClass(let found, let needed):
            return "\(found.name) file where an \(needed.name) file is needed"
        case .notLittleEndian(let d): return "ELF data encoding \(d) is not little-endian (1)"
        case .unsupportedVersion(let v): return "unsupported ELF version \(v) (need 1)"
        case .wrongType(let t): return "ELF type \(t) is not an executable (ET_EXEC, 2)"
        case .wrongMachine(let found, let needed):
            return "ELF machine \(found) is not \(needed == ELFImage.machineX86_64 ? "x86-64 (62)" : "i386 (3)")"
        case .programHeaderEntryTooSmall(let found, let needed):
            return "ELF program header entry size \(found) is smaller than \(needed)"
        case .extendedProgramHeaderCount:
            return "ELF e_phnum is PN_XNUM (0xffff): extended program header counts are not supported"
        case .programHeaderTableOutsideFile(let offset, let count, let entrySize):
            return "ELF program header table (\(count) entries of \(entrySize) bytes at offset "
                + "\(LoaderMath.hex(offset))) extends past the end of the file"
        case .segmentPastEndOfFile(let index):
            return "ELF program header \(index) extends past the end of the file"
        case .fileSizeExceedsMemorySize(let index, let fileSize, let memorySize):
            return "ELF program header \(index): p_filesz \(LoaderMath.hex(fileSize)) exceeds p_memsz "
                + LoaderMath.hex(memorySize)
        case .segmentAddressOverflow(let index, let address, let size):
            return "ELF program header \(index): segment at \(LoaderMath.hex(address)) of "
                + "\(LoaderMath.hex(size)) bytes wraps around the address space"
        case .segmentOutsideRAM(_, let address, let size, let ram):
            return "segment at \(LoaderMath.hex(address)) (\(LoaderMath.hex(size)) bytes) does not fit in "
                + "\(LoaderMath.describeSize(ram)) of guest RAM"
        case .segmentsOverlap(let first, let second):
            return "ELF program headers \(first) and \(second) overlap in physical memory"
        case .noLoadableSegments: return "ELF file has no loadable (PT_LOAD) segments"
        case .entryOutsideRAM(let entry, let ram):
            return "entry point \(LoaderMath.hex(entry)) is outside \(LoaderMath.describeSize(ram)) of guest RAM"
        }
    }
}

/// One PT_LOAD program header, widened to 64 bits.
public struct ELFSegment: Equatable, Sendable {
    /// Position in the program header table (from 0).
    public var index: Int
    public var offset: UInt64
    public var virtualAddress: UInt64
    public var physicalAddress: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64

    /// One past the last byte in physical memory (parse checked it does not wrap).
    public var physicalEnd: UInt64 { physicalAddress &+ memorySize }
}

/// A parsed ELF executable: header facts and its PT_LOAD segments.
public struct ELFImage: Sendable {
    public enum Class: UInt8, Sendable {
        case elf32 = 1, elf64 = 2
        public var name: String { self == .elf32 ? "ELF32" : "ELF64" }
    }

    public static let magic: UInt32 = 0x464C_457F       // "\x7FELF"
    public static let typeExecutable: UInt16 = 2        // ET_EXEC
    public static let machine386: UInt16 = 3            // EM_386
    public static let machineX86_64: UInt16 = 62        // EM_X86_64
    static let ptLoad: UInt32 = 1
    static let pnXNum: UInt16 = 0xFFFF

    public var elfClass: Class
    public var type: UInt16
    public var machine: UInt16
    /// e_entry as written in the file (a virtual address).
    public var entry: UInt64
    /// PT_LOAD segments in program-header order, including empty ones.
    public var segments: [ELFSegment]

    /// Whether `bytes` starts with the ELF magic.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        ImageBytes(bytes).read(UInt32.self, at: 0) == magic
    }

    /// Parses and checks the file header and program headers: every PT_LOAD segment's
    /// file bytes lie inside the file, p_filesz ≤ p_memsz, and p_paddr + p_memsz does
    /// not wrap. Where the segments land is checked by `checkPlacement`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ELFError) -> ELFImage {
        let file = ImageBytes(bytes)
        guard let magicWord = file.read(UInt32.self, at: 0) else {
            throw .truncatedHeader(fileSize: file.count, needed: 52)
        }
        guard magicWord == magic else { throw .badMagic }
        guard let classByte = file.read(UInt8.self, at: 4) else { throw .truncatedHeader(fileSize: file.count, needed: 52) }
        guard let elfClass = Class(rawValue: classByte) else { throw .unsupportedClass(classByte) }
        let is64 = elfClass == .elf64
        let headerSize: UInt64 = is64 ? 64 : 52
        guard file.count >= headerSize else { throw .truncatedHeader(fileSize: file.count, needed: headerSize) }
        let data = file.read(UInt8.self, at: 5)!
        guard data == 1 else { throw .notLittleEndian(data) }
        let version = file.read(UInt8.self, at: 6)!
        guard version == 1 else { throw .unsupportedVersion(version) }

        // File header fields (the header is fully inside the file, so these reads succeed).
        let type = file.read(UInt16.self, at: 16)!
        let machine = file.read(UInt16.self, at: 18)!
        let entry: UInt64, phoff: UInt64, phentsize: UInt16, phnum: UInt16
        if is64 {
            entry = file.read(UInt64.self, at: 24)!
            phoff = file.read(UInt64.self, at: 32)!
            phentsize = file.read(UInt16.self, at: 54)!
            phnum = file.read(UInt16.self, at: 56)!
        } else {
            entry = UInt64(file.read(UInt32.self, at: 24)!)
            phoff = UInt64(file.read(UInt32.self, at: 28)!)
            phentsize = file.read(UInt16.self, at: 42)!
            phnum = file.read(UInt16.self, at: 44)!
        }

        // e_phnum = PN_XNUM means the real count is in section header 0's sh_info.
        guard phnum != pnXNum else { throw .extendedProgramHeaderCount }
        let minimumEntry: UInt16 = is64 ? 56 : 32
        if phnum > 0 && phentsize < minimumEntry {
            throw .programHeaderEntryTooSmall(found: phentsize, needed: minimumEntry)
        }
        // phnum * phentsize ≤ 0xFFFE * 0xFFFF: no overflow; phoff + that might.
        let tableSize = UInt64(phnum) * UInt64(phentsize)
        guard phnum == 0 || file.contains(offset: phoff, length: tableSize) else {
            throw .programHeaderTableOutsideFile(offset: phoff, count: phnum, entrySize: phentsize)
        }

        var segments: [ELFSegment] = []
        for index in 0..<Int(phnum) {
            let at = phoff + UInt64(index) * UInt64(phentsize)
            guard file.read(UInt32.self, at: at)! == ptLoad else { continue }
            let segment: ELFSegment
            if is64 {
                segment = ELFSegment(index: index,
                                     offset: file.read(UInt64.self, at: at + 8)!,
                                     virtualAddress: file.read(UInt64.self, at: at + 16)!,
                                     physicalAddress: file.read(UInt64.self, at: at + 24)!,
                                     fileSize: file.read(UInt64.self, at: at + 32)!,
                                     memorySize: file.read(UInt64.self, at: at + 40)!)
            } else {
                segment = ELFSegment(index: index,
                                     offset: UInt64(file.read(UInt32.self, at: at + 4)!),
                                     virtualAddress: UInt64(file.read(UInt32.self, at: at + 8)!),
                                     physicalAddress: UInt64(file.read(UInt32.self, at: at + 12)!),
                                     fileSize: UInt64(file.read(UInt32.self, at: at + 16)!),
                                     memorySize: UInt64(file.read(UInt32.self, at: at + 20)!))
            }
            guard segment.fileSize <= segment.memorySize else {
                throw .fileSizeExceedsMemorySize(index: index, fileSize: segment.fileSize,
                                                 memorySize: segment.memorySize)
            }
            // Also catches p_offset + p_filesz overflowing: contains() never wraps.
            guard file.contains(offset: segment.offset, length: segment.fileSize) else {
                throw .segmentPastEndOfFile(index: index)
            }
            guard LoaderMath.end(segment.physicalAddress, segment.memorySize) != nil else {
                throw .segmentAddressOverflow(index: index, physicalAddress: segment.physicalAddress,
                                              memorySize: segment.memorySize)
            }
            segments.append(segment)
        }
        guard segments.contains(where: { $0.memorySize > 0 }) else { throw .noLoadableSegments }
        return ELFImage(elfClass: elfClass, type: type, machine: machine, entry: entry, segments: segments)
    }

    /// The entry point as a physical address. A kernel linked for the higher half has
    /// e_entry in a segment's virtual range [p_vaddr, p_vaddr + p_memsz) while the
    /// segment is loaded at p_paddr: the CPU starts with paging off (or identity
    /// mapped), so it must jump to e_entry - p_vaddr + p_paddr. An entry in no
    /// segment is taken to be physical already.
    public var physicalEntry: UInt64 {
        for segment in segments where segment.memorySize > 0 {
            if entry >= segment.virtualAddress && entry - segment.virtualAddress < segment.memorySize {
                // entry - p_vaddr < p_memsz and p_paddr + p_memsz does not wrap.
                return segment.physicalAddress + (entry - segment.virtualAddress)
            }
        }
        return entry
    }

    /// The lowest and one-past-highest physical addresses the non-empty segments cover.
    public var physicalExtent: (start: UInt64, end: UInt64) {
        var low = UInt64.max, high: UInt64 = 0
        for segment in segments where segment.memorySize > 0 {
            low = min(low, segment.physicalAddress)
            high = max(high, segment.physicalEnd)
        }
        return (low, high)
    }

    /// Checks that every non-empty segment lies inside RAM (below `ramSize`) and that no
    /// two overlap. Sorting first keeps the overlap check O(n log n) for the up to
    /// 65,534 program headers a hostile file may declare.
    public func checkPlacement(ramSize: UInt64) throws(ELFError) {
        var loaded: [ELFSegment] = []
        for segment in segments where segment.memorySize > 0 {
            guard segment.physicalEnd <= ramSize else {
                throw .segmentOutsideRAM(index: segment.index, physicalAddress: segment.physicalAddress,
                                         memorySize: segment.memorySize, ramSize: ramSize)
            }
            loaded.append(segment)
        }
        loaded.sort { $0.physicalAddress < $1.physicalAddress }
        var i = 1
        while i < loaded.count {
            if loaded[i].physicalAddress < loaded[i - 1].physicalEnd {
                let a = loaded[i - 1].index, b = loaded[i].index
                throw .segmentsOverlap(first: min(a, b), second: max(a, b))
            }
            i += 1
        }
    }

    /// Copies every segment's p_filesz bytes from p_offset to p_paddr and zeroes the rest
    /// up to p_memsz. Call only after `checkPlacement` (it re-checks and returns false
    /// instead of trapping).
    public func copySegments(from bytes: UnsafeRawBufferPointer, into memory: GuestMemory) -> Bool {
        ELFImage.copy(segments.filter { $0.memorySize > 0 }, from: bytes, into: memory)
    }

    /// Copies `segments` (as a loader's plan kept them) from the file `bytes` into guest
    /// memory: p_filesz bytes from p_offset to p_paddr, zeros up to p_memsz. False as soon
    /// as one does not fit (in the file or in RAM): the commit steps name it in their error.
    public static func copy(_ segments: [ELFSegment], from bytes: UnsafeRawBufferPointer,
                            into memory: GuestMemory) -> Bool {
        let file = ImageBytes(bytes)
        for segment in segments where segment.memorySize > 0 {
            guard let source = file.slice(offset: segment.offset, length: segment.fileSize),
                  segment.fileSize <= segment.memorySize,
                  memory.contains(gpa: segment.physicalAddress, length: segment.memorySize),
                  memory.copyIn(source, gpa: segment.physicalAddress),
                  memory.fill(gpa: segment.physicalAddress + segment.fileSize,
                              length: segment.memorySize - segment.fileSize, with: 0) else { return false }
        }
        return true
    }
}
