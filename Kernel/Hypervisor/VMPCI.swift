import X86
import Machine

// A VM's PCI platform: built for `pci=on` (or `net=on`) beside the VM, in host
// memory of its own (VirtioPCIPlatform.initialize(at:): ~13 KiB, never a stack temporary),
// plugged into the VM's VirtualPC, reported at the VM's end and freed with it.
//   slot 1: virtio-blk on the VM's disk (IRQ 10): its `disk=host…` region of the host disk,
//           the `+disk` module or the `disk=MiB` scratch disk (GuestDiskStorage, as for ATA)
//   slot 2: virtio-net with MAC 02:53:56:00:00:NN, NN counting VMs with a network (IRQ 11)

/// The PCI platform of a VM: its virtio-blk disk on the same media as the ATA disk.
typealias GuestPCIPlatform = VirtioPCIPlatform<GuestDiskStorage>

enum VMPCI {
    /// The platform for `spec` over `memory`; `disk` is the VM's RAM disk, if any (a `disk=host…`
    /// region wins, as for ATA).
    static func build(_ spec: GuestSpec, memory: GuestMemory,
                      disk: UnsafeMutableRawBufferPointer?) -> UnsafeMutablePointer<GuestPCIPlatform> {
        var mac: InlineArray<6, UInt8>? = nil
        if spec.options.net { mac = [0x02, 0x53, 0x56, 0x00, 0x00, spec.macSuffix] }
        let platform = UnsafeMutablePointer<GuestPCIPlatform>.allocate(capacity: 1)
        var storage: GuestDiskStorage? = nil
        if let host = spec.hostDiskStorage { storage = .host(host) }
        else if let disk { storage = .memory(ATABlockStorage(disk)) }
        GuestPCIPlatform.initialize(at: platform, memory: memory, disk: storage, readOnly: spec.diskReadOnly, mac: mac)
        return platform
    }

    /// The address ranges the loaders reserve in the guest's memory map: the ECAM window with pci=on.
    static func reservedRanges(_ spec: GuestSpec) -> [AddressRange] {
        spec.options.pci ? [AddressRange(base: GuestPCIPlatform.ecamBase, size: GuestPCIPlatform.ecamSize)] : []
    }

    static func destroy(_ platform: UnsafeMutablePointer<GuestPCIPlatform>?) {
        guard let platform else { return }
        platform.deinitialize(count: 1)
        platform.deallocate()
    }

    /// The devices' counters and any malformed-ring resets, for the VM's final report.
    static func printReport(_ platform: UnsafeMutablePointer<GuestPCIPlatform>?, prefix: String) {
        guard let platform else { return }
        if let block = platform.pointee.block {
            let c = block.model.counters
            print("\(prefix)virtio-blk: \(c.reads) reads (\(c.bytesRead) bytes), \(c.writes) writes (\(c.bytesWritten) bytes), "
                + "\(c.flushes) flushes, \(c.errors) errors, \(block.notifications) notifications"
                + malformed(block.malformedCount, block.lastError))
            if block.continuations > 0 {
                print("\(prefix)virtio-blk: deferred work went on \(block.continuations) times (at most "
                    + "\(DeviceWorkBudget.bytesPerExit / 1024) KiB and \(DeviceWorkBudget.requestsPerExit) requests each, "
                    + "\(DeviceWorkBudget.guestNanosecondsBetween / 1000) µs of guest time apart)")
            }
        }
        if let net = platform.pointee.net {
            let c = net.model.counters
            var mac = ""
            var index = 0
            while index < 6 {
                mac += (index == 0 ? "" : ":") + Format.hex(UInt64(net.model.mac[index]), digits: 2, prefix: false)
                index += 1
            }
            print("\(prefix)virtio-net \(mac): \(c.framesTransmitted) frames sent, \(c.framesReceived) received, "
                + "\(c.transmitErrors) bad tx, \(c.receiveErrors) rx too small, \(net.notifications) notifications"
                + malformed(net.malformedCount, net.lastError))
            VMNetwork.printReport(platform, prefix: prefix)
        }
        let delivered = platform.pointee.messagesDelivered, dropped = platform.pointee.messagesDropped
        if delivered > 0 || dropped > 0 {
            print("\(prefix)MSI-X: \(delivered) messages delivered, \(dropped) dropped "
                + "(no local APIC, an address outside 0xFEExxxxx, a vector below 16 or an unsupported delivery mode)")
        }
    }

    private static func malformed(_ count: UInt64, _ last: VirtqueueError?) -> String {
        guard count > 0, let last else { return "" }
        return "; malformed rings: \(count) (NEEDS_RESET; last: \(last.name))"
    }
}
