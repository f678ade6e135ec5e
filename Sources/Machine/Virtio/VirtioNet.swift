// virtio-net (virtio 1.2 §5.1): receiveq1 (0) and transmitq1 (1), a MAC and link
// status in the device configuration, no offloads. Every buffer starts with the
// 12-byte struct virtio_net_hdr (VERSION_1 always has num_buffers). Frames leave
// through `transmitFrame(into:)` and arrive through `receiveFrame(_:)` (the virtual
// switch calls both); a tx notification only marks the queue as having work.

public enum VirtioNetFeature {
    public static var mac: UInt64 { 1 << 5 }
    public static var status: UInt64 { 1 << 16 }
}

/// Per-device counters (the switch keeps its own per port).
public struct VirtioNetCounters {
    public var framesTransmitted: UInt64 = 0
    public var framesReceived: UInt64 = 0
    /// tx frames shorter than an Ethernet header or longer than `maxFrameLength`, or with GSO.
    public var transmitErrors: UInt64 = 0
    /// rx buffers too small for the frame (returned empty).
    public var receiveErrors: UInt64 = 0
}

public struct VirtioNet: VirtioDeviceModel {
    public static var deviceType: VirtioDeviceType { .network }
    public static var queueCount: Int { 2 }
    public static var queueMaxSize: UInt16 { 256 }
    public static var receiveQueue: Int { 0 }
    public static var transmitQueue: Int { 1 }
    /// sizeof(struct virtio_net_hdr) with num_buffers (§5.1.6).
    public static var headerLength: Int { 12 }
    /// An Ethernet frame without FCS: 1500 bytes of payload, a VLAN tag allowed.
    public static var maxFrameLength: Int { 1518 }
    public static var minFrameLength: Int { 14 }

    /// The MAC address in network order, bytes 0-5 of the configuration.
    public let mac: InlineArray<6, UInt8>
    public var linkUp: Bool
    /// Set by a tx notification; cleared when the transmit queue has been drained.
    public internal(set) var transmitPending = false
    public internal(set) var counters = VirtioNetCounters()

    public init(mac: InlineArray<6, UInt8>, linkUp: Bool = true) {
        self.mac = mac
        self.linkUp = linkUp
    }

    public var deviceFeatures: UInt64 { VirtioNetFeature.mac | VirtioNetFeature.status }
    /// mac[6], status (le16), max_virtqueue_pairs (le16) (§5.1.4).
    public var configSize: Int { 10 }

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        var index = 0
        while index < size {
            let at = offset &+ index
            let byte: UInt8
            switch at {
            case 0..<6: byte = mac[at]
            case 6: byte = linkUp ? 1 : 0   // VIRTIO_NET_S_LINK_UP
            case 8: byte = 1                // one queue pair
            default: byte = 0
            }
            value |= UInt64(byte) << UInt64(index &* 8)
            index &+= 1
        }
        return value
    }

    /// The MAC is read-only without VIRTIO_NET_F_CTRL_MAC_ADDR; writes are ignored.
    public mutating func writeConfig(offset: Int, size: Int, value: UInt64) {}

    public mutating func reset() { transmitPending = false }

    public mutating func process(queue index: Int, _ queue: inout SplitVirtqueue, chain: inout VirtqueueChain,
                                 memory: GuestMemory, budget: inout DeviceWorkBudget) throws(VirtqueueError) -> VirtqueueProgress {
        // transmitq: the switch takes the frames (a bounded number per exit); receiveq: the new
        // buffers wait for frames.
        if index == Self.transmitQueue { transmitPending = true }
        return .drained
    }
}

extension VirtioPCIDevice where Model == VirtioNet {
    /// Takes the next frame the guest transmits, copies it (without the virtio_net_hdr) into
    /// `buffer` and returns its length; nil when the transmit queue is empty (or the device is
    /// not running), or after `DeviceWorkBudget.framesPerExit` malformed frames in a row (the
    /// queue stays pending). Malformed frames are completed, counted and skipped; a malformed
    /// ring puts the device in DEVICE_NEEDS_RESET.
    public mutating func transmitFrame(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let tx = VirtioNet.transmitQueue
        guard isLive, queues[tx].isEnabled else { model.transmitPending = false; return nil }
        var skipped = 0
        while true {
            let taken: Bool
            do throws(VirtqueueError) {
                taken = try queues[tx].pop(into: &chain, memory: memory)
            } catch {
                enterNeedsReset(error)
                model.transmitPending = false
                return nil
            }
            guard taken else {
                model.transmitPending = false
                updateInterrupt(queue: tx)
                return nil
            }
            let total = chain.readableBytes
            var gsoType: UInt8 = 0
            _ = withUnsafeMutableBytes(of: &gsoType) { chain.gather(from: 1, into: $0, memory: memory) }
            let header = UInt64(VirtioNet.headerLength)
            var length = 0
            if total >= header &+ UInt64(VirtioNet.minFrameLength), total &- header <= UInt64(min(VirtioNet.maxFrameLength, buffer.count)),
               gsoType == 0 {
                length = Int(total &- header)
                length = chain.gather(from: header, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< length]), memory: memory)
                model.counters.framesTransmitted &+= 1
            } else {
                model.counters.transmitErrors &+= 1
                length = -1
            }
            queues[tx].pushUsed(head: chain.head, length: 0, memory: memory)
            if length >= 0 {
                updateInterrupt(queue: tx)
                return length
            }
            // A run of malformed frames ends the call like good ones do: the rest wait for the next exit.
            skipped &+= 1
            if skipped >= DeviceWorkBudget.framesPerExit {
                updateInterrupt(queue: tx)
                return nil
            }
        }
    }

    /// Puts `frame` into the guest's next receive buffer with a virtio_net_hdr; false (frame
    /// dropped) when the device is not running, the link is down, no buffer is available or the
    /// buffer is too small (that buffer is returned empty).
    public mutating func receiveFrame(_ frame: UnsafeRawBufferPointer) -> Bool {
        let rx = VirtioNet.receiveQueue
        guard isLive, model.linkUp, queues[rx].isEnabled else { return false }
        let taken: Bool
        do throws(VirtqueueError) {
            taken = try queues[rx].pop(into: &chain, memory: memory)
        } catch {
            enterNeedsReset(error)
            return false
        }
        guard taken else { return false }
        let header = VirtioNet.headerLength
        var written: UInt32 = 0
        if chain.writableBytes >= UInt64(header &+ frame.count) {
            // flags, gso_type, hdr_len, gso_size, csum_start, csum_offset: 0; num_buffers: 1.
            var netHeader = InlineArray<12, UInt8>(repeating: 0)
            netHeader[10] = 1
            _ = withUnsafeBytes(of: &netHeader) { chain.scatter($0, at: 0, memory: memory) }
            _ = chain.scatter(frame, at: UInt64(header), memory: memory)
            written = UInt32(header &+ frame.count)
            model.counters.framesReceived &+= 1
        } else {
            model.counters.receiveErrors &+= 1
        }
        queues[rx].pushUsed(head: chain.head, length: written, memory: memory)
        updateInterrupt(queue: rx)
        return written != 0
    }
}

extension VirtioPCIDevice: VirtualSwitchPort where Model == VirtioNet {}
