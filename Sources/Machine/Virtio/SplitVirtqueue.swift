// A split virtqueue (virtio 1.2 §2.7): the descriptor table, the driver area
// (available ring) and the device area (used ring) in guest RAM, and the device's
// private indices. Every value read from guest memory is checked before use; a
// violation is thrown as a `VirtqueueError` and nothing outside guest RAM is touched.
//
// The device writes only the used ring and the device-writable buffers, so neither may
// overlap what the driver hands it: a used ring on top of the descriptor table or the
// available ring is refused at queue_enable, and a chain with a writable buffer on any of
// the three rings is refused when it is taken. Otherwise a request could feed itself (the
// data read from a disk becoming the next available entry) and the ring would never empty.

public struct SplitVirtqueue {
    /// The largest queue size any device here offers.
    public static var largestSize: UInt16 { 256 }

    /// The size the device offers (queue_size reads this after reset).
    public let maxSize: UInt16
    /// queue_size as the driver set it.
    public var size: UInt16
    /// queue_desc, queue_driver, queue_device (§4.1.4.3).
    public var descriptorArea: UInt64 = 0
    public var driverArea: UInt64 = 0
    public var deviceArea: UInt64 = 0
    public private(set) var isEnabled = false
    /// The next available-ring entry the device will take.
    public private(set) var lastAvailableIndex: UInt16 = 0
    /// used.idx as the device last wrote it.
    public private(set) var usedIndex: UInt16 = 0
    /// used.idx when the device last decided whether to interrupt.
    var signalledUsedIndex: UInt16 = 0
    /// VIRTIO_F_EVENT_IDX and VIRTIO_F_INDIRECT_DESC, as negotiated when the queue was enabled.
    public private(set) var eventIndex = false
    public private(set) var indirectDescriptors = false

    public init(maxSize: UInt16) {
        self.maxSize = min(maxSize, Self.largestSize)
        self.size = self.maxSize
    }

    /// Back to the state after device reset.
    public mutating func reset() {
        self = SplitVirtqueue(maxSize: maxSize)
    }

    /// queue_enable = 1: checks the size and that the three areas are aligned and inside RAM (§2.7).
    public mutating func enable(memory: GuestMemory, features: UInt64) throws(VirtqueueError) {
        guard size != 0, size & (size &- 1) == 0, size <= maxSize else { throw .invalidQueueSize }
        guard descriptorArea & 15 == 0, memory.contains(gpa: descriptorArea, length: Self.descriptorTableLength(size: size)),
              driverArea & 1 == 0, memory.contains(gpa: driverArea, length: Self.driverAreaLength(size: size)),
              deviceArea & 3 == 0, memory.contains(gpa: deviceArea, length: Self.deviceAreaLength(size: size))
        else { throw .ringOutsideRAM }
        let used = AddressRange(base: deviceArea, size: Self.deviceAreaLength(size: size))
        guard !used.overlaps(AddressRange(base: descriptorArea, size: Self.descriptorTableLength(size: size))),
              !used.overlaps(AddressRange(base: driverArea, size: Self.driverAreaLength(size: size)))
        else { throw .ringsOverlap }
        eventIndex = features & VirtioFeature.ringEventIndex != 0
        indirectDescriptors = features & VirtioFeature.ringIndirectDescriptors != 0
        lastAvailableIndex = 0
        usedIndex = 0
        signalledUsedIndex = 0
        isEnabled = true
    }

    /// Bytes of the descriptor table, the driver area (flags, idx, ring, used_event) and the device
    /// area (flags, idx, ring of 8-byte elements, avail_event) of a queue of `size` (§2.7).
    static func descriptorTableLength(size: UInt16) -> UInt64 { 16 &* UInt64(size) }
    static func driverAreaLength(size: UInt16) -> UInt64 { 6 &+ 2 &* UInt64(size) }
    static func deviceAreaLength(size: UInt16) -> UInt64 { 6 &+ 8 &* UInt64(size) }

    /// Whether a device-writable buffer at `address` of `length` bytes lies on one of the rings.
    func overlapsRing(address: UInt64, length: UInt32) -> Bool {
        let buffer = AddressRange(base: address, size: UInt64(length))
        return buffer.overlaps(AddressRange(base: descriptorArea, size: Self.descriptorTableLength(size: size)))
            || buffer.overlaps(AddressRange(base: driverArea, size: Self.driverAreaLength(size: size)))
            || buffer.overlaps(AddressRange(base: deviceArea, size: Self.deviceAreaLength(size: size)))
    }

    /// Whether the driver has made buffers available that the device has not taken.
    public func hasAvailable(memory: GuestMemory) throws(VirtqueueError) -> Bool {
        guard isEnabled else { return false }
        guard let availableIndex = memory.load(UInt16.self, gpa: driverArea &+ 2) else { throw .ringOutsideRAM }
        let pending = availableIndex &- lastAvailableIndex
        guard pending <= size else { throw .availableIndexOutOfRange }
        return pending != 0
    }

    /// Takes the next available chain into `chain`, validating every descriptor; false when
    /// the ring is empty.
    public mutating func pop(into chain: inout VirtqueueChain, memory: GuestMemory) throws(VirtqueueError) -> Bool {
        guard try hasAvailable(memory: memory) else { return false }
        let slot = UInt64(lastAvailableIndex & (size &- 1))
        guard let head = memory.load(UInt16.self, gpa: driverArea &+ 4 &+ 2 &* slot) else { throw .ringOutsideRAM }
        lastAvailableIndex &+= 1
        if eventIndex {
            // avail_event: notify the device as soon as the next entry is added (§2.7.10).
            memory.store(lastAvailableIndex, gpa: deviceArea &+ 4 &+ 8 &* UInt64(size))
        }
        try collect(head: head, into: &chain, memory: memory)
        return true
    }

    /// Walks the chain starting at descriptor `head` (§2.7.5, §2.7.5.3).
    func collect(head: UInt16, into chain: inout VirtqueueChain, memory: GuestMemory) throws(VirtqueueError) {
        chain.removeAll(head: head)
        let limit = Int(size)
        var table = descriptorArea
        var tableSize = UInt64(size)
        var index = UInt64(head)
        var visited: UInt64 = 0
        var inIndirect = false
        while true {
            guard index < tableSize else { throw .descriptorIndexOutOfRange }
            visited &+= 1
            guard visited <= tableSize else { throw .chainTooLong }
            let entry = table &+ 16 &* index
            guard let address = memory.load(UInt64.self, gpa: entry),
                  let length = memory.load(UInt32.self, gpa: entry &+ 8),
                  let flags = memory.load(UInt16.self, gpa: entry &+ 12),
                  let next = memory.load(UInt16.self, gpa: entry &+ 14) else { throw .ringOutsideRAM }
            if flags & VirtqDescriptorFlags.indirect != 0 {
                guard !inIndirect else { throw .nestedIndirect }
                guard indirectDescriptors, flags & VirtqDescriptorFlags.next == 0 else { throw .indirectNotAllowed }
                guard length != 0, length & 15 == 0 else { throw .indirectTableLength }
                guard memory.contains(gpa: address, length: UInt64(length)) else { throw .bufferOutsideRAM }
                table = address
                tableSize = UInt64(length / 16)
                index = 0
                visited = 0
                inIndirect = true
                continue
            }
            guard memory.contains(gpa: address, length: UInt64(length)) else { throw .bufferOutsideRAM }
            let writable = flags & VirtqDescriptorFlags.write != 0
            if writable && overlapsRing(address: address, length: length) { throw .writableBufferOverlapsRing }
            try chain.append(VirtqBuffer(address: address, length: length, isWritable: writable), limit: limit)
            if flags & VirtqDescriptorFlags.next == 0 { return }
            index = UInt64(next)
        }
    }

    /// Returns chain `head` to the driver with `length` bytes written into it (§2.7.8).
    public mutating func pushUsed(head: UInt16, length: UInt32, memory: GuestMemory) {
        guard isEnabled else { return }
        let element = deviceArea &+ 4 &+ 8 &* UInt64(usedIndex & (size &- 1))
        memory.store(UInt32(head), gpa: element)
        memory.store(length, gpa: element &+ 4)
        usedIndex &+= 1
        memory.store(usedIndex, gpa: deviceArea &+ 2)
    }

    /// Whether the driver wants an interrupt for the used entries added since the last call:
    /// used_event with EVENT_IDX (§2.7.10), else the NO_INTERRUPT flag (§2.7.7).
    public mutating func needsInterrupt(memory: GuestMemory) -> Bool {
        let old = signalledUsedIndex
        let new = usedIndex
        signalledUsedIndex = new
        guard isEnabled, new != old else { return false }
        if eventIndex {
            guard let usedEvent = memory.load(UInt16.self, gpa: driverArea &+ 4 &+ 2 &* UInt64(size)) else { return true }
            return new &- usedEvent &- 1 < new &- old  // vring_need_event
        }
        guard let flags = memory.load(UInt16.self, gpa: driverArea) else { return true }
        return flags & 1 == 0
    }
}
