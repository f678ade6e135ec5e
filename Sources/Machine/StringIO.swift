import X86

// INS and OUTS, with or without REP, carried out for the guest (SDM Vol. 2B INS/INSB/INSW/INSD,
// OUTS/OUTSB/OUTSW/OUTSD; Vol. 3C §28.2.1 Table 28-5 and §28.2.5 Table 28-8 for what an I/O
// exit reports). The memory operand is ES:[rDI] for INS and seg:[rSI] for OUTS (DS unless
// overridden); rDI/rSI move by the element size, down when RFLAGS.DF = 1; REP repeats rCX times.
// Each element's address goes through the segment (limit outside 64-bit mode, canonical form
// in it) and the guest's paging (GuestPageWalk), and a fault stops the instruction where the
// processor would stop it, with the registers showing the iterations already done, so the guest
// can handle the fault and restart the instruction. Translations are done before the port is
// touched, so a faulting element has no side effect on the device.
//
// A REP with a large count is done in batches of at most `maxIterations` elements per exit:
// RIP stays on the instruction until rCX reaches zero, so the guest can take interrupts between
// batches, exactly as a real REP string instruction can be interrupted.

/// The port side of a string I/O instruction (the virtual PC, or a test double).
public protocol StringIOPorts {
    mutating func input(port: UInt16, size: Int) -> UInt32
    mutating func output(port: UInt16, size: Int, value: UInt32)
}

/// One INS/OUTS as the VM exit describes it, with the guest registers it uses.
public struct StringIOInstruction: Sendable, Equatable {
    public var isIn: Bool
    /// Element size in bytes: 1, 2 or 4.
    public var size: Int
    public var port: UInt16
    public var repeated: Bool
    /// 16, 32 or 64.
    public var addressSize: Int
    /// The segment's base (ES for INS; the instruction's segment for OUTS); 0 for ES/DS in 64-bit mode.
    public var segmentBase: UInt64
    /// The segment's limit for an expand-up data segment outside 64-bit mode; nil: no limit check.
    public var segmentLimit: UInt64?
    /// The memory operand is in SS (a limit violation is then #SS rather than #GP).
    public var stackSegment: Bool
    /// RSI (OUTS) or RDI (INS), full 64 bits.
    public var index: UInt64
    /// RCX, full 64 bits (used only with REP).
    public var count: UInt64
    /// RFLAGS.DF.
    public var directionDown: Bool
    /// CPL = 3.
    public var user: Bool

    public init(isIn: Bool, size: Int, port: UInt16, repeated: Bool, addressSize: Int, segmentBase: UInt64 = 0,
                segmentLimit: UInt64? = nil, stackSegment: Bool = false, index: UInt64, count: UInt64 = 0,
                directionDown: Bool = false, user: Bool = false) {
        self.isIn = isIn; self.size = size; self.port = port; self.repeated = repeated
        self.addressSize = addressSize; self.segmentBase = segmentBase; self.segmentLimit = segmentLimit
        self.stackSegment = stackSegment; self.index = index; self.count = count
        self.directionDown = directionDown; self.user = user
    }

    /// The address-size mask for rSI/rDI/rCX.
    @inline(__always) public var addressMask: UInt64 {
        addressSize == 16 ? 0xFFFF : addressSize == 32 ? 0xFFFF_FFFF : ~0
    }
}

/// How far the instruction got, and what the guest must see.
public struct StringIOOutcome: Sendable, Equatable {
    public enum Fault: Sendable, Equatable {
        /// #PF with CR2 = `linear` and this error code.
        case pageFault(linear: UInt64, code: PageFaultErrorCode)
        /// #GP(0): a segment-limit violation or a non-canonical address.
        case generalProtection
        /// #SS(0): the same through SS.
        case stackFault
        /// The element or a paging structure is outside the guest's RAM (under EPT: an EPT
        /// violation, which stops the guest).
        case outsideRAM(gpa: UInt64)
    }

    /// The new rSI/rDI and rCX (full 64-bit register values, already merged by address size).
    public var index: UInt64
    public var count: UInt64
    /// Elements transferred in this call.
    public var transferred: UInt64
    /// The instruction is complete: advance RIP. False after a fault or a batch cut short.
    public var complete: Bool
    public var fault: Fault?
}

public enum StringIO {
    /// The most elements moved in one exit: two ATA sectors of words. An element costs a few
    /// hundred instructions (translation, the port's device), so a batch stays near 0.3 M ticks
    /// in Bochs whatever count the guest loads into rCX (README, "Security model").
    public static let defaultMaxIterations: UInt64 = 512

    public static func run<Ports: StringIOPorts>(_ op: StringIOInstruction, paging: GuestPagingState,
                                                 memory: GuestMemory, ports: inout Ports,
                                                 maxIterations: UInt64 = defaultMaxIterations) -> StringIOOutcome {
        let mask = op.addressMask
        let size = UInt64(op.size)
        var offset = op.index & mask
        var remaining = op.repeated ? op.count & mask : 1
        var transferred: UInt64 = 0
        var fault: StringIOOutcome.Fault? = nil
        let is64 = op.addressSize == 64
        let access = PageAccess(write: op.isIn, user: op.user)
        // One-page translation cache: most batches stay within a page or two.
        var cachedPage: UInt64 = ~0
        var cachedFrame: UInt64 = 0

        func translate(_ linear: UInt64) -> (UInt64?, StringIOOutcome.Fault?) {
            let page = linear & ~0xFFF
            if page == cachedPage { return (cachedFrame | (linear & 0xFFF), nil) }
            switch GuestPageWalk.translate(linear, access: access, paging: paging, memory: memory) {
            case .mapped(let gpa):
                cachedPage = page
                cachedFrame = gpa & ~0xFFF
                return (gpa, nil)
            case .pageFault(let code):
                return (nil, .pageFault(linear: linear, code: code))
            case .tableOutsideRAM(let gpa):
                return (nil, .outsideRAM(gpa: gpa))
            }
        }

        while remaining > 0 && transferred < maxIterations {
            // The segment: limit outside 64-bit mode, canonical form in it (SDM Vol. 3A §5.3, §3.3.7.1).
            if let limit = op.segmentLimit, offset > limit || limit - offset < size - 1 {
                fault = op.stackSegment ? .stackFault : .generalProtection
                break
            }
            var linear = op.segmentBase &+ offset
            if is64 {
                if !PageTable.isCanonical(linear) || !PageTable.isCanonical(linear &+ size &- 1) {
                    fault = op.stackSegment ? .stackFault : .generalProtection
                    break
                }
            } else {
                linear &= 0xFFFF_FFFF
            }
            // Every byte of the element translated first (an element may straddle two pages).
            let (first, f1) = translate(linear)
            guard let gpa0 = first else { fault = f1; break }
            let lastLinear = is64 ? linear &+ size &- 1 : (linear &+ size &- 1) & 0xFFFF_FFFF
            var gpa1 = gpa0 &+ size &- 1
            if lastLinear & ~0xFFF != linear & ~0xFFF {
                let (second, f2) = translate(lastLinear & ~0xFFF)
                guard let g = second else { fault = f2; break }
                gpa1 = g
            }
            let contiguous = gpa1 == gpa0 &+ size &- 1
            if contiguous {
                guard memory.contains(gpa: gpa0, length: size) else { fault = .outsideRAM(gpa: gpa0); break }
            } else {
                let split = 0x1000 - (linear & 0xFFF)
                guard memory.contains(gpa: gpa0, length: split),
                      memory.contains(gpa: gpa1 & ~0xFFF, length: size - split) else {
                    fault = .outsideRAM(gpa: memory.contains(gpa: gpa0, length: split) ? gpa1 : gpa0)
                    break
                }
            }
            if op.isIn {
                let value = ports.input(port: op.port, size: op.size)
                for i in 0..<size {
                    let byte = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
                    memory.store(byte, gpa: byteAddress(i, gpa0: gpa0, gpa1: gpa1, linear: linear, contiguous: contiguous))
                }
            } else {
                var value: UInt32 = 0
                for i in 0..<size {
                    let byte = memory.load(UInt8.self,
                                           gpa: byteAddress(i, gpa0: gpa0, gpa1: gpa1, linear: linear, contiguous: contiguous)) ?? 0xFF
                    value |= UInt32(byte) << UInt32(8 * i)
                }
                ports.output(port: op.port, size: op.size, value: value)
            }
            offset = (op.directionDown ? offset &- size : offset &+ size) & mask
            remaining -= 1
            transferred += 1
        }
        let index = merge(op.index, offset, addressSize: op.addressSize)
        let count = op.repeated ? merge(op.count, remaining, addressSize: op.addressSize) : op.count
        return StringIOOutcome(index: index, count: count, transferred: transferred,
                               complete: fault == nil && remaining == 0, fault: fault)
    }

    @inline(__always)
    private static func byteAddress(_ i: UInt64, gpa0: UInt64, gpa1: UInt64, linear: UInt64, contiguous: Bool) -> UInt64 {
        if contiguous { return gpa0 &+ i }
        let split = 0x1000 - (linear & 0xFFF)
        return i < split ? gpa0 &+ i : (gpa1 & ~0xFFF) &+ (i - split)
    }

    /// A register after a string instruction with this address size: a 16-bit update keeps bits
    /// 63:16, a 32-bit one zero-extends (as any 32-bit register write in 64-bit mode), a 64-bit
    /// one replaces it.
    @inline(__always)
    public static func merge(_ original: UInt64, _ value: UInt64, addressSize: Int) -> UInt64 {
        switch addressSize {
        case 16: return (original & ~0xFFFF) | (value & 0xFFFF)
        case 32: return value & 0xFFFF_FFFF
        default: return value
        }
    }
}
