// The virtual-APIC page (SDM Vol. 3C §30.1): with "use TPR shadow", "virtualize APIC accesses"
// and "APIC-register virtualization" on, the processor serves a guest's reads of its xAPIC page
// from this 4 KiB page without a VM exit, for the registers §30.4.2 lists: ID, version, TPR, EOI,
// LDR, DFR, SVR, ISR, TMR, IRR, ESR, the LVTs, ICR, initial count and divide configuration.
// Reads of the others (APR, PPR, RRD, current count) are APIC-access VM exits; writes land on the
// page and then exit (APIC-write, trap-like) for the engine to carry out on the LocalAPIC model -
// except TPR writes, which stay on the page (TPR virtualization) and which the engine reads back
// before it decides on an interrupt.
//
// The LocalAPIC model stays the one owner of the APIC's state: this page is its mirror, written
// whenever the model changed (`LocalAPIC.mirror`), before the vCPU runs again.

/// The register offsets the processor virtualizes reads of (§30.4.2, "APIC-register virtualization").
public enum VirtualAPICPage {
    public static let virtualizedReads: [UInt32] = [
        0x020, 0x030, 0x080, 0x0B0, 0x0D0, 0x0E0, 0x0F0,
        0x100, 0x110, 0x120, 0x130, 0x140, 0x150, 0x160, 0x170,
        0x180, 0x190, 0x1A0, 0x1B0, 0x1C0, 0x1D0, 0x1E0, 0x1F0,
        0x200, 0x210, 0x220, 0x230, 0x240, 0x250, 0x260, 0x270,
        0x280, 0x2F0, 0x300, 0x310, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3E0,
    ]

    /// The virtual TPR (VTPR, offset 0x80) as the guest left it.
    @inline(__always)
    public static func taskPriority(_ page: UnsafeRawPointer) -> UInt32 {
        page.load(fromByteOffset: 0x80, as: UInt32.self) & 0xFF
    }

    /// The 32-bit value the guest wrote at `offset` (an APIC-write exit's register).
    @inline(__always)
    public static func register(_ page: UnsafeRawPointer, offset: UInt32) -> UInt32 {
        page.load(fromByteOffset: Int(offset & 0xFF0), as: UInt32.self)
    }
}

extension LocalAPIC {
    /// Writes the model's registers into a virtual-APIC page, at the offsets the processor
    /// virtualizes reads of (the rest of the page is left alone). Plain stores: it runs on the
    /// exit path before a vCPU whose APIC changed enters again.
    public func mirror(into page: UnsafeMutableRawPointer) {
        @inline(__always) func put(_ value: UInt32, _ offset: Int) {
            page.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
        }
        put(idRegister, 0x020)
        put(LocalAPIC.versionValue, 0x030)
        put(tpr, 0x080)
        put(0, 0x0B0)                                   // EOI reads 0
        put(ldr, 0x0D0)
        put(dfr | 0x0FFF_FFFF, 0x0E0)
        put(svr, 0x0F0)
        for i in 0..<8 {
            put(isr.register(i), 0x100 + 16 * i)
            put(tmr.register(i), 0x180 + 16 * i)
            put(irr.register(i), 0x200 + 16 * i)
        }
        put(esr, 0x280)
        put(lvtCMCI, 0x2F0)
        put(icrLow, 0x300)
        put(icrHigh, 0x310)
        put(lvtTimer, 0x320)
        put(lvtThermal, 0x330)
        put(lvtPerformance, 0x340)
        put(lvtLINT0, 0x350)
        put(lvtLINT1, 0x360)
        put(lvtError, 0x370)
        put(initialCount, 0x380)
        put(divideConfiguration, 0x3E0)
    }

    /// The guest changed its TPR on the virtual-APIC page (TPR virtualization, no exit): the
    /// model takes the new value before it decides on an interrupt.
    public mutating func takeVirtualTaskPriority(_ value: UInt32) {
        setTaskPriority(value & 0xFF)
    }
}
