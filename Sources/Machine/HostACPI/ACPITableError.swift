import X86

// What can be wrong with the firmware's ACPI tables as the host reads them. The tables come from
// whoever wrote the firmware (or a hostile boot loader): every length and offset is checked
// before it is used, and a table that does not hold together is refused with one of these.

public enum ACPITableError: Error, Equatable, Sendable {
    /// No "RSD PTR " structure with a valid checksum where the loader or the BIOS area says.
    case noRootPointer
    /// The root pointer's ACPI 2.0 Length is under 36 or beyond the bytes there.
    case badRootPointer
    /// A table's bytes (or the root pointer's, signature 0) do not sum to zero.
    case badChecksum(signature: UInt32)
    /// A table's Length is shorter than its header or longer than `ACPIFirmwareTables.maxTableLength`.
    case badLength(signature: UInt32, length: UInt32)
    /// Fewer bytes were there than a header or a table's Length needs.
    case truncated(signature: UInt32, length: Int, available: Int)
    case wrongSignature(expected: UInt32, found: UInt32)
    /// The RSDT or XSDT's entries do not fill its body in whole 4- or 8-byte entries.
    case badRootTableBody(signature: UInt32, length: UInt32)
    /// The table at this physical address cannot be read (beyond what the reader can reach).
    case unreadable(address: UInt64)
    /// No table in the RSDT/XSDT has the signature "APIC".
    case noMADT
    /// An interrupt controller structure whose Length is under 2, under what its type needs, or
    /// reaches past the table (offset from the table's start).
    case badEntry(offset: Int, type: UInt8, length: UInt8)
    /// Two enabled processors with the same APIC ID.
    case duplicateAPICID(UInt32)
}

extension ACPITableError: CustomStringConvertible {
    public var description: String {
        func name(_ s: UInt32) -> String { s == 0 ? "RSDP" : ACPITableHeader.signatureString(s) }
        switch self {
        case .noRootPointer: return "no ACPI root pointer (RSDP) found"
        case .badRootPointer: return "RSDP: its Length is out of range"
        case .badChecksum(let s): return "\(name(s)): bad checksum"
        case .badLength(let s, let length): return "\(name(s)): length \(length) out of range"
        case .truncated(let s, let length, let available): return "\(name(s)): \(length) bytes needed, \(available) there"
        case .wrongSignature(let expected, let found): return "expected \(name(expected)), found \(name(found))"
        case .badRootTableBody(let s, let length): return "\(name(s)): length \(length) is not a whole number of entries"
        case .unreadable(let address): return "table at \(Format.hex(address)) out of reach"
        case .noMADT: return "no MADT (\"APIC\") in the root table"
        case .badEntry(let offset, let type, let length):
            return "MADT: structure at offset \(offset) (type \(type), length \(length)) malformed"
        case .duplicateAPICID(let id): return "MADT: APIC ID \(id) listed twice"
        }
    }
}

/// Little-endian fields of firmware tables; the caller has checked that the bytes are there.
extension Array where Element == UInt8 {
    func acpiU16(_ offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
    func acpiU32(_ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(self[offset + i]) << (8 * UInt32(i)) }
        return value
    }
    func acpiU64(_ offset: Int) -> UInt64 { UInt64(acpiU32(offset)) | UInt64(acpiU32(offset + 4)) << 32 }
    /// Whether bytes [0, count) sum to zero mod 256 (ACPI 6.5 §5.2.5.3, §5.2.6).
    func acpiChecksumHolds(count: Int) -> Bool {
        var sum: UInt8 = 0
        for i in 0..<count { sum &+= self[i] }
        return sum == 0
    }
}
