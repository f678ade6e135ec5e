// The Bochs/QEMU "port 0xE9 hack": a write-only debug console.

/// Port 0xE9: each write sends its low byte to `sink`; a read returns 0xE9,
/// which is how Bochs lets a guest detect the port.
public struct DebugConsolePort<Sink: ByteSink>: Device {
    public static var port: UInt16 { 0xE9 }

    public var sink: Sink

    public init(sink: Sink) {
        self.sink = sink
    }

    @inline(__always)
    public mutating func read(offset: UInt64, size: Int) -> UInt64 {
        0xE9
    }

    @inline(__always)
    public mutating func write(offset: UInt64, size: Int, value: UInt64) {
        sink.put(UInt8(truncatingIfNeeded: value))
    }
}
