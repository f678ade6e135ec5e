import VTx
import Machine

// Runs the guests given as boot modules. Two schedules:
// - sequential (default): each guest runs alone until it stops, then the next;
// - round-robin (kernel command line `schedule=round-robin [slice=M]`): all VMs
//   exist at once, each with its own VMCS, EPT, VPID and devices, and take turns
//   of at most `slice` million guest TSC ticks, enforced by the VMX-preemption timer.
// Either way a guest that crashes, spins or breaks its state loses only itself,
// and each guest's end is reported with its exit statistics.

enum GuestRunner {
    enum Schedule { case sequential, roundRobin(sliceTicks: UInt64) }

    /// Runs every boot module as a guest; true when each ended as its `expect=` said.
    static func runAll(_ modules: [BootModule], schedule: Schedule, vmx: VMXOperation, frames: inout FrameAllocator) -> Bool {
        var specs: [(GuestSpec, UnsafeRawBufferPointer)] = []
        var allAsExpected = true
        for module in modules {
            guard let spec = GuestSpec(commandLine: module.commandLine) else {
                print("swiftvisor: bad guest arguments \"\(module.commandLine)\" (NAME [mode=long|protected|real] [mem=MiB] [budget=M] [expect=...])")
                allAsExpected = false
                continue
            }
            specs.append((spec, UnsafeRawBufferPointer(start: physicalPointer(module.start), count: Int(module.size))))
        }
        switch schedule {
        case .sequential:
            for (spec, image) in specs {
                guard let vm = create(spec, image: image, vmx: vmx, sliceTicks: .max, frames: &frames) else {
                    allAsExpected = report(spec, outcome: "error") && allAsExpected
                    continue
                }
                while vm.pointee.stop == nil { runTurn(vm, vmx: vmx) }
                allAsExpected = finish(vm, spec) && allAsExpected
                VMBuilder.destroy(vm, frames: &frames)
            }
        case .roundRobin(let slice):
            var vms: [(UnsafeMutablePointer<VirtualMachine>, GuestSpec)] = []
            for (spec, image) in specs {
                if let vm = create(spec, image: image, vmx: vmx, sliceTicks: slice, frames: &frames) {
                    vms.append((vm, spec))
                } else {
                    allAsExpected = report(spec, outcome: "error") && allAsExpected
                }
            }
            print("vmx: \(vms.count) VMs, round-robin, slices of \(slice) TSC ticks")
            var running = vms.count
            while running > 0 {
                for i in vms.indices where vms[i].0.pointee.stop == nil {
                    runTurn(vms[i].0, vmx: vmx)
                    if vms[i].0.pointee.stop != nil {
                        allAsExpected = finish(vms[i].0, vms[i].1) && allAsExpected
                        running -= 1
                    }
                }
            }
            for (vm, _) in vms { VMBuilder.destroy(vm, frames: &frames) }
        }
        return allAsExpected
    }

    private static func create(_ spec: GuestSpec, image: UnsafeRawBufferPointer, vmx: VMXOperation, sliceTicks: UInt64,
                               frames: inout FrameAllocator) -> UnsafeMutablePointer<VirtualMachine>? {
        print("[\(spec.name)] starting: \(spec.mode.name), \(spec.memoryMiB) MiB RAM, image \(image.count) bytes")
        let vm: UnsafeMutablePointer<VirtualMachine>
        do {
            vm = try VMBuilder.build(spec, image: image, vmx: vmx, sliceTicks: sliceTicks, frames: &frames)
        } catch {
            print("[\(spec.name)] could not be created: \(error.description)")
            return nil
        }
        if let what = spec.breakState { GuestStateCheck.breakDeliberately(what) }
        for problem in GuestStateCheck.problems(unrestrictedGuest: vm.pointee.cr0Fixed.fixed0 & 1 == 0) {
            print("[\(spec.name)] guest-state check: \(problem)")
        }
        return vm
    }

    /// One turn of a VM on the CPU: make its VMCS current and its registers the
    /// processor's, enter it until it stops or its slice ends, take its registers back.
    static func runTurn(_ vm: UnsafeMutablePointer<VirtualMachine>, vmx: VMXOperation) {
        do throws(VMXError) {
            try vm.pointee.vmcs.makeCurrent()
            if vmx.capabilities.pinBasedCapability.allows(PinBasedControls.activateVMXPreemptionTimer.rawValue) {
                let ticks = min(vm.pointee.budgetTicks, vm.pointee.sliceTicks)
                try vm.pointee.vmcs.write(.vmxPreemptionTimerValue, min(ticks >> UInt64(vmx.capabilities.vmxMisc.preemptionTimerRate), 0xFFFF_FFFF))
            }
        } catch {
            vm.pointee.stop = .vmInstructionFailed(error)
            return
        }
        vm.pointee.context.load()
        Hypervisor.current = vm
        vm.pointee.yielded = false
        let launched = vm.pointee.vmcs.launchState == .launched
        let status = vmx_run(UnsafeMutableRawPointer(vm.pointee.registers), launched ? 1 : 0,
                             vm.pointee.baselineExitPath ? vmx_baseline_exit_entry() : nil)
        Hypervisor.current = nil
        vm.pointee.context.save()
        if status != 0 {
            // VMLAUNCH/VMRESUME itself failed: VMfailInvalid, or VMfailValid with an error number.
            let instruction: StaticString = launched ? "VMRESUME" : "VMLAUNCH"
            let error: VMXError = status == 1 ? .failInvalid(instruction: instruction)
                : .failValid(instruction: instruction, error: UInt32(truncatingIfNeeded: (try? vm.pointee.vmcs.read(.vmInstructionError)) ?? 0))
            vm.pointee.stop = .vmInstructionFailed(error)
        } else {
            vm.pointee.vmcs.markLaunched()
        }
        if vm.pointee.stop == nil && !vm.pointee.yielded {
            vm.pointee.stop = .leftWithoutReason
        }
    }

    /// Report a stopped VM; true if it ended as expected.
    private static func finish(_ vm: UnsafeMutablePointer<VirtualMachine>, _ spec: GuestSpec) -> Bool {
        vm.pointee.ports.com1.sink.flush()
        vm.pointee.ports.debugConsole.sink.flush()
        vm.pointee.hypercalls.output.flush()
        vm.pointee.printReport()
        if isEntryFailure(vm.pointee.stop) {
            _ = try? vm.pointee.vmcs.makeCurrent()
            VMCSDump.print(prefix: "[\(spec.name)] ")
        }
        return report(spec, outcome: outcomeName(vm.pointee.stop))
    }

    private static func report(_ spec: GuestSpec, outcome: String) -> Bool {
        let asExpected = outcome == spec.expect
        print("[\(spec.name)] outcome: \(outcome) (expected \(spec.expect)): \(asExpected ? "as expected" : "UNEXPECTED")")
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
        case .timeBudgetExhausted: return "time-budget"
        case .entryFailed, .vmInstructionFailed: return "entry-failure"
        case .halted: return "halted"
        default: return "error"
        }
    }
}
