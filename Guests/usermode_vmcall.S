/* usermode_vmcall: hypercalls belong to the guest kernel. It
 * builds its own GDT (user code and data, a TSS with RSP0), marks its first 2 MiB
 * user-accessible, drops to CPL 3 with IRETQ and executes VMCALL there: the
 * hypervisor must inject #UD and leave the hypercall undone. A #GP from CPL 3
 * (HLT) brings it back to CPL 0.
 *   PASS 1 VMCALL at CPL 3 raises #UD
 *   PASS 2 the hypercall was not performed (RAX unchanged)
 *   PASS 3 back at CPL 0: VMCALL works again
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	SET_GATE guest_idt, 13, back_to_kernel  /* #GP: the way back from CPL 3 */

	/* U/S on the walk to the first 2 MiB page (PML4[0], PDPT[0], PD[0] of the loader's map). */
	orq $4, 0x1000
	orq $4, 0x2000
	orq $4, 0x3000
	mov %cr3, %rax
	mov %rax, %cr3

	/* TSS descriptor (type 9, 104 bytes) at GDT 0x28; RSP0 = the kernel stack. */
	lea tss(%rip), %rax
	lea kernel_stack_top(%rip), %rcx
	mov %rcx, 4(%rax)
	lea gdt(%rip), %rdi
	movw $103, 0x28(%rdi)
	mov %ax, 0x2A(%rdi)
	shr $16, %rax
	mov %al, 0x2C(%rdi)
	movb $0x89, 0x2D(%rdi)
	movb $0, 0x2E(%rdi)
	mov %ah, 0x2F(%rdi)
	shr $16, %rax
	mov %eax, 0x30(%rdi)
	movl $0, 0x34(%rdi)
	lgdt gdtr(%rip)
	mov $0x28, %ax
	ltr %ax

	/* IRETQ to CPL 3: SS 0x1B, RSP, RFLAGS (IF=0), CS 0x23, RIP. */
	mov %rsp, kernel_rsp(%rip)
	lea user_stack_top(%rip), %rax
	pushq $0x1B
	push %rax
	pushq $0x2
	pushq $0x23
	lea user_code(%rip), %rax
	push %rax
	iretq

user_code:
	mov $HC_VERSION, %eax
	mov %rax, %r12
	TRY vmcall
	mov fault_vector(%rip), %r13
	mov %rax, %r14
	hlt                             /* #GP at CPL 3: back_to_kernel */

back_to_kernel:
	mov kernel_rsp(%rip), %rsp
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	cmp $6, %r13
	TEST_IF e, 1, "VMCALL at CPL 3 raises #UD"
	cmp %r12, %r14
	TEST_IF e, 2, "the hypercall was not performed (RAX unchanged)"
	mov $HC_VERSION, %eax
	vmcall
	cmp $HC_VERSION, %rax
	TEST_IF ne, 3, "back at CPL 0: VMCALL works again"
	FINISH

	.data
	.balign 16
gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF        /* 0x10 data, DPL 0 */
	.quad 0x00CFF2000000FFFF        /* 0x18 data, DPL 3 */
	.quad 0x00AFFA000000FFFF        /* 0x20 64-bit code, DPL 3 */
	.quad 0, 0                      /* 0x28 TSS */
gdt_end:
gdtr:
	.word gdt_end - gdt - 1
	.quad gdt
	.balign 16
tss:	.space 104
kernel_rsp:	.quad 0
	.balign 16
	.space 1024
kernel_stack_top:
	.space 1024
user_stack_top:
