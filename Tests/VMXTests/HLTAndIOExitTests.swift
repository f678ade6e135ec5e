import XCTest
import X86
import VTx
import Machine
@testable import VMX

final class HLTExitTests: XCTestCase {
    typealias PC = TestPC.PC
    func makePC() -> PC { TestPC.make() }

    func programTimer(_ pc: inout PC) { TestPC.programTimer(&pc) }

    func testInterruptsDisabledStopsForGood() {
        let vmcs = FakeVMCS(rip: 0x100, length: 1)
        var pc = makePC()
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc), .stop(interruptsEnabled: false))
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testNoInterruptSourceStopsWithInterruptsEnabled() {
        let vmcs = FakeVMCS(rip: 0x100, length: 1)
        vmcs.fields[.guestRFLAGS] = 0x202
        var pc = makePC()
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc), .stop(interruptsEnabled: true))
    }

    func testArmedTimerWaitsAndADueOneResumes() {
        let vmcs = FakeVMCS(rip: 0x100, length: 1)
        vmcs.fields[.guestRFLAGS] = 0x202
        var pc = makePC()
        programTimer(&pc)
        vmcs.tsc = 0
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc), .waitForTimer)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x101)
        vmcs.tsc = 10_000_000
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc), .resume)
    }

    func makeSMPPC() -> PC {
        var pc = makePC()
        pc.enableAPIC(tscHz: 50_000_000, x2APIC: true, tscDeadline: true, physicalAddressBits: 39, vcpus: 2)
        return pc
    }

    /// On a VM of several vCPUs, CLI; HLT parks the vCPU (an NMI, INIT or SIPI from a sibling may
    /// still come), past the HLT; a VM's only vCPU stops for good instead (above).
    func testInterruptsDisabledParksOneOfSeveral() {
        let vmcs = FakeVMCS(rip: 0x100, length: 1)
        var pc = makeSMPPC()
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc, vcpu: 1), .park)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x101)
    }

    /// With no timer armed, a vCPU of several still waits: a sibling's IPI can wake it.
    func testNoTimerStillWaitsForASiblingsIPI() {
        let vmcs = FakeVMCS(rip: 0x100, length: 1)
        vmcs.fields[.guestRFLAGS] = 0x202
        var pc = makeSMPPC()
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc, vcpu: 1), .waitForTimer)
    }

    /// Only the halting vCPU's own pending interrupt resumes it.
    func testResumesOnItsOwnPendingInterruptOnly() {
        var pc = makeSMPPC()
        XCTAssertTrue(pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xF0, size: 4, value: 0x1FF, tsc: 0, vcpu: 1))
        XCTAssertTrue(pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0xF0, size: 4, value: 0x1FF, tsc: 0, vcpu: 0))
        XCTAssertTrue(pc.mmioWrite(gpa: LocalAPIC.defaultBase + 0x300, size: 4, value: 0x40 | 1 << 18, tsc: 0, vcpu: 0))  // self-IPI
        let vmcs = FakeVMCS(rip: 0x100, length: 1)
        vmcs.fields[.guestRFLAGS] = 0x202
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc, vcpu: 1), .waitForTimer, "vCPU 0's IPI is not vCPU 1's")
        XCTAssertEqual(HLTExit.handle(vmcs, pc: &pc, vcpu: 0), .resume)
    }
}

final class IOExitTests: XCTestCase {
    typealias PC = TestPC.PC
    func makePC() -> PC { TestPC.make() }

    /// Qualification (SDM Vol. 3C Table 28-5): size-1 in 2:0, IN in 3, string in 4, REP in 5, port in 31:16.
    func qualification(port: UInt16, size: Int, isIn: Bool, string: Bool = false, rep: Bool = false) -> UInt64 {
        UInt64(size - 1) | (isIn ? 8 : 0) | (string ? 16 : 0) | (rep ? 32 : 0) | UInt64(port) << 16
    }

    func testInOfEveryWidthMergesIntoRAXAsTheCPUWould() {
        // Nothing at port 0x2F0: reads are all ones.
        for (size, expected) in [(1, 0x1111_2222_3333_44FF), (2, 0x1111_2222_3333_FFFF), (4, 0x0000_0000_FFFF_FFFF)] as [(Int, UInt64)] {
            let vmcs = FakeVMCS(rip: 0x10, length: 1)
            vmcs.fields[.exitQualification] = qualification(port: 0x2F0, size: size, isIn: true)
            var regs = GuestRegisters()
            regs.rax = 0x1111_2222_3333_4444
            var pc = makePC()
            XCTAssertEqual(IOExit.handle(vmcs, &regs, pc: &pc), .resume)
            XCTAssertEqual(regs.rax, expected, "size \(size)")
            XCTAssertEqual(vmcs.written(.guestRIP), 0x11)
        }
    }

    func testOutReachesTheDeviceAndInReadsItBack() {
        let vmcs = FakeVMCS(rip: 0x10, length: 2)
        var pc = makePC()
        var regs = GuestRegisters()
        regs.rax = 0x5A
        vmcs.fields[.exitQualification] = qualification(port: 0x3FF, size: 1, isIn: false)   // COM1 scratch register
        XCTAssertEqual(IOExit.handle(vmcs, &regs, pc: &pc), .resume)
        regs.rax = 0
        vmcs.fields[.exitQualification] = qualification(port: 0x3FF, size: 1, isIn: true)
        XCTAssertEqual(IOExit.handle(vmcs, &regs, pc: &pc), .resume)
        XCTAssertEqual(regs.rax, 0x5A)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x14)
    }

    func testStringFormsGoToStringIO() {
        let vmcs = FakeVMCS()
        var pc = makePC()
        var regs = GuestRegisters()
        let q = qualification(port: 0x3F8, size: 1, isIn: false, string: true, rep: true)
        vmcs.fields[.exitQualification] = q
        XCTAssertEqual(IOExit.handle(vmcs, &regs, pc: &pc), .string(IOExitQualification(rawValue: q)))
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testKeyboardControllerResetEndsTheMachineAfterTheOut() {
        let vmcs = FakeVMCS(rip: 0x10, length: 1)
        var pc = makePC()
        var regs = GuestRegisters()
        regs.rax = 0xFE
        vmcs.fields[.exitQualification] = qualification(port: 0x64, size: 1, isIn: false)
        XCTAssertEqual(IOExit.handle(vmcs, &regs, pc: &pc), .power(.keyboardControllerReset, rip: 0x11))
    }
}
