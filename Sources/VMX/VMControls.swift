import X86
import VTx
import Machine

// The VM-execution, VM-exit and VM-entry controls of a VM (SDM Vol. 3C §25.6-25.8),
// computed from the capability MSRs: every control's must-be-1 bits are set, and
// asking for a bit the CPU does not allow throws an error that names it
// (VMXCapabilities.capability picks the TRUE_* MSRs when IA32_VMX_BASIC bit 55 is set,
// which lets CR3-load/store exiting be 0 under EPT). The kernel writes them into a VMCS
// (Kernel/Hypervisor/VMControls.swift).

public struct VMControls: Equatable, Sendable {
    public var pinBased: PinBasedControls
    public var procBased: PrimaryProcessorBasedControls
    public var procBased2: SecondaryProcessorBasedControls
    public var exit: VMExitControls
    public var entry: VMEntryControls

    /// A control the guest's mode needs that the CPU does not allow.
    public struct Unavailable: Error, Equatable {
        public let control: VMXControlError
        public let mode: GuestMode
    }

    public var unrestrictedGuest: Bool { procBased2.contains(.unrestrictedGuest) }
    public var vpid: Bool { procBased2.contains(.enableVPID) }
    public var preemptionTimer: Bool { pinBased.contains(.activateVMXPreemptionTimer) }
    /// The xAPIC page is virtualized (TPR shadow, APIC-access page, APIC-register virtualization):
    /// reads served from the virtual-APIC page, writes trap-like APIC-write exits (VirtualAPICPage).
    public var apicVirtualization: Bool {
        procBased.contains(.useTPRShadow) && procBased2.contains([.virtualizeAPICAccesses, .apicRegisterVirtualization])
    }
    /// Shadow paging instead of EPT.
    public var shadowPaging: Bool { !procBased2.contains(.enableEPT) }
    /// PAT is loaded on entry and saved/loaded on exit: the guest's PAT may pass through (MSRPolicyTable).
    public var switchesPAT: Bool { entry.contains(.loadPAT) && exit.contains([.savePAT, .loadPAT]) }

    /// `pauseLoopExiting`: a VM of several vCPUs, which take turns on one CPU, leaves a spin loop
    /// (PAUSE-loop exiting, SDM Vol. 3C §26.1.3) so the vCPU it waits for can run.
    /// `apicVirtualization`: a VM with local APICs uses the CPU's APIC virtualization where it has all
    /// three controls it needs (SDM Vol. 3C §30), and traps its APIC page otherwise.
    /// `shadowPaging`: no EPT, no unrestricted guest (real mode is refused), no VPID;
    /// CR3 loads/stores and INVLPG exit, and #PF through the exception bitmap (`write`).
    public static func compute(_ caps: VMXCapabilities, mode: GuestMode, pauseLoopExiting: Bool = false,
                        apicVirtualization: Bool = false, shadowPaging: Bool = false) throws(Unavailable) -> VMControls {
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
            // TPR is per VM, CRAccessExit). Isolation:
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
            throw Unavailable(control: error, mode: mode)
        }
    }
}
