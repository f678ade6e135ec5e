// Carrying out a decoded MMIO instruction (MMIOInstructionDecoder) against the device behind the
// faulting guest-physical address: what is read from and written to the device, and what the
// instruction leaves in its register and in RFLAGS, as the processor would (SDM Vol. 2 MOV, MOVZX,
// MOVSX, TEST, OR, AND, XCHG). Pure: the engine supplies the register's value and RFLAGS and
// writes back what this returns.

/// An MMIO device space, addressed by guest-physical address.
public protocol MMIOBus {
    /// The value of the `size`-byte read at `gpa`, or nil when nothing is there.
    mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64?
    /// False when nothing is there.
    mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool
    /// The device region that answers at `gpa`, nil when none does: equal values are one device's
    /// region (an access may run on from one page into the next only within one).
    func mmioRegion(gpa: UInt64) -> UInt64?
}

/// What the instruction leaves behind (nil: unchanged).
public struct MMIOResult: Equatable, Sendable {
    public var register: UInt64?
    public var rflags: UInt64?
    /// False when the address has no device (the caller treats it as an access outside the VM).
    public var claimed: Bool

    public init(register: UInt64? = nil, rflags: UInt64? = nil, claimed: Bool) {
        self.register = register; self.rflags = rflags; self.claimed = claimed
    }
}

public enum MMIOEmulation {
    public static func perform<Bus: MMIOBus>(_ insn: MMIOInstruction, gpa: UInt64, registerValue: UInt64,
                                             rflags: UInt64, bus: inout Bus) -> MMIOResult {
        let operand = insn.registerOperand(registerValue)
        switch insn.kind {
        case .load:
            guard let v = bus.mmioRead(gpa: gpa, size: insn.size) else { return MMIOResult(claimed: false) }
            return MMIOResult(register: insn.loadedRegister(old: registerValue, memoryValue: v), claimed: true)
        case .store:
            return MMIOResult(claimed: bus.mmioWrite(gpa: gpa, size: insn.size, value: operand))
        case .storeImmediate:
            return MMIOResult(claimed: bus.mmioWrite(gpa: gpa, size: insn.size, value: insn.immediate & MMIOInstruction.mask(insn.size)))
        case .test:
            guard let v = bus.mmioRead(gpa: gpa, size: insn.size) else { return MMIOResult(claimed: false) }
            return MMIOResult(rflags: MMIOInstruction.logicFlags(rflags: rflags, result: v & operand, size: insn.size), claimed: true)
        case .or, .and:
            guard let v = bus.mmioRead(gpa: gpa, size: insn.size) else { return MMIOResult(claimed: false) }
            let r = insn.kind == .or ? v | operand : v & operand
            let flags = MMIOInstruction.logicFlags(rflags: rflags, result: r, size: insn.size)
            if insn.memoryIsDestination {
                return MMIOResult(rflags: flags, claimed: bus.mmioWrite(gpa: gpa, size: insn.size, value: r))
            }
            return MMIOResult(register: MMIOInstruction.written(old: registerValue, value: r, size: insn.size,
                                                                high: insn.highByteRegister),
                              rflags: flags, claimed: true)
        case .exchange:
            guard let v = bus.mmioRead(gpa: gpa, size: insn.size),
                  bus.mmioWrite(gpa: gpa, size: insn.size, value: operand) else { return MMIOResult(claimed: false) }
            return MMIOResult(register: insn.loadedRegister(old: registerValue, memoryValue: v), claimed: true)
        }
    }
}
