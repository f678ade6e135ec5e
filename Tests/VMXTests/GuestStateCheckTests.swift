import XCTest
import X86
import VTx
@testable import VMX

/// The guest-state self-check (SDM Vol. 3C §27.3.1) against a fake VMCS: a valid 64-bit state
/// passes, and each rule broken alone is named.
final class GuestStateCheckTests: XCTestCase {
    func valid64() -> FakeVMCS {
        let v = FakeVMCS(rip: 0x8000, length: 1)
        v.fields[.vmEntryControls] = UInt64(VMEntryControls([.ia32eModeGuest, .loadEFER]).rawValue)
        v.fields[.guestCR0] = CR0([.pe, .ne, .et, .pg]).rawValue
        v.fields[.guestCR4] = CR4([.pae, .vmxe]).rawValue
        v.fields[.guestIA32EFER] = EFER([.lme, .lma]).rawValue
        v.fields[.guestCSAccessRights] = UInt64(AccessRights.code64().rawValue)
        v.fields[.guestSSAccessRights] = UInt64(AccessRights.data().rawValue)
        v.fields[.guestTRAccessRights] = UInt64(AccessRights.tssBusy64.rawValue)
        v.fields[.guestLDTRAccessRights] = UInt64(AccessRights.unusableBit)
        v.fields[.guestRFLAGS] = 2
        v.fields[.vmcsLinkPointer] = ~0
        return v
    }

    func problems(_ v: FakeVMCS, unrestricted: Bool = true) -> [String] {
        GuestStateCheck.problems(v, unrestrictedGuest: unrestricted)
    }

    func testValidLongModeStatePasses() {
        XCTAssertEqual(problems(valid64()), [])
        XCTAssertEqual(problems(valid64(), unrestricted: false), [])
    }

    func testEachBrokenRuleIsNamed() {
        let cases: [(String, (FakeVMCS) -> Void)] = [
            ("CR0.PG=1 and CR4.PAE=1", { $0.fields[.guestCR4] = CR4.vmxe.rawValue }),
            ("EFER.LMA=0 differs", { $0.fields[.guestIA32EFER] = EFER.lme.rawValue }),
            ("CS.L=1 and CS.D/B=1", { $0.fields[.guestCSAccessRights]! |= 1 << 14 }),
            ("CS is unusable", { $0.fields[.guestCSAccessRights]! |= UInt64(AccessRights.unusableBit) }),
            ("TR must be a usable", { $0.fields[.guestTRAccessRights] = UInt64(AccessRights.unusableBit) }),
            ("LDTR is usable but not a present LDT", { $0.fields[.guestLDTRAccessRights] = UInt64(AccessRights.data().rawValue) }),
            ("RFLAGS bit 1 must be 1", { $0.fields[.guestRFLAGS] = 0 }),
            ("RFLAGS reserved bits set", { $0.fields[.guestRFLAGS] = 2 | 1 << 3 }),
            ("activity state 7", { $0.fields[.guestActivityState] = 7 }),
            ("VMCS link pointer", { $0.fields[.vmcsLinkPointer] = 0 }),
            ("CR0.PG=1 with CR0.PE=0", { $0.fields[.guestCR0] = CR0([.ne, .et, .pg]).rawValue }),
        ]
        for (expected, spoil) in cases {
            let v = valid64()
            spoil(v)
            let found = problems(v)
            XCTAssertTrue(found.contains { $0.contains(expected) }, "\(expected): got \(found)")
        }
    }

    func testPagingOffNeedsUnrestrictedGuest() {
        let v = valid64()
        v.fields[.vmEntryControls] = UInt64(VMEntryControls.loadEFER.rawValue)
        v.fields[.guestCR0] = CR0([.ne, .et]).rawValue
        v.fields[.guestIA32EFER] = 0
        v.fields[.guestCSAccessRights] = UInt64(AccessRights.realMode(code: true).rawValue)
        v.fields[.guestTRAccessRights] = UInt64(AccessRights.tssBusy16.rawValue)
        XCTAssertEqual(problems(v, unrestricted: true).filter { $0.contains("unrestricted") }, [])
        XCTAssertTrue(problems(v, unrestricted: false).contains { $0.contains("CR0.PE and CR0.PG must be 1 without unrestricted guest") })
    }
}
