import XCTest
@testable import X86

final class MSRTests: XCTestCase {
    func testNumbers() {
        XCTAssertEqual(MSR.ia32FeatureControl, 0x3A)
        XCTAssertEqual(MSR.ia32TSC, 0x10)
        XCTAssertEqual(MSR.ia32APICBase, 0x1B)
        XCTAssertEqual(MSR.ia32SysenterCS, 0x174)
        XCTAssertEqual(MSR.ia32SysenterESP, 0x175)
        XCTAssertEqual(MSR.ia32SysenterEIP, 0x176)
        XCTAssertEqual(MSR.ia32PAT, 0x277)
        XCTAssertEqual(MSR.ia32DebugCtl, 0x1D9)
        XCTAssertEqual(MSR.ia32MiscEnable, 0x1A0)
        XCTAssertEqual(MSR.ia32SpecCtrl, 0x48)
        XCTAssertEqual(MSR.ia32MTRRCap, 0xFE)
        XCTAssertEqual(MSR.ia32MTRRDefType, 0x2FF)
        XCTAssertEqual(MSR.ia32EFER, 0xC000_0080)
        XCTAssertEqual(MSR.ia32STAR, 0xC000_0081)
        XCTAssertEqual(MSR.ia32LSTAR, 0xC000_0082)
        XCTAssertEqual(MSR.ia32CSTAR, 0xC000_0083)
        XCTAssertEqual(MSR.ia32FMask, 0xC000_0084)
        XCTAssertEqual(MSR.ia32FSBase, 0xC000_0100)
        XCTAssertEqual(MSR.ia32GSBase, 0xC000_0101)
        XCTAssertEqual(MSR.ia32KernelGSBase, 0xC000_0102)
        XCTAssertEqual(MSR.ia32TSCAux, 0xC000_0103)
    }

    func testVMXCapabilityMSRsAreContiguous() {
        let vmx: [UInt32] = [
            MSR.ia32VMXBasic, MSR.ia32VMXPinbasedCtls, MSR.ia32VMXProcbasedCtls, MSR.ia32VMXExitCtls,
            MSR.ia32VMXEntryCtls, MSR.ia32VMXMisc, MSR.ia32VMXCR0Fixed0, MSR.ia32VMXCR0Fixed1,
            MSR.ia32VMXCR4Fixed0, MSR.ia32VMXCR4Fixed1, MSR.ia32VMXVMCSEnum, MSR.ia32VMXProcbasedCtls2,
            MSR.ia32VMXEPTVPIDCap, MSR.ia32VMXTruePinbasedCtls, MSR.ia32VMXTrueProcbasedCtls,
            MSR.ia32VMXTrueExitCtls, MSR.ia32VMXTrueEntryCtls, MSR.ia32VMXVMFunc,
        ]
        XCTAssertEqual(vmx, Array(0x480...0x491))
    }

    func testNames() {
        XCTAssertEqual(MSR.name(0xC000_0080).map(Format.string), "IA32_EFER")
        XCTAssertEqual(MSR.name(0x48E).map(Format.string), "IA32_VMX_TRUE_PROCBASED_CTLS")
        XCTAssertEqual(MSR.name(0x20A).map(Format.string), "IA32_MTRR_PHYSBASEn")
        XCTAssertNil(MSR.name(0x4000_0000))
    }

    func testFeatureControl() {
        XCTAssertEqual(FeatureControl.lock.rawValue, 1)
        XCTAssertEqual(FeatureControl.vmxInsideSMX.rawValue, 2)
        XCTAssertEqual(FeatureControl.vmxOutsideSMX.rawValue, 4)
        XCTAssertTrue(FeatureControl(rawValue: 5).allowsVMXOutsideSMX)
        XCTAssertFalse(FeatureControl(rawValue: 4).allowsVMXOutsideSMX)
        XCTAssertEqual(FeatureControl(rawValue: 5).names(), "lock, VMX outside SMX")
    }
}
