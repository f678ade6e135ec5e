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
    /// count) or a write it does not take, emulated like a trapped APIC page (MMIOExit). Only
    /// linear accesses (type 0 read, 1 write, Table 28-6) are instructions; the others (during
    /// event delivery, guest-physical) fail. The address and nil when done, else why not.
    public static func access<H: VMXHardware, Bus: MMIOBus>(
        _ hw: H, _ regs: inout GuestRegisters, apicBase: UInt64, memory: GuestMemory, bus: inout Bus
    ) -> (gpa: UInt64, failure: MMIOExit.Failure?) {
        let qualification = hw.read(.exitQualification)
        let gpa = apicBase &+ (qualification & 0xFFF)
        guard (qualification >> 12) & 0xF <= 1 else { return (gpa, .duringEventDelivery) }
        guard gpa >= memory.size else { return (gpa, .notDevice) }
        return (gpa, MMIOExit.handle(hw, &regs, gpa: gpa, memory: memory, bus: &bus))
    }
}
