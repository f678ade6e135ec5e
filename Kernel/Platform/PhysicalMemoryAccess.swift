// The kernel identity-maps physical memory: a physical address is a pointer.

@inline(__always)
func physicalPointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(address))!
}

@inline(__always)
func loadPhysical<T: FixedWidthInteger>(_ address: UInt64, as type: T.Type) -> T {
    physicalPointer(address).loadUnaligned(as: T.self)
}

/// The NUL-terminated string at a physical address (at most `limit` bytes).
func stringAtPhysical(_ address: UInt64, limit: Int = 4096) -> String {
    guard address != 0 else { return "" }
    let p = physicalPointer(address).assumingMemoryBound(to: UInt8.self)
    var n = 0
    while n < limit && p[n] != 0 { n += 1 }
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
}
