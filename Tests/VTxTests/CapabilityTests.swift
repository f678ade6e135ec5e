import XCTest
import X86
@testable import VTx

/// Capability MSR values from the Bochs CPU models (corei7_haswell_4770, tigerlake).
enum Haswell {
    static let basic: UInt64 = 0x00D8_1000_0000_002B
    static let pinBased: UInt64 = 0x0000_007F_0000_0016
    static let procBased: UInt64 = 0xF7F9_FFFE_0401_E172
    static let trueProcBased: UInt64 = 0xF7F9_FFFE_0400_6172
    static let exit: UInt64 = 0x007F_FFFF_0003_6DFF
    static let trueExit: UInt64 = 0x007F_FFFF_0003_6DFB
    static let entry: UInt64 = 0x0000_FFFF_0000_11FF
    static let trueEntry: UInt64 = 0x0000_FFFF_0000_11FB
    static let procBased2: UInt64 = 0x0004_7FFF_0000_0000
    static let misc: UInt64 = 0x0000_0000_2004_01E0
    static let cr0Fixed0: UInt64 = 0x8000_0021
    static let cr0Fixed1: UInt64 = 0xFFFF_FFFF
    static let cr4Fixed0: UInt64 = 0x2000
    static let cr4Fixed1: UInt64 = 0x1727FF
    static let eptVPIDCap: UInt64 = 0x0000_0F01_0633_4141

    static let msrs: [UInt32: UInt64] = [
        0x480: basic, 0x481: pinBased, 0x482: procBased, 0x483: exit, 0x484: entry, 0x485: misc,
        0x486: cr0Fixed0, 0x487: cr0Fixed1, 0x488: cr4Fixed0, 0x489: cr4Fixed1, 0x48A: 0x2E,
        0x48B: procBased2, 0x48C: eptVPIDCap, 0x48D: pinBased, 0x48E: trueProcBased, 0x48F: trueExit,
        0x490: trueEntry, 0x491: 1,
    ]
}

final class CapabilityTests: XCTestCase {
    func testVMXBasic() {
        let b = VMXBasic(rawValue: Haswell.basic)
        XCTAssertEqual(b.revisionID, 0x2B)
        XCTAssertEqual(b.vmcsRegionSize, 4096)
        XCTAssertEqual(b.memoryType, 6)
        XCTAssertEqual(VMXBasic.memoryTypeName(b.memoryType).description, "WB")
        XCTAssertTrue(b.insOutsInformation)
        XCTAssertTrue(b.trueControls)
        XCTAssertFalse(b.noErrorCodeCheck)
        XCTAssertFalse(b.physicalAddressWidth32)
        XCTAssertFalse(b.dualMonitor)

        let t = VMXBasic(rawValue: 0x01D8_1000_0000_0004)
        XCTAssertEqual(t.revisionID, 0x4)
        XCTAssertTrue(t.noErrorCodeCheck)
        XCTAssertTrue(t.trueControls)
    }

    func testAllowedSettings() {
        let pin = VMXCapability(.pinBased, msr: Haswell.pinBased)
        XCTAssertEqual(pin.allowed0, 0x16)
        XCTAssertEqual(pin.allowed1, 0x7F)
        let proc = VMXCapability(.primaryProcessorBased, msr: Haswell.procBased)
        XCTAssertEqual(proc.allowed0, 0x0401_E172)
        XCTAssertEqual(proc.allowed1, 0xF7F9_FFFE)
        XCTAssertEqual(proc.msrValue, Haswell.procBased)
        let trueProc = VMXCapability(.primaryProcessorBased, msr: Haswell.trueProcBased)
        // With TRUE controls CR3-load/store exiting are no longer must-be-1.
        XCTAssertNotEqual(proc.allowed0 & PrimaryProcessorBasedControls.cr3LoadExiting.rawValue, 0)
        XCTAssertNotEqual(proc.allowed0 & PrimaryProcessorBasedControls.cr3StoreExiting.rawValue, 0)
        XCTAssertEqual(trueProc.allowed0 & PrimaryProcessorBasedControls.cr3LoadExiting.rawValue, 0)
        XCTAssertEqual(trueProc.allowed0 & PrimaryProcessorBasedControls.cr3StoreExiting.rawValue, 0)
        XCTAssertFalse(trueProc.supports(PrimaryProcessorBasedControls.monitorTrapFlag))
        // Tiger Lake adds monitor trap flag.
        XCTAssertTrue(VMXCapability(.primaryProcessorBased, allowed0: 0x0400_6172, allowed1: 0xFFF9_FFFE)
            .supports(PrimaryProcessorBasedControls.monitorTrapFlag))
        // The default1 classes agree with the non-TRUE allowed-0 values.
        XCTAssertEqual(VMXControlKind.pinBased.default1Bits, pin.allowed0)
        XCTAssertEqual(VMXControlKind.primaryProcessorBased.default1Bits, proc.allowed0)
        XCTAssertEqual(VMXControlKind.vmExit.default1Bits, UInt32(truncatingIfNeeded: Haswell.exit))
        XCTAssertEqual(VMXControlKind.vmEntry.default1Bits, UInt32(truncatingIfNeeded: Haswell.entry))
        XCTAssertEqual(VMXCapability(.vmExit, msr: Haswell.trueExit).allowed0, 0x0003_6DFB)
        XCTAssertEqual(VMXCapability(.vmEntry, msr: Haswell.trueEntry).allowed0, 0x0000_11FB)
    }

    func testAdjustSecondarySucceeds() throws {
        let cap = VMXCapability(.secondaryProcessorBased, msr: Haswell.procBased2)
        XCTAssertEqual(cap.allowed0, 0)
        XCTAssertEqual(cap.allowed1, 0x0004_7FFF)
        let v = try cap.adjust([.enableEPT, .unrestrictedGuest, .enableVPID] as SecondaryProcessorBasedControls)
        XCTAssertEqual(v, [.enableEPT, .unrestrictedGuest, .enableVPID])
        XCTAssertEqual(try cap.adjust(requested: 0xA2), 0xA2)
    }

    func testAdjustFailsNamingMissingBits() {
        let cap = VMXCapability(.secondaryProcessorBased, msr: Haswell.procBased2)
        do {
            _ = try cap.adjust([.enableEPT, .enablePML] as SecondaryProcessorBasedControls)
            XCTFail("enable PML is not supported")
        } catch {
            XCTAssertEqual(error.kind, .secondaryProcessorBased)
            XCTAssertEqual(error.missing, 1 << 17)
            XCTAssertEqual(error.missingNames, "enable PML")
            XCTAssertEqual(error.message,
                           "the CPU lacks 'enable PML' (secondary processor-based VM-execution controls)")
        }
        switch cap.adjusted(SecondaryProcessorBasedControls.useTSCScaling.rawValue) {
        case .success: XCTFail()
        case .failure(let e): XCTAssertEqual(e.missingNames, "use TSC scaling")
        }
    }

    func testAdjustAddsMustBeOneAndDropsOptional() throws {
        let pin = VMXCapability(.pinBased, msr: Haswell.pinBased)
        let v = try pin.adjust([.externalInterruptExiting, .nmiExiting] as PinBasedControls)
        XCTAssertEqual(v.rawValue, 0x16 | 0x9)
        XCTAssertFalse(pin.supports(PinBasedControls.processPostedInterrupts))
        let w = try pin.adjust(required: [.externalInterruptExiting] as PinBasedControls,
                               optional: [.processPostedInterrupts, .virtualNMIs])
        XCTAssertEqual(w.rawValue, 0x16 | 0x1 | 0x20)
        XCTAssertTrue(pin.isValid(w.rawValue))
        XCTAssertFalse(pin.isValid(0x1))
        XCTAssertEqual(pin.adjustDroppingUnsupported(PinBasedControls(rawValue: 0xFF)).rawValue, 0x7F)

        let proc = VMXCapability(.primaryProcessorBased, msr: Haswell.trueProcBased)
        let p = try proc.adjust([.hltExiting, .useIOBitmaps, .useMSRBitmaps, .activateSecondaryControls]
                                as PrimaryProcessorBasedControls)
        XCTAssertEqual(p.rawValue, 0x0400_6172 | 1 << 7 | 1 << 25 | 1 << 28 | 1 << 31)
    }

    func testTrueMSRSelection() {
        let withTrue = VMXBasic(rawValue: Haswell.basic)
        let without = VMXBasic(rawValue: Haswell.basic & ~(1 << 55))
        XCTAssertEqual(capabilityMSR(for: .primaryProcessorBased, basic: withTrue), 0x48E)
        XCTAssertEqual(capabilityMSR(for: .pinBased, basic: withTrue), 0x48D)
        XCTAssertEqual(capabilityMSR(for: .vmExit, basic: withTrue), 0x48F)
        XCTAssertEqual(capabilityMSR(for: .vmEntry, basic: withTrue), 0x490)
        XCTAssertEqual(capabilityMSR(for: .secondaryProcessorBased, basic: withTrue), 0x48B)
        XCTAssertEqual(capabilityMSR(for: .pinBased, basic: without), 0x481)
        XCTAssertEqual(capabilityMSR(for: .primaryProcessorBased, basic: without), 0x482)
        XCTAssertEqual(capabilityMSR(for: .vmExit, basic: without), 0x483)
        XCTAssertEqual(capabilityMSR(for: .vmEntry, basic: without), 0x484)
        XCTAssertEqual(capabilityMSR(for: .secondaryProcessorBased, basic: without), 0x48B)
    }

    func testVMXMisc() {
        let m = VMXMisc(rawValue: Haswell.misc)
        XCTAssertEqual(m.preemptionTimerRate, 0)
        XCTAssertTrue(m.storesLMA)
        XCTAssertTrue(m.activityHLT)
        XCTAssertTrue(m.activityShutdown)
        XCTAssertTrue(m.activityWaitForSIPI)
        XCTAssertEqual(m.cr3TargetCount, 4)
        XCTAssertEqual(m.maxMSRListSize, 512)
        XCTAssertTrue(m.vmwriteAnyField)
        XCTAssertFalse(m.zeroLengthInjection)
        XCTAssertFalse(m.processorTraceInVMX)
        XCTAssertEqual(m.msegRevisionID, 0)
        XCTAssertTrue(m.supports(.waitForSIPI))
        XCTAssertEqual(VMXMisc(rawValue: 3 << 25).maxMSRListSize, 2048)
    }

    func testFixedBits() {
        let cr0 = FixedBits(fixed0: Haswell.cr0Fixed0, fixed1: Haswell.cr0Fixed1)
        XCTAssertEqual(cr0.adjust(0x11), 0x8000_0031)
        XCTAssertTrue(cr0.isValid(0x8000_0031))
        XCTAssertFalse(cr0.isValid(0x11))
        XCTAssertEqual(cr0.violations(0x11), 0x8000_0020)
        // Unrestricted guest: PE and PG may stay 0, NE is still forced.
        XCTAssertEqual(cr0.adjustGuestCR0(0x10, unrestrictedGuest: true), 0x30)
        XCTAssertEqual(cr0.adjustGuestCR0(0x10, unrestrictedGuest: false), 0x8000_0031)
        XCTAssertTrue(cr0.isValidGuestCR0(0x30, unrestrictedGuest: true))
        XCTAssertFalse(cr0.isValidGuestCR0(0x30, unrestrictedGuest: false))
        XCTAssertFalse(cr0.isValidGuestCR0(0x8000_0020, unrestrictedGuest: true), "PG without PE")
        let cr4 = FixedBits(fixed0: Haswell.cr4Fixed0, fixed1: Haswell.cr4Fixed1)
        XCTAssertEqual(cr4.adjust(CR4.pae.rawValue), 0x2020)
        XCTAssertEqual(cr4.adjust(CR4([.pae, .la57]).rawValue), 0x2020, "LA57 not allowed")
        XCTAssertFalse(cr4.isValid(0x20))
    }

    func testEPTVPIDCapability() {
        let c = EPTVPIDCapability(rawValue: Haswell.eptVPIDCap)
        XCTAssertTrue(c.executeOnly)
        XCTAssertTrue(c.pageWalkLength4)
        XCTAssertFalse(c.pageWalkLength5)
        XCTAssertTrue(c.memoryTypeUC)
        XCTAssertTrue(c.memoryTypeWB)
        XCTAssertTrue(c.pages2MiB)
        XCTAssertTrue(c.pages1GiB)
        XCTAssertTrue(c.invept)
        XCTAssertTrue(c.accessedDirty)
        XCTAssertFalse(c.advancedExitInformation)
        XCTAssertFalse(c.supervisorShadowStack)
        XCTAssertTrue(c.inveptSingleContext)
        XCTAssertTrue(c.inveptAllContext)
        XCTAssertTrue(c.invvpid)
        XCTAssertTrue(c.invvpidIndividualAddress)
        XCTAssertTrue(c.invvpidSingleContext)
        XCTAssertTrue(c.invvpidAllContext)
        XCTAssertTrue(c.invvpidSingleContextRetainingGlobals)
        XCTAssertTrue(c.supports(INVEPTType.singleContext))
        XCTAssertTrue(c.supports(INVVPIDType.singleContextRetainingGlobals))
        XCTAssertFalse(EPTVPIDCapability(rawValue: 0).supports(INVEPTType.allContext))
    }

    func testReadMSRAndReport() {
        var read: [UInt32] = []
        let caps = VMXCapabilities { msr in
            read.append(msr)
            return Haswell.msrs[msr] ?? 0
        }
        XCTAssertEqual(Set(read), Set(Haswell.msrs.keys))
        XCTAssertEqual(caps.procBasedCapability.allowed0, 0x0400_6172, "TRUE MSR used")
        XCTAssertEqual(caps.procBased2Capability.allowed1, 0x0004_7FFF)
        XCTAssertTrue(caps.supports(SecondaryProcessorBasedControls([.enableEPT, .unrestrictedGuest])))
        XCTAssertFalse(caps.supports(SecondaryProcessorBasedControls.enablePML))
        XCTAssertEqual(caps.maxVMCSIndex, 0x17)

        let lines = caps.reportLines()
        XCTAssertEqual(lines.first,
            "IA32_VMX_BASIC 0x00d810000000002b: revision=0x2b vmcs-size=4096 memtype=WB true-controls=yes "
            + "ins-outs-info=yes no-errcode-check=no dual-monitor=no")
        let pin = lines.first { $0.hasPrefix("IA32_VMX_TRUE_PINBASED_CTLS") }
        XCTAssertEqual(pin, "IA32_VMX_TRUE_PINBASED_CTLS 0x0000007f00000016: must1=[reserved 0x16] "
            + "may1=[external-interrupt exiting, NMI exiting, virtual NMIs, activate VMX-preemption timer]")
        let proc = lines.first { $0.hasPrefix("IA32_VMX_TRUE_PROCBASED_CTLS") } ?? ""
        XCTAssertTrue(proc.hasSuffix("default1-may-be-0=[CR3-load exiting, CR3-store exiting]"), proc)
        XCTAssertFalse(proc.contains("monitor trap flag"))
        let cr4 = lines.first { $0.hasPrefix("IA32_VMX_CR4_FIXED0/1") } ?? ""
        XCTAssertTrue(cr4.contains("must1=[VMXE]"), cr4)
        XCTAssertTrue(cr4.contains("LA57"), cr4)
        let summary = lines.last ?? ""
        XCTAssertTrue(summary.hasPrefix("SUMMARY EPT=yes unrestricted-guest=yes VPID=yes preemption-timer=yes"), summary)
        XCTAssertTrue(summary.contains("PML=no"))
        XCTAssertTrue(summary.contains("MTF=no"))
        XCTAssertTrue(summary.contains("EPT-1G=yes"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("IA32_VMX_EPT_VPID_CAP 0x00000f0106334141: exec-only=yes") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("IA32_VMX_MISC 0x00000000200401e0: preemption-timer-rate=0 "
            + "stores-lma=yes activity=hlt,shutdown,wait-for-sipi cr3-targets=4 max-msr-list=512 vmwrite-any=yes") })
        for line in lines { print(line) }
    }

    func testReadMSRWithoutTrueOrSecondary() {
        var read: [UInt32] = []
        let caps = VMXCapabilities { msr in
            read.append(msr)
            switch msr {
            case 0x480: return Haswell.basic & ~(1 << 55)
            case 0x482: return Haswell.procBased & ~(1 << 63)
            default: return Haswell.msrs[msr] ?? 0
            }
        }
        XCTAssertFalse(read.contains(0x48D))
        XCTAssertFalse(read.contains(0x48B))
        XCTAssertFalse(read.contains(0x48C))
        XCTAssertEqual(caps.procBasedCapability.allowed0, 0x0401_E172)
        XCTAssertEqual(caps.procBased2Capability.allowed1, 0)
        XCTAssertTrue(caps.reportLines().last!.hasPrefix("SUMMARY EPT=no"))
    }
}
