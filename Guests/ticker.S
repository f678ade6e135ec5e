/* ticker: a compute-bound guest for the round-robin scheduler.
 *
 * Prints "tick 1" .. "tick 5", spinning about 1 M instructions between ticks
 * without any VM exit, then checks that its private SSE register (xmm7) and
 * SYSCALL MSR (LSTAR) still hold the token it put there at start (from RDTSC,
 * so each ticker's differs) after the other VMs' turns, and that 512 KiB of
 * its RAM filled with that token is unchanged.
 * Several tickers under `schedule=round-robin slice=1` interleave their lines:
 *   [t1] tick 1, [t2] tick 1, [t3] tick 1, [t1] tick 2, ...
 * Then shutdown 0 if the state checks passed.
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	/* SSE on (the guest owns CR4.OSFXSR); put a per-guest value in xmm7 and LSTAR:
	 * the guest's own code address of this instruction mixed with the RDTSC at start,
	 * so that two tickers almost surely hold different values. */
	mov %cr4, %rax
	or $0x600, %rax
	mov %rax, %cr4
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r14                  /* r14: this guest's token */
	movq %r14, %xmm7
	mov %r14, %rdx
	shr $32, %rdx
	mov %r14d, %eax
	and $0xFFFFF000, %eax            /* keep LSTAR canonical: low 47 bits */
	and $0x7FFF, %edx
	mov $0xC0000082, %ecx
	wrmsr
	/* 512 KiB of RAM at 1 MiB filled with the token: no other VM may change it. */
	mov $0x100000, %rdi
	mov $(0x80000 / 8), %ecx
	mov %r14, %rax
	rep stosq
	mov $1, %r12d
1:
	PRINT "tick "
	PRINT_DEC %r12
	PRINT "\n"
	mov $500000, %ecx
2:	dec %ecx
	jnz 2b
	inc %r12
	cmp $6, %r12
	jne 1b

	movq %xmm7, %rax
	PRINT "token "
	PRINT_HEX %r14
	PRINT " xmm7 "
	PRINT_HEX %rax
	PRINT "\n"
	xor %r13d, %r13d
	cmp %r14, %rax
	setne %r13b
	TEST 1, %r13, "xmm7 kept this guest's value across other VMs' turns"
	mov $0xC0000082, %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	mov %r14, %rbx
	movabs $0x00007FFFFFFFF000, %r11
	and %r11, %rbx
	xor %r13d, %r13d
	cmp %rbx, %rax
	setne %r13b
	TEST 2, %r13, "LSTAR kept this guest's value across other VMs' turns"
	mov $0x100000, %rdi
	mov $(0x80000 / 8), %ecx
	mov %r14, %rax
	repe scasq
	setne %r13b
	movzbl %r13b, %r13d
	TEST 3, %r13, "my RAM kept its contents across other VMs' turns"
	FINISH
