// Exception and interrupt vectors 0–31 (SDM Vol. 3A §6.3.1, Table 6-1).

public enum ExceptionVector: UInt8, Sendable, CaseIterable {
    case divideError = 0            // #DE
    case debug = 1                  // #DB
    case nmi = 2                    // NMI
    case breakpoint = 3             // #BP
    case overflow = 4               // #OF
    case boundRangeExceeded = 5     // #BR
    case invalidOpcode = 6          // #UD
    case deviceNotAvailable = 7     // #NM
    case doubleFault = 8            // #DF
    case coprocessorSegmentOverrun = 9
    case invalidTSS = 10            // #TS
    case segmentNotPresent = 11     // #NP
    case stackSegmentFault = 12     // #SS
    case generalProtection = 13     // #GP
    case pageFault = 14             // #PF
    case x87FloatingPoint = 16      // #MF
    case alignmentCheck = 17        // #AC
    case machineCheck = 18          // #MC
    case simdFloatingPoint = 19     // #XM
    case virtualization = 20        // #VE
    case controlProtection = 21     // #CP

    /// The mnemonic, e.g. "#GP".
    public var mnemonic: StaticString {
        switch self {
        case .divideError: return "#DE"
        case .debug: return "#DB"
        case .nmi: return "NMI"
        case .breakpoint: return "#BP"
        case .overflow: return "#OF"
        case .boundRangeExceeded: return "#BR"
        case .invalidOpcode: return "#UD"
        case .deviceNotAvailable: return "#NM"
        case .doubleFault: return "#DF"
        case .coprocessorSegmentOverrun: return "#CSO"
        case .invalidTSS: return "#TS"
        case .segmentNotPresent: return "#NP"
        case .stackSegmentFault: return "#SS"
        case .generalProtection: return "#GP"
        case .pageFault: return "#PF"
        case .x87FloatingPoint: return "#MF"
        case .alignmentCheck: return "#AC"
        case .machineCheck: return "#MC"
        case .simdFloatingPoint: return "#XM"
        case .virtualization: return "#VE"
        case .controlProtection: return "#CP"
        }
    }

    /// The SDM description, e.g. "general protection".
    public var name: StaticString {
        switch self {
        case .divideError: return "divide error"
        case .debug: return "debug"
        case .nmi: return "non-maskable interrupt"
        case .breakpoint: return "breakpoint"
        case .overflow: return "overflow"
        case .boundRangeExceeded: return "BOUND range exceeded"
        case .invalidOpcode: return "invalid opcode"
        case .deviceNotAvailable: return "device not available"
        case .doubleFault: return "double fault"
        case .coprocessorSegmentOverrun: return "coprocessor segment overrun"
        case .invalidTSS: return "invalid TSS"
        case .segmentNotPresent: return "segment not present"
        case .stackSegmentFault: return "stack-segment fault"
        case .generalProtection: return "general protection"
        case .pageFault: return "page fault"
        case .x87FloatingPoint: return "x87 floating-point error"
        case .alignmentCheck: return "alignment check"
        case .machineCheck: return "machine check"
        case .simdFloatingPoint: return "SIMD floating-point exception"
        case .virtualization: return "virtualization exception"
        case .controlProtection: return "control protection exception"
        }
    }

    /// Whether delivery pushes an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP).
    public var pushesErrorCode: Bool { Self.pushesErrorCode(vector: rawValue) }

    /// Same as `pushesErrorCode` for a raw vector (false for vectors ≥ 32 and reserved ones).
    @inline(__always)
    public static func pushesErrorCode(vector: UInt8) -> Bool {
        // Bits 8, 10–14, 17, 21.
        vector < 32 && (UInt32(0x0022_7D00) >> UInt32(vector)) & 1 != 0
    }

    /// Mnemonic for any vector: the exception mnemonic, or nil for 15, 22–31 and ≥ 32.
    public static func mnemonic(vector: UInt8) -> StaticString? {
        ExceptionVector(rawValue: vector)?.mnemonic
    }

    /// Bitmask of this vector for the VMCS exception bitmap.
    @inline(__always) public var bitmapBit: UInt32 { 1 << UInt32(rawValue) }
}
