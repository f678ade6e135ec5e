// What a guest can get wrong in a split virtqueue (virtio 1.2 §2.7). Each is a
// driver bug or an attack; the device answers every one by entering DEVICE_NEEDS_RESET.

public enum VirtqueueError: Error, Equatable {
    /// queue_size is 0, not a power of two, or above the device's maximum (§2.7).
    case invalidQueueSize
    /// A ring (descriptor table, driver area or device area) is not inside guest RAM or misaligned (§2.7).
    case ringOutsideRAM
    /// avail.idx moved more than queue_size past the last entry the device took (§2.7.6).
    case availableIndexOutOfRange
    /// A descriptor index (a head in the available ring, or a `next`) is ≥ the table's size.
    case descriptorIndexOutOfRange
    /// A buffer's address and length are not entirely inside guest RAM.
    case bufferOutsideRAM
    /// The chain visits more descriptors than the table holds: a loop, or longer than the queue (§2.7.5).
    case chainTooLong
    /// INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated, or together with NEXT (§2.7.5.3.1).
    case indirectNotAllowed
    /// An indirect table whose length is 0 or not a multiple of 16 bytes (§2.7.5.3.1).
    case indirectTableLength
    /// An INDIRECT descriptor inside an indirect table (§2.7.5.3.1).
    case nestedIndirect
    /// A device-readable buffer after a device-writable one (§2.7.4.2).
    case readableAfterWritable
    /// The used ring overlaps the descriptor table or the available ring: the device's own writes
    /// would rewrite what the driver gives it (§2.7: each area is the driver's or the device's).
    case ringsOverlap
    /// A device-writable buffer overlaps one of the queue's rings: data the device writes would
    /// become descriptors or ring entries (§2.7.5: a buffer is the driver's memory, not a ring).
    case writableBufferOverlapsRing
    /// The request itself is malformed for the device (e.g. a virtio-blk request with no status byte).
    case malformedRequest
}

extension VirtqueueError {
    /// The case name, for reports.
    public var name: String {
        switch self {
        case .invalidQueueSize: return "invalidQueueSize"
        case .ringOutsideRAM: return "ringOutsideRAM"
        case .availableIndexOutOfRange: return "availableIndexOutOfRange"
        case .descriptorIndexOutOfRange: return "descriptorIndexOutOfRange"
        case .bufferOutsideRAM: return "bufferOutsideRAM"
        case .chainTooLong: return "chainTooLong"
        case .indirectNotAllowed: return "indirectNotAllowed"
        case .indirectTableLength: return "indirectTableLength"
        case .nestedIndirect: return "nestedIndirect"
        case .readableAfterWritable: return "readableAfterWritable"
        case .ringsOverlap: return "ringsOverlap"
        case .writableBufferOverlapsRing: return "writableBufferOverlapsRing"
        case .malformedRequest: return "malformedRequest"
        }
    }
}
