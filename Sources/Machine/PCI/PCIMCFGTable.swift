// The ACPI MCFG table (PCI Firmware Specification 3.2 §4.1.2) announcing an ECAM
// window, and the RSDT/XSDT that list it (a VM with pci=on and ACPI tables).

public enum PCIMCFGTable {
    /// Header (36), reserved (8), one configuration space base address allocation (16).
    public static var length: Int { 60 }

    /// The table for segment 0, buses `startBus...endBus`, whose ECAM window starts at
    /// `ecamBase` (the address of bus 0's configuration space, even if `startBus` > 0).
    public static func build(ecamBase: UInt64, startBus: UInt8 = 0, endBus: UInt8 = 0) -> [UInt8] {
        var table = ACPITables.header("MCFG", length: length, revision: 1)
        table.put64(ecamBase, at: 44)
        table.put16(0, at: 52)        // PCI segment group
        table[54] = startBus
        table[55] = endBus
        return ACPITables.sealed(table)
    }
}

extension ACPITables {
    /// Where the MCFG goes: after the MADT (at most 202 bytes for 15 vCPUs), still in the BIOS area.
    public static var mcfgAddress: UInt64 { base + 0x400 }

    /// Writes the MCFG for bus 0's ECAM window at `ecamBase` and an RSDT and XSDT that list it
    /// after the FADT (and the MADT with `apic`), over the ones `write(into:vcpus:apic:)` wrote.
    @discardableResult
    public static func writeMCFG(into memory: GuestMemory, ecamBase: UInt64, apic: Bool) -> Bool {
        let mcfg = PCIMCFGTable.build(ecamBase: ecamBase)
        var tables = [fadtAddress]
        if apic { tables.append(madtAddress) }
        tables.append(mcfgAddress)
        var rsdt = header("RSDT", length: 36 + 4 * tables.count, revision: 1)
        var xsdt = header("XSDT", length: 36 + 8 * tables.count, revision: 1)
        for (index, address) in tables.enumerated() {
            rsdt.put32(UInt32(address), at: 36 + 4 * index)
            xsdt.put64(address, at: 36 + 8 * index)
        }
        rsdt = sealed(rsdt)
        xsdt = sealed(xsdt)
        precondition(rsdt.count <= Int(xsdtAddress - rsdtAddress) && xsdt.count <= Int(facsAddress - xsdtAddress))
        return mcfg.withUnsafeBytes { memory.copyIn($0, gpa: mcfgAddress) }
            && rsdt.withUnsafeBytes { memory.copyIn($0, gpa: rsdtAddress) }
            && xsdt.withUnsafeBytes { memory.copyIn($0, gpa: xsdtAddress) }
    }
}
