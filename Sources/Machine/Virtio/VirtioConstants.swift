// Numbers from the virtio 1.2 specification (OASIS, virtio-v1.2-cs01) shared by the
// transport, the virtqueues and the device models.

/// Device status bits (§2.1).
public enum VirtioStatus {
    public static var acknowledge: UInt8 { 1 }
    public static var driver: UInt8 { 2 }
    public static var driverOK: UInt8 { 4 }
    public static var featuresOK: UInt8 { 8 }
    public static var deviceNeedsReset: UInt8 { 64 }
    public static var failed: UInt8 { 128 }
}

/// Reserved (device-independent) feature bits (§6).
public enum VirtioFeature {
    public static var ringIndirectDescriptors: UInt64 { 1 << 28 }
    public static var ringEventIndex: UInt64 { 1 << 29 }
    /// VIRTIO_F_VERSION_1: the modern interface; a modern device refuses a driver without it.
    public static var version1: UInt64 { 1 << 32 }
}

/// Virtio device types (§5) and their modern PCI device IDs (0x1040 + type, §4.1.2.1).
public enum VirtioDeviceType: UInt16 {
    case network = 1
    case block = 2

    public var pciDeviceID: UInt16 { 0x1040 &+ rawValue }
    /// The PCI class code the device presents (network controller / mass storage, other).
    public var pciClassCode: UInt32 {
        switch self {
        case .network: return 0x02_00_00
        case .block: return 0x01_80_00
        }
    }
}

/// ISR status bits (§4.1.4.5).
public enum VirtioISR {
    public static var queueInterrupt: UInt8 { 1 }
    public static var configurationChange: UInt8 { 2 }
}

/// Descriptor flags (§2.7.5).
public enum VirtqDescriptorFlags {
    public static var next: UInt16 { 1 }
    public static var write: UInt16 { 2 }
    public static var indirect: UInt16 { 4 }
}
