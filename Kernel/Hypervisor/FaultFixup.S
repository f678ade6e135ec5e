/*
 * FaultFixup.S: hypervisor instructions that run with guest-chosen operands and
 * may fault on them, each with a resume point in fault_fixup_table. If one
 * faults (#GP), Exceptions.handle looks the faulting RIP up here
 * (fault_fixup_resume_address) and resumes at its fixup, which returns 1: the
 * caller then injects #GP into the guest instead of the host dying.
 *
 *   int guarded_xsetbv(uint32_t index, uint64_t value)   0 done, 1 faulted
 *   int guarded_wrmsr(uint32_t msr, uint64_t value)      0 done, 1 faulted
 *   uint64_t fault_fixup_resume_address(uint64_t rip)    the fixup for rip, or 0
 */
        .text
        .code64
        .global guarded_xsetbv, guarded_wrmsr, fault_fixup_resume_address

guarded_xsetbv:
        mov     %edi, %ecx
        mov     %esi, %eax
        mov     %rsi, %rdx
        shr     $32, %rdx
guarded_xsetbv_instruction:
        xsetbv
        xor     %eax, %eax
        ret
guarded_xsetbv_fixup:
        mov     $1, %eax
        ret

guarded_wrmsr:
        mov     %edi, %ecx
        mov     %esi, %eax
        mov     %rsi, %rdx
        shr     $32, %rdx
guarded_wrmsr_instruction:
        wrmsr
        xor     %eax, %eax
        ret
guarded_wrmsr_fixup:
        mov     $1, %eax
        ret

fault_fixup_resume_address:
        lea     fault_fixup_table(%rip), %rsi
        lea     fault_fixup_table_end(%rip), %rcx
1:      cmp     %rcx, %rsi
        jae     2f
        cmp     (%rsi), %rdi
        je      3f
        add     $16, %rsi
        jmp     1b
2:      xor     %eax, %eax
        ret
3:      mov     8(%rsi), %rax
        ret

        .section .rodata
        .balign 8
/* (faulting instruction, resume point) pairs */
fault_fixup_table:
        .quad   guarded_xsetbv_instruction, guarded_xsetbv_fixup
        .quad   guarded_wrmsr_instruction, guarded_wrmsr_fixup
fault_fixup_table_end:
