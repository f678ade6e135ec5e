import XCTest
@testable import X86

final class CPUIDTests: XCTestCase {
    func testVendorString() {
        // "GenuineIntel": EBX = "Genu", EDX = "ineI", ECX = "ntel".
        XCTAssertEqual(CPUID.vendorString(ebx: 0x756E_6547, edx: 0x4965_6E69, ecx: 0x6C65_746E), "GenuineIntel")
        XCTAssertEqual(CPUID.vendorString(ebx: 0x6874_7541, edx: 0x6974_6E65, ecx: 0x444D_4163), "AuthenticAMD")
        // "KVMKVMKVM\0\0\0" in EBX, ECX, EDX.
        XCTAssertEqual(CPUID.hypervisorSignature(ebx: 0x4B4D_564B, ecx: 0x564B_4D56, edx: 0x0000_004D), "KVMKVMKVM")
    }

    func testLeaves() {
        XCTAssertEqual(CPUID.hypervisorLeafBase, 0x4000_0000)
        XCTAssertEqual(CPUID.extendedFeatureLeaf, 0x8000_0001)
        XCTAssertEqual(CPUID.structuredExtendedFeatureLeaf, 7)
    }

    func testFeatureBits() {
        XCTAssertEqual(CPUIDFeatureECX.vmx.rawValue, 1 << 5)
        XCTAssertEqual(CPUIDFeatureECX.smx.rawValue, 1 << 6)
        XCTAssertEqual(CPUIDFeatureECX.x2apic.rawValue, 1 << 21)
        XCTAssertEqual(CPUIDFeatureECX.tscDeadline.rawValue, 1 << 24)
        XCTAssertEqual(CPUIDFeatureECX.xsave.rawValue, 1 << 26)
        XCTAssertEqual(CPUIDFeatureECX.osxsave.rawValue, 1 << 27)
        XCTAssertEqual(CPUIDFeatureECX.hypervisor.rawValue, 1 << 31)
        XCTAssertEqual(CPUIDFeatureEDX.fpu.rawValue, 1)
        XCTAssertEqual(CPUIDFeatureEDX.tsc.rawValue, 1 << 4)
        XCTAssertEqual(CPUIDFeatureEDX.msr.rawValue, 1 << 5)
        XCTAssertEqual(CPUIDFeatureEDX.pae.rawValue, 1 << 6)
        XCTAssertEqual(CPUIDFeatureEDX.apic.rawValue, 1 << 9)
        XCTAssertEqual(CPUIDFeatureEDX.sep.rawValue, 1 << 11)
        XCTAssertEqual(CPUIDFeatureEDX.pge.rawValue, 1 << 13)
        XCTAssertEqual(CPUIDFeatureEDX.fxsr.rawValue, 1 << 24)
        XCTAssertEqual(CPUIDFeatureEDX.sse2.rawValue, 1 << 26)
        XCTAssertEqual(CPUIDExtendedFeatureEBX.smep.rawValue, 1 << 7)
        XCTAssertEqual(CPUIDExtendedFeatureEBX.invpcid.rawValue, 1 << 10)
        XCTAssertEqual(CPUIDExtendedFeatureEBX.smap.rawValue, 1 << 20)
        XCTAssertEqual(CPUIDExtendedProcessorEDX.nx.rawValue, 1 << 20)
        XCTAssertEqual(CPUIDExtendedProcessorEDX.page1GB.rawValue, 1 << 26)
        XCTAssertEqual(CPUIDExtendedProcessorEDX.rdtscp.rawValue, 1 << 27)
        XCTAssertEqual(CPUIDExtendedProcessorEDX.lm.rawValue, 1 << 29)
        XCTAssertEqual(CPUIDFeatureECX(rawValue: 0x8400_0020).names(), "VMX, XSAVE, hypervisor")
    }

    func testSignature() {
        // Haswell i7-4770: family 6, model 0x3C, stepping 3.
        let sig = CPUID.Signature(eax: 0x0003_06C3)
        XCTAssertEqual(sig.family, 6)
        XCTAssertEqual(sig.model, 0x3C)
        XCTAssertEqual(sig.stepping, 3)
        XCTAssertEqual(CPUID.physicalAddressBits(eax: 0x3027), 39)
        XCTAssertEqual(CPUID.linearAddressBits(eax: 0x3027), 48)
    }
}
