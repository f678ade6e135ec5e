import X86
import VTx

// The host-state area: what the processor loads on every VM exit (SDM Vol. 3C
// §25.5, §28.5). It is the running kernel itself, captured once per VMCS.
//
// Subtle rules (checked at VM entry, §27.2.3):
// - Host selectors must have RPL = 0 and TI = 0, and CS and TR must not be 0.
// - Host CR0/CR4 must satisfy the VMX fixed bits (they do: we are in VMX operation).
// - With "host address-space size" set, the exit returns to 64-bit mode and
//   CR4.PAE must be set.
// - RSP/RIP are written by VMEntryExit.S on every vmx_run.

enum HostState {
    static func write(_ vmcs: VMCS, exitControls: VMExitControls) throws(VMXError) {
        try vmcs.write(.hostCR0, read_cr0())
        try vmcs.write(.hostCR3, read_cr3())
        try vmcs.write(.hostCR4, read_cr4())

        // SDM §27.2.3: selector fields must have RPL and TI clear.
        func selector(_ s: UInt16) -> UInt64 { UInt64(SegmentSelector(rawValue: s).hostSelector.rawValue) }
        try vmcs.write(.hostCSSelector, selector(read_cs()))
        try vmcs.write(.hostSSSelector, selector(read_ss()))
        try vmcs.write(.hostDSSelector, selector(read_ds()))
        try vmcs.write(.hostESSelector, selector(read_es()))
        try vmcs.write(.hostFSSelector, selector(read_fs()))
        try vmcs.write(.hostGSSelector, selector(read_gs()))
        try vmcs.write(.hostTRSelector, selector(read_tr()))

        try vmcs.write(.hostFSBase, rdmsr(MSR.ia32FSBase))
        try vmcs.write(.hostGSBase, rdmsr(MSR.ia32GSBase))
        try vmcs.write(.hostTRBase, UInt64(UInt(bitPattern: DescriptorTables.tss)))
        try vmcs.write(.hostGDTRBase, sgdt_base())
        try vmcs.write(.hostIDTRBase, sidt_base())

        try vmcs.write(.hostIA32SysenterCS, rdmsr(MSR.ia32SysenterCS))
        try vmcs.write(.hostIA32SysenterESP, rdmsr(MSR.ia32SysenterESP))
        try vmcs.write(.hostIA32SysenterEIP, rdmsr(MSR.ia32SysenterEIP))
        if exitControls.contains(.loadEFER) { try vmcs.write(.hostIA32EFER, rdmsr(MSR.ia32EFER)) }
        if exitControls.contains(.loadPAT) { try vmcs.write(.hostIA32PAT, rdmsr(MSR.ia32PAT)) }
    }
}
