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

    /// Everything `commit` will write, decided and checked.
    public struct Plan: Equatable, Sendable {
        /// The PT_LOAD segments with a non-zero p_memsz, in program header order.
        public var segments: [ELFSegment]
        /// e_entry translated to its physical address.
        public var entry: UInt64
        /// B: where the GDT, page tables and stack go.
        public var bootBlockBase: UInt64
        public var identityMappedGibibytes: Int
        /// RBX at entry: the RAM size.
        public var ramSize: UInt64

        public var gdtAddress: UInt64 { bootBlockBase + ELF64Loader.gdtOffset }
        public var pml4Address: UInt64 { bootBlockBase + ELF64Loader.pml4Offset }
        public var stackTop: UInt64 { bootBlockBase + ELF64Loader.bootBlockSize }
    }

    public enum LoadError: Error, Equatable, Sendable {
        case emptyImage
        case elf(ELFError)
        case noRoomForBootBlock(segmentsEnd: UInt64, ramSize: UInt64)
        case writeFailed(Structure)

        /// What the commit step writes (for the error that names the one that did not fit).
        public enum Structure: Equatable, Sendable {
            case kernelSegment, gdt, pageTables
            public var name: StaticString {
                switch self {
                case .kernelSegment: return "a kernel segment"
                case .gdt: return "the boot GDT"
                case .pageTables: return "the identity-map page tables"
                }
            }
        }

        public var description: String {
            switch self {
            case .emptyImage: return "the kernel image is empty"
            case .elf(let error): return error.description
            case .noRoomForBootBlock(let end, let ram):
                return "no room for the GDT, page tables and stack (32 KiB): the segments cover "
                    + "0x500–0x7fff and nothing is free between their end \(LoaderMath.hex(end)) and the end of "
                    + "\(LoaderMath.describeSize(ram)) of guest RAM below 4 GiB"
            case .writeFailed(let what): return "could not write \(what.name) into guest memory"
            }
        }
    }

    /// Parses and checks the image against the RAM size and places the boot block; writes nothing.
    public static func plan(_ image: UnsafeRawBufferPointer, ramSize: UInt64) throws(LoadError) -> Plan {
        guard image.count > 0 else { throw .emptyImage }
        let elf: ELFImage
        do throws(ELFError) {
            elf = try ELFImage.parse(image)
            guard elf.elfClass == .elf64 else { throw ELFError.wrongClass(found: elf.elfClass, needed: .elf64) }
            guard elf.type == ELFImage.typeExecutable else { throw ELFError.wrongType(elf.type) }
            guard elf.machine == ELFImage.machineX86_64 else {
                throw ELFError.wrongMachine(found: elf.machine, needed: ELFImage.machineX86_64)
            }
            try elf.checkPlacement(ramSize: ramSize)
            guard elf.physicalEntry < ramSize else {
                throw ELFError.entryOutsideRAM(entry: elf.physicalEntry, ramSize: ramSize)
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
                  blockEnd <= ramSize, blockEnd <= UInt64(mappedGibibytes) << 30 else {
                throw .noRoomForBootBlock(segmentsEnd: extent.end, ramSize: ramSize)
            }
            base = above
        }
        // Also guard the small-RAM case: the block itself must be in RAM.
        guard let blockEnd = LoaderMath.end(base, bootBlockSize), blockEnd <= ramSize else {
            throw .noRoomForBootBlock(segmentsEnd: extent.end, ramSize: ramSize)
        }
        return Plan(segments: elf.segments.filter { $0.memorySize > 0 }, entry: elf.physicalEntry,
                    bootBlockBase: base, identityMappedGibibytes: mappedGibibytes, ramSize: ramSize)
    }

    /// Writes the plan (segments, GDT, page tables) and returns the start state.
    public static func commit(_ plan: Plan, image: UnsafeRawBufferPointer,
                              into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        guard ELFImage.copy(plan.segments, from: image, into: memory) else { throw .writeFailed(.kernelSegment) }
        guard BootGDT.write(at: plan.gdtAddress, code64: true, into: memory) else { throw .writeFailed(.gdt) }
        guard IdentityPageTables.write(pml4: plan.pml4Address, gibibytes: plan.identityMappedGibibytes,
                                       into: memory) else {
            throw .writeFailed(.pageTables)
        }
        var state = BootCPU.longMode(entry: plan.entry, stack: plan.stackTop, pml4: plan.pml4Address,
                                     gdtBase: plan.gdtAddress)
        state.rbx = plan.ramSize
        return state
    }

    public static func load(_ image: UnsafeRawBufferPointer, into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        let plan = try plan(image, ramSize: memory.size)
        return try commit(plan, image: image, into: memory)
    }
}
