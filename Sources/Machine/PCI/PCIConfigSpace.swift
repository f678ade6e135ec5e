// One PCI function's 256-byte configuration space with a type 0 header
// (PCI Local Bus 3.0 §6.1, §6.2): each byte has a value, a mask of the bits
// software may write, and a mask of the bits that are write-1-to-clear.

/// Offsets of the type 0 header's registers (§6.1, figure 6-1).
public enum PCIConfigRegister {
    public static var vendorID: Int { 0x00 }
    public static var deviceID: Int { 0x02 }
    public static var command: Int { 0x04 }
    public static var status: Int { 0x06 }
    public static var revisionID: Int { 0x08 }
    public static var classCode: Int { 0x09 }
    public static var cacheLineSize: Int { 0x0C }
    public static var latencyTimer: Int { 0x0D }
    public static var headerType: Int { 0x0E }
    public static var bar0: Int { 0x10 }
    public static var subsystemVendorID: Int { 0x2C }
    public static var subsystemID: Int { 0x2E }
    public static var expansionROM: Int { 0x30 }
    public static var capabilitiesPointer: Int { 0x34 }
    public static var interruptLine: Int { 0x3C }
    public static var interruptPin: Int { 0x3D }
}

/// Command register bits (§6.2.2).
public enum PCICommand {
    public static var ioSpace: UInt16 { 1 << 0 }
    public static var memorySpace: UInt16 { 1 << 1 }
    public static var busMaster: UInt16 { 1 << 2 }
    public static var parityErrorResponse: UInt16 { 1 << 6 }
    public static var serrEnable: UInt16 { 1 << 8 }
    public static var interruptDisable: UInt16 { 1 << 10 }
    /// The bits this platform's functions implement.
    public static var writable: UInt16 {
        ioSpace | memorySpace | busMaster | parityErrorResponse | serrEnable | interruptDisable
    }
}

/// Status register bits (§6.2.3).
public enum PCIStatus {
    public static var interruptStatus: UInt16 { 1 << 3 }
    public static var capabilitiesList: UInt16 { 1 << 4 }
    /// Master data parity error, signaled/received target abort, received master abort,
    /// signaled system error, detected parity error: all RW1C.
    public static var writeOneToClear: UInt16 { 0xF900 }
}

/// The value of interrupt pin register 0x3D.
public enum PCIInterruptPin: UInt8 {
    case none = 0, intA = 1, intB = 2, intC = 3, intD = 4
}

/// Methods that read the byte arrays are `mutating`: in this toolchain a non-mutating access
/// to an `InlineArray` property copies the whole array onto the stack (768 bytes here).
public struct PCIConfigSpace {
    public static var size: Int { 256 }
    public static var barCount: Int { 6 }

    var bytes = InlineArray<256, UInt8>(repeating: 0)
    var writeMask = InlineArray<256, UInt8>(repeating: 0)
    var clearMask = InlineArray<256, UInt8>(repeating: 0)
    /// The size of each implemented BAR (0: not implemented; the upper half of a 64-bit BAR is 0).
    public private(set) var barSizes = InlineArray<6, UInt64>(repeating: 0)
    /// Where the next capability goes; 0 before the first.
    var nextCapability = 0
    var lastCapability = 0

    /// A type 0 header with the given identity. Command, cache line size, latency timer,
    /// interrupt line and the RW1C status bits are writable; the rest is read-only.
    public init(vendorID: UInt16, deviceID: UInt16, revisionID: UInt8, classCode: UInt32,
                subsystemVendorID: UInt16 = 0, subsystemID: UInt16 = 0,
                interruptPin: PCIInterruptPin = .none) {
        setRaw(UInt32(vendorID), at: PCIConfigRegister.vendorID, size: 2)
        setRaw(UInt32(deviceID), at: PCIConfigRegister.deviceID, size: 2)
        setRaw(UInt32(revisionID), at: PCIConfigRegister.revisionID, size: 1)
        setRaw(classCode & 0xFF_FFFF, at: PCIConfigRegister.classCode, size: 3)
        setRaw(UInt32(subsystemVendorID), at: PCIConfigRegister.subsystemVendorID, size: 2)
        setRaw(UInt32(subsystemID), at: PCIConfigRegister.subsystemID, size: 2)
        setRaw(UInt32(interruptPin.rawValue), at: PCIConfigRegister.interruptPin, size: 1)
        setMask(UInt32(PCICommand.writable), at: PCIConfigRegister.command, size: 2)
        setClearMask(UInt32(PCIStatus.writeOneToClear), at: PCIConfigRegister.status, size: 2)
        setMask(0xFF, at: PCIConfigRegister.cacheLineSize, size: 1)
        setMask(0xFF, at: PCIConfigRegister.latencyTimer, size: 1)
        setMask(0xFF, at: PCIConfigRegister.interruptLine, size: 1)
    }

    // MARK: Building (platform side)

    /// Sets `size` bytes at `offset` regardless of the masks (little-endian).
    public mutating func setRaw(_ value: UInt32, at offset: Int, size: Int) {
        var index = 0
        while index < size && offset &+ index < Self.size {
            bytes[offset &+ index] = UInt8(truncatingIfNeeded: value >> UInt32(index &* 8))
            index &+= 1
        }
    }

    mutating func setMask(_ value: UInt32, at offset: Int, size: Int) {
        var index = 0
        while index < size && offset &+ index < Self.size {
            writeMask[offset &+ index] = UInt8(truncatingIfNeeded: value >> UInt32(index &* 8))
            index &+= 1
        }
    }

    mutating func setClearMask(_ value: UInt32, at offset: Int, size: Int) {
        var index = 0
        while index < size && offset &+ index < Self.size {
            clearMask[offset &+ index] = UInt8(truncatingIfNeeded: value >> UInt32(index &* 8))
            index &+= 1
        }
    }

    /// Implements BAR `index` (a 64-bit BAR also takes `index + 1`); false when it does not fit.
    @discardableResult
    public mutating func defineBAR(_ index: Int, _ definition: PCIBARDefinition) -> Bool {
        let dwords = definition.kind.is64Bit ? 2 : 1
        guard index >= 0, index &+ dwords <= Self.barCount else { return false }
        let offset = PCIConfigRegister.bar0 &+ index &* 4
        let mask = definition.addressMask
        setRaw(definition.kind.flagBits, at: offset, size: 4)
        setMask(UInt32(truncatingIfNeeded: mask), at: offset, size: 4)
        barSizes[index] = definition.size
        if dwords == 2 {
            setRaw(0, at: offset &+ 4, size: 4)
            setMask(UInt32(truncatingIfNeeded: mask >> 32), at: offset &+ 4, size: 4)
            barSizes[index &+ 1] = 0
        }
        return true
    }

    /// Appends a capability with ID `id` and `body` (the bytes after the ID and next
    /// pointer, read-only) to the capability list (§6.7); returns its offset, or nil when
    /// config space is full. Sets status bit 4 and the pointer at 0x34.
    @discardableResult
    public mutating func addCapability(id: UInt8, body: UnsafeRawBufferPointer) -> Int? {
        let start = nextCapability == 0 ? 0x40 : nextCapability
        let length = 2 &+ body.count
        guard start &+ length <= Self.size else { return nil }
        bytes[start] = id
        bytes[start &+ 1] = 0
        var index = 0
        while index < body.count { bytes[start &+ 2 &+ index] = body[index]; index &+= 1 }
        if lastCapability == 0 {
            bytes[PCIConfigRegister.capabilitiesPointer] = UInt8(start)
            let status = UInt32(raw(at: PCIConfigRegister.status, size: 2)) | UInt32(PCIStatus.capabilitiesList)
            setRaw(status, at: PCIConfigRegister.status, size: 2)
        } else {
            bytes[lastCapability &+ 1] = UInt8(start)
        }
        lastCapability = start
        nextCapability = (start &+ length &+ 3) & ~3  // capabilities are dword aligned (§6.7)
        return start
    }

    // MARK: Software access (configuration cycles)

    /// `size` bytes at `offset` (little-endian); bytes past 0xFF read 0 (no extended space).
    public mutating func read(offset: Int, size: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: raw(at: offset, size: size))
    }

    mutating func raw(at offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        var index = 0
        while index < size && index < 8 {
            let at = offset &+ index
            if at >= 0 && at < Self.size { value |= UInt64(bytes[at]) << UInt64(index &* 8) }
            index &+= 1
        }
        return value
    }

    /// A configuration write: writable bits take the new value, RW1C bits written as 1
    /// clear, everything else is unchanged.
    public mutating func write(offset: Int, size: Int, value: UInt32) {
        var index = 0
        while index < size && index < 4 {
            let at = offset &+ index
            if at >= 0 && at < Self.size {
                let byte = UInt8(truncatingIfNeeded: value >> UInt32(index &* 8))
                let mask = writeMask[at]
                var new = (bytes[at] & ~mask) | (byte & mask)
                new &= ~(byte & clearMask[at])
                bytes[at] = new
            }
            index &+= 1
        }
    }

    // MARK: Decoded state

    public var vendorID: UInt16 { mutating get { UInt16(raw(at: PCIConfigRegister.vendorID, size: 2)) } }
    public var deviceID: UInt16 { mutating get { UInt16(raw(at: PCIConfigRegister.deviceID, size: 2)) } }
    public var command: UInt16 { mutating get { UInt16(raw(at: PCIConfigRegister.command, size: 2)) } }
    public var status: UInt16 { mutating get { UInt16(raw(at: PCIConfigRegister.status, size: 2)) } }
    public var interruptLine: UInt8 { mutating get { bytes[PCIConfigRegister.interruptLine] } }
    public var interruptPin: UInt8 { mutating get { bytes[PCIConfigRegister.interruptPin] } }

    /// The function drives its INTx pin: status bit 3, which software cannot write.
    public mutating func setInterruptStatus(_ asserted: Bool) {
        var status = self.status
        if asserted { status |= PCIStatus.interruptStatus } else { status &= ~PCIStatus.interruptStatus }
        setRaw(UInt32(status), at: PCIConfigRegister.status, size: 2)
    }

    /// Whether the INTx line is asserted: interrupt status set and interrupt disable clear (§6.2.2).
    public var interruptAsserted: Bool {
        mutating get { status & PCIStatus.interruptStatus != 0 && command & PCICommand.interruptDisable == 0 }
    }

    /// The kind of BAR `index`, or nil when it is not implemented (or is the upper half of a 64-bit BAR).
    public mutating func barKind(_ index: Int) -> PCIBARKind? {
        guard index >= 0, index < Self.barCount, barSizes[index] != 0 else { return nil }
        let low = bytes[PCIConfigRegister.bar0 &+ index &* 4]
        if low & 1 != 0 { return .io }
        let prefetchable = low & 0x8 != 0
        return low & 0x6 == 0x4 ? .memory64(prefetchable: prefetchable) : .memory32(prefetchable: prefetchable)
    }

    /// The base address software programmed into BAR `index` (flag bits removed), or nil.
    public mutating func barAddress(_ index: Int) -> UInt64? {
        guard let kind = barKind(index) else { return nil }
        let offset = PCIConfigRegister.bar0 &+ index &* 4
        var value = raw(at: offset, size: 4)
        if kind.is64Bit { value |= raw(at: offset &+ 4, size: 4) << 32 }
        return kind.isMemory ? value & ~UInt64(0xF) : value & ~UInt64(0x3)
    }

    /// Programs BAR `index` as firmware would (the address is masked to the BAR's alignment).
    public mutating func setBARAddress(_ index: Int, _ address: UInt64) {
        guard let kind = barKind(index) else { return }
        let offset = PCIConfigRegister.bar0 &+ index &* 4
        let masked = address & PCIBARDefinition(kind: kind, size: barSizes[index]).addressMask
        setRaw(UInt32(truncatingIfNeeded: masked) | kind.flagBits, at: offset, size: 4)
        if kind.is64Bit { setRaw(UInt32(truncatingIfNeeded: masked >> 32), at: offset &+ 4, size: 4) }
    }

    /// The offset of `address` inside memory BAR `index` when memory decoding is on and
    /// the BAR (placed, not being sized) covers it.
    public mutating func memoryOffset(bar index: Int, address: UInt64) -> UInt64? {
        guard command & PCICommand.memorySpace != 0, let kind = barKind(index), kind.isMemory,
              let base = barAddress(index), base != 0 else { return nil }
        let size = barSizes[index]
        guard base & (size &- 1) == 0, address >= base, address &- base < size else { return nil }
        return address &- base
    }

    /// The offset of `port` inside I/O BAR `index` when I/O decoding is on.
    public mutating func ioOffset(bar index: Int, port: UInt64) -> UInt64? {
        guard command & PCICommand.ioSpace != 0, let kind = barKind(index), kind == .io,
              let base = barAddress(index), base != 0 else { return nil }
        let size = barSizes[index]
        guard port >= base, port &- base < size else { return nil }
        return port &- base
    }
}
