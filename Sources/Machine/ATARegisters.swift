// Register offsets, bit assignments and command codes of an ATA (IDE) channel,
// from ATA/ATAPI-6 (T13 1410D) clause 7 "Register descriptions" and clause 8
// "Command descriptions".

/// The legacy ISA ports of the two PC IDE channels.
///
/// A channel decodes eight command block ports and one control block port.
/// The control port is `0x206` above the command block base on both channels
/// (0x3F6 − 0x1F0 = 0x376 − 0x170), so a bus routes both ranges to one
/// `ATAChannel` with `offset = port − commandBlock.base`
/// (see `ATARegister.control`). Port 0x3F7/0x377 is not the channel's: on a
/// PC it is the floppy controller's DIR.
public enum ATAPorts {
    public static let primaryCommandBlock = PortRange(base: 0x1F0, count: 8)
    public static let primaryControl = PortRange(base: 0x3F6, count: 1)
    public static let primaryIRQ: UInt8 = 14
    public static let secondaryCommandBlock = PortRange(base: 0x170, count: 8)
    public static let secondaryControl = PortRange(base: 0x376, count: 1)
    public static let secondaryIRQ: UInt8 = 15
}

/// Offsets from the channel's command block base, as passed to `ATAChannel.read/write`.
public enum ATARegister {
    /// The 16-bit PIO data port.
    public static let data: UInt64 = 0
    /// Error (read) / Features (write).
    public static let error: UInt64 = 1
    public static let features: UInt64 = 1
    public static let sectorCount: UInt64 = 2
    /// LBA bits 7:0 / CHS sector number (1-based).
    public static let lbaLow: UInt64 = 3
    /// LBA bits 15:8 / CHS cylinder low.
    public static let lbaMid: UInt64 = 4
    /// LBA bits 23:16 / CHS cylinder high.
    public static let lbaHigh: UInt64 = 5
    /// Device/Head: see `ATADeviceSelect`.
    public static let device: UInt64 = 6
    /// Status (read; clears a pending interrupt) / Command (write).
    public static let status: UInt64 = 7
    public static let command: UInt64 = 7
    /// The control block register: Alternate Status (read; no side effect) /
    /// Device Control (write). Its port minus the command block base.
    public static let control: UInt64 = 0x206
}

/// Status register bits.
public enum ATAStatus {
    /// ERR: the previous command ended in an error; see the Error register.
    public static let error: UInt8 = 0x01
    /// DRQ: the device is ready to transfer a word of data.
    public static let dataRequest: UInt8 = 0x08
    /// DSC (bit 4; "command dependent" in ATA-6, Device Seek Complete before).
    public static let seekComplete: UInt8 = 0x10
    /// DF: device fault. Never set by this model.
    public static let deviceFault: UInt8 = 0x20
    /// DRDY: the device accepts commands.
    public static let ready: UInt8 = 0x40
    /// BSY: the device owns the command block registers.
    public static let busy: UInt8 = 0x80

    /// Ready and idle: DRDY | DSC.
    public static let idle: UInt8 = 0x50
    /// A PIO data block is ready: DRDY | DSC | DRQ.
    public static let dataReady: UInt8 = 0x58
    /// A command ended in an error: DRDY | ERR.
    public static let failed: UInt8 = 0x41
}

/// Error register bits (valid when Status.ERR is set).
public enum ATAError {
    /// ABRT: the command was not supported or its parameters were invalid.
    public static let aborted: UInt8 = 0x04
    /// IDNF: the requested address is outside the medium.
    public static let idNotFound: UInt8 = 0x10
    /// UNC: uncorrectable data error. Never set by this model.
    public static let uncorrectable: UInt8 = 0x40
    /// The diagnostic code left by reset and EXECUTE DEVICE DIAGNOSTIC:
    /// device 0 passed, device 1 not present (ATA-6 Table 26).
    public static let diagnosticPassed: UInt8 = 0x01
}

/// Device/Head register bits.
public enum ATADeviceSelect {
    /// Bits 3:0: the CHS head number, or LBA bits 27:24 in LBA mode.
    public static let headMask: UInt8 = 0x0F
    /// DEV: 0 selects device 0 (master), 1 device 1 (slave).
    public static let device1: UInt8 = 0x10
    /// LBA: the address registers hold an LBA instead of a CHS address.
    public static let lba: UInt8 = 0x40
}

/// Device Control register bits.
public enum ATADeviceControl {
    /// nIEN: the selected device does not drive INTRQ.
    public static let interruptDisable: UInt8 = 0x02
    /// SRST: software reset of both devices while set.
    public static let softwareReset: UInt8 = 0x04
    /// HOB: read the previous (high order) contents of 48-bit registers. LBA48
    /// is not implemented, so this bit is stored and otherwise ignored.
    public static let highOrderByte: UInt8 = 0x80
}

/// Command codes the model knows. Every other code is aborted.
public enum ATACommand {
    public static let nop: UInt8 = 0x00
    public static let recalibrate: UInt8 = 0x10  // obsolete; 0x10–0x1F
    public static let readSectors: UInt8 = 0x20
    /// READ SECTORS without retries (obsolete alias).
    public static let readSectorsNoRetry: UInt8 = 0x21
    public static let writeSectors: UInt8 = 0x30
    public static let writeSectorsNoRetry: UInt8 = 0x31
    public static let readVerifySectors: UInt8 = 0x40
    public static let readVerifySectorsNoRetry: UInt8 = 0x41
    public static let seek: UInt8 = 0x70  // obsolete; 0x70–0x7F
    public static let executeDeviceDiagnostic: UInt8 = 0x90
    public static let initializeDeviceParameters: UInt8 = 0x91
    public static let identifyPacketDevice: UInt8 = 0xA1
    public static let readMultiple: UInt8 = 0xC4
    public static let writeMultiple: UInt8 = 0xC5
    public static let setMultipleMode: UInt8 = 0xC6
    public static let standbyImmediate: UInt8 = 0xE0
    public static let idleImmediate: UInt8 = 0xE1
    public static let standby: UInt8 = 0xE2
    public static let idle: UInt8 = 0xE3
    public static let checkPowerMode: UInt8 = 0xE5
    public static let flushCache: UInt8 = 0xE7
    public static let identifyDevice: UInt8 = 0xEC
    public static let setFeatures: UInt8 = 0xEF
    // LBA48 (the 48-bit address feature set, ATA/ATAPI-8 ACS 4.12): the host driver's; the
    // emulated disk is LBA28 and aborts them.
    public static let readSectorsExt: UInt8 = 0x24
    public static let writeSectorsExt: UInt8 = 0x34
    public static let flushCacheExt: UInt8 = 0xEA
}
