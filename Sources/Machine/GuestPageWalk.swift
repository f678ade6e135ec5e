import X86

// Translating a guest-linear address the way the guest's own MMU would (SDM Vol. 3A §4.3-§4.6),
// for instructions the hypervisor emulates on the guest's memory (INS/OUTS today). The walk
// reads the guest's paging structures from its RAM, checks access rights like the processor
// (U/S, R/W with CR0.WP, NX with EFER.NXE, SMEP, SMAP with RFLAGS.AC), sets the accessed and
// dirty flags it would set, and answers with the guest-physical address, the page fault the
// guest must see (error code, SDM §4.7), or a paging structure outside the guest's RAM (which
// under EPT is an EPT violation: the hypervisor stops the guest, as for any access there).

/// How the access is made.
public struct PageAccess: Sendable, Equatable {
    public var write: Bool
    /// CPL = 3 (a user-mode access).
    public var user: Bool
    public var instructionFetch: Bool

    public init(write: Bool, user: Bool, instructionFetch: Bool = false) {
        self.write = write; self.user = user; self.instructionFetch = instructionFetch
    }
}

/// The guest's paging controls, from its guest-visible CR0/CR4, IA32_EFER, CR3, RFLAGS.AC and,
/// for PAE paging, its four PDPTE registers.
public struct GuestPagingState: Sendable, Equatable {
    public var mode: PagingMode
    public var cr3: UInt64
    public var writeProtect: Bool
    public var pageSizeExtensions: Bool
    public var noExecute: Bool
    public var smep: Bool
    public var smap: Bool
    /// RFLAGS.AC: with SMAP, supervisor data accesses to user pages are allowed only when set.
    public var alignmentCheck: Bool
    public var pdptes: (UInt64, UInt64, UInt64, UInt64)
    public var maxPhysicalAddressBits: Int

    public init(cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64, rflagsAC: Bool = false,
                pdptes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0), maxPhysicalAddressBits: Int = 39) {
        mode = PagingMode(cr0: cr0, cr4: cr4, efer: efer)
        self.cr3 = cr3
        writeProtect = cr0 & CR0.wp.rawValue != 0
        pageSizeExtensions = cr4 & CR4.pse.rawValue != 0
        noExecute = efer & EFER.nxe.rawValue != 0
        smep = cr4 & CR4.smep.rawValue != 0
        smap = cr4 & CR4.smap.rawValue != 0
        alignmentCheck = rflagsAC
        self.pdptes = pdptes
        self.maxPhysicalAddressBits = maxPhysicalAddressBits
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.mode == b.mode && a.cr3 == b.cr3 && a.writeProtect == b.writeProtect
            && a.pageSizeExtensions == b.pageSizeExtensions && a.noExecute == b.noExecute && a.smep == b.smep
            && a.smap == b.smap && a.alignmentCheck == b.alignmentCheck && a.pdptes == b.pdptes
            && a.maxPhysicalAddressBits == b.maxPhysicalAddressBits
    }
}

/// Page-fault error code bits (SDM Vol. 3A §4.7, Figure 4-12).
public struct PageFaultErrorCode: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// P: 0 = the page was not present, 1 = a protection violation.
    public static let protectionViolation = PageFaultErrorCode(rawValue: 1 << 0)
    public static let write = PageFaultErrorCode(rawValue: 1 << 1)
    public static let user = PageFaultErrorCode(rawValue: 1 << 2)
    public static let reservedBit = PageFaultErrorCode(rawValue: 1 << 3)
    public static let instructionFetch = PageFaultErrorCode(rawValue: 1 << 4)

    /// P | RSVD: a reserved bit was set in a paging-structure entry. (A plain constant: an array
    /// literal of options would build and release an array on the exit path.)
    public static let reservedBitViolation = PageFaultErrorCode(rawValue: 1 << 0 | 1 << 3)

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "P"
        case 1: return "W/R"
        case 2: return "U/S"
        case 3: return "RSVD"
        case 4: return "I/D"
        default: return nil
        }
    }
}

public enum PageWalkResult: Sendable, Equatable {
    case mapped(gpa: UInt64)
    /// The guest takes #PF with this error code and CR2 = the linear address.
    case pageFault(PageFaultErrorCode)
    /// A paging structure lies outside the guest's RAM.
    case tableOutsideRAM(gpa: UInt64)
}

public enum GuestPageWalk {
    /// Translates `linear` for `access`. Sets A in every entry used and D in the final one for a write.
    public static func translate(_ linear: UInt64, access: PageAccess, paging: GuestPagingState,
                                 memory: GuestMemory) -> PageWalkResult {
        var code = PageFaultErrorCode()
        if access.write { code.insert(.write) }
        if access.user { code.insert(.user) }
        if access.instructionFetch && (paging.noExecute || paging.smep) { code.insert(.instructionFetch) }

        switch paging.mode {
        case .none:
            return .mapped(gpa: linear & 0xFFFF_FFFF)
        case .bits32:
            return walk32(UInt32(truncatingIfNeeded: linear), access: access, paging: paging, memory: memory, code: code)
        case .pae, .level4, .level5:
            return walk64(linear, access: access, paging: paging, memory: memory, code: code)
        }
    }

    /// The rights accumulated over the levels of a walk.
    private struct Rights {
        var writable = true
        var user = true
        var executable = true
    }

    private static func check(_ rights: Rights, access: PageAccess, paging: GuestPagingState,
                              code: PageFaultErrorCode) -> PageFaultErrorCode? {
        var fault = code
        fault.insert(.protectionViolation)
        if access.user {
            if !rights.user { return fault }
            if access.write && !rights.writable { return fault }
        } else {
            if access.write && !rights.writable && paging.writeProtect { return fault }
            if rights.user && !access.instructionFetch && paging.smap && !paging.alignmentCheck { return fault }
            if rights.user && access.instructionFetch && paging.smep { return fault }
        }
        if access.instructionFetch && !rights.executable { return fault }
        return nil
    }

    private static func walk32(_ linear: UInt32, access: PageAccess, paging: GuestPagingState,
                               memory: GuestMemory, code: PageFaultErrorCode) -> PageWalkResult {
        var rights = Rights()
        let pdeAddress = (paging.cr3 & 0xFFFF_F000) | UInt64((linear >> 22) << 2)
        guard var pde = memory.load(UInt32.self, gpa: pdeAddress) else { return .tableOutsideRAM(gpa: pdeAddress) }
        if pde & 1 == 0 { return .pageFault(code) }
        rights.writable = pde & 2 != 0
        rights.user = pde & 4 != 0
        if pde & 0x80 != 0 && paging.pageSizeExtensions {
            // A 4 MiB page (PSE-36: bits 20:13 are physical-address bits 39:32; bit 21 reserved).
            if pde & (1 << 21) != 0 { return .pageFault(code.union(.reservedBitViolation)) }
            if let fault = check(rights, access: access, paging: paging, code: code) { return .pageFault(fault) }
            pde |= 0x20
            if access.write { pde |= 0x40 }
            memory.store(pde, gpa: pdeAddress)
            let high = UInt64((pde >> 13) & 0xFF) << 32
            let base = high | UInt64(pde & 0xFFC0_0000)
            return .mapped(gpa: base | UInt64(linear & 0x3F_FFFF))
        }
        if pde & 0x20 == 0 { memory.store(pde | 0x20, gpa: pdeAddress) }
        let pteAddress = UInt64(pde & 0xFFFF_F000) | UInt64(((linear >> 12) & 0x3FF) << 2)
        guard var pte = memory.load(UInt32.self, gpa: pteAddress) else { return .tableOutsideRAM(gpa: pteAddress) }
        if pte & 1 == 0 { return .pageFault(code) }
        rights.writable = rights.writable && pte & 2 != 0
        rights.user = rights.user && pte & 4 != 0
        if let fault = check(rights, access: access, paging: paging, code: code) { return .pageFault(fault) }
        pte |= 0x20
        if access.write { pte |= 0x40 }
        memory.store(pte, gpa: pteAddress)
        return .mapped(gpa: UInt64(pte & 0xFFFF_F000) | UInt64(linear & 0xFFF))
    }

    private static func walk64(_ linear: UInt64, access: PageAccess, paging: GuestPagingState,
                               memory: GuestMemory, code: PageFaultErrorCode) -> PageWalkResult {
        var rights = Rights()
        let highReserved: UInt64 = paging.maxPhysicalAddressBits >= 52 ? 0
            : (0x000F_FFFF_FFFF_F000 & ~((1 << UInt64(paging.maxPhysicalAddressBits)) - 1))
        let nxReserved: UInt64 = paging.noExecute ? 0 : 1 << 63
        let reservedFault = code.union(.reservedBitViolation)

        var table: UInt64
        var level: Int         // 4 = PML4 ... 1 = PT
        switch paging.mode {
        case .pae:
            let pdpte = PageTable.paePDPTE(paging.pdptes, va: linear)
            if pdpte & 1 == 0 { return .pageFault(code) }
            table = pdpte & PageTableEntry.addressMask
            level = 2
        case .level5:
            guard PageTable.isCanonical57(linear) else { return .pageFault(code) }
            table = paging.cr3 & PageTableEntry.addressMask
            level = 5
        default:
            // A non-canonical address is #GP, not #PF; callers check canonicality before walking.
            table = paging.cr3 & PageTableEntry.addressMask
            level = 4
        }
        while true {
            let shift = UInt64(12 + 9 * (level - 1))       // the bits one entry at this level maps
            let entryAddress = PageTable.entryAddress(table: table, va: linear, level: level)
            guard var entry = memory.load(UInt64.self, gpa: entryAddress) else { return .tableOutsideRAM(gpa: entryAddress) }
            if entry & 1 == 0 { return .pageFault(code) }
            if entry & (highReserved | nxReserved) != 0 { return .pageFault(reservedFault) }
            rights.writable = rights.writable && entry & 2 != 0
            rights.user = rights.user && entry & 4 != 0
            rights.executable = rights.executable && entry & (1 << 63) == 0
            let isLeaf = level == 1 || (entry & 0x80 != 0 && (level == 2 || level == 3))
            if entry & 0x80 != 0 && level >= 4 { return .pageFault(reservedFault) }   // PS in a PML4E/PML5E
            if isLeaf {
                let pageShift = shift
                // Large pages: the bits between the PAT bit (12) and the frame are reserved.
                if level > 1 {
                    let reservedLow: UInt64 = ((1 << pageShift) - 1) & ~0x1FFF
                    if entry & reservedLow != 0 { return .pageFault(reservedFault) }
                }
                if let fault = check(rights, access: access, paging: paging, code: code) { return .pageFault(fault) }
                entry |= 0x20
                if access.write { entry |= 0x40 }
                memory.store(entry, gpa: entryAddress)
                let frame = entry & PageTableEntry.addressMask & ~((1 << pageShift) - 1)
                return .mapped(gpa: frame | (linear & ((1 << pageShift) - 1)))
            }
            if entry & 0x20 == 0 { memory.store(entry | 0x20, gpa: entryAddress) }
            table = entry & PageTableEntry.addressMask
            level -= 1
        }
    }
}
