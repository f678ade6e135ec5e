/// A guest's PC: the legacy devices behind its port space, their interrupt lines
/// into the 8259A pair, and their notion of time (the guest clock).
///
/// Devices: PIC (0x20/0x21, 0xA0/0xA1), PIT (0x40-0x43) with port 0x61, CMOS/RTC
/// (0x70/0x71, IRQ 8), i8042 keyboard controller (0x60/0x64, IRQ 1), ATA primary
/// channel (0x1F0-0x1F7, 0x3F6, IRQ 14; floating when no disk), and everything
/// PortBus decodes (COM1, port 0xE9, port 0x80, the unhandled-port count).
///
/// Time is pulled, never pushed: the engine calls `update(tsc:)` when a VM exits
/// and before it enters, and arms its own timer for `nextTimerTSC`, the TSC at
/// which a device next needs attention (.max when none is armed). Both checks are
/// a compare when nothing is due, so the exit path stays cheap.
///
/// `DiskStorage` is the medium behind the ATA disk: `ATABlockStorage` (RAM) or the
/// kernel's host-disk storage.
public struct VirtualPC<ConsoleSink: ByteSink, DebugSink: ByteSink, DiskStorage: BlockStorage> {
    public var bus: PortBus<ConsoleSink, DebugSink>
    public var pic = PIC8259()
    public var pit = PIT8254()
    public var ata = ATAChannel<DiskStorage>.absent
    public var rtc: CMOSRTC
    public var keyboard = I8042()
    /// VGA CRT controller index/data (0x3D4/0x3D5): the cursor position and shape registers
    /// text-mode drivers program; stored and read back, nothing more (the text memory is RAM).
    public private(set) var crtcIndex: UInt8 = 0
    public private(set) var crtcRegisters = InlineArray<32, UInt8>(repeating: 0)
    public static var vgaCRTC: PortRange { PortRange(base: 0x3D4, count: 2) }

    /// ACPI's PM1a event/control blocks and the reset register (ports 0x600-0x605, 0xCF9).
    public var acpi = ACPIPowerManagement()
    /// The APIC interrupt model (nil: the PC has only its 8259 pair): the I/O APIC at 0xFEC00000
    /// and one local APIC per vCPU at IA32_APIC_BASE (0xFEE00000; each vCPU reaches its own at the
    /// same address), reached through MMIO exits (`mmioRead`/`mmioWrite`) and the x2APIC MSRs;
    /// the ISA lines drive the 8259 pair and the I/O APIC's pins side by side (IRQ 0 on pin 2, as
    /// the MADT's override says), and the BSP's local APIC takes the 8259's INTR through LINT0 in
    /// virtual-wire mode (ExtINT). I/O APIC messages and IPIs reach the local APICs they address.
    public var ioapic: IOAPIC? = nil
    /// The local APICs, APIC ID = vCPU index; only the first `vcpuCount` exist.
    public var lapics = InlineArray<8, LocalAPIC>(repeating: LocalAPIC(id: 0, bootstrapProcessor: false, virtualWire: false,
                                                                       timerHz: 1, tscHz: 1))
    /// The most vCPUs a VM has (the local APIC array's size).
    public static var maxVCPUs: Int { 8 }
    /// vCPUs of the machine (1 without the APIC model: the 8259 has one INTR output).
    public private(set) var vcpuCount = 1
    /// `ioapic` and the local APICs are there (a stored Bool: testing the optional on the exit path
    /// copies the whole I/O APIC structure, about 20 instructions a exit on a VM without one).
    public private(set) var hasAPIC = false
    /// The PCI bus with the virtio devices (VirtualPCPCI.swift), owned by the engine; `hasPCI` says it is there.
    public internal(set) var pci: UnsafeMutablePointer<VirtioPCIPlatform<DiskStorage>>? = nil
    public internal(set) var hasPCI = false

    /// Turns on the APIC interrupt model with `vcpus` local APICs (IDs 0..<vcpus; 0 is the BSP,
    /// in virtual-wire mode as firmware leaves it).
    public mutating func enableAPIC(tscHz: UInt64, x2APIC: Bool, tscDeadline: Bool, physicalAddressBits: Int,
                                    vcpus: Int = 1) {
        hasAPIC = true
        vcpuCount = min(max(vcpus, 1), Self.maxVCPUs)
        ioapic = IOAPIC(id: ACPITables.ioAPICID(vcpus: vcpuCount))
        for i in 0..<vcpuCount {
            lapics[i] = LocalAPIC(id: UInt32(i), bootstrapProcessor: i == 0, virtualWire: i == 0, timerHz: tscHz,
                                  tscHz: tscHz, x2APICSupported: x2APIC, tscDeadlineSupported: tscDeadline,
                                  physicalAddressBits: physicalAddressBits)
        }
    }

    /// The guest asked its keyboard controller to reset the machine (command 0xFE, or the
    /// output port's reset bit): the engine resets or stops the VM.
    public var resetRequested: Bool { keyboard.resetRequested }

    /// What the guest asked of the machine's power, if anything: checked after every OUT.
    public var powerRequest: PowerRequest? {
        if keyboard.resetRequested { return .keyboardControllerReset }
        if acpi.powerOffRequested { return .acpiPowerOff }
        if acpi.resetRequested { return .acpiReset }
        return nil
    }

    /// The text-mode cursor (CRTC registers 0x0E/0x0F), as a cell index.
    public var cursorPosition: Int { Int(crtcRegisters[0x0E]) << 8 | Int(crtcRegisters[0x0F]) }
    public let clock: GuestClock
    /// The TSC at which a device next needs attention: the earliest of the PIT's next
    /// IRQ0, the end of the ATA drive's busy phase, the local APIC timers and deferred PCI device
    /// work (`deviceWorkTSC`); .max when nothing is armed.
    public private(set) var nextTimerTSC: UInt64 = .max
    /// The TSC at which the PIT next raises IRQ0; .max while channel 0 is idle.
    public private(set) var pitTimerTSC: UInt64 = .max
    /// The TSC at which the ATA drive's busy phase ends; .max when it is not busy.
    public private(set) var ataTimerTSC: UInt64 = .max
    /// Guest time an ATA command, or a PIO data block, keeps the drive BSY before it
    /// completes (and interrupts): 100 µs, the order of a real drive's cache hit and
    /// of QEMU's asynchronous completion, so a driver that issues a command and then
    /// goes to sleep on IRQ 14 is asleep before the interrupt comes.
    public static var ataBusyNanoseconds: UInt64 { 100_000 }
    /// `ataBusyNanoseconds` in TSC ticks.
    public let ataBusyTSC: UInt64
    /// IRQ0 edges delivered to the PIC so far.
    public private(set) var timerInterrupts: UInt64 = 0
    /// INTR per vCPU (bit i: vCPU i has an interrupt to take), recomputed whenever interrupt
    /// state changes (stored, so the exit path's check costs one load).
    public private(set) var pendingVCPUs: UInt8 = 0 { didSet { attentionVCPUs = pendingVCPUs | signalledVCPUs | staleAPICPages } }
    /// The BSP's INTR (the only vCPU of a machine without the APIC model).
    public var interruptPending: Bool { pendingVCPUs & 1 != 0 }
    /// Whether vCPU `vcpu` has an interrupt to take.
    @inline(__always) public func interruptPending(vcpu: Int) -> Bool { pendingVCPUs & (1 << UInt8(truncatingIfNeeded: vcpu)) != 0 }
    /// INIT, SIPI and NMI waiting for each vCPU (`takeSignals`), and which vCPUs have any (bit i).
    public private(set) var signals = InlineArray<8, VCPUSignals>(repeating: VCPUSignals())
    public private(set) var signalledVCPUs: UInt8 = 0 { didSet { attentionVCPUs = pendingVCPUs | signalledVCPUs | staleAPICPages } }
    /// vCPUs whose local APIC changed since the engine last mirrored it into their virtual-APIC
    /// pages (bit i); only with `virtualAPICPages` on (VirtualAPICPage.swift).
    public private(set) var staleAPICPages: UInt8 = 0 { didSet { attentionVCPUs = pendingVCPUs | signalledVCPUs | staleAPICPages } }
    /// The engine mirrors the local APICs into virtual-APIC pages (APIC-register virtualization).
    public var virtualAPICPages = false
    /// `pendingVCPUs | signalledVCPUs | staleAPICPages`: the vCPUs the engine must look at before
    /// their next entry (one load on the exit path).
    public private(set) var attentionVCPUs: UInt8 = 0

    /// The guest's TPR on vCPU `vcpu`'s virtual-APIC page (changed there without an exit) into the model.
    public mutating func takeVirtualTaskPriority(_ value: UInt32, vcpu: Int) {
        lapics[vcpu].takeVirtualTaskPriority(value)
        refreshInterruptPending()
    }

    /// The engine mirrored vCPU `vcpu`'s local APIC into its page.
    public mutating func apicPageMirrored(vcpu: Int) {
        staleAPICPages &= ~(1 << UInt8(vcpu))
    }
    /// The last level driven on each device-owned IRQ line (bit n = IRQ n).
    private var lineLevels: UInt16 = 0

    /// `DeviceWorkBudget.guestNanosecondsBetween` in TSC ticks.
    public let deviceWorkGapTSC: UInt64
    /// `wallClock` is the date and time at the guest's time zero (the host's, normally);
    /// `ramBytes` is reported in the CMOS memory-size registers.
    public init(bus: PortBus<ConsoleSink, DebugSink>, clock: GuestClock,
                wallClock: CalendarDateTime = .epoch, ramBytes: UInt64 = 0) {
        self.bus = bus
        self.clock = clock
        ataBusyTSC = max(clock.tscHz / (1_000_000_000 / Self.ataBusyNanoseconds), 1)
        deviceWorkGapTSC = max(clock.tscHz / (1_000_000_000 / DeviceWorkBudget.guestNanosecondsBetween), 1)
        rtc = CMOSRTC(time: wallClock)
        if ramBytes > 0 { rtc.setMemorySize(bytesBelow4GiB: ramBytes) }
    }

    /// INTA on vCPU `vcpu`: the vector to deliver (the request moves to in-service).
    public mutating func acknowledge(vcpu: Int = 0) -> UInt8 {
        let vector: UInt8
        if hasAPIC, lapics[vcpu].highestDeliverable() != nil {
            vector = lapics[vcpu].acknowledge()
        } else {
            vector = pic.acknowledge()      // the 8259 through the BSP's LINT0 (ExtINT), or no APIC at all
        }
        refreshInterruptPending()
        return vector
    }

    /// INTR as each vCPU sees it: a deliverable local-APIC vector, or (BSP only) the 8259's
    /// request where it reaches the CPU (no local APIC, or LINT0 in ExtINT mode).
    @inline(__always)
    mutating func refreshInterruptPending() {
        if virtualAPICPages { staleAPICPages = UInt8(truncatingIfNeeded: (1 << vcpuCount) - 1) }
        if hasAPIC {
            var mask: UInt8 = pic.interruptRequested && lapics[0].acceptsPICInterrupt ? 1 : 0
            for i in 0..<vcpuCount where lapics[i].highestDeliverable() != nil { mask |= 1 << UInt8(i) }
            pendingVCPUs = mask
        } else {
            pendingVCPUs = pic.interruptRequested ? 1 : 0
        }
    }

    /// The INIT/SIPI/NMI signals waiting for vCPU `vcpu`, taken (cleared).
    public mutating func takeSignals(vcpu: Int) -> VCPUSignals {
        let taken = signals[vcpu]
        signals[vcpu] = VCPUSignals()
        signalledVCPUs &= ~(1 << UInt8(vcpu))
        return taken
    }

    /// Bring the timers up to `tsc`: IRQ0 edges that came due are handed to the PIC.
    @inline(__always)
    public mutating func update(tsc: UInt64) {
        if tsc >= nextTimerTSC { fireTimers(tsc: tsc) }
    }

    public mutating func portIn(port: UInt16, size: Int, tsc: UInt64) -> UInt32 {
        let value: UInt32
        switch port {     // COM1 first: the busiest port range
        case StandardPorts.com1:
            value = bus.portIn(port: port, size: size)
            drive(irq: StandardPorts.com1IRQ, bus.com1.irqAsserted)
        case PIC8259.masterPorts, PIC8259.slavePorts:
            value = UInt32(truncatingIfNeeded: pic.read(offset: UInt64(port - PIC8259.basePort), size: size))
            refreshInterruptPending()      // a poll-mode read acknowledges
        case PIT8254.counterPorts, PIT8254.systemControlPorts:
            update(tsc: tsc)
            pit.advance(to: clock.pitTicks(at: tsc))
            value = UInt32(truncatingIfNeeded: pit.read(offset: UInt64(port - PIT8254.basePort), size: size))
        case CMOSRTC.ports:
            rtc.advance(to: clock.nanoseconds(at: tsc))
            value = UInt32(truncatingIfNeeded: rtc.read(offset: UInt64(port - CMOSRTC.ports.base), size: size))
            drive(irq: 8, rtc.irqAsserted)                 // reading status C clears the flag
        case I8042.dataPort:
            value = UInt32(truncatingIfNeeded: keyboard.read(offset: I8042.dataOffset, size: size))
            keyboardEdges()
        case I8042.commandPort:
            value = UInt32(truncatingIfNeeded: keyboard.read(offset: I8042.commandOffset, size: size))
        case Self.vgaCRTC:
            value = port == 0x3D4 ? UInt32(crtcIndex) : UInt32(crtcRegisters[Int(crtcIndex & 0x1F)])
        case ATAPorts.primaryCommandBlock:
            update(tsc: tsc)                                // a busy phase that has ended shows
            value = UInt32(truncatingIfNeeded: ata.read(offset: UInt64(port - ATAPorts.primaryCommandBlock.base), size: size))
            ataAccessed(tsc: tsc)
        case ATAPorts.primaryControl:
            update(tsc: tsc)
            value = UInt32(truncatingIfNeeded: ata.read(offset: ATARegister.control, size: size))
        case ACPIPowerManagement.ports:
            value = acpi.read(port: port, size: size)
        case ACPIPowerManagement.resetRegister:
            value = 0
        default:
            if let config = pciPortIn(port: port, size: size) { value = config }
            else { value = bus.portIn(port: port, size: size) }
        }
        return value & UInt32(truncatingIfNeeded: IOAccess.mask(size: size))
    }

    public mutating func portOut(port: UInt16, size: Int, value: UInt32, tsc: UInt64) {
        let data = UInt64(value) & IOAccess.mask(size: size)
        switch port {     // COM1 first: the busiest port range
        case StandardPorts.com1:
            bus.portOut(port: port, size: size, value: value)
            drive(irq: StandardPorts.com1IRQ, bus.com1.irqAsserted)
        case PIC8259.masterPorts, PIC8259.slavePorts:
            pic.write(offset: UInt64(port - PIC8259.basePort), size: size, value: data)
            refreshInterruptPending()
        case PIT8254.counterPorts, PIT8254.systemControlPorts:
            update(tsc: tsc)
            let now = clock.pitTicks(at: tsc)
            pit.advance(to: now)
            pit.write(offset: UInt64(port - PIT8254.basePort), size: size, value: data)
            scheduleTimer(afterPITTick: now)
        case CMOSRTC.ports:
            rtc.advance(to: clock.nanoseconds(at: tsc))
            rtc.write(offset: UInt64(port - CMOSRTC.ports.base), size: size, value: data)
            drive(irq: 8, rtc.irqAsserted)
        case I8042.dataPort:
            keyboard.write(offset: I8042.dataOffset, size: size, value: data)
            keyboardEdges()
        case I8042.commandPort:
            keyboard.write(offset: I8042.commandOffset, size: size, value: data)
            keyboardEdges()
        case Self.vgaCRTC:
            // A 16-bit OUT to 0x3D4 writes index then data, as VGA drivers often do.
            if port == 0x3D4 {
                crtcIndex = UInt8(truncatingIfNeeded: data)
                if size >= 2 { crtcRegisters[Int(crtcIndex & 0x1F)] = UInt8(truncatingIfNeeded: data >> 8) }
            } else {
                crtcRegisters[Int(crtcIndex & 0x1F)] = UInt8(truncatingIfNeeded: data)
            }
        case ATAPorts.primaryCommandBlock:
            update(tsc: tsc)
            ata.write(offset: UInt64(port - ATAPorts.primaryCommandBlock.base), size: size, value: data)
            ataAccessed(tsc: tsc)
        case ATAPorts.primaryControl:
            update(tsc: tsc)
            ata.write(offset: ATARegister.control, size: size, value: data)
            ataAccessed(tsc: tsc)
        case ACPIPowerManagement.ports:
            acpi.write(port: port, size: size, value: value)
        case ACPIPowerManagement.resetRegister:
            acpi.writeReset(UInt8(truncatingIfNeeded: data))
        default:
            if !pciPortOut(port: port, size: size, value: value) { bus.portOut(port: port, size: size, value: value) }
        }
    }

    /// A device's interrupt line follows the device (IRQ 1 keyboard, 4 COM1, 8 RTC, 14 ATA);
    /// the PIC hears about it only when the level changes.
    /// The common case, the line as it was, is a compare on the exit path (inlined); a change
    /// goes to the controllers (`lineChanged`, out of line).
    @inline(__always)
    mutating func drive(irq: UInt8, _ high: Bool) {
        let bit: UInt16 = 1 << UInt16(irq)
        guard (lineLevels & bit != 0) != high else { return }
        lineChanged(irq: irq, high)
    }

    @inline(never)
    private mutating func lineChanged(irq: UInt8, _ high: Bool) {
        let bit: UInt16 = 1 << UInt16(irq)
        lineLevels = high ? lineLevels | bit : lineLevels & ~bit
        pic.setLevel(irq: irq, high: high)
        if ioapic != nil { setIOAPICPin(irq: irq, high: high) }
        refreshInterruptPending()
    }

    /// Whether an emulated device decodes the guest-physical address `gpa` (outside RAM).
    public func hasMMIODevice(at gpa: UInt64, vcpu: Int = 0) -> Bool {
        if pciDecodes(gpa: gpa) { return true }
        guard hasAPIC else { return false }
        if gpa >= IOAPIC.defaultBase && gpa - IOAPIC.defaultBase < IOAPIC.mmioSize { return true }
        return isLocalAPICPage(gpa, vcpu: vcpu)
    }

    /// `gpa` is in vCPU `vcpu`'s xAPIC page.
    @inline(__always)
    private func isLocalAPICPage(_ gpa: UInt64, vcpu: Int) -> Bool {
        lapics[vcpu].xAPICMode && gpa >= lapics[vcpu].mmioBase && gpa - lapics[vcpu].mmioBase < 0x1000
    }

    /// A read of the emulated MMIO space at `gpa` (outside RAM), or nil when no device is there.
    /// Device registers are 32 bits wide: a narrower read takes the low bytes, a wider one two halves.
    /// The local APIC's page and the I/O APIC's window come before any PCI BAR a guest moved onto
    /// them: the processor's APIC takes its own page, and the chipset decodes the I/O APIC range
    /// before it forwards an access to PCI.
    public mutating func mmioRead(gpa: UInt64, size: Int, tsc: UInt64, vcpu: Int = 0) -> UInt64? {
        if hasAPIC, isLocalAPICPage(gpa, vcpu: vcpu) {
            return UInt64(lapics[vcpu].readMMIO(offset: gpa - lapics[vcpu].mmioBase, size: size, tsc: tsc))
        }
        if let io = ioapic, gpa >= IOAPIC.defaultBase, gpa - IOAPIC.defaultBase < IOAPIC.mmioSize {
            let offset = gpa - IOAPIC.defaultBase
            var value = UInt64(io.readMMIO(offset: offset, size: size))     // reads have no side effects
            if size == 8 { value |= UInt64(io.readMMIO(offset: offset + 4, size: 4)) << 32 }
            return value & IOAccess.mask(size: min(size, 8))
        }
        return pciMMIORead(gpa: gpa, size: size)
    }

    /// A write of the emulated MMIO space at `gpa`; false when no device is there. The APICs come
    /// first, as for `mmioRead`.
    public mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64, tsc: UInt64, vcpu: Int = 0) -> Bool {
        if var io = ioapic, gpa >= IOAPIC.defaultBase, gpa - IOAPIC.defaultBase < IOAPIC.mmioSize {
            io.writeMMIO(offset: gpa - IOAPIC.defaultBase, size: size, value: UInt32(truncatingIfNeeded: value))
            ioapic = io
            drainIOAPIC()
            refreshInterruptPending()
            return true
        }
        if hasAPIC, isLocalAPICPage(gpa, vcpu: vcpu) {
            let effect = lapics[vcpu].writeMMIO(offset: gpa - lapics[vcpu].mmioBase, size: size,
                                                value: UInt32(truncatingIfNeeded: value), tsc: tsc)
            handle(effect, from: vcpu)
            return true
        }
        return pciMMIOWrite(gpa: gpa, size: size, value: value, tsc: tsc)
    }

    /// RDMSR of a local-APIC MSR (IA32_APIC_BASE, x2APIC 0x800-0x8FF, IA32_TSC_DEADLINE with `tsc`
    /// in host time): nil means #GP. Not an APIC MSR, or no APIC: nil too.
    public mutating func apicMSRRead(_ msr: UInt32, tsc: UInt64, vcpu: Int = 0) -> UInt64? {
        guard hasAPIC else { return nil }
        switch msr {
        case 0x1B: return lapics[vcpu].apicBase
        case 0x6E0: return lapics[vcpu].readTSCDeadline()
        case LocalAPIC.x2APICFirstMSR...LocalAPIC.x2APICLastMSR: return lapics[vcpu].readMSR(msr, tsc: tsc)
        default: return nil
        }
    }

    /// WRMSR of a local-APIC MSR; false means #GP.
    public mutating func apicMSRWrite(_ msr: UInt32, value: UInt64, tsc: UInt64, vcpu: Int = 0) -> Bool {
        guard hasAPIC else { return false }
        let effect: LocalAPICEffect
        switch msr {
        case 0x1B: effect = lapics[vcpu].writeAPICBase(value)
        case 0x6E0:
            lapics[vcpu].writeTSCDeadline(value, tsc: tsc)
            effect = .none
        case LocalAPIC.x2APICFirstMSR...LocalAPIC.x2APICLastMSR: effect = lapics[vcpu].writeMSR(msr, value: value, tsc: tsc)
        default: return false
        }
        if effect == .generalProtection { return false }
        handle(effect, from: vcpu)
        return true
    }

    /// A key typed on the hypervisor's console, for this VM's keyboard (IRQ 1).
    public mutating func type(ascii: UInt8) {
        _ = keyboard.type(ascii: ascii)
        keyboardEdges()
    }

    /// IRQ 1 is edge-triggered on the ISA bus: every byte the i8042 moves into its
    /// output buffer is a new rising edge, even when the line never visibly dropped
    /// between two bytes (the guest read one and the next followed at once).
    mutating func keyboardEdges() {
        if keyboard.takeIRQ1() {
            pulse(irq: 1)
        }
    }

    /// After any access to the ATA channel: INTRQ follows the drive, and a busy phase
    /// the access started gets its deadline (one already running keeps its own; one the
    /// access ended, by a software reset, loses it).
    private mutating func ataAccessed(tsc: UInt64) {
        driveIRQ14()
        if ata.busyPhasePending {
            if ataTimerTSC == .max {
                let (deadline, overflow) = tsc.addingReportingOverflow(ataBusyTSC)
                ataTimerTSC = overflow ? .max - 1 : deadline
                recomputeNextTimer()
            }
        } else if ataTimerTSC != .max {
            ataTimerTSC = .max
            recomputeNextTimer()
        }
    }

    /// IRQ 14 follows the drive's INTRQ, and each rising edge is also held in the PIC until
    /// the CPU takes it (`PIC8259.pulse`). A driver that reads Status with interrupts off -
    /// which drops INTRQ - still gets the interrupt once it enables them, as on QEMU, whose
    /// edge-triggered 8259 keeps IRR when the line falls. Teaching kernels depend on it: a
    /// write, Status polled until not BSY, FLUSH CACHE, Status polled again, interrupts on,
    /// then sleep until IRQ 14 (a strict 8259 would have forgotten the request).
    @inline(__always)
    private mutating func driveIRQ14() {
        let high = ata.irqPending
        if high && lineLevels & (1 << UInt16(ATAPorts.primaryIRQ)) == 0 {
            pulse(irq: ATAPorts.primaryIRQ)
        }
        drive(irq: ATAPorts.primaryIRQ, high)
    }

    private mutating func fireTimers(tsc: UInt64) {
        if tsc >= deviceWorkTSC {
            // One more exit's worth of the disk's deferred requests (frames for the switch are the engine's).
            deviceWorkTSC = .max
            if hasPCI && pci.unsafelyUnwrapped.pointee.hasDeferredWork {
                pci.unsafelyUnwrapped.pointee.continueDeferredWork()
                syncPCIInterrupts()
                deviceWorkChanged(tsc: tsc)
            }
        }
        if hasAPIC {
            for i in 0..<vcpuCount where tsc >= lapics[i].nextTimerTSC { lapics[i].update(tsc: tsc) }
            refreshInterruptPending()
        }
        if tsc >= ataTimerTSC {
            // The drive is done: Status leaves BSY and INTRQ rises if the protocol says so.
            ataTimerTSC = .max
            ata.finishBusyPhase()
            driveIRQ14()
        }
        if tsc >= pitTimerTSC {
            let now = clock.pitTicks(at: tsc)
            let edges = pit.takeIRQ0Edges(upTo: now)
            if edges > 0 {
                // Edges the guest was too slow to take merge into one request, as on real hardware.
                pulse(irq: PIT8254.irq)
                timerInterrupts &+= UInt64(edges)
            }
            scheduleTimer(afterPITTick: now)
        }
        recomputeNextTimer()
    }

    /// The earliest of the PIT's next IRQ0, the drive's busy end and the local APIC timer; or
    /// the next step of work a PCI device's budget cut short (`deviceWorkTSC`).
    @inline(__always)
    private mutating func recomputeNextTimer() {
        var next = min(pitTimerTSC, ataTimerTSC)
        if hasAPIC {
            for i in 0..<vcpuCount { next = min(next, lapics[i].nextTimerTSC) }
        }
        if hasPCI && pci.unsafelyUnwrapped.pointee.hasDeferredWork { next = min(next, deviceWorkTSC) }
        nextTimerTSC = next
    }

    /// A device was given work at `tsc` (a queue notification, frames left for the switch): if
    /// some of it is deferred, it goes on `DeviceWorkBudget.guestNanosecondsBetween` later, so the
    /// engine exits then (the VMX-preemption timer, SDM Vol. 3C §26.7.4) and `update(tsc:)` does
    /// one more budget, and so on until it is done. The guest runs in between: its own timers
    /// and interrupts go on while a long request is carried out.
    public mutating func deviceWorkChanged(tsc: UInt64) {
        if hasPCI && pci.unsafelyUnwrapped.pointee.hasDeferredWork && deviceWorkTSC == .max {
            deviceWorkTSC = tsc &+ deviceWorkGapTSC
        }
        recomputeNextTimer()
    }

    /// When deferred device work goes on next (.max: none is deferred).
    public private(set) var deviceWorkTSC: UInt64 = .max

    /// An edge on an ISA line: the 8259 holds it (PIC8259.pulse), the I/O APIC sees the pin rise and fall.
    private mutating func pulse(irq: UInt8) {
        pic.pulse(irq: irq)
        if ioapic != nil {
            setIOAPICPin(irq: irq, high: true)
            setIOAPICPin(irq: irq, high: lineLevels & (1 << UInt16(irq)) != 0)
        }
        refreshInterruptPending()
    }

    mutating func setIOAPICPin(irq: UInt8, high: Bool) {
        guard let pin = IOAPIC.pin(forISAIRQ: Int(irq)) else { return }
        if let message = ioapic!.setLevel(pin: pin, high: high) { deliver(message) }
        drainIOAPIC()
    }

    private mutating func drainIOAPIC() {
        while let message = ioapic!.takeMessage() { deliver(message) }
    }

    /// An I/O APIC message to the local APICs it addresses (lowest priority: the first of them,
    /// SDM Vol. 3A §11.6.2.4 leaves the choice to the platform).
    mutating func deliver(_ message: IOAPICMessage) {
        for i in 0..<vcpuCount where lapics[i].isDestination(UInt32(message.destination), logical: message.logicalDestination)
            && !(i == 0 && message.deliveryMode == .initialization) {
            let delivery = lapics[i].receive(deliveryMode: message.deliveryMode, vector: message.vector,
                                             levelTriggered: message.levelTriggered)
            signal(delivery, vcpu: i)
            if message.deliveryMode == .lowestPriority { break }
        }
    }

    /// What a local-APIC register write of vCPU `from` did: EOIs of level-triggered vectors clear
    /// the I/O APIC's remote IRR; an IPI reaches every local APIC it addresses (§11.6.1).
    private mutating func handle(_ effect: LocalAPICEffect, from sender: Int) {
        switch effect {
        case .none, .generalProtection:
            break
        case .endOfInterrupt(let vector, let level):
            if level, ioapic != nil {
                _ = ioapic!.endOfInterrupt(vector: vector)
                drainIOAPIC()
            }
        case .interprocessorInterrupt(let ipi):
            guard !ipi.isINITLevelDeassert else { break }
            // INIT would send the BSP to the firmware's reset vector; these machines have no firmware,
            // so the BSP (and its APIC) ignores INIT. APs go to wait-for-SIPI (the engine holds them).
            for i in 0..<vcpuCount where lapics[i].isTarget(of: ipi, isSender: i == sender)
                && !(i == 0 && ipi.deliveryMode == .initialization) {
                signal(lapics[i].receive(ipi), vcpu: i)
                if i != sender {
                    signals[sender].sentIPI = true
                    signalledVCPUs |= 1 << UInt8(sender)
                }
                if ipi.deliveryMode == .lowestPriority { break }
            }
        }
        recomputeNextTimer()
        refreshInterruptPending()
    }

    /// Records what an arriving message asks of vCPU `vcpu` beyond its IRR.
    private mutating func signal(_ delivery: LocalAPICDelivery, vcpu: Int) {
        switch delivery {
        case .ignored, .requested, .extINT: return
        case .nmi: signals[vcpu].nmi = true
        case .initialization:
            signals[vcpu].initialization = true
            signals[vcpu].startupVector = nil
        case .startup(let vector): signals[vcpu].startupVector = vector
        }
        signalledVCPUs |= 1 << UInt8(vcpu)
    }

    private mutating func scheduleTimer(afterPITTick now: UInt64) {
        if let next = pit.nextIRQ0Tick(after: now) {
            pitTimerTSC = clock.tsc(atTick: next, hz: PIT8254.frequency)
        } else {
            pitTimerTSC = .max
        }
        recomputeNextTimer()
    }
}
