// virtio-blk (virtio 1.2 §5.2): one request queue; requests IN, OUT, FLUSH, GET_ID,
// DISCARD and WRITE_ZEROES, each a 16-byte header, data, and a status byte. Data moves
// directly between guest buffers and the storage; a sector split across guest buffers
// goes through one 512-byte bounce buffer on the stack.
//
// Work per call is bounded by a DeviceWorkBudget: requests are taken from the ring only
// while the budget lasts, and a request larger than what is left (a 4 MiB read, a
// WRITE_ZEROES of 2^20 sectors) is carried out in whole-sector steps over several calls.
// Its status byte and used-ring entry are written when the last step is done, so the
// driver sees only latency.

public enum VirtioBlockFeature {
    public static var segMax: UInt64 { 1 << 2 }
    public static var readOnly: UInt64 { 1 << 5 }
    public static var blockSize: UInt64 { 1 << 6 }
    public static var flush: UInt64 { 1 << 9 }
    public static var discard: UInt64 { 1 << 13 }
    public static var writeZeroes: UInt64 { 1 << 14 }
}

/// Request types (§5.2.6).
public enum VirtioBlockRequestType {
    public static var read: UInt32 { 0 }
    public static var write: UInt32 { 1 }
    public static var flush: UInt32 { 4 }
    public static var getID: UInt32 { 8 }
    public static var discard: UInt32 { 11 }
    public static var writeZeroes: UInt32 { 13 }
}

/// Request status values (§5.2.6).
public enum VirtioBlockStatus {
    public static var ok: UInt8 { 0 }
    public static var ioError: UInt8 { 1 }
    public static var unsupported: UInt8 { 2 }
}

/// Per-disk counters.
public struct VirtioBlockCounters {
    public var reads: UInt64 = 0
    public var writes: UInt64 = 0
    public var bytesRead: UInt64 = 0
    public var bytesWritten: UInt64 = 0
    public var flushes: UInt64 = 0
    public var errors: UInt64 = 0
}

public struct VirtioBlock<Storage: BlockStorage>: VirtioDeviceModel {
    public static var deviceType: VirtioDeviceType { .block }
    public static var queueCount: Int { 1 }
    public static var queueMaxSize: UInt16 { 128 }
    /// seg_max: data buffers per request (the queue size less header and status).
    public static var segmentMax: UInt32 { UInt32(queueMaxSize) &- 2 }
    public static var sectorSize: UInt64 { 512 }
    /// Most sectors one DISCARD or WRITE_ZEROES segment may cover.
    public static var maxZeroSectors: UInt32 { 0x10_0000 }

    public var storage: Storage
    public let isReadOnly: Bool
    /// The GET_ID string: up to 20 bytes, zero-padded.
    var serial = InlineArray<20, UInt8>(repeating: 0)
    public private(set) var counters = VirtioBlockCounters()
    /// The request being carried out across calls of `process` (its chain is the caller's).
    var inFlight: VirtioBlockRequest? = nil

    public init(storage: Storage, readOnly: Bool = false, serial: StaticString = "swiftvisor") {
        self.storage = storage
        self.isReadOnly = readOnly
        var index = 0
        while index < min(20, serial.utf8CodeUnitCount) {
            self.serial[index] = serial.utf8Start[index]
            index &+= 1
        }
    }

    public var deviceFeatures: UInt64 {
        VirtioBlockFeature.segMax | VirtioBlockFeature.blockSize | VirtioBlockFeature.flush
            | VirtioBlockFeature.discard | VirtioBlockFeature.writeZeroes | (isReadOnly ? VirtioBlockFeature.readOnly : 0)
    }

    /// struct virtio_blk_config up to write_zeroes_may_unmap (§5.2.4).
    public var configSize: Int { 0x3C }

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        var index = 0
        while index < size {
            value |= UInt64(configByte(offset &+ index)) << UInt64(index &* 8)
            index &+= 1
        }
        return value
    }

    func configByte(_ offset: Int) -> UInt8 {
        func byte(_ field: UInt64, at start: Int) -> UInt8 { UInt8(truncatingIfNeeded: field >> UInt64((offset &- start) &* 8)) }
        switch offset {
        case 0x00..<0x08: return byte(storage.sectorCount, at: 0x00)        // capacity
        case 0x0C..<0x10: return byte(UInt64(Self.segmentMax), at: 0x0C)    // seg_max
        case 0x14..<0x18: return byte(Self.sectorSize, at: 0x14)            // blk_size
        case 0x22..<0x24: return byte(1, at: 0x22)                          // num_queues
        case 0x24..<0x28: return byte(UInt64(Self.maxZeroSectors), at: 0x24) // max_discard_sectors
        case 0x28..<0x2C: return byte(1, at: 0x28)                          // max_discard_seg
        case 0x2C..<0x30: return byte(1, at: 0x2C)                          // discard_sector_alignment
        case 0x30..<0x34: return byte(UInt64(Self.maxZeroSectors), at: 0x30) // max_write_zeroes_sectors
        case 0x34..<0x38: return byte(1, at: 0x34)                          // max_write_zeroes_seg
        default: return 0
        }
    }

    /// The configuration is read-only here (writeback is not offered).
    public mutating func writeConfig(offset: Int, size: Int, value: UInt64) {}

    /// Device reset: a request in progress is dropped (the driver has given its buffers up).
    public mutating func reset() { inFlight = nil }

    /// Takes requests from the queue and carries them out, within `budget`; a request larger
    /// than what is left stays in progress (`inFlight`, with its chain kept in `chain`) and goes
    /// on at the next call.
    public mutating func process(queue index: Int, _ queue: inout SplitVirtqueue, chain: inout VirtqueueChain,
                                 memory: GuestMemory, budget: inout DeviceWorkBudget) throws(VirtqueueError) -> VirtqueueProgress {
        while true {
            var request: VirtioBlockRequest
            if let inFlight {
                request = inFlight
            } else {
                guard budget.takeRequest() else { return try queue.hasAvailable(memory: memory) ? .budgetSpent : .drained }
                guard try queue.pop(into: &chain, memory: memory) else { return .drained }
                request = try begin(&chain, memory: memory)
            }
            guard advance(&request, &chain, memory: memory, budget: &budget) else {
                inFlight = request
                return .budgetSpent
            }
            inFlight = nil
            queue.pushUsed(head: chain.head, length: complete(request, &chain, memory: memory), memory: memory)
        }
    }

    /// Reads a request's header and checks it against the disk; the request returned either has
    /// data to move or zero (`.read`, `.write`, `.zero`) or is already answered (`.none`).
    mutating func begin(_ chain: inout VirtqueueChain, memory: GuestMemory) throws(VirtqueueError) -> VirtioBlockRequest {
        // A request needs its 16-byte header and a status byte (§5.2.6); without them it cannot complete.
        guard chain.readableBytes >= 16, chain.writableBytes >= 1 else { throw .malformedRequest }
        var header: (UInt64, UInt64) = (0, 0)
        _ = withUnsafeMutableBytes(of: &header) { chain.gather(from: 0, into: $0, memory: memory) }
        let type = UInt32(truncatingIfNeeded: UInt64(littleEndian: header.0))
        let sector = UInt64(littleEndian: header.1)
        var request = VirtioBlockRequest(operation: .none, sector: sector, length: 0, statusOffset: chain.writableBytes &- 1)

        switch type {
        case VirtioBlockRequestType.read:
            request.length = request.statusOffset
            request.operation = .read
            if !fitsDisk(sector: sector, bytes: request.length) { request.answer(VirtioBlockStatus.ioError) }
        case VirtioBlockRequestType.write:
            request.length = chain.readableBytes &- 16
            request.operation = .write
            if isReadOnly || !fitsDisk(sector: sector, bytes: request.length) { request.answer(VirtioBlockStatus.ioError) }
        case VirtioBlockRequestType.flush:
            counters.flushes &+= 1
            request.answer(storage.flush() ? VirtioBlockStatus.ok : VirtioBlockStatus.ioError)
        case VirtioBlockRequestType.getID:
            let count = Int(min(request.statusOffset, 20))
            withUnsafeBytes(of: serial) { bytes in
                _ = chain.scatter(UnsafeRawBufferPointer(rebasing: bytes[0 ..< count]), at: 0, memory: memory)
            }
            request.answer(VirtioBlockStatus.ok)
            request.dataWritten = UInt64(count)
        case VirtioBlockRequestType.discard, VirtioBlockRequestType.writeZeroes:
            beginZeroing(&request, &chain, discard: type == VirtioBlockRequestType.discard, memory: memory)
        default:
            request.answer(VirtioBlockStatus.unsupported)
        }
        return request
    }

    /// DISCARD / WRITE_ZEROES with one struct virtio_blk_discard_write_zeroes (§5.2.6.2);
    /// discarded sectors read as zero afterwards.
    mutating func beginZeroing(_ request: inout VirtioBlockRequest, _ chain: inout VirtqueueChain, discard: Bool,
                               memory: GuestMemory) {
        guard chain.readableBytes == 32 else { return request.answer(VirtioBlockStatus.unsupported) }
        var segment: (UInt64, UInt32, UInt32) = (0, 0, 0)
        _ = withUnsafeMutableBytes(of: &segment) { chain.gather(from: 16, into: $0, memory: memory) }
        let start = UInt64(littleEndian: segment.0)
        let count = UInt32(littleEndian: segment.1)
        let flags = UInt32(littleEndian: segment.2)
        // Only write_zeroes' unmap flag (bit 0) is defined; discard takes no flags.
        guard flags & ~(discard ? 0 : 1) == 0, count <= Self.maxZeroSectors else { return request.answer(VirtioBlockStatus.unsupported) }
        request.operation = .zero
        request.sector = start
        request.length = UInt64(count) &* Self.sectorSize
        if isReadOnly || !fitsDisk(sector: start, bytes: request.length) { request.answer(VirtioBlockStatus.ioError) }
    }

    /// Whether `bytes` (a whole number of sectors) from `sector` lie on the disk.
    func fitsDisk(sector: UInt64, bytes: UInt64) -> Bool {
        guard bytes % Self.sectorSize == 0 else { return false }
        let sectors = bytes / Self.sectorSize
        return sectors <= storage.sectorCount && sector <= storage.sectorCount &- sectors
    }

    /// Moves or zeroes as much of the request as `budget` allows; true when it is finished.
    mutating func advance(_ request: inout VirtioBlockRequest, _ chain: inout VirtqueueChain, memory: GuestMemory,
                          budget: inout DeviceWorkBudget) -> Bool {
        while request.operation != .none && request.done < request.length {
            let step = budget.take(bytes: request.length &- request.done, unit: Self.sectorSize)
            guard step > 0 else { return false }
            let ok: Bool
            switch request.operation {
            case .read:
                ok = transfer(&chain, toGuest: true, from: 0, start: request.done, length: step, sector: request.sector, memory: memory)
            case .write:
                ok = transfer(&chain, toGuest: false, from: 16, start: request.done, length: step, sector: request.sector, memory: memory)
            case .zero:
                ok = storage.writeZeroes(sector: request.sector &+ request.done / Self.sectorSize, count: step / Self.sectorSize)
            case .none:
                ok = true
            }
            guard ok else { request.answer(VirtioBlockStatus.ioError); return true }
            request.done &+= step
        }
        return true
    }

    /// Counts a finished request and writes its status byte; returns the bytes written into the
    /// chain (data and status) for the used ring.
    mutating func complete(_ request: VirtioBlockRequest, _ chain: inout VirtqueueChain, memory: GuestMemory) -> UInt32 {
        var written = request.dataWritten
        if request.status == VirtioBlockStatus.ok {
            switch request.operation {
            case .read:
                counters.reads &+= 1
                counters.bytesRead &+= request.length
                written = request.length
            case .write:
                counters.writes &+= 1
                counters.bytesWritten &+= request.length
            case .zero, .none:
                break
            }
        } else {
            counters.errors &+= 1
        }
        withUnsafeBytes(of: request.status) { _ = chain.scatter($0, at: request.statusOffset, memory: memory) }
        return UInt32(truncatingIfNeeded: min(written &+ 1, UInt64(UInt32.max)))
    }

    /// Moves `length` bytes (whole sectors) of a request's data, `start` bytes into it, between
    /// the storage (the request starts at `sector`) and the chain's writable part (`toGuest`) or
    /// its readable part from `offset`.
    mutating func transfer(_ chain: inout VirtqueueChain, toGuest: Bool, from offset: UInt64, start: UInt64, length: UInt64,
                           sector: UInt64, memory: GuestMemory) -> Bool {
        let sectorSize = Self.sectorSize
        var bounce = InlineArray<512, UInt8>(repeating: 0)
        var position = start          // bytes of the request's data moved so far
        let end = start &+ length
        var skip = offset &+ start
        var index = toGuest ? chain.readableCount : 0
        let last = toGuest ? chain.count : chain.readableCount
        while index < last && position < end {
            let buffer = chain[index]
            index &+= 1
            var bufferLength = UInt64(buffer.length)
            var address = buffer.address
            if skip >= bufferLength { skip &-= bufferLength; continue }
            address &+= skip
            bufferLength &-= skip
            skip = 0
            let chunk = min(bufferLength, end &- position)
            guard let host = memory.mutableBytes(gpa: address, length: chunk) else { return false }
            var done: UInt64 = 0
            while done < chunk {
                let inSector = position % sectorSize
                let lba = sector &+ position / sectorSize
                if inSector == 0 && chunk &- done >= sectorSize {
                    // Whole sectors: straight between guest memory and the storage.
                    let bytes = (chunk &- done) / sectorSize &* sectorSize
                    let piece = UnsafeMutableRawBufferPointer(rebasing: host[Int(done) ..< Int(done &+ bytes)])
                    let ok = toGuest ? storage.read(sector: lba, into: piece)
                                     : storage.write(sector: lba, from: UnsafeRawBufferPointer(piece))
                    guard ok else { return false }
                    done &+= bytes
                    position &+= bytes
                } else {
                    // Part of a sector split across guest buffers: through the bounce buffer. The
                    // steps are whole sectors, so a sector never spans two calls.
                    let bytes = min(sectorSize &- inSector, chunk &- done)
                    let ok = withUnsafeMutableBytes(of: &bounce) { sectorBuffer -> Bool in
                        let inBounce = UnsafeMutableRawBufferPointer(rebasing: sectorBuffer[Int(inSector) ..< Int(inSector &+ bytes)])
                        let inGuest = UnsafeMutableRawBufferPointer(rebasing: host[Int(done) ..< Int(done &+ bytes)])
                        if toGuest {
                            guard storage.read(sector: lba, into: sectorBuffer) else { return false }
                            inGuest.baseAddress!.copyMemory(from: inBounce.baseAddress!, byteCount: Int(bytes))
                            return true
                        }
                        inBounce.baseAddress!.copyMemory(from: inGuest.baseAddress!, byteCount: Int(bytes))
                        if inSector &+ bytes == sectorSize {
                            return storage.write(sector: lba, from: UnsafeRawBufferPointer(sectorBuffer))
                        }
                        return true
                    }
                    guard ok else { return false }
                    done &+= bytes
                    position &+= bytes
                }
            }
        }
        return position == end
    }
}

/// A virtio-blk request taken from the queue and not yet completed.
struct VirtioBlockRequest {
    enum Operation { case none, read, write, zero }
    /// What is left to do: move data, zero sectors, or nothing (answered).
    var operation: Operation
    /// The first sector.
    var sector: UInt64
    /// Bytes of data to move or zero (whole sectors), and how many are done.
    var length: UInt64
    var done: UInt64 = 0
    /// Where the status byte goes in the writable part, and the status so far.
    var statusOffset: UInt64
    var status = VirtioBlockStatus.ok
    /// Data bytes written into the chain by a request without a data phase (GET_ID).
    var dataWritten: UInt64 = 0

    /// Ends the request with `status`: nothing more is moved.
    mutating func answer(_ status: UInt8) {
        self.status = status
        operation = .none
    }
}
