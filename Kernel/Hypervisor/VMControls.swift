import X86
import VTx
import Machine

// The VM-execution, VM-exit and VM-entry controls of a VM (SDM Vol. 3C §25.6-25.8),
// computed from the capability MSRs: every control's must-be-1 bits are set, and
// asking for a bit the CPU does not allow throws an error that names it
// (VMXCapabilities.capability picks the TRUE_* MSRs when IA32_VMX_BASIC bit 55 is set,
// which lets CR3-load/store exiting be 0 under EPT).

struct VMControls {
    var pinBased: PinBasedControls
    var procBased: PrimaryProcessorBasedControls
    var procBased2: SecondaryProcessorBasedControls
    var exit: VMExitControls
    var entry: VMEntryControls

    var unrestrictedGuest: Bool { procBased2.contains(.unrestrictedGuest) }
    var vpid: Bool { procBased2.contains(.enableVPID) }
    var preemptionTimer: Bool { pinBased.contains(.activateVMXPreemptionTimer) }
    /// The xAPIC page is virtualized (TPR shadow, APIC-access page, APIC-register virtualization):
    /// reads served from the virtual-APIC page, writes trap-like APIC-write exits (VirtualAPICPage).
    var apicVirtualization: Bool {
        procBased.contains(.useTPRShadow) && procBased2.contains([.virtualizeAPICAccesses, .apicRegisterVirtualization])
    }
    /// Shadow paging instead of EPT (issue 12).
    var shadowPaging: Bool { !procBased2.contains(.enableEPT) }
    /// PAT is loaded on entry and saved/loaded on exit: the guest's PAT may pass through (MSRPolicyTable).
    var switchesPAT: Bool { entry.contains(.loadPAT) && exit.contains([.savePAT, .loadPAT]) }

    /// `pauseLoopExiting`: a VM of several vCPUs, which take turns on one CPU, leaves a spin loop
    /// (PAUSE-loop exiting, SDM Vol. 3C §26.1.3) so the vCPU it waits for can run.
    /// `apicVirtualization`: a VM with local APICs uses the CPU's APIC virtualization where it has all
    /// three controls it needs (SDM Vol. 3C §30), and traps its APIC page otherwise.
    /// `shadowPaging` (issue 12): no EPT, no unrestricted guest (real mode is refused), no VPID;
    /// CR3 loads/stores and INVLPG exit, and #PF through the exception bitmap (`write`).
    static func compute(_ caps: VMXCapabilities, mode: GuestMode, pauseLoopExiting: Bool = false,
                        apicVirtualization: Bool = false, shadowPaging: Bool = false) throws(VMXError) -> VMControls {
        let apicv = apicVirtualization && caps.supports(PrimaryProcessorBasedControls.useTPRShadow)
            && caps.supports([.virtualizeAPICAccesses, .apicRegisterVirtualization] as SecondaryProcessorBasedControls)
        do throws(VMXControlError) {
            // Host interrupts and NMIs are the host's; the preemption timer bounds guest time.
            // Virtual NMIs: the guest's NMI blocking (an injected NMI until its IRET) is its own and
            // never holds back the host's NMIs, which end its turn where there is no preemption
            // timer (HostTimer; SDM Vol. 3C §25.3, §26.7.1).
            let pin = try caps.pinBasedCapability.adjust(
                required: [.externalInterruptExiting, .nmiExiting] as PinBasedControls,
                optional: [.activateVMXPreemptionTimer, .virtualNMIs])
            // HLT ends a guest; I/O and MSR accesses are filtered through bitmaps; MOV CR8 exits (the
            // TPR is per VM, CRAccessExit). Isolation (issue 9):
            // each VM's TSC is the host's plus its own offset; MWAIT and MONITOR exit (a C-state hint
            // could stop the preemption timer), as does RDPMC (the PMU is hidden).
            var primary: PrimaryProcessorBasedControls = [.hltExiting, .useIOBitmaps, .useMSRBitmaps, .activateSecondaryControls,
                                                          .useTSCOffsetting, .mwaitExiting, .monitorExiting, .rdpmcExiting,
                                                          .cr8LoadExiting, .cr8StoreExiting]
            if apicv { primary.insert(.useTPRShadow) }
            if shadowPaging { primary.formUnion([.cr3LoadExiting, .cr3StoreExiting, .invlpgExiting]) }
            let proc = try caps.procBasedCapability.adjust(primary)
            var required2: SecondaryProcessorBasedControls = shadowPaging ? [] : [.enableEPT]
            if mode.needsUnrestrictedGuest && !(shadowPaging && mode != .real) { required2.insert(.unrestrictedGuest) }
            // Without these enables, RDTSCP/INVPCID/XSAVES raise #UD in the guest even where the CPU has them.
            var optional2: SecondaryProcessorBasedControls = [.enableVPID, .unrestrictedGuest, .enableRDTSCP, .enableINVPCID,
                                                               .enableXSAVESXRSTORS, .wbinvdExiting]
            if pauseLoopExiting { optional2.insert(.pauseLoopExiting) }
            if apicv { required2.formUnion([.virtualizeAPICAccesses, .apicRegisterVirtualization]) }
            if shadowPaging { optional2.subtract([.enableVPID, .unrestrictedGuest, .enableINVPCID]) }
            let proc2 = try caps.procBased2Capability.adjust(required: required2, optional: optional2)
            // Return to 64-bit mode; swap EFER and PAT; take host interrupts' vectors on exit.
            // DR7 and IA32_DEBUGCTL are switched by the VMCS (save/load debug controls); the
            // guest's PERF_GLOBAL_CTRL is 0 on entry where the CPU can load it.
            // Without the EFER controls (Core 2) EFER goes through the MSR areas (EFERSwitch).
            let exit = try caps.exitCapability.adjust(
                required: [.hostAddressSpaceSize, .acknowledgeInterruptOnExit, .saveDebugControls] as VMExitControls,
                optional: [.saveEFER, .loadEFER, .savePAT, .loadPAT, .saveVMXPreemptionTimer, .loadPerfGlobalCtrl])
            var entryRequested: VMEntryControls = [.loadDebugControls]
            if exit.contains([.saveEFER, .loadEFER]) { entryRequested.insert(.loadEFER) }
            if mode == .long { entryRequested.insert(.ia32eModeGuest) }
            let entry = try caps.entryCapability.adjust(required: entryRequested, optional: [.loadPAT, .loadPerfGlobalCtrl])
            return VMControls(pinBased: pin, procBased: proc, procBased2: proc2, exit: exit, entry: entry)
        } catch {
            throw .controlUnavailable(error, mode: mode.name)
        }
    }

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
