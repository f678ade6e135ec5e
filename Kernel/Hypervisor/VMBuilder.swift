import X86
import VTx
import Machine
import VMX

// Building a VM from a boot module: RAM, EPT, bitmaps, VMCS and its three
// state areas, in the order the SDM requires (a VMCS must be current to be written).

enum VMBuildError: Error {
    case outOfMemory(String)
    case vmx(VMXError)
    case load(String)
    /// A boot test asked this build to fail after `step` (module option `break=build-STEP`).
    case injected(step: String)

    var description: String {
        switch self {
        case .outOfMemory(let what): return "out of host memory for \(what)"
        case .vmx(let error): return error.description
        case .load(let what): return what
        case .injected(let step): return "failure injected after step '\(step)' (break=build-\(step))"
        }
    }
}

enum VMBuilder {
    nonisolated(unsafe) static var nextVPID: UInt16 = 1

    /// The steps of a build, in order. A boot test fails a build right after any one of
    /// them (module option `break=build-STEP`) and checks that every frame comes back.
    enum Step: String { case ram, image, controls, ept, bitmaps, disk, vmcs, context }

    static func build(_ spec: GuestSpec, vmx: VMXOperation, sliceTicks: UInt64,
                      frames: inout FrameAllocator) throws(VMBuildError) -> UnsafeMutablePointer<VirtualMachine> {
        let caps = vmx.capabilities
        let vcpuCount = spec.options.vcpus
        // One owner for every frame this build takes, whoever takes it (EPT tables and the
        // FPU areas included): the allocator records them all, they become the VM's list,
        // and a build that fails anywhere gives all of them back here; the heap blocks (the VM,
        // its PC, its vCPUs and their register blocks) likewise.
        frames.beginOwnership()
        var built = false
        let vm = UnsafeMutablePointer<VirtualMachine>.allocate(capacity: 1)
        let vcpus = UnsafeMutablePointer<VCPU>.allocate(capacity: vcpuCount)
        let pcStorage = UnsafeMutablePointer<GuestPC>.allocate(capacity: 1)
        var pcInitialized = false
        var vcpusBuilt = 0
        var statsToRelease: ExitStatistics? = nil
        var shadowState: UnsafeMutablePointer<ShadowPaging>? = nil
        defer {
            if !built {
                statsToRelease?.release()
                if let shadowState { ShadowPaging.destroy(shadowState) }
                for i in 0..<vcpusBuilt {
                    // A VMCS that was current is cleared before its frame is reused (SDM Vol. 3C §25.11.3).
                    try? vcpus[i].vmcs.clear()
                    vcpus[i].registers.deallocate()
                }
                (vcpus).deinitialize(count: vcpusBuilt)
                vcpus.deallocate()
                if pcInitialized { pcStorage.deinitialize(count: 1) }
                pcStorage.deallocate()
                vm.deallocate()
                frames.free(frames.endOwnership())
            }
        }

        // Guest RAM: contiguous and 2 MiB-aligned, so EPT can map it with 2 MiB pages.
        let ramBytes = spec.options.memoryMiB << 20
        guard let ram = frames.allocate(count: Int(ramBytes / 4096), alignment: 2 << 20) else {
            throw .outOfMemory("\(spec.options.memoryMiB) MiB of guest RAM")
        }
        try reached(.ram, spec)
        let memory = GuestMemory(base: physicalPointer(ram), size: ramBytes)

        // ACPI tables in the BIOS area (a kernel image loaded over them wins).
        if spec.options.acpi && ramBytes > ACPITables.base + ACPITables.blockSize(vcpus: vcpuCount, apic: spec.options.apic) {
            ACPITables.write(into: memory, vcpus: vcpuCount, apic: spec.options.apic)
            if spec.options.pci {    // \_SB.PCI0 and the MCFG for the ECAM window
                ACPITables.writePCIRootBridge(into: memory)
                ACPITables.writeMCFG(into: memory, ecamBase: GuestPCIPlatform.ecamBase, apic: spec.options.apic)
            }
        }

        // The loader the image asks for; it refuses malformed images with a reason.
        let kind = GuestImageKind.detect(spec.image)
        let start: CPUStartState
        start = try load(spec, kind: kind, into: memory)
        try reached(.image, spec)
        print("[\(spec.name)] \(kind.name) loaded: \(start.mode.name), entry \(hex(start.rip))"
            + (vcpuCount > 1 ? ", \(vcpuCount) vCPUs" : ""))

        // The BSP starts where the loader says; APs wait for a start-up IPI, which starts them in
        // real mode (needs unrestricted guest, SDM Vol. 3C §26.3.1.1).
        // Memory virtualization: EPT where the CPU has it, unless the module line asks
        // for shadow paging (ShadowPaging.swift), which runs VMs of one vCPU.
        let shadowPaging = spec.options.shadowPaging
            ?? (caps.procBased2Capability.mayBeOne & SecondaryProcessorBasedControls.enableEPT.rawValue == 0)
        if shadowPaging && vcpuCount > 1 { throw .load("shadow paging runs VMs of one vCPU, not \(vcpuCount)") }
        if shadowPaging && start.mode == .real {
            // Real mode needs unrestricted guest, which needs EPT; virtual-8086 mode is not emulated.
            throw .load("a real-mode guest cannot run under shadow paging (it needs unrestricted guest, which needs EPT)")
        }
        let controls: VMControls, apControls: VMControls
        do {
            // APIC virtualization maps the APIC page through EPT: not under shadow paging (the APIC is trapped).
            let apicv = spec.options.apic && spec.options.apicVirtualization && !shadowPaging
            controls = try VMControls.compute(caps, mode: start.mode, pauseLoopExiting: vcpuCount > 1, apicVirtualization: apicv,
                                              shadowPaging: shadowPaging)
            apControls = vcpuCount > 1 ? try VMControls.compute(caps, mode: .real, pauseLoopExiting: true, apicVirtualization: apicv)
                : controls
        } catch { throw .vmx(.controlUnavailable(error.control, mode: error.mode.name)) }
        EFERSwitch.viaMSRAreas = !controls.exit.contains(.loadEFER)
        // Without the VMX-preemption timer (Core 2) turns and device timers end by the host's PIT.
        if !controls.preemptionTimer { HostTimer.enable() }
        try reached(.controls, spec)

        guard var ept = EPTTables(frames: &frames, capability: caps.eptVPID),
              shadowPaging || ept.map(gpa: 0, hpa: ram, length: ramBytes, frames: &frames) else {
            throw .outOfMemory("EPT tables")
        }
        // APIC virtualization (SDM Vol. 3C §30): the xAPIC page's guest-physical address maps to an
        // APIC-access page, so the CPU redirects the guest's accesses to each vCPU's virtual-APIC page.
        var apicAccessPage: UInt64 = 0
        if controls.apicVirtualization {
            guard let page = frames.allocate(), ept.map(gpa: LocalAPIC.defaultBase, hpa: page, length: 4096, frames: &frames) else {
                throw .outOfMemory("the APIC-access page")
            }
            physicalPointer(page).initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
            apicAccessPage = page
        }
        try reached(.ept, spec)

        // I/O bitmaps: every port exits (the guest owns no physical device).
        // MSR bitmap, default deny: every MSR exits but MSRPolicyTable's pass-through ones.
        // One set per VM, shared by its vCPUs.
        guard let ioA = frames.allocate(), let ioB = frames.allocate(), let msrPage = frames.allocate() else {
            throw .outOfMemory("I/O and MSR bitmaps")
        }
        IOBitmap(a: physicalPointer(ioA), b: physicalPointer(ioB)).setAll()
        let msrBitmap = MSRBitmap(page: physicalPointer(msrPage))
        msrBitmap.setAll()
        MSRPolicyTable.forEachPassThrough(vmcsSwitchesPAT: controls.switchesPAT) { msrBitmap.clearExiting(msr: $0) }
        // Shadow paging keeps the guest's EFER.LME while its paging is off (ShadowPaging.swift).
        if shadowPaging { msrBitmap.setExiting(msr: MSR.ia32EFER) }

        try reached(.bitmaps, spec)

        // The disk: a +disk module (written in place), or scratch host memory (disk=MiB), or none.
        var disk: UnsafeMutableRawBufferPointer? = spec.disk
        if disk == nil && spec.options.scratchDiskMiB > 0 {
            let count = Int(spec.options.scratchDiskMiB << 8)
            guard let scratch = frames.allocate(count: count) else { throw .outOfMemory("a \(spec.options.scratchDiskMiB) MiB scratch disk") }
            disk = UnsafeMutableRawBufferPointer(start: physicalPointer(scratch), count: count * 4096)
        }

        try reached(.disk, spec)

        let hasXSAVE = CPUFeatures.read().hasXSAVE
        let supportedXCR0: UInt64 = hasXSAVE
            ? { let r = cpuid(0xD, 0); return (UInt64(r.edx) << 32) | UInt64(r.eax) }() : 1
        let eptp = ept.pointer(caps.eptVPID).rawValue
        let stats = ExitStatistics()
        statsToRelease = stats
        for index in 0..<vcpuCount {
            let isBSP = index == 0
            let vcpuControls = isBSP ? controls : apControls
            let vcpuStart = isBSP ? start : CPUStartState.startupIPI(vector: 0)
            guard let vmcsRegion = frames.allocate() else { throw .outOfMemory("a VMCS") }
            var virtualAPICPage: UInt64 = 0
            if vcpuControls.apicVirtualization {
                guard let page = frames.allocate() else { throw .outOfMemory("a virtual-APIC page") }
                physicalPointer(page).initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
                virtualAPICPage = page
            }
            let vpid: UInt16 = vcpuControls.vpid ? nextVPID : 0
            if vcpuControls.vpid { nextVPID = nextVPID == 0xFFFF ? 1 : nextVPID + 1 }
            var vmcs: VMCS
            do throws(VMXError) {
                vmcs = try VMCS(region: vmcsRegion, revision: caps.vmxBasic.revisionID)
                try vmcs.makeCurrent()
            } catch { throw .vmx(error) }
            guard let context = GuestContext(frames: &frames, useXSAVE: hasXSAVE, supportedXCR0: supportedXCR0) else {
                try? vmcs.clear()
                throw .outOfMemory("the guest's FPU save area")
            }
            let registers = UnsafeMutablePointer<GuestRegisters>.allocate(capacity: 1)
            registers.initialize(to: GuestRegisters())
            if isBSP {
                registers.pointee.rax = start.rax
                registers.pointee.rbx = start.rbx
                registers.pointee.rsi = start.rsi
            }
            (vcpus + index).initialize(to: VCPU(
                index: index, machine: vm, pcStorage: pcStorage, bit: UInt8(1) << UInt8(index), stats: stats,
                virtualAPICPage: virtualAPICPage == 0 ? nil : physicalPointer(virtualAPICPage), registers: registers, vmcs: vmcs, context: context,
                cpu: VCPUState(vpid: vpid, cr0Fixed: caps.cr0.guestCR0(unrestrictedGuest: vcpuControls.unrestrictedGuest),
                               cr4Fixed: caps.cr4, entryControls: vcpuControls.entry, supportedXCR0: supportedXCR0,
                               msrs: GuestMSRs.forThisProcessor()),
                procBasedControls: vcpuControls.procBased, preemptionTimerRate: caps.vmxMisc.preemptionTimerRate,
                hasPreemptionTimer: vcpuControls.preemptionTimer,
                run: isBSP ? .running : .waitingForStartup, memory: memory))
            vcpus[index].cpu.msrs.vmcsSwitchesPAT = vcpuControls.switchesPAT
            vcpusBuilt += 1
            let eferFrame = EFERSwitch.viaMSRAreas ? frames.allocate() : 0
            guard let eferFrame else { throw .outOfMemory("the EFER MSR areas") }
            do throws(VMXError) {
                try vcpuControls.write(vmcs)
                try vmcs.write(.ioBitmapA, ioA)
                try vmcs.write(.ioBitmapB, ioB)
                try vmcs.write(.msrBitmaps, msrPage)
                if !shadowPaging { try vmcs.write(.eptPointer, eptp) }
                if virtualAPICPage != 0 {
                    try vmcs.write(.virtualAPICAddress, virtualAPICPage)
                    try vmcs.write(.apicAccessAddress, apicAccessPage)
                }
                // The frames of this EPT may have served an earlier VM's EPT with the same EPTP:
                // drop any translations still cached for it (SDM Vol. 3C §29.4.3.1).
                // Without single-context, all-context (§31.3 INVEPT: the type must be supported).
                if isBSP && !shadowPaging {
                    if caps.eptVPID.inveptSingleContext { try VMXInstruction.invept(singleContext: eptp) }
                    else if caps.eptVPID.invept && caps.eptVPID.inveptAllContext { try VMXInstruction.inveptAllContexts() }
                }
                if vpid != 0 {
                    try vmcs.write(.virtualProcessorIdentifier, UInt64(vpid))
                    // VPIDs wrap after 65535 vCPUs: a reused tag must not find old linear translations.
                    if caps.eptVPID.invvpidSingleContext { try VMXInstruction.invvpid(singleContext: vpid) }
                    else if caps.eptVPID.invvpid && caps.eptVPID.invvpidAllContext { try VMXInstruction.invvpidAllContexts() }
                }
                try HostState.write(vmcs, exitControls: vcpuControls.exit)
                if EFERSwitch.viaMSRAreas { try EFERSwitch.install(vmcs, frame: eferFrame, efer: vcpuStart.efer.rawValue) }
                try GuestState.write(vcpuStart, to: vmcs, caps: caps, unrestrictedGuest: vcpuControls.unrestrictedGuest)
            } catch {
                throw .vmx(error)
            }
            if isBSP && shadowPaging {
                guard let state = ShadowPaging.create(ram: ram, ramBytes: ramBytes, guestCR3: vcpuStart.cr3, frames: &frames)
                else { throw .outOfMemory("shadow page tables") }
                shadowState = state
                guard state.pointee.prepare(&vcpus[index].cpu, memory: memory) else { throw .outOfMemory("a shadow root") }
            }
            try reached(.vmcs, spec)
            try reached(.context, spec)
        }
        let budget = CPUShare.ticks(millions: spec.options.budgetMillions)

        let printer = GuestLinePrinter(name: VMName(spec.name), stats: stats)
        pcStorage.initialize(to: VirtualPC(bus: PortBus(com1Sink: GuestOutput(output: printer), debugSink: GuestOutput(output: printer)),
                                           clock: GuestClock(tscHz: HostTime.tscHz, tscBase: rdtsc()),
                                           wallClock: HostTime.now(), ramBytes: ramBytes))
        pcInitialized = true
        if !spec.options.pci {      // with pci=on the disk is virtio-blk (VMPCI.swift)
            if let host = spec.hostDiskStorage { pcStorage.pointee.ata = ATAChannel(storage: .host(host)) }
            else if let disk { pcStorage.pointee.ata = ATAChannel(storage: .memory(ATABlockStorage(disk))) }
        }
        if spec.options.apic {
            pcStorage.pointee.enableAPIC(tscHz: HostTime.tscHz, x2APIC: true, tscDeadline: true,
                                         physicalAddressBits: GuestControlState.maxPhysicalAddressBits, vcpus: vcpuCount)
            if controls.apicVirtualization {
                pcStorage.pointee.virtualAPICPages = true
                for i in 0..<vcpuCount { pcStorage.pointee.lapics[i].mirror(into: vcpus[i].virtualAPICPage.unsafelyUnwrapped) }
            }
        }
        if spec.options.pci { pcStorage.pointee.attachPCI(VMPCI.build(spec, memory: memory, disk: disk)) }    // virtio (VMPCI.swift)

        // Nothing below fails: the frames taken become the VM's.
        let owned = frames.endOwnership()
        built = true
        vm.initialize(to: VirtualMachine(
            name: VMName(spec.name), memory: memory, ept: ept, pcStorage: pcStorage, vcpus: vcpus, vcpuCount: vcpuCount,
            hypercalls: GuestHypercallConsole(output: GuestOutput(output: printer)), stats: stats,
            budgetTicks: budget, sliceTicks: min(budget, sliceTicks),
            baselineExitPath: spec.options.baselineExitPath, frames: owned))
        vm.pointee.shadowPaging = shadowState
        if spec.options.net { VMNetwork.connect(vm) }                       // a port on the virtual switch
        return vm
    }

    /// Fails the build after `step` when a boot test asked for it (`break=build-STEP`).
    private static func reached(_ step: Step, _ spec: GuestSpec) throws(VMBuildError) {
        guard let what = spec.options.breakState, what.hasPrefix("build-"), what.dropFirst(6) == step.rawValue else { return }
        throw .injected(step: step.rawValue)
    }

    private static func load(_ spec: GuestSpec, kind: GuestImageKind, into memory: GuestMemory) throws(VMBuildError) -> CPUStartState {
        switch kind {
        case .flat:
            do { return try FlatGuestLoader.load(spec.image, mode: spec.options.mode, into: memory) }
            catch { throw .load("flat image: \(error.description)") }
        case .multiboot:
            do {
                return try MultibootLoader.load(spec.image, commandLine: spec.kernelCommandLine, modules: spec.modules,
                                                reserved: VMPCI.reservedRanges(spec), into: memory).state
            } catch { throw .load("Multiboot kernel refused: \(error.description)") }
        case .pvh:
            do {
                return try PVHLoader.load(spec.image, commandLine: spec.kernelCommandLine, initrd: spec.initrd,
                                          rsdpAddress: spec.options.acpi ? ACPITables.rsdpAddress : 0,
                                          reserved: VMPCI.reservedRanges(spec), into: memory).state
            } catch { throw .load("PVH kernel refused: \(error.description)") }
        case .elf:
            do { return try ELF64Loader.load(spec.image, into: memory) }
            catch { throw .load("ELF64 kernel refused: \(error.description)") }
        case .linux:
            do {
                return try LinuxLoader.load(spec.image, commandLine: spec.kernelCommandLine, initrd: spec.initrd,
                                            reserved: VMPCI.reservedRanges(spec), into: memory).state
            } catch { throw .load("Linux bzImage refused: \(error.description)") }
        }
    }

    static func destroy(_ vm: UnsafeMutablePointer<VirtualMachine>, frames: inout FrameAllocator) {
        for i in 0..<vm.pointee.vcpuCount {
            try? vm.pointee.vcpus[i].vmcs.clear()
            vm.pointee.vcpus[i].registers.deallocate()
        }
        // Every frame the VM took, EPT tables and FPU areas included, is in its one list
        // (frames.beginOwnership() in build): freeing them elsewhere too would free twice.
        frames.free(vm.pointee.frames)
        if let shadow = vm.pointee.shadowPaging { ShadowPaging.destroy(shadow) }
        vm.pointee.stats.release()
        vm.pointee.vcpus.deinitialize(count: vm.pointee.vcpuCount)
        vm.pointee.vcpus.deallocate()
        VMNetwork.disconnect(vm)
        VMPCI.destroy(vm.pointee.pc.pci)
        vm.pointee.pcStorage.deinitialize(count: 1)
        vm.pointee.pcStorage.deallocate()
        vm.deinitialize(count: 1)
        vm.deallocate()
    }
}
