// The PCI side of one VM, ready to plug into the engine: bus 0 with a virtio-blk
// disk in slot 1 and a virtio-net device in slot 2 (either optional), BARs and
// interrupt lines assigned as firmware would, and one entry point per kind of
// access (ports, MMIO) that also keeps the devices' INTx levels on the bus.

public struct VirtioPCIPlatform<Storage: BlockStorage> {
    public static var blockSlot: Int { 1 }
    public static var netSlot: Int { 2 }
    /// The IRQs firmware reports in the interrupt line registers (free on the virtual PC).
    public static var blockIRQ: UInt8 { 10 }
    public static var netIRQ: UInt8 { 11 }
    /// The 32-bit window BARs are placed in: above any guest RAM, below the APICs.
    public static var memoryWindowBase: UInt64 { 0xE000_0000 }
    public static var memoryWindowLimit: UInt64 { 0xE010_0000 }
    public static var ioWindowBase: UInt64 { 0xC000 }
    public static var ioWindowLimit: UInt64 { 0xD000 }
    /// The ECAM window of bus 0 (PCI Firmware 3.2 §4.1): 1 MiB above the BAR window's
    /// _CRS range (0xE0000000-0xEFFFFFFF) and below the I/O APIC, announced by the MCFG
    /// table and reserved in every memory map the loaders write.
    public static var ecamBase: UInt64 { 0xF000_0000 }
    public static var ecamSize: UInt64 { PCIECAMAddress.bytesPerBus }

    public var bus = PCIBus()
    /// `assertedIRQs` when `takeIRQChanges` last ran.
    public private(set) var reportedIRQs: UInt16 = 0
    public var block: VirtioPCIDevice<VirtioBlock<Storage>>?
    public var net: VirtioPCIDevice<VirtioNet>?
    /// Some device has MSI-X messages to send (`takeMessage`).
    public var messagesPending: Bool { mutating get { (block?.msix.outbox ?? 0) | (net?.msix.outbox ?? 0) != 0 } }
    /// MSI-X messages sent to the local APICs, and those refused (bad address, vector or mode).
    public var messagesDelivered: UInt64 = 0
    public var messagesDropped: UInt64 = 0

    /// A platform with the given devices for a VM whose RAM is `memory`.
    public init(memory: GuestMemory, disk: VirtioBlock<Storage>?, net: VirtioNet?) {
        if let disk {
            block = VirtioPCIDevice(model: disk, memory: memory)
            bus.attach(VirtioPCIDevice<VirtioBlock<Storage>>.configSpace(), device: Self.blockSlot)
        }
        if let net {
            self.net = VirtioPCIDevice(model: net, memory: memory)
            bus.attach(VirtioPCIDevice<VirtioNet>.configSpace(), device: Self.netSlot)
        }
        assignResources()
    }

    /// Builds a platform straight into `pointer` (uninitialized memory), one piece per
    /// non-inlined step so that their stack frames do not add up: the initializer above,
    /// returned by value, takes ~37 KiB of stack. For the engine, which keeps the platform
    /// beside the VM.
    public static func initialize(at pointer: UnsafeMutablePointer<Self>, memory: GuestMemory,
                                  disk: Storage?, readOnly: Bool, mac: InlineArray<6, UInt8>?) {
        initializeBus(at: pointer, memory: memory)
        if let disk { attachBlock(at: pointer, memory: memory, disk: disk, readOnly: readOnly) }
        if let mac { attachNet(at: pointer, memory: memory, mac: mac) }
        pointer.pointee.assignResources()
    }

    @inline(never)
    static func initializeBus(at pointer: UnsafeMutablePointer<Self>, memory: GuestMemory) {
        pointer.initialize(to: Self(memory: memory, disk: nil, net: nil))
    }

    @inline(never)
    static func attachBlock(at pointer: UnsafeMutablePointer<Self>, memory: GuestMemory, disk: Storage, readOnly: Bool) {
        pointer.pointee.block = VirtioPCIDevice(model: VirtioBlock(storage: disk, readOnly: readOnly), memory: memory)
        pointer.pointee.bus.attach(VirtioPCIDevice<VirtioBlock<Storage>>.configSpace(), device: Self.blockSlot)
    }

    @inline(never)
    static func attachNet(at pointer: UnsafeMutablePointer<Self>, memory: GuestMemory, mac: InlineArray<6, UInt8>) {
        pointer.pointee.net = VirtioPCIDevice(model: VirtioNet(mac: mac), memory: memory)
        pointer.pointee.bus.attach(VirtioPCIDevice<VirtioNet>.configSpace(), device: Self.netSlot)
    }

    /// Places the BARs and interrupt lines as firmware would.
    mutating func assignResources() {
        bus.assignResources(memoryBase: Self.memoryWindowBase, memoryLimit: Self.memoryWindowLimit,
                            ioBase: Self.ioWindowBase, ioLimit: Self.ioWindowLimit,
                            irq: { $0 == Self.blockSlot ? Self.blockIRQ : Self.netIRQ })
    }

    /// Whether a port access is the PCI bus's (0xCF8 as a dword, 0xCFC-0xCFF).
    public static func decodes(port: UInt16, size: Int) -> Bool { PCIBus.decodes(port: port, size: size) }

    public mutating func portIn(port: UInt16, size: Int) -> UInt64? { bus.portIn(port: port, size: size) }

    @discardableResult
    public mutating func portOut(port: UInt16, size: Int, value: UInt64) -> Bool {
        guard bus.portOut(port: port, size: size, value: value) else { return false }
        if port != PCIConfigAddress.port { configurationWritten() }
        return true
    }

    /// After a configuration write: each device's MSI-X Enable and Function Mask as software set
    /// them in its capability (unmasking sends what was pending), and its INTx level (MSI-X on
    /// silences it).
    mutating func configurationWritten() {
        if block != nil {
            let control = msixControl(slot: Self.blockSlot)
            block!.msix.setControl(enabled: control & PCIMSIXCapability.enable != 0,
                                   functionMasked: control & PCIMSIXCapability.functionMask != 0)
        }
        if net != nil {
            let control = msixControl(slot: Self.netSlot)
            net!.msix.setControl(enabled: control & PCIMSIXCapability.enable != 0,
                                 functionMasked: control & PCIMSIXCapability.functionMask != 0)
        }
        syncInterrupts()
    }

    /// Message Control of the MSI-X capability of the device in `slot`.
    mutating func msixControl(slot: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: bus.configRead(PCIFunctionAddress(device: UInt8(slot)),
                                                  register: VirtioPCILayout.msixCapability &+ PCIMSIXCapability.messageControl, size: 2))
    }

    /// The next MSI-X message a device has to send, if any.
    public mutating func takeMessage() -> PCIMSIMessage? {
        if let message = block?.msix.takeMessage() { return message }
        if let message = net?.msix.takeMessage() { return message }
        return nil
    }

    /// Whether the ECAM window or a device BAR (as the guest programmed it, with memory
    /// decoding on) covers `gpa`.
    public mutating func hasMMIODevice(at gpa: UInt64) -> Bool {
        Self.isECAM(gpa) || bus.decodeMemory(address: gpa) != nil
    }

    @inline(__always)
    static func isECAM(_ gpa: UInt64) -> Bool { gpa >= ecamBase && gpa &- ecamBase < ecamSize }

    /// A read of guest-physical `gpa`; nil when neither the ECAM window nor a BAR covers it.
    public mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64? {
        if Self.isECAM(gpa) { return ecamRead(offset: gpa &- Self.ecamBase, size: size) }
        guard let hit = bus.decodeMemory(address: gpa) else { return nil }
        var value: UInt64? = nil
        if hit.bar == VirtioPCILayout.msixBAR {
            if hit.device == Self.blockSlot { value = block?.readMSIX(offset: hit.offset, size: size) }
            else if hit.device == Self.netSlot { value = net?.readMSIX(offset: hit.offset, size: size) }
            return value
        }
        if hit.device == Self.blockSlot { value = block?.read(offset: hit.offset, size: size) }
        else if hit.device == Self.netSlot { value = net?.read(offset: hit.offset, size: size) }
        syncInterrupts()
        return value
    }

    /// A write of guest-physical `gpa`; false when no BAR covers it.
    @discardableResult
    public mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool {
        if Self.isECAM(gpa) {
            ecamWrite(offset: gpa &- Self.ecamBase, size: size, value: value)
            return true
        }
        guard let hit = bus.decodeMemory(address: gpa) else { return false }
        if hit.bar == VirtioPCILayout.msixBAR {
            if hit.device == Self.blockSlot { block?.writeMSIX(offset: hit.offset, size: size, value: value) }
            else if hit.device == Self.netSlot { net?.writeMSIX(offset: hit.offset, size: size, value: value) }
            return true
        }
        if hit.device == Self.blockSlot { block?.write(offset: hit.offset, size: size, value: value) }
        else if hit.device == Self.netSlot { net?.write(offset: hit.offset, size: size, value: value) }
        syncInterrupts()
        return true
    }

    /// An ECAM read (PCI Express Base 4.0 §7.2.2): 1, 2 or 4 bytes at any offset inside a
    /// function's 4 KiB; an 8-byte access is two dword accesses, low half first.
    mutating func ecamRead(offset: UInt64, size: Int) -> UInt64 {
        if size == 8 {
            return bus.ecamRead(offset: offset, size: 4) | bus.ecamRead(offset: offset &+ 4, size: 4) << 32
        }
        return bus.ecamRead(offset: offset, size: size)
    }

    /// An ECAM write (the same widths as `ecamRead`).
    mutating func ecamWrite(offset: UInt64, size: Int, value: UInt64) {
        if size == 8 {
            bus.ecamWrite(offset: offset, size: 4, value: value & 0xFFFF_FFFF)
            bus.ecamWrite(offset: offset &+ 4, size: 4, value: value >> 32)
        } else {
            bus.ecamWrite(offset: offset, size: size, value: value)
        }
        configurationWritten()
    }

    /// Copies every device's INTx level into its PCI status register.
    public mutating func syncInterrupts() {
        if let asserted = block?.interruptAsserted { bus.setInterruptStatus(device: Self.blockSlot, asserted) }
        if let asserted = net?.interruptAsserted { bus.setInterruptStatus(device: Self.netSlot, asserted) }
    }

    /// The IRQ lines (bit n: IRQ n) the PCI devices hold asserted (level: until the driver reads ISR).
    public var assertedIRQs: UInt16 { mutating get { bus.assertedIRQs } }

    /// The IRQ lines that went high and low since the last call, for an interrupt controller
    /// that takes line changes (an edge-triggered input needs the rising ones).
    public mutating func takeIRQChanges() -> (raised: UInt16, lowered: UInt16) {
        let now = assertedIRQs
        let changes = (raised: now & ~reportedIRQs, lowered: reportedIRQs & ~now)
        reportedIRQs = now
        return changes
    }

    /// Whether a device has work its budget cut short: the disk's deferred requests, or frames
    /// the switch has yet to take from the network device (VirtualPC asks for the next exit at once).
    public var hasDeferredWork: Bool {
        mutating get { (block?.hasDeferredWork ?? false) || (switchPort >= 0 && hasTransmitPending) }
    }

    /// Goes on with the disk's deferred requests within one exit's budget (the engine moves the
    /// network device's frames through the switch).
    public mutating func continueDeferredWork() {
        guard block?.hasDeferredWork ?? false else { return }
        block!.continueDeferredWork()
        syncInterrupts()
    }

    /// Whether the virtio-net device has frames for the switch.
    public var transmitPending: Bool { net?.model.transmitPending ?? false }
    /// `transmitPending` without copying the device (a non-mutating read of an optional
    /// InlineArray-holding struct copies it): for the exit path.
    public var hasTransmitPending: Bool { mutating get { net?.model.transmitPending ?? false } }
    /// The virtual switch port the engine connected the virtio-net device to (-1: none).
    public var switchPort = -1
}

extension VirtioPCIPlatform: VirtualSwitchPort {
    public mutating func transmitFrame(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let length = net?.transmitFrame(into: buffer)
        syncInterrupts()
        return length ?? nil
    }

    public mutating func receiveFrame(_ frame: UnsafeRawBufferPointer) -> Bool {
        let delivered = net?.receiveFrame(frame) ?? false
        syncInterrupts()
        return delivered
    }
}
