import X86
import VTx
import Machine

/// The exits of shadow paging (ShadowPagingState, ShadowPageTables): #PF through the exception
/// bitmap, INVLPG, control-register accesses (MOV to/from CR3 always exit; CR0/CR4 writes exit for
/// the bits the hypervisor owns) and RDMSR/WRMSR of IA32_EFER. What needs the VM's machine — an
/// access to a device page (MMIO), the stop reasons — the kernel does with the result.
public enum ShadowPagingExit {
    /// What an exit comes to.
    public enum Result: Equatable {
        /// Done: the guest resumes (an instruction completed, a fault filled or injected).
        case resume
        /// The guest reached guest-physical memory that is not its RAM, with the particulars an
        /// EPT violation gives. `device`: the page itself (a device may answer: MMIO, run with the
        /// guest's CR3 in GUEST_CR3); else a paging structure of the guest's (the VM stops).
        case outsideRAM(gpa: UInt64, qualification: EPTViolationQualification, linear: UInt64, rip: UInt64, device: Bool)
        /// The pool cannot hold a root or one walk: the VM cannot go on.
        case exhausted(rip: UInt64)
        /// A control-register access CRAccessExit does not emulate.
        case unsupportedCRAccess(controlRegister: Int, accessType: StaticString, rip: UInt64)

        public static func == (a: Result, b: Result) -> Bool {
            switch (a, b) {
            case (.resume, .resume): return true
            case let (.outsideRAM(g1, q1, l1, r1, d1), .outsideRAM(g2, q2, l2, r2, d2)):
                return g1 == g2 && q1 == q2 && l1 == l2 && r1 == r2 && d1 == d2
            case let (.exhausted(r1), .exhausted(r2)): return r1 == r2
            case let (.unsupportedCRAccess(c1, t1, r1), .unsupportedCRAccess(c2, t2, r2)):
                return c1 == c2 && t1.utf8Start == t2.utf8Start && r1 == r2
            default: return false
            }
        }
    }

    /// An exception exit: a #PF is the guest's own (reflected with its error code and CR2), a
    /// missing shadow leaf (filled; an event whose delivery the fault cut short goes in again), or
    /// an access outside the VM's RAM. Nil when it is not a #PF.
    @inline(__always)
    public static func exception<H: VMXHardware, M: ShadowFrameMemory>(_ hw: H, _ shadow: inout ShadowPagingState<M>,
                                                                       memory: GuestMemory) -> Result? {
        let info = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: hw.read(.vmExitInterruptionInformation)))
        guard info.vector == ExceptionVector.pageFault.rawValue, info.type == .hardwareException else { return nil }
        let linear = hw.read(.exitQualification)
        let code = PageFaultErrorCode(rawValue: UInt32(truncatingIfNeeded: hw.read(.vmExitInterruptionErrorCode)))
        let ac = hw.read(.guestRFLAGS) & RFLAGS.ac.rawValue != 0
        switch shadow.tables.pageFault(linear: linear, errorCode: code, rflagsAC: ac, guest: memory) {
        case .fixed:
            EventReinjection.reinjectInterruptedEvent(hw)
            EventReinjection.reblockNMIsAfterFaultingIRET(hw, exitInformation: info)
            return .resume
        case .reflect(let guestCode):
            GuestEvents.injectPageFault(hw, linear: linear, errorCode: guestCode)
            EventReinjection.reblockNMIsAfterFaultingIRET(hw, exitInformation: info)
            return .resume
        case .outsideRAM(let gpa):
            return .outsideRAM(gpa: gpa, qualification: qualification(code), linear: linear, rip: hw.read(.guestRIP), device: true)
        case .tableOutsideRAM(let gpa):
            return .outsideRAM(gpa: gpa, qualification: qualification(PageFaultErrorCode()), linear: linear,
                               rip: hw.read(.guestRIP), device: false)
        case .noShadow:
            return .exhausted(rip: hw.read(.guestRIP))
        }
    }

    /// The EPT-violation qualification for a #PF's access (SDM Vol. 3C Table 28-7): the kind of
    /// access, with the linear address valid.
    static func qualification(_ code: PageFaultErrorCode) -> EPTViolationQualification {
        var q: EPTViolationQualification = [.guestLinearAddressValid]
        if code.contains(.write) { q.insert(.write) }
        else if code.contains(.instructionFetch) { q.insert(.instructionFetch) }
        else { q.insert(.read) }
        return q
    }

    /// CPUID under shadow paging: no PCID (CR4.PCIDE is refused), no INVPCID (it would not exit),
    /// no 5-level paging (SDM Vol. 2A CPUID: leaf 1 ECX bit 17, leaf 7 EBX bit 10, ECX bit 16).
    @inline(__always)
    public static func adjustCPUID(_ regs: inout GuestRegisters, leaf: UInt32, subleaf: UInt32) {
        if leaf == 1 { regs.rcx &= ~(1 << 17) }
        if leaf == 7 && subleaf == 0 {
            regs.rbx &= ~(1 << 10)
            regs.rcx &= ~(1 << 16)
        }
    }

    /// INVLPG m (the exit qualification is the linear address, SDM Vol. 3C Table 28-1).
    @inline(__always)
    public static func invlpg<H: VMXHardware, M: ShadowFrameMemory>(_ hw: H, _ shadow: inout ShadowPagingState<M>) {
        shadow.tables.invalidatePage(hw.read(.exitQualification))
        GuestEvents.skipInstruction(hw)
    }

    /// A control-register access. CR3 is the guest's own value kept in `shadow`; everything else
    /// is CRAccessExit's emulation (run with the guest's CR3 in GUEST_CR3, so PAE PDPTE checks read
    /// its tables), after which a change of the paging controls finds its root.
    public static func crAccess<H: VMXHardware, M: ShadowFrameMemory>(_ hw: H, _ regs: inout GuestRegisters,
                                                                      _ cpu: inout VCPUState,
                                                                      _ shadow: inout ShadowPagingState<M>,
                                                                      memory: GuestMemory) -> Result {
        let q = CRAccessQualification(rawValue: hw.read(.exitQualification))
        if q.controlRegister == 3 {
            switch q.accessType {
            case .movFromCR:
                regs.set(q.register, shadow.guestCR3, hw)
                GuestEvents.skipInstruction(hw)
                return .resume
            case .movToCR:
                var state = GuestControlState.registers(hw)
                state.cr3 = shadow.guestCR3
                let (outcome, cr3) = ControlRegisterWrite.cr3(regs.value(q.register, hw), state: state,
                                                              maxPhysicalAddressBits: GuestControlState.maxPhysicalAddressBits)
                if case .generalProtection = outcome {
                    GuestEvents.injectGeneralProtection(hw)
                    return .resume
                }
                let previous = shadow.guestCR3
                shadow.guestCR3 = cr3
                return activated(hw, &shadow, memory: memory, previousCR3: previous)
            default:
                break
            }
        }
        let before = shadow.controls(hw)
        hw.write(.guestCR3, shadow.guestCR3)
        hw.write(.guestIA32EFER, shadow.guestEFER)
        let outcome = CRAccessExit.handle(hw, &regs, &cpu, memory: memory)
        // CRAccessExit keeps EFER.LMA in step with CR0.PG (IA-32e mode on or off).
        shadow.guestEFER = hw.read(.guestIA32EFER)
        shadow.writeEFER(hw)
        if case .unsupported(let cr, let accessType) = outcome {
            return .unsupportedCRAccess(controlRegister: cr, accessType: accessType, rip: hw.read(.guestRIP))
        }
        if shadow.controls(hw) == before {
            shadow.restoreShadowRoot(hw)
            return .resume
        }
        return activated(hw, &shadow, memory: memory, previousCR3: nil)
    }

    /// RDMSR/WRMSR of IA32_EFER (they exit under shadow paging); a write is checked as WRMSR would
    /// check it (GuestEFERWrite).
    public static func efer<H: VMXHardware, M: ShadowFrameMemory>(_ hw: H, _ regs: inout GuestRegisters,
                                                                  _ shadow: inout ShadowPagingState<M>,
                                                                  memory: GuestMemory, write: Bool) -> Result {
        if !write {
            let value = shadow.guestEFER
            regs.rax = value & 0xFFFF_FFFF
            regs.rdx = value >> 32
            GuestEvents.skipInstruction(hw)
            return .resume
        }
        let value = (regs.rdx << 32) | (regs.rax & 0xFFFF_FFFF)
        let pagingOn = GuestControlState.cr0(hw) & CR0.pg.rawValue != 0
        let nx = hw.hostCPUID(0x8000_0001, 0).edx & (1 << 20) != 0
        guard let efer = GuestEFERWrite.apply(value, to: shadow.guestEFER, pagingOn: pagingOn,
                                              noExecuteSupported: nx) else {
            GuestEvents.injectGeneralProtection(hw)
            return .resume
        }
        let before = shadow.controls(hw)
        shadow.guestEFER = efer
        shadow.writeEFER(hw)
        GuestEvents.skipInstruction(hw)
        if shadow.controls(hw).sameTranslationRules(as: before) { return .resume }
        return activated(hw, &shadow, memory: memory, previousCR3: nil)
    }

    /// After a CR3 load (`previousCR3` set: the instruction is still to be completed) or an emulated
    /// CR0/CR4/EFER write: the shadow root for the guest's controls now.
    static func activated<H: VMXHardware, M: ShadowFrameMemory>(_ hw: H, _ shadow: inout ShadowPagingState<M>,
                                                                memory: GuestMemory, previousCR3: UInt64?) -> Result {
        switch shadow.activate(hw, memory: memory) {
        case .root:
            if previousCR3 != nil { GuestEvents.skipInstruction(hw) }
            return .resume
        case .generalProtection:
            // A PAE PDPTE with a reserved bit: MOV to CR3 raises #GP(0) and changes nothing.
            if let previousCR3 { shadow.guestCR3 = previousCR3 }
            shadow.restoreShadowRoot(hw)
            GuestEvents.injectGeneralProtection(hw)
            return .resume
        case .noShadow:
            return .exhausted(rip: hw.read(.guestRIP))
        }
    }
}
