import X86
import VTx
import Machine

/// One VM's shadow paging (the tables' design is in ShadowPageTables.swift): the shadow
/// tables, the CR3 its guest loaded and the EFER it wrote. Under shadow paging GUEST_CR3 holds the
/// shadow root and GUEST_IA32_EFER lacks LME while the guest's paging is off (the kernel's
/// Kernel/Hypervisor/ShadowPaging.swift says what else building such a VM changes in its VMCS).
/// The exits are ShadowPagingExit's.
public struct ShadowPagingState<Memory: ShadowFrameMemory> {
    public var tables: ShadowPageTables<Memory>
    /// The CR3 the guest loaded last: what MOV from CR3 reads, and whose tables the shadow follows.
    public var guestCR3: UInt64
    /// IA32_EFER as the guest wrote it (GUEST_IA32_EFER lacks LME while its paging is off).
    public var guestEFER: UInt64

    public init(tables: ShadowPageTables<Memory>, guestCR3: UInt64, guestEFER: UInt64 = 0) {
        self.tables = tables
        self.guestCR3 = guestCR3
        self.guestEFER = guestEFER
    }

    /// GUEST_IA32_EFER from the guest's EFER: LME only while its paging is on (VM entry checks
    /// LME = LMA with CR0.PG = 1, SDM Vol. 3C §27.3.1.1, and the processor always pages here).
    @inline(__always)
    public func writeEFER<H: VMXHardware>(_ hw: H) {
        let pagingOn = GuestControlState.cr0(hw) & CR0.pg.rawValue != 0
        hw.write(.guestIA32EFER, pagingOn ? guestEFER : guestEFER & ~EFER.lme.rawValue)
    }

    /// The guest's paging controls as it sees them, with its own CR3.
    public func controls<H: VMXHardware>(_ hw: H) -> ShadowGuestControls {
        ShadowGuestControls(cr0: GuestControlState.cr0(hw), cr3: guestCR3, cr4: GuestControlState.cr4(hw),
                            efer: guestEFER, maxPhysicalAddressBits: GuestControlState.maxPhysicalAddressBits)
    }

    /// A CR3 load or a change of the paging controls: the shadow root for them into GUEST_CR3.
    @inline(__always)
    public mutating func activate<H: VMXHardware>(_ hw: H, memory: GuestMemory) -> ShadowActivation {
        let result = tables.activate(controls(hw), guest: memory)
        if case .root(let root) = result { hw.write(.guestCR3, root) }
        return result
    }

    /// GUEST_CR3 back to the shadow root after a handler that walked the guest's own tables.
    @inline(__always)
    public func restoreShadowRoot<H: VMXHardware>(_ hw: H) {
        hw.write(.guestCR3, tables.activeRoot ?? 0)
    }
}
