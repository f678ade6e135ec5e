// libFuzzer target: LinuxLoader.load (bzImage) with a command line and an initrd.
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
    guard let loaded = try? LinuxLoader.load(image, commandLine: commandLine, initrd: initrd, into: memory) else { return }
    fuzzCheck(loaded.state.rip < memory.size, "bzImage entry \(loaded.state.rip) outside RAM")
    if let initrd {
        fuzzCheck(loaded.initrdSize == UInt64(initrd.count) && ram(memory, at: loaded.initrdAddress, holds: initrd),
                  "the initrd at \(loaded.initrdAddress) does not hold its \(initrd.count) bytes")
        let initrdRange = (loaded.initrdAddress, loaded.initrdAddress + loaded.initrdSize)
        fuzzCheck(!overlap(initrdRange, (loaded.runAddress, loaded.runAddress + loaded.initSize)),
                  "the initrd overlaps the kernel's run area")
        fuzzCheck(!overlap(initrdRange, (loaded.loadAddress, loaded.loadAddress + loaded.kernelSize)),
                  "the initrd overlaps the loaded kernel")
        let tables = loaded.identityMappedGibibytes > 0
            ? LinuxLoader.pml4Address + IdentityPageTables.size(gibibytes: loaded.identityMappedGibibytes)
            : LinuxLoader.commandLineAddress + LinuxLoader.commandLineRoom
        fuzzCheck(!overlap(initrdRange, (0, tables)), "the initrd overlaps boot_params, the command line or the page tables")
    }
    // The protected-mode kernel is the file's bytes after the setup sectors.
    let setupSectors = image.count > 0x1F1 && image[0x1F1] != 0 ? Int(image[0x1F1]) : 4
    let kernelOffset = (setupSectors + 1) * 512
    if kernelOffset + Int(loaded.kernelSize) <= image.count {
        let kernel = UnsafeRawBufferPointer(rebasing: image[kernelOffset..<(kernelOffset + Int(loaded.kernelSize))])
        fuzzCheck(ram(memory, at: loaded.loadAddress, holds: kernel), "the kernel at \(loaded.loadAddress) was overwritten")
    }
}

func seedImages() -> [(String, [UInt8])] {
    let plain = BzImageSpec().build()
    var old = BzImageSpec()
    old.version = 0x0206
    old.xloadflags = 0
    let commandLine = Array("console=ttyS0 panic=-1".utf8)
    let initrd = TestImage.pattern(0x400, seed: 7)
    return [("bzimage", seed([3, 0, 0xFF, 0xFF], plain.bytes)),
            ("bzimage-2.06-32bit", seed([3, 0, 0xFF, 0xFF], old.build().bytes)),
            ("bzimage-initrd", seed([4, UInt8(commandLine.count), 0x00, 0x04] + commandLine + initrd, plain.bytes))]
}
