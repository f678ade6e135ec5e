import X86
import VTx
import Machine
import VMX

// The VM-exit path, from VMEntryExit.S's call to the handler of one exit reason.
//
// Read the basic exit reason (SDM Vol. 3C §28.2.1), dispatch with a switch, and
// return 1 to VMRESUME straight away or 0 to leave the guest (vcpu.stop says why).
// The switch takes the exits that reach the VM's machine (its PC, RAM, console, shadow
// tables); every other reason, known or not, goes to Sources/VMX/ExitDispatch.swift.
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
        if vcpu.pointee.pc.hasAPIC {
            APICExit.adjustCPUID(&regs.pointee, leaf: leaf, subleaf: subleaf, vcpus: vcpu.pointee.pc.vcpuCount,
                                 vcpu: vcpu.pointee.index)
        }
        if vcpu.pointee.machine.pointee.shadowPaging != nil { ShadowPagingExit.adjustCPUID(&regs.pointee, leaf: leaf, subleaf: subleaf) }
        return true
    case ExitReason.ioInstruction.rawValue:
        switch IOExit.handle(hw, &regs.pointee, pc: &vcpu.pointee.pc) {
        case .resume:
            return true
        case .string(let q):
            if let shadow = vcpu.pointee.machine.pointee.shadowPaging { return GuestShadowPaging.stringIO(vcpu, regs, q, shadow) }
            return GuestStringIO.handle(vcpu, regs, q)
        case .power(let request, let rip):
            switch request {
            case .keyboardControllerReset: vcpu.pointee.stop = .keyboardControllerReset(rip: rip)
            case .acpiPowerOff: vcpu.pointee.stop = .poweredOff(rip: rip)
            case .acpiReset: vcpu.pointee.stop = .acpiReset(rip: rip)
            }
            return false
        }
    case ExitReason.rdmsr.rawValue, ExitReason.wrmsr.rawValue:
        let write = basic == ExitReason.wrmsr.rawValue
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging, UInt32(truncatingIfNeeded: regs.pointee.rcx) == MSR.ia32EFER {
            return GuestShadowPaging.efer(vcpu, regs, shadow, write: write)
        }
        if APICExit.msr(hw, &regs.pointee, pc: &vcpu.pointee.pc, vcpu: vcpu.pointee.index, write: write) { return true }
        if write { MSRExit.write(hw, &regs.pointee, &vcpu.pointee.cpu) } else { MSRExit.read(hw, &regs.pointee, &vcpu.pointee.cpu) }
        return true
    case ExitReason.crAccess.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging { return GuestShadowPaging.crAccess(vcpu, regs, shadow) }
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
    case ExitReason.eptViolation.rawValue:
        // A device page outside RAM (MMIOExit); anything else is the guest touching what it does not own.
        let gpa = vmreadFast(.guestPhysicalAddress)
        if (vcpu.pointee.pc.hasAPIC || vcpu.pointee.pc.hasPCI) && vcpu.pointee.pc.hasMMIODevice(at: gpa, vcpu: vcpu.pointee.index) {
            guard let failure = GuestMMIO.handle(vcpu, regs, gpa: gpa) else {
                VMNetwork.sendQueuedFrames(vcpu.pointee.machine)  // frames a virtio-net notify queued
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
        // APIC virtualization (Sources/VMX/APICAccessExit.swift): the model takes the page's write.
        guard let page = vcpu.pointee.virtualAPICPage else { return other(vcpu, basic) }
        var bus = GuestMMIO.Bus(vcpu: vcpu)
        APICAccessExit.write(hw, page: page, apicBase: vcpu.pointee.pc.lapics[vcpu.pointee.index].mmioBase, bus: &bus)
        return true
    case ExitReason.apicAccess.rawValue:
        let (gpa, emulate) = APICAccessExit.linearAccess(hw, apicBase: vcpu.pointee.pc.lapics[vcpu.pointee.index].mmioBase)
        guard let failure = emulate ? GuestMMIO.handle(vcpu, regs, gpa: gpa) : .duringEventDelivery else { return true }
        vcpu.pointee.stop = .mmioFailed(gpa: gpa, failure, rip: vmreadFast(.guestRIP))
        return false
    case ExitReason.xsetbv.rawValue:
        XSETBVExit.handle(hw, &regs.pointee, &vcpu.pointee.cpu)
        return true
    case ExitReason.invlpg.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging { return GuestShadowPaging.invlpg(shadow) }
        return other(vcpu, basic)
    case ExitReason.exceptionOrNMI.rawValue:
        if let shadow = vcpu.pointee.machine.pointee.shadowPaging,
           let resume = GuestShadowPaging.exception(vcpu, regs, shadow) { return resume }
        return other(vcpu, basic)
    default:
        return other(vcpu, basic)
    }
}

/// The exits that need only the VMCS (Sources/VMX/ExitDispatch.swift), and any the engine does not
/// handle: the VM stops with the exit's particulars.
@inline(__always)
private func other(_ vcpu: UnsafeMutablePointer<VCPU>, _ basic: UInt16) -> Bool {
    switch ExitDispatch.handle(HardwareVMCS(), basic: basic) {
    case .resume:
        return true
    case .yield:
        vcpu.pointee.yielded = true
        return false
    case .preemptionTimerExpired:
        vcpu.pointee.armedDeadline = 0
        VMNetwork.sendQueuedFrames(vcpu.pointee.machine)      // deferred device work asks for these exits too
        return true
    case .hostNMI:
        // The host timer's (it re-arms at the next entry), or counted. The VM exit left NMIs
        // blocked until an IRET (SDM Vol. 3C §27.1): one to the next instruction unblocks them.
        HostEvents.nmi(duringGuest: true)
        nmi_unblock()
        VMNetwork.sendQueuedFrames(vcpu.pointee.machine)
        return true
    case .tripleFault(let rip):
        vcpu.pointee.stop = .tripleFault(rip: rip)
        return false
    case .eptMisconfiguration(let gpa, let rip):
        vcpu.pointee.stop = .eptMisconfiguration(gpa: gpa, rip: rip)
        return false
    case .unhandled(let e):
        vcpu.pointee.stop = .unhandledExit(reason: e.reason, qualification: e.qualification, instructionLength: e.instructionLength,
                                          instructionInformation: e.instructionInformation, rip: e.rip)
        return false
    }
}
