// VM-entry interruption information, VM-exit interruption information and IDT-vectoring
// information share one layout (SDM Vol. 3C §25.8.3, §25.9.2, §25.9.3).

import X86

public struct InterruptionInfo: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Interruption type, bits 10:8.
    public enum InterruptionType: UInt8, Sendable {
        case externalInterrupt = 0
        case reserved1 = 1
        case nmi = 2
        case hardwareException = 3
        case softwareInterrupt = 4
        case privilegedSoftwareException = 5
        case softwareException = 6
        case otherEvent = 7

        public var name: StaticString {
            switch self {
            case .externalInterrupt: return "external interrupt"
            case .reserved1: return "reserved"
            case .nmi: return "NMI"
            case .hardwareException: return "hardware exception"
            case .softwareInterrupt: return "software interrupt"
            case .privilegedSoftwareException: return "privileged software exception"
            case .softwareException: return "software exception"
            case .otherEvent: return "other event"
            }
        }
    }

    public static let validBit: UInt32 = 1 << 31
    public static let deliverErrorCodeBit: UInt32 = 1 << 11
    public static let nmiUnblockingBit: UInt32 = 1 << 12

    /// Not valid (bit 31 clear): write this to the entry field to inject nothing.
    public static let none = InterruptionInfo(rawValue: 0)

    @inline(__always)
    public init(vector: UInt8, type: InterruptionType, deliverErrorCode: Bool = false, valid: Bool = true) {
        var v = UInt32(vector) | UInt32(type.rawValue) << 8
        if deliverErrorCode { v |= Self.deliverErrorCodeBit }
        if valid { v |= Self.validBit }
        rawValue = v
    }

    /// A hardware exception; the error-code bit follows `hasErrorCode`, which defaults to what
    /// the vector architecturally pushes (#DF #TS #NP #SS #GP #PF #AC #CP). Pass the code itself
    /// in the VM-entry exception error-code field.
    @inline(__always)
    public static func hardwareException(vector: UInt8, hasErrorCode: Bool? = nil) -> InterruptionInfo {
        InterruptionInfo(vector: vector, type: .hardwareException,
                         deliverErrorCode: hasErrorCode ?? ExceptionVector.pushesErrorCode(vector: vector))
    }
    @inline(__always)
    public static func hardwareException(_ vector: ExceptionVector) -> InterruptionInfo {
        hardwareException(vector: vector.rawValue)
    }
    @inline(__always)
    public static func externalInterrupt(vector: UInt8) -> InterruptionInfo {
        InterruptionInfo(vector: vector, type: .externalInterrupt)
    }
    /// NMI: vector 2, type 2.
    public static let nmi = InterruptionInfo(vector: 2, type: .nmi)
    /// INT n (needs the VM-entry instruction length).
    @inline(__always)
    public static func softwareInterrupt(vector: UInt8) -> InterruptionInfo {
        InterruptionInfo(vector: vector, type: .softwareInterrupt)
    }
    /// INT3 / INTO (needs the VM-entry instruction length).
    @inline(__always)
    public static func softwareException(vector: UInt8) -> InterruptionInfo {
        InterruptionInfo(vector: vector, type: .softwareException)
    }

    /// Bits 7:0.
    @inline(__always) public var vector: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    /// Bits 10:8.
    @inline(__always) public var type: InterruptionType { InterruptionType(rawValue: UInt8((rawValue >> 8) & 7))! }
    /// Bit 11: an error code is delivered (valid in the corresponding error-code field).
    @inline(__always) public var deliversErrorCode: Bool { rawValue & Self.deliverErrorCodeBit != 0 }
    /// Bit 12 (exit/IDT-vectoring forms): NMI unblocking due to IRET.
    @inline(__always) public var nmiUnblockingDueToIRET: Bool { rawValue & Self.nmiUnblockingBit != 0 }
    /// Bit 31.
    @inline(__always) public var isValid: Bool { rawValue & Self.validBit != 0 }

    /// Whether the injected event needs the VM-entry instruction-length field (types 4, 5, 6).
    @inline(__always) public var needsInstructionLength: Bool {
        let t = (rawValue >> 8) & 7
        return t >= 4 && t <= 6
    }
}
