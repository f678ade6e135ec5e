import XCTest
@testable import Machine
import X86

/// A port that records OUT values and returns a counting sequence for IN.
struct SequencePorts: StringIOPorts {
    var outputs: [(port: UInt16, size: Int, value: UInt32)] = []
    var next: UInt32 = 0x0100
    var inputs = 0
    mutating func input(port: UInt16, size: Int) -> UInt32 {
        inputs += 1
        defer { next &+= 0x0101 }
        return next
    }
    mutating func output(port: UInt16, size: Int, value: UInt32) { outputs.append((port, size, value)) }
}

/// INS/OUTS semantics (SDM Vol. 2B): element sizes, REP counts, DF, address sizes, segments,
/// paging, faults part-way with the registers showing the progress made.
final class StringIOTests: XCTestCase {
    let noPaging = GuestPagingState(cr0: CR0.pe.rawValue, cr3: 0, cr4: 0, efer: 0)

    func testRepInswFillsTheBufferAndUpdatesRegisters() {
        let ram = TestRAM(size: 64 << 10)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 2, port: 0x1F0, repeated: true, addressSize: 64,
                                     index: 0x2000, count: 256)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertTrue(out.complete)
        XCTAssertNil(out.fault)
        XCTAssertEqual(out.transferred, 256)
        XCTAssertEqual(out.index, 0x2200)
        XCTAssertEqual(out.count, 0)
        XCTAssertEqual(ports.inputs, 256)
        XCTAssertEqual(ram.memory.load(UInt16.self, gpa: 0x2000), 0x0100)
        XCTAssertEqual(ram.memory.load(UInt16.self, gpa: 0x2002), 0x0201)
    }

    func testOutsbBackwardsWithDF() {
        let ram = TestRAM(size: 8192)
        ram.put("ABCD", at: 0x100)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: false, size: 1, port: 0xE9, repeated: true, addressSize: 32,
                                     index: 0x103, count: 4, directionDown: true)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertEqual(ports.outputs.map { UInt8($0.value) }, Array("DCBA".utf8))
        XCTAssertEqual(out.index, 0xFF)
        XCTAssertEqual(out.count, 0)
    }

    func testNonRepeatedOutsdWithSegmentBase() {
        let ram = TestRAM(size: 8192)
        ram.memory.store(UInt32(0xCAFE_F00D), gpa: 0x1010)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: false, size: 4, port: 0x80, repeated: false, addressSize: 32,
                                     segmentBase: 0x1000, segmentLimit: 0xFFFF, index: 0x10, count: 77)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertEqual(ports.outputs.first?.value, 0xCAFE_F00D)
        XCTAssertEqual(out.index, 0x14)
        XCTAssertEqual(out.count, 77, "RCX is untouched without REP")
        XCTAssertTrue(out.complete)
    }

    func test16BitAddressSizeWrapsAndKeepsUpperBits() {
        let ram = TestRAM(size: 128 << 10)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 1, port: 0x60, repeated: true, addressSize: 16,
                                     index: 0xABCD_0000_0000_FFFF, count: 0x1234_0000_0000_0002)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertEqual(out.index, 0xABCD_0000_0000_0001, "DI wraps at 64 KiB, bits 63:16 kept")
        XCTAssertEqual(out.count, 0x1234_0000_0000_0000)
        XCTAssertEqual(ram.memory.load(UInt8.self, gpa: 0xFFFF), 0x00)
        XCTAssertEqual(ram.memory.load(UInt8.self, gpa: 0x0000), 0x01)
    }

    func testSegmentLimitViolationIsGeneralProtectionBeforeAnyIO() {
        let ram = TestRAM(size: 8192)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 2, port: 0x1F0, repeated: true, addressSize: 32,
                                     segmentLimit: 0x0FFF, index: 0x0FFE, count: 2)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertEqual(out.transferred, 1)
        XCTAssertEqual(out.fault, .generalProtection)
        XCTAssertEqual(out.index, 0x1000)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(ports.inputs, 1, "the faulting element never reached the port")
        XCTAssertFalse(out.complete)
    }

    func testPageFaultPartWayLeavesProgressInRegisters() {
        // 4-level paging: linear 0x40_0000 maps to 0x5000; 0x40_1000 is not present.
        let ram = TestRAM(size: 1 << 20)
        ram.memory.store(UInt64(0x2007), gpa: 0x1000)
        ram.memory.store(UInt64(0x3007), gpa: 0x2000)
        ram.memory.store(UInt64(0x4007), gpa: 0x3000 + 2 * 8)
        ram.memory.store(UInt64(0x5007), gpa: 0x4000)
        let paging = GuestPagingState(cr0: CR0.pe.rawValue | CR0.pg.rawValue, cr3: 0x1000, cr4: CR4.pae.rawValue,
                                      efer: EFER.lme.rawValue | EFER.lma.rawValue)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 2, port: 0x1F0, repeated: true, addressSize: 64,
                                     index: 0x40_0FFC, count: 4, user: true)
        let out = StringIO.run(op, paging: paging, memory: ram.memory, ports: &ports)
        XCTAssertEqual(out.transferred, 2)
        XCTAssertEqual(out.fault, .pageFault(linear: 0x40_1000, code: [.write, .user]))
        XCTAssertEqual(out.index, 0x40_1000)
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(ram.memory.load(UInt16.self, gpa: 0x5FFC), 0x0100)
        XCTAssertEqual(ports.inputs, 2)
    }

    func testElementStraddlingTwoPagesGoesToBothFrames() {
        // 32-bit paging: linear 0x0000 → 0x3000, 0x1000 → 0x8000 (not contiguous).
        let ram = TestRAM(size: 64 << 10)
        ram.memory.store(UInt32(0x2003), gpa: 0x1000)
        ram.memory.store(UInt32(0x3003), gpa: 0x2000)
        ram.memory.store(UInt32(0x8003), gpa: 0x2004)
        let paging = GuestPagingState(cr0: CR0.pe.rawValue | CR0.pg.rawValue, cr3: 0x1000, cr4: 0, efer: 0)
        var ports = SequencePorts()
        ports.next = 0x4433_2211
        let op = StringIOInstruction(isIn: true, size: 4, port: 0x1F0, repeated: false, addressSize: 32, index: 0xFFE)
        let out = StringIO.run(op, paging: paging, memory: ram.memory, ports: &ports)
        XCTAssertNil(out.fault)
        XCTAssertEqual(ram.memory.load(UInt16.self, gpa: 0x3FFE), 0x2211)
        XCTAssertEqual(ram.memory.load(UInt16.self, gpa: 0x8000), 0x4433)
    }

    func testBufferOutsideRAMIsReported() {
        let ram = TestRAM(size: 8192)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 2, port: 0x1F0, repeated: true, addressSize: 64,
                                     index: 0x1FFE, count: 3)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertEqual(out.transferred, 1)
        XCTAssertEqual(out.fault, .outsideRAM(gpa: 0x2000))
    }

    func testNonCanonicalAddressIsGeneralProtection() {
        let ram = TestRAM(size: 8192)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: false, size: 1, port: 0xE9, repeated: false, addressSize: 64,
                                     index: 0x0000_8000_0000_0000)
        XCTAssertEqual(StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports).fault, .generalProtection)
    }

    func testLongRepIsBatched() {
        let ram = TestRAM(size: 1 << 20)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 1, port: 0x60, repeated: true, addressSize: 64,
                                     index: 0, count: 100)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports, maxIterations: 40)
        XCTAssertEqual(out.transferred, 40)
        XCTAssertEqual(out.count, 60)
        XCTAssertEqual(out.index, 40)
        XCTAssertFalse(out.complete, "RIP stays on the instruction for the next batch")
        XCTAssertNil(out.fault)
    }

    func testRepWithZeroCountDoesNothing() {
        let ram = TestRAM(size: 8192)
        var ports = SequencePorts()
        let op = StringIOInstruction(isIn: true, size: 2, port: 0x1F0, repeated: true, addressSize: 64, index: 0x100, count: 0)
        let out = StringIO.run(op, paging: noPaging, memory: ram.memory, ports: &ports)
        XCTAssertTrue(out.complete)
        XCTAssertEqual(ports.inputs, 0)
    }
}
