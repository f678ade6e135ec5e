import XCTest
import X86
import VTx
@testable import VMX

final class ExitDispatchTests: XCTestCase {
    func dispatch(_ reason: ExitReason, _ vmcs: FakeVMCS = FakeVMCS(rip: 0x4000, length: 2)) -> ExitDispatch.Outcome {
        ExitDispatch.handle(vmcs, basic: reason.rawValue)
    }

    func testInterruptWindowResumesWithoutTouchingTheGuest() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertEqual(dispatch(.interruptWindow, vmcs), .resume)
        XCTAssertTrue(vmcs.writes.isEmpty)
    }

    func testPreemptionTimerAsksForARearm() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertEqual(dispatch(.preemptionTimerExpired, vmcs), .preemptionTimerExpired)
        XCTAssertTrue(vmcs.writes.isEmpty)
    }

    func testExternalInterruptReinjectsTheEventItCutShort() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertEqual(dispatch(.externalInterrupt, vmcs), .resume)
        XCTAssertNil(vmcs.injected)                      // nothing was being delivered
        let page = InterruptionInfo.hardwareException(vector: 14, hasErrorCode: true)
        vmcs.fields[.idtVectoringInformation] = UInt64(page.rawValue)
        vmcs.fields[.idtVectoringErrorCode] = 0x6
        XCTAssertEqual(dispatch(.externalInterrupt, vmcs), .resume)
        XCTAssertEqual(vmcs.injected, page)
        XCTAssertEqual(vmcs.injectedErrorCode, 0x6)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnNMIIsTheHostsAndTheGuestGoesOn() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        let interrupt = InterruptionInfo.externalInterrupt(vector: 0x30)
        vmcs.fields[.idtVectoringInformation] = UInt64(interrupt.rawValue)
        XCTAssertEqual(dispatch(.exceptionOrNMI, vmcs), .hostNMI)
        XCTAssertEqual(vmcs.injected, interrupt)
    }

    func testPauseSkipsAndYields() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertEqual(dispatch(.pause, vmcs), .yield)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x4002)
    }

    func testCacheAndMonitorInstructionsAreNoOps() {
        for reason in [ExitReason.wbinvd, .invd, .mwait, .monitor] {
            let vmcs = FakeVMCS(rip: 0x4000, length: 3)
            vmcs.fields[.guestInterruptibilityState] = 2          // blocking by MOV SS ends with it
            XCTAssertEqual(dispatch(reason, vmcs), .resume, "\(reason)")
            XCTAssertEqual(vmcs.written(.guestRIP), 0x4003, "\(reason)")
            XCTAssertEqual(vmcs.written(.guestInterruptibilityState), 0, "\(reason)")
            XCTAssertNil(vmcs.injected)
        }
    }

    func testRDPMCIsGeneralProtection() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        XCTAssertEqual(dispatch(.rdpmc, vmcs), .resume)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(vmcs.injectedErrorCode, 0)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testVMXInstructionsAreInvalidOpcode() {
        for reason in [ExitReason.vmclear, .vmlaunch, .vmptrld, .vmptrst, .vmread, .vmresume, .vmwrite, .vmxoff,
                       .vmxon, .invept, .invvpid, .vmfunc] {
            let vmcs = FakeVMCS(rip: 0x4000, length: 3)
            XCTAssertEqual(dispatch(reason, vmcs), .resume, "\(reason)")
            XCTAssertEqual(vmcs.injected, .hardwareException(vector: 6, hasErrorCode: false), "\(reason)")
            XCTAssertNil(vmcs.written(.guestRIP), "\(reason)")
        }
    }

    func testTripleFaultAndEPTMisconfigurationStop() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 2)
        vmcs.fields[.guestPhysicalAddress] = 0xFEE0_0000
        XCTAssertEqual(dispatch(.tripleFault, vmcs), .tripleFault(rip: 0x4000))
        XCTAssertEqual(dispatch(.eptMisconfiguration, vmcs), .eptMisconfiguration(gpa: 0xFEE0_0000, rip: 0x4000))
    }

    func testTaskSwitchStopsWithItsParticulars() {
        let vmcs = FakeVMCS(rip: 0x4000, length: 5)
        vmcs.fields[.exitQualification] = 0x4000_0028              // source: CALL, TSS selector 0x28
        vmcs.fields[.vmExitInstructionInformation] = 0xFFFF       // not defined for task switches: not reported
        XCTAssertEqual(dispatch(.taskSwitch, vmcs), .unhandled(.init(reason: 9, qualification: 0x4000_0028, instructionLength: 5,
                                                                      instructionInformation: 0, rip: 0x4000)))
    }

    func testAnUnknownReasonStopsTheVMWithTheReasonAndTheExitsFields() {
        for basic in [UInt16(35), 16, 29, 80, 127, 200, 0xFFFF] {       // undefined, RDTSC, MOV DR, past the SDM's list
            let vmcs = FakeVMCS(rip: 0x4000, length: 4)
            vmcs.fields[.exitQualification] = 0x1234
            vmcs.fields[.vmExitInstructionInformation] = 0x5678
            XCTAssertEqual(ExitDispatch.handle(vmcs, basic: basic),
                           .unhandled(.init(reason: basic, qualification: 0x1234, instructionLength: 4,
                                            instructionInformation: 0x5678, rip: 0x4000)), "reason \(basic)")
            XCTAssertTrue(vmcs.writes.isEmpty, "reason \(basic)")
        }
    }
}
