import VTx
import X86

/// CPUID exits unconditionally in VMX non-root operation (SDM Vol. 3C §26.1.2).
/// We answer with the host's values, filtered:
/// - leaf 1: VMX hidden (no nested virtualization), the "hypervisor present"
///   bit 31 set, OSXSAVE as the guest's own CR4 says (SDM Vol. 2A CPUID: it
///   reflects CR4.OSXSAVE); no APIC, x2APIC, TSC deadline, MONITOR or PDCM,
///   which the virtual PC lacks;
/// - leaves 1, 6, 7, 0xA, 0xD: what the MSR policy hides (hideHostOnlyFeatures);
/// - leaves 0x40000000-0x400000FF: ours. 0x40000000 gives the highest such leaf
///   in EAX and the signature "Swiftvisor" in EBX, ECX, EDX.
public enum CPUIDExit {
    public static let signature: (UInt32, UInt32, UInt32) = (0x6669_7753, 0x7369_7674, 0x0000_726F)  // "Swif" "tvis" "or"

    @inline(__always)
    public static func handle<H: VMXHardware>(_ hw: H, _ regs: inout GuestRegisters) {
        let r = result(hw, leaf: UInt32(truncatingIfNeeded: regs.rax), subleaf: UInt32(truncatingIfNeeded: regs.rcx))
        regs.rax = UInt64(r.eax)
        regs.rbx = UInt64(r.ebx)
        regs.rcx = UInt64(r.ecx)
        regs.rdx = UInt64(r.edx)
        GuestEvents.skipInstruction(hw)
    }

    /// What the guest reads for one leaf.
    @inline(__always)
    public static func result<H: VMXHardware>(_ hw: H, leaf: UInt32, subleaf: UInt32) -> CPUIDResult {
        if leaf & 0xFFFF_FF00 == 0x4000_0000 {
            switch leaf {
            case 0x4000_0000: return CPUIDResult(eax: 0x4000_0001, ebx: signature.0, ecx: signature.1, edx: signature.2)
            case 0x4000_0001: return CPUIDResult(eax: 0x0001, ebx: 0, ecx: 0, edx: 0)     // hypercall ABI 0.1
            default: return CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 0)
            }
        }
        var r = hw.hostCPUID(leaf, subleaf)
        if leaf == 1 {
            var ecx = CPUIDFeatureECX(rawValue: r.ecx)
            ecx.remove(.vmx)
            ecx.insert(.hypervisor)
            // What the virtual PC does not have: a local APIC (nor x2APIC, nor its TSC-deadline
            // timer), MONITOR/MWAIT (not intercepted: it would idle the real CPU), and the
            // performance-capabilities MSR.
            ecx.subtract([.x2apic, .tscDeadline, .monitor, .pdcm])
            r.edx &= ~CPUIDFeatureEDX.apic.rawValue
            // The CR4 the guest sees: shadow bits where the guest/host mask owns them, the real ones elsewhere.
            if GuestControlState.cr4(hw) & CR4.osxsave.rawValue != 0 { ecx.insert(.osxsave) } else { ecx.remove(.osxsave) }
            r.ecx = ecx.rawValue
        }
        hideHostOnlyFeatures(leaf, subleaf, &r)
        return r
    }

    /// What guests do not get (MSRPolicyTable): the PMU (leaf 0xA zero: no counters,
    /// RDPMC exits to #GP), debug store and thermal/power management (leaf 1 DS, ACPI, TM, PBE,
    /// DTES64, DS-CPL, EIST, TM2; leaf 6 zero), speculation-control MSRs (leaf 7 EDX: IBRS/IBPB,
    /// STIBP, L1D_FLUSH, ARCH_CAPABILITIES, SSBD: those MSRs #GP), and supervisor XSAVE
    /// states (leaf 0xD subleaf 1 ECX/EDX: IA32_XSS only takes 0).
    @inline(__always)
    public static func hideHostOnlyFeatures(_ leaf: UInt32, _ subleaf: UInt32, _ r: inout CPUIDResult) {
        switch leaf {
        case 1:
            r.edx &= ~(1 << 21 | 1 << 22 | 1 << 29 | 1 << 31)
            r.ecx &= ~(1 << 2 | 1 << 4 | 1 << 7 | 1 << 8)
        case 6, 0xA:
            r = CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 0)
        case 7 where subleaf == 0:
            r.edx &= ~(1 << 26 | 1 << 27 | 1 << 28 | 1 << 29 | 1 << 31)
        case 0xD where subleaf == 1:
            r.ecx = 0
            r.edx = 0
        case CPUID.invariantTSCLeaf:
            // The invariant TSC (EDX bit 8), and nothing else: a guest's TSC is the host's plus a
            // fixed offset, and the hypervisor itself times everything by a TSC it calibrates once
            // at boot (HostTime), so it runs only where that TSC has a constant rate; the
            // power-management bits describe nothing a guest can use.
            r = CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 1 << 8)
        default:
            break
        }
    }
}
