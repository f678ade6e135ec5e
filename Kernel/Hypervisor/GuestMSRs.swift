import X86

// A VM's MSRs as the hypervisor keeps them (MSRPolicyTable): its emulated
// registers, whether the VMCS switches PAT for it, and the first MSR accesses
// it was refused (#GP), for the end-of-run report. Plain values: the exit path
// updates it with no allocation.
struct GuestMSRs {
    var file: VirtualMSRFile
    /// The VM-entry "load IA32_PAT" and VM-exit "save/load IA32_PAT" controls are on: PAT passes through.
    var vmcsSwitchesPAT = true
    /// The first refused accesses: MSR number, bit 32 set for a write.
    var refused: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    var refusedCount = 0

    init() {
        // MAXPHYADDR from CPUID.80000008H:EAX[7:0] (36 if the leaf is absent, SDM Vol. 3A §4.1.4).
        let maxPhysical = cpuid(0x8000_0000, 0).eax >= 0x8000_0008 ? Int(cpuid(0x8000_0008, 0).eax & 0xFF) : 36
        // MSR_PLATFORM_INFO's ratio in 100 MHz units: the TSC rate the guest observes.
        let ratio = UInt8(truncatingIfNeeded: min(max(HostTime.tscHz / 100_000_000, 1), 255))
        file = VirtualMSRFile(maxPhysicalAddressBits: maxPhysical, platformRatio: ratio)
    }

    mutating func recordRefused(_ msr: UInt32, write: Bool) {
        if refusedCount < 8 {
            withUnsafeMutableBytes(of: &refused) {
                $0.storeBytes(of: UInt64(msr) | (write ? 1 << 32 : 0), toByteOffset: 8 * refusedCount, as: UInt64.self)
            }
        }
        refusedCount &+= 1
    }

    /// "[vm] MSR accesses refused (#GP): 12: rdmsr 0x140, wrmsr 0x1d9 (IA32_DEBUGCTL), ..."
    func printReport(prefix: String) {
        guard refusedCount > 0 else { return }
        var line = "\(prefix)MSR accesses refused (#GP): \(refusedCount):"
        withUnsafeBytes(of: refused) { entries in
            for i in 0..<min(refusedCount, 8) {
                let entry = entries.load(fromByteOffset: 8 * i, as: UInt64.self)
                let msr = UInt32(truncatingIfNeeded: entry)
                line += "\(i == 0 ? "" : ",") \(entry >> 32 != 0 ? "wrmsr" : "rdmsr") \(hex(msr, digits: 1))"
                if let name = MSR.name(msr) { line += " (\(name))" }
            }
        }
        if refusedCount > 8 { line += ", ..." }
        print(line)
    }
}
