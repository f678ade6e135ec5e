// How fast the TSC runs, measured against the host's 8254 PIT (1,193,182 Hz):
// channel 2, gated through port 0x61 and not connected to the speaker, counts
// down 10 ms in mode 0; its output (port 0x61 bit 5) goes high at terminal
// count. Guests' virtual timers (PIT, RTC) are driven by the TSC at this rate.
// In Bochs with `clock: sync=none` the TSC counts instructions, and emulated
// time runs at `ips` instructions per second, so this is about the ips setting.

enum TSCCalibration {
    static func measureHz() -> UInt64 {
        let count: UInt16 = 11_932                     // 10 ms of 1,193,182 Hz
        let portB = inb(0x61)
        outb(0x61, (portB & ~0x02) | 0x01)              // gate channel 2 on, speaker off
        outb(0x43, 0xB0)                                // channel 2, lobyte/hibyte, mode 0, binary
        outb(0x42, UInt8(count & 0xFF))
        outb(0x42, UInt8(count >> 8))                   // counting starts now
        let start = rdtsc()
        var spins = 0
        while inb(0x61) & 0x20 == 0 && spins < 50_000_000 { spins += 1 }
        let elapsed = rdtsc() &- start
        outb(0x61, portB)
        return elapsed * 100
    }
}
