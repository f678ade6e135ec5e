import X86

/// The x86 PVH direct boot (Xen's "x86/HVM direct boot ABI", docs/misc/pvh.pandoc, and
/// xen/include/public/arch-x86/hvm/start_info.h; Linux's CONFIG_PVH entry pvh_start_xen):
/// an uncompressed ELF kernel (Linux's `vmlinux`) whose note `Xen`/XEN_ELFNOTE_PHYS32_ENTRY
/// names a 32-bit entry point. The loader places each PT_LOAD segment at its physical
/// address and enters there in 32-bit protected mode with paging off, EBX = the physical
/// address of an `hvm_start_info` that gives the command line, the memory map and the initrd
/// (as module 0). No decompression, no real-mode setup: Linux boots straight into its kernel.
///
/// Done in two steps: `plan` parses and checks everything against the guest's RAM size and
/// writes nothing (pure, unit-tested); `commit` writes the plan into guest memory. Low memory:
///
///     0x0500  GDT: 0x10 flat 32-bit code, 0x18 flat data (BootGDT)
///     0x1000  hvm_start_info (56 bytes), 0x1040 module list (32 bytes), 0x1080 memory map
///     0x2000  the command line (NUL-terminated, at most 4095 bytes)
///     0x8000  top of the initial stack (the ABI leaves ESP undefined; Linux sets its own)
///     initrd  page-aligned at the top of RAM, above the kernel
///
/// Start state (the ABI's): CR0 = PE|ET|NE, CR4 = 0, EFER = 0, CS/DS/ES/SS flat 32-bit with
/// base 0, TR a busy 32-bit TSS of limit 0x67, RFLAGS = 0x2, EBX = start_info.
public enum PVHLoader {
    /// XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h).
    public static let phys32EntryNoteType: UInt32 = 18
    /// hvm_start_info.magic: XEN_HVM_START_MAGIC_VALUE.
    public static let startInfoMagic: UInt32 = 0x336E_C578
    public static let startInfoVersion: UInt32 = 1
    public static let gdtAddress: UInt64 = 0x500
    public static let startInfoAddress: UInt64 = 0x1000
    public static let moduleListAddress: UInt64 = 0x1040
    public static let memoryMapAddress: UInt64 = 0x1080
    public static let commandLineAddress: UInt64 = 0x2000
    public static let commandLineRoom: UInt64 = 0x1000
    public static let stackTop: UInt64 = 0x8000
    /// Nothing of the kernel may land below this: the boot structures live there.
    public static let bootAreaEnd: UInt64 = 0x8000

    /// Everything `commit` will write, decided and checked.
    public struct Plan: Equatable, Sendable {
        public var entry: UInt64
        public var segments: [ELFSegment]
        public var kernelEnd: UInt64
        public var initrdAddress: UInt64
        public var initrdSize: UInt64
        public var memoryMap: [MemoryMapEntry]
        public var commandLineLength: UInt64
    }

    public enum LoadError: Error, Equatable, Sendable {
        case emptyImage
        case elf(ELFError)
        case noEntryNote
        case badEntryNote(descriptorSize: Int)
        case entryOutsideKernel(entry: UInt64)
        case kernelOverlapsBootArea(segment: Int)
        case commandLineTooLong(length: UInt64, maximum: UInt64)
        case nulInCommandLine
        case initrdDoesNotFit(size: UInt64, kernelEnd: UInt64, ramSize: UInt64)
        case writeFailed(Structure)

        /// What the commit step writes (for the error that names the one that did not fit).
        public enum Structure: Equatable, Sendable {
            case kernelSegment, initrd, startInfo, moduleList, memoryMap, commandLine, gdt
            public var name: StaticString {
                switch self {
                case .kernelSegment: return "a kernel segment"
                case .initrd: return "the initrd"
                case .startInfo: return "hvm_start_info"
                case .moduleList: return "the module list"
                case .memoryMap: return "the memory map"
                case .commandLine: return "the command line"
                case .gdt: return "the boot GDT"
                }
            }
        }

        public var description: String {
            switch self {
            case .emptyImage: return "the kernel image is empty"
            case .elf(let error): return error.description
            case .noEntryNote: return "no Xen PHYS32_ENTRY ELF note: not a PVH kernel (Linux needs CONFIG_PVH=y)"
            case .badEntryNote(let size): return "the PHYS32_ENTRY note's descriptor is \(size) bytes (need 4 or 8)"
            case .entryOutsideKernel(let entry):
                return "the PVH entry point \(LoaderMath.hex(entry)) is not inside any loaded segment"
            case .kernelOverlapsBootArea(let index):
                return "ELF program header \(index) overlaps 0x0-0x7fff, where the boot structures go"
            case .commandLineTooLong(let length, let maximum):
                return "the command line is \(length) bytes, at most \(maximum) fit"
            case .nulInCommandLine: return "the kernel command line contains a NUL byte"
            case .initrdDoesNotFit(let size, let end, let ram):
                return "the initrd (\(size) bytes) does not fit between the kernel's end \(LoaderMath.hex(end)) and "
                    + "the end of \(LoaderMath.describeSize(ram)) of guest RAM"
            case .writeFailed(let what): return "could not write \(what.name) into guest memory"
            }
        }
    }

    /// Whether the image is an ELF file with the PVH entry note (what GuestImageKind asks).
    public static func hasEntryNote(_ image: UnsafeRawBufferPointer) -> Bool {
        ELFNotes.find(in: image, name: "Xen", type: phys32EntryNoteType) != nil
    }

    public static func plan(_ image: UnsafeRawBufferPointer, commandLine: String, initrdSize: UInt64,
                            ramSize: UInt64) throws(LoadError) -> Plan {
        guard image.count > 0 else { throw .emptyImage }
        let elf: ELFImage
        do throws(ELFError) {
            elf = try ELFImage.parse(image)
            guard elf.type == ELFImage.typeExecutable else { throw ELFError.wrongType(elf.type) }
            let wantedMachine = elf.elfClass == .elf64 ? ELFImage.machineX86_64 : ELFImage.machine386
            guard elf.machine == wantedMachine else { throw ELFError.wrongMachine(found: elf.machine, needed: wantedMachine) }
            try elf.checkPlacement(ramSize: ramSize)
        } catch {
            throw .elf(error)
        }
        guard let note = ELFNotes.find(in: image, name: "Xen", type: phys32EntryNoteType) else { throw .noEntryNote }
        let entry: UInt64
        switch note.count {
        case 4: entry = UInt64(note.loadUnaligned(as: UInt32.self).littleEndian)
        case 8: entry = note.loadUnaligned(as: UInt64.self).littleEndian
        default: throw .badEntryNote(descriptorSize: note.count)
        }
        let loaded = elf.segments.filter { $0.memorySize > 0 }
        guard loaded.contains(where: { entry >= $0.physicalAddress && entry < $0.physicalEnd }) else {
            throw .entryOutsideKernel(entry: entry)
        }
        if let low = loaded.first(where: { $0.physicalAddress < bootAreaEnd }) {
            throw .kernelOverlapsBootArea(segment: low.index)
        }
        let length = UInt64(commandLine.utf8.count)
        guard !commandLine.utf8.contains(0) else { throw .nulInCommandLine }
        guard length < commandLineRoom else { throw .commandLineTooLong(length: length, maximum: commandLineRoom - 1) }

        let kernelEnd = elf.physicalExtent.end
        var initrdAddress: UInt64 = 0
        if initrdSize > 0 {
            let lowest = LoaderMath.alignUp(kernelEnd, PageTable.pageSize) ?? .max
            guard initrdSize <= ramSize, LoaderMath.alignDown(ramSize - initrdSize, PageTable.pageSize) >= lowest else {
                throw .initrdDoesNotFit(size: initrdSize, kernelEnd: kernelEnd, ramSize: ramSize)
            }
            initrdAddress = LoaderMath.alignDown(ramSize - initrdSize, PageTable.pageSize)
        }
        // The PC's map: RAM below the EBDA, the legacy hole reserved, RAM from 1 MiB.
        let lowEnd = min(LinuxLoader.reservedLowStart, ramSize)
        var map = [MemoryMapEntry(base: 0, length: lowEnd, type: LinuxLoader.e820RAM)]
        if ramSize > LinuxLoader.defaultLoadAddress {
            map.append(MemoryMapEntry(base: lowEnd, length: LinuxLoader.defaultLoadAddress - lowEnd, type: LinuxLoader.e820Reserved))
            map.append(MemoryMapEntry(base: LinuxLoader.defaultLoadAddress, length: ramSize - LinuxLoader.defaultLoadAddress,
                                    type: LinuxLoader.e820RAM))
        }
        return Plan(entry: entry, segments: loaded, kernelEnd: kernelEnd, initrdAddress: initrdAddress,
                    initrdSize: initrdSize, memoryMap: map, commandLineLength: length)
    }

    /// Writes the plan: segments, initrd, start_info, module list, memory map, command line, GDT.
    public static func commit(_ plan: Plan, image: UnsafeRawBufferPointer, commandLine: String,
                              initrd: UnsafeRawBufferPointer?, rsdpAddress: UInt64 = 0,
                              into memory: GuestMemory) throws(LoadError) -> CPUStartState {
        let file = ImageBytes(image)
        for segment in plan.segments {
            guard let source = file.slice(offset: segment.offset, length: segment.fileSize),
                  memory.copyIn(source, gpa: segment.physicalAddress),
                  memory.fill(gpa: segment.physicalAddress + segment.fileSize,
                              length: segment.memorySize - segment.fileSize, with: 0) else {
                throw .writeFailed(.kernelSegment)
            }
        }
        if plan.initrdSize > 0 {
            guard let initrd, UInt64(initrd.count) == plan.initrdSize, memory.copyIn(initrd, gpa: plan.initrdAddress) else {
                throw .writeFailed(.initrd)
            }
        }
        // struct hvm_start_info (version 1): magic, version, flags, nr_modules, modlist_paddr,
        // cmdline_paddr, rsdp_paddr, memmap_paddr, memmap_entries, reserved.
        let si = startInfoAddress
        guard memory.fill(gpa: si, length: 0x1000, with: 0),
              memory.store(startInfoMagic, gpa: si),
              memory.store(startInfoVersion, gpa: si + 4),
              memory.store(UInt32(plan.initrdSize > 0 ? 1 : 0), gpa: si + 12),
              memory.store(plan.initrdSize > 0 ? moduleListAddress : 0, gpa: si + 16),
              memory.store(commandLineAddress, gpa: si + 24),
              memory.store(rsdpAddress, gpa: si + 32),                     // ACPI RSDP, 0: none
              memory.store(memoryMapAddress, gpa: si + 40),
              memory.store(UInt32(plan.memoryMap.count), gpa: si + 48) else {
            throw .writeFailed(.startInfo)
        }
        // struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved.
        if plan.initrdSize > 0 {
            guard memory.store(plan.initrdAddress, gpa: moduleListAddress),
                  memory.store(plan.initrdSize, gpa: moduleListAddress + 8) else { throw .writeFailed(.moduleList) }
        }
        // struct hvm_memmap_table_entry: addr, size, type, reserved.
        for (index, region) in plan.memoryMap.enumerated() {
            let entry = memoryMapAddress + UInt64(index) * 24
            guard memory.store(region.base, gpa: entry), memory.store(region.length, gpa: entry + 8),
                  memory.store(region.type, gpa: entry + 16) else { throw .writeFailed(.memoryMap) }
        }
        var gpa = commandLineAddress
        for byte in commandLine.utf8 {
            guard memory.store(byte, gpa: gpa) else { throw .writeFailed(.commandLine) }
            gpa += 1
        }
        guard memory.store(UInt8(0), gpa: gpa), BootGDT.write(at: gdtAddress, code64: false, into: memory) else {
            throw .writeFailed(.gdt)
        }
        var state = BootCPU.protectedMode(entry: plan.entry, stack: stackTop, gdtBase: gdtAddress)
        state.rbx = startInfoAddress
        return state
    }

    public static func load(_ image: UnsafeRawBufferPointer, commandLine: String = "",
                            initrd: UnsafeRawBufferPointer? = nil, rsdpAddress: UInt64 = 0, reserved: [AddressRange] = [],
                            into memory: GuestMemory) throws(LoadError) -> (plan: Plan, state: CPUStartState) {
        var plan = try plan(image, commandLine: commandLine, initrdSize: UInt64(initrd?.count ?? 0), ramSize: memory.size)
        // Device windows the platform asks to keep out of the kernel's hands (the PCI ECAM window).
        for range in reserved {
            plan.memoryMap.append(MemoryMapEntry(base: range.base, length: range.size, type: LinuxLoader.e820Reserved))
        }
        return (plan, try commit(plan, image: image, commandLine: commandLine, initrd: initrd, rsdpAddress: rsdpAddress,
                                 into: memory))
    }
}
