// Following the firmware's ACPI tables from the root pointer to one table (ACPI 6.5 §5.2.7,
// §5.2.8): the XSDT's 8-byte or the RSDT's 4-byte entries are table addresses, each table
// starting with its header. Memory is read through `read(address, count)`, which returns nil
// for what the caller cannot reach (the kernel: beyond its identity map); no table is read
// past the Length its header gives, and no Length past `maxTableLength` is believed.

public enum ACPIFirmwareTables {
    /// The longest table read: an MADT for 4,096 x2APIC processors is 64 KiB.
    public static let maxTableLength = 1 << 16

    /// The table at `address`: read its header, then its Length, then validate the whole.
    public static func table(at address: UInt64, expected: UInt32? = nil,
                             read: (UInt64, Int) -> [UInt8]?) throws(ACPITableError) -> [UInt8] {
        guard let headerBytes = read(address, ACPITableHeader.size) else { throw .unreadable(address: address) }
        let header = try ACPITableHeader(headerBytes)
        if let expected, header.signature != expected { throw .wrongSignature(expected: expected, found: header.signature) }
        guard header.length >= UInt32(ACPITableHeader.size), header.length <= UInt32(maxTableLength) else {
            throw .badLength(signature: header.signature, length: header.length)
        }
        guard let bytes = read(address, Int(header.length)) else { throw .unreadable(address: address) }
        _ = try ACPITableHeader.validate(bytes, expected: header.signature)
        return bytes
    }

    /// The table addresses the RSDT or XSDT lists, in order.
    public static func rootEntries(_ root: [UInt8], isXSDT: Bool) throws(ACPITableError) -> [UInt64] {
        let header = try ACPITableHeader.validate(root, expected: isXSDT ? ACPITableHeader.xsdt : ACPITableHeader.rsdt)
        let width = isXSDT ? 8 : 4
        let body = Int(header.length) - ACPITableHeader.size
        guard body % width == 0 else { throw .badRootTableBody(signature: header.signature, length: header.length) }
        var entries: [UInt64] = []
        var offset = ACPITableHeader.size
        while offset < Int(header.length) {
            entries.append(isXSDT ? root.acpiU64(offset) : UInt64(root.acpiU32(offset)))
            offset += width
        }
        return entries
    }

    /// The first table with `signature` the root table lists. Entries that cannot be read or
    /// whose header does not hold together are passed over (they are some other table's
    /// problem); the table found must itself be whole and sum to zero.
    public static func find(_ signature: UInt32, root pointer: ACPIRootPointer,
                            read: (UInt64, Int) -> [UInt8]?) throws(ACPITableError) -> [UInt8] {
        let (rootAddress, isXSDT) = pointer.rootTable
        let root = try table(at: rootAddress, expected: isXSDT ? ACPITableHeader.xsdt : ACPITableHeader.rsdt, read: read)
        for address in try rootEntries(root, isXSDT: isXSDT) {
            guard let headerBytes = read(address, ACPITableHeader.size),
                  let header = try? ACPITableHeader(headerBytes), header.signature == signature else { continue }
            return try table(at: address, expected: signature, read: read)
        }
        throw signature == ACPITableHeader.madt ? .noMADT : .wrongSignature(expected: signature, found: 0)
    }
}
