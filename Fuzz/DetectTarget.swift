// libFuzzer target: GuestImageKind.detect, then the loader it picks (the kernel's path
// for a guest module). Input: [RAM size class] [image...].
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let memory = FuzzRAM.memory(input.byte())
    let image = input.rest()
    switch GuestImageKind.detect(image) {
    case .linux: _ = try? LinuxLoader.load(image, commandLine: "console=ttyS0", into: memory)
    case .multiboot: _ = try? MultibootLoader.load(image, commandLine: "x", into: memory)
    case .pvh: _ = try? PVHLoader.load(image, commandLine: "x", into: memory)
    case .elf: _ = try? ELF64Loader.load(image, into: memory)
    case .flat: _ = try? FlatGuestLoader.load(image, mode: .long, into: memory)
    }
}

func seedImages() -> [(String, [UInt8])] {
    var multiboot = TestImage(size: 0x40)
    MultibootBuilder.putHeader(in: &multiboot, at: 0x20, flags: 0x1_0000,
                               addresses: (header: 0x10_0020, load: 0x10_0000, loadEnd: 0, bssEnd: 0, entry: 0x10_0000))
    let elf = ELFBuilder.elf64(entry: 0x10_0000, segments: [
        TestSegment(offset: 0x80, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x10, memsz: 0x10)])
    return [("linux", seed([3], BzImageSpec().build().bytes)), ("multiboot", seed([1], multiboot.bytes)),
            ("elf", seed([2], elf.bytes)), ("flat", seed([0], [0x90, 0xF4]))]
}
