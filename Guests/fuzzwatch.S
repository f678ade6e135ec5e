/* fuzzwatch: the VM beside the fuzzer guest (round-robin). It puts values of its
 * own (from its first RDTSC) into general-purpose registers, xmm7, the SYSCALL and
 * SYSENTER MSRs, KERNEL_GS_BASE, CR2, CR8 and DR0-DR3, fills 1 MiB of RAM at 1 MiB,
 * notes its RTC date, then for ROUNDS rounds spins (the other VM gets turns) and
 * checks that all of it is unchanged and that its TSC only moved forward, by less
 * than 2^36 ticks per round. At the end its RTC still shows the same date.
 * A line for every 20th round and any round with differences ("round N: M
 * differences"), a test per kind of state, FINISH.
 */
#include "guest.inc"

.equ ROUNDS, 120
.equ SPIN, 300000
.equ WATCH_BASE, 0x100000
.equ WATCH_QWORDS, 0x20000              /* 1 MiB */
.equ MAX_TSC_STEP, 0x1000000000         /* 2^36 ticks per round */

	.section .text.start, "ax"
	.globl _start
_start:
	/* SSE on (the guest owns CR4.OSFXSR). */
	mov %cr4, %rax
	or $0x600, %rax
	mov %rax, %cr4
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, last_tsc(%rip)
	movabs $0x9E3779B97F4A7C15, %rdx
	imul %rdx, %rax
	movabs $0x00007FFFFFFFF000, %rdx
	and %rdx, %rax                          /* canonical, page-aligned */
	mov %rax, token(%rip)
	mov %rax, %r12                          /* r12: the token */

	/* Registers. */
	lea 1(%r12), %r8
	lea 2(%r12), %r9
	lea 3(%r12), %r10
	lea 4(%r12), %r11
	lea 5(%r12), %r13
	movq %r12, %xmm7
	/* MSRs: LSTAR, CSTAR, KERNEL_GS_BASE, SYSENTER_EIP/ESP take the token plus their index. */
	xor %ebx, %ebx
1:	lea watched_msrs(%rip), %rsi
	mov (%rsi,%rbx,4), %ecx
	lea (%r12,%rbx,8), %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr
	inc %ebx
	cmp $WATCHED_MSR_COUNT, %ebx
	jb 1b
	/* CR2, CR8 and the debug address registers. */
	mov %r12, %cr2
	mov $9, %eax
	mov %rax, %cr8
	lea 0x10(%r12), %rax
	mov %rax, %dr0
	lea 0x20(%r12), %rax
	mov %rax, %dr1
	lea 0x30(%r12), %rax
	mov %rax, %dr2
	lea 0x40(%r12), %rax
	mov %rax, %dr3
	/* RAM: qword i = token + i. */
	mov $WATCH_BASE, %rdi
	xor %ecx, %ecx
2:	lea (%r12,%rcx), %rax
	mov %rax, (%rdi,%rcx,8)
	inc %rcx
	cmp $WATCH_QWORDS, %rcx
	jb 2b
	/* The RTC date: day, month, year, century. */
	lea date_before(%rip), %rdi
	call read_rtc_date
	PRINT "watching: registers, xmm7, 5 MSRs, CR2, CR8, DR0-DR3, 1 MiB of RAM, TSC, RTC\n"

	mov $1, %r14                            /* r14: the round */
round:
	mov $SPIN, %ecx
3:	dec %ecx
	jnz 3b
	xor %r15d, %r15d                        /* r15: differences this round */

	/* TSC: forward, and not by much. */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %rcx
	sub last_tsc(%rip), %rcx
	mov %rax, last_tsc(%rip)
	jbe 4f                                  /* not forward (CF or ZF from the SUB) */
	mov $MAX_TSC_STEP, %rdx
	cmp %rdx, %rcx
	jb 5f
4:	incq bad_tsc(%rip)
	inc %r15
	PRINT "TSC moved by "
	PRINT_HEX %rcx
	PRINT "\n"
5:
	/* Registers. */
	mov token(%rip), %rax
	cmp %rax, %r12
	jne 6f
	lea 1(%rax), %rdx
	cmp %rdx, %r8
	jne 6f
	lea 2(%rax), %rdx
	cmp %rdx, %r9
	jne 6f
	lea 3(%rax), %rdx
	cmp %rdx, %r10
	jne 6f
	lea 4(%rax), %rdx
	cmp %rdx, %r11
	jne 6f
	lea 5(%rax), %rdx
	cmp %rdx, %r13
	jne 6f
	movq %xmm7, %rdx
	cmp %rdx, %rax
	je 7f
6:	incq bad_registers(%rip)
	inc %r15
	PRINT "registers changed\n"
7:
	/* MSRs. */
	xor %ebx, %ebx
8:	lea watched_msrs(%rip), %rsi
	mov (%rsi,%rbx,4), %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	lea (%r12,%rbx,8), %rdx
	cmp %rdx, %rax
	je 9f
	incq bad_msrs(%rip)
	inc %r15
	PRINT "MSR changed: "
	PRINT_HEX %rcx
	PRINT "\n"
9:	inc %ebx
	cmp $WATCHED_MSR_COUNT, %ebx
	jb 8b
	/* CR2, CR8, DR0-DR3. */
	mov %cr2, %rax
	cmp %r12, %rax
	jne 10f
	mov %cr8, %rax
	cmp $9, %rax
	jne 10f
	mov %dr0, %rax
	lea 0x10(%r12), %rdx
	cmp %rdx, %rax
	jne 10f
	mov %dr1, %rax
	lea 0x20(%r12), %rdx
	cmp %rdx, %rax
	jne 10f
	mov %dr2, %rax
	lea 0x30(%r12), %rdx
	cmp %rdx, %rax
	jne 10f
	mov %dr3, %rax
	lea 0x40(%r12), %rdx
	cmp %rdx, %rax
	je 11f
10:	incq bad_control(%rip)
	inc %r15
	PRINT "CR2/CR8/DR0-DR3 changed\n"
11:
	/* RAM. */
	mov $WATCH_BASE, %rdi
	xor %ecx, %ecx
	xor %ebx, %ebx
12:	lea (%r12,%rcx), %rax
	cmp %rax, (%rdi,%rcx,8)
	je 13f
	inc %rbx
13:	inc %rcx
	cmp $WATCH_QWORDS, %rcx
	jb 12b
	test %rbx, %rbx
	jz 14f
	add %rbx, bad_memory(%rip)
	inc %r15
	PRINT "RAM: "
	PRINT_DEC %rbx
	PRINT " qwords changed\n"
14:
	/* A line for every round with differences, and for every 20th. */
	test %r15, %r15
	jnz 15f
	mov %r14, %rax
	xor %edx, %edx
	mov $20, %ecx
	div %rcx
	test %rdx, %rdx
	jnz 16f
15:	PRINT "round "
	PRINT_DEC %r14
	PRINT ": "
	PRINT_DEC %r15
	PRINT " differences\n"
16:	inc %r14
	cmp $ROUNDS, %r14
	jbe round

	lea date_after(%rip), %rdi
	call read_rtc_date
	mov date_before(%rip), %eax
	xor date_after(%rip), %eax
	mov bad_tsc(%rip), %rbx
	TEST 1, %rbx, "TSC went only forward, in steps below 2^36"
	mov bad_registers(%rip), %rbx
	TEST 2, %rbx, "general-purpose registers and xmm7 kept"
	mov bad_msrs(%rip), %rbx
	TEST 3, %rbx, "LSTAR, CSTAR, KERNEL_GS_BASE, SYSENTER_ESP/EIP kept"
	mov bad_control(%rip), %rbx
	TEST 4, %rbx, "CR2, CR8, DR0-DR3 kept"
	mov bad_memory(%rip), %rbx
	TEST 5, %rbx, "1 MiB of RAM kept"
	TEST 6, %rax, "the RTC date did not move"
	FINISH

/* Stores CMOS day, month, year and century (registers 7, 8, 9, 0x32) at (RDI). */
read_rtc_date:
	push %rax
	push %rcx
	push %rsi
	lea rtc_date_registers(%rip), %rsi
	xor %ecx, %ecx
1:	movb (%rsi,%rcx), %al
	outb %al, $0x70
	inb $0x71, %al
	mov %al, (%rdi,%rcx)
	inc %ecx
	cmp $4, %ecx
	jb 1b
	pop %rsi
	pop %rcx
	pop %rax
	ret

	.section .rodata
	.balign 4
watched_msrs:
	.long 0xC0000082, 0xC0000083, 0xC0000102, 0x175, 0x176    /* LSTAR CSTAR KERNEL_GS_BASE SYSENTER_ESP/EIP */
.equ WATCHED_MSR_COUNT, 5
rtc_date_registers:
	.byte 7, 8, 9, 0x32

	.data
	.balign 8
token:		.quad 0
last_tsc:	.quad 0
bad_tsc:	.quad 0
bad_registers:	.quad 0
bad_msrs:	.quad 0
bad_control:	.quad 0
bad_memory:	.quad 0
date_before:	.quad 0
date_after:	.quad 0
