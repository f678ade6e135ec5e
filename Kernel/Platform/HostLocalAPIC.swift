import X86

// This CPU's own local APIC, for the host's inter-processor interrupts (SDM Vol. 3A ch. 11):
// INIT and start-up IPIs to start the APs (§8.4.4.1), a fixed IPI to wake a waiting AP, and
// its end of interrupt. In xAPIC mode the registers are MMIO at IA32_APIC_BASE (mapped uncached,
// as HostTimer maps the I/O APIC); in x2APIC mode (IA32_APIC_BASE.EXTD, as firmware may leave
// the BSP) they are the MSRs 0x800 + offset / 16 (§11.12.1), with a 32-bit destination. Every
// CPU sees its own local APIC at the same address, so the same code serves the BSP and the APs.

enum HostLocalAPIC {
    /// The Interrupt Command Register's delivery modes (§11.6.1, Figure 11-12, bits 10:8).
    enum DeliveryMode: UInt32 {
        case fixed = 0b000
        case initialize = 0b101
        case startup = 0b110
    }

    static let idRegister = 0x20, eoiRegister = 0xB0, spuriousRegister = 0xF0
    static let icrLow = 0x300, icrHigh = 0x310
    static let deliveryPending: UInt32 = 1 << 12
    static let levelAssert: UInt32 = 1 << 14
    static let x2APICMode: UInt64 = 1 << 10
    static let spuriousVector: UInt32 = 0xFF
    static let softwareEnable: UInt32 = 1 << 8

    static var isX2APIC: Bool { rdmsr(MSR.ia32APICBase) & x2APICMode != 0 }
    static var base: UInt64 { rdmsr(MSR.ia32APICBase) & 0xF_FFFF_F000 }

    /// The xAPIC registers uncached in the kernel's map (the BSP, once, before the APs start).
    static func mapRegisters() -> Bool {
        isX2APIC || KernelPageTables.mapUncached(physical: base, length: 0x1000)
    }

    private static func read(_ offset: Int) -> UInt32 {
        if isX2APIC { return UInt32(truncatingIfNeeded: rdmsr(0x800 + UInt32(offset >> 4))) }
        return mmio_read32(base + UInt64(offset))
    }

    private static func write(_ offset: Int, _ value: UInt32) {
        if isX2APIC { wrmsr(0x800 + UInt32(offset >> 4), UInt64(value)); return }
        mmio_write32(base + UInt64(offset), value)
    }

    /// This CPU's APIC ID (8 bits in xAPIC mode, 32 in x2APIC mode).
    static var id: UInt32 { isX2APIC ? read(idRegister) : read(idRegister) >> 24 }

    /// Software-enables this local APIC (SVR bit 8), which a CPU must before it accepts fixed
    /// interrupts (§11.4.7.2); its LVT entries stay masked as INIT left them.
    static func enable() {
        write(spuriousRegister, read(spuriousRegister) | softwareEnable | spuriousVector)
    }

    static func endOfInterrupt() { write(eoiRegister, 0) }

    /// Sends one IPI, physical destination, edge-triggered, asserted, and waits (at most 1 ms)
    /// until the local APIC has sent it (Delivery Status idle; x2APIC mode has no such bit).
    /// False when it stays pending, or the destination does not fit xAPIC's 8 bits.
    @discardableResult
    static func send(_ mode: DeliveryMode, vector: UInt8 = 0, to destination: UInt32) -> Bool {
        let low = UInt32(vector) | mode.rawValue << 8 | levelAssert
        if isX2APIC {
            wrmsr(0x830, UInt64(destination) << 32 | UInt64(low))
            return true
        }
        guard destination <= 0xFF else { return false }
        write(icrHigh, destination << 24)
        write(icrLow, low)
        return HostTime.wait(microseconds: 1000) { read(icrLow) & deliveryPending == 0 }
    }
}
