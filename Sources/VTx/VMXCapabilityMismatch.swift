// Whether another processor's VMX capability MSRs are the boot processor's. The hypervisor
// builds every VMCS from one set of capabilities (the boot processor's, VMControls), so a
// processor that offers anything different - fewer controls, another VMCS revision, other
// CR0/CR4 fixed bits - is left out rather than run with controls it may not have.

extension VMXCapabilities {
    /// The name of the first capability MSR whose value differs from `other`'s, in the order of
    /// SDM Vol. 3D Appendix A, or nil when they are all equal. Allocation-free: an AP runs it
    /// while the boot processor owns the heap.
    public func firstDifference(from other: VMXCapabilities) -> StaticString? {
        if basic != other.basic { return "IA32_VMX_BASIC" }
        if pinBased != other.pinBased { return "IA32_VMX_PINBASED_CTLS" }
        if procBased != other.procBased { return "IA32_VMX_PROCBASED_CTLS" }
        if exit != other.exit { return "IA32_VMX_EXIT_CTLS" }
        if entry != other.entry { return "IA32_VMX_ENTRY_CTLS" }
        if misc != other.misc { return "IA32_VMX_MISC" }
        if cr0Fixed0 != other.cr0Fixed0 { return "IA32_VMX_CR0_FIXED0" }
        if cr0Fixed1 != other.cr0Fixed1 { return "IA32_VMX_CR0_FIXED1" }
        if cr4Fixed0 != other.cr4Fixed0 { return "IA32_VMX_CR4_FIXED0" }
        if cr4Fixed1 != other.cr4Fixed1 { return "IA32_VMX_CR4_FIXED1" }
        if vmcsEnum != other.vmcsEnum { return "IA32_VMX_VMCS_ENUM" }
        if procBased2 != other.procBased2 { return "IA32_VMX_PROCBASED_CTLS2" }
        if eptVPIDCap != other.eptVPIDCap { return "IA32_VMX_EPT_VPID_CAP" }
        if truePinBased != other.truePinBased { return "IA32_VMX_TRUE_PINBASED_CTLS" }
        if trueProcBased != other.trueProcBased { return "IA32_VMX_TRUE_PROCBASED_CTLS" }
        if trueExit != other.trueExit { return "IA32_VMX_TRUE_EXIT_CTLS" }
        if trueEntry != other.trueEntry { return "IA32_VMX_TRUE_ENTRY_CTLS" }
        if vmFunc != other.vmFunc { return "IA32_VMX_VMFUNC" }
        return nil
    }
}
