import X86
import VTx
import Machine
import VMX

/// The guest PC type every VM has: its serial and debug-port output go to the hypervisor's console.
typealias GuestPC = VirtualPC<GuestOutput, GuestOutput, GuestDiskStorage>

// One guest: its RAM and EPT, its virtual PC, its vCPUs (VCPU.swift), its statistics and its
// end. Lives at a fixed address for its whole life (VMBuilder.build), so the exit path reaches
// it through one pointer with no reference counting.
//
// Ownership: the VM owns every frame in `frames` (RAM, EPT tables, bitmaps, VMCSs, FPU areas,
// scratch disk), its PC and its vCPU block; VMBuilder.destroy gives all of them back.

struct VirtualMachine {
    var name: VMName
    let memory: GuestMemory
    var ept: EPTTables
    /// The guest's PC: PIC, PIT, RTC, keyboard, disk, UART, APICs and the rest of its port space.
    /// Its own heap block, so vCPUs reach it through a plain pointer (VCPU.pc).
    let pcStorage: UnsafeMutablePointer<GuestPC>
    var pc: GuestPC {
        @inline(__always) unsafeAddress { UnsafePointer(pcStorage) }
        @inline(__always) nonmutating unsafeMutableAddress { pcStorage }
    }
    /// The vCPUs, `vcpuCount` of them in one block; vCPU 0 is the bootstrap processor.
    let vcpus: UnsafeMutablePointer<VCPU>
    let vcpuCount: Int
    var hypercalls: GuestHypercallConsole
    let stats: ExitStatistics
    /// Why the VM stopped (nil while it runs): set by any vCPU's exit handler or by the scheduler.
    var stop: StopReason? = nil
    /// Guest time left (TSC ticks) for all its vCPUs together, and the most it may run per turn.
    var budgetTicks: UInt64
    var sliceTicks: UInt64
    /// The guest's VGA text screen as last mirrored to the console.
    var vga = VGATextMirror()
    /// make bench: exits may go through the minimal stub (GuestSpec.baselineExitPath).
    let baselineExitPath: Bool
    /// Host TSC ticks this VM's vCPUs held the CPU (turns, exit handling included), and its longest turn.
    var cpuTicks: UInt64 = 0
    var turns: UInt64 = 0
    var longestTurn: UInt64 = 0
    /// Host TSC at the VM's first entry and when it stopped (0: not yet).
    var firstEntryTSC: UInt64 = 0
    var stopTSC: UInt64 = 0
    /// Frames to give back when the VM is destroyed: (address, count).
    var frames: [(UInt64, Int)] = []
    /// Shadow paging instead of EPT (ShadowPaging.swift), nil under EPT.
    var shadowPaging: UnsafeMutablePointer<ShadowPaging>? = nil

    /// vCPU `i`.
    @inline(__always) func vcpu(_ i: Int) -> UnsafeMutablePointer<VCPU> { vcpus + i }

    /// A halted vCPU with an interrupt pending for it runs again (a key typed, a timer, an IPI).
    static func wakeHaltedVCPUs(_ vm: UnsafeMutablePointer<VirtualMachine>) {
        let pc = vm.pointee.pcStorage
        for i in 0..<vm.pointee.vcpuCount where vm.pointee.vcpus[i].run == .halted && pc.pointee.interruptPending(vcpu: i) {
            vm.pointee.vcpus[i].run = .running
        }
    }

    func printReport() {
        let prefix = "[\(name.string)] "
        print("\(prefix)stopped: \(stop?.description ?? "no reason recorded")")
        // Host TSC ticks the VM held the CPU, exit handling included (in Bochs with `clock:
        // sync=none`: emulated instructions from its first entry to its stop).
        print("\(prefix)CPU time: \(cpuTicks) TSC ticks in \(turns) turns; \(stopTSC &- firstEntryTSC) TSC ticks "
            + "from its first entry to its stop")
        stats.printTable(prefix: prefix)
        if let shadowPaging { shadowPaging.pointee.printReport(prefix: prefix) }
        VMPCI.printReport(pc.pci, prefix: prefix)
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
