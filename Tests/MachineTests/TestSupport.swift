import Machine

/// A sink that remembers every byte.
struct RecordingSink: ByteSink {
    var bytes: [UInt8] = []
    mutating func put(_ byte: UInt8) { bytes.append(byte) }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A line sink that remembers every line and whether it was complete.
struct RecordingLines: LineSink {
    var lines: [(text: String, complete: Bool)] = []
    mutating func writeLine(_ line: UnsafeRawBufferPointer, complete: Bool) {
        lines.append((String(decoding: line, as: UTF8.self), complete))
    }
}

/// A hypercall console that remembers what it was given.
struct RecordingConsole: HypercallConsole {
    var written: [UInt8] = []
    var writeCalls = 0
    var results: [(number: UInt64, passed: Bool, name: String)] = []
    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        writeCalls += 1
        written.append(contentsOf: bytes)
    }
    mutating func testResult(number: UInt64, passed: Bool, name: UnsafeRawBufferPointer) {
        results.append((number, passed, String(decoding: name, as: UTF8.self)))
    }
}

/// Host memory standing in for a guest's RAM.
final class TestRAM {
    let pointer: UnsafeMutableRawPointer
    let memory: GuestMemory

    init(size: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 4096)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(size, 1))
        memory = GuestMemory(base: pointer, size: UInt64(size))
    }

    deinit { pointer.deallocate() }

    func put(_ text: String, at gpa: Int) {
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            pointer.storeBytes(of: byte, toByteOffset: gpa + index, as: UInt8.self)
        }
    }

    func put(_ bytes: [UInt8], at gpa: Int) {
        for (index, byte) in bytes.enumerated() {
            pointer.storeBytes(of: byte, toByteOffset: gpa + index, as: UInt8.self)
        }
    }
}
