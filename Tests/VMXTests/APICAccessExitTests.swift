import XCTest
import X86
import VTx
import Machine
@testable import VMX

final class APICAccessExitTests: XCTestCase {
    let base: UInt64 = 0xFEE0_0000
    let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
    let ram = ShadowTestRAM(size: 0x10_0000)

    override func setUp() { page.initializeMemory(as: UInt8.self, repeating: 0, count: 4096) }
    override func tearDown() { page.deallocate() }

    func testAPICWriteGivesTheModelTheRegisterFromThePage() {
        let vmcs = FakeVMCS(rip: 0x5000, length: 2)
        page.storeBytes(of: UInt32(0), toByteOffset: 0xB0, as: UInt32.self)
        page.storeBytes(of: UInt32(0x1_00FF), toByteOffset: 0x320, as: UInt32.self)
        var bus = RecordingMMIOBus()
        vmcs.fields[.exitQualification] = 0x320                      // LVT timer
        APICAccessExit.write(vmcs, page: page, apicBase: base, bus: &bus)
        XCTAssertEqual(bus.writes.map(\.gpa), [base + 0x320])
        XCTAssertEqual(bus.writes.first?.value, 0x1_00FF)
        XCTAssertEqual(bus.writes.first?.size, 4)
        XCTAssertTrue(vmcs.writes.isEmpty)                           // trap-like: RIP is already past it
    }

    func testAnICRWriteSendsTheHighHalfFirst() {
        let vmcs = FakeVMCS(rip: 0x5000, length: 2)
        page.storeBytes(of: UInt32(0x0300_0000), toByteOffset: 0x310, as: UInt32.self)   // destination APIC 3
        page.storeBytes(of: UInt32(0x4041), toByteOffset: 0x300, as: UInt32.self)        // fixed, vector 0x41
        vmcs.fields[.exitQualification] = 0x300
        var bus = RecordingMMIOBus()
        APICAccessExit.write(vmcs, page: page, apicBase: base, bus: &bus)
        XCTAssertEqual(bus.writes.map(\.gpa), [base + 0x310, base + 0x300])
        XCTAssertEqual(bus.writes.map(\.value), [0x0300_0000, 0x4041])
    }

    func testAPICAccessReadIsEmulatedAgainstTheModel() {
        let vmcs = FakeVMCS(rip: 0x7000, length: 0)
        vmcs.setCR0(0x21)
        vmcs.fields[.guestCSAccessRights] = 0xC09B
        ram.memory.store(UInt8(0x8B), gpa: 0x7000)                   // mov eax, [ebx]
        ram.memory.store(UInt8(0x03), gpa: 0x7001)
        vmcs.fields[.exitQualification] = 0x0A0                      // linear read (type 0) of the PPR
        let (gpa, emulate) = APICAccessExit.linearAccess(vmcs, apicBase: base)
        XCTAssertEqual(gpa, base + 0xA0)
        XCTAssertTrue(emulate)
        var regs = GuestRegisters()
        regs.rbx = base + 0xA0                                       // the operand: the PPR (no paging)
        var bus = RecordingMMIOBus()
        bus.readValue = 0x20
        XCTAssertNil(MMIOExit.handle(vmcs, &regs, gpa: gpa, memory: ram.memory, bus: &bus))
        XCTAssertEqual(bus.reads.map(\.gpa), [base + 0xA0])
        XCTAssertEqual(regs.rax, 0x20)
        XCTAssertEqual(vmcs.written(.guestRIP), 0x7002)
    }

    func testOnlyLinearAccessesAreEmulated() {
        for (type, linear) in [(UInt64(0), true), (1, true), (2, false), (3, false), (10, false), (15, false)] {
            let vmcs = FakeVMCS(rip: 0x7000, length: 0)
            vmcs.fields[.exitQualification] = type << 12 | 0x80     // 2 during event delivery, 10/15 guest-physical
            let (gpa, emulate) = APICAccessExit.linearAccess(vmcs, apicBase: base)
            XCTAssertEqual(gpa, base + 0x80)
            XCTAssertEqual(emulate, linear, "type \(type)")
            XCTAssertTrue(vmcs.writes.isEmpty)
        }
    }
}
