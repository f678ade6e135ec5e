/*
 * VMEntryExit.S: the world switch.
 *
 *   int vmx_run(struct guest_registers *regs, void *vm, int launched, void *exit_entry)
 *
 * saves the host's callee-saved registers, stores `regs` and `vm` at the top of the host
 * stack, writes that stack pointer into the VMCS host RSP field (SDM Vol. 3C
 * §25.5: RSP and RIP are loaded from the host-state area on every VM exit),
 * loads the guest's general-purpose registers and enters the guest with
 * VMLAUNCH (first entry) or VMRESUME (SDM §26: a VMCS must be launched once).
 *
 * A VM exit lands on vmx_exit with RSP = that saved stack pointer. We store the
 * guest's registers, call the Swift handler swiftvisor_handle_exit(regs, vm), and -
 * in the common case that it returns 1 - reload them and VMRESUME right here,
 * without unwinding to Swift's run loop. It returns 0 to leave the guest:
 * vmx_run then returns 0 to its caller.
 *
 * If VMLAUNCH/VMRESUME itself fails, execution falls through: vmx_run returns
 * 1 for VMfailInvalid (CF=1) or 2 for VMfailValid (ZF=1; the VM-instruction
 * error field says why).
 *
 * The guest register block is declared once, in guest_registers.h (slots in the
 * SDM's register numbering); the guest's RSP and RIP live in the VMCS. Host FPU/SSE is never used (see
 * the Makefile), so the guest's x87/SSE/AVX state simply stays in the registers.
 */
#include "../../Sources/GuestRegisterBlock/include/guest_registers.h"

#define VMCS_HOST_RSP   0x6C14
#define VMCS_HOST_RIP   0x6C16

/* Load the guest's registers from the block at %rax (RAX last: it is the base). */
.macro LOAD_GUEST_REGISTERS
        mov     GUEST_RBX(%rax), %rbx
        mov     GUEST_RCX(%rax), %rcx
        mov     GUEST_RDX(%rax), %rdx
        mov     GUEST_RSI(%rax), %rsi
        mov     GUEST_RDI(%rax), %rdi
        mov     GUEST_RBP(%rax), %rbp
        mov     GUEST_R8(%rax), %r8
        mov     GUEST_R9(%rax), %r9
        mov     GUEST_R10(%rax), %r10
        mov     GUEST_R11(%rax), %r11
        mov     GUEST_R12(%rax), %r12
        mov     GUEST_R13(%rax), %r13
        mov     GUEST_R14(%rax), %r14
        mov     GUEST_R15(%rax), %r15
        mov     GUEST_RAX(%rax), %rax
.endm

/* Store the guest's registers (but RAX) into the block at %rax. */
.macro STORE_GUEST_REGISTERS
        mov     %rbx, GUEST_RBX(%rax)
        mov     %rcx, GUEST_RCX(%rax)
        mov     %rdx, GUEST_RDX(%rax)
        mov     %rsi, GUEST_RSI(%rax)
        mov     %rdi, GUEST_RDI(%rax)
        mov     %rbp, GUEST_RBP(%rax)
        mov     %r8, GUEST_R8(%rax)
        mov     %r9, GUEST_R9(%rax)
        mov     %r10, GUEST_R10(%rax)
        mov     %r11, GUEST_R11(%rax)
        mov     %r12, GUEST_R12(%rax)
        mov     %r13, GUEST_R13(%rax)
        mov     %r14, GUEST_R14(%rax)
        mov     %r15, GUEST_R15(%rax)
.endm

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
        push    %rsi                        /* 16(%rsp) = vm, 8(%rsp) = regs, for the exit path; */
        push    %rdi                        /* 8 pushes and the pad leave RSP 16-byte aligned */
        sub     $8, %rsp                    /* for the Swift call */
        mov     $VMCS_HOST_RSP, %rax
        vmwrite %rsp, %rax
        jbe     entry_failed_before_load
        test    %rcx, %rcx                  /* exit_entry: vmx_exit unless the caller names one */
        jnz     1f
        lea     vmx_exit(%rip), %rcx
1:      mov     $VMCS_HOST_RIP, %rax
        vmwrite %rcx, %rax
        jbe     entry_failed_before_load
        mov     %edx, %eax                  /* launched? */
        test    %eax, %eax
        mov     %rdi, %rax
        jnz     resume_guest

        /* First entry: VMLAUNCH. */
        LOAD_GUEST_REGISTERS
        vmlaunch
        jmp     entry_failed

        .align 16
vmx_exit:
        /* Guest registers are live; RSP is our host stack with regs at 8(%rsp), vm at 16(%rsp). */
        push    %rax
        mov     16(%rsp), %rax              /* regs (one slot deeper after the push) */
        pop     GUEST_RAX(%rax)             /* guest RAX */
        STORE_GUEST_REGISTERS
        mov     %rax, %rdi
        mov     16(%rsp), %rsi
        call    swiftvisor_handle_exit
        test    %eax, %eax
        jz      leave_guest
        mov     8(%rsp), %rax
resume_guest:
        LOAD_GUEST_REGISTERS
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
        add     $24, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbx
        pop     %rbp
        ret
