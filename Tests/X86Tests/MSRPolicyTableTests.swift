import XCTest
@testable import X86

final class MSRPolicyTableTests: XCTestCase {
    /// Every MSR in the bitmap's two ranges: pass-through exactly for the short allow list.
    func testDefaultDenyOverBothBitmapRanges() {
        let allowed = Set(MSRPolicyTable.passThroughMSRs)
        for msr in Array(UInt32(0)...0x1FFF) + Array(UInt32(0xC000_0000)...0xC000_1FFF) {
            let isPassThrough = MSRPolicyTable.rule(for: msr) == .passThrough
            XCTAssertEqual(isPassThrough, allowed.contains(msr), "MSR \(String(msr, radix: 16))")
        }
        XCTAssertEqual(allowed, [0x174, 0x175, 0x176, 0x277, 0xC000_0080, 0xC000_0081, 0xC000_0082, 0xC000_0083,
                                 0xC000_0084, 0xC000_0100, 0xC000_0101, 0xC000_0102, 0xC000_0103])
    }

    func testPATIsEmulatedWhenTheVMCSCannotSwitchIt() {
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32PAT, vmcsSwitchesPAT: false), .emulated(.pat))
        var list: [UInt32] = []
        MSRPolicyTable.forEachPassThrough(vmcsSwitchesPAT: false) { list.append($0) }
        XCTAssertFalse(list.contains(MSR.ia32PAT))
        XCTAssertEqual(list.count, MSRPolicyTable.passThroughMSRs.count - 1)
    }

    /// The findings: each of these reached the processor before.
    func testDangerousMSRsAreNotPassedThrough() {
        let generalProtection: [UInt32] = [
            MSR.ia32DSArea, MSR.ia32RTITCtl, MSR.ia32SpecCtrl, MSR.ia32PredCmd, MSR.ia32FlushCmd,
            MSR.ia32BIOSUpdtTrig, MSR.ia32PerfGlobalCtrl, MSR.ia32PEBSEnable, MSR.ia32PerfEvtSel0, MSR.ia32PMC0,
            MSR.ia32FixedCtr0, MSR.ia32ClockModulation, MSR.ia32EnergyPerfBias, MSR.ia32PerfCtl, MSR.ia32MC0Ctl,
            0x401, 0x47F, MSR.ia32MCGCtl, MSR.ia32SMRRPhysBase, MSR.ia32VMXBasic, MSR.ia32VMXExitCtls2,
            0x803, MSR.x2apicFirst, MSR.x2apicLast, MSR.ia32TSCDeadline, MSR.ia32UCET, MSR.ia32SCET,
            MSR.ia32ArchCapabilities, MSR.ia32BNDCFGS, 0x4000_0000, 0xC001_0000, 0xFFFF_FFFF,
        ]
        for msr in generalProtection {
            XCTAssertEqual(MSRPolicyTable.rule(for: msr), .generalProtection, "MSR \(String(msr, radix: 16))")
        }
    }

    func testEmulatedRules() {
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32TSC), .emulated(.tsc))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32TSCAdjust), .emulated(.tscAdjust))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32APICBase), .emulated(.apicBase))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32FeatureControl), .emulated(.featureControl))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32MiscEnable), .emulated(.miscEnable))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.platformInfo), .emulated(.platformInfo))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32MTRRCap), .emulated(.mtrrCap))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32MTRRDefType), .emulated(.mtrrDefType))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x200), .emulated(.mtrrPhysBase(0)))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x201), .emulated(.mtrrPhysMask(0)))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x20F), .emulated(.mtrrPhysMask(7)))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x210), .generalProtection)       // beyond VCNT = 8
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x250), .emulated(.mtrrFixed(0)))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x259), .emulated(.mtrrFixed(2)))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x26F), .emulated(.mtrrFixed(10)))
        XCTAssertEqual(MSRPolicyTable.rule(for: 0x251), .generalProtection)
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32MCGCap), .emulated(.mcgCap))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32MCGStatus), .emulated(.mcgStatus))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32DebugCtl), .emulated(.debugCtl))
        XCTAssertEqual(MSRPolicyTable.rule(for: MSR.ia32XSS), .emulated(.xss))
        for (i, msr) in MSRPolicyTable.fixedMTRRs.enumerated() {
            XCTAssertEqual(MSRPolicyTable.rule(for: msr), .emulated(.mtrrFixed(i)))
        }
    }
}

final class VirtualMSRFileTests: XCTestCase {
    func file() -> VirtualMSRFile { VirtualMSRFile(maxPhysicalAddressBits: 39, platformRatio: 20) }

    func testTSCWriteMovesOnlyTheOffsetAndTSCAdjust() {
        var f = file()
        XCTAssertEqual(f.read(.tsc, hostTSC: 1000), 1000)
        XCTAssertTrue(f.write(.tsc, 0, hostTSC: 5000))
        XCTAssertEqual(f.read(.tsc, hostTSC: 5100), 100)
        XCTAssertEqual(f.tscOffset, 0 &- 5000)
        XCTAssertEqual(f.read(.tscAdjust, hostTSC: 0), 0 &- 5000)
        // 2^56 forward: only this VM's offset moves.
        XCTAssertTrue(f.write(.tsc, 1 << 56, hostTSC: 6000))
        XCTAssertEqual(f.read(.tsc, hostTSC: 6000), 1 << 56)
        XCTAssertEqual(f.tscAdjust, (1 << 56) &- 6000)
    }

    func testTSCAdjustWriteMovesTheTSC() {
        var f = file()
        XCTAssertTrue(f.write(.tscAdjust, 500, hostTSC: 0))
        XCTAssertEqual(f.read(.tsc, hostTSC: 1000), 1500)
        XCTAssertTrue(f.write(.tscAdjust, 200, hostTSC: 0))
        XCTAssertEqual(f.read(.tsc, hostTSC: 1000), 1200)
    }

    func testAPICBase() {
        var f = file()
        XCTAssertEqual(f.read(.apicBase, hostTSC: 0), 0xFEE0_0100)
        XCTAssertFalse(f.write(.apicBase, 0xFEE0_0D00, hostTSC: 0), "x2APIC mode does not exist")
        XCTAssertFalse(f.write(.apicBase, 0xFEE0_0101, hostTSC: 0), "reserved bit 0")
        XCTAssertFalse(f.write(.apicBase, 1 << 39 | 0x900, hostTSC: 0), "beyond MAXPHYADDR")
        // The move of the APIC page: only the virtual register changes.
        XCTAssertTrue(f.write(.apicBase, 0x982900, hostTSC: 0))
        XCTAssertEqual(f.read(.apicBase, hostTSC: 0), 0x982900 | 0x100, "BSP stays")
        XCTAssertTrue(f.write(.apicBase, 0xFEE0_0800, hostTSC: 0))
        XCTAssertEqual(f.apicBase, 0xFEE0_0900)
    }

    func testMTRRs() {
        var f = file()
        XCTAssertEqual(f.read(.mtrrCap, hostTSC: 0), 0x508)
        XCTAssertFalse(f.write(.mtrrCap, 0, hostTSC: 0))
        XCTAssertTrue(f.write(.mtrrDefType, 0xC06, hostTSC: 0))
        XCTAssertEqual(f.read(.mtrrDefType, hostTSC: 0), 0xC06)
        XCTAssertTrue(f.write(.mtrrDefType, 0, hostTSC: 0))
        XCTAssertFalse(f.write(.mtrrDefType, 2, hostTSC: 0), "type 2 is reserved")
        XCTAssertFalse(f.write(.mtrrDefType, 1 << 12, hostTSC: 0), "reserved bit")
        // Variable MTRR 0 = [0, 16 MiB) UC, as the hostile guest wrote.
        XCTAssertTrue(f.write(.mtrrPhysBase(0), 0, hostTSC: 0))
        XCTAssertTrue(f.write(.mtrrPhysMask(0), 0x7F_FF00_0800, hostTSC: 0))
        XCTAssertEqual(f.read(.mtrrPhysMask(0), hostTSC: 0), 0x7F_FF00_0800)
        XCTAssertFalse(f.write(.mtrrPhysMask(1), 0xFF_FF00_0800, hostTSC: 0), "bit 39 with MAXPHYADDR 39")
        XCTAssertFalse(f.write(.mtrrPhysMask(1), 0x1, hostTSC: 0), "bits 10:0 reserved")
        XCTAssertTrue(f.write(.mtrrPhysBase(7), 0x1000_0006, hostTSC: 0))
        XCTAssertEqual(f.read(.mtrrPhysBase(7), hostTSC: 0), 0x1000_0006)
        XCTAssertEqual(f.read(.mtrrPhysBase(6), hostTSC: 0), 0)
        XCTAssertFalse(f.write(.mtrrPhysBase(2), 0x103, hostTSC: 0))
        XCTAssertTrue(f.write(.mtrrFixed(10), 0x0606_0606_0505_0400, hostTSC: 0))
        XCTAssertEqual(f.read(.mtrrFixed(10), hostTSC: 0), 0x0606_0606_0505_0400)
        XCTAssertFalse(f.write(.mtrrFixed(3), 0x0700_0000_0000_0000, hostTSC: 0), "type 7 is not an MTRR type")
    }

    func testMiscEnableAndReadOnlyMSRs() {
        var f = file()
        XCTAssertEqual(f.read(.miscEnable, hostTSC: 0), 0x1801)
        XCTAssertTrue(f.write(.miscEnable, 0x1801 | 1 << 22, hostTSC: 0))
        XCTAssertTrue(f.write(.miscEnable, 0x1801, hostTSC: 0))
        XCTAssertTrue(f.write(.miscEnable, 0, hostTSC: 0), "read-only bits are ignored")
        XCTAssertEqual(f.read(.miscEnable, hostTSC: 0), 0x1800)
        XCTAssertFalse(f.write(.miscEnable, 1 << 38, hostTSC: 0))
        XCTAssertEqual(f.read(.featureControl, hostTSC: 0), 1)
        XCTAssertFalse(f.write(.featureControl, 5, hostTSC: 0))
        XCTAssertEqual(f.read(.platformInfo, hostTSC: 0), 20 << 8)
        XCTAssertEqual(f.read(.mcgCap, hostTSC: 0), 0, "no banks")
        XCTAssertTrue(f.write(.mcgStatus, 0, hostTSC: 0))
        XCTAssertFalse(f.write(.mcgStatus, 4, hostTSC: 0))
        XCTAssertFalse(f.write(.debugCtl, 1, hostTSC: 0))
        XCTAssertTrue(f.write(.biosSignID, 0, hostTSC: 0))
        XCTAssertEqual(f.read(.biosSignID, hostTSC: 0), 0)
    }

    func testPAT() {
        var f = file()
        XCTAssertEqual(f.read(.pat, hostTSC: 0), PAT.powerOnDefault)
        XCTAssertTrue(f.write(.pat, 0x0007_0406_0007_0401, hostTSC: 0))
        XCTAssertFalse(f.write(.pat, 0x0207_0406_0007_0406, hostTSC: 0))
        XCTAssertEqual(f.pat, 0x0007_0406_0007_0401)
    }
}

final class XCR0Tests: XCTestCase {
    let skylakeX: UInt64 = 0x2FF        // x87 SSE AVX BNDREGS BNDCSR opmask ZMM_Hi256 Hi16_ZMM PKRU
    let haswell: UInt64 = 0x7

    func testSDMRules() {
        typealias V = XCR0.Violation
        let cases: [(UInt32, UInt64, UInt64, V?)] = [
            (0, 0x1, haswell, nil), (0, 0x3, haswell, nil), (0, 0x7, haswell, nil),
            (1, 0x1, haswell, .notXCR0), (0, 0x2, haswell, .x87Clear), (0, 0x0, haswell, .x87Clear),
            (0, 0x5, haswell, .avxWithoutSSE), (0, 0xF, haswell, .unsupported(0x8)),
            (0, 1 << 63 | 1, haswell, .unsupported(1 << 63)),
            // The finding on corei7_skylake_x: 0x27 (opmask without ZMM_Hi256/Hi16_ZMM).
            (0, 0x27, skylakeX, .avx512Partial), (0, 0x67, skylakeX, .avx512Partial), (0, 0xC7, skylakeX, .avx512Partial),
            (0, 0xE7, skylakeX, nil), (0, 0xE3, skylakeX, .avx512WithoutAVX),
            (0, 0x0B, skylakeX, .mpxHalf), (0, 0x13, skylakeX, .mpxHalf), (0, 0x1B, skylakeX, nil),
            (0, 0x2FF, skylakeX, nil), (0, 0x203, skylakeX, nil),
            (0, 1 << 17 | 1, 0x60001, .amxHalf), (0, 1 << 18 | 1, 0x60001, .amxHalf), (0, 0x60001, 0x60001, nil),
            (0, 1 << 8 | 1, 0x1FF, .unsupported(1 << 8)),
        ]
        for (index, value, supported, expected) in cases {
            XCTAssertEqual(XCR0.violation(index: index, value: value, supported: supported), expected,
                           "XCR\(index) = \(String(value, radix: 16)) on \(String(supported, radix: 16))")
        }
    }
}
