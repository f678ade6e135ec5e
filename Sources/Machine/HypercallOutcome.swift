// What the engine does after a hypercall.

public enum HypercallOutcome: Equatable, Sendable {
    /// RAX holds the result: advance RIP past VMCALL and resume the guest.
    case resume
    /// The guest asked to stop (`shutdown`); RAX is untouched. Stop the VM.
    case shutdown(code: UInt64)
    /// A `testResult` was handed to the console and RAX = 0: resume the guest
    /// as for `.resume`; the case exists so the engine can tally results.
    case testResult(number: UInt64, passed: Bool)
}
