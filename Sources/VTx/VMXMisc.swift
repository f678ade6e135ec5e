// IA32_VMX_MISC (MSR 0x485) (SDM Vol. 3D §A.6).

import X86

public struct VMXMisc: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bits 4:0: the preemption timer counts down by 1 every time bit X of the TSC changes.
    public var preemptionTimerRate: Int { Int(rawValue & 0x1F) }
    /// Bit 5: VM exits store EFER.LMA into the "IA-32e mode guest" entry control.
    public var storesLMA: Bool { rawValue & (1 << 5) != 0 }
    /// Bit 6: activity state HLT supported.
    public var activityHLT: Bool { rawValue & (1 << 6) != 0 }
    /// Bit 7: activity state shutdown supported.
    public var activityShutdown: Bool { rawValue & (1 << 7) != 0 }
    /// Bit 8: activity state wait-for-SIPI supported.
    public var activityWaitForSIPI: Bool { rawValue & (1 << 8) != 0 }
    /// Bit 14: Intel PT may be used in VMX operation.
    public var processorTraceInVMX: Bool { rawValue & (1 << 14) != 0 }
    /// Bit 15: RDMSR may read IA32_SMBASE in SMM.
    public var rdmsrSMBASEInSMM: Bool { rawValue & (1 << 15) != 0 }
    /// Bits 24:16: number of CR3-target values supported.
    public var cr3TargetCount: Int { Int((rawValue >> 16) & 0x1FF) }
    /// Bits 27:25 (N): recommended maximum MSR-list entries is 512 × (N + 1).
    public var maxMSRListSize: Int { 512 * (Int((rawValue >> 25) & 7) + 1) }
    /// Bit 28: bit 2 of IA32_SMM_MONITOR_CTL can be set.
    public var smmMonitorCtlBit2: Bool { rawValue & (1 << 28) != 0 }
    /// Bit 29: VMWRITE may write any VMCS field, including VM-exit information fields.
    public var vmwriteAnyField: Bool { rawValue & (1 << 29) != 0 }
    /// Bit 30: VM entry may inject software interrupts/exceptions with instruction length 0.
    public var zeroLengthInjection: Bool { rawValue & (1 << 30) != 0 }
    /// Bits 63:32: MSEG revision identifier.
    public var msegRevisionID: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    /// Whether `state` may be used as a guest activity state (active is always allowed).
    public func supports(_ state: ActivityState) -> Bool {
        switch state {
        case .active: return true
        case .hlt: return activityHLT
        case .shutdown: return activityShutdown
        case .waitForSIPI: return activityWaitForSIPI
        }
    }

    /// "preemption-timer-rate=0 stores-lma=yes activity=hlt,shutdown,wait-for-sipi cr3-targets=4 …"
    public var summary: String {
        var s = "preemption-timer-rate=" + Format.decimal(UInt64(preemptionTimerRate))
        s += " stores-lma=" + Format.yesNo(storesLMA)
        var acts: [String] = []
        if activityHLT { acts.append("hlt") }
        if activityShutdown { acts.append("shutdown") }
        if activityWaitForSIPI { acts.append("wait-for-sipi") }
        s += " activity="
        if acts.isEmpty { s += "none" } else {
            for (i, a) in acts.enumerated() { if i > 0 { s += "," }; s += a }
        }
        s += " cr3-targets=" + Format.decimal(UInt64(cr3TargetCount))
        s += " max-msr-list=" + Format.decimal(UInt64(maxMSRListSize))
        s += " vmwrite-any=" + Format.yesNo(vmwriteAnyField)
        s += " zero-len-inject=" + Format.yesNo(zeroLengthInjection)
        s += " pt-in-vmx=" + Format.yesNo(processorTraceInVMX)
        return s
    }
}
