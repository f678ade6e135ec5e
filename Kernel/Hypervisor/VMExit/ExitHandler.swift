import X86
import VTx
import Machine
import VMX

// The VM-exit path, from VMEntryExit.S's call to the handler of one exit reason.
//
// Read the basic exit reason (SDM Vol. 3C §28.2.1), dispatch with a switch, and
// return 1 to VMRESUME straight away or 0 to leave the guest (vcpu.stop says why).
// Everything here works on the VM through one unsafe pointer: no allocation, no
// reference counting, no dynamic dispatch (`make check-exit-path` checks it).

/// VMEntryExit.S passes the register block it saved and the vCPU it entered (vmx_run's arguments).
/// It calls this function by its symbol without a @_cdecl thunk (four instructions on every exit):
/// for two pointer arguments and an Int32 result the Swift calling convention is the C one on
/// x86-64 (RDI, RSI in, EAX out, the same callee-saved registers).
@_silgen_name("swiftvisor_handle_exit")
public func handleVMExit(_ rawRegs: UnsafeMutableRawPointer, _ rawVCPU: UnsafeMutableRawPointer) -> Int32 {
    let regs = rawRegs.assumingMemoryBound(to: GuestRegisters.self)
    let start = rdtsc()
    let vcpu = rawVCPU.assumingMemoryBound(to: VCPU.self)
    let reason = ExitReasonField(rawValue: UInt32(truncatingIfNeeded: vmreadFast(.exitReason)))
    var resume: Bool
    if reason.entryFailure {
        vcpu.pointee.stop = .entryFailed(reason: reason, qualification: vmreadFast(.exitQualification))
        resume = false
    } else {
        resume = dispatch(reason.basicValue, vcpu, regs)
        // The turn ends by host wall time whatever the guest does (exit handling is charged too).
        if resume { resume = InterruptDelivery.beforeEntry(vcpu, now: start) }
    }
    vcpu.pointee.stats.record(reason: reason.basicValue, cycles: rdtsc() &- start)
    return resume ? 1 : 0
}

@inline(__always)
private func dispatch(_ basic: UInt16, _ vcpu: UnsafeMutablePointer<VCPU>,
                      _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
    let hw = HardwareVMCS()
    // Switch on the raw number (a jump table) rather than through ExitReason(rawValue:).
    switch basic {
    case ExitReason.vmcall.rawValue:
        return GuestVMCALL.handle(vcpu, regs)
    case ExitReason.cpuid.rawValue:
        let leaf = UInt32(truncatingIfNeeded: regs.pointee.rax)
        let subleaf = UInt32(truncatingIfNeeded: regs.pointee.rcx)
        CPUIDExit.handle(hw, &regs.pointee)
        // The APIC's and shadow paging's changes are all to basic leaves below 0x20.
        guard leaf < 0x20 else { return true }
        if vcpu.pointee.pc.hasAPIC { APICExit.adjustCPUID(regs, leaf: leaf, subleaf: subleaf, vcpu: vcpu) }
        if vcpu.pointee.machine.pointee.shadowPaging != nil { ShadowPagingExit.adjustCPUID(regs, leaf: leaf, subleaf: subleaf) }
        return true
    case ExitReason.ioInstruction.rawValue:
        switch IOExit.handle(hw, &regs.pointee, pc: &vcpu.pointee.pc) {
        case .resume:
            return true
        case .string(let q):
            if let shadow = vcpu.pointee.machine.pointee.shadowPaging { return ShadowPagingExit.stringIO(vcpu, regs, q, shadow) }
            return GuestStringIO.handle(vcpu, regs, q)
        case .power(let request, let rip):
            switch request {
            case .keyboardControllerReset: vcpu.pointee.stop = .keyboardControllerReset(rip: rip)
            case .acpiPowerOff: vcpu.pointee.stop = .poweredOff(rip: rip)
            case .acpiReset: vcpu.pointee.stop = .acpiReset(rip: rip)
            }
            return false
        }
    case ExitReason.rdmsr.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging, UInt32(truncatingIfNeeded: regs.pointee.rcx) == MSR.ia32EFER {
            return ShadowPagingExit.efer(vcpu, regs, shadow, write: false)
        }
        if APICExit.msr(vcpu, regs, write: false) { return true }
        MSRExit.read(hw, &regs.pointee, &vcpu.pointee.cpu)
        return true
    case ExitReason.wrmsr.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging, UInt32(truncatingIfNeeded: regs.pointee.rcx) == MSR.ia32EFER {
            return ShadowPagingExit.efer(vcpu, regs, shadow, write: true)
        }
        if APICExit.msr(vcpu, regs, write: true) { return true }
        MSRExit.write(hw, &regs.pointee, &vcpu.pointee.cpu)
        return true
    case ExitReason.crAccess.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging { return ShadowPagingExit.crAccess(vcpu, regs, shadow) }
        switch CRAccessExit.handle(hw, &regs.pointee, &vcpu.pointee.cpu, memory: vcpu.pointee.memory) {
        case .handled:
            return true
        case .unsupported(let cr, let accessType):
            vcpu.pointee.stop = .unsupportedCRAccess(controlRegister: cr, accessType: accessType, rip: hw.read(.guestRIP))
            return false
        }
    case ExitReason.hlt.rawValue:
        switch HLTExit.handle(hw, pc: &vcpu.pointee.pc, vcpu: vcpu.pointee.index) {
        case .resume:
            return true
        case .waitForTimer:
            vcpu.pointee.halted = true
            return false
        case .park:
            vcpu.pointee.run = .parked
            return false
        case .stop(let interruptsEnabled):
            vcpu.pointee.stop = .halted(interruptsEnabled: interruptsEnabled)
            return false
        }
    case ExitReason.interruptWindow.rawValue:
        // The guest can take interrupts again: InterruptDelivery injects on the way back in.
        return true
    case ExitReason.eptViolation.rawValue:
        // A device page outside RAM (MMIOExit); anything else is the guest touching what it does not own.
        let gpa = vmreadFast(.guestPhysicalAddress)
        if (vcpu.pointee.pc.hasAPIC || vcpu.pointee.pc.hasPCI) && vcpu.pointee.pc.hasMMIODevice(at: gpa, vcpu: vcpu.pointee.index) {
            guard let failure = GuestMMIO.handle(vcpu, regs, gpa: gpa) else {
                VMNetwork.afterMMIO(vcpu.pointee.machine)      // frames a virtio-net notify queued (issue 11)
                return true
            }
            vcpu.pointee.stop = .mmioFailed(gpa: gpa, failure, rip: vmreadFast(.guestRIP))
            return false
        }
        let access = EPTViolationExit.access(hw)
        vcpu.pointee.stop = .eptViolation(gpa: access.gpa, qualification: access.qualification,
                                        linearAddress: access.linearAddress, rip: access.rip)
        return false
    case ExitReason.apicWrite.rawValue:
        // APIC virtualization, trap-like (SDM Vol. 3C §30.4.3.3): the guest's write is on the
        // virtual-APIC page and RIP is past it; the model carries it out (EOI, ICR, LVT, ...).
        guard let page = vcpu.pointee.virtualAPICPage else { return unhandled(vcpu, basic) }
        let offset = UInt32(truncatingIfNeeded: vmreadFast(.exitQualification)) & 0xFF0
        let index = vcpu.pointee.index
        let base = vcpu.pointee.pc.lapics[index].mmioBase
        if offset == LocalAPIC.icrLowOffset {
            // A write of ICR high (0x310) stays on the page without an exit: take it with the low half.
            _ = vcpu.pointee.pc.mmioWrite(gpa: base &+ UInt64(LocalAPIC.icrHighOffset), size: 4,
                                          value: UInt64(VirtualAPICPage.register(page, offset: LocalAPIC.icrHighOffset)),
                                          tsc: rdtsc(), vcpu: index)
        }
        _ = vcpu.pointee.pc.mmioWrite(gpa: base &+ UInt64(offset), size: 4,
                                      value: UInt64(VirtualAPICPage.register(page, offset: offset)), tsc: rdtsc(), vcpu: index)
        return true
    case ExitReason.apicAccess.rawValue:
        // APIC virtualization, fault-like (§30.4): a read the page does not answer (APR, PPR,
        // RRD, current count) or a write it does not take: emulated like a trapped APIC page.
        let qualification = vmreadFast(.exitQualification)
        let gpa = vcpu.pointee.pc.lapics[vcpu.pointee.index].mmioBase &+ (qualification & 0xFFF)
        guard (qualification >> 12) & 0xF <= 1 else {        // 0 linear read, 1 linear write (Table 28-6)
            vcpu.pointee.stop = .mmioFailed(gpa: gpa, .duringEventDelivery, rip: vmreadFast(.guestRIP))
            return false
        }
        guard let failure = GuestMMIO.handle(vcpu, regs, gpa: gpa) else { return true }
        vcpu.pointee.stop = .mmioFailed(gpa: gpa, failure, rip: vmreadFast(.guestRIP))
        return false
    case ExitReason.eptMisconfiguration.rawValue:
        vcpu.pointee.stop = .eptMisconfiguration(gpa: vmreadFast(.guestPhysicalAddress), rip: vmreadFast(.guestRIP))
        return false
    case ExitReason.tripleFault.rawValue:
        vcpu.pointee.stop = .tripleFault(rip: vmreadFast(.guestRIP))
        return false
    case ExitReason.preemptionTimerExpired.rawValue:
        // A device timer came due (resume: the interrupt is injected on entry), or the turn is
        // over (handleVMExit's wall-time check ends it). The timer has run out: re-arm it.
        vcpu.pointee.armedDeadline = 0
        return true
    case ExitReason.pause.rawValue:
        // PAUSE-loop exiting (VMs of several vCPUs): the guest spins, most likely on a lock or a
        // flag a sibling vCPU holds; that sibling runs only when this one gives way.
        Guest.skipInstruction()
        vcpu.pointee.yielded = true
        return false
    case ExitReason.wbinvd.rawValue:
        // WBINVD exiting is on: guests own no device that needs caches written back (all their
        // devices are emulated, all their memory write-back), so it completes as a no-op.
        Guest.skipInstruction()
        return true
    case ExitReason.taskSwitch.rawValue:
        // A task switch (CALL/JMP through a TSS or task gate, IRET with NT, a task-gate
        // interrupt) exits unconditionally (SDM Vol. 3C §26.1.2); it is not emulated.
        vcpu.pointee.stop = .unhandledExit(reason: basic, qualification: vmreadFast(.exitQualification),
                                          instructionLength: vmreadFast(.vmExitInstructionLength),
                                          instructionInformation: 0, rip: vmreadFast(.guestRIP))
        return false
    case ExitReason.invd.rawValue:
        // INVD would drop dirty cache lines the host may own: perform it as a no-op
        // (write-back caches stay coherent, like WBINVD without the flush).
        Guest.skipInstruction()
        return true
    case ExitReason.xsetbv.rawValue:
        XSETBVExit.handle(hw, &regs.pointee, &vcpu.pointee.cpu)
        return true
    case ExitReason.mwait.rawValue, ExitReason.monitor.rawValue:
        // MWAIT as a NOP (it may always wake at once, SDM Vol. 2B MWAIT); MONITOR arms nothing.
        Guest.skipInstruction()
        return true
    case ExitReason.rdpmc.rawValue:
        // No performance counters (CPUID leaf 0xA is zero): #GP as for an invalid counter.
        Guest.injectGeneralProtection()
        return true
    case ExitReason.vmclear.rawValue, ExitReason.vmlaunch.rawValue, ExitReason.vmptrld.rawValue,
         ExitReason.vmptrst.rawValue, ExitReason.vmread.rawValue, ExitReason.vmresume.rawValue,
         ExitReason.vmwrite.rawValue, ExitReason.vmxoff.rawValue, ExitReason.vmxon.rawValue,
         ExitReason.invept.rawValue, ExitReason.invvpid.rawValue, ExitReason.vmfunc.rawValue:
        // VMX is not offered to guests (CPUID.1:ECX.VMX = 0): these are #UD.
        Guest.inject(.hardwareException(vector: 6, hasErrorCode: false))
        return true
    case ExitReason.externalInterrupt.rawValue:
        // "Acknowledge interrupt on exit" took the vector; the host's lines are all
        // masked, so it can only be spurious: nothing to forward.
        InterruptDelivery.reinjectInterruptedEvent()
        return true
    case ExitReason.invlpg.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging { return ShadowPagingExit.invlpg(shadow) }
        vcpu.pointee.stop = .unhandledExit(reason: basic, qualification: vmreadFast(.exitQualification),
                                          instructionLength: vmreadFast(.vmExitInstructionLength),
                                          instructionInformation: 0, rip: vmreadFast(.guestRIP))
        return false
    case ExitReason.exceptionOrNMI.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging,
           let resume = ShadowPagingExit.exception(vcpu, regs, shadow) { return resume }
        // With NMI exiting, an NMI that arrives in the guest is the host's: the host timer's (it
        // re-arms at the next entry), or counted; the guest goes on. The VM exit left NMIs blocked
        // until an IRET (SDM Vol. 3C §27.1): one to the next instruction unblocks them.
        if HostTimer.enabled { HostTimer.fired() } else { HostEvents.nmisDuringGuests &+= 1 }
        nmi_unblock()
        InterruptDelivery.reinjectInterruptedEvent()
        return true
    default:
        return unhandled(vcpu, basic)
    }
}

/// An exit the engine does not handle: the VM stops with the exit's particulars.
private func unhandled(_ vcpu: UnsafeMutablePointer<VCPU>, _ basic: UInt16) -> Bool {
    vcpu.pointee.stop = .unhandledExit(reason: basic, qualification: vmreadFast(.exitQualification),
                                      instructionLength: vmreadFast(.vmExitInstructionLength),
                                      instructionInformation: vmreadFast(.vmExitInstructionInformation),
                                      rip: vmreadFast(.guestRIP))
    return false
}
