// The guest registers a VMCALL reads and writes (docs/hypercalls.md).

/// RAX carries the function number in and the result out; RBX, RCX, RDX, RSI
/// are arguments 1–4. The engine copies these from and back to the guest state.
public struct HypercallRegisters: Equatable, Sendable {
    public var rax: UInt64
    public var rbx: UInt64
    public var rcx: UInt64
    public var rdx: UInt64
    public var rsi: UInt64

    public init(rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0, rsi: UInt64 = 0) {
        self.rax = rax
        self.rbx = rbx
        self.rcx = rcx
        self.rdx = rdx
        self.rsi = rsi
    }
}
