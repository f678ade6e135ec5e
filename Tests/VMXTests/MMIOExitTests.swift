import XCTest
import X86
import VTx
import Machine
@testable import VMX

/// A device page for MMIOExit: reads answer `readValue` (nil: nothing there), writes are recorded.
struct RecordingMMIOBus: MMIOBus {
    var reads: [(gpa: UInt64, size: Int)] = []
    var writes: [(gpa: UInt64, size: Int, value: UInt64)] = []
    var readValue: UInt64? = 0x1122_3344_5566_7788
    var answers = true
    mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64? {
        reads.append((gpa, size))
        return answers ? readValue : nil
    }
    mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool {
        writes.append((gpa, size, value))
        return answers
    }
}

final class MMIOExitTests: XCTestCase {
    let ram = ShadowTestRAM(size: 0x10_0000)
    let device: UInt64 = 0xFEC0_0010

    /// The EPT violation of an instruction at 0x7000: 32-bit flat protected mode without paging
    /// (CS.D = 1), or 64-bit mode on identity-mapped 1 GiB pages (PML4 0x1000, PDPT 0x2000).
    func makeVMCS(_ code: [UInt8], longMode: Bool = false) -> FakeVMCS {
        for (i, b) in code.enumerated() { ram.memory.store(b, gpa: 0x7000 + UInt64(i)) }
        let vmcs = FakeVMCS(rip: 0x7000, length: 0)       // EPT violations report no length
        vmcs.fields[.guestPhysicalAddress] = device
        if longMode {
            ram.put64(0x2000 | 0x7, 0x1000)
            ram.put64(0x0 | 0x87, 0x2000)                 // 1 GiB page at 0
            ram.put64(0xC000_0000 | 0x87, 0x2018)         // and the device's
            vmcs.setCR0(0x8000_0031)
            vmcs.setCR4(0x20)                             // PAE
            vmcs.fields[.guestCR3] = 0x1000
            vmcs.fields[.guestIA32EFER] = 0x500           // LME | LMA
            vmcs.fields[.guestCSAccessRights] = 0xA09B    // L = 1
        } else {
            vmcs.setCR0(0x21)
            vmcs.fields[.guestCSAccessRights] = 0xC09B    // D = 1
        }
        return vmcs
    }

    func testAStoreReachesTheDeviceAndRIPMovesPastIt() {
        let vmcs = makeVMCS([0x89, 0x03])                 // mov [ebx], eax
        vmcs.fields[.guestInterruptibilityState] = 1     // blocking by STI ends with this instruction
        var regs = GuestRegisters()
        regs.rax = 0xAAAA_BBBB_CCCC_DDDD
        regs.rbx = device
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.writes.count, 1)
        XCTAssertEqual(bus.writes.first?.gpa, device)
        XCTAssertEqual(bus.writes.first?.size, 4)
        XCTAssertEqual(bus.writes.first?.value, 0xCCCC_DDDD)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
        XCTAssertEqual(vmcs.written(.guestInterruptibilityState), 0)
    }

    func testALoadFillsTheRegisterZeroExtended() {
        let vmcs = makeVMCS([0x8B, 0x0B])                 // mov ecx, [ebx]
        var regs = GuestRegisters()
        regs.rcx = 0xFFFF_FFFF_FFFF_FFFF
        var bus = RecordingMMIOBus()
        bus.readValue = 0xFEED_BEEF
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.reads.first?.size, 4)
        XCTAssertEqual(regs.rcx, 0xFEED_BEEF)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
    }

    func testSixtyFourBitModeFetchesThroughTheGuestsPagingAndReachesR8AndRSP() {
        let vmcs = makeVMCS([0x4C, 0x8B, 0x03], longMode: true)      // mov r8, [rbx]
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.reads.first?.size, 8)
        XCTAssertEqual(regs.r8, 0x1122_3344_5566_7788)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7003)

        let store = makeVMCS([0x48, 0x89, 0x23], longMode: true)    // mov [rbx], rsp (RSP is in the VMCS)
        store.fields[.guestRSP] = 0x9_0000
        var bus2 = RecordingMMIOBus()
        XCTAssertNil(MMIOExit.handle(store, &regs, gpa: device, memory: ram.memory, bus: &bus2))
        XCTAssertEqual(bus2.writes.first?.value, 0x9_0000)
        XCTAssertEqual(bus2.writes.first?.size, 8)
    }

    func testDuringEventDeliveryIsRefused() {
        let vmcs = makeVMCS([0x89, 0x03])
        vmcs.fields[.idtVectoringInformation] = UInt64(InterruptionInfo.hardwareException(vector: 14, hasErrorCode: true).rawValue)
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .duringEventDelivery)
        XCTAssertTrue(bus.writes.isEmpty)
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnInstructionTheDecoderDoesNotKnow() {
        let vmcs = makeVMCS([0x0F, 0x0B])                 // ud2
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        guard case .undecodable = MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus) else {
            return XCTFail("expected undecodable")
        }
        XCTAssertNil(vmcs.written(.guestRIP))
    }

    func testAnUnmappedRIPIsAFetchFault() {
        let vmcs = makeVMCS([0x89, 0x03])
        vmcs.setCR0(0x8000_0021)                          // 32-bit paging, an empty page directory
        vmcs.fields[.guestCR3] = 0x3000
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .fetchFault)
    }

    func testInstructionCutShortAtTheEndOfRAM() {
        let vmcs = makeVMCS([])
        ram.memory.store(UInt8(0x89), gpa: 0xF_FFFF)       // the ModR/M byte would be past RAM
        vmcs.fields[.guestRIP] = 0xF_FFFF
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .incomplete)
    }

    func testADeviceThatDoesNotAnswer() {
        let vmcs = makeVMCS([0x89, 0x03])
        var regs = GuestRegisters()
        var bus = RecordingMMIOBus()
        bus.answers = false
        XCTAssertEqual(MMIOExit.handle(vmcs, &regs, gpa: device, memory: ram.memory, bus: &bus), .notDevice)
        XCTAssertNil(vmcs.written(.guestRIP))
    }
}
