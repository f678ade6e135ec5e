// Allowed-0 / allowed-1 settings of a VMX control capability MSR (SDM Vol. 3D §A.3–A.5).

import X86

/// Requested control bits the processor does not allow to be 1.
public struct VMXControlError: Error, Hashable, Sendable {
    public var kind: VMXControlKind
    /// The requested bits that are not in allowed-1.
    public var missing: UInt32

    public init(kind: VMXControlKind, missing: UInt32) { self.kind = kind; self.missing = missing }

    /// The missing controls by name, e.g. "enable PML".
    public var missingNames: String { kind.names(of: missing) }

    /// "the CPU lacks 'enable PML' (secondary processor-based VM-execution controls)".
    public var message: String {
        var out = "the CPU lacks "
        var rest = missing
        var first = true
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            rest &= rest &- 1
            if !first { out += ", " }
            first = false
            out += "'"
            if let n = kind.name(ofBit: bit) { out += Format.string(n) } else { out += "bit " + Format.decimal(UInt64(bit)) }
            out += "'"
        }
        return out + " (" + Format.string(kind.name) + ")"
    }
}

/// One VMX control capability MSR: bits 31:0 are the allowed-0 settings (a 1 there means the
/// control must be 1), bits 63:32 the allowed-1 settings (a 0 there means the control must be 0).
/// For IA32_VMX_PROCBASED_CTLS2 (0x48B) bits 31:0 are always 0 (SDM Vol. 3D §A.3.3).
public struct VMXCapability: Hashable, Sendable {
    /// The control field this capability describes (used to name bits in errors and reports).
    public var kind: VMXControlKind
    /// Bits that must be 1 (MSR bits 31:0).
    public var allowed0: UInt32
    /// Bits that may be 1 (MSR bits 63:32).
    public var allowed1: UInt32

    @inline(__always)
    public init(_ kind: VMXControlKind, msr: UInt64) {
        self.kind = kind
        allowed0 = UInt32(truncatingIfNeeded: msr)
        allowed1 = UInt32(truncatingIfNeeded: msr >> 32)
    }

    @inline(__always)
    public init(_ kind: VMXControlKind, allowed0: UInt32, allowed1: UInt32) {
        self.kind = kind; self.allowed0 = allowed0; self.allowed1 = allowed1
    }

    /// A capability allowing nothing (e.g. secondary controls when "activate secondary controls" is unavailable).
    public static func none(_ kind: VMXControlKind) -> VMXCapability { VMXCapability(kind, allowed0: 0, allowed1: 0) }

    /// The raw MSR value.
    public var msrValue: UInt64 { UInt64(allowed1) << 32 | UInt64(allowed0) }
    /// Bits that must be 1.
    @inline(__always) public var mustBeOne: UInt32 { allowed0 }
    /// Bits that may be 1 (includes the must-be-1 bits).
    @inline(__always) public var mayBeOne: UInt32 { allowed1 }
    /// Bits that may be either 0 or 1.
    @inline(__always) public var flexible: UInt32 { allowed1 & ~allowed0 }
    /// Bits that must be 0.
    @inline(__always) public var mustBeZero: UInt32 { ~allowed1 }

    /// True if every bit of `bits` may be 1.
    @inline(__always) public func allows(_ bits: UInt32) -> Bool { bits & ~allowed1 == 0 }
    /// True if `value` satisfies both allowed-0 and allowed-1 settings.
    @inline(__always) public func isValid(_ value: UInt32) -> Bool {
        value & allowed0 == allowed0 && value & ~allowed1 == 0
    }

    /// The value to write for `requested`: `requested | allowed0`; throws naming the requested
    /// controls that are not allowed to be 1.
    public func adjust(requested: UInt32) throws(VMXControlError) -> UInt32 {
        let missing = requested & ~allowed1
        if missing != 0 { throw VMXControlError(kind: kind, missing: missing) }
        return requested | allowed0
    }

    /// Same as `adjust(requested:)` as a `Result`.
    public func adjusted(_ requested: UInt32) -> Result<UInt32, VMXControlError> {
        let missing = requested & ~allowed1
        if missing != 0 { return .failure(VMXControlError(kind: kind, missing: missing)) }
        return .success(requested | allowed0)
    }

    /// Typed version: `try cap.adjust([.enableEPT, .unrestrictedGuest] as SecondaryProcessorBasedControls)`.
    public func adjust<S: VMXControlSet>(_ requested: S) throws(VMXControlError) -> S {
        let missing = requested.rawValue & ~allowed1
        if missing != 0 { throw VMXControlError(kind: S.kind, missing: missing) }
        return S(rawValue: requested.rawValue | allowed0)
    }

    /// Required bits must be supported (else throws); optional bits are dropped if unsupported.
    public func adjust<S: VMXControlSet>(required: S, optional: S) throws(VMXControlError) -> S {
        try adjust(S(rawValue: required.rawValue | (optional.rawValue & allowed1)))
    }

    /// The value for `required` plus whatever of `optional` is supported, or throws.
    public func adjust(required: UInt32, optional: UInt32) throws(VMXControlError) -> UInt32 {
        try adjust(requested: required | (optional & allowed1))
    }

    /// Adjusts `requested`, silently dropping every unsupported bit.
    @inline(__always)
    public func adjustDroppingUnsupported<S: VMXControlSet>(_ requested: S) -> S {
        S(rawValue: (requested.rawValue & allowed1) | allowed0)
    }

    /// Whether all of `bits` may be 1.
    @inline(__always)
    public func supports<S: VMXControlSet>(_ bits: S) -> Bool { allows(bits.rawValue) }
}
