/* hostile_tsc: a guest rewrites the TSC; the hypervisor
 * schedules by its own. It checks that WRMSR IA32_TSC moves its own clock, then
 * rewrites the TSC to 0 and to 2^56 in a loop with interrupts off until its
 * time budget ends (expect=time-budget). A victim VM (victim.S) checks that its
 * TSC and RTC never jump and that it still gets its share of the CPU.
 *   PASS 1 after WRMSR IA32_TSC = 0 my TSC reads below 1000000
 *   PASS 2 after WRMSR IA32_TSC = 2^56 my TSC reads 2^56 and a little
 *   PASS 3 IA32_TSC_ADJUST moved with the TSC writes
 *   PASS 4 WRMSR IA32_TSC_ADJUST = 0 gives back the TSC before the writes
 */
#include "guest.inc"
#include "idt64.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r14                  /* my TSC before any write */

	mov $0x10, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	cmp $1000000, %rax
	TEST_IF b, 1, "after WRMSR IA32_TSC = 0 my TSC reads below 1000000"

	mov $0x10, %ecx
	xor %eax, %eax
	mov $0x01000000, %edx
	wrmsr
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	movabs $0x0100000000000000, %rbx
	sub %rbx, %rax
	cmp $1000000, %rax
	TEST_IF b, 2, "after WRMSR IA32_TSC = 2^56 my TSC reads 2^56 and a little"

	mov $0x3B, %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	test %rax, %rax
	TEST_IF ne, 3, "IA32_TSC_ADJUST moved with the TSC writes"

	mov $0x3B, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r14, %rax
	cmp $10000000, %rax
	TEST_IF b, 4, "WRMSR IA32_TSC_ADJUST = 0 gives back the TSC before the writes"

	PRINT "hostile: rewriting the TSC with interrupts off\n"
	cli
	mov $0x10, %ecx
1:	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	mov $0x01000000, %edx
	wrmsr
	jmp 1b
