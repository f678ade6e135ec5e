import X86
import VTx
import Machine

// The host's processors: found in the firmware's MADT, started, put into VMX operation, and
// taken out of it at the end of the run. The guests still run on the boot CPU; the APs wait,
// each in VMX root operation, for work through their mailbox (host_cpu.h: the records, the
// protocol, and who owns what).
//
// Starting an AP (SDM Vol. 3A §8.4.4.1, the INIT-SIPI-SIPI sequence), one at a time:
// - its frames (record page with GDT and TSS, stack, IST stack, VMXON region) are allocated
//   and its record filled, with a copy of the BSP's VMX capability MSRs;
// - the start-up code (APStartup.S) sits in a free page below 1 MiB taken from the memory map
//   (the frame allocator never hands those out), made executable while the APs start, and its
//   parameter block gets the AP's stack and record;
// - INIT, 10 ms, start-up IPI (vector = the page number), 200 µs, and a second start-up IPI
//   only if the first was not taken; then at most 100 ms for the AP to report in and 100 ms
//   more to report VMX on or why not. An AP that never runs is sent INIT again (back to
//   wait-for-SIPI) and its frames are given back.
// At the end, each AP in VMX operation is told to leave it and answers (at most 100 ms), every
// AP is sent INIT, and every frame taken for them is given back.

enum HostCPUs {
    /// Why the MADT could not be used (then only the boot CPU is known).
    nonisolated(unsafe) static var madtError: ACPITableError? = nil
    nonisolated(unsafe) static var madt: MADT? = nil
    /// The APs' records, in MADT order (frames the BSP owns).
    nonisolated(unsafe) static var aps: [UnsafeMutablePointer<host_cpu>] = []
    nonisolated(unsafe) static var bootCapabilities = VMXCapabilities()

    static let startTimeoutMicroseconds: UInt64 = 100_000
    static let stackFrames = 4, istFrames = 4

    // MARK: The MADT

    /// Reads the MADT (through the loader's copy of the RSDP, else the BIOS area) and says how
    /// many processors it lists: "host CPUs: 4 in the MADT (APIC IDs 0, 1, 2, 3)".
    static func discover(_ boot: BootInfo) {
        do throws(ACPITableError) {
            let pointer: ACPIRootPointer
            if !boot.acpiRootPointer.isEmpty {
                pointer = try ACPIRootPointer(boot.acpiRootPointer)
            } else {
                // The BIOS read-only area (ACPI 6.5 §5.2.5.1); the EBDA, in page 0's BIOS data
                // area pointer, lies behind the unmapped null page and is not searched.
                guard let found = ACPIRootPointer.scan(readPhysical(0xE_0000, 0x2_0000) ?? [], base: 0xE_0000) else {
                    throw .noRootPointer
                }
                pointer = found.pointer
            }
            madt = try MADT.find(root: pointer, read: readPhysical)
        } catch {
            madtError = error
            print("host CPUs: MADT not usable (\(error.description)); the boot CPU only")
            return
        }
        let enabled = madt!.enabledProcessors
        var ids = ""
        for (i, p) in enabled.enumerated() { ids += (i == 0 ? "" : ", ") + "\(p.apicID)" }
        print("host CPUs: \(enabled.count) in the MADT (APIC ID\(enabled.count == 1 ? "" : "s") \(ids))")
    }

    /// Firmware tables from physical memory: nil for what the identity map does not reach (and
    /// the unmapped null page).
    private static func readPhysical(_ address: UInt64, _ count: Int) -> [UInt8]? {
        let (end, overflow) = address.addingReportingOverflow(UInt64(count))
        guard count >= 0, !overflow, address >= 4096, end <= FrameAllocator.limit else { return nil }
        return Array(UnsafeRawBufferPointer(start: physicalPointer(address), count: count))
    }

    // MARK: Starting the APs

    /// Starts every other enabled processor the MADT lists and puts it into VMX operation; one
    /// line per CPU: "cpu 1 (APIC ID 1): VMX on (VMCS revision 0x2b)" or why not.
    static func startAPs(vmx: VMXOperation, boot: BootInfo, reserved: [(start: UInt64, end: UInt64)],
                         frames: inout FrameAllocator) {
        bootCapabilities = vmx.capabilities
        let bsp = host_cpu_bsp_record()!
        bsp.pointee.record = bsp
        bsp.pointee.apic_id = HostLocalAPIC.id
        bsp.pointee.vmxon_region = vmx.vmxonRegion
        bsp.state = HOST_CPU_VMX_ON
        wrmsr(MSR.ia32GSBase, UInt64(UInt(bitPattern: bsp)))
        let revision = hex(vmx.capabilities.vmxBasic.revisionID, digits: 1)
        print("cpu 0 (APIC ID \(bsp.pointee.apic_id)): VMX on (VMCS revision \(revision)), the boot CPU")

        guard let madt else { return }
        let others = madt.enabledProcessors.filter { $0.apicID != bsp.pointee.apic_id }
        guard !others.isEmpty else { return }
        guard HostLocalAPIC.mapRegisters() else {
            print("host CPUs: the local APIC's registers could not be mapped: \(others.count) APs not started")
            return
        }
        guard let page = startupPage(boot.memoryMap, reserved: reserved),
              KernelPageTables.setExecutable(physical: page, true) else {
            print("host CPUs: no free page below 1 MiB for the start-up code: \(others.count) APs not started")
            return
        }
        _ = memcpy(physicalPointer(page), UnsafeRawPointer(bitPattern: UInt(ap_trampoline_address())),
                   Int(ap_trampoline_size()))
        let params = physicalPointer(page + ap_trampoline_params_offset())
        params.storeBytes(of: read_cr3(), toByteOffset: Int(AP_PARAMS_CR3), as: UInt64.self)
        let efer = EFER(rawValue: rdmsr(MSR.ia32EFER)).intersection([.lme, .nxe, .sce])
        params.storeBytes(of: efer.rawValue, toByteOffset: Int(AP_PARAMS_EFER), as: UInt64.self)
        params.storeBytes(of: ap_start64_address(), toByteOffset: Int(AP_PARAMS_ENTRY), as: UInt64.self)

        for processor in others {
            let index = UInt32(aps.count + 1)
            let name = "cpu \(index) (APIC ID \(processor.apicID))"
            guard HostLocalAPIC.isX2APIC || processor.apicID <= 0xFF else {
                print("\(name): not started: its APIC ID needs x2APIC mode, the boot CPU is in xAPIC mode")
                continue
            }
            guard let cpu = makeRecord(index: index, apicID: processor.apicID, frames: &frames) else {
                print("\(name): not started: no memory for its stacks and VMXON region")
                continue
            }
            params.storeBytes(of: cpu.pointee.stack_top, toByteOffset: Int(AP_PARAMS_STACK_TOP), as: UInt64.self)
            params.storeBytes(of: UInt64(UInt(bitPattern: cpu)), toByteOffset: Int(AP_PARAMS_CPU), as: UInt64.self)
            let outcome = start(cpu, page: page)
            print("\(name): \(outcome)")
            if cpu.state == HOST_CPU_OFF {
                // Never ran: back to wait-for-SIPI, and its frames go back at once.
                HostLocalAPIC.send(.initialize, to: processor.apicID)
                freeRecord(cpu, frames: &frames)
            } else {
                // Running (even one late with its report, which may yet reach VMX operation, where
                // INIT is blocked): its frames stay its own until stopAPs.
                aps.append(cpu)
            }
        }
        _ = KernelPageTables.setExecutable(physical: page, false)
        let on = aps.filter { $0.state == HOST_CPU_VMX_ON }.count
        print("host CPUs: \(on + 1) of \(others.count + 1) in VMX operation")
    }

    /// INIT, SIPI, SIPI; then the AP's report. What to print for it.
    private static func start(_ cpu: UnsafeMutablePointer<host_cpu>, page: UInt64) -> String {
        let apicID = cpu.pointee.apic_id
        let vector = UInt8(truncatingIfNeeded: page >> 12)
        guard HostLocalAPIC.send(.initialize, to: apicID) else { return "not started: the INIT IPI stayed pending" }
        HostTime.delay(microseconds: 10_000)
        for attempt in 0..<2 where cpu.state == HOST_CPU_OFF {
            guard HostLocalAPIC.send(.startup, vector: vector, to: apicID) else {
                return "not started: start-up IPI \(attempt + 1) stayed pending"
            }
            HostTime.delay(microseconds: 200)
        }
        guard HostTime.wait(microseconds: startTimeoutMicroseconds, until: { cpu.state != HOST_CPU_OFF }) else {
            return "not started: no answer within \(startTimeoutMicroseconds / 1000) ms of its start-up IPIs (timeout)"
        }
        guard HostTime.wait(microseconds: startTimeoutMicroseconds, until: { cpu.state != HOST_CPU_STARTED }) else {
            return "started, but no VMX report within \(startTimeoutMicroseconds / 1000) ms (timeout)"
        }
        guard cpu.state == HOST_CPU_VMX_ON else { return "not in VMX operation: " + failureDescription(cpu) }
        return "VMX on (VMCS revision \(hex(bootCapabilities.vmxBasic.revisionID, digits: 1)))"
    }

    private static func failureDescription(_ cpu: UnsafeMutablePointer<host_cpu>) -> String {
        let c = cpu.pointee
        switch host_cpu_failure(rawValue: c.failure) {
        case HOST_CPU_NO_VMX: return "no VMX (CPUID.1:ECX.VMX = 0)"
        case HOST_CPU_FEATURE_CONTROL:
            return "IA32_FEATURE_CONTROL \(hex(c.detail, digits: 1)) is locked without VMX outside SMX"
        case HOST_CPU_CAPABILITY_MISMATCH:
            let name = String(decoding: UnsafeBufferPointer(start: c.mismatch, count: Int(c.mismatch_length)), as: UTF8.self)
            return "capability mismatch: \(name) differs from the boot CPU's"
        case HOST_CPU_VMXON_FAILED: return "VMXON failed (\(c.detail == 1 ? "VMfailInvalid" : "VMfailValid"))"
        default: return "failure \(c.failure)"
        }
    }

    /// The lowest page below 1 MiB that the memory map says is available, that no loader data,
    /// module or the kernel occupies, and whose number is a valid start-up vector (01h-9Fh:
    /// page 0 holds the real-mode IVT and BIOS data; A0h-BFh are reserved, SDM Vol. 3A §8.4.4.1).
    static func startupPage(_ memoryMap: [MemoryRegion], reserved: [(start: UInt64, end: UInt64)]) -> UInt64? {
        var page: UInt64 = 0x1000
        while page < 0xA_0000 {
            let end = page + 0x1000
            if memoryMap.contains(where: { $0.isAvailable && $0.base <= page && $0.end >= end })
                && !reserved.contains(where: { $0.start < end && $0.end > page }) {
                return page
            }
            page += 0x1000
        }
        return nil
    }

    /// An AP's frames and its record (at the start of its record page, GDT at 0x100, TSS at
    /// 0x180, the BSP's capability MSRs at 0x400), or nil when memory runs out.
    private static func makeRecord(index: UInt32, apicID: UInt32, frames: inout FrameAllocator) -> UnsafeMutablePointer<host_cpu>? {
        guard let tables = frames.allocate() else { return nil }
        guard let vmxon = frames.allocate() else { frames.free(tables); return nil }
        guard let stack = frames.allocate(count: stackFrames) else { frames.free(tables); frames.free(vmxon); return nil }
        guard let ist = frames.allocate(count: istFrames) else {
            frames.free(tables); frames.free(vmxon); frames.free(stack, count: stackFrames); return nil
        }
        let cpu = physicalPointer(tables).bindMemory(to: host_cpu.self, capacity: 1)
        cpu.pointee.record = cpu
        cpu.pointee.index = index
        cpu.pointee.apic_id = apicID
        cpu.pointee.tables = tables
        cpu.pointee.gdt = tables + 0x100
        cpu.pointee.tss = tables + 0x180
        cpu.pointee.vmxon_region = vmxon
        cpu.pointee.stack_bottom = stack
        cpu.pointee.stack_top = stack + UInt64(stackFrames) * FrameAllocator.frameSize
        cpu.pointee.ist_bottom = ist
        cpu.pointee.ist_top = ist + UInt64(istFrames) * FrameAllocator.frameSize
        cpu.pointee.idt_base = sidt_base()
        let capabilities = physicalPointer(tables + 0x400).bindMemory(to: VMXCapabilities.self, capacity: 1)
        capabilities.initialize(to: bootCapabilities)
        cpu.pointee.boot_capabilities = tables + 0x400
        return cpu
    }

    private static func freeRecord(_ cpu: UnsafeMutablePointer<host_cpu>, frames: inout FrameAllocator) {
        let c = cpu.pointee
        frames.free(c.vmxon_region)
        frames.free(c.stack_bottom, count: stackFrames)
        frames.free(c.ist_bottom, count: istFrames)
        frames.free(c.tables)
    }

    // MARK: The end of the run

    /// Every AP in VMX operation leaves it (the VMXOFF command and a wake-up IPI, at most 100 ms
    /// each); then each AP is sent INIT and its frames are given back. Before the BSP's VMXOFF.
    static func stopAPs(frames: inout FrameAllocator) {
        guard !aps.isEmpty else { return }
        var off = 0, kept = 0
        for cpu in aps {
            let apicID = cpu.pointee.apic_id
            if cpu.state == HOST_CPU_VMX_ON {
                cpu.command = HOST_CPU_COMMAND_VMXOFF
                HostLocalAPIC.send(.fixed, vector: UInt8(HOST_CPU_WAKEUP_VECTOR), to: apicID)
                guard HostTime.wait(microseconds: startTimeoutMicroseconds,
                                    until: { cpu.state == HOST_CPU_VMX_OFF }) else {
                    // Still in VMX root operation, where INIT is blocked: its frames stay its own.
                    print("cpu \(cpu.pointee.index) (APIC ID \(apicID)): no VMXOFF within \(startTimeoutMicroseconds / 1000) ms (timeout); its frames are kept")
                    kept += 1
                    continue
                }
                off += 1
            }
            HostLocalAPIC.send(.initialize, to: apicID)
            freeRecord(cpu, frames: &frames)
        }
        aps = []
        print("host CPUs: VMXOFF done on \(off) AP\(off == 1 ? "" : "s")\(kept > 0 ? ", \(kept) did not answer" : ""); the APs wait for SIPI again")
    }
}

/// The mailbox words, with the ordering host_cpu.h gives them.
extension UnsafeMutablePointer where Pointee == host_cpu {
    var state: host_cpu_state {
        get { host_cpu_state(rawValue: host_cpu_load_state(self)) }
        nonmutating set { host_cpu_store_state(self, newValue.rawValue) }
    }
    var command: host_cpu_command {
        get { host_cpu_command(rawValue: host_cpu_load_command(self)) }
        nonmutating set { host_cpu_store_command(self, newValue.rawValue) }
    }
}
