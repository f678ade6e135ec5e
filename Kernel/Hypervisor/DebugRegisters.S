/*
 * DebugRegisters.S: DR0-DR3 and DR6, which neither VM entry nor VM exit switches
 * (only DR7 is in the VMCS, SDM Vol. 3C §25.4.1), saved and loaded when the CPU
 * changes VM (GuestContext), together with CR2.
 *
 *   void debug_registers_save(uint64_t area[6])   DR0, DR1, DR2, DR3, DR6, CR2
 *   void debug_registers_load(const uint64_t area[6])
 */
        .text
        .code64
        .global debug_registers_save, debug_registers_load

debug_registers_save:
        mov     %dr0, %rax
        mov     %rax, 0(%rdi)
        mov     %dr1, %rax
        mov     %rax, 8(%rdi)
        mov     %dr2, %rax
        mov     %rax, 16(%rdi)
        mov     %dr3, %rax
        mov     %rax, 24(%rdi)
        mov     %dr6, %rax
        mov     %rax, 32(%rdi)
        mov     %cr2, %rax
        mov     %rax, 40(%rdi)
        ret

debug_registers_load:
        mov     0(%rdi), %rax
        mov     %rax, %dr0
        mov     8(%rdi), %rax
        mov     %rax, %dr1
        mov     16(%rdi), %rax
        mov     %rax, %dr2
        mov     24(%rdi), %rax
        mov     %rax, %dr3
        mov     32(%rdi), %rax
        mov     %rax, %dr6
        mov     40(%rdi), %rax
        mov     %rax, %cr2
        ret
