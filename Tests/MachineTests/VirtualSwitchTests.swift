import XCTest
import Machine

typealias TestNetDevice = VirtioPCIDevice<VirtioNet>

/// One VM with a virtio-net device, driven like Linux's virtio_net with its rings in its own RAM.
final class TestNetVM {
    let driver = TestVirtioDriver()
    var rxPosted = 0
    var txSent = 0
    var rxBuffers: [UInt64] = []

    func makeDevice(mac: [UInt8]) -> TestNetDevice {
        var device = TestNetDevice(model: VirtioNet(mac: InlineArray { mac[$0] }), memory: driver.memory)
        XCTAssertEqual(driver.initialize(&device, features: 1 << 32 | 1 << 5 | 1 << 16, queueCount: 2), 0xF)
        return device
    }

    /// Posts `count` receive buffers of `size` bytes (one descriptor each).
    func postReceiveBuffers(_ device: inout TestNetDevice, count: Int, size: UInt32 = 1526) {
        for _ in 0..<count {
            let index = rxPosted % 16
            let buffer = driver.allocate(Int(size))
            rxBuffers.append(buffer)
            driver.descriptor(table: driver.queues[0].desc, index, address: buffer, length: size, flags: 2)
            driver.makeAvailable(queue: 0, head: UInt16(index))
            rxPosted += 1
        }
        driver.kick(&device, queue: 0)
    }

    /// Queues `frame` for transmission: a 12-byte virtio_net_hdr and the frame, two descriptors.
    func send(_ device: inout TestNetDevice, _ frame: [UInt8]) {
        let index = (txSent * 2) % 16
        let header = driver.allocate(12), data = driver.allocate(frame.count)
        driver.ram.put([UInt8](repeating: 0, count: 12), at: Int(header))
        driver.ram.put(frame, at: Int(data))
        driver.chain(queue: 1, first: index, [(header, 12, false), (data, UInt32(frame.count), false)])
        driver.makeAvailable(queue: 1, head: UInt16(index))
        txSent += 1
        driver.kick(&device, queue: 1)
    }

    /// The frames received so far (virtio_net_hdr checked and stripped).
    func received() -> [[UInt8]] {
        (0..<driver.usedIndex(queue: 0)).map { n in
            let element = driver.usedElement(queue: 0, n)
            let buffer = rxBuffers[Int(n)]
            guard element.length >= 12 else { return [] }
            let header = driver.bytes(at: buffer, count: 12)
            XCTAssertEqual(header, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], "no offloads, num_buffers 1")
            return driver.bytes(at: buffer + 12, count: Int(element.length) - 12)
        }
    }
}

final class VirtualSwitchTests: XCTestCase {
    let macs: [[UInt8]] = [[0x52, 0x54, 0, 0, 0, 1], [0x52, 0x54, 0, 0, 0, 2], [0x52, 0x54, 0, 0, 0, 3]]
    let broadcast: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]

    func frame(to destination: [UInt8], from source: [UInt8], payload: Int, seed: UInt8 = 0) -> [UInt8] {
        destination + source + [0x08, 0x00] + (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ Int(seed)) }
    }

    /// Three VMs on one switch, each with 4 receive buffers.
    func makeNetwork() -> (vms: [TestNetVM], devices: [TestNetDevice], switch: VirtualSwitch) {
        let vms = (0..<3).map { _ in TestNetVM() }
        var devices = (0..<3).map { vms[$0].makeDevice(mac: macs[$0]) }
        var network = VirtualSwitch()
        for n in 0..<3 {
            XCTAssertEqual(network.addPort(mac: MACAddress(InlineArray { macs[n][$0] })), n)
            vms[n].postReceiveBuffers(&devices[n], count: 4)
        }
        return (vms, devices, network)
    }

    func forward(_ network: inout VirtualSwitch, _ devices: inout [TestNetDevice], from port: Int) -> Int {
        devices.withUnsafeMutableBufferPointer { network.forward(from: port, ports: $0) }
    }

    func testDeviceConfiguration() {
        let vm = TestNetVM()
        var device = vm.makeDevice(mac: macs[1])
        var space = TestNetDevice.configSpace()
        XCTAssertEqual(space.deviceID, 0x1041)
        XCTAssertEqual(space.read(offset: 0x0B, size: 1), 0x02, "network controller")
        XCTAssertEqual(device.read(offset: 0x2000, size: 4), 0x0000_5452)
        XCTAssertEqual(device.read(offset: 0x2004, size: 2), 0x0200)
        XCTAssertEqual(device.read(offset: 0x2006, size: 2), 1, "VIRTIO_NET_S_LINK_UP")
        XCTAssertEqual(device.read(offset: 0x12, size: 2), 2, "receiveq1 and transmitq1")
        XCTAssertEqual(device.negotiatedFeatures, 1 << 32 | 1 << 5 | 1 << 16)
        device.write(offset: 0x2000, size: 1, value: 0xAA)
        XCTAssertEqual(device.read(offset: 0x2000, size: 1), 0x52, "the MAC is read-only")
    }

    func testBroadcastFloodsAndUnicastGoesToItsOwner() {
        var (vms, devices, network) = makeNetwork()
        // A broadcasts (an ARP request): B and C receive it.
        let arp = frame(to: broadcast, from: macs[0], payload: 28)
        vms[0].send(&devices[0], arp)
        XCTAssertTrue(devices[0].model.transmitPending)
        XCTAssertEqual(forward(&network, &devices, from: 0), 1)
        XCTAssertFalse(devices[0].model.transmitPending)
        XCTAssertEqual(vms[1].received(), [arp])
        XCTAssertEqual(vms[2].received(), [arp])
        XCTAssertEqual(vms[0].received(), [], "not back to the sender")
        XCTAssertEqual(vms[0].driver.usedIndex(queue: 1), 1, "the tx buffer came back")
        XCTAssertTrue(devices[1].interruptAsserted, "B is interrupted for its rx")
        // B answers A by unicast: only A gets it (port 0 has A's MAC).
        let reply = frame(to: macs[0], from: macs[1], payload: 28, seed: 1)
        vms[1].send(&devices[1], reply)
        forward(&network, &devices, from: 1)
        XCTAssertEqual(vms[0].received(), [reply])
        XCTAssertEqual(vms[2].received(), [arp], "C saw only the broadcast")
        // A to B.
        let data = frame(to: macs[1], from: macs[0], payload: 1500, seed: 2)
        vms[0].send(&devices[0], data)
        forward(&network, &devices, from: 0)
        XCTAssertEqual(vms[1].received(), [arp, data])
        XCTAssertEqual(vms[2].received(), [arp])
        // No port has this address: A's frame floods to B and C.
        let unknown = frame(to: [0x52, 0x54, 0, 0, 0, 9], from: macs[0], payload: 60, seed: 3)
        vms[0].send(&devices[0], unknown)
        forward(&network, &devices, from: 0)
        XCTAssertEqual(vms[2].received(), [arp, unknown])
        XCTAssertEqual(vms[1].received(), [arp, data, unknown])
        // Counters.
        let a = network.counters(port: 0), b = network.counters(port: 1), c = network.counters(port: 2)
        XCTAssertEqual(a.framesIn, 3)
        XCTAssertEqual(a.bytesIn, UInt64(arp.count + data.count + unknown.count))
        XCTAssertEqual(a.framesOut, 1)
        XCTAssertEqual(a.bytesOut, UInt64(reply.count))
        XCTAssertEqual(b.framesIn, 1)
        XCTAssertEqual(b.framesOut, 3)
        XCTAssertEqual(c.framesOut, 2)
        XCTAssertEqual([a.dropped, b.dropped, c.dropped], [0, 0, 0])
        XCTAssertEqual([a.spoofed, b.spoofed, c.spoofed], [0, 0, 0])
        XCTAssertEqual(network.port(of: MACAddress(value: 0x5254_0000_0002)), 1)
        XCTAssertEqual(network.port(of: MACAddress(value: 0x5254_0000_0003)), 2)
        XCTAssertNil(network.port(of: MACAddress(value: 0x5254_0000_0009)))
        XCTAssertEqual(devices[0].model.counters.framesTransmitted, 3)
        XCTAssertEqual(devices[1].model.counters.framesReceived, 3)
    }

    func testNoReceiveBufferDropsAndCounts() {
        var (vms, devices, network) = makeNetwork()
        // C consumes its four buffers; the fifth broadcast is dropped for C only.
        for n in 0..<5 {
            vms[0].send(&devices[0], frame(to: broadcast, from: macs[0], payload: 46, seed: UInt8(n)))
            vms[1].postReceiveBuffers(&devices[1], count: 1)
        }
        forward(&network, &devices, from: 0)
        XCTAssertEqual(vms[1].received().count, 5)
        XCTAssertEqual(vms[2].received().count, 4)
        XCTAssertEqual(network.counters(port: 2).dropped, 1)
        XCTAssertEqual(network.counters(port: 2).framesOut, 4)
        XCTAssertEqual(network.counters(port: 1).dropped, 0)
        // A buffer that is too small is returned empty and the frame counted as dropped.
        vms[2].postReceiveBuffers(&devices[2], count: 1, size: 20)
        vms[0].send(&devices[0], frame(to: broadcast, from: macs[0], payload: 46))
        vms[1].postReceiveBuffers(&devices[1], count: 1)
        forward(&network, &devices, from: 0)
        XCTAssertEqual(vms[2].driver.usedElement(queue: 0, 4).length, 0)
        XCTAssertEqual(devices[2].model.counters.receiveErrors, 1)
        XCTAssertEqual(network.counters(port: 2).dropped, 2)
    }

    func testMalformedTransmitFramesAreSkipped() {
        var (vms, devices, network) = makeNetwork()
        vms[0].send(&devices[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])                        // runt
        vms[0].send(&devices[0], frame(to: broadcast, from: macs[0], payload: 1600))   // too long
        let good = frame(to: broadcast, from: macs[0], payload: 46)
        vms[0].send(&devices[0], good)
        XCTAssertEqual(forward(&network, &devices, from: 0), 1)
        XCTAssertEqual(vms[1].received(), [good])
        XCTAssertEqual(devices[0].model.counters.transmitErrors, 2)
        XCTAssertEqual(vms[0].driver.usedIndex(queue: 1), 3, "every tx buffer returned")
        XCTAssertEqual(devices[0].status & VirtioStatus.deviceNeedsReset, 0, "bad frames are not ring errors")
    }

    func testMulticastAndFramesToOwnPort() {
        var (vms, devices, network) = makeNetwork()
        let multicast = frame(to: [0x01, 0x00, 0x5E, 0, 0, 1], from: macs[1], payload: 46)
        vms[1].send(&devices[1], multicast)
        forward(&network, &devices, from: 1)
        XCTAssertEqual(vms[0].received(), [multicast])
        XCTAssertEqual(vms[2].received(), [multicast])
        // A frame for the sender's own address is filtered.
        let own = frame(to: macs[1], from: macs[1], payload: 46)
        vms[1].send(&devices[1], own)
        forward(&network, &devices, from: 1)
        XCTAssertEqual(vms[0].received().count, 1)
        XCTAssertEqual(vms[2].received().count, 1)
        XCTAssertEqual(network.counters(port: 1).framesIn, 2)
    }

    func testLinkDownAndBrokenRingIsolateOneVM() {
        var (vms, devices, network) = makeNetwork()
        devices[2].model.linkUp = false
        // B's rx ring is broken: avail.idx far ahead. B goes to NEEDS_RESET; A and C are unaffected.
        vms[1].driver.memory.store(UInt16(200), gpa: vms[1].driver.queues[0].avail + 2)
        let hello = frame(to: broadcast, from: macs[0], payload: 46)
        vms[0].send(&devices[0], hello)
        forward(&network, &devices, from: 0)
        XCTAssertEqual(devices[1].lastError, .availableIndexOutOfRange)
        XCTAssertNotEqual(devices[1].status & VirtioStatus.deviceNeedsReset, 0)
        XCTAssertEqual(vms[2].received(), [], "link down")
        XCTAssertEqual(network.counters(port: 1).dropped, 1)
        XCTAssertEqual(network.counters(port: 2).dropped, 1)
        devices[2].model.linkUp = true
        vms[0].send(&devices[0], hello)
        forward(&network, &devices, from: 0)
        XCTAssertEqual(vms[2].received(), [hello])
        XCTAssertTrue(vms.allSatisfy { $0.driver.guardIntact })
    }

    func testSpoofedSourceAddressesAreDroppedAndCounted() {
        var (vms, devices, network) = makeNetwork()
        // C sends with A's address (to take A's traffic) and with 40 random addresses: all dropped.
        for round in 0..<5 {
            vms[2].send(&devices[2], frame(to: broadcast, from: macs[0], payload: 46))
            for n in 0..<7 { vms[2].send(&devices[2], frame(to: macs[0], from: [0x02, 0x99, 0, 0, UInt8(round), UInt8(n)], payload: 46)) }
            XCTAssertEqual(forward(&network, &devices, from: 2), 8, "taken from C, and dropped")
        }
        vms[2].send(&devices[2], frame(to: broadcast, from: macs[0], payload: 46))
        forward(&network, &devices, from: 2)
        XCTAssertEqual(network.counters(port: 2).spoofed, 41)
        XCTAssertEqual(network.counters(port: 2).framesIn, 0)
        XCTAssertEqual(vms[0].received(), [])
        XCTAssertEqual(vms[1].received(), [])
        XCTAssertEqual(vms[2].driver.usedIndex(queue: 1), 41, "every spoofed frame's buffer came back")
        // B's unicast to A still reaches A alone, and no random address got a port.
        let toA = frame(to: macs[0], from: macs[1], payload: 46)
        vms[1].send(&devices[1], toA)
        forward(&network, &devices, from: 1)
        XCTAssertEqual(vms[0].received(), [toA])
        XCTAssertEqual(vms[2].received(), [])
        XCTAssertEqual(network.port(of: MACAddress(value: 0x5254_0000_0001)), 0)
        XCTAssertNil(network.port(of: MACAddress(value: 0x0299_0000_0000)))
    }

    func testForwardTakesAtMostTheBudgetOfFrames() {
        let vms = [TestNetVM(), TestNetVM()]
        var devices = [vms[0].makeDevice(mac: macs[0]), vms[1].makeDevice(mac: macs[1])]
        var network = VirtualSwitch()
        XCTAssertEqual(network.addPort(mac: MACAddress(InlineArray { self.macs[0][$0] })), 0)
        XCTAssertEqual(network.addPort(mac: MACAddress(InlineArray { self.macs[1][$0] })), 1)
        vms[1].postReceiveBuffers(&devices[1], count: 4)
        for n in 0..<8 { vms[0].send(&devices[0], frame(to: macs[1], from: macs[0], payload: 46, seed: UInt8(n))) }
        let taken = devices.withUnsafeMutableBufferPointer { network.forward(from: 0, ports: $0, limit: 3) }
        XCTAssertEqual(taken, 3)
        XCTAssertTrue(devices[0].model.transmitPending, "frames left: the queue stays pending")
        XCTAssertEqual(vms[0].driver.usedIndex(queue: 1), 3)
        XCTAssertEqual(devices.withUnsafeMutableBufferPointer { network.forward(from: 0, ports: $0, limit: 3) }, 3)
        XCTAssertEqual(devices.withUnsafeMutableBufferPointer { network.forward(from: 0, ports: $0, limit: 3) }, 2)
        XCTAssertFalse(devices[0].model.transmitPending)
        XCTAssertEqual(network.counters(port: 1).framesOut, 4, "B posted 4 receive buffers")
    }

    func testPortLimitsAndAddresses() {
        var network = VirtualSwitch()
        for n in 0..<8 { XCTAssertEqual(network.addPort(mac: MACAddress(value: 0x0200_0000_0000 + UInt64(n))), n) }
        XCTAssertNil(network.addPort(mac: MACAddress(value: 0x0200_0000_0009)), "all ports in use")
        var other = VirtualSwitch()
        XCTAssertNil(other.addPort(mac: MACAddress(value: 0x0300_0000_0001)), "a group address owns no port")
        XCTAssertEqual(other.addPort(mac: MACAddress(value: 0x0200_0000_0001)), 0)
        XCTAssertNil(other.addPort(mac: MACAddress(value: 0x0200_0000_0001)), "two ports with one address")
        // Runts and unknown ports.
        let bytes = [UInt8](repeating: 0, count: 60)
        XCTAssertEqual([UInt8](repeating: 0, count: 13).withUnsafeBytes { network.route($0, from: 0) }, 0)
        XCTAssertEqual(network.counters(port: 0).dropped, 1)
        XCTAssertEqual(bytes.withUnsafeBytes { network.route($0, from: 9) }, 0)
    }
}
