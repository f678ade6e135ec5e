import Machine

// The hypervisor's own disk on an AHCI host bus adapter (Serial ATA AHCI 1.3.1): found by a
// PCI scan (class 01h/06h/01h), registers at ABAR (BAR5) mapped uncached, the HBA reset
// and put in AHCI mode, the first implemented port with an ATA disk used through command
// slot 0: IDENTIFY DEVICE, READ/WRITE DMA (EXT), FLUSH CACHE (EXT), each polled until PxCI
// clears, interrupts off (GHC.IE and PxIE zero, PCI INTx disabled). Guests never reach the
// HBA: its registers are not in any VM's EPT, its ports not in any I/O bitmap's holes.
//
// One frame from the frame allocator holds the port's structures (AHCI 4.2):
//   0x000 command list (32 headers, 1 KiB aligned)   0x400 received FIS (256 B aligned)
//   0x600 a one-sector bounce buffer                 0x800 command table (CFIS + 120 PRDs)
// Data moves by DMA straight to and from the caller's buffer (the kernel's identity map:
// its address is physical); only a buffer at an odd address goes through the bounce sector.
// Single CPU: a command runs to its end inside one call; copies of this value (one per VM's
// HostDiskStorage) share the frame, never at the same time.

struct HostAHCIDisk: HostBlockDevice {
    /// Physical base of the HBA's registers (ABAR).
    let abar: UInt64
    let port: Int
    /// The frame with the command list, received FIS, bounce sector and command table.
    let memory: UInt64
    let sectorCount: UInt64
    let lba48: Bool
    let flushExt: Bool
    /// CAP.S64A: PRDs may point above 4 GiB.
    let addresses64: Bool

    var lastFailure: HostDiskFailure? = nil
    var commandsIssued: UInt64 = 0
    var alwaysExtended = false

    static var commandListOffset: UInt64 { 0x000 }
    static var receivedFISOffset: UInt64 { 0x400 }
    static var bounceOffset: UInt64 { 0x600 }
    static var commandTableOffset: UInt64 { 0x800 }
    static var prdCapacity: Int { AHCICommandTable.prdCapacity(tableSize: 0x800) }

    /// Phases a timeout names (HostDiskFailure.timeout).
    enum Phase {
        static var ready: UInt8 { 1 }
        static var completion: UInt8 { 3 }
        static var flush: UInt8 { 4 }
    }

    var location: String { "ahci port \(port)" }

    func transferCommand(write: Bool, extended: Bool) -> String {
        (write ? "WRITE DMA" : "READ DMA") + (extended ? " EXT" : "")
    }

    // MARK: Finding the disk

    /// The AHCI HBA's first port with an ATA disk, set up and identified; nil (after saying why
    /// in the boot log when there is an HBA) otherwise. The frame it takes is freed on failure.
    static func probe(frames: inout FrameAllocator) -> (disk: HostAHCIDisk, model: String)? {
        guard let function = HostPCIFunction.first(where: {
            PCIClassCode(classRevisionDword: $0.read32(0x08)).isAHCI
        }) else { return nil }
        let ids = "\(hex(function.vendorID, digits: 4)):\(hex(function.deviceID, digits: 4))"
        let name = "hostdisk: ahci \(function.location) (\(ids))"
        guard let abar = AHCIBaseAddress.decode(bar5: function.read32(AHCIBaseAddress.configOffset), upper: nil) else {
            let bar5 = function.read32(AHCIBaseAddress.configOffset)
            print("\(name): BAR5 is not an assigned 32-bit memory BAR (\(hex(bar5, digits: 8)))")
            return nil
        }
        guard KernelPageTables.mapUncached(physical: abar, length: AHCIHostRegister.fullSize) else {
            print("\(name): ABAR \(hex(abar)) is outside the kernel's device mappings (2 MiB - 4 GiB)")
            return nil
        }
        function.enable(HostPCIFunction.Command.memorySpace | HostPCIFunction.Command.busMaster
                        | HostPCIFunction.Command.interruptDisable)
        let hba = HBA(abar: abar)
        guard hba.takeOwnership(), hba.reset() else {
            print("\(name): the HBA did not finish its BIOS handoff or reset")
            return nil
        }
        let cap = AHCICapabilities(rawValue: hba.read(AHCIHostRegister.capabilities))
        let pi = hba.read(AHCIHostRegister.portsImplemented)
        let version = hba.read(AHCIHostRegister.version)
        print("\(name): AHCI \(version >> 16).\(version >> 8 & 0xFF)\(version & 0xFF == 0 ? "" : "\(version & 0xFF)"), "
              + "ABAR \(hex(abar)), \(cap.numberOfPorts) ports (implemented \(hex(pi, digits: 8))), \(cap.commandSlots) slots"
              + "\(cap.addresses64 ? ", 64-bit" : "")")
        guard let frame = frames.allocate() else {
            print("\(name): no memory for the command list")
            return nil
        }
        for port in AHCIImplementedPorts(portsImplemented: pi, capabilities: cap) {
            var disk = HostAHCIDisk(abar: abar, port: port, memory: frame, sectorCount: 0, lba48: false, flushExt: false,
                                    addresses64: cap.addresses64)
            switch disk.setUp(staggeredSpinUp: cap.staggeredSpinUp) {
            case .success(let device):
                guard device == .ataDisk else {
                    print("hostdisk: ahci port \(port): \(device.description)")
                    disk.stop()
                    continue
                }
            case .failure(let reason):
                print("hostdisk: ahci port \(port): \(reason.description)")
                disk.stop()
                continue
            }
            // IDENTIFY DEVICE (ACS 7.16): PIO data-in, 512 bytes into the bounce sector.
            let bounce = UnsafeMutableRawBufferPointer(start: physicalPointer(frame + bounceOffset), count: 512)
            bounce.initializeMemory(as: UInt8.self, repeating: 0)
            guard disk.issue(RegisterHostToDeviceFIS(command: ATACommand.identifyDevice), physical: frame + bounceOffset,
                             bytes: 512, write: false, timeoutMilliseconds: 5_000) else {
                print("hostdisk: ahci port \(port): IDENTIFY DEVICE failed (\(describe(disk.lastFailure)))")
                disk.stop()
                continue
            }
            let parsed = Result { () throws(ATAIdentifyData.Refusal) in
                try ATAIdentifyData(words: UnsafeBufferPointer(bounce.bindMemory(to: UInt16.self)))
            }
            guard case .success(let identify) = parsed else {
                print("hostdisk: ahci port \(port): IDENTIFY DEVICE data refused")
                disk.stop()
                continue
            }
            let found = HostAHCIDisk(abar: abar, port: port, memory: frame, sectorCount: identify.sectorCount,
                                     lba48: identify.lba48, flushExt: identify.flushCacheExt, addresses64: cap.addresses64)
            return (found, identify.model)
        }
        print("\(name): no ATA disk on its ports")
        frames.free(frame)
        return nil
    }

    static func describe(_ failure: HostDiskFailure?) -> String {
        switch failure {
        case .none: return "no failure"
        case .timeout(let phase)?: return "timeout in phase \(phase)"
        case .device(let status, let error)?: return "status \(hex(status, digits: 2)), error \(hex(error, digits: 2))"
        case .protocolViolation(let status)?: return "protocol violation, status \(hex(status, digits: 2))"
        case .hostBus(let status)?: return "host bus error, PxIS \(hex(status, digits: 8))"
        case .unaddressableBuffer?: return "buffer not addressable by the HBA"
        case .outOfRange?: return "out of range"
        }
    }

    /// Stops the port, points it at this disk's structures, clears its errors, starts FIS
    /// receive, waits for the device's first D2H FIS (BSY clear) and, for an ATA disk, starts
    /// command processing (AHCI 10.1.2 system software initialization, 10.3.1 start).
    private mutating func setUp(staggeredSpinUp: Bool) -> Result<AHCIPortDevice, SetUpFailure> {
        guard stop() else { return .failure(.wouldNotStop) }
        if staggeredSpinUp { setCommandBits(AHCIPortCommand.spinUpDevice) }
        // A device shows DET = 3 within 10 ms of a COMRESET (SATA 3.0 OOB); allow 50, and a second
        // more where DET = 1 says a device is there but its phy not yet up.
        _ = Self.poll(milliseconds: 50) { sataStatus.devicePresent }
        if sataStatus.detection == 1 {
            _ = Self.poll(milliseconds: 1_000) { sataStatus.devicePresent }
        }
        let status = sataStatus
        guard status.devicePresent else { return .success(AHCIPortDevice(status: status, signature: 0)) }
        writePort(AHCIPortRegister.commandListBase, UInt32(truncatingIfNeeded: memory + Self.commandListOffset))
        writePort(AHCIPortRegister.commandListBaseUpper, UInt32(truncatingIfNeeded: (memory + Self.commandListOffset) >> 32))
        writePort(AHCIPortRegister.fisBase, UInt32(truncatingIfNeeded: memory + Self.receivedFISOffset))
        writePort(AHCIPortRegister.fisBaseUpper, UInt32(truncatingIfNeeded: (memory + Self.receivedFISOffset) >> 32))
        writePort(AHCIPortRegister.interruptEnable, 0)
        writePort(AHCIPortRegister.sataError, ~0)
        writePort(AHCIPortRegister.interruptStatus, ~0)
        writePort(AHCIPortRegister.command, readPort(AHCIPortRegister.command) | AHCIPortCommand.fisReceiveEnable)
        // PxSIG holds the device's signature once its first D2H register FIS arrived (3.3.9).
        guard Self.poll(milliseconds: 5_000, until: { !taskFile.busy }) else { return .failure(.busy(taskFile.status)) }
        let device = AHCIPortDevice(status: status, signature: readPort(AHCIPortRegister.signature))
        guard device == .ataDisk else { return .success(device) }
        guard start() else { return .failure(.wouldNotStart) }
        return .success(device)
    }

    enum SetUpFailure: Error {
        case wouldNotStop, wouldNotStart, busy(UInt8)
        var description: String {
            switch self {
            case .wouldNotStop: return "the port did not stop (PxCMD.CR or FR stayed set)"
            case .wouldNotStart: return "the port did not start"
            case .busy(let status): return "the device stayed busy (status \(hex(status, digits: 2)))"
            }
        }
    }

    // MARK: Transfers

    mutating func read(lba: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        transfer(lba: lba, sectors: UInt64(buffer.count / 512), base: buffer.baseAddress, write: false)
    }

    mutating func write(lba: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        transfer(lba: lba, sectors: UInt64(buffer.count / 512), base: UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                 write: true)
    }

    /// FLUSH CACHE (EXT) (ACS 7.10, 7.11): no data; a drive may take up to 30 s.
    mutating func flush() -> Bool {
        issue(RegisterHostToDeviceFIS(command: flushExt ? ATACommand.flushCacheExt : ATACommand.flushCache, device: 0x40),
              physical: 0, bytes: 0, write: false, timeoutMilliseconds: 30_000)
    }

    /// selftest=hostdisk: one READ DMA EXT of one sector at `lba` without the capacity check,
    /// so that the drive itself refuses it (the error path: PxIS.TFES, PxTFD.ERR, recovery).
    mutating func readPastCapacityForTest(lba: UInt64, into sector: UnsafeMutableRawBufferPointer) -> Bool {
        guard sector.count == 512, let base = sector.baseAddress,
              let fis = RegisterHostToDeviceFIS.transfer(command: ATADMACommand.readDMAExt, lba: lba, sectors: 1, extended: true)
        else { return fail(.outOfRange) }
        return issue(fis, physical: UInt64(UInt(bitPattern: base)), bytes: 512, write: false, timeoutMilliseconds: 10_000)
    }

    /// The most sectors one command moves: 65536 with the EXT forms (count 0), 256 without;
    /// the PRDT (120 entries of 4 MiB) holds either.
    func sectorsPerCommand(extended: Bool) -> UInt64 { extended ? 65536 : 256 }

    /// Splits a transfer into DMA commands; buffers at odd addresses (a PRD needs word
    /// alignment, AHCI 4.2.3.3) go sector by sector through the bounce sector.
    private mutating func transfer(lba: UInt64, sectors: UInt64, base: UnsafeMutableRawPointer?, write: Bool) -> Bool {
        guard sectors <= sectorCount, lba <= sectorCount &- sectors else { return fail(.outOfRange) }
        guard sectors > 0, let base else { return true }
        let address = UInt64(UInt(bitPattern: base))
        let direct = address & 1 == 0
        var done: UInt64 = 0
        while done < sectors {
            let at = lba &+ done
            let extended = lba48 && (alwaysExtended || at &+ min(sectors &- done, 256) > 0x0FFF_FFFF)
            let count = direct ? min(sectors &- done, sectorsPerCommand(extended: extended)) : 1
            let fis = RegisterHostToDeviceFIS.transfer(
                command: write ? (extended ? ATADMACommand.writeDMAExt : ATADMACommand.writeDMA)
                               : (extended ? ATADMACommand.readDMAExt : ATADMACommand.readDMA),
                lba: at, sectors: Int(count), extended: extended)
            guard let fis else { return fail(.outOfRange) }
            let bytes = Int(count &* 512)
            let buffer = base + Int(done &* 512)
            if direct {
                guard issue(fis, physical: UInt64(UInt(bitPattern: buffer)), bytes: bytes, write: write,
                            timeoutMilliseconds: 10_000) else { return false }
            } else {
                let bounce = physicalPointer(memory + Self.bounceOffset)
                if write { bounce.copyMemory(from: buffer, byteCount: 512) }
                guard issue(fis, physical: memory + Self.bounceOffset, bytes: 512, write: write,
                            timeoutMilliseconds: 10_000) else { return false }
                if !write { buffer.copyMemory(from: bounce, byteCount: 512) }
            }
            done &+= count
        }
        return true
    }

    /// One command through slot 0 (AHCI 5.5 "Normal ATA commands"): header, command FIS and
    /// PRDT built, PxIS cleared, PxCI bit 0 set, then polled until the HBA clears it or reports
    /// an error (PxIS.TFES and the other fatal bits, PxTFD.ERR/DF) or the time runs out.
    private mutating func issue(_ fis: RegisterHostToDeviceFIS, physical: UInt64, bytes: Int, write: Bool,
                                timeoutMilliseconds: UInt64) -> Bool {
        let ready = Self.poll(milliseconds: 1_000) {
            !taskFile.busy
                && readPort(AHCIPortRegister.commandIssue) & 1 == 0
        }
        guard ready else { recover(); return fail(.timeout(phase: Phase.ready)) }
        let table = physicalPointer(memory + Self.commandTableOffset)
        var entries = 0
        if bytes > 0 {
            guard let n = AHCICommandTable.writePRDT(into: table, capacity: Self.prdCapacity, physical: physical,
                                                     byteCount: bytes, addresses64: addresses64) else {
                return fail(.unaddressableBuffer)
            }
            entries = n
        }
        fis.encode(into: table + AHCICommandTable.commandFISOffset)
        let header = AHCICommandHeader(fisLength: RegisterHostToDeviceFIS.dwords, write: write, prdtLength: UInt16(entries),
                                       commandTable: memory + Self.commandTableOffset)
        header.encode(into: physicalPointer(memory + Self.commandListOffset))
        writePort(AHCIPortRegister.interruptStatus, ~0)
        commandsIssued &+= 1
        writePort(AHCIPortRegister.commandIssue, 1)       // slot 0 (the stores above precede it: cpu.h)
        var interrupts: UInt32 = 0
        let finished = Self.poll(milliseconds: timeoutMilliseconds) {
            interrupts = readPort(AHCIPortRegister.interruptStatus)
            return interrupts & AHCIPortInterrupt.fatalErrors != 0 || readPort(AHCIPortRegister.commandIssue) & 1 == 0
        }
        let tfd = taskFile
        guard finished else {
            recover()
            return fail(.timeout(phase: Phase.completion))
        }
        if interrupts & AHCIPortInterrupt.fatalErrors != 0 || tfd.failed {
            recover()
            if interrupts & AHCIPortInterrupt.taskFileError != 0 || tfd.failed {
                return fail(.device(status: tfd.status, error: tfd.error))
            }
            return fail(.hostBus(interruptStatus: interrupts))
        }
        writePort(AHCIPortRegister.interruptStatus, interrupts)
        // PRDBC: the bytes moved (4.2.2); short is a broken transfer, never silently accepted.
        if bytes > 0 && AHCICommandHeader.transferredBytes(physicalPointer(memory + Self.commandListOffset)) != UInt32(bytes) {
            return fail(.protocolViolation(status: tfd.status))
        }
        return true
    }

    private mutating func fail(_ failure: HostDiskFailure) -> Bool {
        lastFailure = failure
        return false
    }

    // MARK: Port state (AHCI 10.3)

    /// Clears ST, waits for CR; clears FRE, waits for FR (each up to 500 ms, 10.3.2).
    @discardableResult
    mutating func stop() -> Bool {
        var command = readPort(AHCIPortRegister.command)
        if command & AHCIPortCommand.start != 0 {
            writePort(AHCIPortRegister.command, command & ~AHCIPortCommand.start)
        }
        guard Self.poll(milliseconds: 500, until: { commandBits & AHCIPortCommand.commandListRunning == 0 }) else { return false }
        command = readPort(AHCIPortRegister.command)
        if command & AHCIPortCommand.fisReceiveEnable != 0 {
            writePort(AHCIPortRegister.command, command & ~AHCIPortCommand.fisReceiveEnable)
        }
        return Self.poll(milliseconds: 500) { readPort(AHCIPortRegister.command) & AHCIPortCommand.fisReceiveRunning == 0 }
    }

    /// Sets ST once CR is clear and the device is neither BSY nor DRQ (10.3.1).
    private func start() -> Bool {
        guard Self.poll(milliseconds: 500, until: { commandBits & AHCIPortCommand.commandListRunning == 0 }) else { return false }
        writePort(AHCIPortRegister.command, readPort(AHCIPortRegister.command) | AHCIPortCommand.start)
        return true
    }

    /// After an error or a timeout (10.4.2): ST off (the HBA drops the command), errors cleared,
    /// a COMRESET when the device stays busy, then the port started again.
    private func recover() {
        var command = readPort(AHCIPortRegister.command)
        writePort(AHCIPortRegister.command, command & ~AHCIPortCommand.start)
        _ = Self.poll(milliseconds: 500) { readPort(AHCIPortRegister.command) & AHCIPortCommand.commandListRunning == 0 }
        writePort(AHCIPortRegister.sataError, ~0)
        writePort(AHCIPortRegister.interruptStatus, ~0)
        if taskFile.busy {
            // COMRESET: PxSCTL.DET = 1 for at least 1 ms, then 0; the link comes back with DET = 3.
            let control = readPort(AHCIPortRegister.sataControl) & ~AHCISATAControl.detectionMask
            writePort(AHCIPortRegister.sataControl, control | AHCISATAControl.comreset)
            Self.delay(milliseconds: 2)
            writePort(AHCIPortRegister.sataControl, control)
            _ = Self.poll(milliseconds: 50) { sataStatus.devicePresent }
            _ = Self.poll(milliseconds: 5_000) { !taskFile.busy }
            writePort(AHCIPortRegister.sataError, ~0)
        }
        command = readPort(AHCIPortRegister.command)
        writePort(AHCIPortRegister.command, command | AHCIPortCommand.start)
    }

    /// At the end of the run: the port stopped and pointed nowhere, the frame given back.
    mutating func release(frames: inout FrameAllocator) {
        if stop() {
            writePort(AHCIPortRegister.commandListBase, 0)
            writePort(AHCIPortRegister.commandListBaseUpper, 0)
            writePort(AHCIPortRegister.fisBase, 0)
            writePort(AHCIPortRegister.fisBaseUpper, 0)
            frames.free(memory)
        }
        // A port that would not stop may still write its FIS area: the frame stays taken.
    }

    // MARK: Registers and time

    /// PxTFD, PxCMD, PxSSTS as read now.
    private var taskFile: AHCITaskFileData { AHCITaskFileData(rawValue: readPort(AHCIPortRegister.taskFileData)) }
    private var commandBits: UInt32 { readPort(AHCIPortRegister.command) }
    private var sataStatus: AHCISATAStatus { AHCISATAStatus(rawValue: readPort(AHCIPortRegister.sataStatus)) }

    private func setCommandBits(_ bits: UInt32) { writePort(AHCIPortRegister.command, commandBits | bits) }

    @inline(__always)
    private func readPort(_ register: UInt64) -> UInt32 {
        mmio_read32(abar &+ AHCIHostRegister.port(port, register))
    }

    @inline(__always)
    private func writePort(_ register: UInt64, _ value: UInt32) {
        mmio_write32(abar &+ AHCIHostRegister.port(port, register), value)
    }

    /// The HBA's global registers.
    struct HBA {
        let abar: UInt64
        func read(_ register: UInt64) -> UInt32 { mmio_read32(abar &+ register) }
        func write(_ register: UInt64, _ value: UInt32) { mmio_write32(abar &+ register, value) }

        /// BIOS/OS handoff (10.6.3) where CAP2.BOH says the HBA has it: OOS set, then BOS clear
        /// within 25 ms, and BB clear within 2 s when the BIOS says it is busy.
        func takeOwnership() -> Bool {
            guard read(AHCIHostRegister.capabilities2) & AHCIHandoff.supported != 0 else { return true }
            write(AHCIHostRegister.biosHandoff, read(AHCIHostRegister.biosHandoff) | AHCIHandoff.osOwned)
            let released = HostAHCIDisk.poll(milliseconds: 25) { read(AHCIHostRegister.biosHandoff) & AHCIHandoff.biosOwned == 0 }
            if released { return true }
            let biosOwnedOrBusy = AHCIHandoff.biosOwned | AHCIHandoff.biosBusy
            return HostAHCIDisk.poll(milliseconds: 2_000) { read(AHCIHostRegister.biosHandoff) & biosOwnedOrBusy == 0 }
        }

        /// HBA reset (10.4.3): AE, then HR until the HBA clears it (at most 1 s), then AE again
        /// (the reset clears it), interrupts off.
        func reset() -> Bool {
            write(AHCIHostRegister.globalHostControl, read(AHCIHostRegister.globalHostControl) | AHCIGlobalHostControl.ahciEnable)
            write(AHCIHostRegister.globalHostControl, AHCIGlobalHostControl.ahciEnable | AHCIGlobalHostControl.hbaReset)
            let resetDone = HostAHCIDisk.poll(milliseconds: 1_000) {
                read(AHCIHostRegister.globalHostControl) & AHCIGlobalHostControl.hbaReset == 0
            }
            guard resetDone else { return false }
            write(AHCIHostRegister.globalHostControl, AHCIGlobalHostControl.ahciEnable)
            write(AHCIHostRegister.interruptStatus, ~0)
            return read(AHCIHostRegister.globalHostControl) & AHCIGlobalHostControl.ahciEnable != 0
        }
    }

    /// Polls `until` until it holds (true) or `milliseconds` of TSC time pass (false).
    @inline(__always)
    static func poll(milliseconds: UInt64, until done: () -> Bool) -> Bool {
        let ticks = HostTime.tscHz / 1000 &* milliseconds
        let start = rdtsc()
        while true {
            if done() { return true }
            if rdtsc() &- start > ticks { return done() }
            cpu_relax()
        }
    }

    static func delay(milliseconds: UInt64) {
        let ticks = HostTime.tscHz / 1000 &* milliseconds
        let start = rdtsc()
        while rdtsc() &- start < ticks { cpu_relax() }
    }
}
