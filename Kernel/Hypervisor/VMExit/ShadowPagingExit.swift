import X86
import VTx
import Machine
import VMX

// The exits of shadow paging (ShadowPaging.swift): #PF through the exception bitmap, INVLPG, and
// control-register accesses (MOV to/from CR3 always exit; CR0/CR4 writes exit for the bits the
// hypervisor owns). Like the rest of the exit path: no allocation, no reference counting, no
// indirect call; the shadow tables are a plain struct behind the VM's pointer.

enum ShadowPagingExit {
    /// An exception exit under shadow paging: a #PF is the guest's own (reflected with its error
    /// code and CR2), a missing shadow leaf (filled), or an access outside the VM's RAM (a device
    /// page, or the stop an EPT violation gives). Nil when it is not a #PF.
    @inline(__always)
    static func exception(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                          _ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool? {
        let info = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: vmreadFast(.vmExitInterruptionInformation)))
        guard info.vector == ExceptionVector.pageFault.rawValue, info.type == .hardwareException else { return nil }
        let linear = vmreadFast(.exitQualification)
        let code = PageFaultErrorCode(rawValue: UInt32(truncatingIfNeeded: vmreadFast(.vmExitInterruptionErrorCode)))
        let ac = vmreadFast(.guestRFLAGS) & RFLAGS.ac.rawValue != 0
        switch shadow.pointee.tables.pageFault(linear: linear, errorCode: code, rflagsAC: ac, guest: vcpu.pointee.memory) {
        case .fixed:
            // The instruction runs again; an event whose delivery the fault cut short goes in again.
            InterruptDelivery.reinjectInterruptedEvent()
            return true
        case .reflect(let guestCode):
            write_cr2(linear)
            Guest.inject(.hardwareException(vector: ExceptionVector.pageFault.rawValue, hasErrorCode: true),
                         errorCode: guestCode.rawValue)
            return true
        case .outsideRAM(let gpa):
            if (vcpu.pointee.pc.hasAPIC || vcpu.pointee.pc.hasPCI) && vcpu.pointee.pc.hasMMIODevice(at: gpa, vcpu: vcpu.pointee.index) {
                // MMIOExit fetches the instruction through the guest's own tables: show it the guest's CR3.
                vmwriteFast(.guestCR3, shadow.pointee.guestCR3)
                let failure = GuestMMIO.handle(vcpu, regs, gpa: gpa)
                vmwriteFast(.guestCR3, shadow.pointee.tables.activeRoot ?? 0)
                guard let failure else {
                    VMNetwork.afterMMIO(vcpu.pointee.machine)      // frames a virtio-net notify queued (issue 11)
                    return true
                }
                vcpu.pointee.stop = .mmioFailed(gpa: gpa, failure, rip: vmreadFast(.guestRIP))
                return false
            }
            stopOutsideRAM(vcpu, gpa: gpa, linear: linear, code: code)
            return false
        case .tableOutsideRAM(let gpa):
            stopOutsideRAM(vcpu, gpa: gpa, linear: linear, code: PageFaultErrorCode())
            return false
        case .noShadow:
            vcpu.pointee.stop = .shadowPagingExhausted(rip: vmreadFast(.guestRIP))
            return false
        }
    }

    /// The guest reached guest-physical memory that is not its RAM: the stop an EPT violation gives.
    private static func stopOutsideRAM(_ vcpu: UnsafeMutablePointer<VCPU>, gpa: UInt64, linear: UInt64,
                                       code: PageFaultErrorCode) {
        var q: EPTViolationQualification = [.guestLinearAddressValid]
        if code.contains(.write) { q.insert(.write) }
        else if code.contains(.instructionFetch) { q.insert(.instructionFetch) }
        else { q.insert(.read) }
        vcpu.pointee.stop = .eptViolation(gpa: gpa, qualification: q, linearAddress: linear, rip: vmreadFast(.guestRIP))
    }

    /// CPUID under shadow paging: no PCID (CR4.PCIDE is refused), no INVPCID (it would not exit),
    /// no 5-level paging (SDM Vol. 2A CPUID: leaf 1 ECX bit 17, leaf 7 EBX bit 10, ECX bit 16).
    @inline(__always)
    static func adjustCPUID(_ regs: UnsafeMutablePointer<GuestRegisters>, leaf: UInt32, subleaf: UInt32) {
        if leaf == 1 { regs.pointee.rcx &= ~(1 << 17) }
        if leaf == 7 && subleaf == 0 {
            regs.pointee.rbx &= ~(1 << 10)
            regs.pointee.rcx &= ~(1 << 16)
        }
    }

    /// INVLPG m (the exit qualification is the linear address, SDM Vol. 3C Table 28-1).
    @inline(__always)
    static func invlpg(_ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool {
        shadow.pointee.tables.invalidatePage(vmreadFast(.exitQualification))
        Guest.skipInstruction()
        return true
    }

    /// A control-register access under shadow paging. CR3 is the guest's own value kept here;
    /// everything else is CRAccessExit's emulation (run with the guest's CR3 in GUEST_CR3, so PAE
    /// PDPTE checks read its tables), after which a change of the paging controls finds its root.
    static func crAccess(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                         _ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool {
        let hw = HardwareVMCS()
        let q = CRAccessQualification(rawValue: hw.read(.exitQualification))
        if q.controlRegister == 3 {
            switch q.accessType {
            case .movFromCR:
                regs.pointee.set(q.register, shadow.pointee.guestCR3, hw)
                Guest.skipInstruction()
                return true
            case .movToCR:
                var state = VMX.GuestControlState.registers(hw)
                state.cr3 = shadow.pointee.guestCR3
                let (outcome, cr3) = ControlRegisterWrite.cr3(regs.pointee.value(q.register, hw), state: state,
                                                              maxPhysicalAddressBits: VMX.GuestControlState.maxPhysicalAddressBits)
                if case .generalProtection = outcome {
                    Guest.injectGeneralProtection()
                    return true
                }
                let previous = shadow.pointee.guestCR3
                shadow.pointee.guestCR3 = cr3
                return activated(vcpu, shadow, previousCR3: previous)
            default:
                break
            }
        }
        let before = shadow.pointee.controls(hw)
        hw.write(.guestCR3, shadow.pointee.guestCR3)
        hw.write(.guestIA32EFER, shadow.pointee.guestEFER)
        let outcome = CRAccessExit.handle(hw, &regs.pointee, &vcpu.pointee.cpu, memory: vcpu.pointee.memory)
        // CRAccessExit keeps EFER.LMA in step with CR0.PG (IA-32e mode on or off).
        shadow.pointee.guestEFER = hw.read(.guestIA32EFER)
        shadow.pointee.writeEFER(hw)
        if case .unsupported(let cr, let accessType) = outcome {
            vcpu.pointee.stop = .unsupportedCRAccess(controlRegister: cr, accessType: accessType, rip: hw.read(.guestRIP))
            return false
        }
        if shadow.pointee.controls(hw) == before {
            hw.write(.guestCR3, shadow.pointee.tables.activeRoot ?? 0)
            return true
        }
        return activated(vcpu, shadow, previousCR3: nil)
    }

    /// RDMSR/WRMSR of IA32_EFER under shadow paging (they exit: ShadowPaging.swift); a write is
    /// checked as WRMSR would check it (GuestEFERWrite).
    static func efer(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                     _ shadow: UnsafeMutablePointer<ShadowPaging>, write: Bool) -> Bool {
        let hw = HardwareVMCS()
        if !write {
            let value = shadow.pointee.guestEFER
            regs.pointee.rax = value & 0xFFFF_FFFF
            regs.pointee.rdx = value >> 32
            Guest.skipInstruction()
            return true
        }
        let value = (regs.pointee.rdx << 32) | (regs.pointee.rax & 0xFFFF_FFFF)
        let pagingOn = VMX.GuestControlState.cr0(hw) & CR0.pg.rawValue != 0
        let nx = hw.hostCPUID(0x8000_0001, 0).edx & (1 << 20) != 0
        guard let efer = GuestEFERWrite.apply(value, to: shadow.pointee.guestEFER, pagingOn: pagingOn,
                                              noExecuteSupported: nx) else {
            Guest.injectGeneralProtection()
            return true
        }
        let before = shadow.pointee.controls(hw)
        shadow.pointee.guestEFER = efer
        shadow.pointee.writeEFER(hw)
        Guest.skipInstruction()
        if shadow.pointee.controls(hw).sameTranslationRules(as: before) { return true }
        return activated(vcpu, shadow, previousCR3: nil)
    }

    /// String I/O under shadow paging: StringIOExit walks the guest's own tables, so it runs with
    /// the guest's CR3 and EFER in the VMCS.
    static func stringIO(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                         _ q: IOExitQualification, _ shadow: UnsafeMutablePointer<ShadowPaging>) -> Bool {
        vmwriteFast(.guestCR3, shadow.pointee.guestCR3)
        let resume = GuestStringIO.handle(vcpu, regs, q)
        vmwriteFast(.guestCR3, shadow.pointee.tables.activeRoot ?? 0)
        return resume
    }

    /// After a CR3 load (`previousCR3` set: the instruction is still to be completed) or an emulated
    /// CR0/CR4 write: the shadow root for the guest's controls now.
    private static func activated(_ vcpu: UnsafeMutablePointer<VCPU>, _ shadow: UnsafeMutablePointer<ShadowPaging>,
                                  previousCR3: UInt64?) -> Bool {
        let hw = HardwareVMCS()
        switch shadow.pointee.activate(hw, memory: vcpu.pointee.memory) {
        case .root:
            if previousCR3 != nil { Guest.skipInstruction() }
            return true
        case .generalProtection:
            // A PAE PDPTE with a reserved bit: MOV to CR3 raises #GP(0) and changes nothing.
            if let previousCR3 { shadow.pointee.guestCR3 = previousCR3 }
            hw.write(.guestCR3, shadow.pointee.tables.activeRoot ?? 0)
            Guest.injectGeneralProtection()
            return true
        case .noShadow:
            vcpu.pointee.stop = .shadowPagingExhausted(rip: hw.read(.guestRIP))
            return false
        }
    }
}
