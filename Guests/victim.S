/* victim: the other half of every hostile-guest pair. It puts its own
 * values in the state a hostile VM went after - CR2, DR0-DR3, DR6, XCR0 and the
 * MSRs a guest can write (APIC_BASE, MTRRdefType, MTRR 0, MISC_ENABLE, PAT,
 * TSC_ADJUST) - reads the date from its RTC, then runs RUN_TICKS of its own TSC
 * (round-robin with the hostile VM), timing every gap in which another VM had
 * the CPU. Then it checks its own view:
 *   PASS 1 my TSC never went backwards
 *   PASS 2 longest wait for the CPU within 5 slices
 *   PASS 3 my share of the CPU is at least 30%
 *   PASS 4 CR2 kept my value
 *   PASS 5 DR0-DR3 kept my values
 *   PASS 6 DR6 kept my value
 *   PASS 7 my MSRs kept my values
 *   PASS 8 my RTC date did not move
 *   PASS 9 XCR0 kept my value
 *   PASS 10 RDMSR IA32_TSC agrees with RDTSC
 * and prints "victim: waited at most N ticks, ran R of T ticks (P%)".
 * Shutdown 0 if all passed. Run with `schedule=round-robin slice=1`.
 */
#include "guest.inc"
#include "idt64.inc"
#include "cpuwatch.inc"

.equ RUN_TICKS,  30000000        /* how long the victim watches (its TSC: wall time) */
.equ MAX_GAP,    5000000         /* 5 slices of 1 M ticks: a turn, or the report of a VM that stopped */
.equ MSR_COUNT,  7

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	/* XCR0 = x87|SSE (when the CPU has XSAVE): a value different from the hostile one. */
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	bt $26, %ecx
	jnc 1f
	mov %cr4, %rax
	or $0x40600, %rax               /* OSXSAVE, OSFXSR, OSXMMEXCPT */
	mov %rax, %cr4
	xor %ecx, %ecx
	mov $3, %eax
	xor %edx, %edx
	xsetbv
	movq $1, have_xsave(%rip)
1:
	/* CR2, DR0-DR3, DR6: values only this VM uses; keep what reads back. */
	movabs $0x00007F1C7100C200, %rax
	mov %rax, %cr2
	mov %cr2, %rax
	mov %rax, saved_cr2(%rip)
	movabs $0x00007F1C7100D000, %rax
	mov %rax, %dr0
	add $0x10, %rax
	mov %rax, %dr1
	add $0x10, %rax
	mov %rax, %dr2
	add $0x10, %rax
	mov %rax, %dr3
	mov $0xFFFF4FF1, %eax
	mov %rax, %dr6
	mov %dr0, %rax
	mov %rax, saved_dr(%rip)
	mov %dr1, %rax
	mov %rax, saved_dr+8(%rip)
	mov %dr2, %rax
	mov %rax, saved_dr+16(%rip)
	mov %dr3, %rax
	mov %rax, saved_dr+24(%rip)
	mov %dr6, %rax
	mov %rax, saved_dr6(%rip)

	/* MSRs a guest may write: give them this VM's values, then remember what reads back. */
	mov $0x2FF, %ecx                /* MTRRdefType: enabled, fixed enabled, WB */
	mov $0xC06, %eax
	xor %edx, %edx
	wrmsr
	mov $0x200, %ecx                /* MTRR 0: 16 MiB at 16 MiB, WT */
	mov $0x01000004, %eax
	xor %edx, %edx
	wrmsr
	mov $0x201, %ecx
	mov $0xFF000800, %eax
	mov $0xF, %edx
	wrmsr
	lea victim_msrs(%rip), %rsi
	lea saved_msrs(%rip), %rdi
	call read_msrs

	/* The RTC's date. */
	call rtc_date
	mov %rax, saved_date(%rip)

	/* Watch: RDTSC in a loop, no exits; a long gap is another VM's turn. */
	call watch_start
2:	call watch_step
	cmp $RUN_TICKS, %rax
	jb 2b

	PRINT "victim: "
	call watch_report
	mov %rax, %r14                  /* share in percent */
	mov watch_longest(%rip), %r12
	mov watch_backwards(%rip), %r13
	TEST 1, %r13, "my TSC never went backwards"
	cmp $MAX_GAP, %r12
	TEST_IF be, 2, "longest wait for the CPU within 5 slices"
	cmp $30, %r14
	TEST_IF ae, 3, "my share of the CPU is at least 30%"

	mov %cr2, %rax
	cmp saved_cr2(%rip), %rax
	TEST_IF e, 4, "CR2 kept my value"
	xor %r13d, %r13d
	mov %dr0, %rax
	xor saved_dr(%rip), %rax
	or %rax, %r13
	mov %dr1, %rax
	xor saved_dr+8(%rip), %rax
	or %rax, %r13
	mov %dr2, %rax
	xor saved_dr+16(%rip), %rax
	or %rax, %r13
	mov %dr3, %rax
	xor saved_dr+24(%rip), %rax
	or %rax, %r13
	TEST 5, %r13, "DR0-DR3 kept my values"
	mov %dr6, %rax
	cmp saved_dr6(%rip), %rax
	TEST_IF e, 6, "DR6 kept my value"

	lea victim_msrs(%rip), %rsi
	lea now_msrs(%rip), %rdi
	call read_msrs
	xor %r13d, %r13d
	xor %ecx, %ecx
6:	lea saved_msrs(%rip), %rsi
	mov (%rsi,%rcx,8), %rax
	lea now_msrs(%rip), %rsi
	cmp (%rsi,%rcx,8), %rax
	je 7f
	inc %r13
	PRINT "victim: MSR changed under me: "
	lea victim_msrs(%rip), %rsi
	mov (%rsi,%rcx,8), %rax
	PRINT_HEX %rax
	PRINT "\n"
7:	inc %ecx
	cmp $MSR_COUNT, %ecx
	jb 6b
	TEST 7, %r13, "my MSRs kept my values"

	call rtc_date
	cmp saved_date(%rip), %rax
	TEST_IF e, 8, "my RTC date did not move"

	xor %r13d, %r13d
	cmpq $0, have_xsave(%rip)
	je 8f
	xor %ecx, %ecx
	xgetbv
	cmp $3, %eax
	setne %r13b
8:	TEST 9, %r13, "XCR0 kept my value"

	/* RDMSR IA32_TSC and RDTSC: the same clock (within 100 k ticks; tried 3 times, in case
	 * another VM's turn falls between the two). */
	mov $3, %r13d
9:	mov $0x10, %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %rbx
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %rbx, %rax
	cmp $100000, %rax
	jb 10f
	dec %r13d
	jnz 9b
	cmp $100000, %rax
10:	TEST_IF b, 10, "RDMSR IA32_TSC agrees with RDTSC"
	FINISH

/* Reads the MSR_COUNT MSRs listed at RSI into the array at RDI (a faulting one reads as -1). */
read_msrs:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	xor %ebx, %ebx
1:	mov (%rsi,%rbx,8), %rcx
	xor %eax, %eax
	xor %edx, %edx
	TRY rdmsr
	shl $32, %rdx
	or %rdx, %rax
	cmpq $-1, fault_vector(%rip)
	je 2f
	mov $-1, %rax
2:	mov %rax, (%rdi,%rbx,8)
	inc %ebx
	cmp $MSR_COUNT, %ebx
	jb 1b
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* RAX = the RTC's century-less year << 16 | month << 8 | day (raw CMOS bytes). */
rtc_date:
	push %rbx
	xor %ebx, %ebx
	mov $9, %al
	outb %al, $0x70
	inb $0x71, %al
	mov %al, %bl
	shl $8, %ebx
	mov $8, %al
	outb %al, $0x70
	inb $0x71, %al
	mov %al, %bl
	shl $8, %ebx
	mov $7, %al
	outb %al, $0x70
	inb $0x71, %al
	mov %al, %bl
	mov %rbx, %rax
	pop %rbx
	ret

	.section .rodata
	.balign 8
victim_msrs:
	.quad 0x1B, 0x2FF, 0x200, 0x201, 0x1A0, 0x277, 0x3B

	.data
	.balign 8
have_xsave:	.quad 0
saved_cr2:	.quad 0
saved_dr:	.quad 0, 0, 0, 0
saved_dr6:	.quad 0
saved_date:	.quad 0
saved_msrs:	.space 8 * MSR_COUNT
now_msrs:	.space 8 * MSR_COUNT
