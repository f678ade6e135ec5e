// CPU exceptions: every one is reported with its vector, error code, RIP, CR2
// and the registers, then the run ends with a failure status - unless a
// recoverable probe (the page-fault self-test) armed a resume point.

/// The last fault a recoverable probe took, for the self-test to check.
struct RecordedFault {
    var vector: UInt64
    var errorCode: UInt64
    var address: UInt64
    var rip: UInt64
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
    } else {
        HostInterrupts.handle(vector: vector)
    }
}
