import VTx
import VMX

/// Why a guest stopped running. Every guest ends with one of these, reported
/// with its details; the hypervisor itself carries on with the next guest.
/// Plain values only: the exit path records it, and the exit path must not touch
/// reference counts (formatting waits for the report).
enum StopReason {
    case shutdown(code: UInt64)
    case halted(interruptsEnabled: Bool)
    case eptViolation(gpa: UInt64, qualification: EPTViolationQualification, linearAddress: UInt64?, rip: UInt64)
    case eptMisconfiguration(gpa: UInt64, rip: UInt64)
    case tripleFault(rip: UInt64)
    /// The guest reset the machine through the keyboard controller (command 0xFE).
    case keyboardControllerReset(rip: UInt64)
    /// An access to a device page that could not be emulated (MMIOExit).
    case mmioFailed(gpa: UInt64, MMIOExit.Failure, rip: UInt64)
    /// The guest entered ACPI S5 (SLP_TYP = \_S5, SLP_EN in PM1a_CNT).
    case poweredOff(rip: UInt64)
    /// The guest wrote RESET_VALUE to the FADT's reset register.
    case acpiReset(rip: UInt64)
    case timeBudgetExhausted(rip: UInt64)
    case entryFailed(reason: ExitReasonField, qualification: UInt64)
    case vmInstructionFailed(VMXError)
    case unsupportedStringIO(port: UInt16, rip: UInt64)
    case unsupportedCRAccess(controlRegister: Int, accessType: StaticString, rip: UInt64)
    /// The exit path returned to the scheduler without recording why (a hypervisor bug).
    case leftWithoutReason
    /// Ctrl-A x on the hypervisor's console stopped every VM.
    case stoppedFromConsole
    case unhandledExit(reason: UInt16, qualification: UInt64, instructionLength: UInt64, instructionInformation: UInt64, rip: UInt64)
    /// Shadow paging: the VM's shadow-table pool cannot hold one more walk.
    case shadowPagingExhausted(rip: UInt64)

    var description: String {
        switch self {
        case .shutdown(let code):
            return "shut down with exit code \(code)"
        case .halted(let interruptsEnabled):
            return interruptsEnabled ? "halted (HLT) with interrupts enabled and no virtual interrupt source"
                                     : "halted (HLT with interrupts disabled): stopped for good"
        case .eptViolation(let gpa, let q, let linear, let rip):
            var access = ""
            if q.isRead { access += "read" }
            if q.isWrite { access += access.isEmpty ? "write" : "/write" }
            if q.isInstructionFetch { access += access.isEmpty ? "instruction fetch" : "/instruction fetch" }
            let where_ = q.isNotPresent ? "not mapped" : "permissions rwx=\(q.permissions)"
            var text = "EPT violation: \(access) of guest-physical \(hex(gpa)) (\(where_)) at RIP \(hex(rip))"
            if let linear { text += ", guest-linear \(hex(linear))" }
            return text + ": the guest touched memory it does not own"
        case .eptMisconfiguration(let gpa, let rip):
            return "EPT misconfiguration at guest-physical \(hex(gpa)), RIP \(hex(rip))"
        case .tripleFault(let rip):
            return "triple fault (shutdown state) at RIP \(hex(rip))"
        case .mmioFailed(let gpa, let failure, let rip):
            let why: String
            switch failure {
            case .notDevice: why = "no device there"
            case .duringEventDelivery: why = "during event delivery"
            case .fetchFault: why = "its instruction could not be fetched"
            case .undecodable(let opcode): why = "instruction opcode \(hex(UInt64(opcode), digits: 2)) is not emulated for MMIO"
            case .incomplete: why = "its instruction is cut short"
            case .crossesRegionBoundary(let linear, let size):
                why = "its \(size)-byte access at guest-linear \(hex(linear)) crosses a page boundary with RAM or "
                    + "another device on the other side (refused, not split)"
            case .operandElsewhere(let linear):
                why = "its decoded operand at guest-linear \(hex(linear)) is not at the address the exit reports"
            }
            return "MMIO access to guest-physical \(hex(gpa)) at RIP \(hex(rip)) not emulated: \(why)"
        case .poweredOff(let rip):
            return "powered off (ACPI S5) at RIP \(hex(rip))"
        case .acpiReset(let rip):
            return "reset requested through the ACPI reset register (port 0xCF9) at RIP \(hex(rip)): stopped"
        case .keyboardControllerReset(let rip):
            return "reset requested through the keyboard controller (i8042 command 0xFE) at RIP \(hex(rip)): stopped"
        case .timeBudgetExhausted(let rip):
            return "used up its time budget (\(HostTimer.enabled ? "host timer" : "VMX-preemption timer")) at RIP \(hex(rip)): stopped"
        case .entryFailed(let reason, let qualification):
            let basic = reason.basicValue
            return "VM entry failed: exit reason \(basic) (\(ExitReason.name(basic: basic))), qualification \(qualification)"
                + (basic == 33 ? " (invalid guest state)" : basic == 34 ? " (MSR loading, entry \(qualification))" : "")
        case .vmInstructionFailed(let error):
            return error.description
        case .unsupportedStringIO(let port, let rip):
            return "string I/O (INS/OUTS) to port \(hex(port, digits: 1)) at RIP \(hex(rip)) is not emulated"
        case .unsupportedCRAccess(let cr, let type, let rip):
            return "\(type) CR\(cr) at RIP \(hex(rip)) is not emulated"
        case .leftWithoutReason:
            return "left the guest without a recorded reason (hypervisor bug)"
        case .stoppedFromConsole:
            return "stopped from the console (Ctrl-A x)"
        case .unhandledExit(let reason, let qualification, let length, let information, let rip):
            return "unhandled VM exit \(reason) (\(ExitReason.name(basic: reason))), qualification \(hex(qualification)), "
                + "instruction length \(length), instruction information \(hex(information, digits: 8)), RIP \(hex(rip))"
        case .shadowPagingExhausted(let rip):
            return "shadow paging: the VM's shadow-table pool cannot hold one more walk at RIP \(hex(rip))"
        }
    }
}
