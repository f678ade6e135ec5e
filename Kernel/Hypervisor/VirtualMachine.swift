import X86
import VTx
import Machine
import VMX

// One guest: its VMCS and registers (a single vCPU), its RAM and EPT, its
// virtual devices, its statistics. Lives at a fixed address for its whole life
// (VirtualMachine.create), so the exit path reaches it through one pointer with
// no reference counting.

struct VirtualMachine {
    var name: VMName
    let registers: UnsafeMutablePointer<GuestRegisters>
    var vmcs: VMCS
    let memory: GuestMemory
    var ept: EPTTables
    /// The guest's PC: PIC, PIT, RTC, keyboard, disk, UART and the rest of its port space.
    var pc: VirtualPC<GuestOutput, GuestOutput>
    /// Interrupt-window exiting is on: the guest could not take a pending interrupt at the last entry.
    var interruptWindowRequested = false
    /// The TSC deadline the VMX-preemption timer was last armed for (slice end or device timer).
    var armedDeadline: UInt64 = .max
    /// This turn ends at this TSC (the slice, or what is left of the budget).
    var sliceEndTSC: UInt64 = .max
    var procBasedControls: PrimaryProcessorBasedControls
    /// IA32_VMX_MISC bits 4:0: the preemption timer counts once per 2^rate TSC ticks.
    let preemptionTimerRate: Int
    var hypercalls: GuestHypercallConsole
    let stats = ExitStatistics()
    /// Running, halted, yielded or stopped (RunState, Sources/VMX): the one record of where the VM stands.
    var run = RunState<StopReason>.running
    /// Guest time left (TSC ticks), and the most it may run before another VM's turn.
    var budgetTicks: UInt64
    var sliceTicks: UInt64
    var context: GuestContext
    /// The guest's VGA text screen as last mirrored to the console.
    var vga = VGATextMirror()
    /// make bench: exits may go through the minimal stub (GuestSpec.baselineExitPath).
    let baselineExitPath: Bool
    /// The vCPU state the exit handlers keep (Sources/VMX): VPID, fixed CR bits, entry controls,
    /// XCR0 support, CR8, emulated MSRs.
    var cpu: VCPUState
    /// Host TSC ticks this VM held the CPU (turns, exit handling included), and its longest turn.
    var cpuTicks: UInt64 = 0
    var turns: UInt64 = 0
    var longestTurn: UInt64 = 0
    /// Host TSC at the VM's first entry and when it stopped (0: not yet).
    var firstEntryTSC: UInt64 = 0
    var stopTSC: UInt64 = 0
    /// Frames to give back when the VM is destroyed: (address, count).
    var frames: [(UInt64, Int)] = []

    /// Why it stopped; setting a reason stops it (the exit handlers' and the scheduler's view of `run`).
    var stop: StopReason? {
        @inline(__always) get { run.stopReason }
        @inline(__always) set { if let reason = newValue { run = .stopped(reason) } else if run.stopReason != nil { run = .running } }
    }

    /// HLT with interrupts enabled: waiting for an interrupt (its next device timer).
    var halted: Bool {
        @inline(__always) get { if case .halted = run { return true } else { return false } }
        @inline(__always) set { if newValue { run = .halted } else if halted { run = .running } }
    }

    /// The time slice ended but the budget did not.
    var yielded: Bool {
        @inline(__always) get { if case .yielded = run { return true } else { return false } }
        @inline(__always) set { if newValue { run = .yielded } else if yielded { run = .running } }
    }

    func printReport() {
        let prefix = "[\(name.string)] "
        print("\(prefix)stopped: \(stop?.description ?? "no reason recorded")")
        // Host TSC ticks the VM held the CPU, exit handling included (in Bochs with `clock:
        // sync=none`: emulated instructions from its first entry to its stop).
        print("\(prefix)CPU time: \(cpuTicks) TSC ticks in \(turns) turns; \(stopTSC &- firstEntryTSC) TSC ticks "
            + "from its first entry to its stop")
        stats.printTable(prefix: prefix)
        let unhandled = pc.bus.unhandled
        if !unhandled.isEmpty {
            var line = "\(prefix)unhandled ports (read as all ones, writes ignored):"
            for i in 0..<unhandled.count {
                let c = unhandled[i]
                line += " \(hex(c.port, digits: 1)) r\(c.reads) w\(c.writes)"
            }
            if unhandled.untrackedAccesses > 0 { line += " (+\(unhandled.untrackedAccesses) more)" }
            print(line)
        }
        if hypercalls.passed + hypercalls.failed > 0 {
            print("\(prefix)guest tests: \(hypercalls.passed) passed, \(hypercalls.failed) failed")
        }
    }
}
