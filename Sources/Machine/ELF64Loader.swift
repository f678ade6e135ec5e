import X86

/// Loads a static ELF64 x86-64 executable (ET_EXEC, EM_X86_64) and starts it in 64-bit
/// long mode with paging on an identity map of 0–4 GiB.
///
/// Every PT_LOAD segment goes to its physical address p_paddr (p_filesz bytes from the
/// file, zeros up to p_memsz); the entry point is e_entry translated to its physical
/// address (see `ELFImage.physicalEntry`), since the identity map has no higher half.
///
/// The loader's own structures form an 32 KiB "boot block" at base B, laid out like
/// FlatGuestLoader's low memory:
///
///     B + 0x0500  GDT: 0x00 null, 0x08 null, 0x10 64-bit code (CS), 0x18 data
///     B + 0x1000  PML4, B + 0x2000 PDPT, B + 0x3000–0x6FFF four page directories
///     B + 0x7000  stack, RSP = B + 0x8000 at entry
///
/// B is 0 unless a segment overlaps [0x500, 0x8000); then it is the first page above the
/// highest segment. When that does not fit in RAM either (or would be above 4 GiB,
/// where the identity map would not reach the stack) the load is refused.
///
/// Start state: CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = LME|LMA|NXE, RFLAGS = 0x2
/// (interrupts off), RBX = RAM size in bytes (as for flat guests), other GPRs 0.
public enum ELF64Loader {
    public static let codeSelector: UInt16 = BootGDT.codeSelector
    public static let dataSelector: UInt16 = BootGDT.dataSelector
    /// Offsets inside the boot block.
    public static let gdtOffset: UInt64 = 0x500
    public static let pml4Offset: UInt64 = 0x1000
    public static let bootBlockSize: UInt64 = 0x8000
    static let mappedGibibytes = 4

    public enum LoadError: Error, Equatable, Sendable {
        case emptyImage
        case elf(ELFError)
        case noRoomForBootBlock(segmentsEnd: UInt64, ramSize: UInt64)

        public var description: String {
            switch self {
            case .emptyImage: return "the kernel image is empty"
            case .elf(let error): return error.description
            case .noRoomForBootBlock(let end, let ram):
                return "no room for the GDT, page tables and stack (32 KiB): the segments cover "
                    + "0x500–0x7fff and nothing is free between their end \(LoaderMath.hex(end)) and the end of "
                    + "\(LoaderMath.describeSize(ram)) of guest RAM below 4 GiB"
            }
        }
    }

    public static func load(_ image: UnsafeRawBufferPointer, into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        guard image.count > 0 else { throw .emptyImage }
        let elf: ELFImage
        do throws(ELFError) {
            elf = try ELFImage.parse(image)
            guard elf.elfClass == .elf64 else { throw ELFError.wrongClass(found: elf.elfClass, needed: .elf64) }
            guard elf.type == ELFImage.typeExecutable else { throw ELFError.wrongType(elf.type) }
            guard elf.machine == ELFImage.machineX86_64 else {
                throw ELFError.wrongMachine(found: elf.machine, needed: ELFImage.machineX86_64)
            }
            try elf.checkPlacement(ramSize: memory.size)
            guard elf.physicalEntry < memory.size else {
                throw ELFError.entryOutsideRAM(entry: elf.physicalEntry, ramSize: memory.size)
            }
        } catch {
            throw .elf(error)
        }

        // Where the boot block goes: low memory when the segments leave it free.
        var base: UInt64 = 0
        let extent = elf.physicalExtent
        let lowFree = !elf.segments.contains {
            LoaderMath.overlaps($0.physicalAddress, $0.physicalEnd, gdtOffset, bootBlockSize)
        }
        if !lowFree {
            guard let above = LoaderMath.alignUp(extent.end, PageTable.pageSize),
                  let blockEnd = LoaderMath.end(above, bootBlockSize),
                  blockEnd <= memory.size, blockEnd <= UInt64(mappedGibibytes) << 30 else {
                throw .noRoomForBootBlock(segmentsEnd: extent.end, ramSize: memory.size)
            }
            base = above
        }
        // Also guard the small-RAM case: the block itself must be in RAM.
        guard memory.contains(gpa: base, length: bootBlockSize) else {
            throw .noRoomForBootBlock(segmentsEnd: extent.end, ramSize: memory.size)
        }

        _ = elf.copySegments(from: image, into: memory)
        _ = BootGDT.write(at: base + gdtOffset, code64: true, into: memory)
        _ = IdentityPageTables.write(pml4: base + pml4Offset, gibibytes: mappedGibibytes, into: memory)
        var state = BootCPU.longMode(entry: elf.physicalEntry, stack: base + bootBlockSize,
                                     pml4: base + pml4Offset, gdtBase: base + gdtOffset)
        state.rbx = memory.size
        return state
    }
}
