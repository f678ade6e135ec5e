// What the processor says about itself through CPUID (SDM Vol. 2A, CPUID).

struct CPUFeatures {
    var vendor: String
    var brand: String
    var family: UInt32, model: UInt32, stepping: UInt32
    var leaf1ECX: UInt32, leaf1EDX: UInt32
    var extendedEDX: UInt32

    var hasVMX: Bool { leaf1ECX & (1 << 5) != 0 }          // CPUID.1:ECX.VMX[bit 5]
    var hasXSAVE: Bool { leaf1ECX & (1 << 26) != 0 }
    var runsUnderHypervisor: Bool { leaf1ECX & (1 << 31) != 0 }
    var hasNX: Bool { extendedEDX & (1 << 20) != 0 }
    var has1GiBPages: Bool { extendedEDX & (1 << 26) != 0 }

    static func read() -> CPUFeatures {
        let leaf0 = cpuid(0, 0)
        let vendor = registerString([leaf0.ebx, leaf0.edx, leaf0.ecx])
        let leaf1 = cpuid(1, 0)
        var family = (leaf1.eax >> 8) & 0xF, model = (leaf1.eax >> 4) & 0xF
        if family == 0xF { family += (leaf1.eax >> 20) & 0xFF }
        if family == 0x6 || family >= 0xF { model |= ((leaf1.eax >> 16) & 0xF) << 4 }
        let maxExtended = cpuid(0x8000_0000, 0).eax
        var brand = ""
        if maxExtended >= 0x8000_0004 {
            var words: [UInt32] = []
            for leaf in UInt32(0x8000_0002)...0x8000_0004 {
                let r = cpuid(leaf, 0)
                words += [r.eax, r.ebx, r.ecx, r.edx]
            }
            brand = registerString(words)
        }
        let extended = maxExtended >= 0x8000_0001 ? cpuid(0x8000_0001, 0).edx : 0
        return CPUFeatures(vendor: vendor, brand: brand, family: family, model: model, stepping: leaf1.eax & 0xF,
                           leaf1ECX: leaf1.ecx, leaf1EDX: leaf1.edx, extendedEDX: extended)
    }

    /// Registers as little-endian ASCII, trimmed of NULs and surrounding spaces.
    private static func registerString(_ words: [UInt32]) -> String {
        var bytes: [UInt8] = []
        for w in words { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(i)))) } }
        while let last = bytes.last, last == 0 || last == 32 { bytes.removeLast() }
        while let first = bytes.first, first == 32 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
