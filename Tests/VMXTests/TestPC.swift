import Machine

/// A virtual PC for the exit-handler tests: a 50 MHz TSC, no console.
enum TestPC {
    typealias PC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>

    static func make() -> PC {
        PC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()), clock: GuestClock(tscHz: 50_000_000, tscBase: 0))
    }

    /// 8259s at 0x20/0x28 with only IRQ 0 unmasked, PIT channel 0 at about 1 kHz.
    static func programTimer(_ pc: inout PC) {
        for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01),
                              (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01),
                              (0x21, 0xFE), (0xA1, 0xFF), (0x43, 0x34), (0x40, 0xA9), (0x40, 0x04)] as [(UInt16, UInt32)] {
            pc.portOut(port: port, size: 1, value: value, tsc: 0)
        }
    }
}
