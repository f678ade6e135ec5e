import X86

/// WRMSR to IA32_EFER where the hypervisor keeps the guest's EFER itself (shadow paging):
/// what the processor checks (SDM Vol. 4 Table 2-2, Vol. 3A §9.8.5). Only SCE, LME and, where
/// CPUID has NX, NXE may be set; LMA is read-only (the write keeps the old LMA); LME may not
/// change while paging is on.
public enum GuestEFERWrite {
    /// The guest's new EFER, or nil when the WRMSR raises #GP(0).
    public static func apply(_ value: UInt64, to old: UInt64, pagingOn: Bool, noExecuteSupported: Bool) -> UInt64? {
        let lma = EFER.lma.rawValue, lme = EFER.lme.rawValue
        var writable = EFER.sce.rawValue | lme
        if noExecuteSupported { writable |= EFER.nxe.rawValue }
        if value & ~(writable | lma) != 0 || (pagingOn && (value ^ old) & lme != 0) { return nil }
        return (value & ~lma) | (old & lma)
    }
}
