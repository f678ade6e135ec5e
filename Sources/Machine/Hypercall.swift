// The hypercall ABI (docs/hypercalls.md): function numbers, limits, and the
// dispatcher shared by the bare-metal and hosted engines.

/// A hypercall function, decoded from RAX.
public enum Hypercall: UInt64, Sendable {
    case version = 0
    case consoleWrite = 1
    case testResult = 2
    case shutdown = 3
    case putChar = 4

    public static let abiMajor: UInt64 = 0
    public static let abiMinor: UInt64 = 1
    /// "SV" in the top bytes, then major << 16 | minor.
    public static let versionValue: UInt64 = 0x5356_0000_0000_0000 | abiMajor << 16 | abiMinor
    /// The largest `consoleWrite` length.
    public static let consoleWriteLimit: UInt64 = 4096
    /// The largest `testResult` name length.
    public static let testNameLimit: UInt64 = 128

    /// Performs the hypercall in `regs` and writes its result to `regs.rax`
    /// (except for `shutdown`, which leaves RAX as it was).
    ///
    /// Argument checks, in order: function number (-1); for `testResult` the
    /// verdict in RCX must be 0 or 1 (-4); a length over its limit (-3); a
    /// buffer outside RAM (-2); a `testResult` name containing NUL (-4);
    /// a `putChar` byte above 0xFF (-4). Every guest buffer is checked with
    /// `memory` before it is read; nothing traps on guest input.
    @inline(__always)
    public static func handle<C: HypercallConsole>(
        _ regs: inout HypercallRegisters, memory: GuestMemory, console: inout C
    ) -> HypercallOutcome {
        guard let call = Hypercall(rawValue: regs.rax) else {
            regs.rax = HypercallError.unknownFunction.registerValue
            return .resume
        }
        switch call {
        case .version:
            regs.rax = versionValue
            return .resume
        case .consoleWrite:
            do throws(HypercallError) {
                regs.rax = try consoleWrite(gpa: regs.rbx, length: regs.rcx, memory: memory, console: &console)
            } catch {
                regs.rax = error.registerValue
            }
            return .resume
        case .testResult:
            let number = regs.rbx
            let verdict = regs.rcx
            do throws(HypercallError) {
                try testResult(
                    number: number, verdict: verdict, nameGPA: regs.rdx, nameLength: regs.rsi,
                    memory: memory, console: &console)
            } catch {
                regs.rax = error.registerValue
                return .resume
            }
            regs.rax = 0
            return .testResult(number: number, passed: verdict == 0)
        case .shutdown:
            return .shutdown(code: regs.rbx)
        case .putChar:
            guard regs.rbx <= 0xFF else {
                regs.rax = HypercallError.badArgument.registerValue
                return .resume
            }
            var byte = UInt8(truncatingIfNeeded: regs.rbx)
            withUnsafeBytes(of: &byte) { console.write($0) }
            regs.rax = 0
            return .resume
        }
    }

    /// Returns the number of bytes written.
    private static func consoleWrite<C: HypercallConsole>(
        gpa: UInt64, length: UInt64, memory: GuestMemory, console: inout C
    ) throws(HypercallError) -> UInt64 {
        guard length <= consoleWriteLimit else { throw .badLength }
        guard let bytes = memory.bytes(gpa: gpa, length: length) else { throw .badAddress }
        if length > 0 { console.write(bytes) }
        return length
    }

    private static func testResult<C: HypercallConsole>(
        number: UInt64, verdict: UInt64, nameGPA: UInt64, nameLength: UInt64,
        memory: GuestMemory, console: inout C
    ) throws(HypercallError) {
        guard verdict <= 1 else { throw .badArgument }
        guard nameLength <= testNameLimit else { throw .badLength }
        guard let name = memory.bytes(gpa: nameGPA, length: nameLength) else { throw .badAddress }
        for byte in name where byte == 0 { throw .badArgument }
        console.testResult(number: number, passed: verdict == 0, name: name)
    }
}
