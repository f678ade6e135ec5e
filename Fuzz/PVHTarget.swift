// libFuzzer target: PVHLoader.load (an ELF kernel with Xen's PHYS32_ENTRY note) with a
// command line and an initrd.
// Input: [RAM size class] [command-line length] [initrd length, 2 bytes, 0xFFFF = none]
//        [command line] [initrd] [image...].
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let memory = FuzzRAM.memory(input.byte())
    let commandLineLength = Int(input.byte())
    let initrdLength = input.integer(UInt16.self)
    let commandLine = fuzzString(input.take(commandLineLength))
    let initrd: UnsafeRawBufferPointer? = initrdLength == 0xFFFF ? nil : input.take(Int(initrdLength))
    let image = input.rest()
    _ = PVHLoader.hasEntryNote(image)
    guard let loaded = try? PVHLoader.load(image, commandLine: commandLine, initrd: initrd, into: memory) else { return }
    fuzzCheck(loaded.state.rip < memory.size, "PVH entry \(loaded.state.rip) outside RAM")
    fuzzCheck(loaded.plan.initrdAddress + loaded.plan.initrdSize <= memory.size, "PVH initrd outside RAM")
    if let initrd, initrd.count > 0 {
        fuzzCheck(ram(memory, at: loaded.plan.initrdAddress, holds: initrd), "the PVH initrd was overwritten")
        for segment in loaded.plan.segments {
            fuzzCheck(!overlap((loaded.plan.initrdAddress, loaded.plan.initrdAddress + loaded.plan.initrdSize),
                               (segment.physicalAddress, segment.physicalEnd)), "the PVH initrd overlaps a segment")
        }
    }
}

/// An ELF kernel with a PT_NOTE holding a Go note and Xen's PHYS32_ENTRY (type 18), like
/// Linux's vmlinux with CONFIG_PVH (PVHLoaderTests builds the same).
func pvhKernel(paddr: UInt64, elf32: Bool = false) -> TestImage {
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
    note(Array("Xen".utf8) + [0], 18, entry.bytes)
    let load = TestSegment(offset: 0x1000, vaddr: elf32 ? 0xC000_0000 + paddr : 0xFFFF_FFFF_8000_0000 + paddr,
                           paddr: paddr, filesz: 0x2000, memsz: 0x3000)
    let noteSegment = TestSegment(type: 4, offset: 0x800, vaddr: 0, paddr: 0, filesz: UInt64(notes.count),
                                  memsz: UInt64(notes.count))
    var image = elf32 ? ELFBuilder.elf32(entry: UInt32(0xC000_0000 + paddr), segments: [load, noteSegment])
                      : ELFBuilder.elf64(entry: 0xFFFF_FFFF_8000_0000 + paddr, segments: [load, noteSegment])
    image.put(bytes: notes.bytes, at: 0x800)
    image.put(bytes: TestImage.pattern(0x2000), at: 0x1000)
    return image
}

func seedImages() -> [(String, [UInt8])] {
    let commandLine = Array("console=ttyS0".utf8)
    let initrd = TestImage.pattern(0x300, seed: 4)
    return [("vmlinux-16m", seed([4, 0, 0xFF, 0xFF], pvhKernel(paddr: 0x100_0000).bytes)),
            ("vmlinux-1m-initrd", seed([3, UInt8(commandLine.count), 0x00, 0x03]
                                       + commandLine + initrd, pvhKernel(paddr: 0x10_0000).bytes)),
            ("elf32-1m", seed([2, 0, 0xFF, 0xFF], pvhKernel(paddr: 0x10_0000, elf32: true).bytes))]
}
