// Where the hypercalls' output goes; implemented by the engine.

/// The engine's console for hypercall output. Used through generics only.
/// The buffers are only valid for the duration of the call.
public protocol HypercallConsole {
    /// Guest console output (`consoleWrite`, `putChar`).
    mutating func write(_ bytes: UnsafeRawBufferPointer)
    /// A guest test's verdict (`testResult`); `name` is NUL-free, ≤ 128 bytes, possibly empty.
    mutating func testResult(number: UInt64, passed: Bool, name: UnsafeRawBufferPointer)
}
