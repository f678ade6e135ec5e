// An Ethernet switch between the VMs' virtio-net devices, inside the hypervisor. Every
// port belongs to one VM and has the MAC address the hypervisor gave that VM's device:
// a frame whose source is any other address is dropped and counted (no VM can claim
// another's address or fill the table), so the table is the ports' own addresses and
// never learns. Broadcast, multicast and unknown unicast frames flood to every other
// port; unicast to a port's address goes to that port only. One sender's frames are
// forwarded a bounded number at a time (`DeviceWorkBudget.framesPerExit`).

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
    /// Frames it sent with a source address that is not its own (dropped).
    public var spoofed: UInt64 = 0
    public init() {}
}

/// A 48-bit MAC address in the low bits, first byte on the wire most significant.
public struct MACAddress: Equatable {
    public let value: UInt64

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// The address with bytes `bytes`, first on the wire first.
    public init(_ bytes: InlineArray<6, UInt8>) {
        var value: UInt64 = 0
        var index = 0
        while index < 6 { value = value << 8 | UInt64(bytes[index]); index &+= 1 }
        self.value = value
    }

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
    /// The largest frame forwarded (no FCS).
    public static var maxFrameLength: Int { 1518 }

    public private(set) var portCount = 0
    var counters = InlineArray<8, VirtualSwitchPortCounters>(repeating: VirtualSwitchPortCounters())
    /// Each port's address: the only source its frames may carry and where unicast to it goes.
    var portMACs = InlineArray<8, UInt64>(repeating: 0)

    public init() {}

    /// Adds a port for the VM whose device has address `mac`; returns its number, or nil when
    /// all are in use or `mac` is a group address or another port's.
    public mutating func addPort(mac: MACAddress) -> Int? {
        guard portCount < Self.maxPorts, !mac.isGroup, port(of: mac) == nil else { return nil }
        portMACs[portCount] = mac.value
        portCount &+= 1
        return portCount &- 1
    }

    public func counters(port: Int) -> VirtualSwitchPortCounters {
        port >= 0 && port < portCount ? counters[port] : VirtualSwitchPortCounters()
    }

    /// The port whose address is `mac`.
    public mutating func port(of mac: MACAddress) -> Int? {
        var port = 0
        while port < portCount {
            if portMACs[port] == mac.value { return port }
            port &+= 1
        }
        return nil
    }

    /// Takes `frame` in on `port`: counts it and returns the ports it goes to as a bit mask
    /// (empty for a runt frame, a frame with a source address not the port's, or a unicast frame
    /// to its own port).
    public mutating func route(_ frame: UnsafeRawBufferPointer, from port: Int) -> UInt32 {
        guard port >= 0 && port < portCount else { return 0 }
        guard frame.count >= 14 else { counters[port].dropped &+= 1; return 0 }
        guard MACAddress(frame, at: 6).value == portMACs[port] else { counters[port].spoofed &+= 1; return 0 }
        counters[port].framesIn &+= 1
        counters[port].bytesIn &+= UInt64(frame.count)
        let destination = MACAddress(frame, at: 0)
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

    /// Forwards up to `limit` frames port `source` has to send to the ports `route` picks,
    /// copying each frame once out of the sender and once into each receiver.
    /// Returns the frames taken from the sender (`limit`: it may have more).
    @discardableResult
    public mutating func forward<Ports: VirtualSwitchPortSet>(from source: Int, ports: inout Ports,
                                                             limit: Int = DeviceWorkBudget.framesPerExit) -> Int {
        guard source >= 0 && source < portCount else { return 0 }
        var frame = InlineArray<1518, UInt8>(repeating: 0)
        var taken = 0
        withUnsafeMutableBytes(of: &frame) { buffer in
            while taken < limit, let length = ports.transmitFrame(port: source, into: buffer) {
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
    public mutating func forward<Port: VirtualSwitchPort>(from source: Int, ports: UnsafeMutableBufferPointer<Port>,
                                                         limit: Int = DeviceWorkBudget.framesPerExit) -> Int {
        var set = ports
        return forward(from: source, ports: &set, limit: limit)
    }
}
