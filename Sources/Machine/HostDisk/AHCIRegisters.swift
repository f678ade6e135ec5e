// The AHCI host bus adapter's registers (Serial ATA AHCI 1.3.1), as the hypervisor's own
// disk driver reads them: where they sit in the ABAR (BAR5) memory space and what their
// bits mean. Pure layouts; the kernel does the uncached MMIO (HostAHCIDisk).

/// Offsets of the generic host control registers from ABAR (AHCI 3.1).
public enum AHCIHostRegister {
    /// CAP, HBA capabilities (3.1.1).
    public static let capabilities: UInt64 = 0x00
    /// GHC, global HBA control (3.1.2).
    public static let globalHostControl: UInt64 = 0x04
    /// IS, interrupt status, one bit per port (3.1.3).
    public static let interruptStatus: UInt64 = 0x08
    /// PI, ports implemented (3.1.4).
    public static let portsImplemented: UInt64 = 0x0C
    /// VS, AHCI version (3.1.5): major in bits 31:16, minor in 15:0.
    public static let version: UInt64 = 0x10
    /// CAP2, extended capabilities (3.1.10).
    public static let capabilities2: UInt64 = 0x24
    /// BOHC, BIOS/OS handoff control and status (3.1.11).
    public static let biosHandoff: UInt64 = 0x28
    /// Port registers start here, 0x80 bytes per port (3.3).
    public static let firstPort: UInt64 = 0x100
    public static let portStride: UInt64 = 0x80

    /// ABAR offset of port `port`'s register `register`.
    public static func port(_ port: Int, _ register: UInt64) -> UInt64 {
        firstPort &+ UInt64(port) &* portStride &+ register
    }

    /// The ABAR bytes that reach port 31's last register: what a mapping must cover at most.
    public static var fullSize: UInt64 { firstPort + 32 * portStride }
}

/// Offsets of a port's registers from its base (AHCI 3.3).
public enum AHCIPortRegister {
    /// PxCLB/PxCLBU, command list base, 1 KiB aligned (3.3.1, 3.3.2).
    public static let commandListBase: UInt64 = 0x00
    public static let commandListBaseUpper: UInt64 = 0x04
    /// PxFB/PxFBU, received-FIS base, 256 B aligned (3.3.3, 3.3.4).
    public static let fisBase: UInt64 = 0x08
    public static let fisBaseUpper: UInt64 = 0x0C
    /// PxIS, interrupt status, write 1 to clear (3.3.5).
    public static let interruptStatus: UInt64 = 0x10
    /// PxIE, interrupt enable (3.3.6).
    public static let interruptEnable: UInt64 = 0x14
    /// PxCMD, command and status (3.3.7).
    public static let command: UInt64 = 0x18
    /// PxTFD, task file data: the device's Status (7:0) and Error (15:8) (3.3.8).
    public static let taskFileData: UInt64 = 0x20
    /// PxSIG, the signature of the attached device (3.3.9).
    public static let signature: UInt64 = 0x24
    /// PxSSTS, SATA status (SStatus) (3.3.10).
    public static let sataStatus: UInt64 = 0x28
    /// PxSCTL, SATA control (SControl) (3.3.11).
    public static let sataControl: UInt64 = 0x2C
    /// PxSERR, SATA error (SError), write 1 to clear (3.3.12).
    public static let sataError: UInt64 = 0x30
    /// PxSACT, native command queuing tags outstanding (3.3.13).
    public static let sataActive: UInt64 = 0x34
    /// PxCI, commands issued, one bit per command slot (3.3.14).
    public static let commandIssue: UInt64 = 0x38
}

/// CAP (AHCI 3.1.1).
public struct AHCICapabilities: Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// NP + 1: ports the HBA supports (bits 4:0, zero-based).
    public var numberOfPorts: Int { Int(rawValue & 0x1F) + 1 }
    /// NCS + 1: command slots per port (bits 12:8, zero-based); slot 0 always exists.
    public var commandSlots: Int { Int(rawValue >> 8 & 0x1F) + 1 }
    /// SSS: staggered spin-up, software sets PxCMD.SUD to spin a device up (bit 27).
    public var staggeredSpinUp: Bool { rawValue & 1 << 27 != 0 }
    /// SAM: AHCI mode only, GHC.AE reads 1 always (bit 18).
    public var ahciOnly: Bool { rawValue & 1 << 18 != 0 }
    /// S64A: 64-bit addresses in command lists, FIS areas and PRDs (bit 31).
    public var addresses64: Bool { rawValue & 1 << 31 != 0 }
}

/// GHC bits (AHCI 3.1.2).
public enum AHCIGlobalHostControl {
    /// HR: HBA reset; reads 1 until the reset is done (bit 0).
    public static let hbaReset: UInt32 = 1 << 0
    /// IE: interrupts from the HBA (bit 1).
    public static let interruptEnable: UInt32 = 1 << 1
    /// AE: AHCI enable, software talks AHCI, not legacy taskfile (bit 31).
    public static let ahciEnable: UInt32 = 1 << 31
}

/// CAP2 and BOHC bits (AHCI 3.1.10, 3.1.11, 10.6).
public enum AHCIHandoff {
    /// CAP2.BOH: the HBA supports BIOS/OS handoff.
    public static let supported: UInt32 = 1 << 0
    /// BOHC.BOS: the BIOS owns the HBA.
    public static let biosOwned: UInt32 = 1 << 0
    /// BOHC.OOS: the OS asks for (and then owns) the HBA.
    public static let osOwned: UInt32 = 1 << 1
    /// BOHC.BB: the BIOS is busy finishing outstanding commands.
    public static let biosBusy: UInt32 = 1 << 4
}

/// PxCMD bits (AHCI 3.3.7).
public enum AHCIPortCommand {
    /// ST: the HBA processes the command list (bit 0).
    public static let start: UInt32 = 1 << 0
    /// SUD: spin-up device (bit 1), with CAP.SSS.
    public static let spinUpDevice: UInt32 = 1 << 1
    /// POD: power on device (bit 2), with CAP.CPD.
    public static let powerOnDevice: UInt32 = 1 << 2
    /// FRE: FIS receive enable (bit 4).
    public static let fisReceiveEnable: UInt32 = 1 << 4
    /// FR: FIS receive running (bit 14, read-only).
    public static let fisReceiveRunning: UInt32 = 1 << 14
    /// CR: command list running (bit 15, read-only).
    public static let commandListRunning: UInt32 = 1 << 15
}

/// PxIS bits (AHCI 3.3.5): the errors a polled command can end with.
public enum AHCIPortInterrupt {
    /// DHRS: a D2H register FIS arrived (bit 0).
    public static let deviceToHostRegister: UInt32 = 1 << 0
    /// IFS: interface fatal error (bit 27).
    public static let interfaceFatal: UInt32 = 1 << 27
    /// HBDS: host bus data error (bit 28).
    public static let hostBusData: UInt32 = 1 << 28
    /// HBFS: host bus fatal error (bit 29): a bad PRD or command list address.
    public static let hostBusFatal: UInt32 = 1 << 29
    /// TFES: task file error status, the device set ERR (bit 30).
    public static let taskFileError: UInt32 = 1 << 30
    /// Any of the errors that stop the port's command processing (10.7.1: fatal errors).
    public static let fatalErrors: UInt32 = interfaceFatal | hostBusData | hostBusFatal | taskFileError
}

/// PxTFD (AHCI 3.3.8): the shadow Status and Error registers.
public struct AHCITaskFileData: Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public var status: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    public var error: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    /// BSY or DRQ: the device cannot take a command (10.3.1).
    public var busy: Bool { status & 0x88 != 0 }
    /// ERR (bit 0) or DF (bit 5).
    public var failed: Bool { status & 0x21 != 0 }
}

/// PxSSTS (AHCI 3.3.10, SATA SStatus).
public struct AHCISATAStatus: Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// DET (bits 3:0): 0 nothing, 1 device without phy communication, 3 device and phy up, 4 offline.
    public var detection: UInt8 { UInt8(rawValue & 0xF) }
    /// SPD (bits 7:4): 1 Gen1 1.5 Gb/s, 2 Gen2 3 Gb/s, 3 Gen3 6 Gb/s, 0 none.
    public var speed: UInt8 { UInt8(rawValue >> 4 & 0xF) }
    /// IPM (bits 11:8): 1 active, 2 partial, 6 slumber, 8 devsleep, 0 none.
    public var powerManagement: UInt8 { UInt8(rawValue >> 8 & 0xF) }

    /// A device is there and the phy is up: DET = 3.
    public var devicePresent: Bool { detection == 3 }
}

/// PxSIG values (AHCI 3.3.9; SATA 3.0 11.3 signatures).
public enum AHCISignature {
    public static let ata: UInt32 = 0x0000_0101
    public static let atapi: UInt32 = 0xEB14_0101
    public static let enclosureBridge: UInt32 = 0xC33C_0101
    public static let portMultiplier: UInt32 = 0x9669_0101
}

/// PxSCTL.DET (AHCI 3.3.11): 1 makes the port send COMRESET, 0 ends it.
public enum AHCISATAControl {
    public static let detectionMask: UInt32 = 0xF
    public static let comreset: UInt32 = 1
}
