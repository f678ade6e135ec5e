// The host's PCI configuration space through configuration mechanism #1 (PCI 3.0 3.2.2.3.2:
// CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at 0xCFC), for the hypervisor's own drivers (the
// AHCI disk controller). Guests never reach these ports: their I/O bitmaps are all ones.
// Single CPU, interrupts off while the kernel probes: the address/data pair is not shared.

/// One host PCI function.
struct HostPCIFunction: Equatable {
    let bus: UInt8
    let device: UInt8
    let function: UInt8

    /// CONFIG_ADDRESS: enable (bit 31), bus 23:16, device 15:11, function 10:8, dword 7:2.
    private func address(_ offset: UInt8) -> UInt32 {
        0x8000_0000 | UInt32(bus) << 16 | UInt32(device & 0x1F) << 11 | UInt32(function & 7) << 8 | UInt32(offset & 0xFC)
    }

    func read32(_ offset: UInt8) -> UInt32 {
        outl(0xCF8, address(offset))
        return inl(0xCFC)
    }

    func write32(_ offset: UInt8, _ value: UInt32) {
        outl(0xCF8, address(offset))
        outl(0xCFC, value)
    }

    /// Vendor ID (0xFFFF: no function here) and device ID.
    var vendorID: UInt16 { UInt16(truncatingIfNeeded: read32(0x00)) }
    var deviceID: UInt16 { UInt16(truncatingIfNeeded: read32(0x00) >> 16) }

    /// "bb:dd.f", as lspci writes it.
    var location: String {
        "\(hex(bus, digits: 2).dropFirst(2)):\(hex(device, digits: 2).dropFirst(2)).\(function)"
    }

    /// Command register bits (PCI 3.0 6.2.2).
    enum Command {
        static var memorySpace: UInt16 { 1 << 1 }
        static var busMaster: UInt16 { 1 << 2 }
        /// Interrupt Disable: the function asserts no INTx.
        static var interruptDisable: UInt16 { 1 << 10 }
    }

    /// Sets bits of the command register (offset 0x04), leaving the status register (its upper
    /// half, write-one-to-clear) alone.
    func enable(_ bits: UInt16) {
        let command = UInt16(truncatingIfNeeded: read32(0x04)) | bits
        write32(0x04, UInt32(command))
    }

    /// The first function for which `matches` holds, scanning every bus, device and function
    /// (functions 1–7 only where header type bit 7 says the device has several).
    static func first(where matches: (HostPCIFunction) -> Bool) -> HostPCIFunction? {
        var bus = 0
        while bus < 256 {
            var device: UInt8 = 0
            while device < 32 {
                let zero = HostPCIFunction(bus: UInt8(bus), device: device, function: 0)
                if zero.vendorID != 0xFFFF {
                    let multi = zero.read32(0x0C) >> 16 & 0x80 != 0
                    var function: UInt8 = 0
                    while function < (multi ? 8 : 1) {
                        let candidate = HostPCIFunction(bus: UInt8(bus), device: device, function: function)
                        if candidate.vendorID != 0xFFFF && matches(candidate) { return candidate }
                        function += 1
                    }
                }
                device += 1
            }
            bus += 1
        }
        return nil
    }
}
