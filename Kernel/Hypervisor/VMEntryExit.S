/*
 * VMEntryExit.S: the world switch.
 *
 *   int vmx_run(GuestRegisters *regs, int launched, void *exit_entry)
 *
 * saves the host's callee-saved registers, stores `regs` at the top of the host
 * stack, writes that stack pointer into the VMCS host RSP field (SDM Vol. 3C
 * §25.5: RSP and RIP are loaded from the host-state area on every VM exit),
 * loads the guest's general-purpose registers and enters the guest with
 * VMLAUNCH (first entry) or VMRESUME (SDM §26: a VMCS must be launched once).
 *
 * A VM exit lands on vmx_exit with RSP = that saved stack pointer. We store the
 * guest's registers, call the Swift handler swiftvisor_handle_exit(regs), and -
 * in the common case that it returns 1 - reload them and VMRESUME right here,
 * without unwinding to Swift's run loop. It returns 0 to leave the guest:
 * vmx_run then returns 0 to its caller.
 *
 * If VMLAUNCH/VMRESUME itself fails, execution falls through: vmx_run returns
 * 1 for VMfailInvalid (CF=1) or 2 for VMfailValid (ZF=1; the VM-instruction
 * error field says why).
 *
 * Guest register block layout (GuestRegisters in VCPU.swift):
 *   0 rax, 8 rbx, 16 rcx, 24 rdx, 32 rsi, 40 rdi, 48 rbp, 56 r8 ... 112 r15
 * The guest's RSP and RIP live in the VMCS. Host FPU/SSE is never used (see
 * the Makefile), so the guest's x87/SSE/AVX state simply stays in the registers.
 */
#define VMCS_HOST_RSP   0x6C14
#define VMCS_HOST_RIP   0x6C16

        .text
        .code64
        .global vmx_run
vmx_run:
        push    %rbp
        push    %rbx
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        push    %rdi                        /* [rsp] = regs, for the exit path; 7 pushes
                                               leave RSP 16-byte aligned for the Swift call */
        mov     $VMCS_HOST_RSP, %rax
        vmwrite %rsp, %rax
        jbe     entry_failed_before_load
        test    %rdx, %rdx                  /* exit_entry: vmx_exit unless the caller names one */
        jnz     1f
        lea     vmx_exit(%rip), %rdx
1:      mov     $VMCS_HOST_RIP, %rax
        vmwrite %rdx, %rax
        jbe     entry_failed_before_load
        mov     %esi, %eax                  /* launched? */
        test    %eax, %eax
        mov     %rdi, %rax
        jnz     resume_guest

        /* First entry: VMLAUNCH. */
        mov     8(%rax), %rbx
        mov     16(%rax), %rcx
        mov     24(%rax), %rdx
        mov     32(%rax), %rsi
        mov     40(%rax), %rdi
        mov     48(%rax), %rbp
        mov     56(%rax), %r8
        mov     64(%rax), %r9
        mov     72(%rax), %r10
        mov     80(%rax), %r11
        mov     88(%rax), %r12
        mov     96(%rax), %r13
        mov     104(%rax), %r14
        mov     112(%rax), %r15
        mov     (%rax), %rax
        vmlaunch
        jmp     entry_failed

        .align 16
vmx_exit:
        /* Guest registers are live; RSP is our host stack with regs at 0(%rsp). */
        push    %rax
        mov     8(%rsp), %rax               /* regs (one slot deeper after the push) */
        pop     (%rax)                      /* guest RAX */
        mov     %rbx, 8(%rax)
        mov     %rcx, 16(%rax)
        mov     %rdx, 24(%rax)
        mov     %rsi, 32(%rax)
        mov     %rdi, 40(%rax)
        mov     %rbp, 48(%rax)
        mov     %r8, 56(%rax)
        mov     %r9, 64(%rax)
        mov     %r10, 72(%rax)
        mov     %r11, 80(%rax)
        mov     %r12, 88(%rax)
        mov     %r13, 96(%rax)
        mov     %r14, 104(%rax)
        mov     %r15, 112(%rax)
        mov     %rax, %rdi
        call    swiftvisor_handle_exit
        test    %eax, %eax
        jz      leave_guest
        mov     (%rsp), %rax
resume_guest:
        mov     8(%rax), %rbx
        mov     16(%rax), %rcx
        mov     24(%rax), %rdx
        mov     32(%rax), %rsi
        mov     40(%rax), %rdi
        mov     48(%rax), %rbp
        mov     56(%rax), %r8
        mov     64(%rax), %r9
        mov     72(%rax), %r10
        mov     80(%rax), %r11
        mov     88(%rax), %r12
        mov     96(%rax), %r13
        mov     104(%rax), %r14
        mov     112(%rax), %r15
        mov     (%rax), %rax
        vmresume
        /* fall through: VMRESUME failed */

/*
 * The benchmark's baseline (make bench): a VM created with `baseline=yes` exits
 * here. While the guest holds the magic "SVBASELN" in R15, an exit is handled by
 * the least a handler can do - skip the instruction and resume - so the guest can
 * measure the raw round trip in the same run as the full Swift path. Any other
 * exit, or any exit without the magic, takes the normal path.
 */
#define VMCS_GUEST_RIP          0x681E
#define VMCS_EXIT_INSTR_LENGTH  0x440C
        .align 16
        .global vmx_exit_with_baseline
vmx_exit_with_baseline:
        push    %rax
        movabs  $0x4E4C455341425653, %rax   /* "SVBASELN" */
        cmp     %rax, %r15
        jne     2f
        push    %rdx
        push    %rcx
        mov     $VMCS_GUEST_RIP, %rdx
        vmread  %rdx, %rax
        mov     $VMCS_EXIT_INSTR_LENGTH, %rcx
        vmread  %rcx, %rcx
        add     %rcx, %rax
        vmwrite %rax, %rdx
        pop     %rcx
        pop     %rdx
        pop     %rax
        vmresume
        jmp     entry_failed
2:      pop     %rax
        jmp     vmx_exit

entry_failed:
        /* CF=1: VMfailInvalid -> 1; ZF=1: VMfailValid -> 2 */
        mov     $1, %eax
        jc      restore_host
        mov     $2, %eax
        jmp     restore_host
entry_failed_before_load:
        mov     $1, %eax
        jc      restore_host
        mov     $2, %eax
        jmp     restore_host
leave_guest:
        xor     %eax, %eax
restore_host:
        add     $8, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbx
        pop     %rbp
        ret
