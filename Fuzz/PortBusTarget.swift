// libFuzzer target: the virtual PC's port bus. A sequence of IN/OUT accesses of
// width 1, 2 or 4 to every device's ports (and any other port), keystrokes,
// interrupt acknowledges and guest time that moves forward between them, the way
// the VM-exit path drives a VirtualPC.
//
// Input: 8-byte operations [kind] [port lo] [port hi] [value, 4 bytes] [time step]:
//   kind bit 0: 1 = OUT, 0 = IN; bits 1-2: width 1, 2, 4, 1; bit 3: the port is the raw
//   16-bit value, else an index into `devicePorts`; bits 4-5: 1 = a key typed
//   (value's low byte), 2 = an interrupt acknowledged when one is pending, 3 = a long
//   jump in time (2^(value & 63) ticks).
import Machine

typealias FuzzPC = VirtualPC<DiscardingSink, DiscardingSink, ATABlockStorage>

/// Every port a device of the virtual PC decodes, and the neighbours of each range.
let devicePorts: [UInt16] = [
    0x20, 0x21, 0xA0, 0xA1, 0x1F, 0x22, 0x9F, 0xA2,                   // PIC pair
    0x40, 0x41, 0x42, 0x43, 0x61, 0x3F, 0x44, 0x60, 0x64, 0x62,       // PIT, port 0x61, i8042
    0x70, 0x71, 0x6F, 0x72,                                           // CMOS/RTC
    0x3D4, 0x3D5, 0x3D3, 0x3D6,                                       // VGA CRTC
    0x1F0, 0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x1F7, 0x1EF, 0x1F8, 0x3F6, 0x3F5, 0x3F7,  // ATA
    0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x3F7, 0x400,                     // COM1
    0xE9, 0xE8, 0xEA, 0x80, 0x7F, 0x81, 0xFFFF, 0x0000,
    0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x5FF, 0x606, 0xCF9, 0xCF8, 0xCFA,   // ACPI PM1a, reset register
]

/// The disk behind the ATA channel: 64 sectors, allocated once.
nonisolated(unsafe) let diskBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 512, alignment: 16)

func fuzzOne(_ input: FuzzInput) {
    var input = input
    var pc = FuzzPC(bus: PortBus(com1Sink: DiscardingSink(), debugSink: DiscardingSink()),
                    clock: GuestClock(tscHz: 50_000_000, tscBase: 1_000), ramBytes: 64 << 20)
    if input.byte() & 1 == 1 { pc.ata = ATAChannel(storage: ATABlockStorage(diskBuffer)) }
    var tsc: UInt64 = 1_000
    while input.remaining >= 8 {
        let kind = input.byte()
        let rawPort = input.integer(UInt16.self)
        let value = input.integer(UInt32.self)
        let step = UInt64(input.byte())
        let port = kind & 8 != 0 ? rawPort : devicePorts[Int(rawPort) % devicePorts.count]
        let width = [1, 2, 4, 1][Int(kind >> 1) & 3]

        switch (kind >> 4) & 3 {
        case 1: pc.type(ascii: UInt8(truncatingIfNeeded: value))
        case 2: if pc.interruptPending { _ = pc.acknowledge() }
        case 3: tsc = tsc.addingReportingOverflow(1 << UInt64(value & 63)).overflow ? .max - 1 : tsc + (1 << UInt64(value & 63))
        default: break
        }
        if tsc < .max - 1 { tsc += min(step * step * 16, .max - 1 - tsc) }

        if kind & 1 == 1 {
            pc.portOut(port: port, size: width, value: value, tsc: tsc)
        } else {
            let result = pc.portIn(port: port, size: width, tsc: tsc)
            fuzzCheck(UInt64(result) & ~IOAccess.mask(size: width) == 0,
                      "IN \(width) bytes from port \(port) returned \(result), wider than the access")
        }
        fuzzCheck(pc.interruptPending == pc.pic.interruptRequested,
                  "interruptPending is stale after an access to port \(port)")
        // What the engine does before every VM entry: due timers fire, the next one lies ahead.
        pc.update(tsc: tsc)
        fuzzCheck(pc.nextTimerTSC > tsc || tsc >= .max - 1,
                  "after update(tsc: \(tsc)) the next timer \(pc.nextTimerTSC) is not in the future")
    }
}

func seedImages() -> [(String, [UInt8])] {
    func op(_ out: Bool, _ portIndex: UInt16? = nil, raw: UInt16 = 0, width: Int = 1, _ value: UInt32 = 0,
            step: UInt8 = 1, extra: UInt8 = 0) -> [UInt8] {
        let widthBits: UInt8 = width == 2 ? 1 : width == 4 ? 2 : 0
        var kind: UInt8 = (out ? 1 : 0) | widthBits << 1 | extra << 4
        var port = raw
        if let index = portIndex { port = index } else { kind |= 8 }
        return [kind, UInt8(port & 0xFF), UInt8(port >> 8),
                UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24), step]
    }
    func at(_ port: UInt16) -> UInt16 { UInt16(devicePorts.firstIndex(of: port)!) }
    // PIC init as Linux does it, PIT channel 0 at 100 Hz, time passing, EOIs.
    var timer: [UInt8] = [0]
    for (port, value) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0xA0, 0x11), (0xA1, 0x28),
                          (0xA1, 0x02), (0xA1, 0x01), (0x21, 0xFE), (0xA1, 0xFF), (0x43, 0x34), (0x40, 0x9C), (0x40, 0x2E)]
        as [(UInt16, UInt32)] { timer += op(true, at(port), value) }
    for _ in 0..<8 { timer += op(false, at(0x40), step: 255, extra: 2) + op(true, at(0x20), 0x20) }
    // ATA IDENTIFY then READ SECTORS, data port words.
    var disk: [UInt8] = [1]
    disk += op(true, at(0x1F6), 0xE0) + op(true, at(0x1F7), 0xEC) + op(false, at(0x1F7))
    for _ in 0..<16 { disk += op(false, at(0x1F0), width: 2) }
    disk += op(true, at(0x1F2), 1) + op(true, at(0x1F3), 3) + op(true, at(0x1F7), 0x20) + op(false, at(0x1F0), width: 4)
    // RTC registers, keyboard typing and a controller command, COM1 and the debug port.
    var misc: [UInt8] = [0]
    misc += op(true, at(0x70), 0x0B) + op(true, at(0x71), 0x42) + op(true, at(0x70), 0x0C) + op(false, at(0x71), step: 200)
    misc += op(false, at(0x60), 0x61, extra: 1) + op(false, at(0x64)) + op(true, at(0x64), 0x20) + op(false, at(0x60))
    misc += op(true, at(0x3FB), 0x80) + op(true, at(0x3F8), 1) + op(true, at(0x3FB), 3) + op(true, at(0x3F9), 0x0F)
    misc += op(true, at(0x3F8), 0x41) + op(false, at(0x3FA)) + op(true, at(0xE9), 0x42) + op(true, raw: 0x1234, width: 4, 0xDEAD_BEEF)
    misc += op(true, at(0x3D4), width: 2, 0x0E0E) + op(false, at(0x3D5)) + op(false, at(0x61), 3, step: 1, extra: 3)
    return [("pic-pit", timer), ("ata", disk), ("rtc-kbd-uart", misc)]
}
