import XCTest
import X86
@testable import VTx

final class ControlsTests: XCTestCase {
    func testBitPositions() {
        XCTAssertEqual(PinBasedControls.externalInterruptExiting.rawValue, 1 << 0)
        XCTAssertEqual(PinBasedControls.nmiExiting.rawValue, 1 << 3)
        XCTAssertEqual(PinBasedControls.virtualNMIs.rawValue, 1 << 5)
        XCTAssertEqual(PinBasedControls.activateVMXPreemptionTimer.rawValue, 1 << 6)
        XCTAssertEqual(PinBasedControls.processPostedInterrupts.rawValue, 1 << 7)
        XCTAssertEqual(PrimaryProcessorBasedControls.hltExiting.rawValue, 1 << 7)
        XCTAssertEqual(PrimaryProcessorBasedControls.cr3LoadExiting.rawValue, 1 << 15)
        XCTAssertEqual(PrimaryProcessorBasedControls.useIOBitmaps.rawValue, 1 << 25)
        XCTAssertEqual(PrimaryProcessorBasedControls.monitorTrapFlag.rawValue, 1 << 27)
        XCTAssertEqual(PrimaryProcessorBasedControls.useMSRBitmaps.rawValue, 1 << 28)
        XCTAssertEqual(PrimaryProcessorBasedControls.activateSecondaryControls.rawValue, 1 << 31)
        XCTAssertEqual(SecondaryProcessorBasedControls.enableEPT.rawValue, 1 << 1)
        XCTAssertEqual(SecondaryProcessorBasedControls.enableVPID.rawValue, 1 << 5)
        XCTAssertEqual(SecondaryProcessorBasedControls.unrestrictedGuest.rawValue, 1 << 7)
        XCTAssertEqual(SecondaryProcessorBasedControls.enablePML.rawValue, 1 << 17)
        XCTAssertEqual(SecondaryProcessorBasedControls.useTSCScaling.rawValue, 1 << 25)
        XCTAssertEqual(SecondaryProcessorBasedControls.enableENCLVExiting.rawValue, 1 << 28)
        XCTAssertEqual(VMExitControls.hostAddressSpaceSize.rawValue, 1 << 9)
        XCTAssertEqual(VMExitControls.acknowledgeInterruptOnExit.rawValue, 1 << 15)
        XCTAssertEqual(VMExitControls.loadEFER.rawValue, 1 << 21)
        XCTAssertEqual(VMExitControls.loadPKRS.rawValue, 1 << 29)
        XCTAssertEqual(VMEntryControls.ia32eModeGuest.rawValue, 1 << 9)
        XCTAssertEqual(VMEntryControls.loadEFER.rawValue, 1 << 15)
        XCTAssertEqual(VMEntryControls.loadPKRS.rawValue, 1 << 22)
    }

    func testNaming() {
        let s: SecondaryProcessorBasedControls = [.enableEPT, .unrestrictedGuest, .enableVPID]
        XCTAssertEqual(s.names(), "enable EPT, enable VPID, unrestricted guest")
        XCTAssertEqual(Array(s.namedBits).map(\.bit), [1, 5, 7])
        XCTAssertEqual(SecondaryProcessorBasedControls.kind, .secondaryProcessorBased)
        XCTAssertEqual(VMXControlKind.vmExit.names(of: 1 << 9 | 1 << 21), "host address-space size, load IA32_EFER")
        XCTAssertEqual(VMXControlKind.pinBased.names(of: 0x16), "bit 1, bit 2, bit 4")
        // Every named bit in every set has a non-empty name.
        for kind in VMXControlKind.allCases {
            for bit in 0..<32 {
                if let n = kind.name(ofBit: bit) { XCTAssertFalse(n.description.isEmpty) }
            }
        }
        // The only named default1 controls: CR3-load/store exiting and save/load debug controls.
        XCTAssertEqual(VMXControlKind.primaryProcessorBased.names(of: VMXControlKind.primaryProcessorBased.namedMask(
            VMXControlKind.primaryProcessorBased.default1Bits)), "CR3-load exiting, CR3-store exiting")
        XCTAssertEqual(VMXControlKind.vmExit.namedMask(VMXControlKind.vmExit.default1Bits), 1 << 2)
        XCTAssertEqual(VMXControlKind.vmEntry.namedMask(VMXControlKind.vmEntry.default1Bits), 1 << 2)
        XCTAssertEqual(VMXControlKind.pinBased.namedMask(VMXControlKind.pinBased.default1Bits), 0)
    }

    func testInterruptibilityAndActivity() {
        XCTAssertEqual(InterruptibilityState.blockingBySTI.rawValue, 1)
        XCTAssertEqual(InterruptibilityState.blockingByMovSS.rawValue, 2)
        XCTAssertEqual(InterruptibilityState.blockingBySMI.rawValue, 4)
        XCTAssertEqual(InterruptibilityState.blockingByNMI.rawValue, 8)
        XCTAssertEqual(InterruptibilityState.enclaveInterruption.rawValue, 16)
        XCTAssertTrue(InterruptibilityState.blockingByMovSS.hasInterruptShadow)
        XCTAssertFalse(InterruptibilityState.blockingByNMI.hasInterruptShadow)
        XCTAssertEqual(ActivityState.active.rawValue, 0)
        XCTAssertEqual(ActivityState.hlt.rawValue, 1)
        XCTAssertEqual(ActivityState.shutdown.rawValue, 2)
        XCTAssertEqual(ActivityState.waitForSIPI.rawValue, 3)
    }
}
