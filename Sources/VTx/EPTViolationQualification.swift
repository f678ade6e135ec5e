// Exit qualification for EPT violations (SDM Vol. 3C §28.2.1, Table 28-7).

import X86

public struct EPTViolationQualification: NamedBitSet, Hashable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bit 0: the access was a data read.
    public static let read = EPTViolationQualification(rawValue: 1 << 0)
    /// Bit 1: the access was a data write.
    public static let write = EPTViolationQualification(rawValue: 1 << 1)
    /// Bit 2: the access was an instruction fetch.
    public static let instructionFetch = EPTViolationQualification(rawValue: 1 << 2)
    /// Bit 3: the guest-physical address was readable (AND of the R bits of the walk).
    public static let readable = EPTViolationQualification(rawValue: 1 << 3)
    /// Bit 4: writable.
    public static let writable = EPTViolationQualification(rawValue: 1 << 4)
    /// Bit 5: executable (supervisor-mode executable with mode-based execute control).
    public static let executable = EPTViolationQualification(rawValue: 1 << 5)
    /// Bit 6: user-mode executable (mode-based execute control only).
    public static let userModeExecutable = EPTViolationQualification(rawValue: 1 << 6)
    /// Bit 7: the guest-linear-address field is valid.
    public static let guestLinearAddressValid = EPTViolationQualification(rawValue: 1 << 7)
    /// Bit 8 (if bit 7 set): 1 = translation of the linear address, 0 = a paging-structure access.
    public static let linearAddressTranslation = EPTViolationQualification(rawValue: 1 << 8)
    /// Bit 9 (advanced info): the linear address was user-mode.
    public static let userModeLinearAddress = EPTViolationQualification(rawValue: 1 << 9)
    /// Bit 10 (advanced info): the linear address was read/write.
    public static let readWriteLinearAddress = EPTViolationQualification(rawValue: 1 << 10)
    /// Bit 11 (advanced info): the linear address was execute-disable.
    public static let executeDisableLinearAddress = EPTViolationQualification(rawValue: 1 << 11)
    /// Bit 12: NMI unblocking due to IRET.
    public static let nmiUnblockingDueToIRET = EPTViolationQualification(rawValue: 1 << 12)
    /// Bit 13: shadow-stack access.
    public static let shadowStackAccess = EPTViolationQualification(rawValue: 1 << 13)
    /// Bit 16: asynchronous to instruction execution.
    public static let asynchronous = EPTViolationQualification(rawValue: 1 << 16)

    @inline(__always) public var isRead: Bool { rawValue & 1 != 0 }
    @inline(__always) public var isWrite: Bool { rawValue & 2 != 0 }
    @inline(__always) public var isInstructionFetch: Bool { rawValue & 4 != 0 }
    /// The R/W/X permissions of the translation (bits 5:3) in EPT entry order.
    @inline(__always) public var permissions: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 3) & 7) }
    /// True if the guest-physical address was not mapped at all (R = W = X = 0).
    @inline(__always) public var isNotPresent: Bool { rawValue & 0x38 == 0 }

    public static func name(ofBit bit: Int) -> StaticString? {
        switch bit {
        case 0: return "read"
        case 1: return "write"
        case 2: return "fetch"
        case 3: return "readable"
        case 4: return "writable"
        case 5: return "executable"
        case 6: return "user-executable"
        case 7: return "gla-valid"
        case 8: return "gla-translation"
        case 9: return "user"
        case 10: return "rw"
        case 11: return "xd"
        case 12: return "nmi-unblocking"
        case 13: return "shadow-stack"
        case 16: return "asynchronous"
        default: return nil
        }
    }
}
