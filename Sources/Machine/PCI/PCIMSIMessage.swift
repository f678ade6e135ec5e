// An MSI/MSI-X message as a function writes it, and what it means to the local APICs
// (Intel SDM Vol. 3A §11.11): the address 0xFEExxxxx names the destination (bits 19:12,
// destination ID; bit 3, redirection hint; bit 2, destination mode), the data the vector
// (7:0), the delivery mode (10:8) and the trigger mode (15). Whatever else a guest wrote
// into a table entry is refused with a reason, never delivered.

/// One message: the Message Address (64 bits) and Message Data of a table entry.
public struct PCIMSIMessage: Equatable {
    public var address: UInt64
    public var data: UInt32
    public init(address: UInt64, data: UInt32) { self.address = address; self.data = data }
}

/// Why a message reaches no local APIC.
public enum PCIMSIRefusal: Error, Equatable {
    /// Not in 0xFEE00000-0xFEEFFFFF (the upper dword too: no interrupt remapping here).
    case addressOutsideAPICRange
    /// SMI, INIT, start-up, ExtINT or a reserved mode (§11.11.2): only fixed, lowest priority and NMI.
    case unsupportedDeliveryMode
    /// Vectors 0-15 are reserved (§11.5.2: an illegal vector).
    case illegalVector
}

/// A message as the local APICs take it.
public struct PCIMSIDelivery: Equatable {
    public var destination: UInt8
    public var logicalDestination: Bool
    public var deliveryMode: APICDeliveryMode
    public var vector: UInt8

    public static var addressBase: UInt64 { 0xFEE0_0000 }

    public init(destination: UInt8, logicalDestination: Bool, deliveryMode: APICDeliveryMode, vector: UInt8) {
        self.destination = destination
        self.logicalDestination = logicalDestination
        self.deliveryMode = deliveryMode
        self.vector = vector
    }

    /// The delivery `message` asks for; throws why it is refused. The destination mode bit is
    /// taken as written whatever the redirection hint (Linux's flat logical mode sends RH = 0,
    /// DM = 1, as real chipsets and KVM accept; the hint only allows lowest-priority
    /// redirection, which the delivery mode already says). The trigger mode is not taken: a
    /// function's message is an edge.
    public init(_ message: PCIMSIMessage) throws(PCIMSIRefusal) {
        guard message.address & ~0xF_FFFF == Self.addressBase else { throw .addressOutsideAPICRange }
        let mode = APICDeliveryMode(rawValue: UInt8(truncatingIfNeeded: message.data >> 8) & 7) ?? .reserved3
        let vector = UInt8(truncatingIfNeeded: message.data)
        switch mode {
        case .fixed, .lowestPriority:
            guard vector >= 16 else { throw .illegalVector }
        case .nmi: break
        default: throw .unsupportedDeliveryMode
        }
        destination = UInt8(truncatingIfNeeded: message.address >> 12)
        logicalDestination = message.address & (1 << 2) != 0
        deliveryMode = mode
        self.vector = vector
    }
}
