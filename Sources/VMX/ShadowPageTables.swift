import X86
import Machine

// Shadow page tables: memory virtualization on VT-x without EPT. The processor walks
// tables that map the guest's linear addresses straight to host-physical frames; the hypervisor
// builds them from the guest's own tables and puts their root in GUEST_CR3, while the guest reads
// its own CR3 (CR3-store exiting). One `ShadowPageTables` per VM, behind the VM's pointer (it
// holds unsafe storage: never copied).
//
// Keeping in step with the guest's tables: the shadow is a *virtual TLB*, not a mirror. A shadow
// leaf is made only when the guest touches an address (a #PF exit whose walk of the guest's tables
// succeeds: "fixed up silently"), and it is dropped exactly when a TLB entry of the real processor
// may be dropped: MOV to CR3 (non-global entries, §4.10.4.1), INVLPG (one page, any address space),
// a change of CR0.WP/PG, CR4.PAE/PSE/PGE/SMEP/SMAP or EFER.NXE (everything). So a guest write to its
// own tables is not trapped at all: the SDM already requires the guest to invalidate after it
// changes a translation (§4.10.4.2), and one that does not sees what a real TLB may show (the old
// translation, or a fault that the walk then fixes). The alternative, write-protecting every guest
// table page, costs an exit per PTE write (a fork writes thousands) and needs a reverse map from
// guest frames to shadows; the out-of-sync design costs a refault per page after a CR3 load.
//
// - Format: PAE entries for 32-bit, PAE and paging-off guests (the processor runs them with
//   CR4.PAE = 1; the root is a 4-entry PDPT below 4 GiB), 4-level entries for IA-32e guests.
//   5-level paging and PCIDs are not offered (CPUID hides them). Shadow leaves are 4 KiB: a guest
//   2 MiB/4 MiB/1 GiB page is shadowed piece by piece, and the shadow PDE (PDPTE for 1 GiB) above
//   the pieces is marked so INVLPG drops all of them.
// - Rights: a leaf allows at most what the guest walk allowed (U/S, R/W, XD). Accessed flags are
//   set in the guest's entries by the walk; the dirty flag when the guest first writes: a page
//   whose guest leaf is clean is mapped read-only until a write faults. The processor runs with
//   CR0.WP = 1; a guest with WP = 0 writing a read-only page in supervisor mode gets a writable
//   supervisor-only leaf, and its next user access refaults and gets the user's view.
// - Paging off: an identity shadow (linear = guest-physical, 4 GiB), since VMX without
//   unrestricted guest needs CR0.PG = 1 (§26.3.1.1).
// - Guest-physical addresses that are not the VM's RAM are never mapped: the fault comes back as
//   `outsideRAM` (the engine's EPT-violation path: device pages are emulated, the rest stops the VM).
// - CR3 loads: each cached root lists the page tables (by their PDE) that got non-global leaves
//   since its last CR3 load, and a CR3 load clears only those, not every table of the root (a
//   full scan when the list overflowed or tables were dropped under it).
// - Memory: a fixed pool of frames donated at VM build (counted in the VM's frames) and a bounded
//   cache of roots, one per guest CR3. When the pool runs dry the least recently used other root
//   is evicted, then the active root is emptied; when all root slots are in use the least recently
//   used is evicted.

/// Bits of shadow entries (SDM Vol. 3A §4.4-§4.5; bits 11:9 are ignored by the processor).
enum ShadowEntryBits {
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let accessed: UInt64 = 1 << 5
    static let dirty: UInt64 = 1 << 6
    static let noExecute: UInt64 = 1 << 63
    /// A non-leaf entry: present, writable, user (the leaf decides the rights).
    static let table: UInt64 = 0x7
    /// A PAE PDPTE: only P may be set (bits 2:1 are reserved, §4.4.1).
    static let paePDPTE: UInt64 = 0x1
    /// Software, in a leaf: the guest's translation is global (kept over CR3 loads).
    static let guestGlobal: UInt64 = 1 << 9
    /// Software, in a PDE (PDPTE): the table below holds pieces of a guest 2 MiB or 4 MiB (1 GiB) page.
    static let largeOrigin: UInt64 = 1 << 10
    /// Software, in a PDE: its page table is in the root's list of tables with non-global leaves.
    static let listed: UInt64 = 1 << 11
    static let address: UInt64 = 0x000F_FFFF_FFFF_F000
}

/// What a guest #PF under shadow paging comes to.
public enum ShadowFaultOutcome: Sendable, Equatable {
    /// The guest's tables allow the access: the shadow leaf is filled, the instruction runs again.
    case fixed
    /// The guest's own page fault: inject #PF with this error code, CR2 = the faulting address.
    case reflect(PageFaultErrorCode)
    /// The guest maps the address to guest-physical memory that is not its RAM (as an EPT violation).
    case outsideRAM(gpa: UInt64)
    /// A guest paging structure lies outside its RAM (as an EPT violation during the walk).
    case tableOutsideRAM(gpa: UInt64)
    /// No root is active, or the pool is smaller than one walk: the VM cannot go on.
    case noShadow
}

/// What a CR3 load (or a change of the paging controls) comes to.
public enum ShadowActivation: Sendable, Equatable {
    /// Put this in GUEST_CR3.
    case root(UInt64)
    /// A PAE PDPTE with a reserved bit set or outside RAM, or 5-level paging: the guest's MOV
    /// raises #GP(0) (§4.4.1) and nothing changes.
    case generalProtection
    /// The pool cannot hold a root: the VM cannot go on.
    case noShadow
}

/// Counters for reports and `make bench`.
public struct ShadowPagingStatistics: Sendable, Equatable {
    /// #PF exits fixed up silently (a shadow leaf made).
    public var fills: UInt64 = 0
    /// #PF exits that were the guest's own faults.
    public var reflected: UInt64 = 0
    /// CR3 loads that found their root in the cache / that built a new one.
    public var rootHits: UInt64 = 0
    public var rootMisses: UInt64 = 0
    /// Roots evicted for a slot or for frames.
    public var rootEvictions: UInt64 = 0
    /// Every root dropped (paging controls changed), and the active root emptied for frames.
    public var fullFlushes: UInt64 = 0
    public var poolFlushes: UInt64 = 0
    public var invalidations: UInt64 = 0
    public init() {}
}

/// One cached shadow root: the guest CR3 it shadows and the PDPTEs that CR3 load found.
struct ShadowRootSlot {
    var used = false
    var key: UInt64 = 0
    var mode: PagingMode = .none
    var root: UInt64 = 0
    var lastUse: UInt64 = 0
    var pdptes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// Entries in the root's list of PDEs whose tables got non-global leaves; -1: overflowed.
    var listed = 0

    /// PAE entries (a 4-entry PDPT root, 3 levels) for every mode but IA-32e paging.
    var paeFormat: Bool { mode != .level4 }
    var topLevel: Int { paeFormat ? 3 : 4 }
    var topCount: Int { paeFormat ? 4 : 512 }
}

public struct ShadowPageTables<Memory: ShadowFrameMemory> {
    public let memory: Memory
    public let rootCapacity: Int
    public private(set) var statistics = ShadowPagingStatistics()
    /// Frames donated to the pool, and how many are free now.
    public private(set) var totalFrames = 0
    public private(set) var freeFrames = 0
    private var freeHead: UInt64 = 0
    private let slots: UnsafeMutablePointer<ShadowRootSlot>
    /// Per root, `listCapacity` PDE locations (PD frame | index) of tables with non-global leaves.
    private let lists: UnsafeMutablePointer<UInt64>
    /// Every frame donated, so that dropping every root is a refill of the pool, not a walk.
    private let pool: UnsafeMutablePointer<UInt64>
    public let poolCapacity: Int
    static var listCapacity: Int { 64 }
    private var active = -1
    private var controls: ShadowGuestControls? = nil
    private var clock: UInt64 = 0

    /// A shadow with room for `rootCapacity` cached roots (at least 1) and `poolCapacity` frames, and no frames yet.
    public init(memory: Memory, rootCapacity: Int, poolCapacity: Int = 1024) {
        self.memory = memory
        self.poolCapacity = max(1, poolCapacity)
        pool = UnsafeMutablePointer<UInt64>.allocate(capacity: self.poolCapacity)
        self.rootCapacity = max(1, rootCapacity)
        slots = UnsafeMutablePointer<ShadowRootSlot>.allocate(capacity: self.rootCapacity)
        slots.initialize(repeating: ShadowRootSlot(), count: self.rootCapacity)
        lists = UnsafeMutablePointer<UInt64>.allocate(capacity: self.rootCapacity * Self.listCapacity)
    }

    /// Frees the slot storage (the frames belong to the VM's frame list).
    public func deallocate() {
        slots.deallocate()
        lists.deallocate()
        pool.deallocate()
    }

    /// Gives a 4 KiB frame to the pool. Refused (false) at 0 or above 4 GiB (a PAE root must sit
    /// where a 32-bit CR3 reaches), or past `poolCapacity`.
    @discardableResult
    public mutating func donate(frame: UInt64) -> Bool {
        guard frame != 0, frame & 0xFFF == 0, frame < 1 << 32, totalFrames < poolCapacity else { return false }
        push(frame)
        pool[totalFrames] = frame
        totalFrames += 1
        return true
    }

    /// The root in GUEST_CR3 now, if any.
    public var activeRoot: UInt64? { active >= 0 ? slots[active].root : nil }
    /// Roots cached now.
    public var cachedRoots: Int {
        var n = 0
        for i in 0..<rootCapacity where slots[i].used { n += 1 }
        return n
    }

    // MARK: CR3 loads and TLB flushes

    /// A guest CR3 load, or a change of its paging controls (`controls` as they are now): the
    /// root to run on. A cached root for the same CR3 drops its non-global leaves, as the TLB
    /// does (§4.10.4.1); changed translation rules drop every root first.
    public mutating func activate(_ controls: ShadowGuestControls, guest: GuestMemory) -> ShadowActivation {
        let mode = controls.paging.mode
        if mode == .level5 { return .generalProtection }
        var pdptes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        if mode == .pae {
            // MOV to CR3 in PAE mode loads the four PDPTE registers (§4.4.1).
            let table = PAEPDPTE.tableAddress(cr3: controls.paging.cr3)
            let bits = controls.paging.maxPhysicalAddressBits
            guard let e0 = guest.load(UInt64.self, gpa: table), let e1 = guest.load(UInt64.self, gpa: table + 8),
                  let e2 = guest.load(UInt64.self, gpa: table + 16), let e3 = guest.load(UInt64.self, gpa: table + 24),
                  PAEPDPTE.isValid(e0, maxPhysicalAddressBits: bits), PAEPDPTE.isValid(e1, maxPhysicalAddressBits: bits),
                  PAEPDPTE.isValid(e2, maxPhysicalAddressBits: bits), PAEPDPTE.isValid(e3, maxPhysicalAddressBits: bits)
            else { return .generalProtection }
            pdptes = (e0, e1, e2, e3)
        }
        if let last = self.controls, !last.sameTranslationRules(as: controls) { flushAll() }
        self.controls = controls
        clock &+= 1
        let key = Self.rootKey(controls)
        for i in 0..<rootCapacity where slots[i].used && slots[i].key == key && slots[i].mode == mode {
            statistics.rootHits += 1
            if mode != .none {
                if slots[i].pdptes == pdptes { dropNonGlobal(i) } else { empty(i) }
                slots[i].pdptes = pdptes
            }
            slots[i].lastUse = clock
            active = i
            return .root(slots[i].root)
        }
        statistics.rootMisses += 1
        active = -1
        var chosen = -1
        for i in 0..<rootCapacity where !slots[i].used { chosen = i; break }
        if chosen < 0 {
            chosen = leastRecentlyUsed(except: -1)
            evict(chosen)
        }
        guard reserve(1, keep: chosen), let root = allocate() else { return .noShadow }
        slots[chosen] = ShadowRootSlot(used: true, key: key, mode: mode, root: root, lastUse: clock, pdptes: pdptes)
        active = chosen
        return .root(root)
    }

    /// INVLPG (and INVPCID/INVVPID of one address): drop the shadow leaf of `linear` in every root,
    /// and the whole guest large page it lies in.
    public mutating func invalidatePage(_ linear: UInt64) {
        statistics.invalidations += 1
        for i in 0..<rootCapacity where slots[i].used {
            let slot = slots[i]
            let address = slot.paeFormat ? linear & 0xFFFF_FFFF : linear
            guard let pdpt = table(of: slot, at: address, level: 3) else { continue }
            if !slot.paeFormat {
                // A guest 1 GiB page: its whole page directory goes.
                let pdpteIndex = Int((address >> 30) & 0x1FF)
                let pdptEntries = memory.entries(ofFrame: pdpt)
                if pdptEntries[pdpteIndex] & ShadowEntryBits.largeOrigin != 0 {
                    dropTable(pdptEntries, pdpteIndex, childLevel: 2)
                    slots[i].listed = -1      // a listed PDE may have been in that page directory
                    continue
                }
            }
            guard let pd = table(of: slot, at: address, level: 2) else { continue }
            let entries = memory.entries(ofFrame: pd)
            let index = Int((address >> 21) & 0x1FF)
            let pde = entries[index]
            guard pde & ShadowEntryBits.present != 0 else { continue }
            if pde & ShadowEntryBits.largeOrigin != 0 {
                dropTable(entries, index, childLevel: 1)
                // A 32-bit guest's 4 MiB page spans two shadow PDEs (both in this PD: the list stays right).
                if slot.mode == .bits32 && entries[index ^ 1] & ShadowEntryBits.largeOrigin != 0 {
                    dropTable(entries, index ^ 1, childLevel: 1)
                }
            } else {
                memory.entries(ofFrame: pde & ShadowEntryBits.address)[Int((address >> 12) & 0x1FF)] = 0
            }
        }
    }

    /// Every root dropped: the translation rules changed (or the VM is reset).
    public mutating func flushAll() {
        statistics.fullFlushes += 1
        for i in 0..<rootCapacity { slots[i].used = false }
        active = -1
        freeHead = 0
        freeFrames = 0
        for i in 0..<totalFrames { push(pool[i]) }
    }

    // MARK: page faults

    /// A #PF exit at `linear` with the processor's `errorCode`: walk the guest's tables and
    /// either fill the shadow leaf or hand the guest its own fault.
    public mutating func pageFault(linear: UInt64, errorCode: PageFaultErrorCode, rflagsAC: Bool,
                                   guest: GuestMemory) -> ShadowFaultOutcome {
        guard active >= 0, var controls = self.controls else { return .noShadow }
        controls.paging.alignmentCheck = rflagsAC
        let slot = slots[active]
        let address = slot.paeFormat ? linear & 0xFFFF_FFFF : linear
        let access = PageAccess(write: errorCode.contains(.write), user: errorCode.contains(.user),
                                instructionFetch: errorCode.contains(.instructionFetch))
        switch ShadowGuestWalk.walk(address, access: access, controls: controls, pdptes: slot.pdptes, memory: guest) {
        case .pageFault(let code):
            statistics.reflected += 1
            return .reflect(code)
        case .tableOutsideRAM(let gpa):
            return .tableOutsideRAM(gpa: gpa)
        case .mapped(let leaf):
            guard let host = memory.hostFrame(ofGuestPage: leaf.page) else {
                return .outsideRAM(gpa: leaf.page | (address & 0xFFF))
            }
            guard reserve(slot.topLevel - 1, keep: active) else { return .noShadow }
            install(Self.leafEntry(host, leaf, access: access), at: address,
                    originLevel: leaf.pageShift >= 30 ? 3 : leaf.pageShift > 12 ? 2 : 0, global: leaf.global)
            statistics.fills += 1
            return .fixed
        }
    }

    /// The shadow leaf for a guest translation just used for `access`: no more than the guest allows,
    /// writable only once the guest's D flag is set.
    static func leafEntry(_ host: UInt64, _ leaf: ShadowGuestLeaf, access: PageAccess) -> UInt64 {
        var entry = host | ShadowEntryBits.present | ShadowEntryBits.accessed
        var user = leaf.user
        if access.write || (leaf.writable && leaf.dirty) {
            entry |= ShadowEntryBits.writable | ShadowEntryBits.dirty
            // A supervisor write the guest's CR0.WP = 0 allows: keep user accesses out (they refault).
            if !leaf.writable { user = false }
        }
        if user { entry |= ShadowEntryBits.user }
        if !leaf.executable { entry |= ShadowEntryBits.noExecute }
        if leaf.global { entry |= ShadowEntryBits.guestGlobal }
        return entry
    }

    /// The key a root is cached under: CR3's table address (PWT/PCD and, for PAE, bits 4:0 aside).
    static func rootKey(_ controls: ShadowGuestControls) -> UInt64 {
        switch controls.paging.mode {
        case .none: return 0
        case .bits32: return controls.paging.cr3 & 0xFFFF_F000
        case .pae: return PAEPDPTE.tableAddress(cr3: controls.paging.cr3)
        case .level4, .level5: return controls.paging.cr3 & ShadowEntryBits.address
        }
    }

    // MARK: the tables

    /// Writes `leaf` for `address` in the active root, making the tables on the way (the frames
    /// are reserved by the caller); the entry at `originLevel` (2 or 3, 0: none) is marked as
    /// covering a guest large page.
    private mutating func install(_ leaf: UInt64, at address: UInt64, originLevel: Int, global: Bool) {
        let slot = slots[active]
        var table = slot.root
        var level = slot.topLevel
        while level > 1 {
            let entries = memory.entries(ofFrame: table)
            let index = Self.index(address, level: level, paeTop: slot.paeFormat && level == 3)
            var entry = entries[index]
            if entry & ShadowEntryBits.present == 0 {
                guard let next = allocate() else { return }
                entry = next | (slot.paeFormat && level == 3 ? ShadowEntryBits.paePDPTE : ShadowEntryBits.table)
            }
            if level == originLevel { entry |= ShadowEntryBits.largeOrigin }
            if level == 2 && !global && entry & ShadowEntryBits.listed == 0 {
                entry |= ShadowEntryBits.listed
                let count = slots[active].listed
                if count >= 0 && count < Self.listCapacity {
                    lists[active * Self.listCapacity + count] = table | UInt64(index)
                    slots[active].listed = count + 1
                } else {
                    slots[active].listed = -1
                }
            }
            entries[index] = entry
            table = entry & ShadowEntryBits.address
            level -= 1
        }
        memory.entries(ofFrame: table)[Self.index(address, level: 1, paeTop: false)] = leaf
    }

    /// The existing table at `level` on the way to `address` in `slot`, nil where an entry is missing.
    private func table(of slot: ShadowRootSlot, at address: UInt64, level target: Int) -> UInt64? {
        var table = slot.root
        var level = slot.topLevel
        while level > target {
            let entry = memory.entries(ofFrame: table)[Self.index(address, level: level, paeTop: slot.paeFormat && level == 3)]
            guard entry & ShadowEntryBits.present != 0 else { return nil }
            table = entry & ShadowEntryBits.address
            level -= 1
        }
        return table
    }

    @inline(__always)
    static func index(_ address: UInt64, level: Int, paeTop: Bool) -> Int {
        paeTop ? Int((address >> 30) & 3) : Int((address >> UInt64(12 + 9 * (level - 1))) & 0x1FF)
    }

    /// A CR3 load that finds root `i` cached: its non-global leaves go (§4.10.4.1), through its list
    /// of tables that got any, or by a scan of every table when the list overflowed.
    private mutating func dropNonGlobal(_ i: Int) {
        let count = slots[i].listed
        if count < 0 {
            _ = clear(slots[i].root, level: slots[i].topLevel, count: slots[i].topCount, keepGlobal: true)
        } else {
            for n in 0..<count {
                let location = lists[i * Self.listCapacity + n]
                let pd = memory.entries(ofFrame: location & ShadowEntryBits.address)
                let index = Int(location & 0x1FF)
                let pde = pd[index]
                guard pde & ShadowEntryBits.present != 0, pde & ShadowEntryBits.listed != 0 else { continue }
                let table = pde & ShadowEntryBits.address
                if clear(table, level: 1, count: 512, keepGlobal: true) {
                    pd[index] = 0
                    push(table)
                } else {
                    pd[index] = pde & ~ShadowEntryBits.listed
                }
            }
        }
        slots[i].listed = 0
    }

    /// Every table of root `i` freed (its root stays).
    private mutating func empty(_ i: Int) {
        _ = clear(slots[i].root, level: slots[i].topLevel, count: slots[i].topCount, keepGlobal: false)
        slots[i].listed = 0
    }

    /// Frees the table (at `childLevel`) under `entries[index]` and everything below it, and clears the entry.
    private mutating func dropTable(_ entries: UnsafeMutablePointer<UInt64>, _ index: Int, childLevel: Int) {
        let child = entries[index] & ShadowEntryBits.address
        entries[index] = 0
        _ = clear(child, level: childLevel, count: 512, keepGlobal: false)
        push(child)
    }

    /// Clears `table`'s entries (a leaf stays when it is global and `keepGlobal`), freeing the tables
    /// below that end up empty. True when nothing is left in it.
    private mutating func clear(_ table: UInt64, level: Int, count: Int, keepGlobal: Bool) -> Bool {
        let entries = memory.entries(ofFrame: table)
        var empty = true
        for i in 0..<count {
            let entry = entries[i]
            if entry & ShadowEntryBits.present == 0 { continue }
            if level == 1 {
                if keepGlobal && entry & ShadowEntryBits.guestGlobal != 0 { empty = false } else { entries[i] = 0 }
            } else {
                let child = entry & ShadowEntryBits.address
                if clear(child, level: level - 1, count: 512, keepGlobal: keepGlobal) {
                    entries[i] = 0
                    push(child)
                } else {
                    // Only global leaves are left below: off the list (the caller resets it).
                    if level == 2 { entries[i] = entry & ~ShadowEntryBits.listed }
                    empty = false
                }
            }
        }
        return empty
    }

    // MARK: the pool

    /// Makes `count` frames free, evicting other roots (never `keep`) and then emptying the active root.
    private mutating func reserve(_ count: Int, keep: Int) -> Bool {
        var emptiedActive = false
        while freeFrames < count {
            let victim = leastRecentlyUsed(except: keep)
            if victim >= 0 && victim != active {
                evict(victim)
            } else if active >= 0 && !emptiedActive {
                statistics.poolFlushes += 1
                empty(active)
                emptiedActive = true
            } else {
                return false
            }
        }
        return true
    }

    /// The least recently used root other than `except` and the active one, or -1.
    private func leastRecentlyUsed(except: Int) -> Int {
        var best = -1
        for i in 0..<rootCapacity where slots[i].used && i != except && i != active {
            if best < 0 || slots[i].lastUse < slots[best].lastUse { best = i }
        }
        return best
    }

    private mutating func evict(_ i: Int, counted: Bool = true) {
        guard i >= 0, slots[i].used else { return }
        if counted { statistics.rootEvictions += 1 }
        let slot = slots[i]
        _ = clear(slot.root, level: slot.topLevel, count: slot.topCount, keepGlobal: false)
        push(slot.root)
        slots[i].used = false
        if active == i { active = -1 }
    }

    private mutating func push(_ frame: UInt64) {
        memory.entries(ofFrame: frame)[0] = freeHead
        freeHead = frame
        freeFrames += 1
    }

    /// A zeroed frame from the pool.
    private mutating func allocate() -> UInt64? {
        guard freeHead != 0 else { return nil }
        let frame = freeHead
        let entries = memory.entries(ofFrame: frame)
        freeHead = entries[0]
        freeFrames -= 1
        entries.initialize(repeating: 0, count: 512)
        return frame
    }
}
