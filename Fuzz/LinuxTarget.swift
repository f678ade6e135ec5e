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
