import Machine

// Where a guest's console output goes: the hypervisor's COM1, one line at a
// time, prefixed with the VM's name ("[hello] ..."). Allocation-free: it runs
// on the exit path of every OUT to the guest's UART.

/// A VM name in a fixed buffer (no String, no reference counting on the exit path).
struct VMName {
    private var bytes: (UInt64, UInt64) = (0, 0)
    private(set) var count = 0

    init(_ name: Substring) {
        withUnsafeMutableBytes(of: &bytes) { buffer in
            for byte in name.utf8.prefix(16) { buffer[count] = byte; count += 1 }
        }
    }

    func write() {
        withUnsafeBytes(of: bytes) { buffer in
            for i in 0..<count { Serial.write(buffer[i]) }
        }
    }

    var string: String {
        withUnsafeBytes(of: bytes) { String(decoding: UnsafeRawBufferPointer(rebasing: $0[0..<count]), as: UTF8.self) }
    }
}

struct GuestLinePrinter: LineSink {
    var name: VMName

    mutating func writeLine(_ line: UnsafeRawBufferPointer, complete: Bool) {
        Serial.write(UInt8(ascii: "["))
        name.write()
        Serial.write(UInt8(ascii: "]"))
        Serial.write(UInt8(ascii: " "))
        for byte in line { Serial.write(byte) }
        Serial.write(UInt8(ascii: "\n"))
    }
}

typealias GuestOutput = LineBuffer<GuestLinePrinter>

/// The hypercall console: console writes share a line buffer; test verdicts are
/// printed as "[name] PASS 3 name" / "[name] FAIL 3 name" and tallied.
struct GuestHypercallConsole: HypercallConsole {
    var output: GuestOutput
    var passed = 0, failed = 0

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { output.put(byte) }
    }

    mutating func testResult(number: UInt64, passed: Bool, name: UnsafeRawBufferPointer) {
        output.flush()
        if passed { self.passed += 1 } else { failed += 1 }
        for byte in (passed ? "PASS " : "FAIL ").utf8 { output.put(byte) }
        output.putDecimal(number)
        if name.count > 0 {
            output.put(UInt8(ascii: " "))
            for byte in name { output.put(byte) }
        }
        output.put(UInt8(ascii: "\n"))
    }
}
