import VTx
import Machine

/// The exits of APIC virtualization (SDM Vol. 3C §30.4), where the CPU serves a vCPU's xAPIC page
/// from its virtual-APIC page (VirtualAPICPage) and the local-APIC model (LocalAPIC, behind the
/// PC's MMIO space) carries out what the page cannot.
public enum APICAccessExit {
    /// APIC-write, trap-like (§30.4.3.3): the guest's write is on the virtual-APIC page and RIP is
    /// past it; the model takes the register's new value (EOI, ICR, LVT, ...). A write of ICR high
    /// (0x310) stays on the page without an exit: it goes to the model with the low half.
    public static func write<H: VMXHardware, Bus: MMIOBus>(_ hw: H, page: UnsafeRawPointer, apicBase: UInt64,
                                                          bus: inout Bus) {
        let offset = UInt32(truncatingIfNeeded: hw.read(.exitQualification)) & 0xFF0
        if offset == LocalAPIC.icrLowOffset {
            _ = bus.mmioWrite(gpa: apicBase &+ UInt64(LocalAPIC.icrHighOffset), size: 4,
                              value: UInt64(VirtualAPICPage.register(page, offset: LocalAPIC.icrHighOffset)))
        }
        _ = bus.mmioWrite(gpa: apicBase &+ UInt64(offset), size: 4, value: UInt64(VirtualAPICPage.register(page, offset: offset)))
    }

    /// APIC-access, fault-like (§30.4): a read the page does not answer (APR, PPR, RRD, current
    /// count) or a write it does not take, emulated like a trapped APIC page (MMIOExit, after the
    /// caller's device check). The guest-physical address, and whether the access is an
    /// instruction's: only linear accesses (type 0 read, 1 write, Table 28-6) are; the others
    /// (during event delivery, guest-physical) are not emulated.
    @inline(__always)
    public static func linearAccess<H: VMXHardware>(_ hw: H, apicBase: UInt64) -> (gpa: UInt64, emulate: Bool) {
        let qualification = hw.read(.exitQualification)
        return (apicBase &+ (qualification & 0xFFF), (qualification >> 12) & 0xF <= 1)
    }
}
