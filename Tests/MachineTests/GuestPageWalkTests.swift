import XCTest
@testable import Machine
import X86

/// Guest page walks in every paging mode (SDM Vol. 3A §4.3-§4.7): translation, rights, A/D
/// bits, error codes, and structures outside RAM.
final class GuestPageWalkTests: XCTestCase {
    let pe = CR0.pe.rawValue, pg = CR0.pg.rawValue, wp = CR0.wp.rawValue
    let pae = CR4.pae.rawValue, pse = CR4.pse.rawValue
    let lme = EFER.lme.rawValue, lma = EFER.lma.rawValue, nxe = EFER.nxe.rawValue
    let read = PageAccess(write: false, user: false)
    let write = PageAccess(write: true, user: false)
    let userRead = PageAccess(write: false, user: true)
    let userWrite = PageAccess(write: true, user: true)

    /// 4-level tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD), 0x4000 (PT):
    /// linear 0x0040_0000 + n*4K → 0x10_0000 + n*4K; 0x4000_0000 → a 2 MiB page at 0x20_0000.
    func level4RAM() -> TestRAM {
        let ram = TestRAM(size: 4 << 20)
        ram.memory.store(UInt64(0x2007), gpa: 0x1000)
        ram.memory.store(UInt64(0x3007), gpa: 0x2000)
        ram.memory.store(UInt64(0x3007), gpa: 0x2008)                 // PDPT[1] → same PD
        ram.memory.store(UInt64(0x4007), gpa: 0x3000 + 2 * 8)         // PD[2] (0x40_0000) → PT
        ram.memory.store(UInt64(0x20_0087), gpa: 0x3000 + 1 * 8)      // PD[1] → 2 MiB page (U, W)
        ram.memory.store(UInt64(0x10_0007), gpa: 0x4000)              // PT[0]: U, W
        ram.memory.store(UInt64(0x10_1001), gpa: 0x4008)              // PT[1]: supervisor read-only
        ram.memory.store(UInt64(0x8000_0000_0010_2003), gpa: 0x4010)  // PT[2]: NX, writable
        return ram
    }

    func paging4(_ cr0extra: UInt64 = 0, efer: UInt64 = 0, cr4extra: UInt64 = 0) -> GuestPagingState {
        GuestPagingState(cr0: pe | pg | cr0extra, cr3: 0x1000, cr4: pae | cr4extra, efer: lme | lma | efer)
    }

    func testNoPaging() {
        let ram = TestRAM(size: 4096)
        let paging = GuestPagingState(cr0: pe, cr3: 0, cr4: 0, efer: 0)
        XCTAssertEqual(GuestPageWalk.translate(0x1234, access: write, paging: paging, memory: ram.memory), .mapped(gpa: 0x1234))
    }

    func testLevel4TranslationAndAccessedDirty() {
        let ram = level4RAM()
        XCTAssertEqual(GuestPageWalk.translate(0x40_0123, access: write, paging: paging4(), memory: ram.memory),
                       .mapped(gpa: 0x10_0123))
        XCTAssertEqual(ram.memory.load(UInt64.self, gpa: 0x4000)! & 0x60, 0x60, "A and D set on the PTE for a write")
        XCTAssertEqual(ram.memory.load(UInt64.self, gpa: 0x1000)! & 0x20, 0x20, "A set on the PML4E")
        XCTAssertEqual(GuestPageWalk.translate(0x40_1456, access: read, paging: paging4(), memory: ram.memory),
                       .mapped(gpa: 0x10_1456))
        XCTAssertEqual(ram.memory.load(UInt64.self, gpa: 0x4008)! & 0x60, 0x20, "a read sets A only")
        // The 2 MiB page.
        XCTAssertEqual(GuestPageWalk.translate(0x2F_FFFF, access: userRead, paging: paging4(), memory: ram.memory),
                       .mapped(gpa: 0x2F_FFFF))
        // Through PDPT[1]: 0x4000_0000 + 0x20_0000 + 5.
        XCTAssertEqual(GuestPageWalk.translate(0x4020_0005, access: read, paging: paging4(), memory: ram.memory),
                       .mapped(gpa: 0x20_0005))
    }

    func testNotPresentAndProtectionErrorCodes() {
        let ram = level4RAM()
        // Not present: P = 0 in the error code.
        XCTAssertEqual(GuestPageWalk.translate(0x40_3000, access: userWrite, paging: paging4(), memory: ram.memory),
                       .pageFault([.write, .user]))
        // A user access to a supervisor page.
        XCTAssertEqual(GuestPageWalk.translate(0x40_1000, access: userRead, paging: paging4(), memory: ram.memory),
                       .pageFault([.protectionViolation, .user]))
        // A supervisor write to a read-only page: allowed with CR0.WP = 0, a fault with WP = 1.
        XCTAssertEqual(GuestPageWalk.translate(0x40_1000, access: write, paging: paging4(), memory: ram.memory),
                       .mapped(gpa: 0x10_1000))
        XCTAssertEqual(GuestPageWalk.translate(0x40_1000, access: write, paging: paging4(wp), memory: ram.memory),
                       .pageFault([.protectionViolation, .write]))
        // NX: a fetch faults only with EFER.NXE; without NXE bit 63 is reserved.
        let fetch = PageAccess(write: false, user: false, instructionFetch: true)
        XCTAssertEqual(GuestPageWalk.translate(0x40_2000, access: fetch, paging: paging4(efer: nxe), memory: ram.memory),
                       .pageFault([.protectionViolation, .instructionFetch]))
        XCTAssertEqual(GuestPageWalk.translate(0x40_2000, access: read, paging: paging4(), memory: ram.memory),
                       .pageFault([.protectionViolation, .reservedBit]))
        // SMAP: a supervisor data access to a user page faults unless RFLAGS.AC.
        var smap = paging4(cr4extra: CR4.smap.rawValue)
        XCTAssertEqual(GuestPageWalk.translate(0x40_0000, access: read, paging: smap, memory: ram.memory),
                       .pageFault([.protectionViolation]))
        smap.alignmentCheck = true
        XCTAssertEqual(GuestPageWalk.translate(0x40_0000, access: read, paging: smap, memory: ram.memory), .mapped(gpa: 0x10_0000))
    }

    func testTablesOutsideRAM() {
        let ram = level4RAM()
        ram.memory.store(UInt64(0x4000_0007), gpa: 0x3000 + 3 * 8)     // PD[3] → a PT at 1 GiB
        XCTAssertEqual(GuestPageWalk.translate(0x60_0000, access: read, paging: paging4(), memory: ram.memory),
                       .tableOutsideRAM(gpa: 0x4000_0000))
    }

    func testBits32WithAndWithoutPSE() {
        let ram = TestRAM(size: 8 << 20)
        // PD at 0x1000: PDE[0] → PT at 0x2000; PDE[1] (4 MiB) a large page at 0x40_0000 (PSE).
        ram.memory.store(UInt32(0x2007), gpa: 0x1000)
        ram.memory.store(UInt32(0x40_0087), gpa: 0x1004)
        ram.memory.store(UInt32(0x5003), gpa: 0x2000 + 3 * 4)           // PT[3]: 0x3000 → 0x5000, supervisor
        let noPSE = GuestPagingState(cr0: pe | pg, cr3: 0x1000, cr4: 0, efer: 0)
        XCTAssertEqual(GuestPageWalk.translate(0x3010, access: write, paging: noPSE, memory: ram.memory), .mapped(gpa: 0x5010))
        XCTAssertEqual(ram.memory.load(UInt32.self, gpa: 0x2000 + 12)! & 0x60, 0x60)
        XCTAssertEqual(GuestPageWalk.translate(0x3010, access: userRead, paging: noPSE, memory: ram.memory),
                       .pageFault([.protectionViolation, .user]))
        let withPSE = GuestPagingState(cr0: pe | pg, cr3: 0x1000, cr4: pse, efer: 0)
        XCTAssertEqual(GuestPageWalk.translate(0x41_2345, access: userWrite, paging: withPSE, memory: ram.memory),
                       .mapped(gpa: 0x41_2345))
        // Without CR4.PSE the PS bit is ignored: PDE[1] is a page table at 0x40_0000 (zeros: not present).
        XCTAssertEqual(GuestPageWalk.translate(0x41_2345, access: read, paging: noPSE, memory: ram.memory),
                       .pageFault([]))
    }

    func testPAEUsesThePDPTERegisters() {
        let ram = TestRAM(size: 4 << 20)
        ram.memory.store(UInt64(0x3007), gpa: 0x2000 + 8)               // PD[1] → PT at 0x3000
        ram.memory.store(UInt64(0x7003), gpa: 0x3000)                   // PT[0] → 0x7000
        ram.memory.store(UInt64(0x10_0083), gpa: 0x2000)                // PD[0] → 2 MiB at 1 MiB? misaligned: bits 20:13 reserved
        let paging = GuestPagingState(cr0: pe | pg, cr3: 0x1000, cr4: pae, efer: nxe,
                                      pdptes: (0x2001, 0, 0, 0))
        XCTAssertEqual(GuestPageWalk.translate(0x20_0042, access: write, paging: paging, memory: ram.memory),
                       .mapped(gpa: 0x7042))
        XCTAssertEqual(GuestPageWalk.translate(0x4000_0000, access: read, paging: paging, memory: ram.memory),
                       .pageFault([]), "PDPTE 1 not present")
        XCTAssertEqual(GuestPageWalk.translate(0x1000, access: read, paging: paging, memory: ram.memory),
                       .pageFault([.protectionViolation, .reservedBit]), "a 2 MiB page with reserved low frame bits")
    }
}
