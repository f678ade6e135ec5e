// All VMX capability MSRs together (SDM Vol. 3D Appendix A) and the boot-time report.

import X86

/// The raw values of the VMX capability MSRs (0 for MSRs that do not exist on this CPU).
public struct VMXCapabilities: Hashable, Sendable {
    public var basic: UInt64 = 0
    public var pinBased: UInt64 = 0
    public var procBased: UInt64 = 0
    public var exit: UInt64 = 0
    public var entry: UInt64 = 0
    public var truePinBased: UInt64 = 0
    public var trueProcBased: UInt64 = 0
    public var trueExit: UInt64 = 0
    public var trueEntry: UInt64 = 0
    public var procBased2: UInt64 = 0
    public var misc: UInt64 = 0
    public var cr0Fixed0: UInt64 = 0
    public var cr0Fixed1: UInt64 = 0
    public var cr4Fixed0: UInt64 = 0
    public var cr4Fixed1: UInt64 = 0
    public var vmcsEnum: UInt64 = 0
    public var eptVPIDCap: UInt64 = 0
    public var vmFunc: UInt64 = 0

    public init() {}

    /// Reads every capability MSR that exists, in the order the SDM's enumeration rules require
    /// (SDM Vol. 3D §A.1–A.11): TRUE_* only if IA32_VMX_BASIC[55]; PROCBASED_CTLS2 only if
    /// "activate secondary controls" may be 1; EPT_VPID_CAP only if EPT or VPID may be 1;
    /// VMFUNC only if "enable VM functions" may be 1.
    public init(readMSR: (UInt32) -> UInt64) {
        basic = readMSR(MSR.ia32VMXBasic)
        pinBased = readMSR(MSR.ia32VMXPinbasedCtls)
        procBased = readMSR(MSR.ia32VMXProcbasedCtls)
        exit = readMSR(MSR.ia32VMXExitCtls)
        entry = readMSR(MSR.ia32VMXEntryCtls)
        if VMXBasic(rawValue: basic).trueControls {
            truePinBased = readMSR(MSR.ia32VMXTruePinbasedCtls)
            trueProcBased = readMSR(MSR.ia32VMXTrueProcbasedCtls)
            trueExit = readMSR(MSR.ia32VMXTrueExitCtls)
            trueEntry = readMSR(MSR.ia32VMXTrueEntryCtls)
        }
        misc = readMSR(MSR.ia32VMXMisc)
        cr0Fixed0 = readMSR(MSR.ia32VMXCR0Fixed0)
        cr0Fixed1 = readMSR(MSR.ia32VMXCR0Fixed1)
        cr4Fixed0 = readMSR(MSR.ia32VMXCR4Fixed0)
        cr4Fixed1 = readMSR(MSR.ia32VMXCR4Fixed1)
        vmcsEnum = readMSR(MSR.ia32VMXVMCSEnum)
        if procBased >> 32 & UInt64(PrimaryProcessorBasedControls.activateSecondaryControls.rawValue) != 0 {
            procBased2 = readMSR(MSR.ia32VMXProcbasedCtls2)
            let allowed1 = UInt32(truncatingIfNeeded: procBased2 >> 32)
            let s = SecondaryProcessorBasedControls(rawValue: allowed1)
            if !s.isDisjoint(with: [.enableEPT, .enableVPID]) {
                eptVPIDCap = readMSR(MSR.ia32VMXEPTVPIDCap)
            }
            if s.contains(.enableVMFunctions) {
                vmFunc = readMSR(MSR.ia32VMXVMFunc)
            }
        }
    }

    // MARK: Decoded views

    public var vmxBasic: VMXBasic { VMXBasic(rawValue: basic) }
    public var vmxMisc: VMXMisc { VMXMisc(rawValue: misc) }
    public var eptVPID: EPTVPIDCapability { EPTVPIDCapability(rawValue: eptVPIDCap) }
    public var cr0: FixedBits { FixedBits(fixed0: cr0Fixed0, fixed1: cr0Fixed1) }
    public var cr4: FixedBits { FixedBits(fixed0: cr4Fixed0, fixed1: cr4Fixed1) }
    /// Highest index used in any VMCS encoding (IA32_VMX_VMCS_ENUM bits 9:1).
    public var maxVMCSIndex: Int { Int((vmcsEnum >> 1) & 0x1FF) }

    /// The raw MSR value the effective capability of `kind` comes from (TRUE_* when available).
    public func rawCapability(_ kind: VMXControlKind) -> UInt64 {
        let useTrue = vmxBasic.trueControls
        switch kind {
        case .pinBased: return useTrue ? truePinBased : pinBased
        case .primaryProcessorBased: return useTrue ? trueProcBased : procBased
        case .secondaryProcessorBased:
            let primary1 = UInt32(truncatingIfNeeded: procBased >> 32)
            return primary1 & PrimaryProcessorBasedControls.activateSecondaryControls.rawValue != 0 ? procBased2 : 0
        case .vmExit: return useTrue ? trueExit : exit
        case .vmEntry: return useTrue ? trueEntry : entry
        }
    }

    /// The effective allowed-0/allowed-1 settings for `kind`.
    public func capability(_ kind: VMXControlKind) -> VMXCapability { VMXCapability(kind, msr: rawCapability(kind)) }

    public var pinBasedCapability: VMXCapability { capability(.pinBased) }
    public var procBasedCapability: VMXCapability { capability(.primaryProcessorBased) }
    public var procBased2Capability: VMXCapability { capability(.secondaryProcessorBased) }
    public var exitCapability: VMXCapability { capability(.vmExit) }
    public var entryCapability: VMXCapability { capability(.vmEntry) }

    /// Whether every bit of `bits` may be 1 in its control field.
    public func supports<S: VMXControlSet>(_ bits: S) -> Bool { capability(S.kind).allows(bits.rawValue) }

    // MARK: Report

    /// The report as lines (see `report(_:)`).
    public func reportLines() -> [String] {
        var lines: [String] = []
        report { lines.append($0) }
        return lines
    }

    /// Emits a compact, human-readable description of the capabilities, one line per MSR and a
    /// final SUMMARY line, e.g.
    /// "IA32_VMX_BASIC 0x00d810000000002b: revision=0x2b vmcs-size=4096 memtype=WB true-controls=yes …".
    public func report(_ emit: (String) -> Void) {
        let b = vmxBasic
        emit("IA32_VMX_BASIC " + Format.hex(basic, digits: 16) + ": " + b.summary)
        for kind in VMXControlKind.allCases {
            if kind == .secondaryProcessorBased && rawCapability(kind) == 0 && procBased2 == 0 {
                emit("IA32_VMX_PROCBASED_CTLS2: not available (no 'activate secondary controls')")
                continue
            }
            emit(controlLine(kind))
        }
        emit("IA32_VMX_MISC " + Format.hex(misc, digits: 16) + ": " + vmxMisc.summary)
        emit(fixedLine("IA32_VMX_CR0_FIXED0/1 ", cr0, CR0.self))
        emit(fixedLine("IA32_VMX_CR4_FIXED0/1 ", cr4, CR4.self))
        emit("IA32_VMX_VMCS_ENUM " + Format.hex(vmcsEnum) + ": max-index=" + Format.hex(UInt64(maxVMCSIndex)))
        if eptVPIDCap != 0 {
            emit("IA32_VMX_EPT_VPID_CAP " + Format.hex(eptVPIDCap, digits: 16) + ": " + eptVPID.summary)
        }
        if vmFunc != 0 {
            emit("IA32_VMX_VMFUNC " + Format.hex(vmFunc) + ": eptp-switching=" + Format.yesNo(vmFunc & 1 != 0))
        }
        emit(summaryLine)
    }

    /// "IA32_VMX_TRUE_PINBASED_CTLS 0x0000007f00000016: must1=[bit 1, bit 2, bit 4] may1=[…]".
    public func controlLine(_ kind: VMXControlKind) -> String {
        let msr = capabilityMSR(for: kind, basic: vmxBasic)
        let cap = capability(kind)
        var s = Format.string(MSR.name(msr) ?? "?") + " " + Format.hex(cap.msrValue, digits: 16) + ":"
        s += " must1=[" + Self.compactNames(kind, cap.mustBeOne) + "]"
        s += " may1=[" + Self.compactNames(kind, cap.flexible) + "]"
        if vmxBasic.trueControls && kind != .secondaryProcessorBased {
            let legacy = VMXCapability(kind, msr: legacyRaw(kind))
            let relaxed = legacy.allowed0 & ~cap.allowed0
            if relaxed != 0 { s += " default1-may-be-0=[" + kind.names(of: relaxed) + "]" }
        }
        return s
    }

    func legacyRaw(_ kind: VMXControlKind) -> UInt64 {
        switch kind {
        case .pinBased: return pinBased
        case .primaryProcessorBased: return procBased
        case .secondaryProcessorBased: return procBased2
        case .vmExit: return exit
        case .vmEntry: return entry
        }
    }

    /// Named bits by name, unnamed (reserved/default1) bits folded into one "reserved 0x…" entry.
    static func compactNames(_ kind: VMXControlKind, _ bits: UInt32) -> String {
        let named = kind.namedMask(bits)
        let unnamed = bits & ~named
        var s = named != 0 ? kind.names(of: named) : ""
        if unnamed != 0 {
            if !s.isEmpty { s += ", " }
            s += "reserved " + Format.hex(UInt64(unnamed))
        }
        return s
    }

    func fixedLine<R: NamedBitSet>(_ title: String, _ fixed: FixedBits, _: R.Type) -> String where R.RawValue == UInt64 {
        var s = title + Format.hex(fixed.fixed0) + "/" + Format.hex(fixed.fixed1) + ": must1=["
        s += R(rawValue: fixed.fixed0).names() + "] must0=["
        var namedZero: UInt64 = 0
        var rest = ~fixed.fixed1 & 0xFFFF_FFFF
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            rest &= rest &- 1
            if R.name(ofBit: bit) != nil { namedZero |= 1 << UInt64(bit) }
        }
        s += R(rawValue: namedZero).names() + "]"
        return s
    }

    /// "SUMMARY EPT=yes unrestricted-guest=yes VPID=yes preemption-timer=yes …".
    public var summaryLine: String {
        let pin = pinBasedCapability, proc = procBasedCapability, proc2 = procBased2Capability
        let exitCap = exitCapability, entryCap = entryCapability
        let e = eptVPID
        var s = "SUMMARY"
        func add(_ label: String, _ v: Bool) { s += " " + label + "=" + Format.yesNo(v) }
        add("EPT", proc2.supports(SecondaryProcessorBasedControls.enableEPT))
        add("unrestricted-guest", proc2.supports(SecondaryProcessorBasedControls.unrestrictedGuest))
        add("VPID", proc2.supports(SecondaryProcessorBasedControls.enableVPID))
        add("preemption-timer", pin.supports(PinBasedControls.activateVMXPreemptionTimer))
        add("virtual-NMIs", pin.supports(PinBasedControls.virtualNMIs))
        add("posted-interrupts", pin.supports(PinBasedControls.processPostedInterrupts))
        add("IO-bitmaps", proc.supports(PrimaryProcessorBasedControls.useIOBitmaps))
        add("MSR-bitmaps", proc.supports(PrimaryProcessorBasedControls.useMSRBitmaps))
        add("MTF", proc.supports(PrimaryProcessorBasedControls.monitorTrapFlag))
        add("TPR-shadow", proc.supports(PrimaryProcessorBasedControls.useTPRShadow))
        add("APIC-virt", proc2.supports(SecondaryProcessorBasedControls.virtualizeAPICAccesses))
        add("x2APIC-virt", proc2.supports(SecondaryProcessorBasedControls.virtualizeX2APICMode))
        add("vintr-delivery", proc2.supports(SecondaryProcessorBasedControls.virtualInterruptDelivery))
        add("RDTSCP", proc2.supports(SecondaryProcessorBasedControls.enableRDTSCP))
        add("INVPCID", proc2.supports(SecondaryProcessorBasedControls.enableINVPCID))
        add("XSAVES", proc2.supports(SecondaryProcessorBasedControls.enableXSAVESXRSTORS))
        add("PML", proc2.supports(SecondaryProcessorBasedControls.enablePML))
        add("TSC-scaling", proc2.supports(SecondaryProcessorBasedControls.useTSCScaling))
        add("VMFUNC", proc2.supports(SecondaryProcessorBasedControls.enableVMFunctions))
        add("shadow-VMCS", proc2.supports(SecondaryProcessorBasedControls.vmcsShadowing))
        add("load-EFER", exitCap.supports(VMExitControls.loadEFER) && entryCap.supports(VMEntryControls.loadEFER))
        add("load-PAT", exitCap.supports(VMExitControls.loadPAT) && entryCap.supports(VMEntryControls.loadPAT))
        add("EPT-4level", e.pageWalkLength4)
        add("EPT-WB", e.memoryTypeWB)
        add("EPT-2M", e.pages2MiB)
        add("EPT-1G", e.pages1GiB)
        add("EPT-AD", e.accessedDirty)
        add("INVEPT", e.invept)
        add("INVVPID", e.invvpid)
        return s
    }
}
