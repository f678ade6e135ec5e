// The negative results of the hypercall ABI (docs/hypercalls.md).

/// An error result; RAX receives `rawValue` as two's complement.
public enum HypercallError: Int64, Error, Sendable {
    /// RAX named no function.
    case unknownFunction = -1
    /// A buffer is not entirely inside the guest's RAM.
    case badAddress = -2
    /// A length exceeds the function's limit.
    case badLength = -3
    /// Another argument is out of range.
    case badArgument = -4

    /// The value written to RAX.
    public var registerValue: UInt64 { UInt64(bitPattern: rawValue) }

    /// The error RAX holds, or nil when it is a success value (≥ 0) or no known error.
    public init?(registerValue: UInt64) {
        self.init(rawValue: Int64(bitPattern: registerValue))
    }
}
