// The per-VM port I/O dispatcher: a static switch over the PC ports this
// machine decodes; everything else floats high and is counted.

/// The ports of the PC this machine decodes.
public enum StandardPorts {
    /// COM1: a 16550A at 0x3F8–0x3FF, IRQ 4.
    public static let com1 = PortRange(base: 0x3F8, count: 8)
    public static let com1IRQ: UInt8 = 4
    /// The Bochs/QEMU debug console.
    public static let debugConsole = PortRange(base: 0xE9, count: 1)
    /// The POST diagnostic port; also written by Linux's `outb_p` as an I/O delay.
    public static let postCode = PortRange(base: 0x80, count: 1)
}

/// One VM's port space. The devices are stored concretely; `portIn`/`portOut`
/// neither allocate nor dispatch dynamically.
public struct PortBus<ConsoleSink: ByteSink, DebugSink: ByteSink> {
    /// COM1 (0x3F8). Its transmitter feeds `com1.sink`; raise IRQ 4 from `com1.irqAsserted`.
    public var com1: UART16550<ConsoleSink>
    /// Port 0xE9.
    public var debugConsole: DebugConsolePort<DebugSink>
    /// The last byte written to port 0x80.
    public private(set) var lastPostCode: UInt8 = 0
    /// Accesses to ports nothing decodes.
    public private(set) var unhandled = UnhandledPortTable()

    public init(com1Sink: ConsoleSink, debugSink: DebugSink) {
        com1 = UART16550(sink: com1Sink)
        debugConsole = DebugConsolePort(sink: debugSink)
    }

    /// An IN of `size` bytes (1, 2 or 4) from `port`; the result is confined to `size` bytes.
    /// An access is routed by its first port.
    public mutating func portIn(port: UInt16, size: Int) -> UInt32 {
        let mask = IOAccess.mask(size: size)
        let value: UInt64
        switch port {
        case StandardPorts.com1:
            value = com1.read(offset: StandardPorts.com1.offset(of: port), size: size)
        case StandardPorts.debugConsole:
            value = debugConsole.read(offset: 0, size: size)
        case StandardPorts.postCode:
            value = IOAccess.allOnes(size: size)
        default:
            unhandled.recordRead(port: port)
            value = IOAccess.allOnes(size: size)
        }
        return UInt32(truncatingIfNeeded: value & mask)
    }

    /// An OUT of the low `size` bytes (1, 2 or 4) of `value` to `port`.
    public mutating func portOut(port: UInt16, size: Int, value: UInt32) {
        let data = UInt64(value) & IOAccess.mask(size: size)
        switch port {
        case StandardPorts.com1:
            com1.write(offset: StandardPorts.com1.offset(of: port), size: size, value: data)
        case StandardPorts.debugConsole:
            debugConsole.write(offset: 0, size: size, value: data)
        case StandardPorts.postCode:
            lastPostCode = UInt8(truncatingIfNeeded: data)
        default:
            unhandled.recordWrite(port: port)
        }
    }
}
