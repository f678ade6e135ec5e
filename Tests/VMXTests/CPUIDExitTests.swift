import XCTest
import X86
import VTx
@testable import VMX

final class CPUIDExitTests: XCTestCase {
    func exit(leaf: UInt32, subleaf: UInt32 = 0, _ setup: (FakeVMCS) -> Void = { _ in }) -> (FakeVMCS, GuestRegisters) {
        let vmcs = FakeVMCS(rip: 0x1000, length: 2)
        setup(vmcs)
        var regs = GuestRegisters()
        regs.rax = 0xDEAD_0000_0000_0000 | UInt64(leaf)
        regs.rcx = UInt64(subleaf)
        CPUIDExit.handle(vmcs, &regs)
        return (vmcs, regs)
    }

    func testSignatureLeafAndRIPAdvance() {
        let (vmcs, regs) = exit(leaf: 0x4000_0000)
        XCTAssertEqual(regs.rax, 0x4000_0001)          // upper half cleared, highest leaf
        XCTAssertEqual(regs.rbx, 0x6669_7753)
        XCTAssertEqual(regs.rcx, 0x7369_7674)
        XCTAssertEqual(regs.rdx, 0x0000_726F)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x1002)
        XCTAssertNil(vmcs.injected)
    }

    func testHypercallLeafAndUnusedHypervisorLeaves() {
        XCTAssertEqual(exit(leaf: 0x4000_0001).1.rax, 1)
        let (_, regs) = exit(leaf: 0x4000_00FF)
        XCTAssertEqual([regs.rax, regs.rbx, regs.rcx, regs.rdx], [0, 0, 0, 0])
    }

    func testLeaf1HidesVMXAndAPICAndReportsTheGuestsOSXSAVE() {
        let all = CPUIDResult(eax: 0x306C3, ebx: 0, ecx: 0xFFFF_FFFF & ~(1 << 31), edx: 0xFFFF_FFFF)
        let (_, regs) = exit(leaf: 1) { vmcs in
            vmcs.cpuidLeaves[1 << 32] = all
            // The guest's CR4 has OSXSAVE clear although the host's has it: the guest's wins.
            vmcs.setCR4(CR4.osxsave.rawValue, mask: CR4.osxsave.rawValue, shadow: 0)
        }
        let ecx = CPUIDFeatureECX(rawValue: UInt32(regs.rcx))
        XCTAssertFalse(ecx.contains(.vmx))
        XCTAssertTrue(ecx.contains(.hypervisor))
        XCTAssertFalse(ecx.contains(.x2apic))
        XCTAssertFalse(ecx.contains(.tscDeadline))
        XCTAssertFalse(ecx.contains(.monitor))
        XCTAssertFalse(ecx.contains(.osxsave))
        XCTAssertEqual(UInt32(regs.rdx) & CPUIDFeatureEDX.apic.rawValue, 0)
        XCTAssertEqual(UInt32(regs.rdx) & (1 << 21 | 1 << 22 | 1 << 29 | 1 << 31), 0)   // DS, ACPI, TM, PBE
        XCTAssertEqual(regs.rax, 0x306C3)
    }

    func testLeaf1OSXSAVEFollowsAGuestOwnedCR4Bit() {
        let (_, regs) = exit(leaf: 1) { vmcs in
            vmcs.cpuidLeaves[1 << 32] = CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 0)
            vmcs.setCR4(CR4.osxsave.rawValue | CR4.vmxe.rawValue, mask: CR4.vmxe.rawValue, shadow: 0)
        }
        XCTAssertTrue(CPUIDFeatureECX(rawValue: UInt32(regs.rcx)).contains(.osxsave))
    }

    func testPerformanceAndPowerLeavesAreZeroAndSpeculationMSRsHidden() {
        for leaf: UInt32 in [6, 0xA] {
            let (_, regs) = exit(leaf: leaf) { $0.cpuidLeaves[UInt64(leaf) << 32] = CPUIDResult(eax: 7, ebx: 7, ecx: 7, edx: 7) }
            XCTAssertEqual([regs.rax, regs.rbx, regs.rcx, regs.rdx], [0, 0, 0, 0], "leaf \(leaf)")
        }
        let (_, regs7) = exit(leaf: 7) { $0.cpuidLeaves[7 << 32] = CPUIDResult(eax: 0, ebx: 1, ecx: 0, edx: 0xFFFF_FFFF) }
        XCTAssertEqual(UInt32(regs7.rdx) & (1 << 26 | 1 << 27 | 1 << 28 | 1 << 29 | 1 << 31), 0)
        XCTAssertEqual(regs7.rbx, 1)
        let (_, regsD) = exit(leaf: 0xD, subleaf: 1) { $0.cpuidLeaves[0xD << 32 | 1] = CPUIDResult(eax: 0xF, ebx: 0, ecx: 0xFF, edx: 0xFF) }
        XCTAssertEqual([regsD.rax, regsD.rcx, regsD.rdx], [0xF, 0, 0])
    }

    /// Leaf 0x80000007: the invariant TSC alone (the guest TSC is the host's constant-rate TSC
    /// plus an offset), whatever the host's power-management bits say.
    func testInvariantTSCAlone() {
        let (_, busy) = exit(leaf: 0x8000_0007) { $0.cpuidLeaves[0x8000_0007 << 32] = CPUIDResult(eax: 1, ebx: 2, ecx: 3, edx: 0xFF) }
        XCTAssertEqual([busy.rax, busy.rbx, busy.rcx, busy.rdx], [0, 0, 0, 0x100])
        let (_, empty) = exit(leaf: 0x8000_0007) { _ in }
        XCTAssertEqual(empty.rdx, 0x100)
    }

    func testSkippingClearsBlockingBySTIAndMovSS() {
        let (vmcs, _) = exit(leaf: 0) { $0.fields[.guestInterruptibilityState] = 0b1011 }
        XCTAssertEqual(vmcs.written(.guestInterruptibilityState), 0b1000)
    }
}
