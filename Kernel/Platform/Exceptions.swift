import X86

// CPU exceptions: every one is reported with its vector, error code, RIP, CR2
// and the registers, then the run ends with a failure status - unless
// - it is an NMI or a machine check: counted (HostEvents) and the run goes on;
// - a guarded instruction faulted on a guest-chosen value (FaultFixup.S): it
//   resumes at its fixup, which makes the caller inject #GP into the guest;
// - a recoverable probe (the page-fault self-test) armed a resume point.

/// The last fault a recoverable probe took, for the self-test to check.
struct RecordedFault {
    var vector: UInt64
    var errorCode: UInt64
    var address: UInt64
    var rip: UInt64
}

/// Host events the hypervisor survives, counted for the report.
enum HostEvents {
    /// NMIs taken while the hypervisor ran, and NMIs that arrived while a guest ran (NMI exiting).
    nonisolated(unsafe) static var nmis: UInt64 = 0
    nonisolated(unsafe) static var nmisDuringGuests: UInt64 = 0

    /// An NMI, in the host or (an NMI exit) in a guest: the host timer's where it is on (the
    /// running vCPU re-arms it at its next entry), else one of the counts above.
    @inline(__always)
    static func nmi(duringGuest: Bool) {
        if HostTimer.enabled { HostTimer.fired() } else if duringGuest { nmisDuringGuests &+= 1 } else { nmis &+= 1 }
    }
    nonisolated(unsafe) static var machineChecks: UInt64 = 0
    /// Guarded instructions that faulted and resumed at their fixup.
    nonisolated(unsafe) static var faultFixups: UInt64 = 0
    /// Times the CPU changed from one VM's registers to another's (GuestContext.load).
    nonisolated(unsafe) static var vmSwitches: UInt64 = 0

    /// Before any guest runs: a guarded XSETBV of XCR1 (always refused: #GP, or #UD without
    /// CR4.OSXSAVE) must come back through its fixup with the run going on.
    static func checkFaultFixup() {
        let faulted = guarded_xsetbv(1, 1) != 0 && faultFixups == 1
        faultFixups = 0
        print("swiftvisor: fault fixup: a refused XSETBV \(faulted ? "was recovered" : "WAS NOT RECOVERED: FAILED")")
    }

    /// Before any guest runs: the NMI and #MC handlers (entered through INT 2 and INT 18) count
    /// and return, and the run goes on.
    static func checkSurvival() {
        let fixupsBefore = faultFixups
        host_event_probe()
        let survived = nmis == 1 && machineChecks == 1
        nmis = 0
        machineChecks = 0
        faultFixups = fixupsBefore      // clearing MCG_STATUS faults where the CPU has no MCA
        print("swiftvisor: NMI and #MC handlers: \(survived ? "counted and returned" : "DID NOT COUNT: FAILED")")
    }

    /// "host events: 0 NMIs (0 during guests), 0 machine checks, 1 guarded faults fixed up"
    static func report() {
        print("swiftvisor: host events: \(nmis) NMIs (\(nmisDuringGuests) during guests), \(machineChecks) machine checks, "
            + "\(faultFixups) guarded faults fixed up")
        if HostTimer.enabled { print("swiftvisor: host timer (PIT one-shot as NMI, no VMX-preemption timer): \(HostTimer.ticks) NMIs") }
        print("swiftvisor: VM switches: \(vmSwitches) (barriers on each: \(GuestContext.switchBarriers))")
    }
}

enum Exceptions {
    nonisolated(unsafe) static var lastRecoveredFault: RecordedFault? = nil

    static let mnemonics: [StaticString] = [
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
        "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
        "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
        "#PF page fault", "reserved (15)", "#MF x87 floating-point", "#AC alignment check", "#MC machine check",
        "#XM SIMD floating-point", "#VE virtualization", "#CP control protection",
    ]

    static func name(_ vector: UInt64) -> String {
        vector < UInt64(mnemonics.count) ? "\(mnemonics[Int(vector)])" : "vector \(vector)"
    }

    static func handle(_ frame: UnsafeMutablePointer<InterruptFrame>) {
        let f = frame.pointee
        switch f.vector {
        case 2:
            // NMI (IST stack): the host timer's (HostTimer, CPUs without the preemption timer), or
            // nothing of the host's: count it and carry on.
            HostEvents.nmi(duringGuest: false)
            return
        case 18:
            // Machine check: count it; clear MCG_STATUS.MCIP (if the CPU has MCA) so another
            // one does not shut the processor down (SDM Vol. 3B §16.3.1.2), and carry on.
            HostEvents.machineChecks &+= 1
            _ = guarded_wrmsr(MSR.ia32MCGStatus, 0)
            return
        default:
            break
        }
        // A guarded instruction refused a guest-chosen value: its fixup reports the fault.
        let fixup = fault_fixup_resume_address(f.rip)
        if fixup != 0 {
            HostEvents.faultFixups &+= 1
            frame.pointee.rip = fixup
            return
        }
        let cr2 = read_cr2()
        // A recoverable probe faulted: record, resume after it, and carry on.
        if f.rip == recoverable_probe_instruction_address() {
            lastRecoveredFault = RecordedFault(vector: f.vector, errorCode: f.errorCode, address: cr2, rip: f.rip)
            report(f, cr2: cr2, heading: "recovered from exception")
            frame.pointee.rip = recoverable_probe_resume_address()
            return
        }
        report(f, cr2: cr2, heading: "unexpected exception")
        endRun(status: 3)
    }

    static func report(_ f: InterruptFrame, cr2: UInt64, heading: String) {
        print("swiftvisor: \(heading): \(name(f.vector)) (vector \(f.vector)) error code \(hex(f.errorCode, digits: 4))")
        if f.vector == 14 {
            // SDM Vol. 3A §5.7: P, W/R, U/S, RSVD, I/D bits of the page-fault error code.
            let e = f.errorCode
            print("  CR2=\(hex(cr2)) (\(e & 1 != 0 ? "protection violation" : "page not present"), "
                + "\(e & 2 != 0 ? "write" : "read")\(e & 16 != 0 ? ", instruction fetch" : "")"
                + "\(e & 8 != 0 ? ", reserved bit set" : ""))")
        } else {
            print("  CR2=\(hex(cr2))")
        }
        print("  RIP=\(hex(f.rip)) CS=\(hex(f.cs, digits: 4)) RFLAGS=\(hex(f.rflags)) RSP=\(hex(f.rsp)) SS=\(hex(f.ss, digits: 4))")
        print("  RAX=\(hex(f.rax)) RBX=\(hex(f.rbx)) RCX=\(hex(f.rcx)) RDX=\(hex(f.rdx))")
        print("  RSI=\(hex(f.rsi)) RDI=\(hex(f.rdi)) RBP=\(hex(f.rbp)) R8 =\(hex(f.r8))")
        print("  R9 =\(hex(f.r9)) R10=\(hex(f.r10)) R11=\(hex(f.r11)) R12=\(hex(f.r12))")
        print("  R13=\(hex(f.r13)) R14=\(hex(f.r14)) R15=\(hex(f.r15))")
    }
}

/// Called by interrupts.S with the saved frame.
@_cdecl("interruptDispatch")
func interruptDispatch(_ rawFrame: UnsafeMutableRawPointer) {
    let frame = rawFrame.assumingMemoryBound(to: InterruptFrame.self)
    let vector = frame.pointee.vector
    if vector < 32 {
        Exceptions.handle(frame)
    } else if vector == UInt64(HOST_CPU_WAKEUP_VECTOR) {
        HostLocalAPIC.endOfInterrupt()      // an AP woken to read its mailbox (HostCPUs)
    } else {
        HostInterrupts.handle(vector: vector)
    }
}

/// FaultFixup.S: instructions on guest-chosen values, each with a resume point for its fault.
@_extern(c, "guarded_xsetbv") func guarded_xsetbv(_ index: UInt32, _ value: UInt64) -> Int32
@_extern(c, "guarded_wrmsr") func guarded_wrmsr(_ msr: UInt32, _ value: UInt64) -> Int32
@_extern(c, "fault_fixup_resume_address") func fault_fixup_resume_address(_ rip: UInt64) -> UInt64
/// HostEventProbe.S: INT 2 and INT 18.
@_extern(c, "host_event_probe") func host_event_probe()
