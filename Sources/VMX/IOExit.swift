import VTx
import Machine

/// I/O instructions (SDM Vol. 3C §26.1.3): the I/O bitmaps decide which ports
/// exit; the qualification (Table 28-5) gives size, direction, string/REP and the
/// port. Ports go to the VM's VirtualPC: its emulated devices, or "nothing there"
/// (reads return all ones, writes are dropped, the port is counted).
public enum IOExit {
    public enum Outcome: Equatable {
        case resume
        /// INS/OUTS: StringIOExit's (it walks the guest's page tables).
        case string(IOExitQualification)
        /// A device asked the machine to power off or reset; RIP is past the OUT.
        case power(PowerRequest, rip: UInt64)
    }

    @inline(__always)
    public static func handle<H: VMXHardware, C: ByteSink, D: ByteSink, S: BlockStorage>(
        _ hw: H, _ regs: inout GuestRegisters, pc: inout VirtualPC<C, D, S>
    ) -> Outcome {
        let q = IOExitQualification(rawValue: hw.read(.exitQualification))
        if q.isString { return .string(q) }
        let size = q.size
        if q.isIn {
            let value = UInt64(pc.portIn(port: q.port, size: size, tsc: hw.timestamp()))
            switch size {
            case 1: regs.rax = (regs.rax & ~0xFF) | (value & 0xFF)
            case 2: regs.rax = (regs.rax & ~0xFFFF) | (value & 0xFFFF)
            default: regs.rax = value & 0xFFFF_FFFF      // a 32-bit destination zero-extends
            }
        } else {
            pc.portOut(port: q.port, size: size, value: UInt32(truncatingIfNeeded: regs.rax), tsc: hw.timestamp())
            if let request = pc.powerRequest {
                // The i8042 pulsed the CPU's reset line, or ACPI S5 or the reset register was
                // written: this machine is done (there is no firmware to reboot into).
                GuestEvents.skipInstruction(hw)
                return .power(request, rip: hw.read(.guestRIP))
            }
        }
        GuestEvents.skipInstruction(hw)
        return .resume
    }
}
