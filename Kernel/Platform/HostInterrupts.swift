// The host's own interrupt controller: the legacy 8259A pair, remapped away from
// the exception vectors (to 0x20-0x2F) and fully masked. The hypervisor runs with
// interrupts off; guests only ever see virtual devices.

enum HostInterrupts {
    static func initialize() {
        // ICW1: edge-triggered, cascade, ICW4 follows. ICW2: vector bases. ICW3: slave on IRQ2. ICW4: 8086 mode.
        outb(0x20, 0x11); outb(0xA0, 0x11)
        outb(0x21, 0x20); outb(0xA1, 0x28)
        outb(0x21, 0x04); outb(0xA1, 0x02)
        outb(0x21, 0x01); outb(0xA1, 0x01)
        outb(0x21, 0xFF); outb(0xA1, 0xFF)    // OCW1: mask every line
    }

    static func handle(vector: UInt64) {
        // Masked lines can still deliver a spurious IRQ 7/15: ignore those; acknowledge anything else.
        if vector >= 0x28 && vector < 0x30 { outb(0xA0, 0x20) }
        if vector >= 0x20 && vector < 0x30 && vector != 0x27 { outb(0x20, 0x20) }
    }
}
