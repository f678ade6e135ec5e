import Machine

// The hypervisor's own disk, whichever controller has it: an AHCI port (HostAHCIDisk, DMA)
// when the machine has an AHCI HBA with an ATA disk, else a device on the legacy IDE channels
// (HostATADisk, PIO). One interface (HostBlockDevice), two concrete types, and an enum that
// switches between them: no existential, no indirect call, no reference counting, so the
// VM-exit path (a guest's disk request reaching HostDiskStorage) calls it as it is.

/// What the host-disk users (HostDiskStorage, the attachment, the self-test) need of a driver.
protocol HostBlockDevice {
    /// User-addressable 512-byte sectors (from IDENTIFY DEVICE).
    var sectorCount: UInt64 { get }
    /// The 48-bit address feature set.
    var lba48: Bool { get }
    /// FLUSH CACHE EXT (else FLUSH CACHE).
    var flushExt: Bool { get }
    /// Use the 48-bit commands for every address (the self-test runs both forms).
    var alwaysExtended: Bool { get set }
    /// Why the last command failed.
    var lastFailure: HostDiskFailure? { get }
    /// Commands issued to the drive so far (for the measurements the self-test reports).
    var commandsIssued: UInt64 { get }
    /// Where the disk sits, for messages: "ata1-master", "ahci port 0".
    var location: String { get }
    /// The ATA command a transfer uses, for messages ("WRITE SECTORS EXT", "READ DMA").
    func transferCommand(write: Bool, extended: Bool) -> String

    /// Reads `buffer.count / 512` sectors from `lba`.
    mutating func read(lba: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool
    /// Writes `buffer.count / 512` sectors at `lba` (into the drive's cache until `flush`).
    mutating func write(lba: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool
    /// FLUSH CACHE (EXT): true once the drive reports every cached write on the medium.
    mutating func flush() -> Bool
}

/// Where a host-disk command failed, for the report.
enum HostDiskFailure: Equatable {
    case timeout(phase: UInt8)
    /// Status ERR or DF, with the Error register.
    case device(status: UInt8, error: UInt8)
    /// DRQ missing (or set) where the protocol needs otherwise; for AHCI a byte count short.
    case protocolViolation(status: UInt8)
    /// AHCI: a host bus or interface error (PxIS HBFS, HBDS, IFS) without a device error.
    case hostBus(interruptStatus: UInt32)
    /// AHCI: a buffer the HBA cannot address (above what the PRDs reach).
    case unaddressableBuffer
    case outOfRange
}

/// The host disk: one of the two drivers.
enum HostDisk: HostBlockDevice {
    case ata(HostATADisk)
    case ahci(HostAHCIDisk)

    var sectorCount: UInt64 {
        switch self { case .ata(let d): return d.sectorCount; case .ahci(let d): return d.sectorCount }
    }
    var lba48: Bool {
        switch self { case .ata(let d): return d.lba48; case .ahci(let d): return d.lba48 }
    }
    var flushExt: Bool {
        switch self { case .ata(let d): return d.flushExt; case .ahci(let d): return d.flushExt }
    }
    var lastFailure: HostDiskFailure? {
        switch self { case .ata(let d): return d.lastFailure; case .ahci(let d): return d.lastFailure }
    }
    var commandsIssued: UInt64 {
        switch self { case .ata(let d): return d.commandsIssued; case .ahci(let d): return d.commandsIssued }
    }
    var location: String {
        switch self { case .ata(let d): return d.location; case .ahci(let d): return d.location }
    }
    var alwaysExtended: Bool {
        get { switch self { case .ata(let d): return d.alwaysExtended; case .ahci(let d): return d.alwaysExtended } }
        set {
            switch self {
            case .ata(var d): d.alwaysExtended = newValue; self = .ata(d)
            case .ahci(var d): d.alwaysExtended = newValue; self = .ahci(d)
            }
        }
    }
    func transferCommand(write: Bool, extended: Bool) -> String {
        switch self {
        case .ata(let d): return d.transferCommand(write: write, extended: extended)
        case .ahci(let d): return d.transferCommand(write: write, extended: extended)
        }
    }

    mutating func read(lba: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        switch self {
        case .ata(var d): let ok = d.read(lba: lba, into: buffer); self = .ata(d); return ok
        case .ahci(var d): let ok = d.read(lba: lba, into: buffer); self = .ahci(d); return ok
        }
    }
    mutating func write(lba: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .ata(var d): let ok = d.write(lba: lba, from: buffer); self = .ata(d); return ok
        case .ahci(var d): let ok = d.write(lba: lba, from: buffer); self = .ahci(d); return ok
        }
    }
    mutating func flush() -> Bool {
        switch self {
        case .ata(var d): let ok = d.flush(); self = .ata(d); return ok
        case .ahci(var d): let ok = d.flush(); self = .ahci(d); return ok
        }
    }
}
