// The PCI side of a virtual PC: a VirtioPCIPlatform (bus 0, virtio-blk in slot 1 on IRQ 10,
// virtio-net in slot 2 on IRQ 11) behind configuration mechanism #1 (0xCF8 as a dword,
// 0xCFC-0xCFF) and its BAR window (emulated MMIO), with the devices' INTx lines driving
// the 8259 pair and the I/O APIC like the ISA lines do; or, once the driver enables MSI-X,
// their messages reaching the local APICs the way the I/O APIC's do (`deliverMSI`).
//
// The disk's medium is the PC's `DiskStorage` (RAM or a host-disk region, as for the ATA disk).
// The platform is ~13 KiB and built in place by its owner (the engine keeps it beside the VM,
// `VirtioPCIPlatform.initialize(at:)`); the PC holds a pointer to it, so the PC's own size and
// the exit path's copies do not grow.
//
// Interrupt routing (no _PRT in the DSDT): firmware writes the IRQ into each device's
// interrupt line register, and Linux, finding no ACPI routing for bus 0, registers that ISA
// IRQ as a level-triggered, active-low GSI ("PCI INT A: no GSI - using ISA IRQ 10",
// drivers/acpi/pci_irq.c). PCI INTx# is active low (PCI Local Bus 3.0 §2.2.6), so the I/O APIC
// pin idles high and goes low while a device asserts it; the 8259 input (edge-triggered: the
// ELCR is not modelled) sees the asserted level as high, and each assertion is a rising edge.

extension VirtualPC {
    /// Plugs `platform` into this PC (after `enableAPIC`, so the I/O APIC pins start idle-high).
    /// The caller owns the platform and keeps it alive while the PC exists.
    public mutating func attachPCI(_ platform: UnsafeMutablePointer<VirtioPCIPlatform<DiskStorage>>) {
        pci = platform
        hasPCI = true
        _ = platform.pointee.takeIRQChanges()
        if ioapic != nil {
            setIOAPICPin(irq: VirtioPCIPlatform<DiskStorage>.blockIRQ, high: true)
            setIOAPICPin(irq: VirtioPCIPlatform<DiskStorage>.netIRQ, high: true)
        }
        syncPCIInterrupts()
    }

    /// IN from a PCI configuration port; nil when the bus does not decode it (or the PC has no PCI).
    @inline(__always)
    mutating func pciPortIn(port: UInt16, size: Int) -> UInt32? {
        guard hasPCI, let value = pci.unsafelyUnwrapped.pointee.portIn(port: port, size: size) else { return nil }
        return UInt32(truncatingIfNeeded: value)
    }

    /// OUT to a PCI configuration port; false when the bus does not decode it.
    @inline(__always)
    mutating func pciPortOut(port: UInt16, size: Int, value: UInt32) -> Bool {
        guard hasPCI, pci.unsafelyUnwrapped.pointee.portOut(port: port, size: size, value: UInt64(value)) else { return false }
        // A configuration write may unmask MSI-X vectors or turn MSI-X on or off.
        if port != PCIConfigAddress.port { syncPCIInterrupts() }
        return true
    }

    /// Which device region answers at `gpa`, nil when none does: in `mmioRead`'s and `mmioWrite`'s
    /// order, the vCPU's xAPIC page, the I/O APIC's window, the ECAM window, then the BARs in device
    /// and BAR order. The answer is the region's base (page-aligned) with its kind in bits 11:0, so
    /// two addresses with the same answer are one device's.
    public func mmioRegion(at gpa: UInt64, vcpu: Int = 0) -> UInt64? {
        if hasAPIC, lapics[vcpu].xAPICMode, gpa >= lapics[vcpu].mmioBase, gpa &- lapics[vcpu].mmioBase < 0x1000 {
            return lapics[vcpu].mmioBase | 1
        }
        if ioapic != nil, gpa >= IOAPIC.defaultBase, gpa &- IOAPIC.defaultBase < IOAPIC.mmioSize { return IOAPIC.defaultBase | 2 }
        guard hasPCI else { return nil }
        if VirtioPCIPlatform<DiskStorage>.isECAM(gpa) { return VirtioPCIPlatform<DiskStorage>.ecamBase | 3 }
        guard let hit = pci.unsafelyUnwrapped.pointee.bus.decodeMemory(address: gpa) else { return nil }
        return (gpa &- hit.offset) | UInt64(0x10 &+ hit.device &* 8 &+ hit.bar)   // BARs are aligned to their size, ≥ 4 KiB
    }

    /// Whether a device BAR (as the guest programmed it) covers `gpa`.
    @inline(__always)
    func pciDecodes(gpa: UInt64) -> Bool {
        hasPCI && pci.unsafelyUnwrapped.pointee.hasMMIODevice(at: gpa)
    }

    /// A read of a device BAR; nil when none covers `gpa`.
    mutating func pciMMIORead(gpa: UInt64, size: Int) -> UInt64? {
        guard hasPCI, let value = pci.unsafelyUnwrapped.pointee.mmioRead(gpa: gpa, size: size) else { return nil }
        syncPCIInterrupts()
        return value
    }

    /// A write of a device BAR (a queue notification runs the request); false when none covers `gpa`.
    mutating func pciMMIOWrite(gpa: UInt64, size: Int, value: UInt64, tsc: UInt64) -> Bool {
        guard hasPCI, pci.unsafelyUnwrapped.pointee.mmioWrite(gpa: gpa, size: size, value: value) else { return false }
        syncPCIInterrupts()
        deviceWorkChanged(tsc: tsc)
        return true
    }

    /// Brings the interrupt controllers up to the devices' INTx levels (after any device activity,
    /// e.g. frames the virtual switch delivered).
    public mutating func syncPCIInterrupts() {
        guard hasPCI else { return }
        if pci.unsafelyUnwrapped.pointee.messagesPending { deliverMSIMessages() }
        let changes = pci.unsafelyUnwrapped.pointee.takeIRQChanges()
        let changed = changes.raised | changes.lowered
        guard changed != 0 else { return }
        var irq: UInt8 = 0
        while irq < 16 {
            let bit: UInt16 = 1 << UInt16(irq)
            if changed & bit != 0 {
                let asserted = changes.raised & bit != 0
                pic.setLevel(irq: irq, high: asserted)
                if ioapic != nil { setIOAPICPin(irq: irq, high: !asserted) }   // INTx# is active low
            }
            irq &+= 1
        }
        refreshInterruptPending()
    }
}

extension VirtualPC {
    /// Sends the devices' MSI-X messages to the local APICs they address, as an I/O APIC
    /// message would go (`deliver`); a message no local APIC can take (no APIC model, an
    /// address outside 0xFEExxxxx, a vector below 16, a mode other than fixed, lowest priority
    /// or NMI) is dropped and counted.
    @inline(never)
    mutating func deliverMSIMessages() {
        while let message = pci.unsafelyUnwrapped.pointee.takeMessage() {
            guard hasAPIC, let delivery = try? PCIMSIDelivery(message) else {
                pci.unsafelyUnwrapped.pointee.messagesDropped &+= 1
                continue
            }
            pci.unsafelyUnwrapped.pointee.messagesDelivered &+= 1
            deliver(IOAPICMessage(pin: 0xFF, vector: delivery.vector, deliveryMode: delivery.deliveryMode,
                                  logicalDestination: delivery.logicalDestination, destination: delivery.destination,
                                  levelTriggered: false))
        }
        refreshInterruptPending()
    }
}
