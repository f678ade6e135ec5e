import Machine

// Synthetic boot images for the loader tests, built byte by byte.

/// A growable little-endian byte image.
struct TestImage {
    var bytes: [UInt8]

    init(size: Int = 0, fill: UInt8 = 0) { bytes = Array(repeating: fill, count: size) }

    var count: Int { bytes.count }

    mutating func ensure(_ count: Int) {
        if bytes.count < count { bytes += Array(repeating: 0, count: count - bytes.count) }
    }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let size = MemoryLayout<T>.size
        ensure(offset + size)
        for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    mutating func put(bytes new: [UInt8], at offset: Int) {
        ensure(offset + new.count)
        for (i, byte) in new.enumerated() { bytes[offset + i] = byte }
    }

    /// `count` bytes of a recognisable pattern starting with `seed`.
    static func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) | 1 }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }
}

/// A program header for the ELF builders.
struct TestSegment {
    var type: UInt32 = 1        // PT_LOAD
    var offset: UInt64
    var vaddr: UInt64
    var paddr: UInt64
    var filesz: UInt64
    var memsz: UInt64
}

enum ELFBuilder {
    /// An ELF64 header at 0 and program headers at `phoff`.
    static func elf64(entry: UInt64, segments: [TestSegment], type: UInt16 = 2, machine: UInt16 = 62,
                      phoff: UInt64 = 64, phentsize: UInt16 = 56, phnum: UInt16? = nil) -> TestImage {
        var image = TestImage(size: 64)
        image.put(bytes: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0], at: 0)
        image.put(type, at: 16)
        image.put(machine, at: 18)
        image.put(UInt32(1), at: 20)
        image.put(entry, at: 24)
        image.put(phoff, at: 32)
        image.put(UInt16(64), at: 52)
        image.put(phentsize, at: 54)
        image.put(phnum ?? UInt16(segments.count), at: 56)
        for (i, s) in segments.enumerated() {
            let at = Int(phoff) + i * Int(phentsize)
            image.put(s.type, at: at)
            image.put(UInt32(5), at: at + 4)          // p_flags R+X
            image.put(s.offset, at: at + 8)
            image.put(s.vaddr, at: at + 16)
            image.put(s.paddr, at: at + 24)
            image.put(s.filesz, at: at + 32)
            image.put(s.memsz, at: at + 40)
            image.put(UInt64(0x1000), at: at + 48)
        }
        return image
    }

    /// An ELF32 header at 0 and program headers at `phoff`.
    static func elf32(entry: UInt32, segments: [TestSegment], type: UInt16 = 2, machine: UInt16 = 3,
                      phoff: UInt32 = 52) -> TestImage {
        var image = TestImage(size: 52)
        image.put(bytes: [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0], at: 0)
        image.put(type, at: 16)
        image.put(machine, at: 18)
        image.put(UInt32(1), at: 20)
        image.put(entry, at: 24)
        image.put(phoff, at: 28)
        image.put(UInt16(52), at: 40)
        image.put(UInt16(32), at: 42)
        image.put(UInt16(segments.count), at: 44)
        for (i, s) in segments.enumerated() {
            let at = Int(phoff) + i * 32
            image.put(s.type, at: at)
            image.put(UInt32(truncatingIfNeeded: s.offset), at: at + 4)
            image.put(UInt32(truncatingIfNeeded: s.vaddr), at: at + 8)
            image.put(UInt32(truncatingIfNeeded: s.paddr), at: at + 12)
            image.put(UInt32(truncatingIfNeeded: s.filesz), at: at + 16)
            image.put(UInt32(truncatingIfNeeded: s.memsz), at: at + 20)
            image.put(UInt32(7), at: at + 24)
            image.put(UInt32(0x1000), at: at + 28)
        }
        return image
    }
}

enum MultibootBuilder {
    /// Writes a Multiboot header at `offset`: magic, flags, checksum (+ `checksumError`),
    /// and for flag 16 the five address fields.
    static func putHeader(in image: inout TestImage, at offset: Int, flags: UInt32,
                          addresses: (header: UInt32, load: UInt32, loadEnd: UInt32, bssEnd: UInt32, entry: UInt32)? = nil,
                          checksumError: UInt32 = 0) {
        image.put(UInt32(0x1BAD_B002), at: offset)
        image.put(flags, at: offset + 4)
        image.put(UInt32(0) &- 0x1BAD_B002 &- flags &+ checksumError, at: offset + 8)
        if let a = addresses {
            image.put(a.header, at: offset + 12)
            image.put(a.load, at: offset + 16)
            image.put(a.loadEnd, at: offset + 20)
            image.put(a.bssEnd, at: offset + 24)
            image.put(a.entry, at: offset + 28)
        }
    }
}

/// Parameters of a synthetic bzImage.
struct BzImageSpec {
    var version: UInt16 = 0x020F
    var setupSects: UInt8 = 4
    var bootFlag: UInt16 = 0xAA55
    var jumpOffset: UInt8 = 0x66            // header end = 0x202 + this = 0x268
    var loadflags: UInt8 = 0x01             // LOADED_HIGH
    var code32Start: UInt32 = 0x10_0000
    var initrdAddrMax: UInt32 = 0x37FF_FFFF
    var kernelAlignment: UInt32 = 0x20_0000
    var relocatable: UInt8 = 1
    var xloadflags: UInt16 = 0x1            // XLF_KERNEL_64
    var cmdlineSize: UInt32 = 2048
    var prefAddress: UInt64 = 0x100_0000
    var initSize: UInt32 = 0x40_0000
    var kernelBytes: [UInt8] = TestImage.pattern(0x3000, seed: 9)

    func build() -> TestImage {
        let sects = setupSects == 0 ? 4 : Int(setupSects)
        var image = TestImage(size: (sects + 1) * 512)
        image.put(setupSects, at: 0x1F1)
        image.put(bootFlag, at: 0x1FE)
        image.put(bytes: [0xEB, jumpOffset], at: 0x200)
        image.put(bytes: Array("HdrS".utf8), at: 0x202)
        image.put(version, at: 0x206)
        image.put(UInt16(0x1234), at: 0x20E)     // kernel_version: must come through unchanged
        image.put(loadflags, at: 0x211)
        image.put(code32Start, at: 0x214)
        image.put(initrdAddrMax, at: 0x22C)
        image.put(kernelAlignment, at: 0x230)
        image.put(relocatable, at: 0x234)
        image.put(UInt8(21), at: 0x235)          // min_alignment
        image.put(xloadflags, at: 0x236)
        image.put(cmdlineSize, at: 0x238)
        image.put(prefAddress, at: 0x258)
        image.put(initSize, at: 0x260)
        image.put(UInt32(0x5A5A_5A5A), at: 0x264) // handover_offset
        image.put(bytes: kernelBytes, at: (sects + 1) * 512)
        return image
    }
}

extension Result {
    /// The error, or nil on success.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension TestImage {
    func loadELF64(into ram: TestRAM) -> Result<CPUStartState, ELF64Loader.LoadError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(ELF64Loader.LoadError) in try ELF64Loader.load(buffer, into: ram.memory) }
        }
    }

    func loadMultiboot(into ram: TestRAM, commandLine: String = "", modules: [[UInt8]] = [],
                       strings: [String] = []) -> Result<MultibootLoader.Loaded, MultibootLoader.LoadError> {
        // Module buffers must outlive the call: copy them into one allocation.
        let total = modules.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 16)
        defer { storage.deallocate() }
        var list: [MultibootLoader.Module] = []
        var at = 0
        for (index, module) in modules.enumerated() {
            for (i, byte) in module.enumerated() { storage[at + i] = byte }
            let view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[at..<(at + module.count)])
            list.append(MultibootLoader.Module(image: view, string: index < strings.count ? strings[index] : ""))
            at += module.count
        }
        return bytes.withUnsafeBytes { buffer in
            Result { () throws(MultibootLoader.LoadError) in
                try MultibootLoader.load(buffer, commandLine: commandLine, modules: list, into: ram.memory)
            }
        }
    }

    func loadLinux(into ram: TestRAM, commandLine: String = "",
                   initrd: [UInt8]? = nil) -> Result<LinuxLoader.Loaded, LinuxLoader.LoadError> {
        bytes.withUnsafeBytes { buffer in
            if let initrd {
                return initrd.withUnsafeBytes { initrdBuffer in
                    Result { () throws(LinuxLoader.LoadError) in
                        try LinuxLoader.load(buffer, commandLine: commandLine, initrd: initrdBuffer, into: ram.memory)
                    }
                }
            }
            return Result { () throws(LinuxLoader.LoadError) in
                try LinuxLoader.load(buffer, commandLine: commandLine, into: ram.memory)
            }
        }
    }
}

extension TestRAM {
    /// Fills RAM with `byte` (so tests can see what a loader zeroed).
    func scribble(_ byte: UInt8 = 0xCC) {
        pointer.initializeMemory(as: UInt8.self, repeating: byte, count: Int(memory.size))
    }

    func bytes(at gpa: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { pointer.load(fromByteOffset: Int(gpa) + $0, as: UInt8.self) }
    }

    func u8(_ gpa: UInt64) -> UInt8 { memory.load(UInt8.self, gpa: gpa)! }
    func u16(_ gpa: UInt64) -> UInt16 { memory.load(UInt16.self, gpa: gpa)! }
    func u32(_ gpa: UInt64) -> UInt32 { memory.load(UInt32.self, gpa: gpa)! }
    func u64(_ gpa: UInt64) -> UInt64 { memory.load(UInt64.self, gpa: gpa)! }

    /// The NUL-terminated string at `gpa`.
    func string(at gpa: UInt64) -> String {
        var out: [UInt8] = []
        var at = gpa
        while let byte = memory.load(UInt8.self, gpa: at), byte != 0 { out.append(byte); at += 1 }
        return String(decoding: out, as: UTF8.self)
    }
}
