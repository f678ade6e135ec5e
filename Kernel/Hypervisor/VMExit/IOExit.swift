import VTx
import Machine

// I/O instructions (SDM Vol. 3C §26.1.3): the I/O bitmaps decide which ports
// exit; the qualification (Table 28-5) gives size, direction, string/REP and the
// port. Ports go to the VM's VirtualPC: its emulated devices, or "nothing there"
// (reads return all ones, writes are dropped, the port is counted).
enum IOExit {
    @inline(__always)
    static func handle(_ vm: UnsafeMutablePointer<VirtualMachine>, _ regs: UnsafeMutablePointer<GuestRegisters>) -> Bool {
        let q = IOExitQualification(rawValue: vmreadFast(.exitQualification))
        if q.isString { return StringIOExit.handle(vm, regs, q) }
        let size = q.size
        if q.isIn {
            let value = UInt64(vm.pointee.pc.portIn(port: q.port, size: size, tsc: rdtsc()))
            switch size {
            case 1: regs.pointee.rax = (regs.pointee.rax & ~0xFF) | (value & 0xFF)
            case 2: regs.pointee.rax = (regs.pointee.rax & ~0xFFFF) | (value & 0xFFFF)
            default: regs.pointee.rax = value & 0xFFFF_FFFF      // a 32-bit destination zero-extends
            }
        } else {
            vm.pointee.pc.portOut(port: q.port, size: size, value: UInt32(truncatingIfNeeded: regs.pointee.rax), tsc: rdtsc())
            if let request = vm.pointee.pc.powerRequest {
                // The i8042 pulsed the CPU's reset line, or ACPI S5 or the reset register was
                // written: this machine is done (there is no firmware to reboot into).
                Guest.skipInstruction()
                let rip = vmreadFast(.guestRIP)
                switch request {
                case .keyboardControllerReset: vm.pointee.stop = .keyboardControllerReset(rip: rip)
                case .acpiPowerOff: vm.pointee.stop = .poweredOff(rip: rip)
                case .acpiReset: vm.pointee.stop = .acpiReset(rip: rip)
                }
                return false
            }
        }
        Guest.skipInstruction()
        return true
    }
}
