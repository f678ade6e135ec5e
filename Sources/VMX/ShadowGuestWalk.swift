import X86
import Machine

// The guest's own page walk as the shadow page tables need it (SDM Vol. 3A §4.3-§4.6): like
// Machine's GuestPageWalk, but answering with everything a shadow entry is built from: the
// guest-physical 4 KiB page, the rights accumulated over the levels (R/W, U/S, XD), the global
// flag and whether the leaf is dirty, and the size of the guest's page (a 2 MiB, 4 MiB or 1 GiB
// page is shadowed by 4 KiB pieces). It sets the accessed flag in every entry it uses and the dirty flag
// in the leaf for a write, as the processor does when it caches the translation (§4.8).

/// The guest's paging controls that shape a walk, from its guest-visible CR0/CR3/CR4/EFER.
public struct ShadowGuestControls: Sendable, Equatable {
    public var paging: GuestPagingState
    /// CR4.PGE: the G flag of a leaf makes the translation global (§4.10.2.4).
    public var globalPages: Bool

    public init(cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64, rflagsAC: Bool = false,
                maxPhysicalAddressBits: Int = 39) {
        paging = GuestPagingState(cr0: cr0, cr3: cr3, cr4: cr4, efer: efer, rflagsAC: rflagsAC,
                                  maxPhysicalAddressBits: maxPhysicalAddressBits)
        globalPages = cr4 & CR4.pge.rawValue != 0
    }

    /// True when a shadow built under `self` is still right under `other`: everything but CR3
    /// and RFLAGS.AC is the same (a change of any of these is a full TLB flush, §4.10.4.1).
    public func sameTranslationRules(as other: ShadowGuestControls) -> Bool {
        paging.mode == other.paging.mode && paging.writeProtect == other.paging.writeProtect
            && paging.pageSizeExtensions == other.paging.pageSizeExtensions
            && paging.noExecute == other.paging.noExecute && paging.smep == other.paging.smep
            && paging.smap == other.paging.smap && globalPages == other.globalPages
            && paging.maxPhysicalAddressBits == other.paging.maxPhysicalAddressBits
    }
}

/// One translation of the guest's, as a shadow leaf is built from it.
public struct ShadowGuestLeaf: Sendable, Equatable {
    /// The guest-physical 4 KiB page holding the address.
    public var page: UInt64
    public var writable: Bool
    public var user: Bool
    public var executable: Bool
    public var global: Bool
    /// The leaf's D flag after the walk (always true with paging off).
    public var dirty: Bool
    /// log2 of the guest's page size: 12, 21 (2 MiB), 22 (4 MiB) or 30 (1 GiB).
    public var pageShift: Int

    public init(page: UInt64, writable: Bool, user: Bool, executable: Bool, global: Bool, dirty: Bool,
                pageShift: Int) {
        self.page = page; self.writable = writable; self.user = user; self.executable = executable
        self.global = global; self.dirty = dirty; self.pageShift = pageShift
    }
}

public enum ShadowGuestWalkResult: Sendable, Equatable {
    case mapped(ShadowGuestLeaf)
    /// The guest takes #PF with this error code and CR2 = the linear address.
    case pageFault(PageFaultErrorCode)
    /// A paging structure lies outside the guest's RAM (under EPT: an EPT violation, the VM stops).
    case tableOutsideRAM(gpa: UInt64)
}

public enum ShadowGuestWalk {
    /// Walks `linear` for `access` in `controls`' mode; PAE paging uses `pdptes`, the four PDPTE
    /// registers as the guest's last CR3 load left them (§4.4.1), not the table in memory.
    public static func walk(_ linear: UInt64, access: PageAccess, controls: ShadowGuestControls,
                            pdptes: (UInt64, UInt64, UInt64, UInt64), memory: GuestMemory) -> ShadowGuestWalkResult {
        let paging = controls.paging
        var code = PageFaultErrorCode()
        if access.write { code.insert(.write) }
        if access.user { code.insert(.user) }
        if access.instructionFetch && (paging.noExecute || paging.smep) { code.insert(.instructionFetch) }
        switch paging.mode {
        case .none:
            return .mapped(ShadowGuestLeaf(page: linear & 0xFFFF_F000, writable: true, user: true, executable: true,
                                           global: false, dirty: true, pageShift: 12))
        case .bits32:
            return walk32(UInt32(truncatingIfNeeded: linear), access: access, controls: controls, memory: memory,
                          code: code)
        case .pae, .level4, .level5:
            return walk64(linear, access: access, controls: controls, pdptes: pdptes, memory: memory, code: code)
        }
    }

    /// The access check of §4.6 over the rights of all levels; nil when the access is allowed.
    static func check(writable: Bool, user: Bool, executable: Bool, access: PageAccess, paging: GuestPagingState,
                      code: PageFaultErrorCode) -> PageFaultErrorCode? {
        var fault = code
        fault.insert(.protectionViolation)
        if access.user {
            if !user { return fault }
            if access.write && !writable { return fault }
        } else {
            if access.write && !writable && paging.writeProtect { return fault }
            if user && !access.instructionFetch && paging.smap && !paging.alignmentCheck { return fault }
            if user && access.instructionFetch && paging.smep { return fault }
        }
        if access.instructionFetch && !executable { return fault }
        return nil
    }

    private static func walk32(_ linear: UInt32, access: PageAccess, controls: ShadowGuestControls,
                               memory: GuestMemory, code: PageFaultErrorCode) -> ShadowGuestWalkResult {
        let paging = controls.paging
        let pdeAddress = (paging.cr3 & 0xFFFF_F000) | UInt64((linear >> 22) << 2)
        guard var pde = memory.load(UInt32.self, gpa: pdeAddress) else { return .tableOutsideRAM(gpa: pdeAddress) }
        if pde & 1 == 0 { return .pageFault(code) }
        if pde & 0x80 != 0 && paging.pageSizeExtensions {
            // A 4 MiB page (PSE-36: bits 20:13 are physical-address bits 39:32; bit 21 is reserved).
            if pde & (1 << 21) != 0 { return .pageFault(code.union(.reservedBitViolation)) }
            let writable = pde & 2 != 0, user = pde & 4 != 0
            if let fault = check(writable: writable, user: user, executable: true, access: access, paging: paging,
                                 code: code) { return .pageFault(fault) }
            pde |= 0x20
            if access.write { pde |= 0x40 }
            memory.store(pde, gpa: pdeAddress)
            let base = UInt64((pde >> 13) & 0xFF) << 32 | UInt64(pde & 0xFFC0_0000)
            return .mapped(ShadowGuestLeaf(page: base | UInt64(linear & 0x3F_F000), writable: writable, user: user,
                                           executable: true, global: controls.globalPages && pde & 0x100 != 0,
                                           dirty: pde & 0x40 != 0, pageShift: 22))
        }
        if pde & 0x20 == 0 { memory.store(pde | 0x20, gpa: pdeAddress) }
        let pteAddress = UInt64(pde & 0xFFFF_F000) | UInt64(((linear >> 12) & 0x3FF) << 2)
        guard var pte = memory.load(UInt32.self, gpa: pteAddress) else { return .tableOutsideRAM(gpa: pteAddress) }
        if pte & 1 == 0 { return .pageFault(code) }
        let writable = pde & 2 != 0 && pte & 2 != 0, user = pde & 4 != 0 && pte & 4 != 0
        if let fault = check(writable: writable, user: user, executable: true, access: access, paging: paging,
                             code: code) { return .pageFault(fault) }
        pte |= 0x20
        if access.write { pte |= 0x40 }
        memory.store(pte, gpa: pteAddress)
        return .mapped(ShadowGuestLeaf(page: UInt64(pte & 0xFFFF_F000), writable: writable, user: user, executable: true,
                                       global: controls.globalPages && pte & 0x100 != 0, dirty: pte & 0x40 != 0,
                                       pageShift: 12))
    }

    private static func walk64(_ linear: UInt64, access: PageAccess, controls: ShadowGuestControls,
                               pdptes: (UInt64, UInt64, UInt64, UInt64), memory: GuestMemory,
                               code: PageFaultErrorCode) -> ShadowGuestWalkResult {
        let paging = controls.paging
        let highReserved: UInt64 = paging.maxPhysicalAddressBits >= 52 ? 0
            : (0x000F_FFFF_FFFF_F000 & ~((1 << UInt64(paging.maxPhysicalAddressBits)) - 1))
        let nxReserved: UInt64 = paging.noExecute ? 0 : 1 << 63
        let reservedFault = code.union(.reservedBitViolation)
        var writable = true, user = true, executable = true
        var table: UInt64
        var level: Int         // 4 = PML4 ... 1 = PT
        switch paging.mode {
        case .pae:
            let pdpte = PageTable.paePDPTE(pdptes, va: linear)
            if pdpte & 1 == 0 { return .pageFault(code) }
            table = pdpte & PageTableEntry.addressMask
            level = 2
        case .level5:
            // 5-level paging is not shadowed (CPUID hides LA57 under shadow paging).
            return .pageFault(code)
        default:
            // A non-canonical address is #GP, not #PF: the processor never reports it as a #PF.
            table = paging.cr3 & PageTableEntry.addressMask
            level = 4
        }
        while true {
            let shift = UInt64(12 + 9 * (level - 1))       // the bits one entry at this level maps
            let entryAddress = PageTable.entryAddress(table: table, va: linear, level: level)
            guard var entry = memory.load(UInt64.self, gpa: entryAddress) else {
                return .tableOutsideRAM(gpa: entryAddress)
            }
            if entry & 1 == 0 { return .pageFault(code) }
            if entry & (highReserved | nxReserved) != 0 { return .pageFault(reservedFault) }
            if entry & 0x80 != 0 && level >= 4 { return .pageFault(reservedFault) }   // PS in a PML4E
            writable = writable && entry & 2 != 0
            user = user && entry & 4 != 0
            executable = executable && entry & (1 << 63) == 0
            if level == 1 || entry & 0x80 != 0 {
                // PAE has no 1 GiB pages (§4.4.2: bit 7 of a PDPTE register is reserved, checked at CR3 load).
                if level > 1 {
                    let reservedLow: UInt64 = ((1 << shift) - 1) & ~0x1FFF
                    if entry & reservedLow != 0 { return .pageFault(reservedFault) }
                }
                if let fault = check(writable: writable, user: user, executable: executable, access: access,
                                     paging: paging, code: code) { return .pageFault(fault) }
                entry |= 0x20
                if access.write { entry |= 0x40 }
                memory.store(entry, gpa: entryAddress)
                let frame = entry & PageTableEntry.addressMask & ~((1 << shift) - 1)
                let page = frame | (linear & ((1 << shift) - 1) & ~0xFFF)
                return .mapped(ShadowGuestLeaf(page: page, writable: writable, user: user, executable: executable,
                                               global: controls.globalPages && entry & 0x100 != 0,
                                               dirty: entry & 0x40 != 0, pageShift: Int(shift)))
            }
            if entry & 0x20 == 0 { memory.store(entry | 0x20, gpa: entryAddress) }
            table = entry & PageTableEntry.addressMask
            level -= 1
        }
    }
}
