import X86
import VTx

/// A self-check of the guest-state area against the SDM's VM-entry checks (Vol. 3C §27.3.1)
/// before the first VMLAUNCH: when the processor rejects the state it only says "invalid guest
/// state" (exit reason 33); this names the rule. Not exhaustive: the checks that a hand-built
/// state most often gets wrong. It reads the current VMCS through `VMXHardware` (unit-tested
/// against FakeVMCS).
public enum GuestStateCheck {
    public static func problems<H: VMXHardware>(_ hw: H, unrestrictedGuest: Bool) -> [String] {
        var found: [String] = []
        func read(_ f: VMCSField) -> UInt64 { hw.read(f) }
        let entry = VMEntryControls(rawValue: UInt32(truncatingIfNeeded: read(.vmEntryControls)))
        let ia32e = entry.contains(.ia32eModeGuest)
        let cr0 = CR0(rawValue: read(.guestCR0)), cr4 = CR4(rawValue: read(.guestCR4))
        let efer = EFER(rawValue: read(.guestIA32EFER))
        let cs = AccessRights(rawValue: UInt32(truncatingIfNeeded: read(.guestCSAccessRights)))
        let ss = AccessRights(rawValue: UInt32(truncatingIfNeeded: read(.guestSSAccessRights)))
        let tr = AccessRights(rawValue: UInt32(truncatingIfNeeded: read(.guestTRAccessRights)))
        let ldtr = AccessRights(rawValue: UInt32(truncatingIfNeeded: read(.guestLDTRAccessRights)))
        let rflags = read(.guestRFLAGS)

        // §27.3.1.1: control registers and EFER.
        if ia32e && !(cr0.contains(.pg) && cr4.contains(.pae)) {
            found.append("IA-32e mode guest needs CR0.PG=1 and CR4.PAE=1 (SDM 27.3.1.1)")
        }
        if !ia32e && cr4.contains(.pcide) { found.append("CR4.PCIDE=1 outside IA-32e mode (SDM 27.3.1.1)") }
        if entry.contains(.loadEFER) {
            if efer.contains(.lma) != ia32e { found.append("EFER.LMA=\(efer.contains(.lma) ? 1 : 0) differs from the IA-32e mode guest control (SDM 27.3.1.1)") }
            if cr0.contains(.pg) && efer.contains(.lma) != efer.contains(.lme) { found.append("EFER.LMA differs from EFER.LME with CR0.PG=1 (SDM 27.3.1.1)") }
        }
        if cr0.contains(.pg) && !cr0.contains(.pe) { found.append("CR0.PG=1 with CR0.PE=0 (SDM 27.3.1.1)") }
        if !unrestrictedGuest && !(cr0.contains(.pe) && cr0.contains(.pg)) { found.append("CR0.PE and CR0.PG must be 1 without unrestricted guest (SDM 27.3.1.1)") }

        // §27.3.1.2: segment registers.
        if cs.unusable { found.append("CS is unusable (SDM 27.3.1.2)") }
        if ia32e && cs.long && cs.defaultBig { found.append("CS.L=1 and CS.D/B=1 together in IA-32e mode (SDM 27.3.1.2)") }
        if !cs.isCodeOrData { found.append("CS.S=0: CS must be a code segment (SDM 27.3.1.2)") }
        let csTypeOK = [9, 11, 13, 15].contains(Int(cs.type)) || (unrestrictedGuest && cs.type == 3)
        if !csTypeOK { found.append("CS type \(cs.type) is not an accessed code segment (SDM 27.3.1.2)") }
        if !cs.present { found.append("CS not present (SDM 27.3.1.2)") }
        if !ss.unusable && ss.dpl != (read(.guestSSSelector) & 3) && !unrestrictedGuest { found.append("SS.DPL differs from SS.RPL (SDM 27.3.1.2)") }
        if tr.unusable || tr.isCodeOrData || !tr.present { found.append("TR must be a usable, present system segment (SDM 27.3.1.2)") }
        if tr.type != 11 && !(tr.type == 3 && !ia32e) { found.append("TR type \(tr.type): must be a busy TSS (11, or 3 outside IA-32e mode) (SDM 27.3.1.2)") }
        if !ldtr.unusable && (ldtr.type != 2 || ldtr.isCodeOrData || !ldtr.present) { found.append("LDTR is usable but not a present LDT (SDM 27.3.1.2)") }

        // §27.3.1.4: RIP, RFLAGS and non-register state.
        if rflags & 2 == 0 { found.append("RFLAGS bit 1 must be 1 (SDM 27.3.1.4)") }
        if rflags & 0xFFFF_FFFF_FFC0_8028 != 0 { found.append("RFLAGS reserved bits set: \(Format.hex(rflags)) (SDM 27.3.1.4)") }
        if read(.guestActivityState) > 3 { found.append("activity state \(read(.guestActivityState)) is not defined (SDM 27.3.1.5)") }
        if read(.vmcsLinkPointer) != ~0 { found.append("VMCS link pointer must be FFFFFFFF_FFFFFFFFH without VMCS shadowing (SDM 27.3.1.5)") }
        return found
    }

}
