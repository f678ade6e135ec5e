import VTx
import Machine
// Swiftvisor's bare-metal entry: boot.S calls kmain in long mode with the
// loader's magic and boot-information address.

let version = "0.1.0"

@_cdecl("kmain")
func kmain(_ magic: UInt32, _ info: UInt64) -> Never {
    Serial.initialize()
    print("")
    print("Swiftvisor \(version): an Intel VT-x hypervisor in Embedded Swift")

    let boot: BootInfo
    do {
        boot = try BootInfo(magic: magic, info: info)
    } catch {
        print("swiftvisor: not started by a Multiboot loader (EAX=\(hex(magic)))")
        endRun(status: 2)
    }
    let commandLine = KernelCommandLine(boot.commandLine)
    print("boot: \(boot.loader), command line \"\(boot.commandLine)\"")

    // Physical memory.
    print("memory map:")
    var usable: UInt64 = 0
    for region in boot.memoryMap {
        print("  \(hex(region.base)) - \(hex(region.end &- 1))  \(padded(sizeString(region.length), 10)) \(region.typeName)")
        if region.isAvailable { usable += region.length }
    }
    var reserved = boot.occupied
    reserved.append((kernel_start_address(), kernel_end_address()))
    for module in boot.modules { reserved.append((module.start, module.end)) }
    var frames = FrameAllocator(memoryMap: boot.memoryMap, reserved: reserved)
    print("memory: \(sizeString(usable)) usable, kernel \(hex(kernel_start_address(), digits: 8))-\(hex(kernel_end_address(), digits: 8)), "
        + "\(frames.freeFrames) free frames (\(sizeString(UInt64(frames.freeFrames) * 4096)))")
    print("modules: \(boot.modules.count)")
    for module in boot.modules {
        print("  \(hex(module.start, digits: 8))-\(hex(module.end, digits: 8)) \(padded(sizeString(module.size), 10)) \(module.commandLine)")
    }

    // The CPU's tables, interrupt controller and paging.
    DescriptorTables.install(frames: &frames)
    HostInterrupts.initialize()
    KernelPageTables.install(frames: &frames)
    print("platform: GDT, TSS, IDT and kernel page tables installed; host PIC masked")

    let cpu = CPUFeatures.read()
    print("CPU vendor: \(cpu.vendor), family \(cpu.family) model \(cpu.model) stepping \(cpu.stepping)")
    if !cpu.brand.isEmpty { print("CPU brand: \(cpu.brand)") }
    print("CPU features: NX=\(cpu.hasNX ? "yes" : "no") 1GiB-pages=\(cpu.has1GiBPages ? "yes" : "no") "
        + "XSAVE=\(cpu.hasXSAVE ? "yes" : "no") hypervisor-bit=\(cpu.runsUnderHypervisor ? "yes" : "no")")
    HostCPUs.discover(boot)
    HostTime.initialize()
    let wall = HostTime.now()
    print("TSC: \(HostTime.tscHz / 1_000_000) MHz (calibrated against the PIT); host RTC \(wall.year)-\(wall.month)-\(wall.day) \(wall.hour):\(wall.minute):\(wall.second)")
    if cpu.hasVMX {
        print("VMX: supported")
        VMXReport.printCapabilities()
    } else {
        print("VMX: not supported by this CPU")
    }

    var status = 0
    if let test = commandLine.value("selftest") {
        status = SelfTests.run(String(test), frames: &frames) ? 0 : 1
    }

    // The hypervisor proper: every boot module is a guest.
    if !boot.modules.isEmpty {
        if !cpu.hasVMX {
            print("swiftvisor: \(boot.modules.count) guest(s) given, but this CPU has no VMX: nothing to run them with")
            endRun(status: 4)
        }
        do {
            let vmx = try VMXOperation.enter(frames: &frames)
            GuestControlState.configure()
            let freeBefore = frames.freeFrames
            HostCPUs.startAPs(vmx: vmx, boot: boot, reserved: reserved, frames: &frames)
            print("vmx: VMXON done (VMCS revision \(hex(vmx.capabilities.vmxBasic.revisionID, digits: 1))); running \(boot.modules.filter { !$0.commandLine.hasPrefix("+") }.count) guest(s)")
            // Turns of `slice` million TSC ticks (the console and screens are looked at between turns).
            let slice = CPUShare.ticks(millions: max(1, commandLine.value("slice").flatMap { UInt64($0) } ?? 10))
            let schedule: GuestRunner.Schedule = commandLine.value("schedule") == "round-robin"
                ? .roundRobin(sliceTicks: slice) : .sequential(sliceTicks: slice)
            if commandLine.value("capacity") == "yes" {
                GuestRunner.measureCapacity(boot.modules, vmx: vmx, frames: &frames)
            }
            let asExpected = GuestRunner.runAll(boot.modules, schedule: schedule, focus: commandLine.value("focus"),
                                                vmx: vmx, frames: &frames)
            HostCPUs.stopAPs(frames: &frames)
            try vmx.leave()
            print("vmx: VMXOFF done; \(frames.freeFrames) free frames (\(freeBefore) before the guests)")
            if !asExpected { status = 1 }
        } catch {
            print("swiftvisor: VMX: \(error.description)")
            status = 5
        }
    }
    endRun(status: status)
}
