/*
 * interrupts.S: the 256 IDT entry stubs and their common path.
 *
 * Each stub pushes a dummy error code where the CPU pushes none (SDM Vol. 3A
 * §7.13: only #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP push one), then its vector,
 * and joins the common path, which saves every general-purpose register into an
 * InterruptFrame (Kernel/Platform/InterruptFrame.swift has the same layout) and
 * calls interruptDispatch(frame). The handler may edit the frame (RIP, RAX...)
 * before we restore it and IRETQ.
 */
        .text
        .code64

.macro STUB vector
        .align 16
isr_stub_\vector:
.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
.else
        pushq   $0
.endif
        pushq   $\vector
        jmp     interrupt_common
.endm

.altmacro
.set vector, 0
.rept 256
        STUB    %vector
.set vector, vector + 1
.endr

interrupt_common:
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rbp
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, %rdi
        mov     %rsp, %rbx
        and     $~0xF, %rsp                 /* SysV: 16-byte aligned at the call */
        cld
        call    interruptDispatch
        mov     %rbx, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rbp
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
        add     $16, %rsp                   /* vector and error code */
        iretq

/* The table of stub addresses, for the Swift IDT builder. */
        .section .rodata
        .align 8
        .global isr_stub_table
isr_stub_table:
.macro ADDR vector
        .quad   isr_stub_\vector
.endm
.set vector, 0
.rept 256
        ADDR    %vector
.set vector, vector + 1
.endr

/*
 * A memory read that may fault, for self-tests: if the load at
 * recoverable_probe_instruction faults, the exception handler resumes at
 * recoverable_probe_resume, which returns ~0 instead.
 */
        .text
        .global recoverable_probe_read, recoverable_probe_instruction, recoverable_probe_resume
recoverable_probe_read:
recoverable_probe_instruction:
        mov     (%rdi), %rax
        ret
recoverable_probe_resume:
        mov     $-1, %rax
        ret
