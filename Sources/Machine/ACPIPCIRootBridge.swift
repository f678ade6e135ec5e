// The DSDT of a VM with PCI: \_S5 as in every DSDT, plus the PCI root bridge
// \_SB.PCI0 (PNP0A03, ACPI 6.0 §6.1.5 and PCI Firmware 3.0 §4.5) with
//   _CRS  bus 0 only; I/O 0x0000-0x0CF7 and 0x0D00-0xFFFF (the config ports 0xCF8-0xCFF are
//         the bridge's own); memory 0xE0000000-0xEFFFFFFF, where firmware placed the BARs
//         (VirtioPCIPlatform.memoryWindowBase) - Linux keeps BARs inside a window;
//   _PRT  INTA of slot 1 (virtio-blk) on GSI 10, of slot 2 (virtio-net) on GSI 11: static
//         entries (Source 0, §6.2.13), which Linux takes as level-triggered, active low.
// Without a root bridge in the namespace an ACPI kernel does not scan bus 0 at all.
// It replaces the plain DSDT in the same 0xC0 bytes (ACPITables.dsdtAddress to the MADT).

extension ACPITables {
    /// Space for the DSDT: up to the next table.
    public static var dsdtSpace: Int { Int(madtAddress - dsdtAddress) }

    /// The PCI devices' INTA routing in the _PRT: (slot, GSI).
    public static var pciInterruptRoutes: [(slot: UInt32, gsi: UInt8)] {
        [(UInt32(VirtioPCIPlatform<ATABlockStorage>.blockSlot), VirtioPCIPlatform<ATABlockStorage>.blockIRQ),
         (UInt32(VirtioPCIPlatform<ATABlockStorage>.netSlot), VirtioPCIPlatform<ATABlockStorage>.netIRQ)]
    }

    /// DSDT with \_S5 and \_SB.PCI0.
    public static func dsdtWithPCIRootBridge() -> [UInt8] {
        let s5 = AML.name("_S5_", AML.package([.byte(s5SleepType), .byte(s5SleepType), .zero, .zero]))
        var body = AML.name("_HID", AML.DataObject.dword(AML.eisaID("PNP0A03")).encoded)
        body += AML.name("_CRS", AML.buffer(pciRootResources()))
        var routes: [[UInt8]] = []
        for route in pciInterruptRoutes {
            // Package { Address (device in the high word, any function), Pin (INTA = 0), Source, Source Index }
            routes.append(AML.package([.dword(route.slot << 16 | 0xFFFF), .zero, .zero, .byte(route.gsi)]))
        }
        body += AML.name("_PRT", AML.packageOfPackages(routes))
        let device = AML.device(path: [0x5C, 0x2E] + Array("_SB_PCI0".utf8), body)   // \_SB.PCI0 (DualNamePath)
        let aml = s5 + device
        var t = header("DSDT", length: 36 + aml.count, revision: 2)
        t.put(aml, at: 36)
        return sealed(t)
    }

    /// Puts the PCI DSDT where `write(into:...)` put the plain one (the FADT points there).
    @discardableResult
    public static func writePCIRootBridge(into memory: GuestMemory) -> Bool {
        let table = dsdtWithPCIRootBridge()
        precondition(table.count <= dsdtSpace, "the PCI DSDT outgrew its space")
        return table.withUnsafeBytes { memory.copyIn($0, gpa: dsdtAddress) }
    }

    /// The root bridge's resources (§6.4): Word Address Space descriptors for the bus number and
    /// the two I/O ranges, a DWord one for the memory window, the end tag.
    static func pciRootResources() -> [UInt8] {
        var r: [UInt8] = []
        r += wordAddressSpace(type: 2, typeFlags: 0, minimum: 0, maximum: 0)              // bus 0
        r += wordAddressSpace(type: 1, typeFlags: 3, minimum: 0x0000, maximum: 0x0CF7)    // I/O, entire range
        r += wordAddressSpace(type: 1, typeFlags: 3, minimum: 0x0D00, maximum: 0xFFFF)
        let window = VirtioPCIPlatform<ATABlockStorage>.memoryWindowBase
        r += dwordMemory(minimum: UInt32(window), maximum: UInt32(window + 0x1000_0000 - 1))
        r += [0x79, 0x00]                                                                // End Tag, checksum 0
        return r
    }

    /// Word Address Space Descriptor (§6.4.3.5.3): a producer range with fixed minimum and maximum.
    static func wordAddressSpace(type: UInt8, typeFlags: UInt8, minimum: UInt16, maximum: UInt16) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 16)
        d[0] = 0x88
        d.put16(13, at: 1)
        d[3] = type
        d[4] = 0x0C                                   // MaxFixed, MinFixed, positive decode, producer
        d[5] = typeFlags
        d.put16(minimum, at: 8)
        d.put16(maximum, at: 10)
        d.put16(maximum &- minimum &+ 1, at: 14)      // length (bus 0-0: 1)
        return d
    }

    /// DWord Address Space Descriptor (§6.4.3.5.2) for read/write, non-cacheable memory.
    static func dwordMemory(minimum: UInt32, maximum: UInt32) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 26)
        d[0] = 0x87
        d.put16(23, at: 1)
        d[3] = 0                                      // memory
        d[4] = 0x0C
        d[5] = 0x01                                   // read/write, non-cacheable
        d.put32(minimum, at: 10)
        d.put32(maximum, at: 14)
        d.put32(maximum &- minimum &+ 1, at: 22)
        return d
    }
}

extension AML {
    /// DefDevice := DeviceOp PkgLength NameString TermList (§20.2.5.2); DeviceOp is ExtOpPrefix 0x82.
    public static func device(path: [UInt8], _ body: [UInt8]) -> [UInt8] {
        let content = path + body
        return [0x5B, 0x82] + pkgLength(content.count) + content
    }

    /// DefBuffer := BufferOp PkgLength BufferSize ByteList (§20.2.5.4), the size a data object.
    public static func buffer(_ bytes: [UInt8]) -> [UInt8] {
        let size = bytes.count <= 0xFF ? DataObject.byte(UInt8(bytes.count)) : DataObject.word(UInt16(bytes.count))
        let content = size.encoded + bytes
        return [0x11] + pkgLength(content.count) + content
    }

    /// A Package whose elements are already-encoded packages.
    public static func packageOfPackages(_ elements: [[UInt8]]) -> [UInt8] {
        var body: [UInt8] = [UInt8(elements.count)]
        for e in elements { body += e }
        return [0x12] + pkgLength(body.count) + body
    }

    /// EISAID("PNP0A03") (§19.6.35): three letters of 5 bits and four hex digits, stored big-endian.
    public static func eisaID(_ id: StaticString) -> UInt32 {
        precondition(id.utf8CodeUnitCount == 7)
        let c = id.utf8Start
        func hex(_ i: Int) -> UInt32 {
            let v = UInt32(c[i])
            return v >= 0x41 ? v - 0x41 + 10 : v - 0x30
        }
        let letters = (UInt32(c[0]) - 0x40) << 10 | (UInt32(c[1]) - 0x40) << 5 | (UInt32(c[2]) - 0x40)
        let product = hex(3) << 12 | hex(4) << 8 | hex(5) << 4 | hex(6)
        // Bytes in memory: letters high, letters low, product high, product low.
        return (letters >> 8) | (letters & 0xFF) << 8 | (product >> 8) << 16 | (product & 0xFF) << 24
    }
}
