import X86
import VTx

// Control-register accesses (SDM Vol. 3C §26.1.3, qualification Table 28-3).
//
// - CR0 and CR4 exit only when the guest writes a bit it does not own (the guest/host masks,
//   §25.6.6): the bits the VMX fixed-bit MSRs force, CR0.PG, CR0.NE and CR4.VMXE. The guest's
//   view of those bits lives in the read shadows; of every other bit, in GUEST_CRn. A write that
//   exits is emulated in full: the architectural checks of MOV to CR0/CR4 (ControlRegisterWrite,
//   pure and unit-tested) decide between #GP(0) and the new value.
// - CR0.PG is intercepted because turning paging on with EFER.LME = 1 activates IA-32e mode: the
//   processor would set EFER.LMA itself, but under VMX the VM-entry control "IA-32e mode guest"
//   must equal the guest's EFER.LMA (§27.3.1.1), so both are kept in step here, in both
//   directions (long mode entered, and left from compatibility mode).
// - PAE paging without long mode: with EPT, VM entry loads the PDPTE registers from the VMCS
//   (§27.3.2.4), so a write that would load them (turning paging on, CD/NW, PAE/PGE/PSE/SMEP
//   changes, §4.4.1 of Vol. 3A) loads them from the guest's CR3 here; a reserved bit is #GP(0).
// - CR3 exits only where the CPU forces CR3-load/store exiting; CR8 (the TPR, 64-bit mode only)
//   exits by CR8-load/store exiting and is a per-VM register (the virtual PC has no local APIC,
//   so nothing else reads it).
enum CRAccessExit {
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        let q = CRAccessQualification(rawValue: vmreadFast(.exitQualification))
        switch q.accessType {
        case .movToCR:
            let value = regs.pointee[Int(q.register.rawValue)]
            switch q.controlRegister {
            case 0: writeCR0(vm, value)
            case 3: writeCR3(vm, value)
            case 4: writeCR4(vm, value)
            case 8:
                // MOV to CR8: bits 63:4 are reserved (SDM Vol. 3A §10.8.6.1).
                if value >> 4 != 0 { Guest.injectGeneralProtection(); return true }
                vm.pointee.taskPriority = UInt8(value)
                Guest.skipInstruction()
            default:
                vm.pointee.stop = .unsupportedCRAccess(controlRegister: q.controlRegister, accessType: "MOV to", rip: vmreadFast(.guestRIP))
                return false
            }
        case .movFromCR:
            switch q.controlRegister {
            case 3: regs.pointee[Int(q.register.rawValue)] = vmreadFast(.guestCR3)
            case 8: regs.pointee[Int(q.register.rawValue)] = UInt64(vm.pointee.taskPriority)
            default:
                vm.pointee.stop = .unsupportedCRAccess(controlRegister: q.controlRegister, accessType: "MOV from", rip: vmreadFast(.guestRIP))
                return false
            }
            Guest.skipInstruction()
        case .lmsw:
            // LMSW loads CR0 bits 3:0 but can never clear PE (SDM Vol. 2A LMSW).
            let cr0 = GuestControlState.cr0()
            writeCR0(vm, (cr0 & ~0xE) | UInt64(q.lmswSourceData & 0xF))
        case .clts:
            writeCR0(vm, GuestControlState.cr0() & ~CR0.ts.rawValue)
        }
        return true
    }

    static func writeCR0(_ vm: UnsafeMutablePointer<VirtualMachine>, _ value: UInt64) {
        let state = GuestControlState.registers()
        switch ControlRegisterWrite.cr0(value, state: state) {
        case .generalProtection:
            Guest.injectGeneralProtection()
        case .load(let longMode, let loadPDPTEs, let flush):
            if loadPDPTEs && !GuestControlState.loadPDPTEs(cr3: state.cr3, memory: vm.pointee.memory) {
                Guest.injectGeneralProtection()
                return
            }
            switch longMode {
            case .none:
                break
            case .activate:
                vmwriteFast(.guestIA32EFER, state.efer | EFER.lma.rawValue)
                // VM entry insists on a usable busy 32/64-bit TSS in TR in IA-32e mode (SDM Vol. 3C
                // §27.3.1.2); the processor itself does not check TR when it enters long mode, and a
                // kernel still running on the real-mode TR (a 16-bit TSS) loads its own TSS later.
                // Give the hidden TR the 64-bit busy type, as KVM does on the same transition.
                let tr = vmreadFast(.guestTRAccessRights)
                let busy64 = UInt64(SegmentDescriptor.SystemType.tssBusy)
                if tr & 0xF != busy64 || tr & (1 << 16) != 0 {
                    vmwriteFast(.guestTRAccessRights, (tr & ~0x1_000F) | busy64)
                }
                vm.pointee.entryControls.insert(.ia32eModeGuest)
                vmwriteFast(.vmEntryControls, UInt64(vm.pointee.entryControls.rawValue))
            case .deactivate:
                vmwriteFast(.guestIA32EFER, state.efer & ~EFER.lma.rawValue)
                vm.pointee.entryControls.remove(.ia32eModeGuest)
                vmwriteFast(.vmEntryControls, UInt64(vm.pointee.entryControls.rawValue))
            }
            vmwriteFast(.guestCR0, GuestControlRegister.actual(forGuestValue: value, fixed: vm.pointee.cr0Fixed))
            vmwriteFast(.cr0ReadShadow, value)
            if flush { flushGuestTLB(vm) }
            Guest.skipInstruction()
        }
    }

    static func writeCR4(_ vm: UnsafeMutablePointer<VirtualMachine>, _ value: UInt64) {
        let state = GuestControlState.registers()
        // VMX is hidden, so CR4.VMXE is as reserved for the guest as any bit the CPU lacks.
        let supported = vm.pointee.cr4Fixed.fixed1 & ~CR4.vmxe.rawValue
        switch ControlRegisterWrite.cr4(value, state: state, supported: supported) {
        case .generalProtection:
            Guest.injectGeneralProtection()
        case .load(_, let loadPDPTEs, let flush):
            if loadPDPTEs && !GuestControlState.loadPDPTEs(cr3: state.cr3, memory: vm.pointee.memory) {
                Guest.injectGeneralProtection()
                return
            }
            vmwriteFast(.guestCR4, GuestControlRegister.actual(forGuestValue: value, fixed: vm.pointee.cr4Fixed))
            vmwriteFast(.cr4ReadShadow, value)
            if flush { flushGuestTLB(vm) }
            Guest.skipInstruction()
        }
    }

    static func writeCR3(_ vm: UnsafeMutablePointer<VirtualMachine>, _ value: UInt64) {
        let state = GuestControlState.registers()
        let (outcome, cr3) = ControlRegisterWrite.cr3(value, state: state,
                                                      maxPhysicalAddressBits: GuestControlState.maxPhysicalAddressBits)
        switch outcome {
        case .generalProtection:
            Guest.injectGeneralProtection()
        case .load(_, let loadPDPTEs, let flush):
            if loadPDPTEs && !GuestControlState.loadPDPTEs(cr3: cr3, memory: vm.pointee.memory) {
                Guest.injectGeneralProtection()
                return
            }
            vmwriteFast(.guestCR3, cr3)
            if flush { flushGuestTLB(vm) }
            Guest.skipInstruction()
        }
    }

    /// A MOV to CR0/CR3/CR4 we emulate does not flush the guest's TLB the way the real
    /// instruction would; with VPID the guest's translations survive exits, so drop them.
    static func flushGuestTLB(_ vm: UnsafeMutablePointer<VirtualMachine>) {
        if vm.pointee.vpid != 0 { try? VMXInstruction.invvpid(singleContext: vm.pointee.vpid) }
    }
}
