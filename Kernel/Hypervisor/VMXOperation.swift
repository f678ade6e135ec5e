import X86
import VTx

// Entering and leaving VMX operation (SDM Vol. 3C §24.6-24.8).
//
// 1. CPUID.1:ECX.VMX[bit 5] says the processor has VMX.
// 2. IA32_FEATURE_CONTROL (0x3A) must allow VMXON outside SMX (bit 2) and be
//    locked (bit 0). Firmware normally locks it; if it is still unlocked we set
//    bit 2 and lock it ourselves. Locked without bit 2, VMXON would #GP: refuse.
// 3. CR0 and CR4 must respect IA32_VMX_CR0/CR4_FIXED0 (bits that must be 1) and
//    FIXED1 (bits that may be 1) (§24.8, Appendix A.7/A.8); CR4.VMXE is one of them.
// 4. VMXON takes a 4 KiB-aligned region whose first dword is the VMCS revision
//    identifier from IA32_VMX_BASIC bits 30:0.

struct VMXOperation {
    let capabilities: VMXCapabilities
    let vmxonRegion: UInt64

    static func enter(frames: inout FrameAllocator) throws(VMXError) -> VMXOperation {
        guard CPUFeatures.read().hasVMX else { throw .unsupported("this CPU has no VMX (CPUID.1:ECX.VMX = 0)") }

        let featureControl = rdmsr(MSR.ia32FeatureControl)
        let lock: UInt64 = 1 << 0, vmxOutsideSMX: UInt64 = 1 << 2
        if featureControl & lock == 0 {
            wrmsr(MSR.ia32FeatureControl, featureControl | vmxOutsideSMX | lock)
            print("vmx: IA32_FEATURE_CONTROL was unlocked: enabled VMX outside SMX and locked it")
        } else if featureControl & vmxOutsideSMX == 0 {
            throw .featureControlLocked(featureControl)
        }

        let capabilities = VMXCapabilities.readFromCPU()
        write_cr0(capabilities.cr0.adjust(read_cr0()))
        // CR4.OSXSAVE lets the exit path execute XSETBV for the guest (the host itself never uses XSAVE).
        var cr4 = read_cr4() | CR4.vmxe.rawValue
        if CPUFeatures.read().hasXSAVE { cr4 |= CR4.osxsave.rawValue }
        write_cr4(capabilities.cr4.adjust(cr4))

        guard let region = frames.allocate() else { throw .unsupported("no memory for the VMXON region") }
        physicalPointer(region).storeBytes(of: capabilities.vmxBasic.revisionID, as: UInt32.self)
        try VMXInstruction.vmxon(region)
        return VMXOperation(capabilities: capabilities, vmxonRegion: region)
    }

    func leave() throws(VMXError) {
        try VMXInstruction.vmxoff()
        write_cr4(read_cr4() & ~CR4.vmxe.rawValue)
    }
}

extension VMXCapabilities {
    /// Read every VMX capability MSR this CPU has (SDM Vol. 3D Appendix A).
    static func readFromCPU() -> VMXCapabilities {
        VMXCapabilities(readMSR: { rdmsr($0) })
    }
}
