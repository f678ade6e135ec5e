import X86
import VTx
import Machine

/// INS/OUTS exits (SDM Vol. 3C §28.2.1 Table 28-5; the address size and, for OUTS, the segment
/// come from the VM-exit instruction-information field, §28.2.5 Table 28-8). The instruction is
/// carried out by StringIO (Sources/Machine) on the guest's memory through its own paging, a
/// whole REP batch per exit: an ATA sector read with `rep insw` is one exit, not 256. Faults are
/// delivered as the processor would deliver them: #PF with CR2, #GP(0)/#SS(0) for a segment or
/// canonical-form violation, with rSI/rDI/rCX showing the elements already moved. An element
/// outside the guest's RAM ends the guest as an EPT violation would.
public enum StringIOExit {
    public enum Outcome: Equatable {
        /// Resume the guest (the instruction completed, a batch of it did, or a fault is injected).
        case resume
        /// The instruction-information field gave no address size this engine knows.
        case unsupportedAddressSize
        /// An element lies outside the guest's RAM: the stop an EPT violation gives.
        case outsideRAM(gpa: UInt64, access: EPTViolationQualification)
    }

    @inline(__always)
    public static func handle<H: VMXHardware, Ports: StringIOPorts>(
        _ hw: H, _ regs: inout GuestRegisters, _ q: IOExitQualification, memory: GuestMemory, ports: inout Ports
    ) -> Outcome {
        let info = VMExitInstructionInformation(rawValue: UInt32(truncatingIfNeeded: hw.read(.vmExitInstructionInformation)))
        let addressSize = info.addressSize
        guard addressSize != 0 else { return .unsupportedAddressSize }
        // INS writes ES:[rDI] (no override); OUTS reads seg:[rSI], DS unless overridden.
        let segment: SegmentRegister = q.isIn ? .es : (info.segment ?? .ds)
        let in64 = GuestControlState.registers(hw).in64BitMode
        let (base, limit, rights) = segmentRegisters(hw, segment)
        // Access rights bit 16: unusable (a null selector); type bit 2 of a data segment: expand-down.
        if !in64 && rights & (1 << 16) != 0 {
            injectSegmentFault(hw, segment == .ss)
            return .resume
        }
        let expandDown = rights & 0x1C == 0x14
        let op = StringIOInstruction(
            isIn: q.isIn, size: q.size, port: q.port, repeated: q.isRep, addressSize: addressSize,
            segmentBase: in64 ? (segment == .fs || segment == .gs ? base : 0) : base,
            segmentLimit: in64 || expandDown ? nil : limit, stackSegment: segment == .ss,
            index: q.isIn ? regs.rdi : regs.rsi, count: regs.rcx,
            directionDown: hw.read(.guestRFLAGS) & RFLAGS.df.rawValue != 0,
            user: GuestControlState.cpl(hw) == 3)
        let out = StringIO.run(op, paging: GuestControlState.paging(hw), memory: memory, ports: &ports)
        if q.isIn { regs.rdi = out.index } else { regs.rsi = out.index }
        if q.isRep { regs.rcx = out.count }
        switch out.fault {
        case nil:
            if out.complete { GuestEvents.skipInstruction(hw) }
        case .pageFault(let linear, let code):
            GuestEvents.injectPageFault(hw, linear: linear, errorCode: code)
        case .generalProtection:
            injectSegmentFault(hw, false)
        case .stackFault:
            injectSegmentFault(hw, true)
        case .outsideRAM(let gpa):
            return .outsideRAM(gpa: gpa, access: q.isIn ? .write : .read)
        }
        return .resume
    }

    /// #SS(0) for the stack segment, else #GP(0).
    @inline(__always)
    static func injectSegmentFault<H: VMXHardware>(_ hw: H, _ stack: Bool) {
        GuestEvents.inject(hw, .hardwareException(vector: stack ? 12 : 13, hasErrorCode: true), errorCode: 0)
    }

    static func segmentRegisters<H: VMXHardware>(_ hw: H, _ segment: SegmentRegister) -> (base: UInt64, limit: UInt64, rights: UInt64) {
        switch segment {
        case .es: return (hw.read(.guestESBase), hw.read(.guestESLimit), hw.read(.guestESAccessRights))
        case .cs: return (hw.read(.guestCSBase), hw.read(.guestCSLimit), hw.read(.guestCSAccessRights))
        case .ss: return (hw.read(.guestSSBase), hw.read(.guestSSLimit), hw.read(.guestSSAccessRights))
        case .ds: return (hw.read(.guestDSBase), hw.read(.guestDSLimit), hw.read(.guestDSAccessRights))
        case .fs: return (hw.read(.guestFSBase), hw.read(.guestFSLimit), hw.read(.guestFSAccessRights))
        case .gs: return (hw.read(.guestGSBase), hw.read(.guestGSLimit), hw.read(.guestGSAccessRights))
        }
    }
}
