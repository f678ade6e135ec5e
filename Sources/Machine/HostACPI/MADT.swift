// The Multiple APIC Description Table, signature "APIC" (ACPI 6.5 §5.2.12): which processors the
// machine has, by local APIC ID. After the header: Local Interrupt Controller Address (4), Flags
// (4, bit 0 PCAT_COMPAT), then interrupt controller structures, each Type (1), Length (1), ...
// The host reads three kinds and steps over the rest by their Length:
// - Processor Local APIC (type 0, §5.2.12.2, 8 bytes): ACPI Processor UID, APIC ID, Flags (4);
// - Processor Local x2APIC (type 9, §5.2.12.12, 16 bytes): reserved (2), X2APIC ID (4), Flags (4),
//   ACPI Processor UID (4), for IDs of 255 and above;
// - Local APIC Address Override (type 5, §5.2.12.8, 12 bytes): reserved (2), the 64-bit address.
// Flags bit 0 is Enabled; bit 1, Online Capable, marks a disabled processor that may be hot-added
// later (§5.2.12.2, Table 5.40): neither is started now.

public struct MADTProcessor: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case localAPIC, x2APIC }
    public var kind: Kind
    public var processorUID: UInt32
    public var apicID: UInt32
    public var enabled: Bool
    public var onlineCapable: Bool

    public init(kind: Kind, processorUID: UInt32, apicID: UInt32, enabled: Bool, onlineCapable: Bool = false) {
        self.kind = kind
        self.processorUID = processorUID
        self.apicID = apicID
        self.enabled = enabled
        self.onlineCapable = onlineCapable
    }
}

public struct MADT: Equatable, Sendable {
    public static let processorLocalAPIC: UInt8 = 0
    public static let localAPICAddressOverride: UInt8 = 5
    public static let processorLocalX2APIC: UInt8 = 9
    static let structuresOffset = 44

    /// Where every processor's local APIC registers are (the override's, if there is one).
    public var localAPICAddress: UInt64
    public var flags: UInt32
    /// Every processor structure, in table order, enabled or not.
    public var processors: [MADTProcessor]

    public var pcatCompatible: Bool { flags & 1 != 0 }
    /// The processors to start: the enabled ones, in table order (the boot processor among them).
    public var enabledProcessors: [MADTProcessor] { processors.filter { $0.enabled } }

    public init(_ table: [UInt8]) throws(ACPITableError) {
        let header = try ACPITableHeader.validate(table, expected: ACPITableHeader.madt)
        let length = Int(header.length)
        guard length >= Self.structuresOffset else { throw .badLength(signature: header.signature, length: header.length) }
        localAPICAddress = UInt64(table.acpiU32(36))
        flags = table.acpiU32(40)
        processors = []
        var offset = Self.structuresOffset
        while offset < length {
            guard offset + 2 <= length else { throw .badEntry(offset: offset, type: table[offset], length: 0) }
            let type = table[offset], entryLength = table[offset + 1]
            let needed: Int
            switch type {
            case Self.processorLocalAPIC: needed = 8
            case Self.localAPICAddressOverride: needed = 12
            case Self.processorLocalX2APIC: needed = 16
            default: needed = 2
            }
            guard Int(entryLength) >= needed, offset + Int(entryLength) <= length else {
                throw .badEntry(offset: offset, type: type, length: entryLength)
            }
            switch type {
            case Self.processorLocalAPIC:
                let entryFlags = table.acpiU32(offset + 4)
                try add(MADTProcessor(kind: .localAPIC, processorUID: UInt32(table[offset + 2]),
                                      apicID: UInt32(table[offset + 3]),
                                      enabled: entryFlags & 1 != 0, onlineCapable: entryFlags & 2 != 0))
            case Self.processorLocalX2APIC:
                let entryFlags = table.acpiU32(offset + 8)
                try add(MADTProcessor(kind: .x2APIC, processorUID: table.acpiU32(offset + 12),
                                      apicID: table.acpiU32(offset + 4),
                                      enabled: entryFlags & 1 != 0, onlineCapable: entryFlags & 2 != 0))
            case Self.localAPICAddressOverride:
                localAPICAddress = table.acpiU64(offset + 4)
            default:
                break
            }
            offset += Int(entryLength)
        }
    }

    /// An enabled processor whose APIC ID another enabled one already has would be started twice.
    private mutating func add(_ processor: MADTProcessor) throws(ACPITableError) {
        if processor.enabled && processors.contains(where: { $0.enabled && $0.apicID == processor.apicID }) {
            throw .duplicateAPICID(processor.apicID)
        }
        processors.append(processor)
    }

    /// The MADT of the machine whose root pointer is `pointer`, read through `read`.
    public static func find(root pointer: ACPIRootPointer, read: (UInt64, Int) -> [UInt8]?) throws(ACPITableError) -> MADT {
        try MADT(ACPIFirmwareTables.find(ACPITableHeader.madt, root: pointer, read: read))
    }
}
