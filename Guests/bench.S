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
 *   [bench] bench: vmcall 123 cycles per round trip
 *   [bench] bench: cpuid 130 cycles per round trip
 *   [bench] bench: out-uart 200 cycles per round trip
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

/* Prints "bench: \name <(RAX - r14) / N> cycles per round trip"; clamps at 0
 * and counts a non-positive cost in r15. */
.macro REPORT name:req
	sub %r14, %rax
	jg .Lpos\@
	inc %r15
	xor %eax, %eax
.Lpos\@:
	xor %edx, %edx
	mov $N, %ecx
	div %rcx
	PRINT "bench: \name "
	PRINT_DEC %rax
	PRINT " cycles per round trip\n"
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	xor %r15d, %r15d

	TIMED body_baseline
	mov %rax, %r14                  /* baseline total */
	xor %edx, %edx
	mov $N, %ecx
	div %rcx
	PRINT "bench: baseline-loop "
	PRINT_DEC %rax
	PRINT " cycles per iteration\n"

	TIMED body_vmcall
	REPORT vmcall
	TIMED body_cpuid
	REPORT cpuid
	TIMED body_out
	REPORT out-uart

	TEST 1, %r15, "every round trip costs more than the baseline loop"
	FINISH
