import X86
import VTx
import Machine

// The guest-state area (SDM Vol. 3C §25.4), written from the machine-level
// CPUStartState the loader produced, plus the VMX-only parts:
// - CR0/CR4 as the processor runs them (VMX fixed bits forced in) versus as the
//   guest sees them (the read shadows; the guest/host masks make the guest's
//   writes to forced bits exit, SDM §25.6.6);
// - the VMCS link pointer, which must be all ones when VMCS shadowing is off
//   (§27.3.1.5, else VM entry fails);
// - activity and interruptibility state, pending debug exceptions.

enum GuestState {
    /// The bits of CR0 the guest may not own: those VMX forces (fixed bits), and PG,
    /// whose changes we must see to keep the "IA-32e mode guest" entry control in step.
    static func cr0Mask(_ caps: VMXCapabilities, unrestrictedGuest: Bool) -> UInt64 {
        let fixed = caps.cr0.guestCR0(unrestrictedGuest: unrestrictedGuest)
        return (fixed.fixed0 | ~fixed.fixed1 | CR0.pg.rawValue | CR0.ne.rawValue) & 0xFFFF_FFFF
    }

    static func cr4Mask(_ caps: VMXCapabilities) -> UInt64 {
        (caps.cr4.fixed0 | ~caps.cr4.fixed1 | CR4.vmxe.rawValue) & 0xFFFF_FFFF
    }

    static func write(_ state: CPUStartState, to vmcs: VMCS, caps: VMXCapabilities, unrestrictedGuest: Bool) throws(VMXError) {
        let cr0Fixed = caps.cr0.guestCR0(unrestrictedGuest: unrestrictedGuest)
        try vmcs.write(.guestCR0, cr0Fixed.adjust(state.cr0.rawValue))
        try vmcs.write(.cr0ReadShadow, state.cr0.rawValue)
        try vmcs.write(.cr0GuestHostMask, cr0Mask(caps, unrestrictedGuest: unrestrictedGuest))
        try vmcs.write(.guestCR3, state.cr3)
        try vmcs.write(.guestCR4, caps.cr4.adjust(state.cr4.rawValue))
        try vmcs.write(.cr4ReadShadow, state.cr4.rawValue)
        try vmcs.write(.cr4GuestHostMask, cr4Mask(caps))
        // Without the EFER/PAT controls the VMCS has no such fields (EFERSwitch; the PAT is virtual).
        if !EFERSwitch.viaMSRAreas { try vmcs.write(.guestIA32EFER, state.efer.rawValue) }
        if caps.entryCapability.mayBeOne & VMEntryControls.loadPAT.rawValue != 0 {
            try vmcs.write(.guestIA32PAT, 0x0007_0406_0007_0406)     // the power-up PAT
        }
        try vmcs.write(.guestDR7, 0x400)
        try vmcs.write(.guestIA32DebugCtl, 0)

        try vmcs.write(.guestRIP, state.rip)
        try vmcs.write(.guestRSP, state.rsp)
        try vmcs.write(.guestRFLAGS, state.rflags)

        try segment(state.cs, .guestCSSelector, .guestCSBase, .guestCSLimit, .guestCSAccessRights, vmcs)
        try segment(state.ss, .guestSSSelector, .guestSSBase, .guestSSLimit, .guestSSAccessRights, vmcs)
        try segment(state.ds, .guestDSSelector, .guestDSBase, .guestDSLimit, .guestDSAccessRights, vmcs)
        try segment(state.es, .guestESSelector, .guestESBase, .guestESLimit, .guestESAccessRights, vmcs)
        try segment(state.fs, .guestFSSelector, .guestFSBase, .guestFSLimit, .guestFSAccessRights, vmcs)
        try segment(state.gs, .guestGSSelector, .guestGSBase, .guestGSLimit, .guestGSAccessRights, vmcs)
        try segment(state.tr, .guestTRSelector, .guestTRBase, .guestTRLimit, .guestTRAccessRights, vmcs)
        try segment(state.ldtr, .guestLDTRSelector, .guestLDTRBase, .guestLDTRLimit, .guestLDTRAccessRights, vmcs)
        try vmcs.write(.guestGDTRBase, state.gdtrBase)
        try vmcs.write(.guestGDTRLimit, UInt64(state.gdtrLimit))
        try vmcs.write(.guestIDTRBase, state.idtrBase)
        try vmcs.write(.guestIDTRLimit, UInt64(state.idtrLimit))

        try vmcs.write(.guestIA32SysenterCS, 0)
        try vmcs.write(.guestIA32SysenterESP, 0)
        try vmcs.write(.guestIA32SysenterEIP, 0)
        try vmcs.write(.vmcsLinkPointer, ~0)
        try vmcs.write(.guestActivityState, UInt64(ActivityState.active.rawValue))
        try vmcs.write(.guestInterruptibilityState, 0)
        try vmcs.write(.guestPendingDebugExceptions, 0)
    }

    private static func segment(_ s: SegmentState, _ selector: VMCSField, _ base: VMCSField, _ limit: VMCSField,
                                _ rights: VMCSField, _ vmcs: VMCS) throws(VMXError) {
        try vmcs.write(selector, UInt64(s.selector))
        try vmcs.write(base, s.base)
        try vmcs.write(limit, UInt64(s.limit))
        try vmcs.write(rights, UInt64(s.accessRights.rawValue))
    }
}
