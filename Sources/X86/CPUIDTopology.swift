// The CPU topology CPUID shows a VM of N vCPUs: one package of N cores, one thread per core,
// APIC IDs 0…N-1 (SDM Vol. 3A §9.9 "Programming considerations for hardware multi-threading
// capable processors"; the leaf definitions are SDM Vol. 2A, CPUID, Table 3-8).
//
// Each function rewrites only the topology fields of a leaf the engine already has (the host's
// values, filtered), so features and cache descriptions stay the engine's business:
// - leaf 1 EBX[31:24] initial APIC ID, EBX[23:16] logical processors per package, EDX.HTT;
// - leaf 4 EAX[31:26] cores per package - 1, EAX[25:14] logical processors sharing the cache - 1;
// - leaf 0xB and 0x1F: level 0 SMT (1 thread, shift 0), level 1 core (N, shift ceil(log2 N)),
//   then an invalid level; EDX the x2APIC ID on every subleaf;
// - leaf 0x80000008 ECX: AMD's core count (NC = N-1, ApicIdCoreIdSize); 0 on Intel, where it is reserved.

public struct CPUIDTopology: Equatable, Sendable {
    /// vCPUs in the VM (≥ 1).
    public let logicalProcessors: UInt32

    public init(vcpus: Int) {
        logicalProcessors = UInt32(min(max(vcpus, 1), 255))
    }

    /// Bits of APIC ID that select the core: ceil(log2 N) (the core level's shift).
    public var coreIDBits: UInt32 {
        logicalProcessors <= 1 ? 0 : UInt32(32 - (logicalProcessors - 1).leadingZeroBitCount)
    }

    /// Leaf 1 for the vCPU with `apicID`.
    public func leaf1(_ host: CPUIDResult, apicID: UInt32) -> CPUIDResult {
        var r = host
        // EBX[23:16] is valid only with HTT (set for N > 1); 1 for a single vCPU.
        r.ebx = host.ebx & 0x0000_FFFF | (apicID & 0xFF) << 24 | (logicalProcessors & 0xFF) << 16
        if logicalProcessors > 1 {
            r.edx |= CPUIDFeatureEDX.htt.rawValue
        } else {
            r.edx &= ~CPUIDFeatureEDX.htt.rawValue
        }
        return r
    }

    /// Leaf 4 (deterministic cache parameters), any subleaf: level-1 and level-2 caches are per
    /// core, the level-3 cache shared by all. A null subleaf (type 0) stays as it is.
    public func leaf4(_ host: CPUIDResult) -> CPUIDResult {
        var r = host
        guard host.eax & 0x1F != 0 else { return r }
        let level = (host.eax >> 5) & 7
        let sharing: UInt32 = level >= 3 ? logicalProcessors - 1 : 0
        r.eax = host.eax & 0x3FFF | (logicalProcessors - 1) << 26 | (sharing & 0xFFF) << 14
        return r
    }

    /// Leaf 0xB (or 0x1F) subleaf `subleaf` for the vCPU with `x2APICID`.
    public func extendedTopology(subleaf: UInt32, x2APICID: UInt32) -> CPUIDResult {
        let levelNumber = subleaf & 0xFF
        switch subleaf {
        case 0:
            // SMT level: one thread per core; the next level's IDs start at bit 0.
            return CPUIDResult(eax: 0, ebx: 1, ecx: levelNumber | CPUIDTopology.levelTypeSMT << 8, edx: x2APICID)
        case 1:
            return CPUIDResult(eax: coreIDBits, ebx: logicalProcessors, ecx: levelNumber | CPUIDTopology.levelTypeCore << 8,
                               edx: x2APICID)
        default:
            // Past the last level: EAX = EBX = 0, ECX[15:8] = 0 (invalid), ECX[7:0] the subleaf.
            return CPUIDResult(eax: 0, ebx: 0, ecx: levelNumber, edx: x2APICID)
        }
    }

    /// Leaf 0x80000008 ECX. AMD: NC (bits 7:0) = cores - 1, ApicIdCoreIdSize (bits 15:12).
    /// Intel: reserved, 0.
    public func extendedAddressSizesECX(amd: Bool) -> UInt32 {
        guard amd else { return 0 }
        return (logicalProcessors - 1) & 0xFF | (coreIDBits & 0xF) << 12
    }

    /// Level types of leaves 0xB / 0x1F ECX[15:8].
    public static let levelTypeSMT: UInt32 = 1
    public static let levelTypeCore: UInt32 = 2
}
