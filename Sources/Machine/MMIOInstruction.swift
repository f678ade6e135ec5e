// Decoding the guest instruction that touched an emulated MMIO page (an EPT violation on the
// local APIC or I/O APIC page): from its bytes at RIP (up to 15, fetched through the guest's
// page tables) to what the engine must do — which register, how wide, which direction, which
// immediate, how long the instruction is. Encodings from SDM Vol. 2A ch. 2 (prefixes, REX,
// ModR/M, SIB, displacement; Tables 2-1 … 2-3) and the opcode pages of MOV, MOVZX, MOVSX,
// TEST, OR, AND and XCHG.
//
// Covered: MOV 88/89/8A/8B, MOV imm C6/C7 (/0), MOVZX 0F B6/B7, MOVSX 0F BE/BF, MOV moffs
// A0-A3, TEST 84/85, OR 08/09/0A/0B, AND 20/21/22/23, XCHG 86/87, with the legacy prefixes
// (66, 67, F2, F3, segment overrides, LOCK) and REX. That is what Linux's readb/w/l/q and
// writeb/w/l/q, its xAPIC (`mov -0xa03000(%rdi),%eax`, `mov %esi,-0xa03000(%rdi)`, `mov
// %edi,0xffffffffff5fd310`) and I/O APIC accessors compile to. Anything else is `unsupported`
// with its opcode, never a guess. The device address comes from the exit (the GPA); the operand's
// own address (ModR/M, SIB, displacement or moffs, its segment and address size) is decoded too, so
// that the engine sees where the access really starts and whether it runs past the device's page.

/// The processor's code size where the instruction runs (CS.L / CS.D, SDM Vol. 3A §5.2.1).
public enum MMIOCodeSize: Sendable {
    case bits16
    case bits32
    case bits64
}

/// What the instruction does with the MMIO location.
public enum MMIOAccessKind: Equatable, Sendable {
    /// Memory → register (MOV, MOVZX, MOVSX, MOV rAX, moffs).
    case load
    /// Register → memory.
    case store
    /// Immediate → memory (MOV C6/C7): `immediate`.
    case storeImmediate
    /// Memory AND register, flags only (TEST).
    case test
    /// OR / AND with the register: `memoryIsDestination` says which operand is written.
    case or
    case and
    /// XCHG: memory → register and register → memory (a locked read-modify-write).
    case exchange
}

/// How a loaded value is widened into the register.
public enum MMIOExtension: Equatable, Sendable {
    case none
    case zero
    case sign
}

/// A segment register, numbered as the instruction set encodes them (Sreg, SDM Vol. 2A §3.1.1.3).
public enum MMIOSegment: UInt8, Equatable, Sendable {
    case es, cs, ss, ds, fs, gs
}

/// Where the memory operand is: `segment`:[base + index << scale + displacement], computed in
/// `addressSize` bytes (SDM Vol. 2A §2.1.5, Tables 2-1 … 2-3; Vol. 1 §3.7.5).
public struct MMIOOperandAddress: Equatable, Sendable {
    /// No base or no index register.
    public static let none: UInt8 = 0xFF
    /// The base register, 0-15, or `none`.
    public var base: UInt8
    /// The index register, 0-15, or `none`.
    public var index: UInt8
    /// log2 of the index's scale factor (SIB.scale).
    public var scale: UInt8
    /// Sign-extended to 64 bits (a moffs offset: zero-extended).
    public var displacement: UInt64
    /// 64-bit mode's RIP-relative form (ModR/M mod 0, r/m 5): relative to the next instruction.
    public var ripRelative: Bool
    /// The default segment (SS for rBP/rSP bases), or the override prefix.
    public var segment: MMIOSegment
    /// 2, 4 or 8: the effective address wraps at this width.
    public var addressSize: Int

    public init(base: UInt8 = none, index: UInt8 = none, scale: UInt8 = 0, displacement: UInt64 = 0,
                ripRelative: Bool = false, segment: MMIOSegment = .ds, addressSize: Int) {
        self.base = base; self.index = index; self.scale = scale; self.displacement = displacement
        self.ripRelative = ripRelative; self.segment = segment; self.addressSize = addressSize
    }

    /// The effective address (the offset in the segment) from the base and index registers'
    /// values (ignored when absent) and the next instruction's RIP.
    public func effectiveAddress(baseValue: UInt64, indexValue: UInt64, nextRIP: UInt64) -> UInt64 {
        var ea = displacement
        if ripRelative { ea &+= nextRIP }
        if base != MMIOOperandAddress.none { ea &+= baseValue }
        if index != MMIOOperandAddress.none { ea &+= indexValue << UInt64(scale) }
        return ea & MMIOInstruction.mask(addressSize)
    }
}

/// A decoded MMIO instruction.
public struct MMIOInstruction: Equatable, Sendable {
    public var kind: MMIOAccessKind
    /// Bytes of memory accessed: 1, 2, 4 or 8.
    public var size: Int
    /// The general-purpose register operand, 0-15 (RAX … R15, ModR/M.reg with REX.R); 0 for moffs forms.
    public var register: UInt8
    /// A byte register 4-7 without REX prefix is AH, CH, DH, BH (bits 15:8 of registers 0-3).
    public var highByteRegister: Bool
    /// The register operand's width in bytes (MOVZX/MOVSX: the destination's, else `size`).
    public var registerSize: Int
    public var extension_: MMIOExtension
    /// MOV C6/C7: the immediate, already sign-extended to `size` bytes.
    public var immediate: UInt64
    /// OR/AND: the memory operand is the destination (08/09/20/21) rather than the source.
    public var memoryIsDestination: Bool
    /// Instruction length in bytes, prefixes included: RIP advances by this much.
    public var length: Int
    /// The memory operand's address.
    public var operand: MMIOOperandAddress

    public init(kind: MMIOAccessKind, size: Int, register: UInt8, highByteRegister: Bool = false,
                registerSize: Int, extension_: MMIOExtension = .none, immediate: UInt64 = 0,
                memoryIsDestination: Bool = false, length: Int,
                operand: MMIOOperandAddress = MMIOOperandAddress(addressSize: 8)) {
        self.kind = kind; self.size = size; self.register = register; self.highByteRegister = highByteRegister
        self.registerSize = registerSize; self.extension_ = extension_; self.immediate = immediate
        self.memoryIsDestination = memoryIsDestination; self.length = length; self.operand = operand
    }

    /// The `size`-byte value a store (or the register side of TEST/OR/AND/XCHG) takes from the
    /// register's full 64-bit value.
    public func registerOperand(_ registerValue: UInt64) -> UInt64 {
        let v = highByteRegister ? registerValue >> 8 : registerValue
        return v & MMIOInstruction.mask(size)
    }

    /// The register's new 64-bit value after loading `memoryValue` (the `size` bytes read):
    /// widened by `extension_` to `registerSize`, written as the processor writes a
    /// `registerSize` operand (32-bit writes zero bits 63:32; 8- and 16-bit writes, and AH…BH,
    /// keep the other bits, SDM Vol. 1 §3.4.1.1).
    public func loadedRegister(old: UInt64, memoryValue: UInt64) -> UInt64 {
        var value = memoryValue & MMIOInstruction.mask(size)
        if extension_ == .sign && size < 8 {
            let signBit: UInt64 = 1 << UInt64(size * 8 - 1)
            if value & signBit != 0 { value |= ~MMIOInstruction.mask(size) }
        }
        return MMIOInstruction.written(old: old, value: value, size: registerSize, high: highByteRegister)
    }

    /// `old` with a `size`-byte result written the way the processor writes a register.
    public static func written(old: UInt64, value: UInt64, size: Int, high: Bool) -> UInt64 {
        if high { return old & ~0xFF00 | (value & 0xFF) << 8 }
        switch size {
        case 1: return old & ~0xFF | value & 0xFF
        case 2: return old & ~0xFFFF | value & 0xFFFF
        case 4: return value & 0xFFFF_FFFF
        default: return value
        }
    }

    /// All ones in the low `size` bytes.
    @inline(__always)
    public static func mask(_ size: Int) -> UInt64 {
        size >= 8 ? .max : (1 << UInt64(size * 8)) &- 1
    }

    /// RFLAGS after TEST/OR/AND with `result` of `size` bytes: CF = OF = 0, SF, ZF, PF from the
    /// result (AF undefined: cleared); other bits of `rflags` kept.
    public static func logicFlags(rflags: UInt64, result: UInt64, size: Int) -> UInt64 {
        let r = result & mask(size)
        var f = rflags & ~(1 << 0 | 1 << 2 | 1 << 4 | 1 << 6 | 1 << 7 | 1 << 11)
        if r == 0 { f |= 1 << 6 }                                   // ZF
        if r >> UInt64(size * 8 - 1) & 1 != 0 { f |= 1 << 7 }      // SF
        if UInt8(truncatingIfNeeded: r).nonzeroBitCount & 1 == 0 { f |= 1 << 2 }  // PF: even parity of the low byte
        return f
    }
}

/// The decoder's answer.
public enum MMIODecoding: Equatable, Sendable {
    case decoded(MMIOInstruction)
    /// An instruction the decoder does not emulate: its opcode (0x0FXX for two-byte opcodes),
    /// or a register-only ModR/M, or a bad C6/C7 /reg.
    case unsupported(opcode: UInt32)
    /// The bytes end before the instruction does, or it would exceed 15 bytes (#GP on hardware).
    case incomplete
}

public enum MMIOInstructionDecoder {
    public static let maxLength = 15

    /// Decodes the instruction at the start of `bytes` for a processor in `mode`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, mode: MMIOCodeSize) -> MMIODecoding {
        let limit = min(bytes.count, maxLength)
        var i = 0
        @inline(__always) func byte(_ at: Int) -> UInt8? { at < limit ? bytes[at] : nil }

        // Legacy prefixes, any order (SDM Vol. 2A §2.1.1).
        var operandOverride = false
        var addressOverride = false
        var segment: MMIOSegment? = nil                             // the last override counts
        var rex: UInt8 = 0
        while let b = byte(i) {
            switch b {
            case 0x66: operandOverride = true
            case 0x67: addressOverride = true
            case 0x26: segment = .es
            case 0x2E: segment = .cs
            case 0x36: segment = .ss
            case 0x3E: segment = .ds
            case 0x64: segment = .fs
            case 0x65: segment = .gs
            case 0xF0, 0xF2, 0xF3: break
            case 0x40...0x4F where mode == .bits64:
                rex = b                                             // only counts right before the opcode
                i += 1
                guard let next = byte(i) else { return .incomplete }
                if isLegacyPrefix(next) || next & 0xF0 == 0x40 { rex = 0; continue }
                return decodeOpcode(bytes, limit: limit, at: i, mode: mode, rex: rex, operandOverride: operandOverride,
                                    addressOverride: addressOverride, segment: segment)
            default:
                return decodeOpcode(bytes, limit: limit, at: i, mode: mode, rex: 0, operandOverride: operandOverride,
                                    addressOverride: addressOverride, segment: segment)
            }
            i += 1
        }
        return .incomplete
    }

    @inline(__always)
    static func isLegacyPrefix(_ b: UInt8) -> Bool {
        switch b {
        case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65: return true
        default: return false
        }
    }

    private static func decodeOpcode(_ bytes: UnsafeRawBufferPointer, limit: Int, at start: Int, mode: MMIOCodeSize,
                                     rex: UInt8, operandOverride: Bool, addressOverride: Bool,
                                     segment: MMIOSegment?) -> MMIODecoding {
        var i = start
        guard i < limit else { return .incomplete }
        let rexW = rex & 0x8 != 0
        let rexR: UInt8 = rex & 0x4 != 0 ? 8 : 0
        // Operand size (SDM Vol. 1 Table 3-4): REX.W → 8; else 66 flips the default 4 ↔ 2.
        let defaultSize = mode == .bits16 ? 2 : 4
        let operandSize = rexW ? 8 : (operandOverride ? 6 - defaultSize : defaultSize)
        let addressSize: Int
        switch mode {
        case .bits64: addressSize = addressOverride ? 4 : 8
        case .bits32: addressSize = addressOverride ? 2 : 4
        case .bits16: addressSize = addressOverride ? 4 : 2
        }

        var opcode = UInt32(bytes[i])
        i += 1
        if opcode == 0x0F {
            guard i < limit else { return .incomplete }
            opcode = 0x0F00 | UInt32(bytes[i])
            i += 1
        }

        // moffs forms: no ModR/M, an address-size offset.
        if opcode >= 0xA0 && opcode <= 0xA3 {
            let end = i + addressSize
            guard end <= limit else { return .incomplete }
            let size = opcode & 1 == 0 ? 1 : operandSize
            var offset: UInt64 = 0
            for k in 0..<addressSize { offset |= UInt64(bytes[i + k]) << UInt64(8 * k) }
            return .decoded(MMIOInstruction(kind: opcode < 0xA2 ? .load : .store, size: size, register: 0,
                                            registerSize: size, length: end,
                                            operand: MMIOOperandAddress(displacement: offset, segment: segment ?? .ds,
                                                                        addressSize: addressSize)))
        }

        let kind: MMIOAccessKind
        var size: Int
        var registerSize: Int
        var ext = MMIOExtension.none
        var immediateSize = 0
        var memoryIsDestination = false
        switch opcode {
        case 0x88, 0x89: kind = .store; size = opcode == 0x88 ? 1 : operandSize; registerSize = size
        case 0x8A, 0x8B: kind = .load; size = opcode == 0x8A ? 1 : operandSize; registerSize = size
        case 0xC6, 0xC7:
            kind = .storeImmediate
            size = opcode == 0xC6 ? 1 : operandSize
            registerSize = size
            immediateSize = min(size, 4)                            // imm32 sign-extended for REX.W
        case 0x0FB6, 0x0FB7, 0x0FBE, 0x0FBF:
            kind = .load
            size = opcode & 1 == 0 ? 1 : 2
            registerSize = operandSize
            ext = opcode < 0x0FBE ? .zero : .sign
        case 0x84, 0x85: kind = .test; size = opcode == 0x84 ? 1 : operandSize; registerSize = size
        case 0x08, 0x09, 0x0A, 0x0B:
            kind = .or; size = opcode & 1 == 0 ? 1 : operandSize; registerSize = size
            memoryIsDestination = opcode < 0x0A
        case 0x20, 0x21, 0x22, 0x23:
            kind = .and; size = opcode & 1 == 0 ? 1 : operandSize; registerSize = size
            memoryIsDestination = opcode < 0x22
        case 0x86, 0x87: kind = .exchange; size = opcode == 0x86 ? 1 : operandSize; registerSize = size
        default:
            return .unsupported(opcode: opcode)
        }

        // ModR/M, SIB and displacement: the operand's address.
        guard i < limit else { return .incomplete }
        let modrm = bytes[i]
        i += 1
        let mod = modrm >> 6
        let reg = (modrm >> 3) & 7
        let rm = modrm & 7
        if mod == 3 { return .unsupported(opcode: opcode) }         // register operand: no memory access
        if kind == .storeImmediate && reg != 0 { return .unsupported(opcode: opcode) }
        var operand = MMIOOperandAddress(addressSize: addressSize)
        var displacementSize = 0
        if addressSize == 2 {
            // 16-bit addressing (Table 2-1): disp16 for mod 0 rm 6 and mod 2, disp8 for mod 1;
            // BP-based forms default to SS.
            let bx: UInt8 = 3, bp: UInt8 = 5, si: UInt8 = 6, di: UInt8 = 7
            switch rm {
            case 0: operand.base = bx; operand.index = si
            case 1: operand.base = bx; operand.index = di
            case 2: operand.base = bp; operand.index = si; operand.segment = .ss
            case 3: operand.base = bp; operand.index = di; operand.segment = .ss
            case 4: operand.base = si
            case 5: operand.base = di
            case 6: if mod != 0 { operand.base = bp; operand.segment = .ss }
            default: operand.base = bx
            }
            displacementSize = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0
        } else {
            // 32/64-bit addressing (Tables 2-2, 2-3): SIB for rm 4; disp32 for mod 0 rm 5
            // (RIP-relative in 64-bit mode) and for mod 0 SIB base 5. REX.B extends the base,
            // REX.X the index; index 4 without REX.X is none. An rSP or rBP base defaults to SS.
            let rexB: UInt8 = rex & 0x1 != 0 ? 8 : 0
            let rexX: UInt8 = rex & 0x2 != 0 ? 8 : 0
            if rm == 4 {
                guard i < limit else { return .incomplete }
                let sib = bytes[i]
                i += 1
                operand.scale = sib >> 6
                let index = (sib >> 3) & 7 | rexX
                if index != 4 { operand.index = index }
                if mod == 0 && sib & 7 == 5 { displacementSize = 4 } else { operand.base = sib & 7 | rexB }
            } else if mod == 0 && rm == 5 {
                displacementSize = 4
                operand.ripRelative = mode == .bits64
            } else {
                operand.base = rm | rexB
            }
            if operand.base == 4 || operand.base == 5 { operand.segment = .ss }
            if mod == 1 { displacementSize = 1 } else if mod == 2 { displacementSize = 4 }
        }
        guard i + displacementSize <= limit else { return .incomplete }
        if displacementSize > 0 {
            var displacement: UInt64 = 0
            for k in 0..<displacementSize { displacement |= UInt64(bytes[i + k]) << UInt64(8 * k) }
            let signBit: UInt64 = 1 << UInt64(displacementSize * 8 - 1)
            if displacement & signBit != 0 { displacement |= ~MMIOInstruction.mask(displacementSize) }
            operand.displacement = displacement
        }
        i += displacementSize
        if let segment { operand.segment = segment }
        let immediateStart = i
        i += immediateSize
        guard i <= limit else { return .incomplete }

        var immediate: UInt64 = 0
        if immediateSize > 0 {
            for k in 0..<immediateSize { immediate |= UInt64(bytes[immediateStart + k]) << UInt64(8 * k) }
            let signBit: UInt64 = 1 << UInt64(immediateSize * 8 - 1)
            if immediate & signBit != 0 { immediate |= ~MMIOInstruction.mask(immediateSize) }
            immediate &= MMIOInstruction.mask(size)
        }
        let register = kind == .storeImmediate ? 0 : reg | rexR
        // Byte registers 4-7 are AH…BH unless a REX prefix is present (SDM Vol. 2A §2.2.1.2).
        let high = registerSize == 1 && rex == 0 && register >= 4 && register < 8 && kind != .storeImmediate
        return .decoded(MMIOInstruction(kind: kind, size: size, register: high ? register - 4 : register,
                                        highByteRegister: high, registerSize: registerSize, extension_: ext,
                                        immediate: immediate, memoryIsDestination: memoryIsDestination, length: i,
                                        operand: operand))
    }
}
