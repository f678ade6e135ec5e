import VTx
import Machine
import VMX

// Runs the guests given as boot modules. Two schedules:
// - sequential (default): each guest runs alone until it stops, then the next;
// - round-robin (kernel command line `schedule=round-robin [slice=M]`): all VMs
//   exist at once, each with its own VMCS, EPT, VPID and devices, and take turns
//   of at most `slice` million TSC ticks, cut by the VMX-preemption timer.
// A guest halted with interrupts on waits off the CPU until its next device
// timer; when every VM waits, the CPU idles until the earliest one.
// Either way a guest that crashes, spins or breaks its state loses only itself,
// and each guest's end is reported with its exit statistics.

enum GuestRunner {
    enum Schedule { case sequential(sliceTicks: UInt64), roundRobin(sliceTicks: UInt64) }

    /// Runs every boot module as a guest; true when each ended as its `expect=` said.
    static func runAll(_ modules: [BootModule], schedule: Schedule, focus: Substring?, vmx: VMXOperation,
                       frames: inout FrameAllocator) -> Bool {
        let (specs, errors) = GuestSpec.fromModules(modules, frames: &frames)
        var allAsExpected = errors.isEmpty
        HostEvents.checkFaultFixup()
        HostEvents.checkSurvival()
        for error in errors { print("swiftvisor: bad guest module: \(error)") }
        switch schedule {
        case .sequential(let slice):
            for spec in specs {
                if Console.quitRequested { print("[\(spec.name)] not started: the console quit"); continue }
                var current = create(spec, vmx: vmx, sliceTicks: slice, frames: &frames)
                if current == nil { allAsExpected = report(spec, outcome: "error") && allAsExpected }
                while let vm = current {
                    var alone = [vm]
                    run(&alone, focused: 0, vmx: vmx)
                    current = nil
                    if wantsRestart(vm, spec) {
                        // Alone on the machine: the old VM's memory becomes the new one's.
                        let budget = vm.pointee.budgetTicks
                        VMBuilder.destroy(vm, frames: &frames)
                        current = create(spec, vmx: vmx, sliceTicks: slice, frames: &frames, budgetTicks: budget)
                        if current == nil { allAsExpected = report(spec, outcome: "error") && allAsExpected }
                    } else {
                        allAsExpected = finish(vm, spec) && allAsExpected
                        VMBuilder.destroy(vm, frames: &frames)
                    }
                }
            }
        case .roundRobin(let slice):
            var vms: [UnsafeMutablePointer<VirtualMachine>] = []
            var vmSpecs: [GuestSpec] = []
            for spec in specs {
                if let vm = create(spec, vmx: vmx, sliceTicks: slice, frames: &frames) {
                    vms.append(vm)
                    vmSpecs.append(spec)
                } else {
                    allAsExpected = report(spec, outcome: "error") && allAsExpected
                }
            }
            print("vmx: \(vms.count) VMs, round-robin, slices of \(slice) TSC ticks")
            let focused = focus.flatMap { name in vmSpecs.firstIndex { $0.name == name } } ?? 0
            if !vms.isEmpty { print("vmx: console input and the screen go to \(vmSpecs[focused].name)") }
            run(&vms, focused: focused, vmx: vmx) { i, vm in
                if wantsRestart(vm, vmSpecs[i]) {
                    // The others keep their memory: the new VM is built while the old one exists.
                    if let fresh = create(vmSpecs[i], vmx: vmx, sliceTicks: slice, frames: &frames, budgetTicks: vm.pointee.budgetTicks) {
                        VMBuilder.destroy(vm, frames: &frames)
                        return fresh
                    }
                    print("[\(vmSpecs[i].name)] not restarted: no host memory for its new VM beside the running ones")
                }
                allAsExpected = finish(vm, vmSpecs[i]) && allAsExpected
                return nil
            }
            CPUShare.report(vms)
            for vm in vms { VMBuilder.destroy(vm, frames: &frames) }
        }
        HostDiskAttachment.flushAtEnd(frames: &frames)
        HostEvents.report()
        Console.end()
        return allAsExpected
    }

    /// make bench: how many VMs like `spec` fit in host memory at once, and what each
    /// costs the hypervisor beyond its guest RAM (VMCS, bitmaps, EPT, FPU area from
    /// frames; VM state, statistics and screen mirror from the heap). Builds until
    /// memory runs out, reports, and tears them all down again.
    static func measureCapacity(_ modules: [BootModule], vmx: VMXOperation, frames: inout FrameAllocator) {
        guard let spec = GuestSpec.fromModules(modules, frames: &frames).guests.first else { return }
        var vms: [UnsafeMutablePointer<VirtualMachine>] = []
        var heapBefore: UInt64 = 0, heapCapacity: UInt64 = 0
        heap_statistics(&heapBefore, &heapCapacity)
        let framesBefore = frames.freeFrames
        while vms.count < 4096 {
            guard let vm = try? VMBuilder.build(spec, vmx: vmx, sliceTicks: .max, frames: &frames) else { break }
            vms.append(vm)
        }
        var heapAfter: UInt64 = 0
        heap_statistics(&heapAfter, &heapCapacity)
        let count = UInt64(max(vms.count, 1))
        let frameBytes = UInt64(framesBefore - frames.freeFrames) * 4096 / count
        let heapBytes = (heapAfter - heapBefore) / count
        let overhead = frameBytes - (spec.options.memoryMiB << 20) + heapBytes
        print("capacity: \(vms.count) VMs of \(spec.options.memoryMiB) MiB at once (host memory \(sizeString(UInt64(framesBefore) * 4096)) free)")
        print("capacity: hypervisor memory per VM beyond guest RAM: \(overhead) bytes "
            + "(\(frameBytes - (spec.options.memoryMiB << 20)) in frames: VMCS, I/O and MSR bitmaps, EPT, FPU area; \(heapBytes) on the heap)")
        for vm in vms { VMBuilder.destroy(vm, frames: &frames) }
    }

    /// Give the VMs turns until all have stopped; `stopped(i, vm)` is called as each stops and may
    /// return a VM that takes slot i's place (a restart). Within a VM's turn each runnable vCPU gets
    /// an equal part of the slice; halted vCPUs wait off the CPU until an interrupt is pending for
    /// them, APs until their start-up IPI.
    private static func run(_ vms: inout [UnsafeMutablePointer<VirtualMachine>], focused: Int, vmx: VMXOperation,
                            stopped: (Int, UnsafeMutablePointer<VirtualMachine>) -> UnsafeMutablePointer<VirtualMachine>? = { _, _ in nil }) {
        var focused = focused
        var running = vms.count
        while running > 0 {
            var ranOne = false
            var earliestWake: UInt64 = .max
            for i in vms.indices where vms[i].pointee.stop == nil {
                let vm = vms[i]
                let now = rdtsc()
                vm.pointee.pc.update(tsc: now)           // deferred device work goes on even while every vCPU halts
                VMNetwork.sendQueuedFrames(vm)
                var waiting = 0
                for v in 0..<vm.pointee.vcpuCount where vm.pointee.stop == nil {
                    let vcpu = vm.pointee.vcpu(v)
                    guard readyToRun(vcpu, vmx: vmx) else {
                        waiting += 1
                        continue
                    }
                    runTurn(vcpu, vmx: vmx)
                    ranOne = true
                }
                if vm.pointee.stop == nil && waiting == vm.pointee.vcpuCount {
                    // Every vCPU waits: for a device timer, or for nothing that can ever come.
                    if vm.pointee.pc.nextTimerTSC == .max && vm.pointee.pc.signalledVCPUs == 0 {
                        vm.pointee.stop = .halted(interruptsEnabled: true)
                    } else {
                        earliestWake = min(earliestWake, vm.pointee.pc.nextTimerTSC)
                    }
                }
                Console.afterTurn(vm, focused: i == focused)
                if vm.pointee.stop != nil {
                    if let fresh = stopped(i, vm) { vms[i] = fresh } else { running -= 1 }
                }
            }
            // Every live VM is halted waiting for a timer: idle until the first is due.
            if !ranOne && earliestWake != .max {
                while rdtsc() < earliestWake && !Console.inputWaiting { cpu_relax() }
            }
            // The hypervisor's console: keys for the focused VM, Ctrl-A commands (Console.swift).
            Console.poll(vms, focused: &focused)
            if Console.quitRequested {
                for i in vms.indices where vms[i].pointee.stop == nil {
                    vms[i].pointee.stop = .stoppedFromConsole
                    running -= 1
                    _ = stopped(i, vms[i])          // never a restart once the console quit
                }
            }
        }
    }

    /// Whether `vcpu` can take a turn now: a halted one when an interrupt (or NMI, INIT, SIPI) is
    /// pending for it, one waiting for a start-up IPI once the SIPI came (it is then loaded with
    /// the SIPI's real-mode state here).
    private static func readyToRun(_ vcpu: UnsafeMutablePointer<VCPU>, vmx: VMXOperation) -> Bool {
        let index = vcpu.pointee.index
        let bit = UInt8(truncatingIfNeeded: 1 &<< index)
        switch vcpu.pointee.run {
        case .running, .yielded:
            return true
        case .halted:
            guard vcpu.pointee.pc.interruptPending(vcpu: index) || vcpu.pointee.pc.signals[index].nmi
                    || vcpu.pointee.pc.signals[index].initialization else { return false }
            vcpu.pointee.run = .running
            return true
        case .parked:
            guard vcpu.pointee.pc.signals[index].nmi || vcpu.pointee.pc.signals[index].initialization else { return false }
            vcpu.pointee.run = .running
            return true
        case .waitingForStartup:
            if vcpu.pointee.pc.signalledVCPUs & bit != 0 {
                let signals = vcpu.pointee.pc.takeSignals(vcpu: index)
                if signals.initialization { vcpu.pointee.startupVector = nil }
                if let vector = signals.startupVector { vcpu.pointee.startupVector = vector }
            }
            guard let vector = vcpu.pointee.startupVector else { return false }
            vcpu.pointee.startupVector = nil
            start(vcpu, vector: vector, vmx: vmx)
            return vcpu.pointee.stop == nil
        }
    }

    /// A start-up IPI with `vector` reached a vCPU in wait-for-SIPI: it starts in real mode at
    /// vector << 12 with its registers as after INIT (SDM Vol. 3A §8.4.4.1, Table 10-1).
    private static func start(_ vcpu: UnsafeMutablePointer<VCPU>, vector: UInt8, vmx: VMXOperation) {
        let caps = vmx.capabilities
        do throws(VMXError) {
            try vcpu.pointee.vmcs.makeCurrent()
            var entry = vcpu.pointee.cpu.entryControls
            entry.remove(.ia32eModeGuest)
            vcpu.pointee.cpu.entryControls = entry
            try vcpu.pointee.vmcs.write(.vmEntryControls, UInt64(entry.rawValue))
            try vcpu.pointee.vmcs.write(.vmEntryInterruptionInformation, 0)
            try GuestState.write(.startupIPI(vector: vector), to: vcpu.pointee.vmcs, caps: caps, unrestrictedGuest: true)
        } catch {
            vcpu.pointee.stop = .vmInstructionFailed(error)
            return
        }
        vcpu.pointee.registers.initialize(to: GuestRegisters())
        vcpu.pointee.cpu.taskPriority = 0
        vcpu.pointee.procBasedControls.remove(.interruptWindowExiting)
        _ = try? vcpu.pointee.vmcs.write(.procBasedControls, UInt64(vcpu.pointee.procBasedControls.rawValue))
        vcpu.pointee.run = .running
        print("[\(vcpu.pointee.name.string)] vCPU \(vcpu.pointee.index) started by SIPI at \(hex(UInt64(vector) << 12))")
    }

    /// Whether `vm` stopped because its guest asked for a reboot that `on_reboot=restart` turns
    /// into a new VM (never once the console quit); says so when it does.
    private static func wantsRestart(_ vm: UnsafeMutablePointer<VirtualMachine>, _ spec: GuestSpec) -> Bool {
        guard spec.options.onReboot == .restart, !Console.quitRequested, let stop = vm.pointee.stop else { return false }
        switch stop {
        case .keyboardControllerReset, .acpiReset:
            print("[\(spec.name)] \(stop.description): restarting the VM (on_reboot=restart)")
            return true
        default:
            return false
        }
    }

    /// A new VM for `spec`; `budgetTicks` (a restart's) replaces the spec's time budget.
    private static func create(_ spec: GuestSpec, vmx: VMXOperation, sliceTicks: UInt64,
                               frames: inout FrameAllocator, budgetTicks: UInt64? = nil) -> UnsafeMutablePointer<VirtualMachine>? {
        print("[\(spec.name)] starting: \(spec.options.memoryMiB) MiB RAM, image \(spec.image.count) bytes")
        let vm: UnsafeMutablePointer<VirtualMachine>
        do {
            vm = try VMBuilder.build(spec, vmx: vmx, sliceTicks: sliceTicks, frames: &frames)
        } catch {
            print("[\(spec.name)] could not be created: \(error.description)")
            return nil
        }
        if let budgetTicks { vm.pointee.budgetTicks = budgetTicks }
        Console.register(vm, input: spec.options.input)
        _ = try? vm.pointee.vcpus[0].vmcs.makeCurrent()      // the checks below read the current VMCS: the BSP's
        if let what = spec.options.breakState { GuestStateBreak.breakDeliberately(what) }
        for problem in GuestStateCheck.problems(HardwareVMCS(), unrestrictedGuest: vm.pointee.vcpus[0].cpu.cr0Fixed.fixed0 & 1 == 0) {
            print("[\(spec.name)] guest-state check: \(problem)")
        }
        return vm
    }

    /// One turn of a vCPU on the CPU: make its VMCS current and its registers the processor's,
    /// enter it until it stops, halts or its turn ends, take its registers back. Its VM's budget
    /// and CPU time are charged.
    static func runTurn(_ vcpu: UnsafeMutablePointer<VCPU>, vmx: VMXOperation) {
        let vm = vcpu.pointee.machine
        do throws(VMXError) {
            try vcpu.pointee.vmcs.makeCurrent()
        } catch {
            vm.pointee.stop = .vmInstructionFailed(error)
            return
        }
        let start = rdtsc()
        if vm.pointee.firstEntryTSC == 0 { vm.pointee.firstEntryTSC = start }
        // The turn ends by host wall time (exit handling included): checked on every exit. The
        // VM's slice is shared by its vCPUs.
        let slice = max(vm.pointee.sliceTicks / UInt64(vm.pointee.vcpuCount), 1)
        vcpu.pointee.sliceEndTSC = CPUShare.deadline(start, plus: min(vm.pointee.budgetTicks, slice, CPUShare.maxTurn))
        vcpu.pointee.armedDeadline = 0          // a new turn: arm the preemption timer afresh
        HostTimer.current = vcpu
        vcpu.pointee.context.load()
        vcpu.pointee.yielded = false
        let entering = InterruptDelivery.beforeEntry(vcpu, now: start)
        var status: Int32 = 0
        let launched = vcpu.pointee.vmcs.launchState == .launched
        if entering {
            status = vmx_run(UnsafeMutableRawPointer(vcpu.pointee.registers), UnsafeMutableRawPointer(vcpu), launched ? 1 : 0,
                             vm.pointee.baselineExitPath ? vmx_baseline_exit_entry() : nil)
        }
        vcpu.pointee.context.save()
        let used = rdtsc() &- start
        CPUShare.account(vm, turn: used)
        vm.pointee.budgetTicks = vm.pointee.budgetTicks > used ? vm.pointee.budgetTicks - used : 0
        if status != 0 {
            // VMLAUNCH/VMRESUME itself failed: VMfailInvalid, or VMfailValid with an error number.
            let instruction: StaticString = launched ? "VMRESUME" : "VMLAUNCH"
            let error: VMXError = status == 1 ? .failInvalid(instruction: instruction)
                : .failValid(instruction: instruction, error: UInt32(truncatingIfNeeded: (try? vcpu.pointee.vmcs.read(.vmInstructionError)) ?? 0))
            vm.pointee.stop = .vmInstructionFailed(error)
            return
        }
        if entering { vcpu.pointee.vmcs.markLaunched() }
        if vm.pointee.stop == nil && vm.pointee.budgetTicks == 0 {
            vm.pointee.stop = .timeBudgetExhausted(rip: (try? vcpu.pointee.vmcs.read(.guestRIP)) ?? 0)
        }
        if vm.pointee.stop == nil && vcpu.pointee.run == .running {
            vm.pointee.stop = .leftWithoutReason
        }
    }

    /// Report a stopped VM; true if it ended as expected.
    private static func finish(_ vm: UnsafeMutablePointer<VirtualMachine>, _ spec: GuestSpec) -> Bool {
        vm.pointee.stopTSC = rdtsc()
        vm.pointee.pc.bus.com1.sink.flush()
        vm.pointee.pc.bus.debugConsole.sink.flush()
        vm.pointee.hypercalls.output.flush()
        vm.pointee.printReport()
        vm.pointee.vcpus[0].cpu.msrs.printReport(prefix: "[\(spec.name)] ")
        if isEntryFailure(vm.pointee.stop) {
            _ = try? vm.pointee.vcpus[0].vmcs.makeCurrent()
            VMCSDump.print(prefix: "[\(spec.name)] ")
        }
        return report(spec, outcome: outcomeName(vm.pointee.stop))
    }

    private static func report(_ spec: GuestSpec, outcome: String) -> Bool {
        // A VM stopped by the user (Ctrl-A x) ended as its user wanted; `expect=end` (make run) takes
        // every end a guest chooses itself as normal too.
        let asExpected = outcome == spec.options.expect || outcome == "console-quit"
            || (spec.options.expect == "end" && GuestOptions.isNormalEnd(outcome))
        print("[\(spec.name)] outcome: \(outcome) (expected \(spec.options.expect)): \(asExpected ? "as expected" : "UNEXPECTED")")
        return asExpected
    }

    static func isEntryFailure(_ stop: StopReason?) -> Bool {
        if case .entryFailed = stop { return true }
        if case .vmInstructionFailed = stop { return true }
        return false
    }

    static func outcomeName(_ stop: StopReason?) -> String {
        switch stop {
        case .shutdown(let code): return code == 0 ? "shutdown" : "exit-\(code)"
        case .eptViolation: return "ept-violation"
        case .tripleFault: return "triple-fault"
        case .keyboardControllerReset, .acpiReset: return "reset"
        case .poweredOff: return "poweroff"
        case .timeBudgetExhausted: return "time-budget"
        case .entryFailed, .vmInstructionFailed: return "entry-failure"
        case .halted: return "halted"
        case .stoppedFromConsole: return "console-quit"
        default: return "error"
        }
    }
}
