// The registers interrupts.S saves, lowest address first: its push order reversed.
struct InterruptFrame {
    var r15, r14, r13, r12, r11, r10, r9, r8: UInt64
    var rbp, rdi, rsi, rdx, rcx, rbx, rax: UInt64
    var vector, errorCode: UInt64
    // Pushed by the CPU (SDM Vol. 3A §7.14.2: in 64-bit mode SS:RSP always).
    var rip, cs, rflags, rsp, ss: UInt64
}
