// What the boot loader tells us, from either Multiboot specification:
// Multiboot2 (GRUB's `multiboot2`, the ISO) or Multiboot1 (QEMU's `-kernel`).

struct MemoryRegion {
    enum Kind: UInt32 { case available = 1, reserved = 2, acpiReclaimable = 3, acpiNVS = 4, defective = 5 }
    var base: UInt64
    var length: UInt64
    var type: UInt32
    var end: UInt64 { base &+ length }
    var isAvailable: Bool { type == Kind.available.rawValue }
    var typeName: String {
        switch Kind(rawValue: type) {
        case .available: return "available"
        case .reserved: return "reserved"
        case .acpiReclaimable: return "ACPI reclaimable"
        case .acpiNVS: return "ACPI NVS"
        case .defective: return "defective"
        case nil: return "type \(type)"
        }
    }
}

struct BootModule {
    var start: UInt64
    var end: UInt64
    var commandLine: String
    var size: UInt64 { end - start }
}

struct BootInfo {
    static let multiboot2Magic: UInt32 = 0x36D7_6289   // EAX after a Multiboot2 loader
    static let multiboot1Magic: UInt32 = 0x2BAD_B002   // EAX after a Multiboot1 loader

    var loader = ""
    var commandLine = ""
    var memoryMap: [MemoryRegion] = []
    var modules: [BootModule] = []
    /// The loader's copy of the ACPI root pointer (Multiboot2 tag 15, the ACPI 2.0 RSDP, else
    /// tag 14, the ACPI 1.0 one); empty when it gave none (Multiboot1).
    var acpiRootPointer: [UInt8] = []
    /// Physical ranges the loader's data occupies: never to be handed out as free frames.
    var occupied: [(start: UInt64, end: UInt64)] = []

    enum ParseError: Error { case unknownMagic(UInt32) }

    init(magic: UInt32, info: UInt64) throws(ParseError) {
        switch magic {
        case Self.multiboot2Magic: parseMultiboot2(info)
        case Self.multiboot1Magic: parseMultiboot1(info)
        default: throw .unknownMagic(magic)
        }
    }

    /// Multiboot2 §3.6: a size-prefixed list of 8-byte-aligned tags.
    private mutating func parseMultiboot2(_ info: UInt64) {
        loader = "Multiboot2"
        let totalSize = UInt64(loadPhysical(info, as: UInt32.self))
        occupied.append((info, info + totalSize))
        var tag = info + 8
        while tag + 8 <= info + totalSize {
            let type = loadPhysical(tag, as: UInt32.self)
            let size = UInt64(loadPhysical(tag + 4, as: UInt32.self))
            if type == 0 || size < 8 { break }
            switch type {
            case 1:     // boot command line
                commandLine = stringAtPhysical(tag + 8, limit: Int(size - 8))
            case 3:     // module
                let start = UInt64(loadPhysical(tag + 8, as: UInt32.self))
                let end = UInt64(loadPhysical(tag + 12, as: UInt32.self))
                modules.append(BootModule(start: start, end: end,
                                          commandLine: stringAtPhysical(tag + 16, limit: Int(size - 16))))
            case 6:     // memory map
                let entrySize = UInt64(loadPhysical(tag + 8, as: UInt32.self))
                var entry = tag + 16
                while entrySize >= 24 && entry + entrySize <= tag + size {
                    memoryMap.append(MemoryRegion(base: loadPhysical(entry, as: UInt64.self),
                                                  length: loadPhysical(entry + 8, as: UInt64.self),
                                                  type: loadPhysical(entry + 16, as: UInt32.self)))
                    entry += entrySize
                }
            case 14 where acpiRootPointer.isEmpty, 15:     // ACPI old / new RSDP: a copy follows the tag header
                acpiRootPointer = Array(UnsafeRawBufferPointer(start: physicalPointer(tag + 8), count: Int(min(size - 8, 64))))
            default:
                break
            }
            tag = (tag + size + 7) & ~7
        }
    }

    /// Multiboot 0.6.96 §3.3: a fixed structure whose flags say which fields are valid.
    private mutating func parseMultiboot1(_ info: UInt64) {
        loader = "Multiboot1"
        occupied.append((info, info + 120))
        let flags = loadPhysical(info, as: UInt32.self)
        if flags & (1 << 2) != 0 {
            let address = UInt64(loadPhysical(info + 16, as: UInt32.self))
            commandLine = stringAtPhysical(address)
            occupied.append((address, address + UInt64(commandLine.utf8.count) + 1))
        }
        if flags & (1 << 3) != 0 {
            let count = UInt64(loadPhysical(info + 20, as: UInt32.self))
            let table = UInt64(loadPhysical(info + 24, as: UInt32.self))
            occupied.append((table, table + 16 * count))
            for i in 0..<count {
                let entry = table + 16 * i
                let stringAddress = UInt64(loadPhysical(entry + 8, as: UInt32.self))
                let line = stringAtPhysical(stringAddress)
                occupied.append((stringAddress, stringAddress + UInt64(line.utf8.count) + 1))
                modules.append(BootModule(start: UInt64(loadPhysical(entry, as: UInt32.self)),
                                          end: UInt64(loadPhysical(entry + 4, as: UInt32.self)),
                                          commandLine: line))
            }
        }
        if flags & (1 << 6) != 0 {
            let length = UInt64(loadPhysical(info + 44, as: UInt32.self))
            let address = UInt64(loadPhysical(info + 48, as: UInt32.self))
            occupied.append((address, address + length))
            var entry = address
            while entry + 24 <= address + length {
                let size = UInt64(loadPhysical(entry, as: UInt32.self))   // not counting itself
                memoryMap.append(MemoryRegion(base: loadPhysical(entry + 4, as: UInt64.self),
                                              length: loadPhysical(entry + 12, as: UInt64.self),
                                              type: loadPhysical(entry + 20, as: UInt32.self)))
                entry += size + 4
            }
        }
    }
}
