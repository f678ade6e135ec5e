// Collects console output into whole lines so the host can print each guest
// line with a prefix such as "[hello] ".

/// Receives the lines a `LineBuffer` flushes.
public protocol LineSink {
    /// `line` excludes the terminating "\n" (and a "\r" right before it).
    /// `complete` is true when the line ended with "\n", false when it was
    /// flushed because the buffer filled up or `flush()` was called.
    /// The buffer is only valid for the duration of the call.
    mutating func writeLine(_ line: UnsafeRawBufferPointer, complete: Bool)
}

/// A fixed-capacity (256-byte) line assembler; a `ByteSink`, so it can be a
/// UART's or the debug port's output directly. Never allocates.
public struct LineBuffer<Output: LineSink>: ByteSink {
    public static var capacity: Int { 256 }

    public var output: Output
    private var storage = InlineArray<256, UInt8>(repeating: 0)
    /// Bytes currently buffered (an unfinished line).
    public private(set) var count = 0

    public init(output: Output) {
        self.output = output
    }

    public mutating func put(_ byte: UInt8) {
        if byte == 0x0A {  // '\n'
            if count > 0 && storage[count - 1] == 0x0D { count -= 1 }  // "\r\n" as Linux consoles emit
            emit(complete: true)
            return
        }
        storage[count] = byte
        count += 1
        if count == Self.capacity { emit(complete: false) }
    }

    /// Flushes an unfinished line, if any (e.g. when the guest stops).
    public mutating func flush() {
        if count > 0 { emit(complete: false) }
    }

    private mutating func emit(complete: Bool) {
        let length = count
        count = 0
        storage.span.withUnsafeBytes { bytes in
            output.writeLine(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), complete: complete)
        }
    }
}
