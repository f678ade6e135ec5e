/// One entry of the physical memory map a loader hands its guest. Every boot protocol here carries
/// the same record: Linux's `boot_e820_entry` in boot_params (addr, size, type), PVH's
/// `hvm_memmap_table_entry` (addr, size, type, reserved) and Multiboot's mmap entry (§3.3:
/// base_addr, length, type); the types are the E820 ones (1 RAM, 2 reserved) in all three.
public struct MemoryMapEntry: Equatable, Sendable {
    public var base: UInt64
    public var length: UInt64
    public var type: UInt32

    public init(base: UInt64, length: UInt64, type: UInt32) {
        self.base = base
        self.length = length
        self.type = type
    }
}
