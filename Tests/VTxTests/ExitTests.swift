import XCTest
import X86
@testable import VTx

final class ExitTests: XCTestCase {
    func testExitReasons() {
        XCTAssertEqual(ExitReason.exceptionOrNMI.rawValue, 0)
        XCTAssertEqual(ExitReason.tripleFault.rawValue, 2)
        XCTAssertEqual(ExitReason.cpuid.rawValue, 10)
        XCTAssertEqual(ExitReason.hlt.rawValue, 12)
        XCTAssertEqual(ExitReason.vmcall.rawValue, 18)
        XCTAssertEqual(ExitReason.crAccess.rawValue, 28)
        XCTAssertEqual(ExitReason.ioInstruction.rawValue, 30)
        XCTAssertEqual(ExitReason.rdmsr.rawValue, 31)
        XCTAssertEqual(ExitReason.wrmsr.rawValue, 32)
        XCTAssertEqual(ExitReason.entryFailureInvalidGuestState.rawValue, 33)
        XCTAssertEqual(ExitReason.monitorTrapFlag.rawValue, 37)
        XCTAssertEqual(ExitReason.eptViolation.rawValue, 48)
        XCTAssertEqual(ExitReason.eptMisconfiguration.rawValue, 49)
        XCTAssertEqual(ExitReason.preemptionTimerExpired.rawValue, 52)
        XCTAssertEqual(ExitReason.xsetbv.rawValue, 55)
        XCTAssertEqual(ExitReason.pmlFull.rawValue, 62)
        XCTAssertEqual(ExitReason.wrmsrlist.rawValue, 79)
        XCTAssertNil(ExitReason(rawValue: 35))
        XCTAssertNil(ExitReason(rawValue: 38))
        XCTAssertNil(ExitReason(rawValue: 42))
        XCTAssertNil(ExitReason(rawValue: 71))
        XCTAssertEqual(ExitReason.allCases.count, 76)
        for r in ExitReason.allCases {
            XCTAssertLessThan(Int(r.rawValue), ExitReason.count)
            XCTAssertFalse(r.name.description.isEmpty)
        }
        XCTAssertEqual(Set(ExitReason.allCases.map { $0.name.description }).count, ExitReason.allCases.count)
        XCTAssertEqual(ExitReason.eptViolation.name.description, "EPT violation")
        XCTAssertEqual(ExitReason.name(basic: 35).description, "unknown")
        XCTAssertTrue(ExitReason.entryFailureMachineCheck.isEntryFailure)
    }

    func testExitReasonField() {
        let f = ExitReasonField(rawValue: 0x8000_0021)
        XCTAssertEqual(f.basic, .entryFailureInvalidGuestState)
        XCTAssertTrue(f.entryFailure)
        XCTAssertFalse(f.pendingMTF)
        let g = ExitReasonField(rawValue: 1 << 28 | 1 << 27 | 1 << 29 | 30)
        XCTAssertEqual(g.basic, .ioInstruction)
        XCTAssertTrue(g.pendingMTF && g.enclaveMode && g.exitFromVMXRoot)
        XCTAssertFalse(g.entryFailure)
        XCTAssertNil(ExitReasonField(rawValue: 200).basic)
        XCTAssertEqual(ExitReasonField(rawValue: 200).basicValue, 200)
    }

    func testIOQualification() {
        // OUT DX, AL to 0x3F8.
        let out = IOExitQualification(rawValue: 0x03F8_0000)
        XCTAssertEqual(out.port, 0x3F8)
        XCTAssertEqual(out.size, 1)
        XCTAssertFalse(out.isIn)
        XCTAssertFalse(out.isString)
        XCTAssertFalse(out.isImmediate)
        // REP INSW from port 0x1F0 (DX).
        let ins = IOExitQualification(rawValue: 0x01F0_0039)
        XCTAssertEqual(ins.port, 0x1F0)
        XCTAssertEqual(ins.size, 2)
        XCTAssertTrue(ins.isIn && ins.isString && ins.isRep)
        // IN EAX, 0x71 (immediate).
        let imm = IOExitQualification(rawValue: 0x0071_004B)
        XCTAssertEqual(imm.size, 4)
        XCTAssertTrue(imm.isIn && imm.isImmediate)
        XCTAssertEqual(IOExitQualification(port: 0x71, size: 4, isIn: true, isImmediate: true), imm)
        XCTAssertEqual(IOExitQualification(port: 0x1F0, size: 2, isIn: true, isString: true, isRep: true), ins)
    }

    func testCRQualification() {
        // MOV CR0, RBX.
        let q = CRAccessQualification(rawValue: 0x300)
        XCTAssertEqual(q.controlRegister, 0)
        XCTAssertEqual(q.accessType, .movToCR)
        XCTAssertEqual(q.register, .rbx)
        XCTAssertEqual(q.register.name.description, "RBX")
        // MOV R12, CR3.
        let r = CRAccessQualification(rawValue: 0xC13)
        XCTAssertEqual(r.controlRegister, 3)
        XCTAssertEqual(r.accessType, .movFromCR)
        XCTAssertEqual(r.register, .r12)
        XCTAssertEqual(CRAccessQualification(rawValue: 0x20).accessType, .clts)
        // LMSW with memory operand, source 0x0011.
        let l = CRAccessQualification(rawValue: 0x0011_0070)
        XCTAssertEqual(l.accessType, .lmsw)
        XCTAssertTrue(l.lmswOperandIsMemory)
        XCTAssertEqual(l.lmswSourceData, 0x11)
        XCTAssertEqual(GeneralPurposeRegister.allCases.map { $0.name.description }.last, "R15")
    }

    func testEPTViolationQualification() {
        // Write to a read-only page, linear address valid and translated.
        let q = EPTViolationQualification(rawValue: 0x18A)
        XCTAssertTrue(q.isWrite)
        XCTAssertFalse(q.isRead)
        XCTAssertTrue(q.contains(.readable))
        XCTAssertFalse(q.contains(.writable))
        XCTAssertTrue(q.contains([.guestLinearAddressValid, .linearAddressTranslation]))
        XCTAssertEqual(q.permissions, 1)
        XCTAssertFalse(q.isNotPresent)
        XCTAssertEqual(q.names(), "write, readable, gla-valid, gla-translation")
        let fetch = EPTViolationQualification(rawValue: 0x84)
        XCTAssertTrue(fetch.isInstructionFetch && fetch.isNotPresent)
        XCTAssertEqual(EPTViolationQualification.nmiUnblockingDueToIRET.rawValue, 1 << 12)
        XCTAssertEqual(EPTViolationQualification.shadowStackAccess.rawValue, 1 << 13)
        XCTAssertEqual(EPTViolationQualification.asynchronous.rawValue, 1 << 16)
        XCTAssertEqual(EPTViolationQualification.userModeExecutable.rawValue, 1 << 6)
    }

    func testInstructionInformation() {
        // OUTSB with 64-bit addressing and FS override: address size 2 (bits 9:7), segment 4 (17:15).
        let outs = VMExitInstructionInformation(rawValue: 2 << 7 | 4 << 15)
        XCTAssertEqual(outs.addressSize, 64)
        XCTAssertEqual(outs.segment, .fs)
        // VMREAD [rax + rcx*8], rdx: scaling 3, 64-bit, memory, DS, index RCX, base RAX, reg2 RDX.
        let v = VMExitInstructionInformation(rawValue: 3 | 2 << 7 | 3 << 15 | 1 << 18 | 0 << 23 | 2 << 28)
        XCTAssertEqual(v.scale, 8)
        XCTAssertFalse(v.isRegisterOperand)
        XCTAssertEqual(v.segment, .ds)
        XCTAssertEqual(v.indexRegister, .rcx)
        XCTAssertEqual(v.baseRegister, .rax)
        XCTAssertEqual(v.register2, .rdx)
        let ea = v.effectiveAddress(displacement: 0x10) { $0 == .rax ? 0x1000 : ($0 == .rcx ? 2 : 0) }
        XCTAssertEqual(ea, 0x1020)
        // Index and base invalid.
        let n = VMExitInstructionInformation(rawValue: 1 << 22 | 1 << 27 | 1 << 10)
        XCTAssertNil(n.indexRegister)
        XCTAssertNil(n.baseRegister)
        XCTAssertTrue(n.isRegisterOperand)
    }

    func testVMInstructionError() {
        XCTAssertEqual(VMInstructionError.vmcallInVMXRoot.rawValue, 1)
        XCTAssertEqual(VMInstructionError.entryInvalidControlFields.rawValue, 7)
        XCTAssertEqual(VMInstructionError.entryInvalidHostStateFields.rawValue, 8)
        XCTAssertEqual(VMInstructionError.vmptrldIncorrectRevision.rawValue, 11)
        XCTAssertEqual(VMInstructionError.entryEventsBlockedByMovSS.rawValue, 26)
        XCTAssertEqual(VMInstructionError.invalidINVEPTINVVPIDOperand.rawValue, 28)
        XCTAssertNil(VMInstructionError(rawValue: 14))
        XCTAssertNil(VMInstructionError(rawValue: 21))
        XCTAssertNil(VMInstructionError(rawValue: 27))
        XCTAssertEqual(VMInstructionError.allCases.count, 25)
        XCTAssertEqual(VMInstructionError.name(7).description, "VM entry with invalid control field(s)")
        XCTAssertEqual(VMInstructionError.name(99).description, "unknown VM-instruction error")
    }

    func testInterruptionInfo() {
        let gp = InterruptionInfo.hardwareException(vector: 13)
        XCTAssertEqual(gp.rawValue, 0x8000_0B0D)
        XCTAssertTrue(gp.deliversErrorCode && gp.isValid)
        XCTAssertEqual(gp.type, .hardwareException)
        XCTAssertEqual(gp.vector, 13)
        XCTAssertEqual(InterruptionInfo.hardwareException(.invalidOpcode).rawValue, 0x8000_0306)
        XCTAssertEqual(InterruptionInfo.hardwareException(vector: 14, hasErrorCode: false).rawValue, 0x8000_030E)
        XCTAssertEqual(InterruptionInfo.externalInterrupt(vector: 0x20).rawValue, 0x8000_0020)
        XCTAssertEqual(InterruptionInfo.nmi.rawValue, 0x8000_0202)
        XCTAssertEqual(InterruptionInfo.softwareInterrupt(vector: 0x80).rawValue, 0x8000_0480)
        XCTAssertTrue(InterruptionInfo.softwareInterrupt(vector: 0x80).needsInstructionLength)
        XCTAssertTrue(InterruptionInfo.softwareException(vector: 3).needsInstructionLength)
        XCTAssertFalse(gp.needsInstructionLength)
        XCTAssertFalse(InterruptionInfo.none.isValid)
        let exitInfo = InterruptionInfo(rawValue: 0x8000_1B0E)
        XCTAssertTrue(exitInfo.nmiUnblockingDueToIRET)
        XCTAssertEqual(exitInfo.vector, 14)
        XCTAssertEqual(exitInfo.type.name.description, "hardware exception")
        XCTAssertEqual(InterruptionInfo(rawValue: 0x700).type, .otherEvent)
        XCTAssertEqual(InterruptionInfo(rawValue: 0x500).type, .privilegedSoftwareException)
    }
}
