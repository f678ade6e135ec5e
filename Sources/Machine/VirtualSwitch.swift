// A learning Ethernet switch between the VMs' virtio-net devices, inside the
// hypervisor (IEEE 802.1D transparent bridging, without spanning tree or aging):
// source MACs are learned per port; broadcast, multicast and unknown unicast
// frames flood to every other port; known unicast goes to its port only.

/// What the switch needs from a port: frames out of the VM, frames into it.
public protocol VirtualSwitchPort {
    /// The next frame the VM sent, copied into `buffer`; nil when it has none.
    mutating func transmitFrame(into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Gives `frame` to the VM; false when it could not take it.
    mutating func receiveFrame(_ frame: UnsafeRawBufferPointer) -> Bool
}

/// Every port of a switch, by number: what `forward` drains and delivers to. The engine can
/// implement it on its table of VMs; a buffer of same-typed ports already is one.
public protocol VirtualSwitchPortSet {
    /// The next frame port `port`'s VM sent, copied into `buffer`; nil when it has none.
    mutating func transmitFrame(port: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Gives `frame` to port `port`'s VM; false when it could not take it (or there is no such port).
    mutating func receiveFrame(port: Int, _ frame: UnsafeRawBufferPointer) -> Bool
}

extension UnsafeMutableBufferPointer: VirtualSwitchPortSet where Element: VirtualSwitchPort {
    public mutating func transmitFrame(port: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        port >= 0 && port < count ? self[port].transmitFrame(into: buffer) : nil
    }
    public mutating func receiveFrame(port: Int, _ frame: UnsafeRawBufferPointer) -> Bool {
        port >= 0 && port < count ? self[port].receiveFrame(frame) : false
    }
}

/// Counters of one switch port, from the switch's side: "in" came from the VM, "out" went to it.
public struct VirtualSwitchPortCounters: Equatable {
    public var framesIn: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var framesOut: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Frames for this port it could not take (no receive buffer), and runt frames it sent.
    public var dropped: UInt64 = 0
    public init() {}
}

/// A 48-bit MAC address in the low bits, first byte on the wire most significant.
public struct MACAddress: Equatable {
    public let value: UInt64

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// The six bytes at `offset` of `frame`.
    public init(_ frame: UnsafeRawBufferPointer, at offset: Int) {
        var value: UInt64 = 0
        var index = 0
        while index < 6 { value = value << 8 | UInt64(frame[offset &+ index]); index &+= 1 }
        self.value = value
    }

    /// The I/G bit (bit 0 of the first byte): broadcast and multicast.
    public var isGroup: Bool { value & 0x0100_0000_0000 != 0 }
}

public struct VirtualSwitch {
    public static var maxPorts: Int { 8 }
    public static var tableSize: Int { 64 }
    /// The largest frame forwarded (no FCS).
    public static var maxFrameLength: Int { 1518 }

    public private(set) var portCount = 0
    var counters = InlineArray<8, VirtualSwitchPortCounters>(repeating: VirtualSwitchPortCounters())
    var tableMACs = InlineArray<64, UInt64>(repeating: 0)
    var tablePorts = InlineArray<64, Int8>(repeating: -1)
    /// The table slot the next new address replaces when the table is full.
    var nextVictim = 0

    public init() {}

    /// Adds a port; returns its number, or nil when all are in use.
    public mutating func addPort() -> Int? {
        guard portCount < Self.maxPorts else { return nil }
        portCount &+= 1
        return portCount &- 1
    }

    public func counters(port: Int) -> VirtualSwitchPortCounters {
        port >= 0 && port < portCount ? counters[port] : VirtualSwitchPortCounters()
    }

    /// The port `mac` was last seen on.
    public mutating func port(of mac: MACAddress) -> Int? {
        var slot = 0
        while slot < Self.tableSize {
            if tablePorts[slot] >= 0 && tableMACs[slot] == mac.value { return Int(tablePorts[slot]) }
            slot &+= 1
        }
        return nil
    }

    mutating func learn(_ mac: MACAddress, port: Int) {
        guard !mac.isGroup else { return }
        var free = -1
        var slot = 0
        while slot < Self.tableSize {
            if tablePorts[slot] >= 0 && tableMACs[slot] == mac.value { tablePorts[slot] = Int8(port); return }
            if free < 0 && tablePorts[slot] < 0 { free = slot }
            slot &+= 1
        }
        if free < 0 { free = nextVictim; nextVictim = (nextVictim &+ 1) % Self.tableSize }
        tableMACs[free] = mac.value
        tablePorts[free] = Int8(port)
    }

    /// Takes `frame` in on `port`: counts it, learns its source and returns the ports it goes
    /// to as a bit mask (empty for a runt frame, or a unicast frame to its own port).
    public mutating func route(_ frame: UnsafeRawBufferPointer, from port: Int) -> UInt32 {
        guard port >= 0 && port < portCount else { return 0 }
        guard frame.count >= 14 else { counters[port].dropped &+= 1; return 0 }
        counters[port].framesIn &+= 1
        counters[port].bytesIn &+= UInt64(frame.count)
        let destination = MACAddress(frame, at: 0)
        learn(MACAddress(frame, at: 6), port: port)
        let everyone = (UInt32(1) << UInt32(portCount)) &- 1
        let others = everyone & ~(UInt32(1) << UInt32(port))
        if destination.isGroup { return others }
        guard let target = self.port(of: destination) else { return others }
        return target == port ? 0 : UInt32(1) << UInt32(target)
    }

    /// Records the outcome of giving a frame of `bytes` to `port`.
    public mutating func recordDelivery(to port: Int, bytes: Int, delivered: Bool) {
        guard port >= 0 && port < portCount else { return }
        if delivered {
            counters[port].framesOut &+= 1
            counters[port].bytesOut &+= UInt64(bytes)
        } else {
            counters[port].dropped &+= 1
        }
    }

    /// Forwards every frame port `source` has to send to the ports `route` picks, copying
    /// each frame once out of the sender and once into each receiver.
    /// Returns the frames taken from the sender.
    @discardableResult
    public mutating func forward<Ports: VirtualSwitchPortSet>(from source: Int, ports: inout Ports) -> Int {
        guard source >= 0 && source < portCount else { return 0 }
        var frame = InlineArray<1518, UInt8>(repeating: 0)
        var taken = 0
        withUnsafeMutableBytes(of: &frame) { buffer in
            while let length = ports.transmitFrame(port: source, into: buffer) {
                taken &+= 1
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0 ..< min(length, buffer.count)])
                var targets = route(bytes, from: source)
                while targets != 0 {
                    let target = targets.trailingZeroBitCount
                    targets &= targets &- 1
                    recordDelivery(to: target, bytes: bytes.count, delivered: ports.receiveFrame(port: target, bytes))
                }
            }
        }
        return taken
    }

    /// `forward(from:ports:)` over a buffer whose element n is port n.
    @discardableResult
    public mutating func forward<Port: VirtualSwitchPort>(from source: Int, ports: UnsafeMutableBufferPointer<Port>) -> Int {
        var set = ports
        return forward(from: source, ports: &set)
    }
}
