// IA32_VMX_CR0_FIXED0/1 and IA32_VMX_CR4_FIXED0/1 (SDM Vol. 3D §A.7, §A.8).

import X86

/// Fixed bits of CR0 or CR4 in VMX operation: a bit set in `fixed0` must be 1; a bit clear in
/// `fixed1` must be 0.
public struct FixedBits: Hashable, Sendable {
    public var fixed0: UInt64
    public var fixed1: UInt64

    @inline(__always)
    public init(fixed0: UInt64, fixed1: UInt64) { self.fixed0 = fixed0; self.fixed1 = fixed1 }

    /// Forces the fixed bits: `(value | fixed0) & fixed1`.
    @inline(__always) public func adjust(_ value: UInt64) -> UInt64 { (value | fixed0) & fixed1 }
    /// True if `value` has all fixed-1 bits set and no fixed-0 bits set.
    @inline(__always) public func isValid(_ value: UInt64) -> Bool {
        value & fixed0 == fixed0 && value & ~fixed1 == 0
    }
    /// Bits of `value` that violate the fixed settings (missing 1s and forbidden 1s).
    @inline(__always) public func violations(_ value: UInt64) -> UInt64 {
        (fixed0 & ~value) | (value & ~fixed1)
    }

    /// Guest CR0 exemption: with "unrestricted guest" PE and PG may be 0 in guest CR0 even though
    /// IA32_VMX_CR0_FIXED0 reports them as fixed-1 (SDM Vol. 3C §27.3.1.1; §26.3.1.1 in older editions).
    @inline(__always)
    public func guestCR0(unrestrictedGuest: Bool) -> FixedBits {
        unrestrictedGuest ? FixedBits(fixed0: fixed0 & ~(CR0.pe.rawValue | CR0.pg.rawValue), fixed1: fixed1) : self
    }

    /// Adjusts a guest CR0 value, leaving PE and PG as requested when `unrestrictedGuest` is on.
    @inline(__always)
    public func adjustGuestCR0(_ value: UInt64, unrestrictedGuest: Bool) -> UInt64 {
        guestCR0(unrestrictedGuest: unrestrictedGuest).adjust(value)
    }

    /// Validates a guest CR0 value; with unrestricted guest PE/PG may be 0, but PG = 1 still needs PE = 1.
    public func isValidGuestCR0(_ value: UInt64, unrestrictedGuest: Bool) -> Bool {
        guard guestCR0(unrestrictedGuest: unrestrictedGuest).isValid(value) else { return false }
        return value & CR0.pg.rawValue == 0 || value & CR0.pe.rawValue != 0
    }
}
