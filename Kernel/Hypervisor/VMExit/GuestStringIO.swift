import VTx
import Machine
import VMX

// INS/OUTS (Sources/VMX/StringIOExit.swift) on this processor, with the VM's PC as the ports.
enum GuestStringIO {
    /// The virtual PC's ports, as StringIO sees them (a concrete type: direct calls, no allocation).
    struct Ports: StringIOPorts {
        let vcpu: UnsafeMutablePointer<VCPU>
        @inline(__always) mutating func input(port: UInt16, size: Int) -> UInt32 {
            vcpu.pointee.pc.portIn(port: port, size: size, tsc: rdtsc())
        }
        @inline(__always) mutating func output(port: UInt16, size: Int, value: UInt32) {
            vcpu.pointee.pc.portOut(port: port, size: size, value: value, tsc: rdtsc())
        }
    }

    static func handle(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                       _ q: IOExitQualification) -> Bool {
        var ports = Ports(vcpu: vcpu)
        switch StringIOExit.handle(HardwareVMCS(), &regs.pointee, q, memory: vcpu.pointee.memory, ports: &ports) {
        case .resume:
            return true
        case .unsupportedAddressSize:
            vcpu.pointee.stop = .unsupportedStringIO(port: q.port, rip: vmreadFast(.guestRIP))
            return false
        case .outsideRAM(let gpa, let access):
            vcpu.pointee.stop = .eptViolation(gpa: gpa, qualification: access, linearAddress: nil, rip: vmreadFast(.guestRIP))
            return false
        }
    }
}
