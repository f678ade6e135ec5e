// CPUID leaves and feature bits (SDM Vol. 2A, CPUID instruction reference, Tables 3-8 … 3-11).

/// The four output registers of one CPUID query.
public struct CPUIDResult: Hashable, Sendable {
    public var eax: UInt32
    public var ebx: UInt32
    public var ecx: UInt32
    public var edx: UInt32
    public init(eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        self.eax = eax; self.ebx = ebx; self.ecx = ecx; self.edx = edx
    }
}

/// CPUID leaf numbers and decoding helpers.
public enum CPUID {
    /// Leaf 0: max basic leaf in EAX, vendor string in EBX, EDX, ECX.
    public static let vendorLeaf: UInt32 = 0x0
    /// Leaf 1: family/model/stepping in EAX, features in ECX/EDX.
    public static let featureLeaf: UInt32 = 0x1
    public static let cacheTLBLeaf: UInt32 = 0x2
    public static let deterministicCacheLeaf: UInt32 = 0x4
    public static let monitorMwaitLeaf: UInt32 = 0x5
    public static let thermalPowerLeaf: UInt32 = 0x6
    /// Leaf 7 (subleaf 0): structured extended features in EBX/ECX/EDX.
    public static let structuredExtendedFeatureLeaf: UInt32 = 0x7
    public static let architecturalPerfMonLeaf: UInt32 = 0xA
    public static let extendedTopologyLeaf: UInt32 = 0xB
    /// Leaf 0xD: XSAVE state components.
    public static let xsaveLeaf: UInt32 = 0xD
    public static let tscFrequencyLeaf: UInt32 = 0x15
    /// Hypervisor leaf range 0x40000000–0x4FFFFFFF; leaf 0x40000000 returns max leaf and a 12-byte signature in EBX, ECX, EDX.
    public static let hypervisorLeafBase: UInt32 = 0x4000_0000
    public static let hypervisorLeafLast: UInt32 = 0x4FFF_FFFF
    public static let extendedMaxLeaf: UInt32 = 0x8000_0000
    /// Extended features: ECX (LAHF, LZCNT …) and EDX (SYSCALL, NX, Page1GB, RDTSCP, LM).
    public static let extendedFeatureLeaf: UInt32 = 0x8000_0001
    public static let brandStringLeaf0: UInt32 = 0x8000_0002
    public static let brandStringLeaf1: UInt32 = 0x8000_0003
    public static let brandStringLeaf2: UInt32 = 0x8000_0004
    public static let invariantTSCLeaf: UInt32 = 0x8000_0007
    /// Physical (EAX 7:0) and linear (EAX 15:8) address widths.
    public static let addressSizesLeaf: UInt32 = 0x8000_0008

    /// The 12-character vendor string of leaf 0 (EBX, EDX, ECX order), e.g. "GenuineIntel".
    public static func vendorString(ebx: UInt32, edx: UInt32, ecx: UInt32) -> String {
        signatureString(ebx, edx, ecx)
    }

    /// The 12-character signature of hypervisor leaf 0x40000000 (EBX, ECX, EDX order), e.g. "KVMKVMKVM".
    public static func hypervisorSignature(ebx: UInt32, ecx: UInt32, edx: UInt32) -> String {
        signatureString(ebx, ecx, edx)
    }

    /// Little-endian bytes of three registers as text; stops at the first NUL.
    public static func signatureString(_ a: UInt32, _ b: UInt32, _ c: UInt32) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12)
        for reg in [a, b, c] {
            for i in 0..<4 {
                let byte = UInt8(truncatingIfNeeded: reg >> UInt32(i * 8))
                if byte == 0 { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Brand string from leaves 0x80000002–4 (EAX, EBX, ECX, EDX each), trimmed of NULs.
    public static func brandString(_ r0: CPUIDResult, _ r1: CPUIDResult, _ r2: CPUIDResult) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48)
        for r in [r0, r1, r2] {
            for reg in [r.eax, r.ebx, r.ecx, r.edx] {
                for i in 0..<4 {
                    let byte = UInt8(truncatingIfNeeded: reg >> UInt32(i * 8))
                    if byte == 0 { return String(decoding: bytes, as: UTF8.self) }
                    bytes.append(byte)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Display family/model/stepping from leaf 1 EAX (SDM Vol. 2A, Figure 3-6).
    public struct Signature: Hashable, Sendable {
        public var rawValue: UInt32
        public init(eax: UInt32) { rawValue = eax }
        public var stepping: UInt8 { UInt8(truncatingIfNeeded: rawValue & 0xF) }
        public var baseModel: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 4) & 0xF) }
        public var baseFamily: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 8) & 0xF) }
        public var extendedModel: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 16) & 0xF) }
        public var extendedFamily: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 20) & 0xFF) }
        public var family: UInt16 {
            baseFamily == 0xF ? UInt16(baseFamily) + UInt16(extendedFamily) : UInt16(baseFamily)
        }
        public var model: UInt8 {
            (baseFamily == 0x6 || baseFamily == 0xF) ? (extendedModel << 4) | baseModel : baseModel
        }
    }

    /// Physical-address width from leaf 0x80000008 EAX bits 7:0.
    public static func physicalAddressBits(eax: UInt32) -> Int { Int(eax & 0xFF) }
    /// Linear-address width from leaf 0x80000008 EAX bits 15:8.
    public static func linearAddressBits(eax: UInt32) -> Int { Int((eax >> 8) & 0xFF) }
}

/// CPUID.01H:ECX feature flags (SDM Vol. 2A Table 3-10).
public struct CPUIDFeatureECX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse3 = CPUIDFeatureECX(rawValue: 1 << 0)
    public static let pclmulqdq = CPUIDFeatureECX(rawValue: 1 << 1)
    public static let dtes64 = CPUIDFeatureECX(rawValue: 1 << 2)
    public static let monitor = CPUIDFeatureECX(rawValue: 1 << 3)
    public static let dsCPL = CPUIDFeatureECX(rawValue: 1 << 4)
    public static let vmx = CPUIDFeatureECX(rawValue: 1 << 5)
    public static let smx = CPUIDFeatureECX(rawValue: 1 << 6)
    public static let eist = CPUIDFeatureECX(rawValue: 1 << 7)
    public static let tm2 = CPUIDFeatureECX(rawValue: 1 << 8)
    public static let ssse3 = CPUIDFeatureECX(rawValue: 1 << 9)
    public static let cnxtID = CPUIDFeatureECX(rawValue: 1 << 10)
    public static let sdbg = CPUIDFeatureECX(rawValue: 1 << 11)
    public static let fma = CPUIDFeatureECX(rawValue: 1 << 12)
    public static let cmpxchg16b = CPUIDFeatureECX(rawValue: 1 << 13)
    public static let xtprUpdateControl = CPUIDFeatureECX(rawValue: 1 << 14)
    public static let pdcm = CPUIDFeatureECX(rawValue: 1 << 15)
    public static let pcid = CPUIDFeatureECX(rawValue: 1 << 17)
    public static let dca = CPUIDFeatureECX(rawValue: 1 << 18)
    public static let sse41 = CPUIDFeatureECX(rawValue: 1 << 19)
    public static let sse42 = CPUIDFeatureECX(rawValue: 1 << 20)
    public static let x2apic = CPUIDFeatureECX(rawValue: 1 << 21)
    public static let movbe = CPUIDFeatureECX(rawValue: 1 << 22)
    public static let popcnt = CPUIDFeatureECX(rawValue: 1 << 23)
    public static let tscDeadline = CPUIDFeatureECX(rawValue: 1 << 24)
    public static let aesni = CPUIDFeatureECX(rawValue: 1 << 25)
    public static let xsave = CPUIDFeatureECX(rawValue: 1 << 26)
    public static let osxsave = CPUIDFeatureECX(rawValue: 1 << 27)
    public static let avx = CPUIDFeatureECX(rawValue: 1 << 28)
    public static let f16c = CPUIDFeatureECX(rawValue: 1 << 29)
    public static let rdrand = CPUIDFeatureECX(rawValue: 1 << 30)
    public static let hypervisor = CPUIDFeatureECX(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "SSE3"
        case 1: return "PCLMULQDQ"
        case 2: return "DTES64"
        case 3: return "MONITOR"
        case 4: return "DS-CPL"
        case 5: return "VMX"
        case 6: return "SMX"
        case 7: return "EIST"
        case 8: return "TM2"
        case 9: return "SSSE3"
        case 10: return "CNXT-ID"
        case 11: return "SDBG"
        case 12: return "FMA"
        case 13: return "CMPXCHG16B"
        case 14: return "xTPR"
        case 15: return "PDCM"
        case 17: return "PCID"
        case 18: return "DCA"
        case 19: return "SSE4.1"
        case 20: return "SSE4.2"
        case 21: return "x2APIC"
        case 22: return "MOVBE"
        case 23: return "POPCNT"
        case 24: return "TSC-deadline"
        case 25: return "AESNI"
        case 26: return "XSAVE"
        case 27: return "OSXSAVE"
        case 28: return "AVX"
        case 29: return "F16C"
        case 30: return "RDRAND"
        case 31: return "hypervisor"
        default: return nil
        }
    }
}
/// CPUID.01H:EDX feature flags (SDM Vol. 2A Table 3-11).
public struct CPUIDFeatureEDX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fpu = CPUIDFeatureEDX(rawValue: 1 << 0)
    public static let vme = CPUIDFeatureEDX(rawValue: 1 << 1)
    public static let de = CPUIDFeatureEDX(rawValue: 1 << 2)
    public static let pse = CPUIDFeatureEDX(rawValue: 1 << 3)
    public static let tsc = CPUIDFeatureEDX(rawValue: 1 << 4)
    public static let msr = CPUIDFeatureEDX(rawValue: 1 << 5)
    public static let pae = CPUIDFeatureEDX(rawValue: 1 << 6)
    public static let mce = CPUIDFeatureEDX(rawValue: 1 << 7)
    public static let cx8 = CPUIDFeatureEDX(rawValue: 1 << 8)
    public static let apic = CPUIDFeatureEDX(rawValue: 1 << 9)
    public static let sep = CPUIDFeatureEDX(rawValue: 1 << 11)
    public static let mtrr = CPUIDFeatureEDX(rawValue: 1 << 12)
    public static let pge = CPUIDFeatureEDX(rawValue: 1 << 13)
    public static let mca = CPUIDFeatureEDX(rawValue: 1 << 14)
    public static let cmov = CPUIDFeatureEDX(rawValue: 1 << 15)
    public static let pat = CPUIDFeatureEDX(rawValue: 1 << 16)
    public static let pse36 = CPUIDFeatureEDX(rawValue: 1 << 17)
    public static let psn = CPUIDFeatureEDX(rawValue: 1 << 18)
    public static let clfsh = CPUIDFeatureEDX(rawValue: 1 << 19)
    public static let ds = CPUIDFeatureEDX(rawValue: 1 << 21)
    public static let acpi = CPUIDFeatureEDX(rawValue: 1 << 22)
    public static let mmx = CPUIDFeatureEDX(rawValue: 1 << 23)
    public static let fxsr = CPUIDFeatureEDX(rawValue: 1 << 24)
    public static let sse = CPUIDFeatureEDX(rawValue: 1 << 25)
    public static let sse2 = CPUIDFeatureEDX(rawValue: 1 << 26)
    public static let ss = CPUIDFeatureEDX(rawValue: 1 << 27)
    public static let htt = CPUIDFeatureEDX(rawValue: 1 << 28)
    public static let tm = CPUIDFeatureEDX(rawValue: 1 << 29)
    public static let pbe = CPUIDFeatureEDX(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "FPU"
        case 1: return "VME"
        case 2: return "DE"
        case 3: return "PSE"
        case 4: return "TSC"
        case 5: return "MSR"
        case 6: return "PAE"
        case 7: return "MCE"
        case 8: return "CX8"
        case 9: return "APIC"
        case 11: return "SEP"
        case 12: return "MTRR"
        case 13: return "PGE"
        case 14: return "MCA"
        case 15: return "CMOV"
        case 16: return "PAT"
        case 17: return "PSE-36"
        case 18: return "PSN"
        case 19: return "CLFSH"
        case 21: return "DS"
        case 22: return "ACPI"
        case 23: return "MMX"
        case 24: return "FXSR"
        case 25: return "SSE"
        case 26: return "SSE2"
        case 27: return "SS"
        case 28: return "HTT"
        case 29: return "TM"
        case 31: return "PBE"
        default: return nil
        }
    }
}
/// CPUID.(EAX=07H,ECX=0):EBX structured extended feature flags.
public struct CPUIDExtendedFeatureEBX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fsgsbase = CPUIDExtendedFeatureEBX(rawValue: 1 << 0)
    public static let tscAdjust = CPUIDExtendedFeatureEBX(rawValue: 1 << 1)
    public static let sgx = CPUIDExtendedFeatureEBX(rawValue: 1 << 2)
    public static let bmi1 = CPUIDExtendedFeatureEBX(rawValue: 1 << 3)
    public static let hle = CPUIDExtendedFeatureEBX(rawValue: 1 << 4)
    public static let avx2 = CPUIDExtendedFeatureEBX(rawValue: 1 << 5)
    public static let fdpExcptnOnly = CPUIDExtendedFeatureEBX(rawValue: 1 << 6)
    public static let smep = CPUIDExtendedFeatureEBX(rawValue: 1 << 7)
    public static let bmi2 = CPUIDExtendedFeatureEBX(rawValue: 1 << 8)
    public static let erms = CPUIDExtendedFeatureEBX(rawValue: 1 << 9)
    public static let invpcid = CPUIDExtendedFeatureEBX(rawValue: 1 << 10)
    public static let rtm = CPUIDExtendedFeatureEBX(rawValue: 1 << 11)
    public static let rdtM = CPUIDExtendedFeatureEBX(rawValue: 1 << 12)
    public static let fpuCSDSDeprecated = CPUIDExtendedFeatureEBX(rawValue: 1 << 13)
    public static let mpx = CPUIDExtendedFeatureEBX(rawValue: 1 << 14)
    public static let rdtA = CPUIDExtendedFeatureEBX(rawValue: 1 << 15)
    public static let avx512f = CPUIDExtendedFeatureEBX(rawValue: 1 << 16)
    public static let avx512dq = CPUIDExtendedFeatureEBX(rawValue: 1 << 17)
    public static let rdseed = CPUIDExtendedFeatureEBX(rawValue: 1 << 18)
    public static let adx = CPUIDExtendedFeatureEBX(rawValue: 1 << 19)
    public static let smap = CPUIDExtendedFeatureEBX(rawValue: 1 << 20)
    public static let avx512ifma = CPUIDExtendedFeatureEBX(rawValue: 1 << 21)
    public static let clflushopt = CPUIDExtendedFeatureEBX(rawValue: 1 << 23)
    public static let clwb = CPUIDExtendedFeatureEBX(rawValue: 1 << 24)
    public static let processorTrace = CPUIDExtendedFeatureEBX(rawValue: 1 << 25)
    public static let avx512pf = CPUIDExtendedFeatureEBX(rawValue: 1 << 26)
    public static let avx512er = CPUIDExtendedFeatureEBX(rawValue: 1 << 27)
    public static let avx512cd = CPUIDExtendedFeatureEBX(rawValue: 1 << 28)
    public static let sha = CPUIDExtendedFeatureEBX(rawValue: 1 << 29)
    public static let avx512bw = CPUIDExtendedFeatureEBX(rawValue: 1 << 30)
    public static let avx512vl = CPUIDExtendedFeatureEBX(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "FSGSBASE"
        case 1: return "IA32_TSC_ADJUST"
        case 2: return "SGX"
        case 3: return "BMI1"
        case 4: return "HLE"
        case 5: return "AVX2"
        case 6: return "FDP_EXCPTN_ONLY"
        case 7: return "SMEP"
        case 8: return "BMI2"
        case 9: return "ERMS"
        case 10: return "INVPCID"
        case 11: return "RTM"
        case 12: return "RDT-M"
        case 13: return "FPU CS/DS deprecated"
        case 14: return "MPX"
        case 15: return "RDT-A"
        case 16: return "AVX512F"
        case 17: return "AVX512DQ"
        case 18: return "RDSEED"
        case 19: return "ADX"
        case 20: return "SMAP"
        case 21: return "AVX512_IFMA"
        case 23: return "CLFLUSHOPT"
        case 24: return "CLWB"
        case 25: return "PT"
        case 26: return "AVX512PF"
        case 27: return "AVX512ER"
        case 28: return "AVX512CD"
        case 29: return "SHA"
        case 30: return "AVX512BW"
        case 31: return "AVX512VL"
        default: return nil
        }
    }
}
/// CPUID.(EAX=07H,ECX=0):ECX structured extended feature flags.
public struct CPUIDExtendedFeatureECX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let prefetchwt1 = CPUIDExtendedFeatureECX(rawValue: 1 << 0)
    public static let avx512vbmi = CPUIDExtendedFeatureECX(rawValue: 1 << 1)
    public static let umip = CPUIDExtendedFeatureECX(rawValue: 1 << 2)
    public static let pku = CPUIDExtendedFeatureECX(rawValue: 1 << 3)
    public static let ospke = CPUIDExtendedFeatureECX(rawValue: 1 << 4)
    public static let waitpkg = CPUIDExtendedFeatureECX(rawValue: 1 << 5)
    public static let avx512vbmi2 = CPUIDExtendedFeatureECX(rawValue: 1 << 6)
    public static let cetSS = CPUIDExtendedFeatureECX(rawValue: 1 << 7)
    public static let gfni = CPUIDExtendedFeatureECX(rawValue: 1 << 8)
    public static let vaes = CPUIDExtendedFeatureECX(rawValue: 1 << 9)
    public static let vpclmulqdq = CPUIDExtendedFeatureECX(rawValue: 1 << 10)
    public static let avx512vnni = CPUIDExtendedFeatureECX(rawValue: 1 << 11)
    public static let avx512bitalg = CPUIDExtendedFeatureECX(rawValue: 1 << 12)
    public static let tmeEn = CPUIDExtendedFeatureECX(rawValue: 1 << 13)
    public static let avx512vpopcntdq = CPUIDExtendedFeatureECX(rawValue: 1 << 14)
    public static let la57 = CPUIDExtendedFeatureECX(rawValue: 1 << 16)
    public static let rdpid = CPUIDExtendedFeatureECX(rawValue: 1 << 22)
    public static let keyLocker = CPUIDExtendedFeatureECX(rawValue: 1 << 23)
    public static let cldemote = CPUIDExtendedFeatureECX(rawValue: 1 << 25)
    public static let movdiri = CPUIDExtendedFeatureECX(rawValue: 1 << 27)
    public static let movdir64b = CPUIDExtendedFeatureECX(rawValue: 1 << 28)
    public static let enqcmd = CPUIDExtendedFeatureECX(rawValue: 1 << 29)
    public static let sgxLC = CPUIDExtendedFeatureECX(rawValue: 1 << 30)
    public static let pks = CPUIDExtendedFeatureECX(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "PREFETCHWT1"
        case 1: return "AVX512_VBMI"
        case 2: return "UMIP"
        case 3: return "PKU"
        case 4: return "OSPKE"
        case 5: return "WAITPKG"
        case 6: return "AVX512_VBMI2"
        case 7: return "CET_SS"
        case 8: return "GFNI"
        case 9: return "VAES"
        case 10: return "VPCLMULQDQ"
        case 11: return "AVX512_VNNI"
        case 12: return "AVX512_BITALG"
        case 13: return "TME_EN"
        case 14: return "AVX512_VPOPCNTDQ"
        case 16: return "LA57"
        case 22: return "RDPID"
        case 23: return "KL"
        case 25: return "CLDEMOTE"
        case 27: return "MOVDIRI"
        case 28: return "MOVDIR64B"
        case 29: return "ENQCMD"
        case 30: return "SGX_LC"
        case 31: return "PKS"
        default: return nil
        }
    }
}
/// CPUID.(EAX=07H,ECX=0):EDX structured extended feature flags.
public struct CPUIDExtendedFeatureEDX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fsrm = CPUIDExtendedFeatureEDX(rawValue: 1 << 4)
    public static let uintr = CPUIDExtendedFeatureEDX(rawValue: 1 << 5)
    public static let mdClear = CPUIDExtendedFeatureEDX(rawValue: 1 << 10)
    public static let serialize = CPUIDExtendedFeatureEDX(rawValue: 1 << 14)
    public static let hybrid = CPUIDExtendedFeatureEDX(rawValue: 1 << 15)
    public static let tsxldtrk = CPUIDExtendedFeatureEDX(rawValue: 1 << 16)
    public static let pconfig = CPUIDExtendedFeatureEDX(rawValue: 1 << 18)
    public static let cetIBT = CPUIDExtendedFeatureEDX(rawValue: 1 << 20)
    public static let ibrsIBPB = CPUIDExtendedFeatureEDX(rawValue: 1 << 26)
    public static let stibp = CPUIDExtendedFeatureEDX(rawValue: 1 << 27)
    public static let l1dFlush = CPUIDExtendedFeatureEDX(rawValue: 1 << 28)
    public static let archCapabilities = CPUIDExtendedFeatureEDX(rawValue: 1 << 29)
    public static let coreCapabilities = CPUIDExtendedFeatureEDX(rawValue: 1 << 30)
    public static let ssbd = CPUIDExtendedFeatureEDX(rawValue: 1 << 31)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 4: return "FSRM"
        case 5: return "UINTR"
        case 10: return "MD_CLEAR"
        case 14: return "SERIALIZE"
        case 15: return "Hybrid"
        case 16: return "TSXLDTRK"
        case 18: return "PCONFIG"
        case 20: return "CET_IBT"
        case 26: return "IBRS/IBPB"
        case 27: return "STIBP"
        case 28: return "L1D_FLUSH"
        case 29: return "IA32_ARCH_CAPABILITIES"
        case 30: return "IA32_CORE_CAPABILITIES"
        case 31: return "SSBD"
        default: return nil
        }
    }
}
/// CPUID.80000001H:EDX extended processor features.
public struct CPUIDExtendedProcessorEDX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let syscall = CPUIDExtendedProcessorEDX(rawValue: 1 << 11)
    public static let nx = CPUIDExtendedProcessorEDX(rawValue: 1 << 20)
    public static let page1GB = CPUIDExtendedProcessorEDX(rawValue: 1 << 26)
    public static let rdtscp = CPUIDExtendedProcessorEDX(rawValue: 1 << 27)
    public static let lm = CPUIDExtendedProcessorEDX(rawValue: 1 << 29)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 11: return "SYSCALL"
        case 20: return "NX"
        case 26: return "Page1GB"
        case 27: return "RDTSCP"
        case 29: return "LM"
        default: return nil
        }
    }
}
/// CPUID.80000001H:ECX extended processor features.
public struct CPUIDExtendedProcessorECX: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let lahfSahf = CPUIDExtendedProcessorECX(rawValue: 1 << 0)
    public static let lzcnt = CPUIDExtendedProcessorECX(rawValue: 1 << 5)
    public static let prefetchw = CPUIDExtendedProcessorECX(rawValue: 1 << 8)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "LAHF/SAHF"
        case 5: return "LZCNT"
        case 8: return "PREFETCHW"
        default: return nil
        }
    }
}
