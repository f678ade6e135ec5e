import X86
import VTx

// Control-register accesses (SDM Vol. 3C §26.1.3, qualification Table 28-3).
// Only CR0 and CR4 exit, and only when the guest writes a bit it does not own
// (the guest/host masks, §25.6.6): bits the VMX fixed-bit MSRs force, CR0.PG
// and CR4.VMXE. The guest's view of these bits lives in the read shadows.
//
// CR0.PG is intercepted because turning paging on with EFER.LME = 1 activates
// IA-32e mode: the processor sets EFER.LMA itself, but under VMX the VM-entry
// control "IA-32e mode guest" must equal the guest's EFER.LMA (§27.3.1.1), so
// we keep the two in step here.
enum CRAccessExit {
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        let q = CRAccessQualification(rawValue: vmreadFast(.exitQualification))
        switch q.accessType {
        case .movToCR:
            let value = regs.pointee[Int(q.register.rawValue)]
            switch q.controlRegister {
            case 0: writeCR0(vm, value)
            case 4: writeCR4(vm, value)
            default:
                vm.pointee.stop = .unsupportedCRAccess(controlRegister: q.controlRegister, accessType: "MOV to", rip: vmreadFast(.guestRIP))
                return false
            }
        case .lmsw:
            // LMSW loads CR0 bits 3:0 but can never clear PE (SDM Vol. 2A LMSW).
            let shadow = vmreadFast(.cr0ReadShadow)
            let source = UInt64(q.lmswSourceData)
            writeCR0(vm, (shadow & ~0xE) | (source & 0xF) | (shadow & 1))
        case .clts:
            writeCR0(vm, vmreadFast(.cr0ReadShadow) & ~CR0.ts.rawValue)
        case .movFromCR:
            vm.pointee.stop = .unsupportedCRAccess(controlRegister: q.controlRegister, accessType: "MOV from", rip: vmreadFast(.guestRIP))
            return false
        }
        return true
    }

    static func writeCR0(_ vm: UnsafeMutablePointer<VirtualMachine>, _ value: UInt64) {
        let new = CR0(rawValue: value)
        // SDM Vol. 3A §2.5 / MOV to CR0: reserved high bits, PG without PE, NW without CD: #GP.
        if value >> 32 != 0 || (new.contains(.pg) && !new.contains(.pe)) || (new.contains(.nw) && !new.contains(.cd)) {
            Guest.injectGeneralProtection()
            return
        }
        let old = CR0(rawValue: vmreadFast(.cr0ReadShadow))
        var efer = EFER(rawValue: vmreadFast(.guestIA32EFER))
        if new.contains(.pg) != old.contains(.pg) {
            if new.contains(.pg) && efer.contains(.lme) {
                if vmreadFast(.cr4ReadShadow) & CR4.pae.rawValue == 0 {   // long mode needs PAE
                    Guest.injectGeneralProtection()
                    return
                }
                efer.insert(.lma)
                vm.pointee.entryControls.insert(.ia32eModeGuest)
            } else if !new.contains(.pg) {
                efer.remove(.lma)
                vm.pointee.entryControls.remove(.ia32eModeGuest)
            }
            vmwriteFast(.guestIA32EFER, efer.rawValue)
            vmwriteFast(.vmEntryControls, UInt64(vm.pointee.entryControls.rawValue))
        }
        vmwriteFast(.guestCR0, vm.pointee.cr0Fixed.adjust(value))
        vmwriteFast(.cr0ReadShadow, value)
        if new.contains(.pg) != old.contains(.pg) || new.contains(.wp) != old.contains(.wp) { flushGuestTLB(vm) }
        Guest.skipInstruction()
    }

    static func writeCR4(_ vm: UnsafeMutablePointer<VirtualMachine>, _ value: UInt64) {
        // VMX is hidden, so CR4.VMXE is as reserved for the guest as any bit the CPU lacks: #GP.
        if value & CR4.vmxe.rawValue != 0 || value & ~vm.pointee.cr4Fixed.fixed1 != 0 {
            Guest.injectGeneralProtection()
            return
        }
        vmwriteFast(.guestCR4, vm.pointee.cr4Fixed.adjust(value))
        vmwriteFast(.cr4ReadShadow, value)
        flushGuestTLB(vm)   // PGE, PAE, PSE, PCIDE, SMEP... change how the guest's TLB entries apply
        Guest.skipInstruction()
    }

    /// A MOV to CR0/CR4 we emulate does not flush the guest's TLB the way the real
    /// instruction would; with VPID the guest's translations survive exits, so drop them.
    static func flushGuestTLB(_ vm: UnsafeMutablePointer<VirtualMachine>) {
        if vm.pointee.vpid != 0 { try? VMXInstruction.invvpid(singleContext: vm.pointee.vpid) }
    }
}
