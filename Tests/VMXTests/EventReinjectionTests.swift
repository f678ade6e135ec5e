import XCTest
import VTx
@testable import VMX

final class EventReinjectionTests: XCTestCase {
    func testNothingToReinjectWritesNothing() {
        let vmcs = FakeVMCS()
        EventReinjection.reinjectInterruptedEvent(vmcs)
        XCTAssertTrue(vmcs.writes.isEmpty)
    }

    func testPageFaultIsReinjectedWithItsErrorCode() {
        let vmcs = FakeVMCS()
        let pf = InterruptionInfo.hardwareException(vector: 14, hasErrorCode: true)
        vmcs.fields[.idtVectoringInformation] = UInt64(pf.rawValue)
        vmcs.fields[.idtVectoringErrorCode] = 0x6
        EventReinjection.reinjectInterruptedEvent(vmcs)
        XCTAssertEqual(vmcs.injected, pf)
        XCTAssertEqual(vmcs.injectedErrorCode, 0x6)
        XCTAssertNil(vmcs.written(.vmEntryInstructionLength))
    }

    func testExternalInterruptLosesTheNMIUnblockingBit() {
        let vmcs = FakeVMCS()
        let irq = InterruptionInfo.externalInterrupt(vector: 0x30)
        vmcs.fields[.idtVectoringInformation] = UInt64(irq.rawValue | InterruptionInfo.nmiUnblockingBit)
        EventReinjection.reinjectInterruptedEvent(vmcs)
        XCTAssertEqual(vmcs.injected, irq)
        XCTAssertNil(vmcs.injectedErrorCode)
    }

    func testSoftwareInterruptCarriesTheInstructionLength() {
        let vmcs = FakeVMCS(rip: 0x100, length: 2)
        // INT 0x80: type 4 (software interrupt), valid.
        let raw = UInt32(0x80) | 4 << 8 | InterruptionInfo.validBit
        vmcs.fields[.idtVectoringInformation] = UInt64(raw)
        EventReinjection.reinjectInterruptedEvent(vmcs)
        XCTAssertEqual(vmcs.written(.vmEntryInterruptionInformation), UInt64(raw))
        XCTAssertEqual(vmcs.written(.vmEntryInstructionLength), 2)
    }
}
