// One descriptor chain (virtio 1.2 §2.7.5) as the device uses it: the validated
// buffers in order, device-readable ones first, with copies between them and the
// host. The storage is fixed, so taking a request allocates nothing.

/// One guest buffer of a chain, already checked to lie inside guest RAM.
public struct VirtqBuffer: Equatable {
    public var address: UInt64
    public var length: UInt32
    public var isWritable: Bool

    public init(address: UInt64, length: UInt32, isWritable: Bool) {
        self.address = address
        self.length = length
        self.isWritable = isWritable
    }
}

public struct VirtqueueChain {
    /// The most buffers a chain may have: the largest queue this implementation offers.
    public static var capacity: Int { 256 }

    var storage = InlineArray<256, VirtqBuffer>(repeating: VirtqBuffer(address: 0, length: 0, isWritable: false))
    /// The descriptor index the chain started at (the id returned in the used ring).
    public internal(set) var head: UInt16 = 0
    public private(set) var count = 0
    /// Buffers [0, readableCount) are device-readable, the rest device-writable.
    public private(set) var readableCount = 0
    public private(set) var readableBytes: UInt64 = 0
    public private(set) var writableBytes: UInt64 = 0

    public init() {}

    /// The accessors are `mutating`: a non-mutating access to `storage` copies all 4 KiB of it.
    public subscript(index: Int) -> VirtqBuffer { mutating get { storage[index] } }

    mutating func removeAll(head: UInt16) {
        self.head = head
        count = 0
        readableCount = 0
        readableBytes = 0
        writableBytes = 0
    }

    /// Appends a buffer; `limit` is the most buffers the chain may have.
    mutating func append(_ buffer: VirtqBuffer, limit: Int) throws(VirtqueueError) {
        guard count < limit, count < Self.capacity else { throw .chainTooLong }
        if buffer.isWritable {
            writableBytes &+= UInt64(buffer.length)
        } else {
            guard readableCount == count else { throw .readableAfterWritable }
            readableCount &+= 1
            readableBytes &+= UInt64(buffer.length)
        }
        storage[count] = buffer
        count &+= 1
    }

    /// Copies device-readable bytes starting `offset` bytes into the readable part into
    /// `destination`; returns how many were copied (fewer when the chain is shorter).
    public mutating func gather(from offset: UInt64, into destination: UnsafeMutableRawBufferPointer, memory: GuestMemory) -> Int {
        copy(writable: false, offset: offset, count: destination.count) { gpa, done, length in
            guard let source = memory.bytes(gpa: gpa, length: UInt64(length)), let target = destination.baseAddress else { return false }
            if length > 0 { (target + done).copyMemory(from: source.baseAddress!, byteCount: length) }
            return true
        }
    }

    /// Copies `source` into the device-writable part starting `offset` bytes in; returns how many were copied.
    public mutating func scatter(_ source: UnsafeRawBufferPointer, at offset: UInt64, memory: GuestMemory) -> Int {
        copy(writable: true, offset: offset, count: source.count) { gpa, done, length in
            guard let target = memory.mutableBytes(gpa: gpa, length: UInt64(length)), let from = source.baseAddress else { return false }
            if length > 0 { target.baseAddress!.copyMemory(from: from + done, byteCount: length) }
            return true
        }
    }

    /// Visits the guest ranges covering `count` bytes from `offset` of the readable or
    /// writable part: `body(gpa, bytesDoneSoFar, length)`; stops when `body` returns false.
    /// Returns the bytes visited.
    @inline(__always)
    mutating func copy(writable: Bool, offset: UInt64, count total: Int, _ body: (UInt64, Int, Int) -> Bool) -> Int {
        var skip = offset
        var done = 0
        var index = writable ? readableCount : 0
        let end = writable ? count : readableCount
        while index < end && done < total {
            let buffer = storage[index]
            let length = UInt64(buffer.length)
            if skip >= length {
                skip &-= length
            } else {
                let chunk = Int(min(length &- skip, UInt64(total &- done)))
                guard body(buffer.address &+ skip, done, chunk) else { return done }
                done &+= chunk
                skip = 0
            }
            index &+= 1
        }
        return done
    }
}
