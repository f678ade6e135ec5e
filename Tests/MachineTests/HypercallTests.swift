import XCTest
import Machine

final class HypercallTests: XCTestCase {
    let ram = TestRAM(size: 0x4000)
    var console = RecordingConsole()

    private func call(
        _ rax: UInt64, _ rbx: UInt64 = 0, _ rcx: UInt64 = 0, _ rdx: UInt64 = 0, _ rsi: UInt64 = 0
    ) -> (HypercallRegisters, HypercallOutcome) {
        var regs = HypercallRegisters(rax: rax, rbx: rbx, rcx: rcx, rdx: rdx, rsi: rsi)
        let outcome = Hypercall.handle(&regs, memory: ram.memory, console: &console)
        return (regs, outcome)
    }

    private func error(_ value: UInt64) -> HypercallError? { HypercallError(registerValue: value) }

    func testVersion() {
        let (regs, outcome) = call(0)
        XCTAssertEqual(regs.rax, 0x5356_0000_0000_0001)
        XCTAssertEqual(Hypercall.versionValue, 0x5356_0000_0000_0001)
        XCTAssertEqual(outcome, .resume)
        XCTAssertEqual(regs.rbx, 0)
    }

    func testUnknownFunction() {
        for number: UInt64 in [5, 99, UInt64.max, 0x8000_0000_0000_0000] {
            let (regs, outcome) = call(number, 0x100, 4)
            XCTAssertEqual(regs.rax, UInt64(bitPattern: -1))
            XCTAssertEqual(outcome, .resume)
        }
        XCTAssertTrue(console.written.isEmpty)
    }

    func testErrorValues() {
        XCTAssertEqual(HypercallError.unknownFunction.registerValue, 0xFFFF_FFFF_FFFF_FFFF)
        XCTAssertEqual(HypercallError.badAddress.registerValue, 0xFFFF_FFFF_FFFF_FFFE)
        XCTAssertEqual(HypercallError.badLength.registerValue, 0xFFFF_FFFF_FFFF_FFFD)
        XCTAssertEqual(HypercallError.badArgument.registerValue, 0xFFFF_FFFF_FFFF_FFFC)
        XCTAssertNil(HypercallError(registerValue: 0))
    }

    func testConsoleWriteWritesExactlyTheBytes() {
        ram.put("Hello, world!\nXYZ", at: 0x2000)
        let (regs, outcome) = call(1, 0x2000, 14)
        XCTAssertEqual(regs.rax, 14)
        XCTAssertEqual(outcome, .resume)
        XCTAssertEqual(console.written, Array("Hello, world!\n".utf8))
        XCTAssertEqual(console.writeCalls, 1)
    }

    func testConsoleWriteLimits() {
        ram.put([UInt8](repeating: 0x41, count: 4096), at: 0)
        XCTAssertEqual(call(1, 0, 4096).0.rax, 4096, "exactly the limit")
        XCTAssertEqual(console.written.count, 4096)
        XCTAssertEqual(error(call(1, 0, 4097).0.rax), .badLength)
        XCTAssertEqual(error(call(1, 0x100, 5000).0.rax), .badLength)
        XCTAssertEqual(error(call(1, 0x100, UInt64.max).0.rax), .badLength)
        XCTAssertEqual(console.written.count, 4096, "failed calls write nothing")
    }

    func testConsoleWriteBadAddresses() {
        XCTAssertEqual(error(call(1, 0xFFFF_FFFF_FFFF_F000, 16).0.rax), .badAddress)
        XCTAssertEqual(error(call(1, 0x3FF8, 9).0.rax), .badAddress, "one byte past the end of RAM")
        XCTAssertEqual(error(call(1, 0x4000, 1).0.rax), .badAddress)
        XCTAssertEqual(error(call(1, UInt64.max, 1).0.rax), .badAddress)
        XCTAssertEqual(error(call(1, UInt64.max - 2, 4).0.rax), .badAddress, "gpa + length wraps")
        XCTAssertEqual(call(1, 0x3FF8, 8).0.rax, 8, "the last bytes of RAM")
        XCTAssertEqual(console.written.count, 8)
    }

    func testConsoleWriteZeroLength() {
        XCTAssertEqual(call(1, 0x100, 0).0.rax, 0)
        XCTAssertEqual(console.writeCalls, 0)
        XCTAssertEqual(error(call(1, 0xFFFF_FFFF_FFFF_F000, 0).0.rax), .badAddress)
    }

    func testTestResultPassAndFail() {
        ram.put("cpuid leaf 0", at: 0x300)
        var (regs, outcome) = call(2, 7, 0, 0x300, 12)
        XCTAssertEqual(regs.rax, 0)
        XCTAssertEqual(outcome, .testResult(number: 7, passed: true))
        (regs, outcome) = call(2, 8, 1, 0x300, 5)
        XCTAssertEqual(regs.rax, 0)
        XCTAssertEqual(outcome, .testResult(number: 8, passed: false))
        (regs, outcome) = call(2, 9, 0, 0xFFFF_FFFF_FFFF_F000, 0)
        XCTAssertEqual(error(regs.rax), .badAddress, "even an empty name needs a valid address")
        (regs, outcome) = call(2, 9, 0, 0x4000, 0)
        XCTAssertEqual(regs.rax, 0, "an empty name at the end of RAM")
        XCTAssertEqual(console.results.count, 3)
        XCTAssertEqual(console.results[0].number, 7)
        XCTAssertTrue(console.results[0].passed)
        XCTAssertEqual(console.results[0].name, "cpuid leaf 0")
        XCTAssertEqual(console.results[1].name, "cpuid")
        XCTAssertFalse(console.results[1].passed)
        XCTAssertEqual(console.results[2].name, "")
        XCTAssertTrue(console.written.isEmpty)
    }

    func testTestResultErrors() {
        ram.put("name\0with nul", at: 0x300)
        XCTAssertEqual(error(call(2, 1, 2, 0x300, 4).0.rax), .badArgument, "verdict must be 0 or 1")
        XCTAssertEqual(error(call(2, 1, 0, 0x300, 129).0.rax), .badLength)
        XCTAssertEqual(call(2, 1, 0, 0x300, 4).0.rax, 0, "128 is fine, 4 too")
        XCTAssertEqual(error(call(2, 1, 0, 0xFFFF_FFFF_FFFF_F000, 16).0.rax), .badAddress)
        XCTAssertEqual(error(call(2, 1, 0, 0x3FFF, 2).0.rax), .badAddress)
        XCTAssertEqual(error(call(2, 1, 0, 0x300, 9).0.rax), .badArgument, "a NUL in the name")
        let (regs, outcome) = call(2, 1, 0, 0x300, 129)
        XCTAssertEqual(outcome, .resume, "a rejected result is not reported")
        XCTAssertEqual(error(regs.rax), .badLength)
        XCTAssertEqual(console.results.count, 1)
    }

    func testTestNameLimitIsInclusive() {
        ram.put([UInt8](repeating: 0x6E, count: 128), at: 0x400)
        XCTAssertEqual(call(2, 3, 0, 0x400, 128).0.rax, 0)
        XCTAssertEqual(console.results.last?.name.utf8.count, 128)
    }

    func testShutdown() {
        let (regs, outcome) = call(3, 42)
        XCTAssertEqual(outcome, .shutdown(code: 42))
        XCTAssertEqual(regs.rax, 3, "RAX is left alone: the call does not return")
        XCTAssertEqual(call(3, UInt64.max).1, .shutdown(code: UInt64.max))
    }

    func testPutChar() {
        XCTAssertEqual(call(4, 0x41).0.rax, 0)
        XCTAssertEqual(call(4, 0x0A).0.rax, 0)
        XCTAssertEqual(call(4, 0xFF).0.rax, 0)
        XCTAssertEqual(error(call(4, 0x100).0.rax), .badArgument)
        XCTAssertEqual(console.written, [0x41, 0x0A, 0xFF])
    }

    func testOtherRegistersArePreserved() {
        ram.put("x", at: 0x10)
        let (regs, _) = call(1, 0x10, 1, 0xDEAD, 0xBEEF)
        XCTAssertEqual(regs, HypercallRegisters(rax: 1, rbx: 0x10, rcx: 1, rdx: 0xDEAD, rsi: 0xBEEF))
    }

    func testDecoding() {
        XCTAssertEqual(Hypercall(rawValue: 0), .version)
        XCTAssertEqual(Hypercall(rawValue: 1), .consoleWrite)
        XCTAssertEqual(Hypercall(rawValue: 2), .testResult)
        XCTAssertEqual(Hypercall(rawValue: 3), .shutdown)
        XCTAssertEqual(Hypercall(rawValue: 4), .putChar)
        XCTAssertNil(Hypercall(rawValue: 99))
    }
}
