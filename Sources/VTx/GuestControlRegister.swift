// The value of CR0 or CR4 as the guest sees it (SDM Vol. 3C §25.6.6).
//
// For each bit the CR guest/host mask owns, the guest reads the read shadow
// (MOV from CR never exits for CR0/CR4); for every other bit the guest owns the
// bit and the processor runs with it in GUEST_CRn. A handler that needs "the
// guest's CR4.PAE" must combine the two: reading only the shadow misses every
// guest-owned bit, reading only GUEST_CRn shows the VMX fixed bits the guest
// never set. Every handler reads guest CR0/CR4 through this one definition.

public enum GuestControlRegister {
    /// `(GUEST_CRn & ~mask) | (CRn_READ_SHADOW & mask)`.
    @inline(__always)
    public static func visible(actual: UInt64, mask: UInt64, readShadow: UInt64) -> UInt64 {
        (actual & ~mask) | (readShadow & mask)
    }

    /// The value to run with (GUEST_CRn) after the guest's write of `value`: the guest's bits
    /// where it owns them, the fixed bits forced where VMX requires them (`adjust`).
    @inline(__always)
    public static func actual(forGuestValue value: UInt64, fixed: FixedBits) -> UInt64 {
        fixed.adjust(value)
    }
}
