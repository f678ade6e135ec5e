import X86
import VTx
import Machine

/// Emulated MMIO (the I/O APIC, the local APICs' pages where they trap, PCI BARs): the EPT maps
/// only the VM's RAM, so a guest access to a device page outside it is an EPT violation (SDM
/// Vol. 3C §29.3.3.2). When the guest-physical address belongs to a device of the VM's platform
/// (the caller asks its PC), the exiting instruction is fetched at CS:RIP through the guest's own
/// paging (up to 15 bytes, GuestPageWalk), decoded (MMIOInstructionDecoder: MOV and the few other
/// forms Linux's MMIO accessors compile to), carried out against the device (MMIOEmulation), and
/// the guest continues after it. The exit reports no instruction length for EPT violations
/// (§28.2.5), so RIP advances by the decoded length. Anything else — an instruction the decoder
/// does not know, an access during event delivery, a device that does not answer — is a Failure
/// for the stop report.
public enum MMIOExit {
    /// What went wrong, for the stop report.
    public enum Failure: Equatable, Sendable {
        case notDevice, duringEventDelivery, fetchFault, undecodable(opcode: UInt32), incomplete
    }

    /// Emulates the access at `gpa` (a device's, outside RAM); nil when done (the guest resumes),
    /// else why it could not be.
    public static func handle<H: VMXHardware, Bus: MMIOBus>(_ hw: H, _ regs: inout GuestRegisters, gpa: UInt64,
                                                           memory: GuestMemory, bus: inout Bus) -> Failure? {
        // An access made while delivering an event (an IDT or stack in device memory) is not an instruction.
        guard hw.read(.idtVectoringInformation) & UInt64(InterruptionInfo.validBit) == 0 else { return .duringEventDelivery }

        // The instruction's bytes at CS:RIP.
        let rip = hw.read(.guestRIP)
        let csRights = hw.read(.guestCSAccessRights)
        let state = GuestControlState.registers(hw)
        let mode: MMIOCodeSize = state.in64BitMode ? .bits64 : (csRights & (1 << 14) != 0 ? .bits32 : .bits16)
        let linear = mode == .bits64 ? rip : (hw.read(.guestCSBase) &+ rip) & 0xFFFF_FFFF
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        let paging = GuestControlState.paging(hw)
        let access = PageAccess(write: false, user: GuestControlState.cpl(hw) == 3, instructionFetch: true)
        var fetched = 0
        while fetched < MMIOInstructionDecoder.maxLength {
            let at = linear &+ UInt64(fetched)
            guard case .mapped(let page) = GuestPageWalk.translate(at, access: access, paging: paging, memory: memory) else { break }
            let inPage = min(Int(0x1000 - (at & 0xFFF)), MMIOInstructionDecoder.maxLength - fetched)
            var n = 0
            while n < inPage, let b = memory.load(UInt8.self, gpa: page &+ UInt64(n)) {
                bytes[fetched + n] = b
                n += 1
            }
            fetched += n
            if n < inPage { break }
        }
        guard fetched > 0 else { return .fetchFault }

        let decoding = bytes.span.withUnsafeBufferPointer { buffer in
            MMIOInstructionDecoder.decode(UnsafeRawBufferPointer(start: buffer.baseAddress, count: fetched), mode: mode)
        }
        let insn: MMIOInstruction
        switch decoding {
        case .decoded(let d): insn = d
        case .unsupported(let opcode): return .undecodable(opcode: opcode)
        case .incomplete: return .incomplete
        }
        let register = GeneralPurposeRegister(number: UInt64(insn.register))
        let result = MMIOEmulation.perform(insn, gpa: gpa, registerValue: regs.value(register, hw),
                                           rflags: hw.read(.guestRFLAGS), bus: &bus)
        guard result.claimed else { return .notDevice }
        if let value = result.register { regs.set(register, value, hw) }
        if let flags = result.rflags { hw.write(.guestRFLAGS, flags) }
        let next = rip &+ UInt64(insn.length)
        hw.write(.guestRIP, mode == .bits64 ? next : next & 0xFFFF_FFFF)
        // Blocking by STI or MOV SS ends with this instruction (GuestEvents.skipInstruction).
        let interruptibility = hw.read(.guestInterruptibilityState)
        if interruptibility & 3 != 0 { hw.write(.guestInterruptibilityState, interruptibility & ~3) }
        return nil
    }
}
