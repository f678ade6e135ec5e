import X86

/// A segment register as the CPU caches it: selector plus the hidden base, limit
/// and access rights (the form both a VMCS and KVM's kvm_segment take).
public struct SegmentState: Equatable, Sendable {
    public var selector: UInt16
    public var base: UInt64
    public var limit: UInt32
    public var accessRights: AccessRights

    public init(selector: UInt16, base: UInt64 = 0, limit: UInt32, accessRights: AccessRights) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.accessRights = accessRights
    }

    /// An unusable segment (VMX access-rights bit 16): LDTR, or null data selectors.
    public static let unusable = SegmentState(selector: 0, limit: 0, accessRights: .unusable)
}

/// The processor mode a guest starts in.
public enum GuestMode: Sendable, Equatable {
    case long, protected, real

    public init?(name: Substring) {
        switch name {
        case "long", "64": self = .long
        case "protected", "32": self = .protected
        case "real", "16": self = .real
        default: return nil
        }
    }

    public var name: StaticString {
        switch self {
        case .long: return "64-bit long mode"
        case .protected: return "32-bit protected mode"
        case .real: return "real mode"
        }
    }

    /// Starting with paging off (real or protected mode) needs VMX "unrestricted guest"
    /// (SDM Vol. 3C §26.3.1.1: otherwise CR0.PE and CR0.PG must be 1).
    public var needsUnrestrictedGuest: Bool { self != .long }
}

/// Everything a virtual CPU needs at its first instruction: the architectural
/// register state the engine (VMCS guest-state area, or KVM's regs/sregs) loads.
public struct CPUStartState: Sendable {
    public var mode: GuestMode
    public var cr0: CR0
    public var cr3: UInt64 = 0
    public var cr4: CR4
    public var efer: EFER
    public var rip: UInt64
    public var rsp: UInt64
    public var rflags: UInt64 = RFLAGS.reserved1.rawValue
    public var rbx: UInt64 = 0
    public var rax: UInt64 = 0
    public var rsi: UInt64 = 0
    public var cs: SegmentState
    public var ds: SegmentState, es: SegmentState, ss: SegmentState, fs: SegmentState, gs: SegmentState
    public var tr: SegmentState
    public var ldtr: SegmentState = .unusable
    public var gdtrBase: UInt64 = 0, gdtrLimit: UInt32 = 0
    public var idtrBase: UInt64 = 0, idtrLimit: UInt32 = 0

    public init(mode: GuestMode, cr0: CR0, cr4: CR4, efer: EFER, rip: UInt64, rsp: UInt64,
                cs: SegmentState, data: SegmentState, tr: SegmentState) {
        self.mode = mode
        self.cr0 = cr0
        self.cr4 = cr4
        self.efer = efer
        self.rip = rip
        self.rsp = rsp
        self.cs = cs
        ds = data; es = data; ss = data; fs = data; gs = data
        self.tr = tr
    }
}

extension CPUStartState {
    /// An application processor started by a start-up IPI with `vector` (SDM Vol. 3A §8.4.4.1,
    /// Table 10-1 for the rest of the INIT state): real mode at CS:IP = (vector << 8):0000, CS base
    /// vector << 12, the other segments 0 with 64 KiB limits, the IVT at 0, paging and caching
    /// state as after INIT (CR0 = ET | NE here: the VMX-fixed NE is kept visible).
    public static func startupIPI(vector: UInt8) -> CPUStartState {
        let data = SegmentState(selector: 0, limit: 0xFFFF, accessRights: .realMode(code: false))
        var state = CPUStartState(mode: .real, cr0: [.et, .ne], cr4: [], efer: [], rip: 0, rsp: 0,
                                  cs: SegmentState(selector: UInt16(vector) << 8, base: UInt64(vector) << 12,
                                                   limit: 0xFFFF, accessRights: .realMode(code: true)),
                                  data: data,
                                  tr: SegmentState(selector: 0, limit: 0xFFFF, accessRights: .tssBusy16))
        state.idtrLimit = 0x3FF
        return state
    }
}
