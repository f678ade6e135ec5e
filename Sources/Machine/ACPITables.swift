// The ACPI tables of a VM (ACPI 6.0 §5.2): RSDP → RSDT/XSDT → FADT → FACS and DSDT, written
// into the guest's BIOS area at 0xE0000 (which the memory maps mark reserved), where a kernel
// finds the RSDP by the legacy scan of 0xE0000-0xFFFFF (§5.2.5.1) or through its boot protocol
// (PVH start_info.rsdp_paddr, bzImage boot_params.acpi_rsdp_addr).
//
// The machine they describe: a PC without SMM (SMI_CMD = 0: ACPI mode from the start, SCI_EN
// reads 1), PM1a event and control blocks on I/O ports (ACPIPowerManagement), the SCI on IRQ 9,
// no PM timer, no GPE blocks, legacy devices and an 8042, the reset register at port 0xCF9, and
// a DSDT whose only object is \_S5 (so the guest's `poweroff` reaches S5). Built byte by byte,
// every checksum computed; unit-tested and checked by `iasl -d` (Tests/MachineTests).
//
// With the APIC interrupt model (`build(vcpus:apic:)`), a MADT (§5.2.12) follows at 0xE0300 and
// the RSDT/XSDT list it: the local APICs at 0xFEE00000 with PCAT_COMPAT (8259s present), one
// enabled Processor Local APIC per vCPU (APIC IDs 0…N-1), the I/O APIC (ID N, 0xFEC00000, GSI
// base 0), the ISA overrides IRQ 0 → GSI 2 and the SCI (IRQ 9, level, active high), and LINT1
// as NMI on every processor. `build()` without arguments is the PIC-only machine (no MADT).

public enum ACPITables {
    public static let base: UInt64 = 0xE_0000
    public static let rsdpAddress: UInt64 = base
    public static let rsdtAddress: UInt64 = base + 0x40
    public static let xsdtAddress: UInt64 = base + 0x80
    public static let facsAddress: UInt64 = base + 0xC0       // 64-byte aligned (§5.2.10)
    public static let fadtAddress: UInt64 = base + 0x100
    public static let dsdtAddress: UInt64 = base + 0x240
    public static let size: UInt64 = 0x300
    /// The MADT, when the APIC model is on (after the fixed tables).
    public static let madtAddress: UInt64 = base + 0x300
    /// The vCPU counts the MADT describes: APIC IDs 0…N-1 and the I/O APIC's ID N fit the
    /// 82093AA's 4-bit ID register.
    public static let maxVCPUs = 15
    public static let localAPICAddress: UInt32 = 0xFEE0_0000
    public static let ioAPICAddress: UInt32 = 0xFEC0_0000

    public static let oemID: [UInt8] = Array("SWIFTV".utf8)
    public static let oemTableID: [UInt8] = Array("SWIFTVSR".utf8)
    public static let creatorID: [UInt8] = Array("SVSR".utf8)
    public static let fadtLength = 276

    /// The SLP_TYP value of \_S5 (written to PM1a_CNT.SLP_TYP to power off).
    public static let s5SleepType: UInt8 = 5
    /// The SCI's ISA IRQ.
    public static let sciIRQ: UInt16 = 9

    /// The tables as one block of `size` bytes to be placed at `base`: the PIC-only machine.
    public static func build() -> [UInt8] {
        build(vcpus: 1, apic: false)
    }

    /// The tables for a VM of `vcpus` vCPUs (clamped to 1…`maxVCPUs`); with `apic`, a MADT
    /// (`blockSize(vcpus:apic:)` bytes in all).
    public static func build(vcpus: Int, apic: Bool) -> [UInt8] {
        let n = clampedVCPUs(vcpus)
        var block = [UInt8](repeating: 0, count: Int(blockSize(vcpus: n, apic: apic)))
        func place(_ table: [UInt8], at address: UInt64) {
            let offset = Int(address - base)
            for (i, byte) in table.enumerated() { block[offset + i] = byte }
        }
        place(rsdp(), at: rsdpAddress)
        place(rsdt(madt: apic), at: rsdtAddress)
        place(xsdt(madt: apic), at: xsdtAddress)
        place(facs(), at: facsAddress)
        place(fadt(), at: fadtAddress)
        place(dsdt(), at: dsdtAddress)
        if apic { place(madt(vcpus: n), at: madtAddress) }
        return block
    }

    /// Bytes from `base` the tables take.
    public static func blockSize(vcpus: Int, apic: Bool) -> UInt64 {
        apic ? madtAddress - base + UInt64(madtLength(vcpus: clampedVCPUs(vcpus))) : size
    }

    /// The I/O APIC's ID in the MADT (and for `IOAPIC(id:)`): the first ID after the vCPUs'.
    public static func ioAPICID(vcpus: Int) -> UInt8 {
        UInt8(clampedVCPUs(vcpus))
    }

    static func clampedVCPUs(_ vcpus: Int) -> Int { min(max(vcpus, 1), maxVCPUs) }

    /// Writes the tables into guest RAM; false when RAM does not reach the BIOS area.
    @discardableResult
    public static func write(into memory: GuestMemory) -> Bool {
        write(into: memory, vcpus: 1, apic: false)
    }

    @discardableResult
    public static func write(into memory: GuestMemory, vcpus: Int, apic: Bool) -> Bool {
        let block = build(vcpus: vcpus, apic: apic)
        return block.withUnsafeBytes { memory.copyIn($0, gpa: base) }
    }

    // MARK: - Tables

    /// RSDP, revision 2 (§5.2.5.3): checksum over the first 20 bytes, extended over all 36.
    static func rsdp() -> [UInt8] {
        var t = [UInt8](repeating: 0, count: 36)
        t.put(Array("RSD PTR ".utf8), at: 0)
        t.put(oemID, at: 9)
        t[15] = 2
        t.put32(UInt32(rsdtAddress), at: 16)
        t.put32(36, at: 20)
        t.put64(xsdtAddress, at: 24)
        t[8] = checksum(t[0..<20])
        t[32] = checksum(t[0..<36])
        return t
    }

    static func rsdt(madt: Bool) -> [UInt8] {
        var t = header("RSDT", length: 36 + (madt ? 8 : 4), revision: 1)
        t.put32(UInt32(fadtAddress), at: 36)
        if madt { t.put32(UInt32(madtAddress), at: 40) }
        return sealed(t)
    }

    static func xsdt(madt: Bool) -> [UInt8] {
        var t = header("XSDT", length: 36 + (madt ? 16 : 8), revision: 1)
        t.put64(fadtAddress, at: 36)
        if madt { t.put64(madtAddress, at: 44) }
        return sealed(t)
    }

    /// FACS (§5.2.10): no checksum; version 2; no waking vector, no global lock owner.
    static func facs() -> [UInt8] {
        var t = [UInt8](repeating: 0, count: 64)
        t.put(Array("FACS".utf8), at: 0)
        t.put32(64, at: 4)
        t[32] = 2
        return t
    }

    /// FADT revision 6 (§5.2.9, Table 5-33): offsets as the table gives them.
    static func fadt() -> [UInt8] {
        var t = header("FACP", length: fadtLength, revision: 6)
        t.put32(UInt32(facsAddress), at: 36)          // FIRMWARE_CTRL
        t.put32(UInt32(dsdtAddress), at: 40)          // DSDT
        t[45] = 0                                     // Preferred_PM_Profile: unspecified
        t.put16(sciIRQ, at: 46)                       // SCI_INT
        t.put32(0, at: 48)                            // SMI_CMD: no SMM, ACPI mode always on
        t.put32(UInt32(ACPIPowerManagement.pm1aEventBlock), at: 56)
        t.put32(UInt32(ACPIPowerManagement.pm1aControlBlock), at: 64)
        t[88] = UInt8(ACPIPowerManagement.pm1EventLength)    // PM1_EVT_LEN
        t[89] = UInt8(ACPIPowerManagement.pm1ControlLength)  // PM1_CNT_LEN
        t.put16(101, at: 96)                          // P_LVL2_LAT > 100: no C2
        t.put16(1001, at: 98)                         // P_LVL3_LAT > 1000: no C3
        t.put16(0x3, at: 109)                         // IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042
        // Flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON (no fixed-feature buttons), RESET_REG_SUP.
        t.put32(1 << 0 | 1 << 2 | 1 << 4 | 1 << 5 | 1 << 10, at: 112)
        t.put(gas(port: ACPIPowerManagement.resetRegister, bits: 8, accessSize: 1), at: 116)   // RESET_REG
        t[128] = ACPIPowerManagement.resetValue       // RESET_VALUE
        t[131] = 0                                    // FADT minor version
        t.put64(facsAddress, at: 132)                 // X_FIRMWARE_CTRL
        t.put64(dsdtAddress, at: 140)                 // X_DSDT
        t.put(gas(port: ACPIPowerManagement.pm1aEventBlock, bits: 32, accessSize: 0), at: 148)
        t.put(gas(port: ACPIPowerManagement.pm1aControlBlock, bits: 16, accessSize: 0), at: 172)
        t.put(Array("Swiftvsr".utf8), at: 268)        // Hypervisor Vendor Identity
        return sealed(t)
    }

    /// DSDT (§5.2.11.1) with AML for `Name (_S5, Package (0x04) { 5, 5, 0, 0 })`.
    static func dsdt() -> [UInt8] {
        let aml = AML.name("_S5_", AML.package([.byte(s5SleepType), .byte(s5SleepType), .zero, .zero]))
        var t = header("DSDT", length: 36 + aml.count, revision: 2)
        t.put(aml, at: 36)
        return sealed(t)
    }

    /// MADT length: header, local APIC address and flags, then 8 bytes per Processor Local
    /// APIC, 12 for the I/O APIC, 10 per Interrupt Source Override (2), 6 for the Local APIC NMI.
    static func madtLength(vcpus: Int) -> Int { 44 + 8 * vcpus + 12 + 2 * 10 + 6 }

    /// MADT revision 4 (ACPI 6.0 §5.2.12, Table 5-45; structures in Tables 5-46 … 5-55).
    static func madt(vcpus: Int) -> [UInt8] {
        var t = header("APIC", length: madtLength(vcpus: vcpus), revision: 4)
        t.put32(localAPICAddress, at: 36)             // Local Interrupt Controller Address
        t.put32(1, at: 40)                            // Flags: PCAT_COMPAT (dual 8259s installed)
        var o = 44
        for cpu in 0..<vcpus {                        // Processor Local APIC (type 0)
            t[o] = 0; t[o + 1] = 8
            t[o + 2] = UInt8(cpu)                     // ACPI Processor UID
            t[o + 3] = UInt8(cpu)                     // APIC ID
            t.put32(1, at: o + 4)                     // Enabled
            o += 8
        }
        t[o] = 1; t[o + 1] = 12                       // I/O APIC (type 1)
        t[o + 2] = ioAPICID(vcpus: vcpus)
        t.put32(ioAPICAddress, at: o + 4)
        t.put32(0, at: o + 8)                         // Global System Interrupt Base
        o += 12
        // Interrupt Source Overrides (type 2), bus 0 = ISA; flags: polarity 1:0, trigger mode 3:2
        // (01 active high / edge, 11 level; Table 5-50).
        for (irq, gsi, flags) in [(UInt8(0), UInt32(2), UInt16(0x0005)), (UInt8(sciIRQ), UInt32(sciIRQ), UInt16(0x000D))] {
            t[o] = 2; t[o + 1] = 10
            t[o + 2] = 0                              // Bus: ISA
            t[o + 3] = irq                            // Source
            t.put32(gsi, at: o + 4)                   // Global System Interrupt
            t.put16(flags, at: o + 8)
            o += 10
        }
        t[o] = 4; t[o + 1] = 6                        // Local APIC NMI (type 4)
        t[o + 2] = 0xFF                               // all processors
        t.put16(0x0005, at: o + 3)                    // edge, active high
        t[o + 5] = 1                                  // LINT1
        return sealed(t)
    }

    // MARK: - Helpers

    /// The 36-byte System Description Table Header (§5.2.6).
    static func header(_ signature: String, length: Int, revision: UInt8) -> [UInt8] {
        var t = [UInt8](repeating: 0, count: length)
        t.put(Array(signature.utf8), at: 0)
        t.put32(UInt32(length), at: 4)
        t[8] = revision
        t.put(oemID, at: 10)
        t.put(oemTableID, at: 16)
        t.put32(1, at: 24)                            // OEM revision
        t.put(creatorID, at: 28)
        t.put32(1, at: 32)                            // creator revision
        return t
    }

    /// A Generic Address Structure in system I/O space (§5.2.3.2).
    static func gas(port: UInt16, bits: UInt8, accessSize: UInt8) -> [UInt8] {
        var g = [UInt8](repeating: 0, count: 12)
        g[0] = 1                                      // system I/O
        g[1] = bits
        g[3] = accessSize
        g.put64(UInt64(port), at: 4)
        return g
    }

    static func sealed(_ table: [UInt8]) -> [UInt8] {
        var t = table
        t[9] = 0
        t[9] = checksum(t[...])
        return t
    }

    /// The byte that makes the bytes sum to zero (mod 256).
    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt8 {
        var sum: UInt8 = 0
        for b in bytes { sum &+= b }
        return 0 &- sum
    }
}

extension Array where Element == UInt8 {
    mutating func put(_ bytes: [UInt8], at offset: Int) {
        for (i, b) in bytes.enumerated() { self[offset + i] = b }
    }
    mutating func put16(_ value: UInt16, at offset: Int) {
        for i in 0..<2 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    mutating func put32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    mutating func put64(_ value: UInt64, at offset: Int) {
        for i in 0..<8 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
