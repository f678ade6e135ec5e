import Machine

// The host's own timer, for CPUs without the VMX-preemption timer (Core 2): the 8254's
// channel 0 as a one-shot (mode 0, "interrupt on terminal count"), its output routed by the host's
// I/O APIC (pin 2) as an NMI to this CPU. An NMI, not an interrupt: IF does not mask it, so it ends
// the run of a guest that spins with interrupts off (NMI exiting is on for every VM: the exit
// handler takes it as the timer's), and Bochs 2.7 turns an external interrupt into a VM exit only
// once the guest has touched IF (it recomputes its interrupt mask at VM entry only on an IF change).
// Virtual NMIs are on where the CPU has them (Core 2 does): the guest's own NMI blocking is then
// virtual and never holds the host's NMIs back. (Without them Bochs 2.7 saves "blocking by NMI" as
// 1 on an NMI's VM exit, SDM Vol. 3C §27.3.4 says 0, and no later NMI would leave the guest.) The engine arms it for the earlier of the end of a vCPU's turn and
// its VM's next device timer, as it would the preemption timer; the count is in the PIT's
// 1.193182 MHz ticks, at most 65,535 (54.9 ms): a later deadline takes more than one NMI. It
// counts wall time, so exit handling is charged like guest time. An NMI that arrives in the host
// marks the running vCPU's timer for re-arming.

enum HostTimer {
    nonisolated(unsafe) private(set) static var enabled = false
    /// NMIs taken as the host timer's (in guests or in the host).
    nonisolated(unsafe) static var ticks: UInt64 = 0
    /// The vCPU on the CPU (GuestRunner.runTurn), whose timer an NMI in the host re-arms.
    nonisolated(unsafe) static var current: UnsafeMutablePointer<VCPU>? = nil

    /// Routes the PIT's output (I/O APIC pin 2) to this CPU as an NMI, edge-triggered (once).
    static func enable() {
        guard !enabled else { return }
        enabled = true
        // The I/O APIC's registers uncached (the identity map is write-back; MTRRs usually cover it).
        if !KernelPageTables.mapUncached(physical: 0xFEC0_0000, length: 0x1000) {
            print("swiftvisor: host timer: could not map the I/O APIC uncached; using the write-back map")
        }
        let ioapic = UnsafeMutableRawPointer(bitPattern: UInt(0xFEC0_0000)).unsafelyUnwrapped
        let apic = UnsafeMutableRawPointer(bitPattern: UInt(rdmsr(0x1B) & 0xF_FFFF_F000)).unsafelyUnwrapped
        let apicID = apic.load(fromByteOffset: 0x20, as: UInt32.self) >> 24
        ioapic.storeBytes(of: UInt32(0x15), as: UInt32.self)                       // pin 2, high: destination
        ioapic.storeBytes(of: apicID << 24, toByteOffset: 0x10, as: UInt32.self)
        ioapic.storeBytes(of: UInt32(0x14), as: UInt32.self)                       // low: NMI, physical, edge, unmasked
        ioapic.storeBytes(of: UInt32(4 << 8), toByteOffset: 0x10, as: UInt32.self)
    }

    /// Arms the one-shot for `deadline` (host TSC), counting from `now`.
    @inline(__always)
    static func arm(deadline: UInt64, now: UInt64) {
        let count = PIT8254.oneShotCount(ticks: deadline > now ? deadline &- now : 0, tscHz: HostTime.tscHz)
        outb(0x43, 0x30)                                   // channel 0, lobyte/hibyte, mode 0, binary
        outb(0x40, UInt8(truncatingIfNeeded: count))
        outb(0x40, UInt8(truncatingIfNeeded: count >> 8))  // counting starts with the high byte
    }

    /// An NMI while the timer is on: the current vCPU re-arms at its next entry.
    @inline(__always)
    static func fired() {
        ticks &+= 1
        current?.pointee.armedDeadline = 0
    }
}
