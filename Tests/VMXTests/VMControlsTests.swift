import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// VMControls.compute against made-up capability MSRs (SDM Vol. 3D §A.3-A.5: bits 31:0 allowed-0,
/// a 1 there must be 1; bits 63:32 allowed-1, a 0 there must be 0).
final class VMControlsTests: XCTestCase {
    /// An MSR value: `mustBeOne` in allowed-0, `mustBeOne | mayBeOne` in allowed-1.
    func msr(mustBeOne: UInt32 = 0, mayBeOne: UInt32) -> UInt64 { UInt64(mustBeOne | mayBeOne) << 32 | UInt64(mustBeOne) }

    /// A CPU that allows every control (secondary controls included), with the default-1 bits the
    /// SDM's Appendix A.2 lists (pin 1,2,4; primary 1,4-6,8,13-16,26; exit 0-8,10,11,13,14,16,17; entry 0-8,12).
    func capableCPU(trueControls: Bool = false) -> VMXCapabilities {
        var caps = VMXCapabilities()
        caps.basic = trueControls ? 1 << 55 : 0
        caps.pinBased = msr(mustBeOne: 0x16, mayBeOne: ~0)
        caps.procBased = msr(mustBeOne: 0x0401_E172, mayBeOne: ~0)
        caps.exit = msr(mustBeOne: 0x0003_6DFF, mayBeOne: ~0)
        caps.entry = msr(mustBeOne: 0x11FF, mayBeOne: ~0)
        caps.procBased2 = msr(mayBeOne: ~0)
        return caps
    }

    func testEveryMustBeOneBitIsSetAndTheRequestedControlsAreOn() throws {
        let caps = capableCPU()
        let c = try VMControls.compute(caps, mode: .long)
        XCTAssertEqual(c.pinBased.rawValue & 0x16, 0x16)
        XCTAssertTrue(c.pinBased.contains([.externalInterruptExiting, .nmiExiting, .activateVMXPreemptionTimer]))
        XCTAssertEqual(c.procBased.rawValue & 0x0401_E172, 0x0401_E172)
        XCTAssertTrue(c.procBased.contains([.hltExiting, .useIOBitmaps, .useMSRBitmaps, .activateSecondaryControls,
                                            .useTSCOffsetting, .mwaitExiting, .monitorExiting, .rdpmcExiting,
                                            .cr8LoadExiting, .cr8StoreExiting]))
        XCTAssertFalse(c.procBased.contains(.useTPRShadow))
        XCTAssertEqual(c.procBased2, [.enableEPT, .enableVPID, .unrestrictedGuest, .enableRDTSCP, .enableINVPCID,
                                      .enableXSAVESXRSTORS, .wbinvdExiting])
        XCTAssertTrue(c.exit.contains([.hostAddressSpaceSize, .acknowledgeInterruptOnExit, .saveDebugControls,
                                       .saveEFER, .loadEFER, .savePAT, .loadPAT, .saveVMXPreemptionTimer]))
        XCTAssertTrue(c.entry.contains([.ia32eModeGuest, .loadEFER, .loadDebugControls, .loadPAT]))
        XCTAssertTrue(c.vpid && c.preemptionTimer && c.switchesPAT && !c.shadowPaging && !c.apicVirtualization)
        // Every field satisfies its capability.
        XCTAssertTrue(caps.pinBasedCapability.isValid(c.pinBased.rawValue))
        XCTAssertTrue(caps.procBasedCapability.isValid(c.procBased.rawValue))
        XCTAssertTrue(caps.procBased2Capability.isValid(c.procBased2.rawValue))
        XCTAssertTrue(caps.exitCapability.isValid(c.exit.rawValue))
        XCTAssertTrue(caps.entryCapability.isValid(c.entry.rawValue))
    }

    func testRealModeNeedsUnrestrictedGuestAndIsNotIA32eMode() throws {
        let c = try VMControls.compute(capableCPU(), mode: .real)
        XCTAssertTrue(c.unrestrictedGuest)
        XCTAssertFalse(c.entry.contains(.ia32eModeGuest))
        var caps = capableCPU()
        caps.procBased2 = msr(mayBeOne: ~SecondaryProcessorBasedControls.unrestrictedGuest.rawValue)
        XCTAssertThrowsError(try VMControls.compute(caps, mode: .real)) { error in
            let e = error as! VMControls.Unavailable
            XCTAssertEqual(e.mode, .real)
            XCTAssertEqual(e.control, VMXControlError(kind: .secondaryProcessorBased,
                                                      missing: SecondaryProcessorBasedControls.unrestrictedGuest.rawValue))
        }
        // A long-mode guest takes unrestricted guest only where the CPU has it.
        XCTAssertFalse(try VMControls.compute(caps, mode: .long).unrestrictedGuest)
    }

    func testOptionalControlsTheCPULacksAreLeftOff() throws {
        var caps = capableCPU()
        caps.pinBased = msr(mustBeOne: 0x16, mayBeOne: 0x09)           // no preemption timer
        caps.exit = msr(mustBeOne: 0x0003_6DFF, mayBeOne: 0x8200)      // host 64-bit, acknowledge: no EFER/PAT save/load
        caps.entry = msr(mustBeOne: 0x11FF, mayBeOne: 0x200)            // IA-32e mode guest, no EFER/PAT load
        let c = try VMControls.compute(caps, mode: .long)
        XCTAssertFalse(c.preemptionTimer)
        XCTAssertFalse(c.exit.contains(.loadEFER))
        XCTAssertFalse(c.entry.contains(.loadEFER))      // only with the exit side's EFER controls (EFERSwitch)
        XCTAssertFalse(c.switchesPAT)
        XCTAssertTrue(c.entry.contains(.ia32eModeGuest))
    }

    func testARequiredControlTheCPULacksIsNamed() {
        var caps = capableCPU()
        caps.pinBased = msr(mustBeOne: 0x16, mayBeOne: 0x41)            // no NMI exiting
        XCTAssertThrowsError(try VMControls.compute(caps, mode: .protected)) { error in
            let e = error as! VMControls.Unavailable
            XCTAssertEqual(e.mode, .protected)
            XCTAssertEqual(e.control.kind, .pinBased)
            XCTAssertEqual(e.control.missing, PinBasedControls.nmiExiting.rawValue)
            XCTAssertTrue(e.control.message.contains("NMI"), e.control.message)
        }
    }

    func testTrueControlsLetCR3ExitingBeZeroUnderEPT() throws {
        var caps = capableCPU(trueControls: true)
        // The plain MSR forces CR3-load/store exiting (default1); the TRUE_ one does not.
        caps.trueProcBased = msr(mustBeOne: 0x0400_0172 & ~0x0001_8000, mayBeOne: ~0)
        caps.truePinBased = caps.pinBased
        caps.trueExit = caps.exit
        caps.trueEntry = caps.entry
        let c = try VMControls.compute(caps, mode: .long)
        XCTAssertFalse(c.procBased.contains([.cr3LoadExiting]))
        XCTAssertFalse(c.procBased.contains([.cr3StoreExiting]))
        XCTAssertTrue(try VMControls.compute(capableCPU(), mode: .long).procBased.contains([.cr3LoadExiting, .cr3StoreExiting]))
    }

    func testACPUWithoutSecondaryControls() {
        var caps = capableCPU()
        caps.procBased = msr(mustBeOne: 0x0401_E172, mayBeOne: ~PrimaryProcessorBasedControls.activateSecondaryControls.rawValue)
        caps.procBased2 = 0
        // The engine needs the secondary controls (EPT or, under shadow paging, RDTSCP/XSAVES enables).
        for shadow in [false, true] {
            XCTAssertThrowsError(try VMControls.compute(caps, mode: .long, shadowPaging: shadow)) { error in
                let e = error as! VMControls.Unavailable
                XCTAssertEqual(e.control, VMXControlError(kind: .primaryProcessorBased,
                                                          missing: PrimaryProcessorBasedControls.activateSecondaryControls.rawValue))
            }
        }
    }

    func testACPUWithoutEPTRunsOnlyUnderShadowPaging() throws {
        var caps = capableCPU()
        caps.procBased2 = msr(mayBeOne: ~(SecondaryProcessorBasedControls.enableEPT.rawValue
                                          | SecondaryProcessorBasedControls.unrestrictedGuest.rawValue))
        XCTAssertThrowsError(try VMControls.compute(caps, mode: .long)) { error in
            XCTAssertEqual((error as! VMControls.Unavailable).control.missing, SecondaryProcessorBasedControls.enableEPT.rawValue)
        }
        let c = try VMControls.compute(caps, mode: .protected, shadowPaging: true)
        XCTAssertTrue(c.shadowPaging)
        XCTAssertTrue(c.procBased.contains([.cr3LoadExiting, .cr3StoreExiting, .invlpgExiting]))
        XCTAssertFalse(c.procBased2.contains(.enableVPID))        // no VPID, unrestricted guest or INVPCID
        XCTAssertFalse(c.procBased2.contains(.unrestrictedGuest))
        XCTAssertFalse(c.procBased2.contains(.enableINVPCID))
        XCTAssertTrue(c.procBased2.contains(.enableRDTSCP))
    }

    func testAPICVirtualizationOnlyWithAllThreeControls() throws {
        let full = try VMControls.compute(capableCPU(), mode: .long, apicVirtualization: true)
        XCTAssertTrue(full.apicVirtualization)
        var caps = capableCPU()
        caps.procBased2 = msr(mayBeOne: ~SecondaryProcessorBasedControls.apicRegisterVirtualization.rawValue)
        let partial = try VMControls.compute(caps, mode: .long, apicVirtualization: true)
        XCTAssertFalse(partial.apicVirtualization)
        XCTAssertFalse(partial.procBased.contains(.useTPRShadow))
        XCTAssertFalse(partial.procBased2.contains(.virtualizeAPICAccesses))
    }

    func testPauseLoopExitingForSeveralVCPUs() throws {
        XCTAssertTrue(try VMControls.compute(capableCPU(), mode: .long, pauseLoopExiting: true).procBased2.contains(.pauseLoopExiting))
        XCTAssertFalse(try VMControls.compute(capableCPU(), mode: .long).procBased2.contains(.pauseLoopExiting))
    }
}
