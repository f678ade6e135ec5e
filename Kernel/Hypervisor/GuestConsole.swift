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

/// Prints a guest's console lines. Control characters other than tab (and the
/// newline that ends the line) are shown as `\xNN`, so a guest cannot move the
/// cursor, clear the screen or forge another VM's "[name]" line; `passThrough`
/// (the focused VM in terminal mode, see Console) lets its bytes reach the
/// terminal as they are, colours and all.
///
/// In terminal mode the console also flushes the focused VM's unfinished line after every
/// turn (a prompt, the echo of each typed key): such a partial line is printed without a
/// line break, and the rest of the line follows it without a second prefix.
struct GuestLinePrinter: LineSink {
    var name: VMName
    var passThrough = false
    /// The VM's exit statistics: a complete line that begins with `SWIFTVISOR-MARK` is followed by
    /// "[name] mark: N VM exits, TSC T" (make bench times a phase of a guest's run with two marks).
    var stats: ExitStatistics? = nil
    /// A partial line was printed (pass-through only): the next bytes continue it.
    private(set) var midLine = false

    mutating func writeLine(_ line: UnsafeRawBufferPointer, complete: Bool) {
        if !midLine {
            Serial.write(UInt8(ascii: "["))
            name.write()
            Serial.write(UInt8(ascii: "]"))
            Serial.write(UInt8(ascii: " "))
        }
        for byte in line {
            if passThrough || (byte >= 0x20 && byte != 0x7F) || byte == 0x09 {
                Serial.write(byte)
            } else {
                Serial.write(UInt8(ascii: "\\"))
                Serial.write(UInt8(ascii: "x"))
                Serial.write(Self.hexDigit(byte >> 4))
                Serial.write(Self.hexDigit(byte & 0x0F))
            }
        }
        if complete || !passThrough {
            Serial.write(UInt8(ascii: "\n"))
            midLine = false
        } else {
            midLine = true
        }
        if complete, let stats, Self.isMark(line) { writeMark(stats.total, rdtsc()) }
    }

    private static func isMark(_ line: UnsafeRawBufferPointer) -> Bool {
        let mark: StaticString = "SWIFTVISOR-MARK"
        guard line.count >= mark.utf8CodeUnitCount else { return false }
        for i in 0..<mark.utf8CodeUnitCount where line[i] != mark.utf8Start[i] { return false }
        return true
    }

    /// "[name] mark: EXITS VM exits, TSC TSC" without allocating (the exit path prints it).
    private func writeMark(_ exits: UInt64, _ tsc: UInt64) {
        Serial.write(UInt8(ascii: "["))
        name.write()
        for byte in "] mark: ".utf8 { Serial.write(byte) }
        Self.writeDecimal(exits)
        for byte in " VM exits, TSC ".utf8 { Serial.write(byte) }
        Self.writeDecimal(tsc)
        Serial.write(UInt8(ascii: "\n"))
    }

    private static func writeDecimal(_ value: UInt64) {
        var digits = InlineArray<20, UInt8>(repeating: 0)
        var n = value, count = 0
        repeat {
            digits[count] = UInt8(ascii: "0") + UInt8(n % 10)
            n /= 10
            count += 1
        } while n > 0
        while count > 0 {
            count -= 1
            Serial.write(digits[count])
        }
    }

    /// Ends a partial line (the VM lost the focus or terminal mode ended).
    mutating func endPartialLine() {
        if midLine { Serial.write(UInt8(ascii: "\n")); midLine = false }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
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
