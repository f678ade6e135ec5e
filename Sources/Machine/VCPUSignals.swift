/// What the interrupt fabric asks of one vCPU besides the vectors in its local APIC's IRR:
/// the signals a local APIC hands to its processor rather than to the IDT (SDM Vol. 3A §11.6.1,
/// §8.4.4: INIT puts a processor in wait-for-SIPI, a start-up IPI starts one waiting there, an
/// NMI is delivered through vector 2). The engine takes them (`VirtualPC.takeSignals`) before
/// it next runs that vCPU.
public struct VCPUSignals: Equatable, Sendable {
    /// INIT arrived: the vCPU goes to wait-for-SIPI (its APIC was reset already).
    public var initialization = false
    /// A start-up IPI arrived with this vector: a vCPU in wait-for-SIPI starts in real mode at
    /// CS = vector << 8, IP = 0 (§8.4.4.1). Ignored by a vCPU that is not waiting.
    public var startupVector: UInt8? = nil
    /// An NMI is pending.
    public var nmi = false
    /// This vCPU sent an IPI to another one, which usually means it now waits for an answer: the
    /// engine lets the target run (on one physical CPU, spinning until the slice ends only wastes it).
    public var sentIPI = false

    public init() {}

    public var isEmpty: Bool { !initialization && startupVector == nil && !nmi && !sentIPI }
}
