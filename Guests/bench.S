/* bench: exit round-trip micro-benchmarks.
 *
 * Each measurement runs N = 1000 iterations of one loop body between two
 * "lfence; rdtsc" reads.  In Bochs the TSC advances once per emulated
 * instruction, so the numbers are exact instruction counts (host + guest).
 *   baseline-loop   mov $0, %eax             (plus dec/jnz loop overhead)
 *   vmcall          mov $0, %eax; vmcall     (hypercall version)
 *   cpuid           mov $0x40000000, %eax; cpuid
 *   out-uart        mov $0x5A, %al; out %al, %dx (COM1 scratch 0x3FF, trapped)
 * The baseline is reported per iteration; the others as
 * (loop total - baseline total) / N, i.e. the cost of the one exiting
 * instruction.
 * Expected hypervisor output (numbers vary):
 *   [bench] bench: baseline-loop 3 cycles per iteration
 *   [bench] bench: vmcall 123 cycles per round trip, minimal exit stub 15, ratio 8.2x
 *   [bench] bench: cpuid 130 cycles per round trip, minimal exit stub 15, ratio 8.6x
 *   [bench] bench: out-uart 200 cycles per round trip, minimal exit stub 15, ratio 13.3x
 * The minimal stub (baseline=yes on the module line) is the in-run baseline.
 *   [bench] PASS 1 every round trip costs more than the baseline loop
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

.equ N, 1000

.macro body_baseline
	mov $0, %eax
.endm
.macro body_vmcall
	mov $HC_VERSION, %eax
	vmcall
.endm
.macro body_cpuid
	mov $0x40000000, %eax
	cpuid
.endm
.macro body_out
	mov $0x5A, %al
	outb %al, %dx
.endm

/* RAX = TSC ticks for N iterations of \body.  Uses r12, r13; DX = 0x3FF. */
.macro TIMED body:req
	lfence
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r13
	mov $COM1_SCR, %edx
	mov $N, %r12d
	.balign 16
.Ltimed\@:
	\body
	dec %r12d
	jnz .Ltimed\@
	lfence
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r13, %rax
.endm

/* RAX = max(RAX - r14, 0) / N: the cost of one exiting instruction; counts a
 * non-positive cost in RDI (CPUID clobbers RBX). */
.macro PER_ITERATION
	sub %r14, %rax
	jg .Lpos\@
	inc %rdi
	xor %eax, %eax
.Lpos\@:
	xor %edx, %edx
	mov $N, %ecx
	div %rcx
.endm

/* Measures \body twice: with R15 = "SVBASELN", which (on a VM started with
 * baseline=yes) sends each exit through the hypervisor's minimal stub - skip the
 * instruction, resume - and then through the full handler. Prints
 *   bench: NAME FULL cycles per round trip, minimal exit stub MIN, ratio R.Rx */
.macro MEASURE name:req, body:req
	movabs $0x4E4C455341425653, %r15
	TIMED \body
	xor %r15d, %r15d
	PER_ITERATION
	mov %rax, %rsi                  /* minimal stub */
	TIMED \body
	PER_ITERATION                   /* full path */
	PRINT "bench: \name "
	PRINT_DEC %rax
	PRINT " cycles per round trip, minimal exit stub "
	PRINT_DEC %rsi
	PRINT ", ratio "
	test %rsi, %rsi
	jnz .Lratio\@
	PRINT "n/a\n"
	jmp .Ldone\@
.Lratio\@:
	imul $10, %rax, %rax
	xor %edx, %edx
	div %rsi                        /* ratio x 10 */
	xor %edx, %edx
	mov $10, %ecx
	div %rcx
	PRINT_DEC %rax
	PUTCHAR '.'
	PRINT_DEC %rdx
	PRINT "x\n"
.Ldone\@:
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	xor %edi, %edi
	xor %r15d, %r15d

	TIMED body_baseline
	mov %rax, %r14                  /* baseline total */
	xor %edx, %edx
	mov $N, %ecx
	div %rcx
	PRINT "bench: baseline-loop "
	PRINT_DEC %rax
	PRINT " cycles per iteration\n"

	MEASURE vmcall, body_vmcall
	MEASURE cpuid, body_cpuid
	MEASURE out-uart, body_out

	TEST 1, %rdi, "every round trip costs more than the baseline loop"
	FINISH
