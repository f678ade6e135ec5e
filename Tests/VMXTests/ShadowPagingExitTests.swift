import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// The exits of shadow paging (ShadowPagingExit) against the fake VMCS and a fake shadow host:
/// a 32-bit paging guest (PD at 0x1000; PT at 0x2000 for 0x40_0000: [0] user RW 0x10_0000,
/// [3] absent, [4] past RAM at 0x100_0000; PD[3] a page table outside RAM at 0x200_0000).
final class ShadowPagingExitTests: XCTestCase {
    typealias B = Bits
    var rig: ShadowRig!
    var state: ShadowPagingState<FakeShadowHost>!
    var vmcs: FakeVMCS!
    var regs = GuestRegisters()
    var cpu = VCPUState.test()

    override func setUp() {
        rig = ShadowRig(controls: ShadowGuestControls(cr0: B.pe | B.pg | B.wp, cr3: 0x1000, cr4: B.pse, efer: 0))
        rig.ram.put32(0x2007, 0x1000 + 1 * 4)
        rig.ram.put32(0x200_0007, 0x1000 + 3 * 4)
        rig.ram.put32(0x10_0007, 0x2000)
        rig.ram.put32(0x100_0007, 0x2010)
        vmcs = FakeVMCS(rip: 0x7000, length: 3)
        vmcs.setCR0(B.pe | B.pg | B.wp)
        vmcs.setCR4(B.pse | B.pae, mask: B.pae, shadow: 0)
        state = ShadowPagingState(tables: rig.shadow, guestCR3: 0x1000)
        guard case .root(let root) = state.activate(vmcs, memory: rig.ram.memory) else { return XCTFail("no root") }
        XCTAssertEqual(vmcs.read(.guestCR3), root)
        vmcs.writes.removeAll()
    }

    override func tearDown() {
        rig.shadow = state.tables      // one set of tables: the rig gives them back
        state = nil
        rig = nil
    }

    /// A #PF exit at `linear` with the processor's error code.
    func pageFault(_ linear: UInt64, _ code: PageFaultErrorCode) -> ShadowPagingExit.Result? {
        vmcs.fields[.vmExitInterruptionInformation] = UInt64(InterruptionInfo.hardwareException(vector: 14, hasErrorCode: true).rawValue)
        vmcs.fields[.vmExitInterruptionErrorCode] = UInt64(code.rawValue)
        vmcs.fields[.exitQualification] = linear
        return ShadowPagingExit.exception(vmcs, &state, memory: rig.ram.memory)
    }

    /// The shadow leaf for `linear` in the active root (0 when there is none).
    func leaf(_ linear: UInt64) -> UInt64 {
        rig.shadow = state.tables
        return rig.leaf(linear)
    }

    func crAccess(cr: UInt64 = 3, type: UInt64, register: GeneralPurposeRegister) -> ShadowPagingExit.Result {
        vmcs.fields[.exitQualification] = cr | type << 4 | UInt64(register.rawValue) << 8
        return ShadowPagingExit.crAccess(vmcs, &regs, &cpu, &state, memory: rig.ram.memory)
    }

    func testOtherExceptionIsNotShadowPagings() {
        vmcs.fields[.vmExitInterruptionInformation] = UInt64(InterruptionInfo.hardwareException(vector: 6, hasErrorCode: false).rawValue)
        XCTAssertNil(ShadowPagingExit.exception(vmcs, &state, memory: rig.ram.memory))
        XCTAssertTrue(vmcs.writes.isEmpty)
    }

    func testFixedFaultFillsTheLeafAndReinjectsTheInterruptedEvent() {
        XCTAssertEqual(leaf(0x40_0000), 0)
        let irq = InterruptionInfo.externalInterrupt(vector: 0x30)
        vmcs.fields[.idtVectoringInformation] = UInt64(irq.rawValue)
        XCTAssertEqual(pageFault(0x40_0000, [.write]), .resume)
        XCTAssertEqual(leaf(0x40_0000) & 0x000F_FFFF_FFFF_F000, FakeShadowHost.ramBase + 0x10_0000)
        XCTAssertEqual(vmcs.injected, irq)
        XCTAssertNil(vmcs.cr2)
        XCTAssertNil(vmcs.written(.guestRIP), "the instruction runs again")
        XCTAssertEqual(state.tables.statistics.fills, 1)
    }

    /// An IRET that unblocked NMIs and then faulted (exit information bit 12): NMIs blocked again
    /// for the IRET run again after the fill, and for the guest's own #PF; not when the fault cut
    /// an event's delivery short.
    func testFaultingIRETBlocksNMIsAgain() {
        let pf = InterruptionInfo.hardwareException(vector: 14, hasErrorCode: true)
        let withBit12 = UInt64(pf.rawValue | InterruptionInfo.nmiUnblockingBit)
        vmcs.fields[.guestInterruptibilityState] = 0x1                  // blocking by STI, kept
        vmcs.fields[.vmExitInterruptionInformation] = withBit12
        vmcs.fields[.vmExitInterruptionErrorCode] = UInt64(PageFaultErrorCode([.write]).rawValue)
        vmcs.fields[.exitQualification] = 0x40_0000
        XCTAssertEqual(ShadowPagingExit.exception(vmcs, &state, memory: rig.ram.memory), .resume)
        XCTAssertEqual(vmcs.fields[.guestInterruptibilityState], 0x9, "filled: blocking by NMI set again")

        vmcs.fields[.guestInterruptibilityState] = 0
        vmcs.fields[.exitQualification] = 0x40_3000                     // the guest's own fault
        vmcs.fields[.vmExitInterruptionErrorCode] = UInt64(PageFaultErrorCode([.write, .user]).rawValue)
        XCTAssertEqual(ShadowPagingExit.exception(vmcs, &state, memory: rig.ram.memory), .resume)
        XCTAssertEqual(vmcs.fields[.guestInterruptibilityState], 0x8, "reflected: blocking by NMI set again")

        vmcs.fields[.guestInterruptibilityState] = 0
        vmcs.fields[.idtVectoringInformation] = UInt64(InterruptionInfo.externalInterrupt(vector: 0x30).rawValue)
        XCTAssertEqual(ShadowPagingExit.exception(vmcs, &state, memory: rig.ram.memory), .resume)
        XCTAssertEqual(vmcs.fields[.guestInterruptibilityState] ?? 0, 0, "during event delivery: left alone")

        vmcs.fields[.idtVectoringInformation] = 0
        vmcs.fields[.vmExitInterruptionInformation] = UInt64(pf.rawValue)   // bit 12 clear
        XCTAssertEqual(ShadowPagingExit.exception(vmcs, &state, memory: rig.ram.memory), .resume)
        XCTAssertEqual(vmcs.fields[.guestInterruptibilityState] ?? 0, 0, "an ordinary fault: left alone")
    }

    func testGuestsOwnFaultIsReflectedWithErrorCodeAndCR2() {
        XCTAssertEqual(pageFault(0x40_3000, [.write, .user]), .resume)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 14, hasErrorCode: true))
        XCTAssertEqual(vmcs.injectedErrorCode, UInt64(PageFaultErrorCode([.write, .user]).rawValue))
        XCTAssertEqual(vmcs.cr2, 0x40_3000)
        XCTAssertNil(vmcs.written(.guestRIP))
        XCTAssertEqual(state.tables.statistics.reflected, 1)
    }

    func testPageOutsideRAMIsAnEPTViolationADeviceMayAnswer() {
        XCTAssertEqual(pageFault(0x40_4010, [.write]),
                       .outsideRAM(gpa: 0x100_0010, qualification: [.guestLinearAddressValid, .write], linear: 0x40_4010,
                                   rip: 0x7000, device: true))
        XCTAssertNil(vmcs.injected)
        XCTAssertNil(vmcs.cr2)
    }

    func testPageTableOutsideRAMStopsTheVM() {
        guard case .outsideRAM(let gpa, let q, let linear, let rip, let device) = pageFault(0xC0_0000, [.instructionFetch]) else {
            return XCTFail("not outside RAM")
        }
        XCTAssertEqual(gpa & ~0xFFF, 0x200_0000)
        XCTAssertEqual(q, [.guestLinearAddressValid, .read])
        XCTAssertEqual(linear, 0xC0_0000)
        XCTAssertEqual(rip, 0x7000)
        XCTAssertFalse(device)
        XCTAssertNil(vmcs.injected)
    }

    func testNoActiveRootIsExhausted() {
        state.tables.flushAll()
        XCTAssertNil(state.tables.activeRoot)
        XCTAssertEqual(pageFault(0x40_0000, []), .exhausted(rip: 0x7000))
    }

    func testCR3LoadSwitchesToANewRootThenBackToTheCachedOne() {
        let first = vmcs.read(.guestCR3)
        regs.rbx = 0x5000
        XCTAssertEqual(crAccess(type: 0, register: .rbx), .resume)
        XCTAssertEqual(state.guestCR3, 0x5000)
        let second = vmcs.written(.guestCR3)
        XCTAssertNotNil(second)
        XCTAssertNotEqual(second, first)
        XCTAssertNotEqual(second, 0x5000, "GUEST_CR3 holds the shadow root, not the guest's CR3")
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)
        XCTAssertEqual(state.tables.statistics.rootMisses, 2)

        vmcs.fields[.guestRIP] = 0x7003
        regs.rcx = 0x1000
        XCTAssertEqual(crAccess(type: 0, register: .rcx), .resume)
        XCTAssertEqual(state.guestCR3, 0x1000)
        XCTAssertEqual(vmcs.written(.guestCR3), first)
        XCTAssertEqual(state.tables.statistics.rootHits, 1)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7006)
    }

    func testCR3LoadWithReservedBitsInLongModeIsGeneralProtection() {
        vmcs.setCR4(B.pae, mask: B.pae, shadow: B.pae)
        state.guestEFER = B.lme | B.lma
        vmcs.fields[.guestIA32EFER] = B.lme | B.lma
        vmcs.fields[.vmEntryControls] = UInt64(VMEntryControls.ia32eModeGuest.rawValue)
        GuestControlState.maxPhysicalAddressBits = 36
        regs.rax = 1 << 40 | 0x5000
        XCTAssertEqual(crAccess(type: 0, register: .rax), .resume)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(state.guestCR3, 0x1000)
        XCTAssertNil(vmcs.written(.guestCR3))
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testCR3StoreGivesTheGuestsValueInTheNamedRegister() {
        regs.rsi = 0xDEAD
        XCTAssertEqual(crAccess(type: 1, register: .rsi), .resume)
        XCTAssertEqual(regs.rsi, 0x1000)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)
        // RSP is the VMCS's.
        XCTAssertEqual(crAccess(type: 1, register: .rsp), .resume)
        XCTAssertEqual(vmcs.written(.guestRSP), 0x1000)
        XCTAssertNil(vmcs.written(.guestCR3), "the shadow root stays")
    }

    func testINVLPGDropsTheMappingAndCompletes() {
        XCTAssertEqual(pageFault(0x40_0000, []), .resume)
        XCTAssertNotEqual(leaf(0x40_0000), 0)
        vmcs.fields[.exitQualification] = 0x40_0123
        ShadowPagingExit.invlpg(vmcs, &state)
        XCTAssertEqual(leaf(0x40_0000) & 1, 0)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)
        XCTAssertEqual(state.tables.statistics.invalidations, 1)
    }

    func testEFERReadGivesTheGuestsOwnAndAWriteOfAReservedBitIsGeneralProtection() {
        state.guestEFER = B.nxe
        XCTAssertEqual(ShadowPagingExit.efer(vmcs, &regs, &state, memory: rig.ram.memory, write: false), .resume)
        XCTAssertEqual(regs.rax, B.nxe)
        XCTAssertEqual(regs.rdx, 0)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)
        regs.rax = 1 << 2
        XCTAssertEqual(ShadowPagingExit.efer(vmcs, &regs, &state, memory: rig.ram.memory, write: true), .resume)
        XCTAssertEqual(vmcs.injected, .hardwareException(vector: 13, hasErrorCode: true))
        XCTAssertEqual(state.guestEFER, B.nxe)
    }

    func testCPUIDHidesPCIDINVPCIDAndLA57() {
        var r = GuestRegisters()
        r.rcx = ~0
        ShadowPagingExit.adjustCPUID(&r, leaf: 1, subleaf: 0)
        XCTAssertEqual(r.rcx & (1 << 17), 0)
        r.rbx = ~0; r.rcx = ~0
        ShadowPagingExit.adjustCPUID(&r, leaf: 7, subleaf: 0)
        XCTAssertEqual(r.rbx & (1 << 10), 0)
        XCTAssertEqual(r.rcx & (1 << 16), 0)
        XCTAssertEqual(r.rcx | (1 << 16), ~0)
    }
}
