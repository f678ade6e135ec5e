// Guest interruptibility state (SDM Vol. 3C §25.4.2, Table 25-3).

import X86

public struct InterruptibilityState: NamedBitSet, Hashable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let blockingBySTI = InterruptibilityState(rawValue: 1 << 0)
    public static let blockingByMovSS = InterruptibilityState(rawValue: 1 << 1)
    public static let blockingBySMI = InterruptibilityState(rawValue: 1 << 2)
    public static let blockingByNMI = InterruptibilityState(rawValue: 1 << 3)
    public static let enclaveInterruption = InterruptibilityState(rawValue: 1 << 4)

    /// External interrupts are blocked for one instruction (STI or MOV SS shadow).
    @inline(__always) public var hasInterruptShadow: Bool { rawValue & 3 != 0 }

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "blocking by STI"
        case 1: return "blocking by MOV SS"
        case 2: return "blocking by SMI"
        case 3: return "blocking by NMI"
        case 4: return "enclave interruption"
        default: return nil
        }
    }
}
