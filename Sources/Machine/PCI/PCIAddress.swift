// Addressing a PCI function's configuration space: configuration mechanism #1
// (the CONFIG_ADDRESS register at 0xCF8, PCI Local Bus 3.0 §3.2.2.3.2) and the
// PCI Express enhanced configuration access mechanism (ECAM, PCI Firmware 3.2 §4.1).

/// Bus, device and function of one PCI function.
public struct PCIFunctionAddress: Equatable {
    public var bus: UInt8
    /// 0...31.
    public var device: UInt8
    /// 0...7.
    public var function: UInt8

    public init(bus: UInt8 = 0, device: UInt8, function: UInt8 = 0) {
        self.bus = bus
        self.device = device & 0x1F
        self.function = function & 0x07
    }
}

/// The 32-bit CONFIG_ADDRESS register of configuration mechanism #1:
/// bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register, 1:0 zero.
public struct PCIConfigAddress: Equatable {
    public static var port: UInt16 { 0xCF8 }
    public static var dataPort: UInt16 { 0xCFC }
    /// The bits the register keeps (bits 30:24 are reserved and read as 0, bits 1:0 read as 0).
    public static var implementedBits: UInt32 { 0x80FF_FFFC }

    public private(set) var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue & Self.implementedBits }

    public var isEnabled: Bool { rawValue & 0x8000_0000 != 0 }
    public var function: PCIFunctionAddress {
        PCIFunctionAddress(bus: UInt8(truncatingIfNeeded: rawValue >> 16),
                           device: UInt8(truncatingIfNeeded: rawValue >> 11),
                           function: UInt8(truncatingIfNeeded: rawValue >> 8))
    }
    /// The dword-aligned register offset, 0...0xFC.
    public var register: UInt16 { UInt16(rawValue & 0xFC) }
}

/// One configuration access decoded from an offset in an ECAM window:
/// offset bits 27:20 bus, 19:15 device, 14:12 function, 11:0 register.
public struct PCIECAMAddress: Equatable {
    public var function: PCIFunctionAddress
    /// 0...0xFFF (0x100 and above is PCI Express extended configuration space).
    public var register: UInt16

    /// Bytes of ECAM space one bus occupies.
    public static var bytesPerBus: UInt64 { 1 << 20 }

    /// The access at `offset` bytes into the ECAM window, or nil past 256 buses.
    public init?(offset: UInt64) {
        guard offset < 256 &* Self.bytesPerBus else { return nil }
        function = PCIFunctionAddress(bus: UInt8(truncatingIfNeeded: offset >> 20),
                                      device: UInt8(truncatingIfNeeded: offset >> 15),
                                      function: UInt8(truncatingIfNeeded: offset >> 12))
        register = UInt16(offset & 0xFFF)
    }
}
