// Guest activity state (SDM Vol. 3C §25.4.2); support for 1–3 is reported by IA32_VMX_MISC bits 8:6.

public enum ActivityState: UInt32, Sendable, CaseIterable {
    case active = 0
    case hlt = 1
    case shutdown = 2
    case waitForSIPI = 3

    public var name: StaticString {
        switch self {
        case .active: return "active"
        case .hlt: return "HLT"
        case .shutdown: return "shutdown"
        case .waitForSIPI: return "wait-for-SIPI"
        }
    }
}
