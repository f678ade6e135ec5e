import VTx
import Machine

// Runs the guests named on the command line, one after the other: build the VM,
// enter it until it stops, report how it stopped and its exit statistics, tear
// it down. A guest that crashes, spins or breaks its state loses only itself.

enum GuestRunner {
    /// Runs every boot module as a guest; true when each ended as its `expect=` said.
    static func runAll(_ modules: [BootModule], vmx: VMXOperation, frames: inout FrameAllocator) -> Bool {
        var allAsExpected = true
        for module in modules {
            guard let spec = GuestSpec(commandLine: module.commandLine) else {
                print("swiftvisor: bad guest arguments \"\(module.commandLine)\" (NAME [mode=long|protected|real] [mem=MiB] [budget=M] [expect=...])")
                allAsExpected = false
                continue
            }
            let image = UnsafeRawBufferPointer(start: physicalPointer(module.start), count: Int(module.size))
            let outcome = run(spec, image: image, vmx: vmx, frames: &frames)
            let asExpected = outcome == spec.expect
            print("[\(spec.name)] outcome: \(outcome) (expected \(spec.expect)): \(asExpected ? "as expected" : "UNEXPECTED")")
            if !asExpected { allAsExpected = false }
        }
        return allAsExpected
    }

    /// Runs one guest to its end; returns its outcome's short name
    /// (shutdown, exit-N, ept-violation, triple-fault, time-budget, entry-failure, halted, error).
    static func run(_ spec: GuestSpec, image: UnsafeRawBufferPointer, vmx: VMXOperation, frames: inout FrameAllocator) -> String {
        print("[\(spec.name)] starting: \(spec.mode.name), \(spec.memoryMiB) MiB RAM, image \(image.count) bytes")
        let vm: UnsafeMutablePointer<VirtualMachine>
        do {
            vm = try VMBuilder.build(spec, image: image, vmx: vmx, frames: &frames)
        } catch {
            print("[\(spec.name)] could not be created: \(error.description)")
            return "error"
        }
        defer { VMBuilder.destroy(vm, frames: &frames) }

        if let what = spec.breakState { GuestStateCheck.breakDeliberately(what) }
        for problem in GuestStateCheck.problems(unrestrictedGuest: vm.pointee.cr0Fixed.fixed0 & 1 == 0) {
            print("[\(spec.name)] guest-state check: \(problem)")
        }

        Hypervisor.current = vm
        defer { Hypervisor.current = nil }
        if vm.pointee.budgetTicks > 0 && vmx.capabilities.pinBasedCapability.allows(PinBasedControls.activateVMXPreemptionTimer.rawValue) {
            let rate = vmx.capabilities.vmxMisc.preemptionTimerRate
            _ = try? vm.pointee.vmcs.write(.vmxPreemptionTimerValue, min(vm.pointee.budgetTicks >> UInt64(rate), 0xFFFF_FFFF))
        }
        let status = vmx_run(UnsafeMutableRawPointer(vm.pointee.registers), 0, spec.baselineExitPath ? vmx_baseline_exit_entry() : nil)
        if status != 0 {
            // VMLAUNCH itself failed: VMfailInvalid, or VMfailValid with an error number.
            let error: VMXError = status == 1 ? .failInvalid(instruction: "VMLAUNCH")
                : .failValid(instruction: "VMLAUNCH", error: UInt32(truncatingIfNeeded: (try? vm.pointee.vmcs.read(.vmInstructionError)) ?? 0))
            vm.pointee.stop = .vmInstructionFailed(error)
        } else {
            vm.pointee.vmcs.markLaunched()
        }
        vm.pointee.ports.com1.sink.flush()
        vm.pointee.ports.debugConsole.sink.flush()
        vm.pointee.hypercalls.output.flush()
        vm.pointee.printReport()
        if status != 0 || isEntryFailure(vm.pointee.stop) { VMCSDump.print(prefix: "[\(spec.name)] ") }
        return outcomeName(vm.pointee.stop)
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
