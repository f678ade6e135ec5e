// A vCPU's local APIC (SDM Vol. 3A ch. 11 "Advanced Programmable Interrupt Controller (APIC)";
// chapter 10 in older editions): the xAPIC register file by MMIO offset, the x2APIC MSR view,
// IA32_APIC_BASE, interrupt acceptance and priority (IRR → ISR, TPR/PPR, EOI), the timer in
// one-shot, periodic and TSC-deadline modes, the ICR's IPIs and the local interrupt pins.
//
// Time is pulled, as in VirtualPC: every access takes the guest TSC, the engine calls
// `update(tsc:)` when it looks at the vCPU and arms its own timer for `nextTimerTSC`. The timer
// counts a `timerHz` clock (the "bus clock") through the divide configuration; its count is
// computed in closed form from the TSC at which it was loaded, never by ticking.
//
// IPIs are not routed here: an ICR write returns an `APICInterprocessorInterrupt` that the
// engine delivers (with `isDestination(_:logical:)` on each candidate APIC) to `accept(...)`,
// `receiveINIT()` or its own NMI/SIPI handling. Everything a guest writes is masked to the
// architectural bits; no access traps or crashes the model.

/// A 256-bit set of interrupt vectors (the IRR, ISR and TMR banks), bit i = vector i.
public struct APICVectorSet: Equatable, Sendable {
    public private(set) var w0: UInt64 = 0
    public private(set) var w1: UInt64 = 0
    public private(set) var w2: UInt64 = 0
    public private(set) var w3: UInt64 = 0

    public init() {}

    @inline(__always)
    private func word(_ i: Int) -> UInt64 {
        switch i { case 0: return w0; case 1: return w1; case 2: return w2; default: return w3 }
    }
    @inline(__always)
    private mutating func setWord(_ i: Int, _ v: UInt64) {
        switch i { case 0: w0 = v; case 1: w1 = v; case 2: w2 = v; default: w3 = v }
    }

    public func contains(_ vector: UInt8) -> Bool {
        word(Int(vector >> 6)) & (1 << UInt64(vector & 63)) != 0
    }
    public mutating func insert(_ vector: UInt8) {
        let i = Int(vector >> 6)
        setWord(i, word(i) | 1 << UInt64(vector & 63))
    }
    public mutating func remove(_ vector: UInt8) {
        let i = Int(vector >> 6)
        setWord(i, word(i) & ~(1 << UInt64(vector & 63)))
    }
    public var isEmpty: Bool { w0 | w1 | w2 | w3 == 0 }
    /// The highest vector in the set.
    public var highest: UInt8? {
        for i in stride(from: 3, through: 0, by: -1) {
            let w = word(i)
            if w != 0 { return UInt8(i * 64 + 63 - w.leadingZeroBitCount) }
        }
        return nil
    }
    /// The 32-bit register `index` (0-7) of the bank as the xAPIC shows it at offset base + 0x10·index.
    public func register(_ index: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: word(index >> 1) >> UInt64((index & 1) * 32))
    }
}

/// The delivery mode of an LVT entry, an ICR or an I/O APIC redirection entry (SDM Vol. 3A §11.5.1, §11.6.1).
public enum APICDeliveryMode: UInt8, Sendable {
    case fixed = 0
    case lowestPriority = 1
    case smi = 2
    case reserved3 = 3
    case nmi = 4
    case initialization = 5
    case startup = 6
    case extINT = 7
}

/// The ICR's destination shorthand (bits 19:18).
public enum APICDestinationShorthand: UInt8, Sendable {
    case none = 0
    case selfOnly = 1
    case allIncludingSelf = 2
    case allExcludingSelf = 3
}

/// An IPI the guest sent by writing the ICR (SDM Vol. 3A §11.6.1), for the engine to route.
public struct APICInterprocessorInterrupt: Equatable, Sendable {
    public var vector: UInt8
    public var deliveryMode: APICDeliveryMode
    /// Destination mode: logical (true) or physical.
    public var logicalDestination: Bool
    /// Level: assert (true) or de-assert.
    public var assert: Bool
    public var levelTriggered: Bool
    public var shorthand: APICDestinationShorthand
    /// The destination field: ICR bits 63:56 in xAPIC mode, 63:32 in x2APIC mode.
    public var destination: UInt32
    /// The sender's APIC ID.
    public var source: UInt32

    public init(vector: UInt8, deliveryMode: APICDeliveryMode, logicalDestination: Bool, assert: Bool,
                levelTriggered: Bool, shorthand: APICDestinationShorthand, destination: UInt32, source: UInt32) {
        self.vector = vector; self.deliveryMode = deliveryMode; self.logicalDestination = logicalDestination
        self.assert = assert; self.levelTriggered = levelTriggered; self.shorthand = shorthand
        self.destination = destination; self.source = source
    }

    /// The obsolete "INIT level de-assert" (INIT, level-triggered, de-assert): sent by older
    /// kernels after INIT, ignored by Pentium 4 and later processors (§11.6.1); deliver nothing.
    public var isINITLevelDeassert: Bool {
        deliveryMode == .initialization && levelTriggered && !assert
    }
}

/// What an access to the local APIC asks of the engine.
public enum LocalAPICEffect: Equatable, Sendable {
    case none
    /// An EOI retired `vector`; `levelTriggered` (its TMR bit) means the I/O APIC must clear remote IRR.
    case endOfInterrupt(vector: UInt8, levelTriggered: Bool)
    /// An ICR write sent this IPI.
    case interprocessorInterrupt(APICInterprocessorInterrupt)
    /// The MSR access raises #GP(0) in the guest (x2APIC rules, IA32_APIC_BASE transitions).
    case generalProtection
}

/// What an arriving interrupt message asks of the vCPU (`LocalAPIC.receive`).
public enum LocalAPICDelivery: Equatable, Sendable {
    /// Nothing (a disabled APIC, an illegal vector, SMI, INIT de-assert).
    case ignored
    /// A vector is in the IRR: check `highestDeliverable()` (and wake the vCPU from HLT).
    case requested
    case nmi
    /// INIT: the APIC is reset; the vCPU goes to wait-for-SIPI (an AP) or is reset.
    case initialization
    /// Start-up IPI: a vCPU in wait-for-SIPI starts in real mode at CS = vector << 8, IP = 0.
    case startup(vector: UInt8)
    /// ExtINT: the 8259 supplies the vector.
    case extINT
}

/// Where a local interrupt pin (LINT0/LINT1) sends its signal (SDM Vol. 3A §11.5.1).
public enum LocalInterruptRoute: Equatable, Sendable {
    /// Masked (or a delivery mode the model does not deliver, SMI/INIT).
    case masked
    /// ExtINT: the 8259 supplies the vector (virtual-wire mode).
    case extINT
    case nmi
    /// A fixed interrupt with the LVT's vector.
    case fixed(vector: UInt8, levelTriggered: Bool)
}

/// The local APIC timer's mode, LVT timer bits 18:17 (§11.5.4).
public enum APICTimerMode: UInt8, Sendable {
    case oneShot = 0
    case periodic = 1
    case tscDeadline = 2
}

public struct LocalAPIC: Sendable {
    // MARK: Architecture constants

    /// The default (and reset) physical address of the xAPIC page.
    public static let defaultBase: UInt64 = 0xFEE0_0000
    /// The first x2APIC MSR; register at xAPIC offset X is MSR 0x800 + X >> 4 (§11.12.1.2).
    public static let x2APICFirstMSR: UInt32 = 0x800
    public static let x2APICLastMSR: UInt32 = 0x8FF
    /// Version register: version 0x14 (integrated APIC), max LVT entry 6 (CMCI … error: 7 LVTs).
    public static let maxLVTEntry: UInt32 = 6
    public static let versionValue: UInt32 = maxLVTEntry << 16 | 0x14

    // IA32_APIC_BASE bits (§11.4.4, §11.12.1).
    public static let baseBSP: UInt64 = 1 << 8
    public static let baseExtendedMode: UInt64 = 1 << 10
    public static let baseGlobalEnable: UInt64 = 1 << 11

    // xAPIC register offsets (Table 11-1).
    public static let idOffset: UInt32 = 0x020
    public static let versionOffset: UInt32 = 0x030
    public static let tprOffset: UInt32 = 0x080
    public static let aprOffset: UInt32 = 0x090
    public static let pprOffset: UInt32 = 0x0A0
    public static let eoiOffset: UInt32 = 0x0B0
    public static let rrdOffset: UInt32 = 0x0C0
    public static let ldrOffset: UInt32 = 0x0D0
    public static let dfrOffset: UInt32 = 0x0E0
    public static let svrOffset: UInt32 = 0x0F0
    public static let isrOffset: UInt32 = 0x100
    public static let tmrOffset: UInt32 = 0x180
    public static let irrOffset: UInt32 = 0x200
    public static let esrOffset: UInt32 = 0x280
    public static let lvtCMCIOffset: UInt32 = 0x2F0
    public static let icrLowOffset: UInt32 = 0x300
    public static let icrHighOffset: UInt32 = 0x310
    public static let lvtTimerOffset: UInt32 = 0x320
    public static let lvtThermalOffset: UInt32 = 0x330
    public static let lvtPerfOffset: UInt32 = 0x340
    public static let lvtLINT0Offset: UInt32 = 0x350
    public static let lvtLINT1Offset: UInt32 = 0x360
    public static let lvtErrorOffset: UInt32 = 0x370
    public static let initialCountOffset: UInt32 = 0x380
    public static let currentCountOffset: UInt32 = 0x390
    public static let divideConfigOffset: UInt32 = 0x3E0
    /// SELF IPI: x2APIC only (MSR 0x83F).
    public static let selfIPIOffset: UInt32 = 0x3F0

    // SVR bits (§11.9).
    public static let svrSoftwareEnable: UInt32 = 1 << 8
    public static let svrFocusCheckingDisabled: UInt32 = 1 << 9
    // LVT bits (Figure 11-8).
    public static let lvtMask: UInt32 = 1 << 16
    public static let lvtDeliveryStatus: UInt32 = 1 << 12
    public static let lvtRemoteIRR: UInt32 = 1 << 14
    public static let lvtLevelTriggered: UInt32 = 1 << 15
    // ESR bits (Figure 11-9).
    public static let esrSendIllegalVector: UInt32 = 1 << 5
    public static let esrReceiveIllegalVector: UInt32 = 1 << 6
    public static let esrIllegalRegisterAddress: UInt32 = 1 << 7

    // MARK: State

    /// The APIC ID the vCPU was created with (its initial APIC ID, CPUID leaf 1 EBX[31:24] / leaf 0xB EDX).
    public let initialID: UInt32
    /// Whether CPUID offers x2APIC (IA32_APIC_BASE.EXTD may be set).
    public let x2APICSupported: Bool
    /// Whether CPUID offers the TSC-deadline timer (LVT timer bit 18 is writable).
    public let tscDeadlineSupported: Bool
    /// The timer's input clock before the divider, in Hz.
    public let timerHz: UInt64
    /// The guest's TSC rate, in Hz.
    public let tscHz: UInt64
    /// Bits 51:12 of IA32_APIC_BASE that the guest may set (MAXPHYADDR).
    public let physicalAddressMask: UInt64

    /// IA32_APIC_BASE.
    public private(set) var apicBase: UInt64
    /// The ID register as the xAPIC shows it (ID in bits 31:24); in x2APIC mode the 32-bit ID.
    public private(set) var idRegister: UInt32
    public private(set) var tpr: UInt32 = 0
    mutating func setTaskPriority(_ value: UInt32) { tpr = value }
    public private(set) var ldr: UInt32 = 0
    public private(set) var dfr: UInt32 = 0xFFFF_FFFF
    public private(set) var svr: UInt32 = 0xFF
    public private(set) var irr = APICVectorSet()
    public private(set) var isr = APICVectorSet()
    public private(set) var tmr = APICVectorSet()
    /// The ESR as last latched by a write; errors since then wait in `pendingErrors`.
    public private(set) var esr: UInt32 = 0
    public private(set) var pendingErrors: UInt32 = 0
    public private(set) var icrLow: UInt32 = 0
    public private(set) var icrHigh: UInt32 = 0
    /// The local vector table (Figure 11-8): 7 entries, masked at reset.
    public private(set) var lvtCMCI: UInt32 = lvtMask
    public private(set) var lvtTimer: UInt32 = lvtMask
    public private(set) var lvtThermal: UInt32 = lvtMask
    public private(set) var lvtPerformance: UInt32 = lvtMask
    public private(set) var lvtLINT0: UInt32 = lvtMask
    public private(set) var lvtLINT1: UInt32 = lvtMask
    public private(set) var lvtError: UInt32 = lvtMask
    public private(set) var initialCount: UInt32 = 0
    public private(set) var divideConfiguration: UInt32 = 0
    /// IA32_TSC_DEADLINE while in TSC-deadline mode (0: disarmed).
    public private(set) var tscDeadline: UInt64 = 0

    /// The running count: loaded at `timerStartTSC` with `timerFirstCount`, reloading with
    /// `initialCount` in periodic mode. `timerArmed` false: the count reads 0.
    private var timerArmed = false
    private var timerStartTSC: UInt64 = 0
    private var timerFirstCount: UInt64 = 0
    /// Periodic mode: expiries already turned into interrupts (the next is number `timerFired + 1`).
    private var timerFired: UInt64 = 0

    /// The TSC at which the timer next needs `update(tsc:)`; .max when it is idle.
    public private(set) var nextTimerTSC: UInt64 = .max

    /// A local APIC at power-up or reset (§11.4.7.1): enabled in xAPIC mode
    /// at 0xFEE00000, software-disabled (SVR = 0xFF), every LVT masked. `virtualWire` programs
    /// LINT0 as ExtINT and LINT1 as NMI, unmasked, as PC firmware leaves the BSP (MP spec
    /// virtual-wire mode), so a guest that only uses the 8259 still gets its interrupts.
    public init(id: UInt32, bootstrapProcessor: Bool, virtualWire: Bool, timerHz: UInt64, tscHz: UInt64,
                x2APICSupported: Bool = true, tscDeadlineSupported: Bool = true, physicalAddressBits: Int = 39) {
        initialID = id
        self.x2APICSupported = x2APICSupported
        self.tscDeadlineSupported = tscDeadlineSupported
        self.timerHz = max(timerHz, 1)
        self.tscHz = max(tscHz, 1)
        let bits = UInt64(min(max(physicalAddressBits, 32), 52))
        physicalAddressMask = ((1 << bits) - 1) & ~0xFFF
        apicBase = LocalAPIC.defaultBase | LocalAPIC.baseGlobalEnable | (bootstrapProcessor ? LocalAPIC.baseBSP : 0)
        idRegister = (id & 0xFF) << 24
        if virtualWire {
            lvtLINT0 = UInt32(APICDeliveryMode.extINT.rawValue) << 8
            lvtLINT1 = UInt32(APICDeliveryMode.nmi.rawValue) << 8
        }
    }

    // MARK: Modes

    /// IA32_APIC_BASE.EN: the APIC is globally enabled.
    public var hardwareEnabled: Bool { apicBase & LocalAPIC.baseGlobalEnable != 0 }
    /// IA32_APIC_BASE.EXTD with EN: x2APIC mode (MSR interface, MMIO page off).
    public var x2APICMode: Bool { hardwareEnabled && apicBase & LocalAPIC.baseExtendedMode != 0 }
    /// xAPIC mode: the MMIO page at `mmioBase` is live.
    public var xAPICMode: Bool { hardwareEnabled && apicBase & LocalAPIC.baseExtendedMode == 0 }
    /// SVR bit 8, the APIC software enable.
    public var softwareEnabled: Bool { svr & LocalAPIC.svrSoftwareEnable != 0 }
    /// The guest-physical address of the xAPIC page.
    public var mmioBase: UInt64 { apicBase & 0x000F_FFFF_FFFF_F000 }
    /// The APIC ID (8 bits in xAPIC mode, 32 in x2APIC mode).
    public var id: UInt32 { x2APICMode ? idRegister : idRegister >> 24 }
    public var timerMode: APICTimerMode {
        switch (lvtTimer >> 17) & 3 {
        case 1: return .periodic
        case 2: return .tscDeadline
        default: return .oneShot
        }
    }
    /// The timer divisor from the divide configuration register bits 3, 1:0 (Figure 11-10).
    public var timerDivisor: UInt64 {
        let code = (divideConfiguration & 0x8) >> 1 | divideConfiguration & 0x3
        return 1 << UInt64((code + 1) & 7)
    }

    // MARK: Priority (§11.8.3.1)

    /// PPR: the TPR if its class is at least the highest in-service class, else that class.
    public var ppr: UInt32 {
        let isrv = UInt32(isr.highest ?? 0)
        return tpr & 0xF0 >= isrv & 0xF0 ? tpr & 0xFF : isrv & 0xF0
    }

    /// APR (§11.6.2.4), xAPIC only.
    public var apr: UInt32 {
        let isrv = UInt32(isr.highest ?? 0) & 0xF0
        let irrv = UInt32(irr.highest ?? 0) & 0xF0
        let tprClass = tpr & 0xF0
        if tprClass >= irrv && tprClass > isrv { return tpr & 0xFF }
        return max(tprClass, max(isrv, irrv))
    }

    /// The vector the vCPU would take now: the highest requested vector whose priority class is
    /// above the PPR's; nil when none (or the APIC is globally disabled).
    public func highestDeliverable() -> UInt8? {
        guard hardwareEnabled, let v = irr.highest else { return nil }
        return UInt32(v) & 0xF0 > ppr & 0xF0 ? v : nil
    }

    /// INTA: moves the highest deliverable vector from the IRR to the ISR and returns it; the
    /// spurious vector (SVR[7:0], not put in service) when nothing is deliverable any more (§11.9).
    public mutating func acknowledge() -> UInt8 {
        guard let v = highestDeliverable() else { return UInt8(truncatingIfNeeded: svr) }
        irr.remove(v)
        isr.insert(v)
        return v
    }

    /// A fixed or lowest-priority interrupt arriving at this APIC (from an IPI, the I/O APIC or
    /// an LVT): set in the IRR, its TMR bit recording the trigger mode (§11.8.4). Vectors 0-15
    /// are refused with "receive illegal vector"; a disabled APIC discards it. Returns whether
    /// it was accepted.
    @discardableResult
    public mutating func accept(vector: UInt8, levelTriggered: Bool) -> Bool {
        guard hardwareEnabled, softwareEnabled else { return false }
        guard vector >= 16 else {
            signalError(LocalAPIC.esrReceiveIllegalVector)
            return false
        }
        irr.insert(vector)
        if levelTriggered { tmr.insert(vector) } else { tmr.remove(vector) }
        return true
    }

    /// EOI: retires the highest in-service vector (§11.8.5).
    public mutating func endOfInterrupt() -> LocalAPICEffect {
        guard let v = isr.highest else { return .none }
        isr.remove(v)
        return .endOfInterrupt(vector: v, levelTriggered: tmr.contains(v))
    }

    // MARK: Local interrupt pins

    /// The 8259's INTR reaches this CPU: the APIC is globally disabled (the pin goes straight to
    /// the core), or LINT0 is unmasked ExtINT (virtual-wire mode).
    public var acceptsPICInterrupt: Bool {
        !hardwareEnabled || localInterruptRoute(lvtLINT0) == .extINT
    }

    /// Where LINT0 sends its signal now.
    public var lint0Route: LocalInterruptRoute { hardwareEnabled ? localInterruptRoute(lvtLINT0) : .extINT }
    /// Where LINT1 sends its signal now (NMI when the APIC is globally disabled).
    public var lint1Route: LocalInterruptRoute { hardwareEnabled ? localInterruptRoute(lvtLINT1) : .nmi }

    private func localInterruptRoute(_ entry: UInt32) -> LocalInterruptRoute {
        if entry & LocalAPIC.lvtMask != 0 { return .masked }
        switch APICDeliveryMode(rawValue: UInt8((entry >> 8) & 7)) ?? .fixed {
        case .extINT: return .extINT
        case .nmi: return .nmi
        case .fixed:
            return .fixed(vector: UInt8(truncatingIfNeeded: entry), levelTriggered: entry & LocalAPIC.lvtLevelTriggered != 0)
        default: return .masked
        }
    }

    /// A fixed-mode LINT pin asserted: its vector goes to the IRR (an ExtINT or NMI route is the
    /// engine's to deliver). Returns whether an interrupt was requested.
    @discardableResult
    public mutating func assertLocalInterrupt(lint1: Bool) -> Bool {
        guard hardwareEnabled else { return false }
        if case let .fixed(vector, level) = localInterruptRoute(lint1 ? lvtLINT1 : lvtLINT0) {
            return accept(vector: vector, levelTriggered: level)
        }
        return false
    }

    // MARK: Errors (§11.5.3)

    private mutating func signalError(_ bits: UInt32) {
        pendingErrors |= bits
        if lvtError & LocalAPIC.lvtMask == 0 {
            let v = UInt8(truncatingIfNeeded: lvtError)
            if v >= 16 && hardwareEnabled && softwareEnabled {
                irr.insert(v)
                tmr.remove(v)
            }
        }
    }

    // MARK: xAPIC MMIO

    /// A read of `size` bytes at `offset` in the xAPIC page. Registers are 32 bits on 16-byte
    /// boundaries; a narrower read sees those bytes of the register, a reserved offset reads 0
    /// (and sets "illegal register address"). Nothing reads while the page is not live.
    public mutating func readMMIO(offset: UInt64, size: Int, tsc: UInt64) -> UInt32 {
        guard xAPICMode, offset < 0x1000 else { return 0 }
        update(tsc: tsc)
        let register = UInt32(offset) & 0xFF0
        guard offset & 0xF < 4, let value = readRegister(register, tsc: tsc, x2APIC: false) else {
            if offset & 0xF < 4 { signalError(LocalAPIC.esrIllegalRegisterAddress) }
            return 0
        }
        let shifted = value >> (8 * UInt32(offset & 3))
        switch size {
        case 1: return shifted & 0xFF
        case 2: return shifted & 0xFFFF
        default: return shifted
        }
    }

    /// A write at `offset` in the xAPIC page. Only aligned 32-bit writes reach a register (the
    /// SDM leaves others undefined: they are dropped).
    public mutating func writeMMIO(offset: UInt64, size: Int, value: UInt32, tsc: UInt64) -> LocalAPICEffect {
        guard xAPICMode, offset < 0x1000, offset & 0xF == 0, size == 4 else { return .none }
        update(tsc: tsc)
        let register = UInt32(offset)
        if register == LocalAPIC.icrHighOffset {
            icrHigh = value & 0xFF00_0000
            return .none
        }
        if register == LocalAPIC.icrLowOffset {
            icrLow = value & 0x000C_CFFF
            return sendIPI(low: icrLow, destination: icrHigh >> 24)
        }
        guard let effect = writeRegister(register, value: value, tsc: tsc, x2APIC: false) else {
            signalError(LocalAPIC.esrIllegalRegisterAddress)
            return .none
        }
        return effect
    }

    // MARK: x2APIC MSRs (§11.12.1.2, Table 11-6)

    /// RDMSR of an x2APIC MSR (0x800-0x8FF); nil means #GP (not in x2APIC mode, a reserved,
    /// write-only or xAPIC-only register).
    public mutating func readMSR(_ msr: UInt32, tsc: UInt64) -> UInt64? {
        guard x2APICMode, msr >= LocalAPIC.x2APICFirstMSR, msr <= LocalAPIC.x2APICLastMSR else { return nil }
        update(tsc: tsc)
        let register = (msr - LocalAPIC.x2APICFirstMSR) << 4
        if register == LocalAPIC.icrLowOffset { return UInt64(icrHigh) << 32 | UInt64(icrLow) }
        return readRegister(register, tsc: tsc, x2APIC: true).map { UInt64($0) }
    }

    /// WRMSR of an x2APIC MSR; `.generalProtection` for a read-only or reserved register, bits
    /// 63:32 set outside the ICR, a non-zero EOI/ESR write or reserved SELF IPI bits.
    public mutating func writeMSR(_ msr: UInt32, value: UInt64, tsc: UInt64) -> LocalAPICEffect {
        guard x2APICMode, msr >= LocalAPIC.x2APICFirstMSR, msr <= LocalAPIC.x2APICLastMSR else { return .generalProtection }
        update(tsc: tsc)
        let register = (msr - LocalAPIC.x2APICFirstMSR) << 4
        if register == LocalAPIC.icrLowOffset {
            // The 64-bit ICR: destination in 63:32; reserved bits must be 0.
            guard value & 0x0000_0000_FFF3_3000 == 0 else { return .generalProtection }
            icrLow = UInt32(truncatingIfNeeded: value) & 0x000C_CFFF
            icrHigh = UInt32(truncatingIfNeeded: value >> 32)
            return sendIPI(low: icrLow, destination: icrHigh)
        }
        guard value >> 32 == 0 else { return .generalProtection }
        let low = UInt32(truncatingIfNeeded: value)
        switch register {
        case LocalAPIC.eoiOffset, LocalAPIC.esrOffset:
            guard low == 0 else { return .generalProtection }
        case LocalAPIC.selfIPIOffset:
            guard low & ~0xFF == 0 else { return .generalProtection }
            // A self IPI is an edge-triggered fixed interrupt to this APIC.
            if !accept(vector: UInt8(low), levelTriggered: false) && low < 16 {
                pendingErrors |= LocalAPIC.esrSendIllegalVector
            }
            return .none
        default: break
        }
        return writeRegister(register, value: low, tsc: tsc, x2APIC: true) ?? .generalProtection
    }

    // MARK: Register file

    /// The value of the register at xAPIC offset `register`; nil for reserved and write-only.
    private mutating func readRegister(_ register: UInt32, tsc: UInt64, x2APIC: Bool) -> UInt32? {
        switch register {
        case LocalAPIC.idOffset: return idRegister
        case LocalAPIC.versionOffset: return LocalAPIC.versionValue
        case LocalAPIC.tprOffset: return tpr
        case LocalAPIC.aprOffset: return x2APIC ? nil : apr
        case LocalAPIC.pprOffset: return ppr
        case LocalAPIC.rrdOffset: return x2APIC ? nil : 0
        case LocalAPIC.ldrOffset: return ldr
        case LocalAPIC.dfrOffset: return x2APIC ? nil : dfr | 0x0FFF_FFFF
        case LocalAPIC.svrOffset: return svr
        case 0x100...0x170: return isr.register(Int((register - LocalAPIC.isrOffset) >> 4))
        case 0x180...0x1F0: return tmr.register(Int((register - LocalAPIC.tmrOffset) >> 4))
        case 0x200...0x270: return irr.register(Int((register - LocalAPIC.irrOffset) >> 4))
        case LocalAPIC.esrOffset: return esr
        case LocalAPIC.lvtCMCIOffset: return lvtCMCI
        case LocalAPIC.icrLowOffset: return icrLow        // delivery status 0: the engine routes at once
        case LocalAPIC.icrHighOffset: return x2APIC ? nil : icrHigh
        case LocalAPIC.lvtTimerOffset: return lvtTimer
        case LocalAPIC.lvtThermalOffset: return lvtThermal
        case LocalAPIC.lvtPerfOffset: return lvtPerformance
        case LocalAPIC.lvtLINT0Offset: return lvtLINT0
        case LocalAPIC.lvtLINT1Offset: return lvtLINT1
        case LocalAPIC.lvtErrorOffset: return lvtError
        case LocalAPIC.initialCountOffset: return initialCount
        case LocalAPIC.currentCountOffset: return currentCount(tsc: tsc)
        case LocalAPIC.divideConfigOffset: return divideConfiguration
        default: return nil                                 // EOI and SELF IPI are write-only
        }
    }

    /// Writes the register at xAPIC offset `register`; nil for reserved and read-only ones in
    /// x2APIC mode (#GP), where xAPIC mode ignores writes to read-only registers.
    private mutating func writeRegister(_ register: UInt32, value: UInt32, tsc: UInt64, x2APIC: Bool) -> LocalAPICEffect? {
        switch register {
        case LocalAPIC.idOffset:
            if x2APIC { return nil }
            idRegister = value & 0xFF00_0000                // xAPIC: ID in 31:24, writable (§11.4.6)
        case LocalAPIC.tprOffset:
            tpr = value & 0xFF
        case LocalAPIC.eoiOffset:
            return endOfInterrupt()
        case LocalAPIC.ldrOffset:
            if x2APIC { return nil }                        // x2APIC: derived from the ID, read-only
            ldr = value & 0xFF00_0000
        case LocalAPIC.dfrOffset:
            if x2APIC { return nil }
            dfr = value | 0x0FFF_FFFF
        case LocalAPIC.svrOffset:
            writeSVR(value)
        case LocalAPIC.esrOffset:
            // A write latches the errors since the last write (§11.5.3).
            esr = pendingErrors
            pendingErrors = 0
        case LocalAPIC.lvtCMCIOffset: lvtCMCI = lvtValue(value, writable: 0x0001_07FF)
        case LocalAPIC.lvtTimerOffset: writeLVTTimer(value, tsc: tsc)
        case LocalAPIC.lvtThermalOffset: lvtThermal = lvtValue(value, writable: 0x0001_07FF)
        case LocalAPIC.lvtPerfOffset: lvtPerformance = lvtValue(value, writable: 0x0001_07FF)
        case LocalAPIC.lvtLINT0Offset: lvtLINT0 = lvtValue(value, writable: 0x0001_A7FF) | lvtLINT0 & LocalAPIC.lvtRemoteIRR
        case LocalAPIC.lvtLINT1Offset: lvtLINT1 = lvtValue(value, writable: 0x0001_A7FF) | lvtLINT1 & LocalAPIC.lvtRemoteIRR
        case LocalAPIC.lvtErrorOffset: lvtError = lvtValue(value, writable: 0x0001_00FF)
        case LocalAPIC.initialCountOffset:
            writeInitialCount(value, tsc: tsc)
        case LocalAPIC.divideConfigOffset:
            writeDivideConfiguration(value, tsc: tsc)
        case LocalAPIC.versionOffset, LocalAPIC.aprOffset, LocalAPIC.pprOffset, LocalAPIC.rrdOffset,
             0x100...0x270, LocalAPIC.currentCountOffset:
            if x2APIC { return nil }                        // read-only: #GP in x2APIC, ignored in xAPIC
        default:
            return nil
        }
        return LocalAPICEffect.none
    }

    /// An LVT value: writable bits only; masked while the APIC is software-disabled (§11.4.7.2).
    private func lvtValue(_ value: UInt32, writable: UInt32) -> UInt32 {
        value & writable | (softwareEnabled ? 0 : LocalAPIC.lvtMask)
    }

    private mutating func writeSVR(_ value: UInt32) {
        let wasEnabled = softwareEnabled
        // Vector 7:0, APIC software enable 8, focus processor checking 9 (no EOI-broadcast suppression).
        svr = value & 0x3FF
        if wasEnabled && !softwareEnabled {
            // Software disable masks every LVT (§11.4.7.2).
            lvtCMCI |= LocalAPIC.lvtMask; lvtTimer |= LocalAPIC.lvtMask; lvtThermal |= LocalAPIC.lvtMask
            lvtPerformance |= LocalAPIC.lvtMask; lvtLINT0 |= LocalAPIC.lvtMask; lvtLINT1 |= LocalAPIC.lvtMask
            lvtError |= LocalAPIC.lvtMask
        }
    }

    // MARK: IPIs (§11.6)

    private mutating func sendIPI(low: UInt32, destination: UInt32) -> LocalAPICEffect {
        let mode = APICDeliveryMode(rawValue: UInt8((low >> 8) & 7)) ?? .fixed
        let vector = UInt8(truncatingIfNeeded: low)
        if mode == .reserved3 || mode == .extINT { return .none }      // not sendable as IPIs
        if (mode == .fixed || mode == .lowestPriority) && vector < 16 {
            signalError(LocalAPIC.esrSendIllegalVector)
            return .none
        }
        let ipi = APICInterprocessorInterrupt(
            vector: vector, deliveryMode: mode, logicalDestination: low & (1 << 11) != 0,
            assert: low & (1 << 14) != 0, levelTriggered: low & (1 << 15) != 0,
            shorthand: APICDestinationShorthand(rawValue: UInt8((low >> 18) & 3)) ?? .none,
            destination: destination, source: id)
        return .interprocessorInterrupt(ipi)
    }

    /// Whether this APIC is a target of `destination` in physical or logical destination mode
    /// (§11.6.2: broadcast 0xFF / 0xFFFFFFFF; logical flat or cluster model by the DFR; x2APIC
    /// logical: cluster in 31:16, member bitmap in 15:0).
    public func isDestination(_ destination: UInt32, logical: Bool) -> Bool {
        guard hardwareEnabled else { return false }
        if x2APICMode {
            if destination == 0xFFFF_FFFF { return true }
            if !logical { return destination == idRegister }
            return destination >> 16 == ldr >> 16 && destination & ldr & 0xFFFF != 0
        }
        let dest = destination & 0xFF
        if dest == 0xFF { return true }
        if !logical { return dest == idRegister >> 24 }
        let logicalID = ldr >> 24
        if dfr >> 28 == 0xF { return dest & logicalID != 0 }             // flat model
        return dest >> 4 == logicalID >> 4 && dest & logicalID & 0xF != 0   // cluster model
    }

    /// Whether this APIC receives `ipi`, sent by the APIC `isSender` says (the shorthand first,
    /// then the destination field).
    public func isTarget(of ipi: APICInterprocessorInterrupt, isSender: Bool) -> Bool {
        guard hardwareEnabled else { return false }
        switch ipi.shorthand {
        case .none: return isDestination(ipi.destination, logical: ipi.logicalDestination)
        case .selfOnly: return isSender
        case .allIncludingSelf: return true
        case .allExcludingSelf: return !isSender
        }
    }

    /// An interrupt message arriving here (an IPI or an I/O APIC message) by delivery mode:
    /// fixed and lowest-priority go to the IRR; INIT resets the APIC; NMI, SIPI, SMI and ExtINT
    /// are the engine's to carry out on the vCPU (SIPI only in wait-for-SIPI; SMI ignored).
    public mutating func receive(deliveryMode: APICDeliveryMode, vector: UInt8, levelTriggered: Bool,
                                 assert: Bool = true) -> LocalAPICDelivery {
        guard hardwareEnabled else { return .ignored }
        switch deliveryMode {
        case .fixed, .lowestPriority:
            return accept(vector: vector, levelTriggered: levelTriggered) ? .requested : .ignored
        case .nmi: return .nmi
        case .initialization:
            // INIT level de-assert (level-triggered, de-assert) is ignored (§11.6.1).
            if levelTriggered && !assert { return .ignored }
            receiveINIT()
            return .initialization
        case .startup: return .startup(vector: vector)
        case .extINT: return .extINT
        case .smi, .reserved3: return .ignored
        }
    }

    public mutating func receive(_ ipi: APICInterprocessorInterrupt) -> LocalAPICDelivery {
        receive(deliveryMode: ipi.deliveryMode, vector: ipi.vector, levelTriggered: ipi.levelTriggered, assert: ipi.assert)
    }

    /// The INIT signal (an INIT IPI): the APIC returns to its reset state except the APIC ID
    /// and IA32_APIC_BASE (§11.4.7.3); the engine puts the vCPU in wait-for-SIPI.
    public mutating func receiveINIT() {
        resetRegisters()
    }

    private mutating func resetRegisters() {
        tpr = 0; ldr = 0; dfr = 0xFFFF_FFFF; svr = 0xFF
        irr = APICVectorSet(); isr = APICVectorSet(); tmr = APICVectorSet()
        esr = 0; pendingErrors = 0; icrLow = 0; icrHigh = 0
        lvtCMCI = LocalAPIC.lvtMask; lvtTimer = LocalAPIC.lvtMask; lvtThermal = LocalAPIC.lvtMask
        lvtPerformance = LocalAPIC.lvtMask; lvtLINT0 = LocalAPIC.lvtMask; lvtLINT1 = LocalAPIC.lvtMask
        lvtError = LocalAPIC.lvtMask
        initialCount = 0; divideConfiguration = 0; tscDeadline = 0
        timerArmed = false
        nextTimerTSC = .max
        if x2APICMode { setX2APICIdentity() }
    }

    private mutating func setX2APICIdentity() {
        idRegister = initialID
        // Logical x2APIC ID: cluster = ID[31:4] in 31:16, 1 << ID[3:0] in 15:0 (§11.12.10.2).
        ldr = (initialID >> 4) << 16 | 1 << (initialID & 0xF)
    }

    // MARK: IA32_APIC_BASE (§11.4.4, §11.12.5)

    /// WRMSR IA32_APIC_BASE. #GP for reserved bits, EXTD without x2APIC support, and the illegal
    /// transitions of Figure 11-27: x2APIC → xAPIC, disabled → x2APIC, EXTD without EN.
    /// Clearing EN returns the APIC to its reset state (the MMIO page and MSRs go dark).
    public mutating func writeAPICBase(_ value: UInt64) -> LocalAPICEffect {
        let allowed = physicalAddressMask | LocalAPIC.baseBSP | LocalAPIC.baseGlobalEnable
            | (x2APICSupported ? LocalAPIC.baseExtendedMode : 0)
        guard value & ~allowed == 0 else { return .generalProtection }
        let enable = value & LocalAPIC.baseGlobalEnable != 0
        let extended = value & LocalAPIC.baseExtendedMode != 0
        if extended && !enable { return .generalProtection }                    // invalid state
        if x2APICMode && enable && !extended { return .generalProtection }      // x2APIC → xAPIC
        if !hardwareEnabled && enable && extended { return .generalProtection } // disabled → x2APIC
        let wasEnabled = hardwareEnabled
        let wasX2APIC = x2APICMode
        // The BSP flag is the processor's, not the guest's.
        apicBase = value & ~LocalAPIC.baseBSP | apicBase & LocalAPIC.baseBSP
        if wasEnabled && !enable {
            resetRegisters()
            idRegister = (initialID & 0xFF) << 24
        } else if !wasX2APIC && x2APICMode {
            setX2APICIdentity()
        }
        return .none
    }

    // MARK: Timer (§11.5.4)

    private mutating func writeLVTTimer(_ value: UInt32, tsc: UInt64) {
        let writable: UInt32 = 0x0003_00FF | (tscDeadlineSupported ? 1 << 18 : 0)
        let oldMode = timerMode
        lvtTimer = lvtValue(value, writable: writable)
        let newMode = timerMode
        if oldMode != newMode && (oldMode == .tscDeadline || newMode == .tscDeadline) {
            // "Transitions between TSC-deadline mode and other timer modes also disarm the timer."
            initialCount = 0
            tscDeadline = 0
            timerArmed = false
        } else if oldMode != newMode && timerArmed {
            // One-shot ↔ periodic: the running count continues under the new mode.
            restartTimer(fromCount: UInt64(currentCount(tsc: tsc)), tsc: tsc)
        }
        scheduleTimer()
    }

    private mutating func writeInitialCount(_ value: UInt32, tsc: UInt64) {
        guard timerMode != .tscDeadline else { return }    // ignored in TSC-deadline mode
        initialCount = value
        if value == 0 {
            timerArmed = false
        } else {
            restartTimer(fromCount: UInt64(value), tsc: tsc)
        }
        scheduleTimer()
    }

    private mutating func writeDivideConfiguration(_ value: UInt32, tsc: UInt64) {
        let remaining = timerArmed && timerMode != .tscDeadline ? UInt64(currentCount(tsc: tsc)) : 0
        divideConfiguration = value & 0xB
        if timerArmed && timerMode != .tscDeadline {
            // The count goes on from where it is, at the new rate.
            if remaining == 0 { timerArmed = false } else { restartTimer(fromCount: remaining, tsc: tsc) }
        }
        scheduleTimer()
    }

    private mutating func restartTimer(fromCount count: UInt64, tsc: UInt64) {
        timerArmed = true
        timerStartTSC = tsc
        timerFirstCount = count
        timerFired = 0
    }

    /// Counter decrements since `timerStartTSC`.
    private func timerDecrements(at tsc: UInt64) -> UInt64 {
        guard tsc > timerStartTSC else { return 0 }
        let clock = GuestClock(tscHz: tscHz, tscBase: timerStartTSC)
        return clock.ticks(at: tsc, hz: timerHz) / timerDivisor
    }

    /// The TSC of the `decrements`-th decrement after the start.
    private func tscAfter(decrements: UInt64) -> UInt64 {
        let (ticks, overflow) = decrements.multipliedReportingOverflow(by: timerDivisor)
        if overflow { return .max }
        return GuestClock(tscHz: tscHz, tscBase: timerStartTSC).tsc(atTick: ticks, hz: timerHz)
    }

    /// The current-count register: counts down from the loaded count to 0, where one-shot
    /// stays and periodic reloads the initial count.
    public func currentCount(tsc: UInt64) -> UInt32 {
        guard timerArmed, timerMode != .tscDeadline else { return 0 }
        let e = timerDecrements(at: tsc)
        if e < timerFirstCount { return UInt32(truncatingIfNeeded: timerFirstCount - e) }
        guard timerMode == .periodic, initialCount != 0 else { return 0 }
        let period = UInt64(initialCount)
        return UInt32(truncatingIfNeeded: period - (e - timerFirstCount) % period)
    }

    /// The TSC of expiry number `n` (1-based) of the running count.
    private func expiryTSC(_ n: UInt64) -> UInt64 {
        let period = UInt64(initialCount)
        if n <= 1 || period == 0 { return tscAfter(decrements: timerFirstCount) }
        let (extra, overflow) = (n - 1).multipliedReportingOverflow(by: period)
        if overflow { return .max }
        return tscAfter(decrements: timerFirstCount &+ extra)
    }

    private mutating func scheduleTimer() {
        if timerMode == .tscDeadline {
            nextTimerTSC = tscDeadline == 0 ? .max : tscDeadline
        } else if timerArmed {
            nextTimerTSC = expiryTSC(timerFired + 1)
        } else {
            nextTimerTSC = .max
        }
    }

    /// Brings the timer up to `tsc`: an expiry that came due requests the LVT timer vector
    /// (unless masked; several periodic expiries since the last look coalesce into one IRR bit).
    public mutating func update(tsc: UInt64) {
        guard tsc >= nextTimerTSC else { return }
        switch timerMode {
        case .tscDeadline:
            tscDeadline = 0
        case .oneShot:
            timerArmed = false
        case .periodic:
            // Expiries through `tsc`: 1 + (decrements - first) / period.
            let e = timerDecrements(at: tsc)
            let period = UInt64(max(initialCount, 1))
            timerFired = e >= timerFirstCount ? 1 + (e - timerFirstCount) / period : timerFired + 1
        }
        if lvtTimer & LocalAPIC.lvtMask == 0 {
            accept(vector: UInt8(truncatingIfNeeded: lvtTimer), levelTriggered: false)
        }
        scheduleTimer()
    }

    /// RDMSR IA32_TSC_DEADLINE: the armed deadline, 0 outside TSC-deadline mode.
    public func readTSCDeadline() -> UInt64 {
        timerMode == .tscDeadline ? tscDeadline : 0
    }

    /// WRMSR IA32_TSC_DEADLINE: arms (or with 0 disarms) the deadline; ignored in other timer
    /// modes. A deadline already past fires at the next `update(tsc:)`.
    public mutating func writeTSCDeadline(_ value: UInt64, tsc: UInt64) {
        guard timerMode == .tscDeadline, hardwareEnabled else { return }
        tscDeadline = value
        scheduleTimer()
        update(tsc: tsc)
    }
}
