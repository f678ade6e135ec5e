// The host's COM1, a 16550 UART at 0x3F8: the hypervisor's console.
// (The guests' COM1 is an emulated model in Sources/Machine/UART16550.swift.)

enum Serial {
    static let base: UInt16 = 0x3F8

    /// 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on, interrupts off.
    static func initialize() {
        outb(base + 1, 0x00)        // IER: no interrupts
        outb(base + 3, 0x80)        // LCR.DLAB: the next two registers are the divisor latch
        outb(base + 0, 0x01)        // divisor 1 = 115200 baud
        outb(base + 1, 0x00)
        outb(base + 3, 0x03)        // 8N1, DLAB off
        outb(base + 2, 0xC7)        // FCR: enable and clear FIFOs, 14-byte threshold
        outb(base + 4, 0x03)        // MCR: DTR, RTS
    }

    static func write(_ byte: UInt8) {
        _ = putchar(Int32(byte))
    }

    /// Wait until the transmitter is empty (LSR.TEMT, bit 6): the last byte has left the
    /// shift register. Without this, ending the emulator loses the tail of the output.
    static func drain() {
        while inb(base + 5) & 0x40 == 0 {}
    }

    /// A received byte, if one is waiting (LSR.DR, bit 0).
    static func read() -> UInt8? {
        inb(base + 5) & 0x01 != 0 ? inb(base) : nil
    }
}
