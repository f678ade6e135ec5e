// libFuzzer target: FlatGuestLoader.load in each start mode.
// Input: [RAM size class] [mode] [image...].
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let memory = FuzzRAM.memory(input.byte())
    let modes: [GuestMode] = [.long, .protected, .real]
    let mode = modes[Int(input.byte()) % modes.count]
    let image = input.rest()
    guard let state = try? FlatGuestLoader.load(image, mode: mode, into: memory) else { return }
    fuzzCheck(state.rip == FlatGuestLoader.loadAddress && state.rip < memory.size, "flat entry \(state.rip)")
    fuzzCheck(state.rbx == memory.size, "flat RBX is not the RAM size")
}

func seedImages() -> [(String, [UInt8])] {
    let hlt: [UInt8] = [0xF4]
    return [("long", seed([0, 0], hlt)), ("protected", seed([1, 1], TestImage.pattern(300))),
            ("real", seed([0, 2], hlt))]
}
