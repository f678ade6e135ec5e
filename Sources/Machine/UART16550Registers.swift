// Register offsets and bit assignments of the National Semiconductor PC16550D
// UART (datasheet, Table II "Summary of Registers").

/// Register offsets from the UART's base port.
public enum UARTRegister {
    /// RBR (read) / THR (write); DLL when LCR.DLAB = 1.
    public static let data: UInt64 = 0
    /// IER; DLM when LCR.DLAB = 1.
    public static let interruptEnable: UInt64 = 1
    /// IIR (read) / FCR (write).
    public static let interruptIdentification: UInt64 = 2
    public static let lineControl: UInt64 = 3
    public static let modemControl: UInt64 = 4
    public static let lineStatus: UInt64 = 5
    public static let modemStatus: UInt64 = 6
    public static let scratch: UInt64 = 7
}

/// IER bits.
public enum UARTInterruptEnable {
    /// ERBFI: received data available (and, in FIFO mode, character time-out).
    public static let receivedData: UInt8 = 0x01
    /// ETBEI: transmitter holding register empty.
    public static let transmitterEmpty: UInt8 = 0x02
    /// ELSI: receiver line status.
    public static let lineStatus: UInt8 = 0x04
    /// EDSSI: modem status.
    public static let modemStatus: UInt8 = 0x08
    public static let writable: UInt8 = 0x0F
}

/// IIR values (bits 3:0) in priority order, and the FIFO-enabled bits 7:6.
public enum UARTInterruptID {
    public static let none: UInt8 = 0x01
    public static let receiverLineStatus: UInt8 = 0x06
    public static let receivedDataAvailable: UInt8 = 0x04
    public static let characterTimeout: UInt8 = 0x0C
    public static let transmitterEmpty: UInt8 = 0x02
    public static let modemStatus: UInt8 = 0x00
    public static let fifosEnabled: UInt8 = 0xC0
}

/// FCR bits.
public enum UARTFIFOControl {
    public static let enable: UInt8 = 0x01
    public static let resetReceiver: UInt8 = 0x02
    public static let resetTransmitter: UInt8 = 0x04
    public static let dmaMode: UInt8 = 0x08
    public static let triggerMask: UInt8 = 0xC0
}

/// LCR bits.
public enum UARTLineControl {
    public static let wordLengthMask: UInt8 = 0x03
    public static let stopBits: UInt8 = 0x04
    public static let parityEnable: UInt8 = 0x08
    public static let evenParity: UInt8 = 0x10
    public static let stickParity: UInt8 = 0x20
    public static let setBreak: UInt8 = 0x40
    /// DLAB: offsets 0 and 1 address the divisor latch.
    public static let divisorLatchAccess: UInt8 = 0x80
}

/// MCR bits.
public enum UARTModemControl {
    public static let dtr: UInt8 = 0x01
    public static let rts: UInt8 = 0x02
    public static let out1: UInt8 = 0x04
    /// On the PC, OUT2 enables the UART's interrupt onto the ISA IRQ line.
    public static let out2: UInt8 = 0x08
    public static let loopback: UInt8 = 0x10
    /// Bits 7:5 are permanently 0 on the 16550.
    public static let writable: UInt8 = 0x1F
}

/// LSR bits.
public enum UARTLineStatus {
    public static let dataReady: UInt8 = 0x01
    public static let overrunError: UInt8 = 0x02
    public static let parityError: UInt8 = 0x04
    public static let framingError: UInt8 = 0x08
    public static let breakInterrupt: UInt8 = 0x10
    public static let transmitterHoldingEmpty: UInt8 = 0x20
    public static let transmitterEmpty: UInt8 = 0x40
    public static let receiverFIFOError: UInt8 = 0x80
    /// The bits that raise a receiver line status interrupt and clear on an LSR read.
    public static let errors: UInt8 = 0x1E
}

/// MSR bits.
public enum UARTModemStatus {
    public static let deltaCTS: UInt8 = 0x01
    public static let deltaDSR: UInt8 = 0x02
    public static let trailingEdgeRI: UInt8 = 0x04
    public static let deltaDCD: UInt8 = 0x08
    public static let cts: UInt8 = 0x10
    public static let dsr: UInt8 = 0x20
    public static let ri: UInt8 = 0x40
    public static let dcd: UInt8 = 0x80
    public static let deltas: UInt8 = 0x0F
}
