import X86
import VTx
import Machine

// Emulated MMIO (the I/O APIC today): the EPT maps only the VM's RAM, so a guest access to a
// device page outside it is an EPT violation (SDM Vol. 3C §29.3.3.2). When the guest-physical
// address belongs to a device of the VM's platform, the exiting instruction is fetched at
// CS:RIP through the guest's own paging (up to 15 bytes, GuestPageWalk), decoded
// (MMIOInstructionDecoder: MOV and the few other forms Linux's MMIO accessors compile to),
// carried out against the device (MMIOEmulation), and the guest continues after it. The exit
// reports no instruction length for EPT violations (§28.2.5), so RIP advances by the decoded
// length. Anything else — an address no device claims, an instruction the decoder does not
// know, an access during event delivery — stops the guest with a report, as before.
enum MMIOExit {
    /// The virtual PC's MMIO space as MMIOEmulation sees it (a concrete type: direct calls).
    struct Bus: MMIOBus {
        let vcpu: UnsafeMutablePointer<VCPU>
        mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64? {
            vcpu.pointee.pc.mmioRead(gpa: gpa, size: size, tsc: rdtsc(), vcpu: vcpu.pointee.index)
        }
        mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool {
            vcpu.pointee.pc.mmioWrite(gpa: gpa, size: size, value: value, tsc: rdtsc(), vcpu: vcpu.pointee.index)
        }
    }

    /// What went wrong, for the stop report.
    enum Failure {
        case notDevice, duringEventDelivery, fetchFault, undecodable(opcode: UInt32), incomplete
    }

    /// Emulates the access at `gpa`; nil when done (the guest resumes), else why it could not be.
    static func handle(_ vcpu: UnsafeMutablePointer<VCPU>, _ regs: UnsafeMutablePointer<GuestRegisters>,
                       gpa: UInt64) -> Failure? {
        guard gpa >= vcpu.pointee.memory.size, vcpu.pointee.pc.hasMMIODevice(at: gpa, vcpu: vcpu.pointee.index) else { return .notDevice }
        // An access made while delivering an event (an IDT or stack in device memory) is not an instruction.
        guard vmreadFast(.idtVectoringInformation) & UInt64(InterruptionInfo.validBit) == 0 else { return .duringEventDelivery }

        // The instruction's bytes at CS:RIP.
        let rip = vmreadFast(.guestRIP)
        let csRights = vmreadFast(.guestCSAccessRights)
        let state = GuestControlState.registers()
        let mode: MMIOCodeSize = state.in64BitMode ? .bits64 : (csRights & (1 << 14) != 0 ? .bits32 : .bits16)
        let linear = mode == .bits64 ? rip : (vmreadFast(.guestCSBase) &+ rip) & 0xFFFF_FFFF
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        let paging = GuestControlState.paging()
        let access = PageAccess(write: false, user: GuestControlState.cpl() == 3, instructionFetch: true)
        var fetched = 0
        while fetched < MMIOInstructionDecoder.maxLength {
            let at = linear &+ UInt64(fetched)
            guard case .mapped(let page) = GuestPageWalk.translate(at, access: access, paging: paging,
                                                                   memory: vcpu.pointee.memory) else { break }
            let inPage = min(Int(0x1000 - (at & 0xFFF)), MMIOInstructionDecoder.maxLength - fetched)
            var n = 0
            while n < inPage, let b = vcpu.pointee.memory.load(UInt8.self, gpa: page &+ UInt64(n)) {
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
        var bus = Bus(vcpu: vcpu)
        let register = Int(insn.register)
        let result = MMIOEmulation.perform(insn, gpa: gpa, registerValue: regs.pointee[register],
                                           rflags: vmreadFast(.guestRFLAGS), bus: &bus)
        guard result.claimed else { return .notDevice }
        if let value = result.register { regs.pointee[register] = value }
        if let flags = result.rflags { vmwriteFast(.guestRFLAGS, flags) }
        let next = rip &+ UInt64(insn.length)
        vmwriteFast(.guestRIP, mode == .bits64 ? next : next & 0xFFFF_FFFF)
        let interruptibility = vmreadFast(.guestInterruptibilityState)
        if interruptibility & 3 != 0 { vmwriteFast(.guestInterruptibilityState, interruptibility & ~3) }
        return nil
    }
}
