import VTx

/// EPT violation outside every device page (SDM Vol. 3C §28.2.1 Table 28-7): the guest touched
/// guest-physical memory it does not own. The VM stops with what the report shows.
public enum EPTViolationExit {
    public struct Access: Equatable {
        public var gpa: UInt64
        public var qualification: EPTViolationQualification
        /// The guest-linear address, when the qualification says it is valid (bit 7).
        public var linearAddress: UInt64?
        public var rip: UInt64
    }

    public static func access<H: VMXHardware>(_ hw: H) -> Access {
        let q = EPTViolationQualification(rawValue: hw.read(.exitQualification))
        return Access(gpa: hw.read(.guestPhysicalAddress), qualification: q,
                      linearAddress: q.contains(.guestLinearAddressValid) ? hw.read(.guestLinearAddress) : nil,
                      rip: hw.read(.guestRIP))
    }
}
