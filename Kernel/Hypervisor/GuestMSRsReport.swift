import X86
import VMX

extension GuestMSRs {
    /// "[vm] MSR accesses refused (#GP): 12: rdmsr 0x140, wrmsr 0x1d9 (IA32_DEBUGCTL), ..."
    func printReport(prefix: String) {
        guard refusedCount > 0 else { return }
        var line = "\(prefix)MSR accesses refused (#GP): \(refusedCount):"
        for i in 0..<min(refusedCount, Self.refusedCapacity) {
            let (msr, write) = refusedAccess(i)
            line += "\(i == 0 ? "" : ",") \(write ? "wrmsr" : "rdmsr") \(hex(msr, digits: 1))"
            if let name = MSR.name(msr) { line += " (\(name))" }
        }
        if refusedCount > Self.refusedCapacity { line += ", ..." }
        print(line)
    }

    /// A VM's MSRs at reset: MAXPHYADDR from CPUID.80000008H:EAX[7:0] (36 if the leaf is absent,
    /// SDM Vol. 3A §4.1.4); MSR_PLATFORM_INFO's ratio in 100 MHz units: the TSC rate the guest observes.
    static func forThisProcessor() -> GuestMSRs {
        let maxPhysical = cpuid(0x8000_0000, 0).eax >= 0x8000_0008 ? Int(cpuid(0x8000_0008, 0).eax & 0xFF) : 36
        let ratio = UInt8(truncatingIfNeeded: min(max(HostTime.tscHz / 100_000_000, 1), 255))
        return GuestMSRs(file: VirtualMSRFile(maxPhysicalAddressBits: maxPhysical, platformRatio: ratio))
    }
}
