import X86
import VTx
import Machine
import VMX

// One virtual CPU of a VM: its VMCS, its general-purpose registers, its FPU/MSR context and
// what the exit handlers keep per processor (VCPUState), plus where it stands (RunState). The
// VM-exit path works on a VCPU through one pointer (VMEntryExit.S passes it) and reaches the
// machine it belongs to — RAM, devices, statistics, the VM's stop reason — through `machine`.
// Lives at a fixed address (VMBuilder allocates the VM's vCPUs in one block) for the VM's life.
//
// Ownership: a vCPU's VMCS, registers and context belong to it alone; the machine's fields are
// shared by its vCPUs, which take turns on one physical CPU (GuestRunner), so no two of them
// ever touch the machine at the same time (there is no host SMP yet).

struct VCPU {
    /// The vCPU's number in its VM, and its APIC ID: 0 is the bootstrap processor.
    let index: Int
    let machine: UnsafeMutablePointer<VirtualMachine>
    /// The machine's PC (its `pcStorage`), here too: the exit path reaches it with one load.
    let pcStorage: UnsafeMutablePointer<GuestPC>
    /// 1 << index: this vCPU's bit in the PC's per-vCPU masks.
    let bit: UInt8
    /// The machine's exit statistics (one table per VM), here too for the exit path.
    let stats: ExitStatistics
    /// This vCPU's virtual-APIC page when the CPU virtualizes its xAPIC page (VirtualAPICPage),
    /// else nil (APIC accesses trap to MMIOExit).
    let virtualAPICPage: UnsafeMutableRawPointer?
    let registers: UnsafeMutablePointer<GuestRegisters>
    var vmcs: VMCS
    var context: GuestContext
    /// The vCPU state the exit handlers keep (Sources/VMX): VPID, fixed CR bits, entry controls,
    /// XCR0 support, CR8, emulated MSRs.
    var cpu: VCPUState
    /// The primary processor-based controls as last written; `.interruptWindowExiting` is on while
    /// the guest could not take a pending interrupt (InterruptInjection).
    var procBasedControls: PrimaryProcessorBasedControls
    /// This turn ends at this TSC (the slice, or what is left of the VM's budget).
    var sliceEndTSC: UInt64 = .max
    /// The TSC deadline the VMX-preemption timer was last armed for (0: re-arm at the next entry).
    var armedDeadline: UInt64 = 0
    /// IA32_VMX_MISC bits 4:0: the preemption timer counts once per 2^rate TSC ticks.
    let preemptionTimerRate: Int
    /// The CPU has the VMX-preemption timer; without it (Core 2) the host's PIT ends turns (HostTimer).
    let hasPreemptionTimer: Bool
    /// Running, halted, yielded or waiting for a start-up IPI.
    var run: RunState
    /// A start-up IPI's vector that arrived together with INIT, for the scheduler to start it with.
    var startupVector: UInt8? = nil
    /// The guest's RAM (the machine's, copied here: the exit path reads it often).
    let memory: GuestMemory

    /// The machine's PC (devices, interrupt controllers), shared by all its vCPUs.
    var pc: GuestPC {
        @inline(__always) unsafeAddress { UnsafePointer(pcStorage) }
        @inline(__always) nonmutating unsafeMutableAddress { pcStorage }
    }

    /// The VM's stop reason: setting one stops the whole VM (every vCPU).
    var stop: StopReason? {
        @inline(__always) get { machine.pointee.stop }
        @inline(__always) nonmutating set { machine.pointee.stop = newValue }
    }

    var name: VMName { machine.pointee.name }

    /// HLT with interrupts enabled: waiting for an interrupt.
    var halted: Bool {
        @inline(__always) get { run == .halted }
        @inline(__always) set { if newValue { run = .halted } else if run == .halted { run = .running } }
    }

    /// The time slice ended (or the vCPU gave way to a sibling) but the budget did not.
    var yielded: Bool {
        @inline(__always) get { run == .yielded }
        @inline(__always) set { if newValue { run = .yielded } else if run == .yielded { run = .running } }
    }
}
