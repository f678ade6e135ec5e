// libFuzzer target: MultibootLoader.load with a command line and modules.
// Input: [RAM size class] [module count] [command-line length] [module lengths, 2 bytes each]
//        [command line] [modules...] [image...].
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let memory = FuzzRAM.memory(input.byte())
    let moduleCount = Int(input.byte() % 4)
    let commandLineLength = Int(input.byte())
    var moduleLengths: [Int] = []
    for _ in 0..<moduleCount { moduleLengths.append(Int(input.integer(UInt16.self))) }
    let commandLine = fuzzString(input.take(commandLineLength))
    var modules: [MultibootLoader.Module] = []
    for (index, length) in moduleLengths.enumerated() {
        modules.append(MultibootLoader.Module(image: input.take(length), string: "module" + String(index)))
    }
    let image = input.rest()
    guard let loaded = try? MultibootLoader.load(image, commandLine: commandLine, modules: modules, into: memory) else { return }
    fuzzCheck(loaded.entry < memory.size && loaded.state.rip == loaded.entry, "Multiboot entry \(loaded.entry) outside RAM")
    fuzzCheck(loaded.infoEnd <= memory.size && loaded.infoAddress < loaded.infoEnd, "Multiboot info outside RAM")
    fuzzCheck(loaded.modules.count == modules.count, "Multiboot lost a module")
    for (placed, module) in zip(loaded.modules, modules) {
        fuzzCheck(placed.end <= memory.size && placed.end - placed.start == UInt64(module.image.count),
                  "Multiboot module at \(placed.start)-\(placed.end) does not hold its \(module.image.count) bytes")
        fuzzCheck(ram(memory, at: placed.start, holds: module.image),
                  "Multiboot module at \(placed.start) was overwritten after it was placed")
    }
    // The info structure, the loader area and the modules never overlap; modules lie above the
    // kernel (the info structure may sit in a hole between its segments, which `Loaded` does not list).
    var ranges: [(UInt64, UInt64)] = [(loaded.infoAddress, loaded.infoEnd),
                                      (MultibootLoader.loaderAreaStart, MultibootLoader.loaderAreaEnd)]
    for placed in loaded.modules {
        fuzzCheck(!overlap((placed.start, placed.end), (loaded.kernelStart, loaded.kernelEnd)),
                  "Multiboot module at \(placed.start) overlaps the kernel \(loaded.kernelStart)-\(loaded.kernelEnd)")
        ranges.append((placed.start, placed.end))
    }
    for i in ranges.indices {
        for j in ranges.indices where j > i {
            fuzzCheck(!overlap(ranges[i], ranges[j]), "Multiboot ranges \(ranges[i]) and \(ranges[j]) overlap")
        }
    }
}

func seedImages() -> [(String, [UInt8])] {
    // ELF32 kernel with a header in its first segment.
    var elf32 = ELFBuilder.elf32(entry: 0x10_0000, segments: [
        TestSegment(offset: 0x1000, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x100, memsz: 0x1000)])
    MultibootBuilder.putHeader(in: &elf32, at: 0x1000, flags: 0x3)
    // Higher-half ELF32 (virtual entry translated through the segments).
    var higher = ELFBuilder.elf32(entry: 0xC010_0000, segments: [
        TestSegment(offset: 0x1000, vaddr: 0xC010_0000, paddr: 0x10_0000, filesz: 0x100, memsz: 0x100)])
    MultibootBuilder.putHeader(in: &higher, at: 0x1000, flags: 0x2)
    // a.out kludge: flag 16 with the address fields.
    var kludge = TestImage(size: 0x200)
    MultibootBuilder.putHeader(in: &kludge, at: 0, flags: 0x1_0003,
                               addresses: (header: 0x10_0000, load: 0x10_0000, loadEnd: 0x10_0200,
                                           bssEnd: 0x10_1000, entry: 0x10_0040))
    let commandLine = Array("console=ttyS0 root=/dev/sda".utf8)
    let module = TestImage.pattern(0x300, seed: 5)
    let oneModule: [UInt8] = [3, 1, UInt8(commandLine.count), 0x00, 0x03] + commandLine + module
    // A kernel in low memory whose module reaches just below 0x80000, where the info
    // structure would rather go: the loader must notice the module is there.
    var low = TestImage(size: 0x100)
    MultibootBuilder.putHeader(in: &low, at: 0, flags: 0x1_0000,
                               addresses: (header: 0x7D000, load: 0x7D000, loadEnd: 0x7D100,
                                           bssEnd: 0x7E000, entry: 0x7D040))
    let lowModule: [UInt8] = [1, 1, 0, 0x00, 0x20] + TestImage.pattern(0x2000, seed: 6)
    return [("elf32", seed([1, 0, 0], elf32.bytes)),
            ("higher-half", seed([3, 0, 0], higher.bytes)),
            ("aout-kludge-module", seed(oneModule, kludge.bytes)),
            ("low-kernel-module-below-info", seed(lowModule, low.bytes))]
}
