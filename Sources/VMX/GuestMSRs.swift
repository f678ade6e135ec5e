import X86

/// A VM's MSRs as the hypervisor keeps them (MSRPolicyTable): its emulated
/// registers, whether the VMCS switches PAT for it, and the first MSR accesses
/// it was refused (#GP), for the end-of-run report. Plain values: the exit path
/// updates it with no allocation.
public struct GuestMSRs {
    public var file: VirtualMSRFile
    /// The VM-entry "load IA32_PAT" and VM-exit "save/load IA32_PAT" controls are on: PAT passes through.
    public var vmcsSwitchesPAT = true
    /// The first refused accesses: MSR number, bit 32 set for a write.
    public var refused: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    public var refusedCount = 0
    /// How many refused accesses are kept.
    public static let refusedCapacity = 8

    public init(file: VirtualMSRFile) { self.file = file }

    public mutating func recordRefused(_ msr: UInt32, write: Bool) {
        if refusedCount < Self.refusedCapacity {
            withUnsafeMutableBytes(of: &refused) {
                $0.storeBytes(of: UInt64(msr) | (write ? 1 << 32 : 0), toByteOffset: 8 * refusedCount, as: UInt64.self)
            }
        }
        refusedCount &+= 1
    }

    /// The i-th refused access (i < min(refusedCount, refusedCapacity)).
    public func refusedAccess(_ i: Int) -> (msr: UInt32, write: Bool) {
        let entry = withUnsafeBytes(of: refused) { $0.load(fromByteOffset: 8 * i, as: UInt64.self) }
        return (UInt32(truncatingIfNeeded: entry), entry >> 32 != 0)
    }
}
