import XCTest
@testable import X86

/// The topology leaves for N = 1, 2, 4 vCPUs (one package, N cores, one thread each).
final class CPUIDTopologyTests: XCTestCase {
    /// A Haswell-like host leaf 1: stepping/model in EAX, EBX with CLFLUSH size 8 and host APIC ID 6
    /// and 16 logical processors, EDX with HTT.
    let hostLeaf1 = CPUIDResult(eax: 0x0003_06C3, ebx: 0x0610_0800, ecx: 0x7FFA_FBFF, edx: 0xBFEB_FBFF)

    func testLeaf1() {
        for (n, expectedCount, htt) in [(1, 1, false), (2, 2, true), (4, 4, true)] {
            let t = CPUIDTopology(vcpus: n)
            for id in 0..<UInt32(n) {
                let r = t.leaf1(hostLeaf1, apicID: id)
                XCTAssertEqual(r.ebx >> 24, id, "initial APIC ID")
                XCTAssertEqual((r.ebx >> 16) & 0xFF, UInt32(expectedCount))
                XCTAssertEqual(r.ebx & 0xFFFF, 0x0800, "CLFLUSH line size and brand index kept")
                XCTAssertEqual(r.edx & (1 << 28) != 0, htt, "HTT for \(n) vCPUs")
                XCTAssertEqual(r.edx | (1 << 28), hostLeaf1.edx | (1 << 28), "other features kept")
                XCTAssertEqual(r.eax, hostLeaf1.eax)
                XCTAssertEqual(r.ecx, hostLeaf1.ecx)
            }
        }
    }

    func testLeaf4() {
        // Haswell's L1d (type 1, level 1, 2 threads sharing, 4 cores) and L3 (type 3, level 3, 8 threads).
        let l1d = CPUIDResult(eax: 0x1C00_4121, ebx: 0x01C0_003F, ecx: 0x3F, edx: 0)
        let l3 = CPUIDResult(eax: 0x1C03_C163, ebx: 0x03C0_003F, ecx: 0x1FFF, edx: 6)
        let null = CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 0)
        for n in [1, 2, 4] {
            let t = CPUIDTopology(vcpus: n)
            let a = t.leaf4(l1d)
            XCTAssertEqual(a.eax >> 26, UInt32(n - 1), "cores per package - 1")
            XCTAssertEqual((a.eax >> 14) & 0xFFF, 0, "L1 is per core")
            XCTAssertEqual(a.eax & 0x3FFF, 0x0121, "type, level, flags kept")
            XCTAssertEqual(a.ebx, l1d.ebx)
            let c = t.leaf4(l3)
            XCTAssertEqual(c.eax >> 26, UInt32(n - 1))
            XCTAssertEqual((c.eax >> 14) & 0xFFF, UInt32(n - 1), "L3 shared by all vCPUs")
            XCTAssertEqual(c.eax & 0x3FFF, 0x0163)
            XCTAssertEqual(t.leaf4(null), null)
        }
    }

    func testLeafB() {
        let expectedShift: [Int: UInt32] = [1: 0, 2: 1, 4: 2]
        for n in [1, 2, 4] {
            let t = CPUIDTopology(vcpus: n)
            XCTAssertEqual(t.coreIDBits, expectedShift[n])
            for id in 0..<UInt32(n) {
                XCTAssertEqual(t.extendedTopology(subleaf: 0, x2APICID: id), CPUIDResult(eax: 0, ebx: 1, ecx: 0x100, edx: id))
                XCTAssertEqual(t.extendedTopology(subleaf: 1, x2APICID: id),
                               CPUIDResult(eax: expectedShift[n]!, ebx: UInt32(n), ecx: 0x201, edx: id))
                XCTAssertEqual(t.extendedTopology(subleaf: 2, x2APICID: id), CPUIDResult(eax: 0, ebx: 0, ecx: 2, edx: id))
                XCTAssertEqual(t.extendedTopology(subleaf: 0x1234, x2APICID: id).ecx, 0x34, "ECX[7:0] is the subleaf")
                // Every APIC ID fits in the core level's shift: the package ID (ID >> shift) is 0.
                XCTAssertEqual(id >> t.coreIDBits, 0)
            }
        }
        XCTAssertEqual(CPUIDTopology(vcpus: 3).coreIDBits, 2)
        XCTAssertEqual(CPUIDTopology(vcpus: 8).coreIDBits, 3)
        XCTAssertEqual(CPUIDTopology(vcpus: 9).coreIDBits, 4)
        XCTAssertEqual(CPUIDTopology(vcpus: 0).logicalProcessors, 1)
    }

    func testLeaf80000008ECX() {
        XCTAssertEqual(CPUIDTopology(vcpus: 4).extendedAddressSizesECX(amd: false), 0, "reserved on Intel")
        XCTAssertEqual(CPUIDTopology(vcpus: 1).extendedAddressSizesECX(amd: true), 0)
        XCTAssertEqual(CPUIDTopology(vcpus: 2).extendedAddressSizesECX(amd: true), 0x1001)
        XCTAssertEqual(CPUIDTopology(vcpus: 4).extendedAddressSizesECX(amd: true), 0x2003)
    }
}
