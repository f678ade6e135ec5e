import XCTest
@testable import Machine

/// A device space of 32-bit registers at 0x1000 (4 of them) that records every access.
struct RegisterBus: MMIOBus {
    var registers: [UInt64] = [0x1122_3344, 0, 0x8000_0080, 0]
    var writes: [(gpa: UInt64, size: Int, value: UInt64)] = []
    mutating func mmioRead(gpa: UInt64, size: Int) -> UInt64? {
        guard gpa >= 0x1000, gpa < 0x1010 else { return nil }
        return registers[Int(gpa - 0x1000) / 4] & MMIOInstruction.mask(size)
    }
    mutating func mmioWrite(gpa: UInt64, size: Int, value: UInt64) -> Bool {
        guard gpa >= 0x1000, gpa < 0x1010 else { return false }
        writes.append((gpa, size, value))
        registers[Int(gpa - 0x1000) / 4] = value
        return true
    }
    func mmioRegion(gpa: UInt64) -> UInt64? { gpa >= 0x1000 && gpa < 0x1010 ? 0x1000 : nil }
}

/// Decoded MMIO instructions carried out against a device: register results (with the
/// processor's write rules), RFLAGS for TEST/OR/AND, read-modify-writes, unclaimed addresses.
final class MMIOEmulationTests: XCTestCase {
    func decode(_ bytes: [UInt8]) -> MMIOInstruction {
        let d = bytes.withUnsafeBytes { MMIOInstructionDecoder.decode($0, mode: .bits64) }
        guard case .decoded(let insn) = d else { XCTFail("\(bytes) did not decode: \(d)"); fatalError() }
        return insn
    }

    func testLoadZeroExtendsA32BitRegister() {
        var bus = RegisterBus()
        let insn = decode([0x8B, 0x43, 0x00])                          // mov 0x0(%rbx),%eax
        let r = MMIOEmulation.perform(insn, gpa: 0x1000, registerValue: 0xFFFF_FFFF_0000_0000, rflags: 2, bus: &bus)
        XCTAssertEqual(r.register, 0x1122_3344)
        XCTAssertNil(r.rflags)
        XCTAssertTrue(r.claimed)
    }

    func testByteLoadKeepsTheRestOfTheRegister() {
        var bus = RegisterBus()
        let insn = decode([0x8A, 0x03])                                // mov (%rbx),%al
        let r = MMIOEmulation.perform(insn, gpa: 0x1000, registerValue: 0xAAAA_BBBB_CCCC_DD00, rflags: 2, bus: &bus)
        XCTAssertEqual(r.register, 0xAAAA_BBBB_CCCC_DD44)
    }

    func testStoreAndImmediateStore() {
        var bus = RegisterBus()
        _ = MMIOEmulation.perform(decode([0x89, 0x4B, 0x04]), gpa: 0x1004, registerValue: 0xDEAD_BEEF_0000_0042,
                                  rflags: 2, bus: &bus)                // mov %ecx,0x4(%rbx)
        XCTAssertEqual(bus.registers[1], 0x42)
        _ = MMIOEmulation.perform(decode([0xC7, 0x43, 0x0C, 0x78, 0x56, 0x34, 0x12]), gpa: 0x100C, registerValue: 0,
                                  rflags: 2, bus: &bus)                // movl $0x12345678,0xc(%rbx)
        XCTAssertEqual(bus.registers[3], 0x1234_5678)
    }

    func testTestSetsFlagsOnly() {
        var bus = RegisterBus()
        let insn = decode([0x85, 0x4B, 0x08])                          // test %ecx,0x8(%rbx)
        let set = MMIOEmulation.perform(insn, gpa: 0x1008, registerValue: 0x80, rflags: 0x2 | 0x40, bus: &bus)
        XCTAssertEqual(set.rflags.map { $0 & 0x40 }, 0, "ZF clear: bit 7 is set")
        let clear = MMIOEmulation.perform(insn, gpa: 0x1008, registerValue: 0x1, rflags: 0x2, bus: &bus)
        XCTAssertEqual(clear.rflags.map { $0 & 0x40 }, 0x40, "ZF set")
        XCTAssertNil(clear.register)
        XCTAssertTrue(bus.writes.isEmpty)
    }

    func testOrIntoMemoryIsAReadModifyWrite() {
        var bus = RegisterBus()
        let insn = decode([0x09, 0x4B, 0x08])                          // or %ecx,0x8(%rbx)
        let r = MMIOEmulation.perform(insn, gpa: 0x1008, registerValue: 0x100, rflags: 0x2, bus: &bus)
        XCTAssertEqual(bus.registers[2], 0x8000_0180)
        XCTAssertNil(r.register)
        XCTAssertEqual(r.rflags.map { $0 & 0x80 }, 0x80, "SF from bit 31 of the result")
    }

    func testExchangeSwaps() {
        var bus = RegisterBus()
        let insn = decode([0x87, 0x03])                                // xchg %eax,(%rbx)
        let r = MMIOEmulation.perform(insn, gpa: 0x1000, registerValue: 0x55, rflags: 2, bus: &bus)
        XCTAssertEqual(r.register, 0x1122_3344)
        XCTAssertEqual(bus.registers[0], 0x55)
    }

    func testUnclaimedAddressIsReported() {
        var bus = RegisterBus()
        let r = MMIOEmulation.perform(decode([0x8B, 0x03]), gpa: 0x2000, registerValue: 7, rflags: 2, bus: &bus)
        XCTAssertFalse(r.claimed)
        XCTAssertNil(r.register)
    }
}
