// The Root System Description Pointer (ACPI 6.5 §5.2.5.3): the firmware's way to its tables.
// A Multiboot2 loader hands over a copy of it (tags 14 and 15); a BIOS leaves it on a 16-byte
// boundary in the first KiB of the EBDA or in 0xE0000-0xFFFFF (§5.2.5.1).
//
// Layout: "RSD PTR " (8), Checksum over the first 20 bytes, OEMID (6), Revision, RsdtAddress (4);
// from revision 2 on: Length (4), XsdtAddress (8), Extended Checksum over Length bytes, 3 reserved.

public struct ACPIRootPointer: Equatable, Sendable {
    /// "RSD PTR " read as a little-endian UInt64.
    public static let signature: UInt64 = 0x2052_5450_2044_5352
    public static let version1Size = 20
    public static let version2Size = 36

    public var revision: UInt8
    public var rsdtAddress: UInt32
    /// The XSDT's address: revision 2 or later and not 0.
    public var xsdtAddress: UInt64?

    /// Validates and reads a root pointer at the start of `bytes`.
    public init(_ bytes: [UInt8]) throws(ACPITableError) {
        guard bytes.count >= Self.version1Size, bytes.acpiU64(0) == Self.signature else { throw .noRootPointer }
        guard bytes.acpiChecksumHolds(count: Self.version1Size) else { throw .badChecksum(signature: 0) }
        revision = bytes[15]
        rsdtAddress = bytes.acpiU32(16)
        xsdtAddress = nil
        // A copy of only the first 20 bytes (Multiboot2's tag 14 copies the ACPI 1.0 part of a
        // newer RSDP, Revision included) leads to the RSDT alone.
        if revision >= 2 && bytes.count >= Self.version2Size {
            let length = Int(bytes.acpiU32(20))
            guard length >= Self.version2Size, length <= bytes.count else { throw .badRootPointer }
            guard bytes.acpiChecksumHolds(count: length) else { throw .badChecksum(signature: 0) }
            let xsdt = bytes.acpiU64(24)
            if xsdt != 0 { xsdtAddress = xsdt }
        }
    }

    /// The table to start from: the XSDT where there is one (§5.2.5.3), else the RSDT.
    public var rootTable: (address: UInt64, isXSDT: Bool) {
        if let xsdtAddress { return (xsdtAddress, true) }
        return (UInt64(rsdtAddress), false)
    }

    /// The first valid root pointer on a 16-byte boundary of `area`, which starts at physical
    /// address `base`: its address and contents. Candidates whose checksum fails are skipped.
    public static func scan(_ area: [UInt8], base: UInt64) -> (address: UInt64, pointer: ACPIRootPointer)? {
        var offset = 0
        while offset + version1Size <= area.count {
            if area.acpiU64(offset) == signature {
                let candidate = Array(area[offset..<min(area.count, offset + version2Size)])
                if let pointer = try? ACPIRootPointer(candidate) { return (base + UInt64(offset), pointer) }
            }
            offset += 16
        }
        return nil
    }
}
