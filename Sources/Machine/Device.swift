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
