// Finding the AHCI controller and its disk: which PCI function is an AHCI HBA (class code
// 01h/06h/01h), where its registers are (BAR5, ABAR), and which implemented port holds an
// ATA disk. Pure decisions on values the kernel read from config space and the HBA.

import X86

/// A PCI function's class code (PCI 3.0 6.2.1: config offset 0x08, bits 31:8).
public struct PCIClassCode: Equatable, Sendable {
    public let baseClass: UInt8
    public let subclass: UInt8
    public let programmingInterface: UInt8

    /// From the dword at config offset 0x08 (revision ID in bits 7:0).
    public init(classRevisionDword value: UInt32) {
        baseClass = UInt8(truncatingIfNeeded: value >> 24)
        subclass = UInt8(truncatingIfNeeded: value >> 16)
        programmingInterface = UInt8(truncatingIfNeeded: value >> 8)
    }

    /// Mass storage (01h), SATA (06h), AHCI 1.0 (01h) (AHCI 2.1.2).
    public var isAHCI: Bool { baseClass == 0x01 && subclass == 0x06 && programmingInterface == 0x01 }
}

/// ABAR: BAR5 of an AHCI HBA (AHCI 2.1.11), a memory BAR.
public enum AHCIBaseAddress {
    /// The config-space offset of BAR5.
    public static var configOffset: UInt8 { 0x24 }

    /// The physical base of the HBA's registers from BAR5 (and, for a 64-bit BAR, the dword after
    /// it, `upper`); nil for an I/O BAR, a reserved type, or an unassigned (zero) base.
    public static func decode(bar5: UInt32, upper: UInt32?) -> UInt64? {
        guard bar5 & 1 == 0 else { return nil }                  // bit 0: 1 is an I/O BAR
        let type = bar5 >> 1 & 3                                 // 00b: 32-bit, 10b: 64-bit
        var base = UInt64(bar5 & 0xFFFF_FFF0)
        switch type {
        case 0: break
        case 2:
            guard let upper else { return nil }
            base |= UInt64(upper) << 32
        default: return nil
        }
        return base == 0 ? nil : base
    }
}

/// What a port has attached, from PxSSTS and PxSIG (AHCI 3.3.9, 3.3.10).
public enum AHCIPortDevice: Equatable, Sendable {
    /// DET is not 3: no device, or no phy communication.
    case none(detection: UInt8)
    case ataDisk
    case atapi
    /// A port multiplier, enclosure bridge or unknown signature: not used.
    case other(signature: UInt32)

    public init(status: AHCISATAStatus, signature: UInt32) {
        guard status.devicePresent else { self = .none(detection: status.detection); return }
        switch signature {
        case AHCISignature.ata: self = .ataDisk
        case AHCISignature.atapi: self = .atapi
        default: self = .other(signature: signature)
        }
    }

    /// For the boot log.
    public var description: String {
        switch self {
        case .none(let det): return det == 0 ? "no device" : "no link (DET \(det))"
        case .ataDisk: return "ATA disk"
        case .atapi: return "ATAPI device"
        case .other(let signature): return "signature \(Format.hex(UInt64(signature), digits: 8)) (not an ATA disk)"
        }
    }
}

/// The ports to look at: those PI marks implemented, lowest first, never more than CAP.NP
/// says the HBA has (a PI with more bits set than ports is trusted only up to NP ports).
public struct AHCIImplementedPorts: Sequence, Sendable {
    public let portsImplemented: UInt32
    public let numberOfPorts: Int

    public init(portsImplemented: UInt32, capabilities: AHCICapabilities) {
        self.portsImplemented = portsImplemented
        self.numberOfPorts = capabilities.numberOfPorts
    }

    public struct Iterator: IteratorProtocol {
        var remaining: UInt32
        var budget: Int
        public mutating func next() -> Int? {
            guard remaining != 0, budget > 0 else { return nil }
            let port = remaining.trailingZeroBitCount
            remaining &= remaining &- 1
            budget -= 1
            return port
        }
    }

    public func makeIterator() -> Iterator { Iterator(remaining: portsImplemented, budget: numberOfPorts) }
}
