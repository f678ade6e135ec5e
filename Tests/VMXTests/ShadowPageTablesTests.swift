import XCTest
import X86
import Machine
@testable import VMX

/// Shadow page tables against a fake host and a model of the processor's walk of the
/// shadow: guest setups per paging mode, the walks and faults the guest must see (checked against
/// Machine's GuestPageWalk), A/D bits, WP/U/S/NX, the root cache, INVLPG and resync on CR3 loads.
final class ShadowPageTablesTests: XCTestCase {
    typealias B = Bits

    // MARK: guest setups

    /// 32-bit paging, PD at 0x1000, PT at 0x2000 for 0x40_0000: [0] user RW 0x10_0000,
    /// [1] supervisor RO 0x10_1000, [2] user RO 0x10_2000, [3] absent, [4] past RAM (0x100_0000),
    /// [5] global user RW 0x10_5000; PD[2] a 4 MiB global page at 0x40_0000 (VA 0x80_0000);
    /// PD[3] a page table outside RAM.
    func setup32(_ ram: ShadowTestRAM) {
        ram.put32(0x2007, 0x1000 + 1 * 4)
        ram.put32(0x40_0187, 0x1000 + 2 * 4)
        ram.put32(0x200_0007, 0x1000 + 3 * 4)
        ram.put32(0x10_0007, 0x2000)
        ram.put32(0x10_1001, 0x2004)
        ram.put32(0x10_2005, 0x2008)
        ram.put32(0x100_0007, 0x2010)
        ram.put32(0x10_5107, 0x2014)
    }
    func controls32(wp: Bool = true, pge: Bool = false) -> ShadowGuestControls {
        ShadowGuestControls(cr0: B.pe | B.pg | (wp ? B.wp : 0), cr3: 0x1000, cr4: B.pse | (pge ? B.pge : 0), efer: 0)
    }

    /// PAE paging: PDPT at 0x1000 ([0] → PD 0x2000, [1] absent); PD[2] → PT 0x3000 for 0x40_0000:
    /// [0] user RW 0x10_0000, [1] supervisor RO 0x10_1000, [2] NX RW 0x10_2000; PD[4]: a 2 MiB
    /// page at 0x60_0000 (VA 0x80_0000).
    func setupPAE(_ ram: ShadowTestRAM) {
        ram.put64(0x2001, 0x1000)
        ram.put64(0x3007, 0x2000 + 2 * 8)
        ram.put64(0x60_0087, 0x2000 + 4 * 8)
        ram.put64(0x10_0007, 0x3000)
        ram.put64(0x10_1001, 0x3008)
        ram.put64(0x8000_0000_0010_2003, 0x3010)
    }
    func controlsPAE(nxe: Bool = true) -> ShadowGuestControls {
        ShadowGuestControls(cr0: B.pe | B.pg | B.wp, cr3: 0x1000, cr4: B.pae, efer: nxe ? B.nxe : 0)
    }

    /// 4-level paging: PML4 0x1000 → PDPT 0x2000 → PD 0x3000; PD[2] → PT 0x4000 for 0x40_0000:
    /// [0] user RW 0x10_0000, [1] supervisor RO 0x10_1000, [2] NX RW 0x10_2000, [3] a reserved
    /// bit (51); PD[1]: a 2 MiB user page at 0x20_0000 (VA 0x20_0000).
    func setup4(_ ram: ShadowTestRAM) {
        ram.put64(0x2007, 0x1000)
        ram.put64(0x3007, 0x2000)
        ram.put64(0x4007, 0x3000 + 2 * 8)
        ram.put64(0x20_0087, 0x3000 + 1 * 8)
        ram.put64(0x10_0007, 0x4000)
        ram.put64(0x10_1001, 0x4008)
        ram.put64(0x8000_0000_0010_2003, 0x4010)
        ram.put64(0x0008_0000_0010_3003, 0x4018)
    }
    func controls4(wp: Bool = true, smep: Bool = false, smap: Bool = false) -> ShadowGuestControls {
        ShadowGuestControls(cr0: B.pe | B.pg | (wp ? B.wp : 0), cr3: 0x1000,
                            cr4: B.pae | (smep ? B.smep : 0) | (smap ? B.smap : 0), efer: B.lme | B.lma | B.nxe)
    }

    func rig(_ controls: ShadowGuestControls, _ setup: (ShadowTestRAM) -> Void, pool: Int = 64, roots: Int = 4) -> ShadowRig {
        let rig = ShadowRig(poolFrames: pool, roots: roots, controls: controls)
        setup(rig.ram)
        XCTAssertEqual(rig.activate(), .root(rig.shadow.activeRoot ?? 1))
        return rig
    }

    // MARK: walks and faults per mode, against GuestPageWalk

    struct Case {
        let linear: UInt64
        let access: PageAccess
        let expected: ShadowRig.Touch
    }

    /// Every case through the shadow, and the same access through Machine's GuestPageWalk on a
    /// second copy of the guest: the same guest-physical address or the same error code.
    func check(_ cases: [Case], controls: ShadowGuestControls, setup: (ShadowTestRAM) -> Void,
               pdptes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0), file: StaticString = #filePath, line: UInt = #line) {
        let r = rig(controls, setup)
        let oracle = ShadowTestRAM(size: 8 << 20)
        setup(oracle)
        var paging = controls.paging
        paging.pdptes = pdptes
        for c in cases {
            let got = r.touch(c.linear, c.access)
            XCTAssertEqual(got, c.expected, "\(hex(c.linear)) \(c.access)", file: file, line: line)
            let walk = GuestPageWalk.translate(c.linear, access: c.access, paging: paging, memory: oracle.memory)
            switch (got, walk) {
            case (.ok(let a), .mapped(let b)): XCTAssertEqual(a, b, "oracle \(hex(c.linear))", file: file, line: line)
            case (.stop(.reflect(let a)), .pageFault(let b)): XCTAssertEqual(a, b, "oracle \(hex(c.linear))", file: file, line: line)
            case (.stop(.tableOutsideRAM(let a)), .tableOutsideRAM(let b)): XCTAssertEqual(a, b, file: file, line: line)
            case (.stop(.outsideRAM(let a)), .mapped(let b)): XCTAssertEqual(a, b, file: file, line: line)
            default: XCTFail("shadow \(got), walk \(walk) at \(hex(c.linear))", file: file, line: line)
            }
        }
        XCTAssertEqual(r.ram.memory.load(UInt64.self, gpa: 0x1000), oracle.memory.load(UInt64.self, gpa: 0x1000),
                       "A/D flags as the walk sets them", file: file, line: line)
    }

    func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    func test32BitWalksAndErrorCodes() {
        let p: PageFaultErrorCode = .protectionViolation, w: PageFaultErrorCode = .write, u: PageFaultErrorCode = .user
        check([
            Case(linear: 0x40_0123, access: .userWrite, expected: .ok(gpa: 0x10_0123)),
            Case(linear: 0x40_1008, access: .supervisorRead, expected: .ok(gpa: 0x10_1008)),
            Case(linear: 0x40_1008, access: .supervisorWrite, expected: .stop(.reflect(p.union(w)))),
            Case(linear: 0x40_1008, access: .userRead, expected: .stop(.reflect(p.union(u)))),
            Case(linear: 0x40_2000, access: .userWrite, expected: .stop(.reflect([.protectionViolation, .write, .user]))),
            Case(linear: 0x40_3000, access: .supervisorRead, expected: .stop(.reflect([]))),
            Case(linear: 0x40_3000, access: .userWrite, expected: .stop(.reflect([.write, .user]))),
            Case(linear: 0x40_4010, access: .supervisorRead, expected: .stop(.outsideRAM(gpa: 0x100_0010))),
            Case(linear: 0x80_0000 + 0x21_2345, access: .userWrite, expected: .ok(gpa: 0x61_2345)),
            Case(linear: 0xC0_0000, access: .supervisorRead, expected: .stop(.tableOutsideRAM(gpa: 0x200_0000))),
            Case(linear: 0xFFFF_F000, access: .supervisorRead, expected: .stop(.reflect([]))),
        ], controls: controls32(), setup: setup32)
    }

    func testPAEWalksAndErrorCodes() {
        check([
            Case(linear: 0x40_0008, access: .userRead, expected: .ok(gpa: 0x10_0008)),
            Case(linear: 0x40_1000, access: .supervisorWrite, expected: .stop(.reflect([.protectionViolation, .write]))),
            Case(linear: 0x40_2000, access: .supervisorWrite, expected: .ok(gpa: 0x10_2000)),
            Case(linear: 0x40_2000, access: .supervisorFetch, expected: .stop(.reflect([.protectionViolation, .instructionFetch]))),
            Case(linear: 0x40_0000, access: .supervisorFetch, expected: .ok(gpa: 0x10_0000)),
            Case(linear: 0x80_1234, access: .supervisorWrite, expected: .ok(gpa: 0x60_1234)),
            Case(linear: 0x4000_0000, access: .supervisorRead, expected: .stop(.reflect([]))),   // PDPTE[1] absent
        ], controls: controlsPAE(), setup: setupPAE, pdptes: (0x2001, 0, 0, 0))
    }

    func test4LevelWalksAndErrorCodes() {
        check([
            Case(linear: 0x40_0010, access: .userWrite, expected: .ok(gpa: 0x10_0010)),
            Case(linear: 0x40_1000, access: .userRead, expected: .stop(.reflect([.protectionViolation, .user]))),
            Case(linear: 0x40_2000, access: .userFetch,
                 expected: .stop(.reflect([.protectionViolation, .user, .instructionFetch]))),
            Case(linear: 0x40_2000, access: .supervisorFetch, expected: .stop(.reflect([.protectionViolation, .instructionFetch]))),
            Case(linear: 0x40_3000, access: .supervisorRead, expected: .stop(.reflect(.reservedBitViolation))),
            Case(linear: 0x20_4567, access: .userFetch, expected: .ok(gpa: 0x20_4567)),
            Case(linear: 0x7F_0000_0000, access: .supervisorRead, expected: .stop(.reflect([]))),
        ], controls: controls4(), setup: setup4)
    }

    func testSMEPAndSMAP() {
        check([
            Case(linear: 0x40_0000, access: .supervisorFetch, expected: .stop(.reflect([.protectionViolation, .instructionFetch]))),
            Case(linear: 0x40_0000, access: .supervisorRead, expected: .stop(.reflect([.protectionViolation]))),
            Case(linear: 0x40_1000, access: .supervisorRead, expected: .ok(gpa: 0x10_1000)),
        ], controls: controls4(smep: true, smap: true), setup: setup4)
    }

    func testPagingOffIsAnIdentityShadowWithinRAM() {
        let r = rig(ShadowGuestControls(cr0: B.pe, cr3: 0, cr4: 0, efer: 0), { _ in })
        XCTAssertEqual(r.touch(0x7F_F123, .supervisorWrite), .ok(gpa: 0x7F_F123))
        XCTAssertEqual(r.touch(0x1000, .supervisorFetch), .ok(gpa: 0x1000))
        XCTAssertEqual(r.touch(0x80_0000, .supervisorRead), .stop(.outsideRAM(gpa: 0x80_0000)))
        XCTAssertEqual(r.touch(0xFEE0_0030, .supervisorWrite), .stop(.outsideRAM(gpa: 0xFEE0_0030)))
        XCTAssertEqual(r.leaf(0x1000) & 0x7, 0x7, "present, writable, user")
    }

    func testPAEPDPTEsAreCheckedAtCR3Load() {
        let r = rig(controlsPAE(), setupPAE)
        r.ram.put64(0x5000 | 1 | 1 << 1, 0x8000)     // bit 1 is reserved in a PDPTE
        XCTAssertEqual(r.activate(cr3: 0x8000), .generalProtection)
        XCTAssertEqual(r.activate(cr3: 0x80_0000), .generalProtection, "a PDPT that runs past RAM")
        r.controls.paging.cr3 = 0x1000
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000), "the old root is still active")
        // The PDPTE registers are loaded at the CR3 load, not read again on every walk (SDM §4.4.1).
        r.ram.put64(0, 0x1000)
        XCTAssertEqual(r.touch(0x40_0008, .supervisorWrite), .ok(gpa: 0x10_0008))
        guard case .root = r.activate(cr3: 0x1000) else { return XCTFail() }
        XCTAssertEqual(r.touch(0x40_0008, .supervisorRead), .stop(.reflect([])))
    }

    // MARK: accessed and dirty flags, WP

    func testAccessedThenDirtyAsTheProcessorSetsThem() {
        let r = rig(controls4(), setup4)
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        XCTAssertEqual(r.ram.get64(0x4000) & 0x60, 0x20, "a read sets A only")
        XCTAssertEqual(r.ram.get64(0x1000) & 0x20, 0x20, "and A in the PML4E")
        XCTAssertEqual(r.leaf(0x40_0000) & 2, 0, "a clean page is read-only in the shadow")
        XCTAssertEqual(r.touch(0x40_0000, .supervisorWrite), .ok(gpa: 0x10_0000))
        XCTAssertEqual(r.exits, 1, "the first write exits")
        XCTAssertEqual(r.ram.get64(0x4000) & 0x60, 0x60, "and sets D")
        XCTAssertEqual(r.touch(0x40_0004, .supervisorWrite), .ok(gpa: 0x10_0004))
        XCTAssertEqual(r.exits, 0, "the second does not")
        // A page the guest already marked dirty is writable at once.
        r.ram.put64(0x10_2063 & ~(1 << 63), 0x4010)
        XCTAssertEqual(r.touch(0x40_2000, .supervisorRead), .ok(gpa: 0x10_2000))
        XCTAssertEqual(r.leaf(0x40_2000) & 2, 2)
    }

    func testWriteProtectOffLetsSupervisorWriteButNotUser() {
        let r = rig(controls32(wp: false), setup32)
        XCTAssertEqual(r.touch(0x40_2000, .supervisorWrite), .ok(gpa: 0x10_2000), "WP = 0: a supervisor write to a read-only page")
        XCTAssertEqual(r.leaf(0x40_2000) & 6, 2, "writable, supervisor only")
        XCTAssertEqual(r.ram.get32(0x2008) & 0x60, 0x60)
        XCTAssertEqual(r.touch(0x40_2000, .userRead), .ok(gpa: 0x10_2000), "the user's read refaults and is fixed")
        XCTAssertEqual(r.leaf(0x40_2000) & 6, 4, "user, read-only")
        XCTAssertEqual(r.touch(0x40_2000, .userWrite), .stop(.reflect([.protectionViolation, .write, .user])))
    }

    func testNoExecuteOnlyWithNXE() {
        let r = rig(controlsPAE(), setupPAE)
        XCTAssertEqual(r.touch(0x40_2000, .supervisorWrite), .ok(gpa: 0x10_2000))
        XCTAssertEqual(r.leaf(0x40_2000) >> 63, 1, "XD copied to the shadow leaf")
        let off = rig(controlsPAE(nxe: false), { ram in
            ram.put64(0x2001, 0x1000); ram.put64(0x3007, 0x2000 + 2 * 8); ram.put64(0x10_0007, 0x3000)
        })
        XCTAssertEqual(off.touch(0x40_0000, .supervisorFetch), .ok(gpa: 0x10_0000))
        XCTAssertEqual(off.leaf(0x40_0000) >> 63, 0, "no XD bit without EFER.NXE (it would be reserved)")
    }

    // MARK: INVLPG, CR3 loads, the root cache

    func testStaleUntilINVLPGThenTheNewMapping() {
        let r = rig(controls4(), setup4)
        XCTAssertEqual(r.touch(0x40_0000, .userWrite), .ok(gpa: 0x10_0000))
        XCTAssertEqual(r.touch(0x40_1000, .supervisorRead), .ok(gpa: 0x10_1000))
        r.ram.put64(0x30_0007, 0x4000)               // remap without invalidating
        XCTAssertEqual(r.touch(0x40_0000, .userRead), .ok(gpa: 0x10_0000), "what a TLB may still show")
        r.shadow.invalidatePage(0x40_0000)
        XCTAssertEqual(r.leaf(0x40_0000), 0)
        XCTAssertNotEqual(r.leaf(0x40_1000), 0, "INVLPG drops one page")
        XCTAssertEqual(r.touch(0x40_0000, .userRead), .ok(gpa: 0x30_0000))
        // Permissions taken away, then a CR3 reload (same CR3) drops every non-global leaf.
        r.ram.put64(0x10_1000, 0x4008)
        XCTAssertEqual(r.touch(0x40_1000, .supervisorRead), .ok(gpa: 0x10_1000))
        r.activate()
        XCTAssertEqual(r.touch(0x40_1000, .supervisorRead), .stop(.reflect([])))
    }

    func testINVLPGDropsAWhole4MiBGuestPage() {
        let r = rig(controls32(), setup32)
        XCTAssertEqual(r.touch(0x80_1000, .supervisorRead), .ok(gpa: 0x40_1000))
        XCTAssertEqual(r.touch(0xA0_3000, .supervisorRead), .ok(gpa: 0x60_3000), "the other 2 MiB half of the 4 MiB page")
        r.ram.put32(0, 0x1000 + 2 * 4)
        r.shadow.invalidatePage(0x80_0000)
        XCTAssertEqual(r.leaf(0x80_1000), 0)
        XCTAssertEqual(r.leaf(0xA0_3000), 0, "both halves gone")
        XCTAssertEqual(r.touch(0xA0_3000, .supervisorRead), .stop(.reflect([])))
    }

    func testINVLPGDropsAWhole1GiBGuestPage() {
        let r = rig(controls4(), { ram in
            self.setup4(ram)
            ram.put64(0x87, 0x2000 + 1 * 8)          // PDPT[1]: a 1 GiB page at 0 (VA 0x4000_0000)
        })
        XCTAssertEqual(r.touch(0x4000_1000, .supervisorRead), .ok(gpa: 0x1000))
        XCTAssertEqual(r.touch(0x4060_0000, .supervisorRead), .ok(gpa: 0x60_0000), "another 2 MiB of the same page")
        r.ram.put64(0, 0x2000 + 1 * 8)
        r.shadow.invalidatePage(0x4000_0000)
        XCTAssertEqual(r.leaf(0x4000_1000), 0)
        XCTAssertEqual(r.leaf(0x4060_0000), 0, "every piece of the 1 GiB page gone")
        XCTAssertEqual(r.touch(0x4060_0000, .supervisorRead), .stop(.reflect([])))
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000), "the first GiB untouched")
    }

    func testGlobalLeavesSurviveCR3LoadsOthersDoNot() {
        let r = rig(controls32(pge: true), setup32)
        XCTAssertEqual(r.touch(0x40_5000, .supervisorRead), .ok(gpa: 0x10_5000))      // G
        XCTAssertEqual(r.touch(0x80_0000, .supervisorRead), .ok(gpa: 0x40_0000))      // G, 4 MiB
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))      // not G
        r.activate()
        XCTAssertNotEqual(r.leaf(0x40_5000), 0)
        XCTAssertNotEqual(r.leaf(0x80_0000), 0)
        XCTAssertEqual(r.leaf(0x40_0000), 0)
        // INVLPG drops a global page too, also in roots that are not active.
        r.ram.put32(0x2007, 0x3000 + 1 * 4)          // a second address space at 0x3000, same PT
        guard case .root = r.activate(cr3: 0x3000) else { return XCTFail() }
        r.shadow.invalidatePage(0x40_5000)
        guard case .root = r.activate(cr3: 0x1000) else { return XCTFail() }
        XCTAssertEqual(r.leaf(0x40_5000), 0)
        XCTAssertNotEqual(r.leaf(0x80_0000), 0)
    }

    func testANonGlobalLeafAddedBesideGlobalOnesGoesAtTheNextCR3LoadToo() {
        let r = rig(controls32(pge: true), setup32)
        XCTAssertEqual(r.touch(0x40_5000, .supervisorRead), .ok(gpa: 0x10_5000))      // G, same table
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        r.activate()
        XCTAssertEqual(r.leaf(0x40_0000), 0)
        XCTAssertNotEqual(r.leaf(0x40_5000), 0)
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        r.ram.put32(0x30_0007, 0x2000)               // remapped; the CR3 load must show it
        r.activate()
        XCTAssertEqual(r.leaf(0x40_0000), 0, "the table is listed again after its first clearing")
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x30_0000))
    }

    func testMoreTablesThanTheListHoldsFallBackToAFullScan() {
        let count = ShadowPageTables<FakeShadowHost>.listCapacity + 8
        let r = rig(controls4(), { ram in
            self.setup4(ram)
            for i in 0..<count { ram.put64(0x4007, 0x3000 + UInt64(i + 8) * 8) }   // PD[8...] → the PT
        }, pool: count + 16)
        for i in 0..<count {
            XCTAssertEqual(r.touch(UInt64(i + 8) << 21, .supervisorRead), .ok(gpa: 0x10_0000))
        }
        XCTAssertEqual(r.framesInUse, 4 + count - 1 + 0, "root, PDPT, PD and a table per 2 MiB")
        r.activate()
        for i in 0..<count { XCTAssertEqual(r.leaf(UInt64(i + 8) << 21), 0) }
        XCTAssertEqual(r.framesInUse, 1, "emptied tables back in the pool: only the root")
        XCTAssertEqual(r.touch(0x40_0000, .userWrite), .ok(gpa: 0x10_0000))
    }

    func testCR3LoadAfterA1GiBPageWasDroppedLeavesGuestMemoryAlone() {
        let r = rig(controls4(), { ram in
            self.setup4(ram)
            ram.put64(0x87, 0x2000 + 1 * 8)          // PDPT[1]: a 1 GiB page at 0
        })
        for i in 0..<4 { XCTAssertEqual(r.touch(0x4000_0000 + UInt64(i) << 21, .supervisorRead), .ok(gpa: UInt64(i) << 21)) }
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        let before = (0..<1024).map { r.ram.get64(UInt64($0) * 8) }
        r.shadow.invalidatePage(0x4000_0000)
        r.activate()
        XCTAssertEqual((0..<1024).map { r.ram.get64(UInt64($0) * 8) }, before)
        XCTAssertEqual(r.leaf(0x40_0000), 0)
        r.shadow.flushAll()
        XCTAssertEqual(r.framesInUse, 0)
    }

    func testRootCacheHitsAndLeastRecentlyUsedEviction() {
        let r = rig(controls4(), { ram in
            // Three address spaces sharing the PDPT, PD and PT of setup4.
            self.setup4(ram)
            ram.put64(0x2007, 0x5000)
            ram.put64(0x2007, 0x6000)
        }, roots: 2)
        let first = r.shadow.activeRoot!
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        guard case .root(let second) = r.activate(cr3: 0x5000) else { return XCTFail() }
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(r.activate(cr3: 0x1000), .root(first), "cached")
        XCTAssertEqual(r.shadow.statistics.rootHits, 1)
        XCTAssertEqual(r.shadow.statistics.rootMisses, 2)
        // A third CR3 with two slots: 0x5000 is the least recently used and goes.
        guard case .root = r.activate(cr3: 0x6000) else { return XCTFail() }
        XCTAssertEqual(r.shadow.statistics.rootEvictions, 1)
        XCTAssertEqual(r.shadow.cachedRoots, 2)
        XCTAssertEqual(r.activate(cr3: 0x1000), .root(first))
        guard case .root = r.activate(cr3: 0x5000) else { return XCTFail() }
        XCTAssertEqual(r.shadow.statistics.rootMisses, 4)
        XCTAssertEqual(r.touch(0x40_0000, .userWrite), .ok(gpa: 0x10_0000))
    }

    func testPoolExhaustionEvictsThenEmptiesTheActiveRootAndFramesAreConserved() {
        // 4-level: a root and 3 tables per 1 GiB region; 6 frames hold one root and one walk, plus one.
        let r = rig(controls4(), { ram in
            self.setup4(ram)
            ram.put64(0x2007, 0x5000)
            for i in 0..<8 { ram.put64(0x3007, 0x2000 + UInt64(i) * 8) }     // PDPT[0..7] → the same PD
        }, pool: 6)
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        XCTAssertEqual(r.framesInUse, 4)
        guard case .root = r.activate(cr3: 0x5000) else { return XCTFail() }
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        XCTAssertEqual(r.shadow.statistics.rootEvictions, 1, "the other root gave its frames")
        XCTAssertEqual(r.shadow.cachedRoots, 1)
        XCTAssertEqual(r.touch(0x4040_0000, .supervisorRead), .ok(gpa: 0x10_0000), "a second 1 GiB region needs 3 more tables")
        XCTAssertEqual(r.shadow.statistics.poolFlushes, 1, "the active root was emptied")
        XCTAssertEqual(r.leaf(0x40_0000), 0)
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000), "and refills")
        r.shadow.flushAll()
        XCTAssertEqual(r.framesInUse, 0, "every frame back in the pool")
        XCTAssertNil(r.shadow.activeRoot)
        XCTAssertEqual(r.shadow.pageFault(linear: 0, errorCode: [], rflagsAC: false, guest: r.ram.memory), .noShadow)
    }

    func testAPoolTooSmallForOneWalkStopsInsteadOfLooping() {
        let r = rig(controls4(), setup4, pool: 3)
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .stop(.noShadow))
    }

    func testChangedTranslationRulesDropEveryRoot() {
        let r = rig(controls4(), setup4)
        XCTAssertEqual(r.touch(0x40_0000, .supervisorRead), .ok(gpa: 0x10_0000))
        guard case .root = r.activate(cr3: 0x1000) else { return XCTFail() }
        XCTAssertEqual(r.shadow.statistics.fullFlushes, 0)
        r.controls = controls4(wp: false)
        guard case .root = r.activate() else { return XCTFail() }
        XCTAssertEqual(r.shadow.statistics.fullFlushes, 1, "CR0.WP changed")
        XCTAssertEqual(r.shadow.cachedRoots, 1)
        XCTAssertEqual(r.framesInUse, 1, "only the new root")
    }

    func testCR3LoadRefusesFiveLevelPaging() {
        let r = ShadowRig(controls: ShadowGuestControls(cr0: B.pe | B.pg, cr3: 0x1000, cr4: B.pae | CR4.la57.rawValue,
                                                        efer: B.lme | B.lma))
        XCTAssertEqual(r.activate(), .generalProtection)
    }

    func testDonationsOutsideTheFirst4GiBAreRefused() {
        let r = ShadowRig(poolFrames: 1, controls: controls4())
        XCTAssertFalse(r.shadow.donate(frame: 1 << 32))
        XCTAssertFalse(r.shadow.donate(frame: 0))
        XCTAssertFalse(r.shadow.donate(frame: 0x10_0800))
        XCTAssertEqual(r.shadow.totalFrames, 1)
    }
}
