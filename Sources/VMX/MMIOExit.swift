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
///
/// An access that crosses from one page into the next is refused when RAM or another device is on
/// the other side (`crossesRegionBoundary`), not split. The exit reports only the part that
/// faulted: a store from RAM into a device's page exits at the device page's first byte (§28.2.1
/// gives the guest-physical address and, with bit 7, the guest-linear address of that part), so
/// emulating the whole access there would put the RAM bytes into the device and drop them from RAM.
/// To see where the access starts, the decoder gives the operand's effective address; with the
/// segment base it is the linear address of the first byte. Its page offset must be the reported
/// address's (else the access began on an earlier page, or the operand is not where the exit says),
/// and an operand that runs into the next page has that page translated through the guest's paging:
/// RAM, another device, or no mapping there refuses the access. Splitting would take the RAM part's paging permissions
/// and faults and device accesses of 3, 5, 6 or 7 bytes that no device register defines, for an
/// access no driver makes (device registers are naturally aligned); a clear stop costs less than a
/// half-right emulation. Every device region here is whole pages (BARs are at least a page and
/// aligned to their size, the local APIC's page, the I/O APIC's page-sized window, the ECAM
/// window), so an access inside one page reaches one device and is emulated as it is. One that runs
/// on into the same device region's next page, guest-physically contiguous (ECAM across two
/// functions, a BAR's pages), is one access to that device, and one that runs past a device's page
/// into nothing (neither RAM nor a device) goes to the device whole, as the device's last bytes take
/// it: in both, no RAM or other device is touched.
public enum MMIOExit {
    /// What went wrong, for the stop report.
    public enum Failure: Equatable, Sendable {
        case notDevice, duringEventDelivery, fetchFault, undecodable(opcode: UInt32), incomplete
        /// The `size`-byte operand at guest-linear `linear` crosses a page boundary with RAM or
        /// another device on the other side of it.
        case crossesRegionBoundary(linear: UInt64, size: Int)
        /// The decoded operand (guest-linear `linear`) is not where the exit reports the access.
        case operandElsewhere(linear: UInt64)
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
        if let refused = checkOperand(hw, regs, insn, mode: mode, nextRIP: rip &+ UInt64(insn.length), gpa: gpa,
                                      paging: paging, memory: memory, bus: &bus) { return refused }
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

    /// Nil when the access lies in the page of `gpa`, or runs on only into the same device or into
    /// nothing; else why not.
    @inline(__always)
    static func checkOperand<H: VMXHardware, Bus: MMIOBus>(_ hw: H, _ regs: GuestRegisters, _ insn: MMIOInstruction,
                                                           mode: MMIOCodeSize, nextRIP: UInt64, gpa: UInt64,
                                                           paging: GuestPagingState, memory: GuestMemory,
                                                           bus: inout Bus) -> Failure? {
        let operand = insn.operand
        let none = MMIOOperandAddress.none
        let base = operand.base == none ? 0 : regs.value(GeneralPurposeRegister(number: UInt64(operand.base)), hw)
        let index = operand.index == none ? 0 : regs.value(GeneralPurposeRegister(number: UInt64(operand.index)), hw)
        let ea = operand.effectiveAddress(baseValue: base, indexValue: index,
                                          nextRIP: mode == .bits64 ? nextRIP : nextRIP & 0xFFFF_FFFF)
        // In 64-bit mode only FS and GS have bases (SDM Vol. 3A §3.4.4); elsewhere linear
        // addresses are 32 bits. The segment base fields are ES … GS in Sreg order.
        let linear: UInt64
        if mode == .bits64 {
            linear = operand.segment == .fs || operand.segment == .gs
                ? hw.read(segmentBase(operand.segment)) &+ ea : ea
        } else {
            linear = (hw.read(segmentBase(operand.segment)) &+ ea) & 0xFFFF_FFFF
        }
        let offset = linear & 0xFFF
        guard offset == gpa & 0xFFF else {
            // An access from an earlier page exits where it enters the device's page.
            return offset &+ UInt64(insn.size) > 0x1000 ? .crossesRegionBoundary(linear: linear, size: insn.size)
                                                        : .operandElsewhere(linear: linear)
        }
        guard offset &+ UInt64(insn.size) > 0x1000 else { return nil }
        // The rest of the operand is on the next page: what is there?
        let writes: Bool
        switch insn.kind {
        case .load, .test: writes = false
        case .or, .and: writes = insn.memoryIsDestination
        case .store, .storeImmediate, .exchange: writes = true
        }
        let access = PageAccess(write: writes, user: GuestControlState.cpl(hw) == 3)
        let nextLinear = mode == .bits64 ? (linear | 0xFFF) &+ 1 : ((linear | 0xFFF) &+ 1) & 0xFFFF_FFFF
        guard case .mapped(let next) = GuestPageWalk.translate(nextLinear, access: access, paging: paging, memory: memory),
              next >= memory.size else { return .crossesRegionBoundary(linear: linear, size: insn.size) }
        guard let there = bus.mmioRegion(gpa: next) else { return nil }          // nothing there
        // The same device's next page, guest-physically contiguous: one access to one device.
        guard there == bus.mmioRegion(gpa: gpa), next == (gpa | 0xFFF) &+ 1 else {
            return .crossesRegionBoundary(linear: linear, size: insn.size)
        }
        return nil
    }

    @inline(__always)
    static func segmentBase(_ segment: MMIOSegment) -> VMCSField {
        VMCSField(rawValue: VMCSField.guestESBase.rawValue &+ 2 &* UInt32(segment.rawValue))
    }
}
