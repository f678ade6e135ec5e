import X86
import VTx
import Machine

/// The guest's control state as the guest sees it, read from the current VMCS: one definition
/// that every handler uses (CR access, CPUID's OSXSAVE, XSETBV, string I/O's page walks).
/// CR0 and CR4 are guest-visible values (GuestControlRegister, SDM Vol. 3C §25.6.6), never the
/// read shadow alone nor GUEST_CRn alone.
public enum GuestControlState {
    /// CPUID.80000008H:EAX[7:0] of the host, read once at VMXON (PDPTE and CR3 reserved bits).
    nonisolated(unsafe) public static var maxPhysicalAddressBits: Int = 36

    public static func configure<H: VMXHardware>(_ hw: H) {
        if hw.hostCPUID(0x8000_0000, 0).eax >= 0x8000_0008 {
            maxPhysicalAddressBits = Int(hw.hostCPUID(0x8000_0008, 0).eax & 0xFF)
        }
    }

    @inline(__always) public static func cr0<H: VMXHardware>(_ hw: H) -> UInt64 {
        GuestControlRegister.visible(actual: hw.read(.guestCR0), mask: hw.read(.cr0GuestHostMask),
                                     readShadow: hw.read(.cr0ReadShadow))
    }

    @inline(__always) public static func cr4<H: VMXHardware>(_ hw: H) -> UInt64 {
        GuestControlRegister.visible(actual: hw.read(.guestCR4), mask: hw.read(.cr4GuestHostMask),
                                     readShadow: hw.read(.cr4ReadShadow))
    }

    /// CS.L (access rights bit 13): 64-bit code when IA-32e mode is active.
    @inline(__always) public static func codeSegmentLong<H: VMXHardware>(_ hw: H) -> Bool {
        hw.read(.guestCSAccessRights) & (1 << 13) != 0
    }

    /// The current privilege level: SS.DPL (SDM Vol. 3C §27.3.1.2: it equals CPL).
    @inline(__always) public static func cpl<H: VMXHardware>(_ hw: H) -> Int {
        Int((hw.read(.guestSSAccessRights) >> 5) & 3)
    }

    public static func registers<H: VMXHardware>(_ hw: H) -> ControlRegisterState {
        ControlRegisterState(cr0: cr0(hw), cr3: hw.read(.guestCR3), cr4: cr4(hw), efer: hw.read(.guestIA32EFER),
                             codeSegmentLong: codeSegmentLong(hw))
    }

    /// What a guest page walk needs: CR0/CR4/EFER/CR3, RFLAGS.AC, and the PDPTE registers, which
    /// a VM exit saves into the VMCS when PAE paging is in use under EPT (SDM Vol. 3C §28.3.4).
    public static func paging<H: VMXHardware>(_ hw: H) -> GuestPagingState {
        let state = registers(hw)
        let pdptes = state.pagingMode == .pae
            ? (hw.read(.guestPDPTE0), hw.read(.guestPDPTE1), hw.read(.guestPDPTE2), hw.read(.guestPDPTE3))
            : (0, 0, 0, 0)
        return GuestPagingState(cr0: state.cr0, cr3: state.cr3, cr4: state.cr4, efer: state.efer,
                                rflagsAC: hw.read(.guestRFLAGS) & RFLAGS.ac.rawValue != 0,
                                pdptes: pdptes, maxPhysicalAddressBits: maxPhysicalAddressBits)
    }

    /// Loads the four PAE PDPTEs from the guest's CR3 into the VMCS, as MOV to CR0/CR3/CR4 would
    /// load the PDPTE registers (SDM Vol. 3A §4.4.1; with EPT, VM entry takes them from the VMCS,
    /// Vol. 3C §27.3.2.4). False when one has a reserved bit set (the caller injects #GP) or the
    /// table lies outside the guest's RAM.
    public static func loadPDPTEs<H: VMXHardware>(_ hw: H, cr3: UInt64, memory: GuestMemory) -> Bool {
        let table = PAEPDPTE.tableAddress(cr3: cr3)
        guard let e0 = memory.load(UInt64.self, gpa: table), let e1 = memory.load(UInt64.self, gpa: table + 8),
              let e2 = memory.load(UInt64.self, gpa: table + 16), let e3 = memory.load(UInt64.self, gpa: table + 24)
        else { return false }
        let bits = maxPhysicalAddressBits
        guard PAEPDPTE.isValid(e0, maxPhysicalAddressBits: bits), PAEPDPTE.isValid(e1, maxPhysicalAddressBits: bits),
              PAEPDPTE.isValid(e2, maxPhysicalAddressBits: bits), PAEPDPTE.isValid(e3, maxPhysicalAddressBits: bits)
        else { return false }
        hw.write(.guestPDPTE0, e0)
        hw.write(.guestPDPTE1, e1)
        hw.write(.guestPDPTE2, e2)
        hw.write(.guestPDPTE3, e3)
        return true
    }
}
