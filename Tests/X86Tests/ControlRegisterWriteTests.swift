import XCTest
@testable import X86

/// MOV to CR0/CR3/CR4 rules (SDM Vol. 2B MOV CR, Vol. 3A §4.4.1, §9.8.5), including the
/// transitions a kernel makes on its way into and out of long mode.
final class ControlRegisterWriteTests: XCTestCase {
    let pe = CR0.pe.rawValue, pg = CR0.pg.rawValue, wp = CR0.wp.rawValue
    let cd = CR0.cd.rawValue, nw = CR0.nw.rawValue, et = CR0.et.rawValue, ne = CR0.ne.rawValue
    let pae = CR4.pae.rawValue, pse = CR4.pse.rawValue, pge = CR4.pge.rawValue, pcide = CR4.pcide.rawValue
    let lme = EFER.lme.rawValue, lma = EFER.lma.rawValue

    func state(cr0: UInt64, cr4: UInt64 = 0, efer: UInt64 = 0, cr3: UInt64 = 0x1000, long: Bool = false) -> ControlRegisterState {
        ControlRegisterState(cr0: cr0, cr3: cr3, cr4: cr4, efer: efer, codeSegmentLong: long)
    }

    func testPagingModes() {
        XCTAssertEqual(PagingMode(cr0: pe, cr4: pae, efer: lme), .none)
        XCTAssertEqual(PagingMode(cr0: pe | pg, cr4: pse, efer: 0), .bits32)
        XCTAssertEqual(PagingMode(cr0: pe | pg, cr4: pae, efer: 0), .pae)
        XCTAssertEqual(PagingMode(cr0: pe | pg, cr4: pae, efer: lme | lma), .level4)
        XCTAssertEqual(PagingMode(cr0: pe | pg, cr4: pae | CR4.la57.rawValue, efer: lme | lma), .level5)
    }

    /// The textbook 32-bit → long-mode switch: CR4.PAE (guest-owned, never seen by the
    /// hypervisor), CR3, EFER.LME, then CR0.PG: IA-32e mode is activated.
    func testEnteringLongModeActivatesIA32e() {
        let s = state(cr0: pe | et | ne, cr4: pae, efer: lme)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | et | ne | pg | wp, state: s),
                       .load(longMode: .activate, loadPDPTEs: false, flushTLB: true))
    }

    func testEnteringLongModeWithoutPAEFaults() {
        let s = state(cr0: pe, cr4: 0, efer: lme)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | pg, state: s), .generalProtection(.longModeWithoutPAE))
    }

    func testEnteringLongModeFromALongCodeSegmentFaults() {
        let s = state(cr0: pe, cr4: pae, efer: lme, long: true)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | pg, state: s), .generalProtection(.longModeWithLongCodeSegment))
    }

    func testReservedAndInconsistentCR0Values() {
        let s = state(cr0: pe)
        XCTAssertEqual(ControlRegisterWrite.cr0(pg, state: s), .generalProtection(.pagingWithoutProtection))
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | nw, state: s), .generalProtection(.notWriteThroughWithoutCacheDisable))
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | (1 << 32), state: s), .generalProtection(.cr0HighBitsSet))
        XCTAssertFalse(ControlRegisterWrite.cr0(pe | cd | nw, state: s).isFault)
    }

    /// Leaving long mode: clearing PG is refused in 64-bit mode, allowed in compatibility mode
    /// (where it deactivates IA-32e mode), and refused with PCIDE set.
    func testLeavingLongMode() {
        let in64 = state(cr0: pe | pg, cr4: pae, efer: lme | lma, long: true)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe, state: in64), .generalProtection(.pagingOffIn64BitMode))
        let compat = state(cr0: pe | pg, cr4: pae, efer: lme | lma, long: false)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe, state: compat), .load(longMode: .deactivate, loadPDPTEs: false, flushTLB: true))
        let pcid = state(cr0: pe | pg, cr4: pae | pcide, efer: lme | lma, long: false)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe, state: pcid), .generalProtection(.pagingOffWithPCID))
    }

    /// PAE paging without long mode: turning paging on loads the PDPTEs; so does a change of CD/NW
    /// while PAE paging stays in use, but not a change of WP alone.
    func testPAEPagingLoadsPDPTEs() {
        let off = state(cr0: pe, cr4: pae)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | pg, state: off), .load(longMode: .none, loadPDPTEs: true, flushTLB: true))
        let on = state(cr0: pe | pg, cr4: pae)
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | pg | cd, state: on), .load(longMode: .none, loadPDPTEs: true, flushTLB: false))
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | pg | wp, state: on), .load(longMode: .none, loadPDPTEs: false, flushTLB: true))
        // 32-bit paging: no PDPTEs.
        XCTAssertEqual(ControlRegisterWrite.cr0(pe | pg, state: state(cr0: pe, cr4: pse)),
                       .load(longMode: .none, loadPDPTEs: false, flushTLB: true))
    }

    func testPagingOffOutsideLongModeIsPlain() {
        XCTAssertEqual(ControlRegisterWrite.cr0(pe, state: state(cr0: pe | pg, cr4: pae)),
                       .load(longMode: .none, loadPDPTEs: false, flushTLB: true))
        // Back to real mode: PE cleared with paging off.
        XCTAssertEqual(ControlRegisterWrite.cr0(et, state: state(cr0: pe | et)),
                       .load(longMode: .none, loadPDPTEs: false, flushTLB: true))
    }

    func testCR4Rules() {
        let all: UInt64 = 0x3F_FFFF & ~CR4.vmxe.rawValue
        let long = state(cr0: pe | pg, cr4: pae, efer: lme | lma, cr3: 0x1000, long: true)
        XCTAssertEqual(ControlRegisterWrite.cr4(0, state: long, supported: all), .generalProtection(.paeOffInLongMode))
        XCTAssertEqual(ControlRegisterWrite.cr4(pae | CR4.vmxe.rawValue, state: long, supported: all),
                       .generalProtection(.cr4UnsupportedBit))
        XCTAssertEqual(ControlRegisterWrite.cr4(pae | pcide, state: long, supported: all), .load(longMode: .none, loadPDPTEs: false, flushTLB: true))
        XCTAssertEqual(ControlRegisterWrite.cr4(pae | pcide, state: state(cr0: pe | pg, cr4: pae, efer: lme | lma, cr3: 0x1008, long: true), supported: all),
                       .generalProtection(.pcidWithNonzeroCR3Low))
        XCTAssertEqual(ControlRegisterWrite.cr4(pae | pcide, state: state(cr0: pe | pg, cr4: pae), supported: all),
                       .generalProtection(.pcidOutsideLongMode))
        // PAE paging: a PGE change reloads the PDPTEs.
        XCTAssertEqual(ControlRegisterWrite.cr4(pae | pge, state: state(cr0: pe | pg, cr4: pae), supported: all),
                       .load(longMode: .none, loadPDPTEs: true, flushTLB: true))
        // A change of an unrelated bit does not flush.
        XCTAssertEqual(ControlRegisterWrite.cr4(pae | CR4.osfxsr.rawValue, state: long, supported: all),
                       .load(longMode: .none, loadPDPTEs: false, flushTLB: false))
    }

    func testCR3() {
        let pcidLong = state(cr0: pe | pg, cr4: pae | pcide, efer: lme | lma, long: true)
        let r = ControlRegisterWrite.cr3(0x8000_0000_0000_2001, state: pcidLong, maxPhysicalAddressBits: 39)
        XCTAssertEqual(r.cr3, 0x2001)
        XCTAssertEqual(r.outcome, .load(longMode: .none, loadPDPTEs: false, flushTLB: false))
        let bad = ControlRegisterWrite.cr3(1 << 40, state: pcidLong, maxPhysicalAddressBits: 39)
        XCTAssertEqual(bad.outcome, .generalProtection(.cr3ReservedBit))
        let paeState = state(cr0: pe | pg, cr4: pae)
        XCTAssertEqual(ControlRegisterWrite.cr3(0x3000, state: paeState, maxPhysicalAddressBits: 39).outcome,
                       .load(longMode: .none, loadPDPTEs: true, flushTLB: true))
    }

    func testPDPTEValidity() {
        XCTAssertTrue(PAEPDPTE.isValid(0x5001, maxPhysicalAddressBits: 36))
        XCTAssertTrue(PAEPDPTE.isValid(0xFFFF_FFFF_FFFF_FFFE, maxPhysicalAddressBits: 36))   // not present: ignored
        XCTAssertFalse(PAEPDPTE.isValid(0x5003, maxPhysicalAddressBits: 36))                 // bit 1 (R/W) reserved
        XCTAssertFalse(PAEPDPTE.isValid(0x5021, maxPhysicalAddressBits: 36))                 // bit 5 reserved
        XCTAssertFalse(PAEPDPTE.isValid(0x10_0000_5001, maxPhysicalAddressBits: 36))          // above MAXPHYADDR
        XCTAssertFalse(PAEPDPTE.isValid(0x8000_0000_0000_5001, maxPhysicalAddressBits: 36))   // NX reserved in a PDPTE
        XCTAssertEqual(PAEPDPTE.tableAddress(cr3: 0x1234_5678_9ABC_DEF8), 0x9ABC_DEE0)
    }
}
