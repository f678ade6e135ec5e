import X86
import VTx
import Machine
import VMX

// Shadow paging for a VM (the design is in Sources/VMX/ShadowPageTables.swift): the
// VM's shadow page tables, the CR3 its guest loaded, and what building the VM under shadow
// paging changes in its VMCS. The exits are Sources/VMX/ShadowPagingExit.swift's
// (the kernel's glue: VMExit/GuestShadowPaging.swift).
//
// Under shadow paging GUEST_CR3 holds the shadow root (CR3-load/store exiting keep the guest's
// own CR3 here), #PF and INVLPG exit, and the processor runs with:
// - CR0.PE and CR0.PG set (VMX without unrestricted guest, §26.3.1.1; the guest reads its own
//   values from the read shadow) and CR0.WP set (a clean page is read-only in the shadow until
//   the guest writes it: its dirty flag); the guest's WP lives in the read shadow;
// - CR4.PAE set: 32-bit, PAE and paging-off guests all run on PAE-format shadows;
// - CR4.PSE/PGE/SMEP/SMAP owned (their changes exit: they change the translation rules);
//   CR4.PCIDE and LA57 refused (#GP: CPUID shows no PCID, no LA57 under shadow paging);
// - no VPID: every VM entry and exit flushes the TLB, so a shadow entry dropped on an exit is
//   never used again.
// - EFER.LME held back while the guest's paging is off: the processor always pages, and
//   LME = 1 with CR0.PG = 1 would be IA-32e mode (VM entry checks LME = LMA, §27.3.1.1). EFER
//   reads and writes exit; the guest's own EFER lives here and reaches GUEST_IA32_EFER with LME
//   once the guest turns paging on (CRAccessExit then activates IA-32e mode as under EPT).

/// The kernel's host for the shadow tables: pool frames through the identity map, guest RAM as
/// the one contiguous block VMBuilder allocates.
struct KernelShadowMemory: ShadowFrameMemory {
    let ramHPA: UInt64
    let ramBytes: UInt64

    @inline(__always) func entries(ofFrame frame: UInt64) -> UnsafeMutablePointer<UInt64> {
        physicalPointer(frame).assumingMemoryBound(to: UInt64.self)
    }
    @inline(__always) func hostFrame(ofGuestPage gpa: UInt64) -> UInt64? { gpa < ramBytes ? ramHPA &+ gpa : nil }
}

/// The VM's shadow paging state (Sources/VMX/ShadowPagingState.swift) on the kernel's host.
typealias ShadowPaging = ShadowPagingState<KernelShadowMemory>

extension ShadowPagingState where Memory == KernelShadowMemory {
    /// Pool frames per VM (1 MiB: counted in the VM's frames) and shadow roots cached per VM.
    static var poolFrames: Int { 256 }
    static var rootCapacity: Int { 8 }
    /// CR4 bits whose changes must exit under shadow paging.
    static var cr4Owned: UInt64 {
        CR4.pae.rawValue | CR4.pse.rawValue | CR4.pge.rawValue | CR4.smep.rawValue
            | CR4.smap.rawValue | CR4.pcide.rawValue | CR4.la57.rawValue
    }

    /// The state for a VM whose RAM is `ramBytes` at host-physical `ram`, with its pool taken from
    /// `frames` (inside the build's frame ownership, so the VM gives them back). Nil when out of memory.
    static func create(ram: UInt64, ramBytes: UInt64, guestCR3: UInt64,
                       frames: inout FrameAllocator) -> UnsafeMutablePointer<ShadowPaging>? {
        var tables = ShadowPageTables(memory: KernelShadowMemory(ramHPA: ram, ramBytes: ramBytes),
                                      rootCapacity: rootCapacity, poolCapacity: poolFrames)
        for _ in 0..<poolFrames {
            guard let frame = frames.allocate(), tables.donate(frame: frame) else {
                tables.deallocate()
                return nil
            }
        }
        let state = UnsafeMutablePointer<ShadowPaging>.allocate(capacity: 1)
        state.initialize(to: ShadowPaging(tables: tables, guestCR3: guestCR3))
        return state
    }

    static func destroy(_ state: UnsafeMutablePointer<ShadowPaging>) {
        state.pointee.tables.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// At VM build, with the vCPU's VMCS current and its guest state written: the CR0/CR4 bits
    /// shadow paging owns, and the first shadow root in GUEST_CR3. False when the pool cannot hold it.
    mutating func prepare(_ cpu: inout VCPUState, memory: GuestMemory) -> Bool {
        let hw = HardwareVMCS()
        cpu.cr0Fixed.fixed0 |= CR0.wp.rawValue
        cpu.cr4Fixed.fixed0 |= CR4.pae.rawValue
        cpu.cr4Fixed.fixed1 &= ~(CR4.pcide.rawValue | CR4.la57.rawValue)
        hw.write(.guestCR0, cpu.cr0Fixed.adjust(hw.read(.cr0ReadShadow)))
        hw.write(.cr0GuestHostMask, hw.read(.cr0GuestHostMask) | CR0.wp.rawValue)
        hw.write(.guestCR4, cpu.cr4Fixed.adjust(hw.read(.cr4ReadShadow)))
        hw.write(.cr4GuestHostMask, hw.read(.cr4GuestHostMask) | Self.cr4Owned)
        guestEFER = hw.read(.guestIA32EFER)
        writeEFER(hw)
        if case .root = activate(hw, memory: memory) { return true }
        return false
    }
}

extension ShadowPagingState where Memory == KernelShadowMemory {
    /// The VM report's shadow-paging line: what the #PF and CR3 exits came to, and the pool.
    func printReport(prefix: String) {
        let s = tables.statistics
        print("\(prefix)shadow paging: \(s.fills) fills, \(s.reflected) #PF reflected, CR3 loads \(s.rootHits) cached "
            + "+ \(s.rootMisses) new roots, \(s.rootEvictions) evicted, \(s.invalidations) INVLPG, "
            + "\(s.fullFlushes) full flushes, \(s.poolFlushes) pool flushes; "
            + "\(tables.totalFrames - tables.freeFrames) of \(tables.totalFrames) frames in use")
    }
}
