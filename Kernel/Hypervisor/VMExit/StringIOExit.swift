import X86
import VTx
import Machine
import VMX

// INS/OUTS exits (SDM Vol. 3C §28.2.1 Table 28-5; the address size and, for OUTS, the segment
// come from the VM-exit instruction-information field, §28.2.5 Table 28-8). The instruction is
// carried out by StringIO (Sources/Machine, unit-tested) on the guest's memory through its own
// paging, a whole REP batch per exit: an ATA sector read with `rep insw` is one exit, not 256.
// Faults are delivered as the processor would deliver them: #PF with CR2, #GP(0)/#SS(0) for a
// segment or canonical-form violation, with rSI/rDI/rCX showing the elements already moved.
// An element outside the guest's RAM ends the guest as an EPT violation would.
enum StringIOExit {
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
        let info = VMExitInstructionInformation(rawValue: UInt32(truncatingIfNeeded: vmreadFast(.vmExitInstructionInformation)))
        let addressSize = info.addressSize
        guard addressSize != 0 else {
            vcpu.pointee.stop = .unsupportedStringIO(port: q.port, rip: vmreadFast(.guestRIP))
            return false
        }
        // INS writes ES:[rDI] (no override); OUTS reads seg:[rSI], DS unless overridden.
        let segment: SegmentRegister = q.isIn ? .es : (info.segment ?? .ds)
        let state = GuestControlState.registers()
        let in64 = state.in64BitMode
        let (base, limit, rights) = segmentRegisters(segment)
        // Access rights bit 16: unusable (a null selector); type bit 2 of a data segment: expand-down.
        if !in64 && rights & (1 << 16) != 0 {
            inject(segment == .ss ? 12 : 13)
            return true
        }
        let expandDown = rights & 0x1C == 0x14
        let op = StringIOInstruction(
            isIn: q.isIn, size: q.size, port: q.port, repeated: q.isRep, addressSize: addressSize,
            segmentBase: in64 ? (segment == .fs || segment == .gs ? base : 0) : base,
            segmentLimit: in64 || expandDown ? nil : limit, stackSegment: segment == .ss,
            index: q.isIn ? regs.pointee.rdi : regs.pointee.rsi, count: regs.pointee.rcx,
            directionDown: vmreadFast(.guestRFLAGS) & RFLAGS.df.rawValue != 0,
            user: GuestControlState.cpl() == 3)
        var ports = Ports(vcpu: vcpu)
        let out = StringIO.run(op, paging: GuestControlState.paging(), memory: vcpu.pointee.memory, ports: &ports)
        if q.isIn { regs.pointee.rdi = out.index } else { regs.pointee.rsi = out.index }
        if q.isRep { regs.pointee.rcx = out.count }
        switch out.fault {
        case nil:
            if out.complete { Guest.skipInstruction() }
        case .pageFault(let linear, let code):
            // CR2 is not part of the VMCS: the guest's CR2 is the processor's while it runs, and
            // the hypervisor never takes a page fault of its own between exit and entry.
            write_cr2(linear)
            Guest.inject(.hardwareException(vector: 14, hasErrorCode: true), errorCode: code.rawValue)
        case .generalProtection:
            inject(13)
        case .stackFault:
            inject(12)
        case .outsideRAM(let gpa):
            let access: EPTViolationQualification = q.isIn ? .write : .read
            vcpu.pointee.stop = .eptViolation(gpa: gpa, qualification: access, linearAddress: nil, rip: vmreadFast(.guestRIP))
            return false
        }
        return true
    }

    /// #GP(0) or #SS(0).
    private static func inject(_ vector: UInt8) {
        Guest.inject(.hardwareException(vector: vector, hasErrorCode: true), errorCode: 0)
    }

    private static func segmentRegisters(_ segment: SegmentRegister) -> (base: UInt64, limit: UInt64, rights: UInt64) {
        switch segment {
        case .es: return (vmreadFast(.guestESBase), vmreadFast(.guestESLimit), vmreadFast(.guestESAccessRights))
        case .cs: return (vmreadFast(.guestCSBase), vmreadFast(.guestCSLimit), vmreadFast(.guestCSAccessRights))
        case .ss: return (vmreadFast(.guestSSBase), vmreadFast(.guestSSLimit), vmreadFast(.guestSSAccessRights))
        case .ds: return (vmreadFast(.guestDSBase), vmreadFast(.guestDSLimit), vmreadFast(.guestDSAccessRights))
        case .fs: return (vmreadFast(.guestFSBase), vmreadFast(.guestFSLimit), vmreadFast(.guestFSAccessRights))
        case .gs: return (vmreadFast(.guestGSBase), vmreadFast(.guestGSLimit), vmreadFast(.guestGSAccessRights))
        }
    }
}
