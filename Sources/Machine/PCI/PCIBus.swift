// PCI bus 0 of the virtual PC: a host bridge at 00:00.0 and single-function
// devices in slots 1...maxDevices-1, reached by configuration mechanism #1
// (ports 0xCF8/0xCFC-0xCFF, PCI Local Bus 3.0 §3.2.2.3.2) or an ECAM window.
// The bus holds configuration spaces only; a device's BAR contents (its MMIO
// registers) are its own model, found through `decodeMemory`.

public struct PCIBus {
    /// Device numbers 0..<maxDevices exist (0 is the host bridge); the rest read all ones.
    public static var maxDevices: Int { 8 }
    /// The host bridge: Intel 440FX (what QEMU and Bochs present), class 06/00/00.
    public static func hostBridge() -> PCIConfigSpace {
        PCIConfigSpace(vendorID: 0x8086, deviceID: 0x1237, revisionID: 2, classCode: 0x06_00_00)
    }

    var slots = InlineArray<8, PCIConfigSpace>(repeating: PCIConfigSpace(vendorID: 0xFFFF, deviceID: 0xFFFF, revisionID: 0xFF, classCode: 0xFF_FFFF))
    /// Bit n: device n is present.
    public private(set) var presentMask: UInt32 = 0
    public private(set) var configAddress = PCIConfigAddress(rawValue: 0)

    public init() {
        slots[0] = Self.hostBridge()
        presentMask = 1
    }

    /// Puts `function` in slot `device` (1..<maxDevices); false when the slot is invalid or taken.
    @discardableResult
    public mutating func attach(_ function: PCIConfigSpace, device: Int) -> Bool {
        guard device > 0, device < Self.maxDevices, presentMask & (1 << UInt32(device)) == 0 else { return false }
        slots[device] = function
        presentMask |= 1 << UInt32(device)
        return true
    }

    public func isPresent(device: Int) -> Bool {
        device >= 0 && device < Self.maxDevices && presentMask & (1 << UInt32(device)) != 0
    }

    /// The configuration space of `device` (a copy), or nil when absent.
    public func function(device: Int) -> PCIConfigSpace? {
        isPresent(device: device) ? slots[device] : nil
    }

    /// Runs `body` on the configuration space of `device` in place; false when absent.
    @discardableResult
    public mutating func withFunction(device: Int, _ body: (inout PCIConfigSpace) -> Void) -> Bool {
        guard isPresent(device: device) else { return false }
        body(&slots[device])
        return true
    }

    /// The slot a configuration access reaches, or nil (bus ≠ 0, function ≠ 0, empty slot).
    func slot(_ address: PCIFunctionAddress) -> Int? {
        guard address.bus == 0, address.function == 0, isPresent(device: Int(address.device)) else { return nil }
        return Int(address.device)
    }

    // MARK: Configuration cycles

    /// A configuration read of `size` bytes at `register` of `address`: all ones when nobody answers.
    public mutating func configRead(_ address: PCIFunctionAddress, register: Int, size: Int) -> UInt32 {
        guard let slot = slot(address) else { return UInt32(truncatingIfNeeded: IOAccess.allOnes(size: size)) }
        return slots[slot].read(offset: register, size: size)
    }

    /// A configuration write; dropped when nobody answers.
    public mutating func configWrite(_ address: PCIFunctionAddress, register: Int, size: Int, value: UInt32) {
        guard let slot = slot(address) else { return }
        slots[slot].write(offset: register, size: size, value: value)
    }

    // MARK: Configuration mechanism #1

    /// Whether the bus decodes an access of `size` bytes at `port`: CONFIG_ADDRESS only as a
    /// dword at 0xCF8 (narrower accesses to 0xCF8-0xCFB belong to other devices, e.g. the
    /// reset control register at 0xCF9), CONFIG_DATA at any width and offset in 0xCFC-0xCFF.
    public static func decodes(port: UInt16, size: Int) -> Bool {
        if port == PCIConfigAddress.port { return size == 4 }
        return port >= PCIConfigAddress.dataPort && port <= PCIConfigAddress.dataPort &+ 3
    }

    /// IN from `port`; nil when the bus does not decode the access.
    public mutating func portIn(port: UInt16, size: Int) -> UInt64? {
        guard IOAccess.isValid(size: size), size <= 4, Self.decodes(port: port, size: size) else { return nil }
        if port == PCIConfigAddress.port { return UInt64(configAddress.rawValue) }
        let byteOffset = Int(port &- PCIConfigAddress.dataPort)
        guard configAddress.isEnabled else { return IOAccess.allOnes(size: size) }
        // Bytes past 0xCFF (an access straddling the end) float high.
        let inside = min(size, 4 &- byteOffset)
        var value = UInt64(configRead(configAddress.function, register: Int(configAddress.register) &+ byteOffset, size: inside))
        value &= IOAccess.mask(size: inside)
        if inside < size { value |= IOAccess.allOnes(size: size) & ~IOAccess.mask(size: inside) }
        return value
    }

    /// OUT to `port`; false when the bus does not decode the access.
    @discardableResult
    public mutating func portOut(port: UInt16, size: Int, value: UInt64) -> Bool {
        guard IOAccess.isValid(size: size), size <= 4, Self.decodes(port: port, size: size) else { return false }
        if port == PCIConfigAddress.port {
            configAddress = PCIConfigAddress(rawValue: UInt32(truncatingIfNeeded: value))
            return true
        }
        guard configAddress.isEnabled else { return true }
        let byteOffset = Int(port &- PCIConfigAddress.dataPort)
        let inside = min(size, 4 &- byteOffset)
        configWrite(configAddress.function, register: Int(configAddress.register) &+ byteOffset, size: inside,
                    value: UInt32(truncatingIfNeeded: value))
        return true
    }

    // MARK: ECAM

    /// A read at `offset` in the ECAM window. Extended space (0x100-0xFFF) of a present
    /// conventional function reads 0 (no extended capabilities).
    public mutating func ecamRead(offset: UInt64, size: Int) -> UInt64 {
        guard let address = PCIECAMAddress(offset: offset), IOAccess.isValid(size: size), size <= 4,
              Int(address.register & 0xFFF) &+ size <= 0x1000 else { return IOAccess.allOnes(size: size) }
        guard slot(address.function) != nil else { return IOAccess.allOnes(size: size) }
        if address.register >= 0x100 { return 0 }
        return UInt64(configRead(address.function, register: Int(address.register), size: size))
    }

    public mutating func ecamWrite(offset: UInt64, size: Int, value: UInt64) {
        guard let address = PCIECAMAddress(offset: offset), IOAccess.isValid(size: size), size <= 4,
              address.register < 0x100, Int(address.register) &+ size <= 0x100 else { return }
        configWrite(address.function, register: Int(address.register), size: size, value: UInt32(truncatingIfNeeded: value))
    }

    // MARK: Decoding BARs and interrupts

    /// The device, BAR and offset a guest-physical `address` falls in, for memory BARs
    /// with memory decoding on.
    public mutating func decodeMemory(address: UInt64) -> (device: Int, bar: Int, offset: UInt64)? {
        var device = 1
        while device < Self.maxDevices {
            if isPresent(device: device) {
                var bar = 0
                while bar < PCIConfigSpace.barCount {
                    if let offset = slots[device].memoryOffset(bar: bar, address: address) {
                        return (device, bar, offset)
                    }
                    bar &+= 1
                }
            }
            device &+= 1
        }
        return nil
    }

    /// Sets `device`'s interrupt status (its INTx pin as the device drives it).
    public mutating func setInterruptStatus(device: Int, _ asserted: Bool) {
        guard isPresent(device: device) else { return }
        slots[device].setInterruptStatus(asserted)
    }

    /// The interrupt-line value (IRQ) of every device whose INTx is asserted, as a bit mask
    /// of IRQs 0-15 (values ≥ 16, e.g. 0xFF "unknown", are not routed).
    public var assertedIRQs: UInt16 {
        mutating get {
        var mask: UInt16 = 0
        var device = 1
        while device < Self.maxDevices {
            if isPresent(device: device), slots[device].interruptAsserted {
                let line = slots[device].interruptLine
                if line < 16 { mask |= 1 << UInt16(line) }
            }
            device &+= 1
        }
        return mask
        }
    }

    /// Places every memory and I/O BAR as firmware would, in device and BAR order, each aligned to its size,
    /// from `memoryBase` (32-bit memory window) and `ioBase`; sets device n's interrupt line
    /// to `irq(n)` (the routing firmware would report), and
    /// enables I/O, memory decoding and bus mastering. Returns false when a window overflows.
    @discardableResult
    public mutating func assignResources(memoryBase: UInt64, memoryLimit: UInt64, ioBase: UInt64, ioLimit: UInt64,
                                         irq: (Int) -> UInt8) -> Bool {
        var memory = memoryBase
        var io = ioBase
        var device = 1
        while device < Self.maxDevices {
            if isPresent(device: device) {
                var bar = 0
                while bar < PCIConfigSpace.barCount {
                    if let kind = slots[device].barKind(bar) {
                        let size = slots[device].barSizes[bar]
                        if kind.isMemory {
                            memory = (memory &+ size &- 1) & ~(size &- 1)
                            guard memory &+ size <= memoryLimit else { return false }
                            slots[device].setBARAddress(bar, memory)
                            memory &+= size
                        } else {
                            io = (io &+ size &- 1) & ~(size &- 1)
                            guard io &+ size <= ioLimit else { return false }
                            slots[device].setBARAddress(bar, io)
                            io &+= size
                        }
                    }
                    bar &+= 1
                }
                slots[device].setRaw(UInt32(irq(device)), at: PCIConfigRegister.interruptLine, size: 1)
                let command = slots[device].command | PCICommand.ioSpace | PCICommand.memorySpace | PCICommand.busMaster
                slots[device].setRaw(UInt32(command), at: PCIConfigRegister.command, size: 2)
            }
            device &+= 1
        }
        return true
    }
}
