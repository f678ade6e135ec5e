// A bounds-checked view of a guest's RAM: guest-physical [0, size) mapped at
// host address `base`. Every access by a hypercall or loader goes through it.

/// Guest RAM as the hypervisor sees it. All checks are overflow-safe; nothing traps
/// on a guest-supplied address or length.
public struct GuestMemory {
    public let base: UnsafeMutableRawPointer
    /// Bytes of RAM; guest-physical addresses `[0, size)` are valid.
    public let size: UInt64

    public init(base: UnsafeMutableRawPointer, size: UInt64) {
        precondition(size <= UInt64(Int.max), "guest RAM larger than the host address space")
        self.base = base
        self.size = size
    }

    /// Whether `[gpa, gpa + length)` lies entirely inside RAM. `gpa + length`
    /// may equal `size` (and a 0-byte range at `size` is inside) but must not wrap.
    @inline(__always)
    public func contains(gpa: UInt64, length: UInt64) -> Bool {
        length <= size && gpa <= size &- length
    }

    /// The host view of `[gpa, gpa + length)`, or nil when it is not entirely in RAM.
    @inline(__always)
    public func bytes(gpa: UInt64, length: UInt64) -> UnsafeRawBufferPointer? {
        guard contains(gpa: gpa, length: length) else { return nil }
        return UnsafeRawBufferPointer(start: base + Int(gpa), count: Int(length))
    }

    /// The writable host view of `[gpa, gpa + length)`, or nil when it is not entirely in RAM.
    @inline(__always)
    public func mutableBytes(gpa: UInt64, length: UInt64) -> UnsafeMutableRawBufferPointer? {
        guard contains(gpa: gpa, length: length) else { return nil }
        return UnsafeMutableRawBufferPointer(start: base + Int(gpa), count: Int(length))
    }

    /// The little-endian integer at `gpa` (any alignment), or nil when out of bounds.
    @inline(__always)
    public func load<T: FixedWidthInteger>(_ type: T.Type = T.self, gpa: UInt64) -> T? {
        guard contains(gpa: gpa, length: UInt64(MemoryLayout<T>.size)) else { return nil }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: Int(gpa), as: T.self))
    }

    /// Stores `value` little-endian at `gpa` (any alignment); false when out of bounds.
    @inline(__always)
    @discardableResult
    public func store<T: FixedWidthInteger>(_ value: T, gpa: UInt64) -> Bool {
        guard contains(gpa: gpa, length: UInt64(MemoryLayout<T>.size)) else { return false }
        base.storeBytes(of: value.littleEndian, toByteOffset: Int(gpa), as: T.self)
        return true
    }

    /// Copies `image` to `gpa`; false (and nothing copied) when it does not fit.
    @discardableResult
    public func copyIn(_ image: UnsafeRawBufferPointer, gpa: UInt64) -> Bool {
        guard let destination = mutableBytes(gpa: gpa, length: UInt64(image.count)) else { return false }
        if let source = image.baseAddress, image.count > 0 {
            destination.baseAddress!.copyMemory(from: source, byteCount: image.count)
        }
        return true
    }

    /// Copies `[gpa, gpa + destination.count)` out of RAM; false (and nothing copied) when out of bounds.
    @discardableResult
    public func copyOut(gpa: UInt64, to destination: UnsafeMutableRawBufferPointer) -> Bool {
        guard let source = bytes(gpa: gpa, length: UInt64(destination.count)) else { return false }
        if let target = destination.baseAddress, destination.count > 0 {
            target.copyMemory(from: source.baseAddress!, byteCount: destination.count)
        }
        return true
    }

    /// Sets `[gpa, gpa + length)` to `byte`; false (and nothing written) when out of bounds.
    @discardableResult
    public func fill(gpa: UInt64, length: UInt64, with byte: UInt8) -> Bool {
        guard let destination = mutableBytes(gpa: gpa, length: length) else { return false }
        if let start = destination.baseAddress, length > 0 {
            start.initializeMemory(as: UInt8.self, repeating: byte, count: Int(length))
        }
        return true
    }
}
