import XCTest
@testable import VTx
import X86

/// The guest-visible CR0/CR4 (SDM Vol. 3C §25.6.6): shadow bits where the mask owns them,
/// GUEST_CRn elsewhere. The bug this guards against: CR4.PAE is guest-owned, so a handler that
/// read only the read shadow saw PAE = 0 after the guest had set it.
final class GuestControlRegisterTests: XCTestCase {
    func testGuestOwnedBitsComeFromTheRealRegister() {
        let mask = CR4.vmxe.rawValue                       // the hypervisor owns only VMXE
        let actual = CR4.vmxe.rawValue | CR4.pae.rawValue  // VMXE forced by VMX, PAE set by the guest
        let shadow: UInt64 = 0                             // the guest never wrote a masked bit
        XCTAssertEqual(GuestControlRegister.visible(actual: actual, mask: mask, readShadow: shadow), CR4.pae.rawValue)
    }

    func testMaskedBitsComeFromTheShadow() {
        let mask = CR0.pg.rawValue | CR0.ne.rawValue
        let actual = CR0.pg.rawValue | CR0.ne.rawValue | CR0.pe.rawValue
        let shadow = CR0.pg.rawValue                       // the guest cleared NE, which VMX forces on
        XCTAssertEqual(GuestControlRegister.visible(actual: actual, mask: mask, readShadow: shadow),
                       CR0.pg.rawValue | CR0.pe.rawValue)
    }

    func testActualValueForcesFixedBits() {
        let fixed = FixedBits(fixed0: CR0.ne.rawValue, fixed1: 0xFFFF_FFFF)
        XCTAssertEqual(GuestControlRegister.actual(forGuestValue: CR0.pe.rawValue, fixed: fixed), CR0.pe.rawValue | CR0.ne.rawValue)
    }

    func testEveryMaskShadowCombination() {
        // Bit by bit, for all 8 combinations of (actual, mask, shadow).
        for a in 0...1 { for m in 0...1 { for s in 0...1 {
            let v = GuestControlRegister.visible(actual: UInt64(a), mask: UInt64(m), readShadow: UInt64(s))
            XCTAssertEqual(v, UInt64(m == 1 ? s : a), "actual \(a) mask \(m) shadow \(s)")
        } } }
    }
}
