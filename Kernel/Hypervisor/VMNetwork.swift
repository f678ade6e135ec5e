import Machine

// The network between VMs: one VirtualSwitch per hypervisor run, created with the
// first VM that has `net=on`; each such VM's virtio-net device is a switch port (up to 8).
// When a VM's notify write leaves frames on its transmit queue, they move on that same exit
// (up to DeviceWorkBudget.framesPerExit; more at the VM's next exits, which its PC asks for):
// each is copied once out of the sender's guest memory into a stack buffer and once into each
// receiver's next receive buffer (VirtualSwitch.forward), with no allocation. The receivers'
// interrupt lines are brought up to date at once, and a receiver's vCPU halted in HLT is woken.
// Frames for a VM without a free receive buffer are dropped and counted (TCP retransmits).

struct VMNetwork {
    var fabric = VirtualSwitch()
    /// Port n's VM (nil: free, or the VM is gone).
    var vms = InlineArray<8, UnsafeMutablePointer<VirtualMachine>?>(repeating: nil)

    /// The run's switch; nil until a VM with a network is built.
    nonisolated(unsafe) static var shared: UnsafeMutablePointer<VMNetwork>? = nil

    /// Connects `vm`'s virtio-net device to a new port; prints why not when the switch is full.
    static func connect(_ vm: UnsafeMutablePointer<VirtualMachine>) {
        guard let platform = vm.pointee.pc.pci else { return }
        if shared == nil {
            let network = UnsafeMutablePointer<VMNetwork>.allocate(capacity: 1)
            network.initialize(to: VMNetwork())
            shared = network
        }
        let network = shared.unsafelyUnwrapped
        guard let mac = platform.pointee.net?.model.mac else { return }
        // A restarted VM has its MAC still: it takes its old port back.
        if let port = network.pointee.fabric.port(of: MACAddress(mac)), network.pointee.vms[port] == nil {
            network.pointee.vms[port] = vm
            platform.pointee.switchPort = port
            return
        }
        guard let port = network.pointee.fabric.addPort(mac: MACAddress(mac)) else {
            print("[\(vm.pointee.name.string)] network: the virtual switch has no free port (\(VirtualSwitch.maxPorts)): not connected")
            return
        }
        network.pointee.vms[port] = vm
        platform.pointee.switchPort = port
    }

    /// The VM is going away: its port delivers nothing from now on.
    static func disconnect(_ vm: UnsafeMutablePointer<VirtualMachine>) {
        guard let network = shared, let platform = vm.pointee.pc.pci else { return }
        let port = platform.pointee.switchPort
        if port >= 0 && port < VirtualSwitch.maxPorts { network.pointee.vms[port] = nil }
        platform.pointee.switchPort = -1
    }

    /// After an emulated MMIO access, and at the exits a VM's deferred device work asks for
    /// (VirtualPC.deviceWorkTSC): frames the VM queued for transmission go out now, at most
    /// `DeviceWorkBudget.framesPerExit` of them; the rest at its next exits.
    @inline(__always)
    static func sendQueuedFrames(_ vm: UnsafeMutablePointer<VirtualMachine>) {
        guard vm.pointee.pc.hasPCI, let network = shared,
              vm.pointee.pc.pci.unsafelyUnwrapped.pointee.hasTransmitPending else { return }
        forward(network, from: vm)
    }

    static func forward(_ network: UnsafeMutablePointer<VMNetwork>, from vm: UnsafeMutablePointer<VirtualMachine>) {
        let port = vm.pointee.pc.pci.unsafelyUnwrapped.pointee.switchPort
        guard port >= 0 else { return }
        var ports = Ports(vms: network.pointee.vms)
        network.pointee.fabric.forward(from: port, ports: &ports)
        vm.pointee.pc.syncPCIInterrupts()                  // the sender's used transmit buffers
        let now = rdtsc()                                  // read first: as the argument it makes Swift copy the whole VM
        vm.pointee.pc.deviceWorkChanged(tsc: now)          // frames left over: go on at a later exit
        var received = ports.received
        while received != 0 {
            let target = received.trailingZeroBitCount
            received &= received &- 1
            guard let other = ports.vm(target) else { continue }
            other.pointee.pc.syncPCIInterrupts()
            VirtualMachine.wakeHaltedVCPUs(other)
        }
    }

    /// The switch's view of the VMs: port n is VM n's VirtioPCIPlatform.
    struct Ports: VirtualSwitchPortSet {
        var vms: InlineArray<8, UnsafeMutablePointer<VirtualMachine>?>
        /// Ports that were handed a frame.
        var received: UInt32 = 0

        mutating func vm(_ port: Int) -> UnsafeMutablePointer<VirtualMachine>? {
            port >= 0 && port < VirtualSwitch.maxPorts ? vms[port] : nil
        }

        mutating func transmitFrame(port: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
            guard let vm = vm(port), vm.pointee.pc.hasPCI else { return nil }
            return vm.pointee.pc.pci.unsafelyUnwrapped.pointee.transmitFrame(into: buffer)
        }

        mutating func receiveFrame(port: Int, _ frame: UnsafeRawBufferPointer) -> Bool {
            guard let vm = vm(port), vm.pointee.pc.hasPCI, vm.pointee.stop == nil else { return false }
            received |= 1 << UInt32(port)
            return vm.pointee.pc.pci.unsafelyUnwrapped.pointee.receiveFrame(frame)
        }
    }

    /// The switch counters of `platform`'s port, for the VM's report.
    static func printReport(_ platform: UnsafeMutablePointer<GuestPCIPlatform>, prefix: String) {
        guard let network = shared, platform.pointee.switchPort >= 0 else { return }
        let port = platform.pointee.switchPort
        let c = network.pointee.fabric.counters(port: port)
        print("\(prefix)switch port \(port): \(c.framesIn) frames in (\(c.bytesIn) bytes), \(c.framesOut) out "
            + "(\(c.bytesOut) bytes), \(c.dropped) dropped, \(c.spoofed) spoofed")
    }
}
