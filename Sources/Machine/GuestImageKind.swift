/// What kind of kernel image a guest module holds, from its first bytes, so the
/// right loader takes it. Checked in this order:
/// - a Linux bzImage: boot sector signature 0xAA55 at 0x1FE and "HdrS" at 0x202;
/// - a Multiboot (v1) kernel: the magic 0x1BADB002 with a valid checksum, 4-byte
///   aligned in the first 8192 bytes (many Multiboot kernels are also ELF files);
/// - an ELF file with Xen's PHYS32_ENTRY note (Linux's `vmlinux` with CONFIG_PVH): PVH direct boot;
/// - any other ELF file ("\x7FELF"), loaded as an ELF64 kernel;
/// - anything else: a flat binary (the project's test guests).
public enum GuestImageKind: Equatable, Sendable {
    case linux, multiboot, pvh, elf, flat

    public var name: StaticString {
        switch self {
        case .linux: return "Linux bzImage"
        case .multiboot: return "Multiboot kernel"
        case .pvh: return "PVH kernel"
        case .elf: return "ELF64 kernel"
        case .flat: return "flat binary"
        }
    }

    public static func detect(_ image: UnsafeRawBufferPointer) -> GuestImageKind {
        func u32(_ offset: Int) -> UInt32? {
            guard offset >= 0, offset + 4 <= image.count else { return nil }
            return image.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        }
        if image.count >= 0x206, image[0x1FE] == 0x55, image[0x1FF] == 0xAA, u32(0x202) == 0x5372_6448 {   // "HdrS"
            return .linux
        }
        var offset = 0
        while offset + 12 <= min(image.count, 8192) {
            if u32(offset) == 0x1BAD_B002, let flags = u32(offset + 4), let checksum = u32(offset + 8),
               0x1BAD_B002 &+ flags &+ checksum == 0 {
                return .multiboot
            }
            offset += 4
        }
        if image.count >= 4, image[0] == 0x7F, image[1] == 0x45, image[2] == 0x4C, image[3] == 0x46 {
            return PVHLoader.hasEntryNote(image) ? .pvh : .elf
        }
        return .flat
    }
}
