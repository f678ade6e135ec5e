// The ACPI MCFG table (PCI Firmware Specification 3.2 §4.1.2) announcing an ECAM
// window, for the ACPI table set to list in its RSDT/XSDT when the platform has one.

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
