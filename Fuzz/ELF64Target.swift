// libFuzzer target: ELF64Loader.load on arbitrary bytes.
// Input: [RAM size class] [image...].
import Machine

func fuzzOne(_ input: FuzzInput) {
    var input = input
    let memory = FuzzRAM.memory(input.byte())
    let image = input.rest()
    guard let state = try? ELF64Loader.load(image, into: memory) else { return }
    fuzzCheck(state.rip < memory.size, "ELF64 entry \(state.rip) outside \(memory.size) bytes of RAM")
    fuzzCheck(state.rsp <= memory.size, "ELF64 stack \(state.rsp) outside RAM")
    // Every PT_LOAD segment holds its file bytes: the boot block (GDT, page tables, stack at
    // state.gdtrBase - 0x500) went elsewhere.
    guard let elf = try? ELFImage.parse(image) else { fuzzCheck(false, "loaded an ELF that does not parse"); return }
    for segment in elf.segments where segment.fileSize > 0 {
        let bytes = UnsafeRawBufferPointer(rebasing: image[Int(segment.offset)..<Int(segment.offset + segment.fileSize)])
        fuzzCheck(ram(memory, at: segment.physicalAddress, holds: bytes),
                  "ELF64 segment \(segment.index) at \(segment.physicalAddress) was overwritten by the boot block")
    }
}

func seedImages() -> [(String, [UInt8])] {
    let code = TestImage.pattern(0x200, seed: 3)
    var oneSegment = ELFBuilder.elf64(entry: 0x10_0000, segments: [
        TestSegment(offset: 0x1000, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x200, memsz: 0x2000)])
    oneSegment.put(bytes: code, at: 0x1000)
    var higherHalf = ELFBuilder.elf64(entry: 0xFFFF_FFFF_8010_0010, segments: [
        TestSegment(offset: 0x1000, vaddr: 0xFFFF_FFFF_8010_0000, paddr: 0x10_0000, filesz: 0x200, memsz: 0x200),
        TestSegment(offset: 0x1200, vaddr: 0xFFFF_FFFF_8020_0000, paddr: 0x20_0000, filesz: 0x100, memsz: 0x4000)])
    higherHalf.put(bytes: code, at: 0x1000)
    higherHalf.put(bytes: code, at: 0x1200)
    var low = ELFBuilder.elf64(entry: 0x1000, segments: [
        TestSegment(offset: 0x100, vaddr: 0x1000, paddr: 0x1000, filesz: 0x80, memsz: 0x80)])
    low.put(bytes: Array(code.prefix(0x80)), at: 0x100)
    return [("one-segment", seed([3], oneSegment.bytes)),
            ("higher-half", seed([3], higherHalf.bytes)),
            ("low-boot-block", seed([1], low.bytes))]
}
