import X86
import VTx
import Machine
import VMX

// A VM's controls (computed in Sources/VMX/VMControls.swift) into its VMCS, with the fields
// that go with them.

extension VMControls {
    func write(_ vmcs: VMCS) throws(VMXError) {
        try vmcs.write(.pinBasedControls, UInt64(pinBased.rawValue))
        try vmcs.write(.procBasedControls, UInt64(procBased.rawValue))
        try vmcs.write(.procBasedControls2, UInt64(procBased2.rawValue))
        try vmcs.write(.vmExitControls, UInt64(exit.rawValue))
        try vmcs.write(.vmEntryControls, UInt64(entry.rawValue))
        // No exceptions intercepted (but #PF under shadow paging), no CR3-target values, no MSR load/store lists.
        try vmcs.write(.exceptionBitmap, shadowPaging ? 1 << UInt64(ExceptionVector.pageFault.rawValue) : 0)
        try vmcs.write(.cr3TargetCount, 0)
        try vmcs.write(.vmExitMSRStoreCount, 0)
        try vmcs.write(.vmExitMSRLoadCount, 0)
        try vmcs.write(.vmEntryMSRLoadCount, 0)
        try vmcs.write(.vmEntryInterruptionInformation, 0)
        // The guest's TSC starts as the host's; a guest write moves only this offset (MSRExit).
        try vmcs.write(.tscOffset, 0)
        // No performance counters for guests, and the host's (unused) stay off after an exit.
        if entry.contains(.loadPerfGlobalCtrl) { try vmcs.write(.guestIA32PerfGlobalCtrl, 0) }
        if exit.contains(.loadPerfGlobalCtrl) { try vmcs.write(.hostIA32PerfGlobalCtrl, 0) }
        // A loop of PAUSEs at most 128 TSC ticks apart that lasts 4096 ticks exits (KVM's defaults).
        // TPR shadow: no TPR-below-threshold exits (the engine reads the virtual TPR before it
        // delivers an interrupt; an interrupt the guest's TPR held back waits for the next exit).
        if procBased.contains(.useTPRShadow) { try vmcs.write(.tprThreshold, 0) }
        if procBased2.contains(.pauseLoopExiting) {
            try vmcs.write(.pleGap, 128)
            try vmcs.write(.pleWindow, 4096)
        }
    }
}
