// The one access interface shared by port-I/O and MMIO device models.

/// A device model reached through port I/O or MMIO.
///
/// `offset` is relative to the device's base (port or guest-physical address);
/// `size` is 1, 2, 4 or 8 bytes and the value travels in the low `size` bytes.
/// Device models are structs; buses store them as concrete types and call them
/// through generics only (never as `any Device`) so that an access is a direct,
/// non-allocating call.
public protocol Device {
    mutating func read(offset: UInt64, size: Int) -> UInt64
    mutating func write(offset: UInt64, size: Int, value: UInt64)
}

/// A device of byte-wide registers, as most ISA devices are. A wider access is
/// split into consecutive byte accesses, low byte first, as the ISA bus does
/// (never wrapping past the top of the offset space); the device answers offsets
/// it does not decode with 0xFF and ignores writes there.
public protocol ByteRegisterDevice: Device {
    mutating func readByte(at offset: UInt64) -> UInt8
    mutating func writeByte(at offset: UInt64, _ value: UInt8)
}

extension ByteRegisterDevice {
    @inline(__always)
    public mutating func read(offset: UInt64, size: Int) -> UInt64 {
        if size == 1 { return UInt64(readByte(at: offset)) }
        var value: UInt64 = 0
        var index = 0
        while index < size && index < 8 {
            let (byteOffset, wrapped) = offset.addingReportingOverflow(UInt64(index))
            value |= UInt64(wrapped ? 0xFF : readByte(at: byteOffset)) << UInt64(index &* 8)
            index += 1
        }
        return value
    }

    @inline(__always)
    public mutating func write(offset: UInt64, size: Int, value: UInt64) {
        if size == 1 { writeByte(at: offset, UInt8(truncatingIfNeeded: value)); return }
        var index = 0
        while index < size && index < 8 {
            let (byteOffset, wrapped) = offset.addingReportingOverflow(UInt64(index))
            if !wrapped { writeByte(at: byteOffset, UInt8(truncatingIfNeeded: value >> UInt64(index &* 8))) }
            index += 1
        }
    }
}
