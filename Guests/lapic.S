/* lapic: the local APIC and the I/O APIC from inside.  Module options: apic=on.
 *
 * CPUID and IA32_APIC_BASE show the APIC; the 8259 stays masked, so every interrupt here
 * comes through the APICs: the PIT's IRQ0 routed by the I/O APIC (pin 2, the MADT's override)
 * as vector 0x30; the local APIC timer in one-shot, periodic (checked against the PIT: a
 * period of a quarter PIT tick gives about 4 interrupts per tick) and TSC-deadline modes;
 * masking a pin; a level-triggered pin (COM1's THRE on pin 4) whose remote IRR the EOI clears;
 * a self-IPI through the ICR; and x2APIC mode through its MSRs.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ LAPIC,  0xFEE00000
.equ IOAPIC, 0xFEC00000
.equ V_PIT,  0x30
.equ V_COM1, 0x34
.equ V_TIMER, 0x40
.equ V_IPI,  0x50
.equ V_SPUR, 0xFF

/* IOAPIC register \reg := \value (32 bits).  (Absolute disp32 addresses would be sign-extended
 * into the upper half: the device addresses go through a register.) */
.macro IOAPIC_WRITE reg:req, value:req
	push %rdi
	mov $IOAPIC, %edi
	movl $\reg, (%rdi)
	movl $\value, 0x10(%rdi)
	pop %rdi
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	COPY_EXCEPTION_GATES big_idt       /* a 256-entry IDT: the exception gates, then ours */
	SET_GATE big_idt, V_PIT, pit_handler
	SET_GATE big_idt, V_COM1, com1_handler
	SET_GATE big_idt, V_TIMER, timer_handler
	SET_GATE big_idt, V_IPI, ipi_handler
	SET_GATE big_idt, V_SPUR, spurious_handler
	lidt big_idtr(%rip)
	PIC_INIT_LINUX 0xFF, 0xFF          /* the 8259 masked: only the APICs deliver */

	/* 1-2: CPUID and IA32_APIC_BASE. */
	mov $1, %eax
	cpuid
	bt $9, %edx
	TEST_IF c, 1, "CPUID.1:EDX.APIC is set"
	mov $0x1B, %ecx
	rdmsr
	and $0xFFFFF900, %eax
	cmp $(LAPIC | 1 << 11 | 1 << 8), %eax
	TEST_IF e, 2, "IA32_APIC_BASE: 0xFEE00000, enabled, BSP"

	/* 3: version register; software enable through the SVR. */
	mov $LAPIC, %rbx
	mov 0x30(%rbx), %eax
	and $0xFF, %eax
	cmp $0x14, %eax
	TEST_IF e, 3, "local APIC version 0x14 (xAPIC page through MMIO)"
	movl $(0x100 | V_SPUR), 0xF0(%rbx)

	/* 4: the PIT through the I/O APIC: pin 2, vector 0x30, edge, destination APIC 0. */
	IOAPIC_WRITE 0x14, V_PIT
	IOAPIC_WRITE 0x15, 0
	PIT_CH0_100HZ
	sti
1:	hlt
	cmpq $3, pit_count(%rip)
	jb 1b
	TEST_IF ae, 4, "PIT IRQ0 arrives through I/O APIC pin 2 as vector 0x30"
	/* TSC ticks per PIT tick, averaged over 10 IRQ0s (one interval alone is as long as the
	 * delivery jitter of its two ends makes it). */
	mov pit_count(%rip), %rcx
2:	hlt
	cmp pit_count(%rip), %rcx
	je 2b
	mov pit_tsc(%rip), %r12
	mov pit_count(%rip), %rcx
	add $10, %rcx
3:	hlt
	cmp pit_count(%rip), %rcx
	ja 3b
	mov pit_tsc(%rip), %r13
	sub %r12, %r13
	mov %r13, %rax
	xor %edx, %edx
	mov $10, %ecx
	div %rcx
	mov %rax, %r13                   /* R13 = TSC ticks per PIT tick */
	PRINT "lapic: TSC ticks per PIT tick: "
	PRINT_DEC %r13
	PRINT "\n"

	/* 5: one-shot: a half PIT tick, fires once. */
	movl $0xB, 0x3E0(%rbx)            /* divide by 1: the timer counts TSC ticks */
	movl $V_TIMER, 0x320(%rbx)        /* one-shot */
	mov %r13, %rax
	shr $1, %rax
	movl %eax, 0x380(%rbx)
	movq pit_count(%rip), %r14
	add $4, %r14
4:	hlt
	cmp pit_count(%rip), %r14
	ja 4b
	cmpq $1, timer_count(%rip)
	TEST_IF e, 5, "one-shot timer: exactly one interrupt in 4 PIT ticks"

	/* 6: periodic, a quarter PIT tick: about 4 per PIT tick, over 10 ticks. */
	movq $0, timer_count(%rip)
	movl $(V_TIMER | 1 << 17), 0x320(%rbx)
	mov %r13, %rax
	shr $2, %rax
	movl %eax, 0x380(%rbx)
	movq pit_count(%rip), %r14
	add $10, %r14
5:	hlt
	cmp pit_count(%rip), %r14
	ja 5b
	movl $0, 0x380(%rbx)              /* stop */
	mov timer_count(%rip), %rax
	PRINT "lapic: periodic timer: "
	PRINT_DEC %rax
	PRINT " interrupts in 10 PIT ticks\n"
	cmp $36, %rax
	setb %cl
	cmp $44, %rax
	seta %dl
	or %dl, %cl
	movzbl %cl, %ecx
	TEST 6, %rcx, "periodic timer against the PIT: 36-44 interrupts in 10 ticks at 4 per tick"

	/* 7: TSC-deadline: fires once, not before the deadline. */
	movq $0, timer_count(%rip)
	movl $(V_TIMER | 2 << 17), 0x320(%rbx)
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %r13, %rdx
	shr $1, %rdx
	add %rdx, %rax
	mov %rax, %r15                   /* the deadline */
	mov %rax, %rdx
	shr $32, %rdx
	mov $0x6E0, %ecx
	wrmsr
6:	hlt
	cmpq $0, timer_count(%rip)
	je 6b
	cmp %r15, timer_tsc(%rip)
	TEST_IF ae, 7, "TSC-deadline timer: one interrupt, at or after the deadline"

	/* 8: masking pin 2 stops the PIT's interrupts. */
	IOAPIC_WRITE 0x14, (V_PIT | 1 << 16)
	mov pit_count(%rip), %r14
	movq $0, timer_count(%rip)
	movl $(V_TIMER | 1 << 17), 0x320(%rbx)
	mov %r13, %rax
	movl %eax, 0x380(%rbx)            /* periodic, one PIT tick: our clock now */
7:	hlt
	cmpq $5, timer_count(%rip)
	jb 7b
	movl $0, 0x380(%rbx)
	cmp pit_count(%rip), %r14
	TEST_IF e, 8, "a masked I/O APIC pin delivers nothing (5 timer periods)"
	IOAPIC_WRITE 0x14, V_PIT
	cli

	/* 9: level-triggered COM1 THRE on pin 4: the handler silences it; the EOI clears remote IRR. */
	IOAPIC_WRITE 0x18, (V_COM1 | 1 << 15)
	IOAPIC_WRITE 0x19, 0
	mov $0x3FC, %dx
	mov $0x08, %al                    /* MCR.OUT2 */
	out %al, %dx
	mov $0x3F9, %dx
	mov $0x02, %al                    /* IER: THR empty */
	out %al, %dx
	sti
8:	hlt
	cmpq $0, com1_count(%rip)
	je 8b
	cli
	mov $IOAPIC, %edi
	movl $0x18, (%rdi)
	mov 0x10(%rdi), %eax
	bt $14, %eax
	TEST_IF nc, 9, "level-triggered pin: remote IRR clear after the handler's EOI"

	/* 10: a self-IPI through the ICR (fixed, shorthand self). */
	sti
	movl $(V_IPI | 1 << 18), 0x300(%rbx)
	nop
	cmpq $1, ipi_count(%rip)
	TEST_IF e, 10, "self-IPI through the ICR reaches vector 0x50"
	cli

	/* 11-12: x2APIC mode: ID from MSR 0x802, a self-IPI through MSR 0x83F. */
	mov $0x1B, %ecx
	rdmsr
	or $(1 << 10), %eax
	wrmsr
	mov $0x802, %ecx
	rdmsr
	test %eax, %eax
	TEST_IF z, 11, "x2APIC mode: APIC ID 0 from MSR 0x802"
	sti
	mov $0x83F, %ecx
	mov $V_IPI, %eax
	xor %edx, %edx
	wrmsr
	nop
	cmpq $2, ipi_count(%rip)
	TEST_IF e, 12, "x2APIC self-IPI (MSR 0x83F) reaches vector 0x50"
	cli
	FINISH

/* Handlers: count, note the TSC, EOI (xAPIC page, or MSR 0x80B in x2APIC mode). */
.macro EOI
	push %rax
	push %rcx
	push %rdx
	mov $0x1B, %ecx
	rdmsr
	bt $10, %eax
	jc 91f
	mov $LAPIC, %eax
	movl $0, 0xB0(%rax)
	jmp 92f
91:	mov $0x80B, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
92:	pop %rdx
	pop %rcx
	pop %rax
.endm

pit_handler:
	push %rax
	push %rdx
	incq pit_count(%rip)
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, pit_tsc(%rip)
	pop %rdx
	pop %rax
	EOI
	iretq
timer_handler:
	push %rax
	push %rdx
	incq timer_count(%rip)
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, timer_tsc(%rip)
	pop %rdx
	pop %rax
	EOI
	iretq
com1_handler:
	push %rax
	push %rdx
	incq com1_count(%rip)
	mov $0x3F9, %dx
	xor %al, %al                      /* IER = 0: the line drops */
	out %al, %dx
	pop %rdx
	pop %rax
	EOI
	iretq
ipi_handler:
	incq ipi_count(%rip)
	EOI
	iretq
spurious_handler:
	iretq

	.section .data
	.balign 8
pit_count:	.quad 0
pit_tsc:	.quad 0
timer_count:	.quad 0
timer_tsc:	.quad 0
com1_count:	.quad 0
ipi_count:	.quad 0
big_idtr:	.word 256 * 16 - 1
		.quad big_idt
	.balign 16
big_idt:	.space 256 * 16
