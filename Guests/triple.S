/* triple: a triple fault must stop only this guest.
 *
 * Loads an IDT with limit 0, then INT3: the gate for vector 3 is beyond the
 * limit (#GP), so is #GP's (#DF), so is #DF's: triple fault, which the
 * hypervisor must catch (VM exit "triple fault") and report.
 * Expected hypervisor output:
 *   [triple] about to triple-fault
 * followed by the hypervisor's triple-fault report.
 * Never expected: "[triple] ERROR: survived a triple fault".
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	PRINT "about to triple-fault\n"
	lidt null_idtr(%rip)
	int3
	PRINT "ERROR: survived a triple fault\n"
	SHUTDOWN 1

	.section .rodata
	.balign 8
null_idtr:
	.word 0                         /* limit */
	.quad 0                         /* base */
