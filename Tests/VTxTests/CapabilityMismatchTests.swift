import XCTest
@testable import VTx

/// An AP's VMX capability MSRs against the boot processor's: the first MSR that differs is named.
final class CapabilityMismatchTests: XCTestCase {
    func testEqualCapabilitiesMatch() {
        let bsp = VMXCapabilities(readMSR: { Haswell.msrs[$0] ?? 0 })
        XCTAssertNil(bsp.firstDifference(from: VMXCapabilities(readMSR: { Haswell.msrs[$0] ?? 0 })))
    }

    func testEachMSRIsNamed() {
        let bsp = VMXCapabilities(readMSR: { Haswell.msrs[$0] ?? 0 })
        let cases: [(UInt32, String)] = [
            (0x480, "IA32_VMX_BASIC"), (0x481, "IA32_VMX_PINBASED_CTLS"), (0x482, "IA32_VMX_PROCBASED_CTLS"),
            (0x483, "IA32_VMX_EXIT_CTLS"), (0x484, "IA32_VMX_ENTRY_CTLS"), (0x485, "IA32_VMX_MISC"),
            (0x486, "IA32_VMX_CR0_FIXED0"), (0x487, "IA32_VMX_CR0_FIXED1"), (0x488, "IA32_VMX_CR4_FIXED0"),
            (0x489, "IA32_VMX_CR4_FIXED1"), (0x48B, "IA32_VMX_PROCBASED_CTLS2"), (0x48C, "IA32_VMX_EPT_VPID_CAP"),
            (0x48D, "IA32_VMX_TRUE_PINBASED_CTLS"), (0x48E, "IA32_VMX_TRUE_PROCBASED_CTLS"),
            (0x48F, "IA32_VMX_TRUE_EXIT_CTLS"), (0x490, "IA32_VMX_TRUE_ENTRY_CTLS"),
        ]
        for (msr, name) in cases {
            // One bit of one MSR differs (bit 3 keeps BASIC's TRUE_* and PROCBASED's secondary bits).
            let ap = VMXCapabilities(readMSR: { ($0 == msr ? 8 : 0) ^ (Haswell.msrs[$0] ?? 0) })
            XCTAssertEqual(ap.firstDifference(from: bsp).map { "\($0)" }, name, "MSR \(msr)")
        }
    }

    func testAnotherRevisionIsTheBasicMSR() {
        let bsp = VMXCapabilities(readMSR: { Haswell.msrs[$0] ?? 0 })
        // tigerlake's revision 0x4 with everything else Haswell's.
        let ap = VMXCapabilities(readMSR: { $0 == 0x480 ? (Haswell.basic & ~0x7FFF_FFFF) | 4 : Haswell.msrs[$0] ?? 0 })
        XCTAssertEqual(ap.firstDifference(from: bsp).map { "\($0)" }, "IA32_VMX_BASIC")
    }
}
