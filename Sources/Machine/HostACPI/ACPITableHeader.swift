import X86

// The System Description Table Header every ACPI table starts with (ACPI 6.5 §5.2.6):
// Signature (4), Length (4, the whole table), Revision, Checksum (the whole table sums to 0),
// OEMID (6), OEM Table ID (8), OEM Revision, Creator ID, Creator Revision: 36 bytes.

public struct ACPITableHeader: Equatable, Sendable {
    public static let size = 36
    public static let rsdt: UInt32 = 0x5444_5352     // "RSDT"
    public static let xsdt: UInt32 = 0x5444_5358     // "XSDT"
    public static let madt: UInt32 = 0x4349_5041     // "APIC"

    public var signature: UInt32
    public var length: UInt32
    public var revision: UInt8

    /// The header alone, from the first 36 bytes (Length and checksum not checked).
    public init(_ bytes: [UInt8]) throws(ACPITableError) {
        guard bytes.count >= Self.size else { throw .truncated(signature: 0, length: Self.size, available: bytes.count) }
        signature = bytes.acpiU32(0)
        length = bytes.acpiU32(4)
        revision = bytes[8]
    }

    /// A whole table: its header, with Length covering at least the header and no more than the
    /// bytes there, and the checksum over Length bytes; `expected` is the signature it must have.
    public static func validate(_ table: [UInt8], expected: UInt32? = nil) throws(ACPITableError) -> ACPITableHeader {
        let header = try ACPITableHeader(table)
        if let expected, header.signature != expected { throw .wrongSignature(expected: expected, found: header.signature) }
        guard header.length >= UInt32(Self.size) else { throw .badLength(signature: header.signature, length: header.length) }
        guard Int(header.length) <= table.count else {
            throw .truncated(signature: header.signature, length: Int(header.length), available: table.count)
        }
        guard table.acpiChecksumHolds(count: Int(header.length)) else { throw .badChecksum(signature: header.signature) }
        return header
    }

    /// "APIC", or the bytes in hex where they are not printable ASCII.
    public static func signatureString(_ signature: UInt32) -> String {
        var bytes: [UInt8] = []
        for i in 0..<4 {
            let b = UInt8(truncatingIfNeeded: signature >> (8 * UInt32(i)))
            guard b >= 0x20 && b < 0x7F else { return Format.hex(UInt64(signature), digits: 8) }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
