import X86
import VTx
import Machine

/// Control-register accesses (SDM Vol. 3C §26.1.3, qualification Table 28-3).
///
/// - CR0 and CR4 exit only when the guest writes a bit it does not own (the guest/host masks,
///   §25.6.6): the bits the VMX fixed-bit MSRs force, CR0.PG, CR0.NE and CR4.VMXE. The guest's
///   view of those bits lives in the read shadows; of every other bit, in GUEST_CRn. A write that
///   exits is emulated in full: the architectural checks of MOV to CR0/CR4 (ControlRegisterWrite,
///   pure and unit-tested) decide between #GP(0) and the new value.
/// - CR0.PG is intercepted because turning paging on with EFER.LME = 1 activates IA-32e mode: the
///   processor would set EFER.LMA itself, but under VMX the VM-entry control "IA-32e mode guest"
///   must equal the guest's EFER.LMA (§27.3.1.1), so both are kept in step here, in both
///   directions (long mode entered, and left from compatibility mode).
/// - PAE paging without long mode: with EPT, VM entry loads the PDPTE registers from the VMCS
///   (§27.3.2.4), so a write that would load them (turning paging on, CD/NW, PAE/PGE/PSE/SMEP
///   changes, §4.4.1 of Vol. 3A) loads them from the guest's CR3 here; a reserved bit is #GP(0).
/// - CR3 exits only where the CPU forces CR3-load/store exiting; CR8 (the TPR, 64-bit mode only)
///   exits by CR8-load/store exiting and is a per-VM register (the virtual PC has no local APIC,
///   so nothing else reads it).
public enum CRAccessExit {
    /// What became of the access.
    public enum Outcome: Equatable {
        /// Emulated, or refused with an exception injected: the guest goes on.
        case handled
        /// An access to a control register that is not emulated (the VM stops).
        case unsupported(controlRegister: Int, accessType: StaticString)

        public static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case (.handled, .handled): return true
            case (.unsupported(let r1, let t1), .unsupported(let r2, let t2)):
                return r1 == r2 && t1.utf8Start == t2.utf8Start
            default: return false
            }
        }
    }

    public static func handle<H: VMXHardware>(_ hw: H, _ regs: inout GuestRegisters, _ cpu: inout VCPUState,
                                              memory: GuestMemory) -> Outcome {
        let q = CRAccessQualification(rawValue: hw.read(.exitQualification))
        switch q.accessType {
        case .movToCR:
            let value = regs.value(q.register, hw)
            switch q.controlRegister {
            case 0: writeCR0(hw, &cpu, value, memory: memory)
            case 3: writeCR3(hw, &cpu, value, memory: memory)
            case 4: writeCR4(hw, &cpu, value, memory: memory)
            case 8:
                // MOV to CR8: bits 63:4 are reserved (SDM Vol. 3A §10.8.6.1).
                if value >> 4 != 0 { GuestEvents.injectGeneralProtection(hw); return .handled }
                cpu.taskPriority = UInt8(value)
                GuestEvents.skipInstruction(hw)
            default:
                return .unsupported(controlRegister: q.controlRegister, accessType: "MOV to")
            }
        case .movFromCR:
            switch q.controlRegister {
            case 3: regs.set(q.register, hw.read(.guestCR3), hw)
            case 8: regs.set(q.register, UInt64(cpu.taskPriority), hw)
            default:
                return .unsupported(controlRegister: q.controlRegister, accessType: "MOV from")
            }
            GuestEvents.skipInstruction(hw)
        case .lmsw:
            // LMSW loads CR0 bits 3:0 but can never clear PE (SDM Vol. 2A LMSW).
            let cr0 = GuestControlState.cr0(hw)
            writeCR0(hw, &cpu, (cr0 & ~0xE) | UInt64(q.lmswSourceData & 0xF), memory: memory)
        case .clts:
            writeCR0(hw, &cpu, GuestControlState.cr0(hw) & ~CR0.ts.rawValue, memory: memory)
        }
        return .handled
    }

    static func writeCR0<H: VMXHardware>(_ hw: H, _ cpu: inout VCPUState, _ value: UInt64, memory: GuestMemory) {
        let state = GuestControlState.registers(hw)
        switch ControlRegisterWrite.cr0(value, state: state) {
        case .generalProtection:
            GuestEvents.injectGeneralProtection(hw)
        case .load(let longMode, let loadPDPTEs, let flush):
            guard pdptesLoaded(hw, loadPDPTEs, cr3: state.cr3, memory: memory) else { return }
            switch longMode {
            case .none:
                break
            case .activate:
                hw.write(.guestIA32EFER, state.efer | EFER.lma.rawValue)
                // VM entry insists on a usable busy 32/64-bit TSS in TR in IA-32e mode (SDM Vol. 3C
                // §27.3.1.2); the processor itself does not check TR when it enters long mode, and a
                // kernel still running on the real-mode TR (a 16-bit TSS) loads its own TSS later.
                // Give the hidden TR the 64-bit busy type, as KVM does on the same transition.
                let tr = hw.read(.guestTRAccessRights)
                let busy64 = UInt64(SegmentDescriptor.SystemType.tssBusy)
                if tr & 0xF != busy64 || tr & (1 << 16) != 0 {
                    hw.write(.guestTRAccessRights, (tr & ~0x1_000F) | busy64)
                }
                cpu.entryControls.insert(.ia32eModeGuest)
                hw.write(.vmEntryControls, UInt64(cpu.entryControls.rawValue))
            case .deactivate:
                hw.write(.guestIA32EFER, state.efer & ~EFER.lma.rawValue)
                cpu.entryControls.remove(.ia32eModeGuest)
                hw.write(.vmEntryControls, UInt64(cpu.entryControls.rawValue))
            }
            hw.write(.guestCR0, GuestControlRegister.actual(forGuestValue: value, fixed: cpu.cr0Fixed))
            hw.write(.cr0ReadShadow, value)
            completed(hw, cpu, flush: flush)
        }
    }

    static func writeCR4<H: VMXHardware>(_ hw: H, _ cpu: inout VCPUState, _ value: UInt64, memory: GuestMemory) {
        let state = GuestControlState.registers(hw)
        // VMX is hidden, so CR4.VMXE is as reserved for the guest as any bit the CPU lacks.
        let supported = cpu.cr4Fixed.fixed1 & ~CR4.vmxe.rawValue
        switch ControlRegisterWrite.cr4(value, state: state, supported: supported) {
        case .generalProtection:
            GuestEvents.injectGeneralProtection(hw)
        case .load(_, let loadPDPTEs, let flush):
            guard pdptesLoaded(hw, loadPDPTEs, cr3: state.cr3, memory: memory) else { return }
            hw.write(.guestCR4, GuestControlRegister.actual(forGuestValue: value, fixed: cpu.cr4Fixed))
            hw.write(.cr4ReadShadow, value)
            completed(hw, cpu, flush: flush)
        }
    }

    static func writeCR3<H: VMXHardware>(_ hw: H, _ cpu: inout VCPUState, _ value: UInt64, memory: GuestMemory) {
        let state = GuestControlState.registers(hw)
        let (outcome, cr3) = ControlRegisterWrite.cr3(value, state: state,
                                                      maxPhysicalAddressBits: GuestControlState.maxPhysicalAddressBits)
        switch outcome {
        case .generalProtection:
            GuestEvents.injectGeneralProtection(hw)
        case .load(_, let loadPDPTEs, let flush):
            guard pdptesLoaded(hw, loadPDPTEs, cr3: cr3, memory: memory) else { return }
            hw.write(.guestCR3, cr3)
            completed(hw, cpu, flush: flush)
        }
    }

    /// A write that loads the PDPTE registers loads them first: false (and #GP(0) injected, nothing
    /// else changed) when one has a reserved bit set or the table is outside the guest's RAM.
    @inline(__always)
    static func pdptesLoaded<H: VMXHardware>(_ hw: H, _ load: Bool, cr3: UInt64, memory: GuestMemory) -> Bool {
        if !load || GuestControlState.loadPDPTEs(hw, cr3: cr3, memory: memory) { return true }
        GuestEvents.injectGeneralProtection(hw)
        return false
    }

    /// The emulated MOV to CR0/CR3/CR4 is done. It does not flush the guest's TLB the way the real
    /// instruction would; with VPID the guest's translations survive exits, so drop them.
    @inline(__always)
    static func completed<H: VMXHardware>(_ hw: H, _ cpu: VCPUState, flush: Bool) {
        if flush && cpu.vpid != 0 { hw.invalidateVPID(cpu.vpid) }
        GuestEvents.skipInstruction(hw)
    }
}
