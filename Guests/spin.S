/* spin: a guest that never yields.
 *
 * Prints one line and loops forever with interrupts off; the hypervisor's
 * VMX-preemption-timer budget (module option budget=, in million TSC ticks)
 * must stop it and report the budget exhausted, then run the next guest.
 * Expected hypervisor output:
 *   [spin] spinning forever
 * followed by the hypervisor's time-budget report.
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	PRINT "spinning forever\n"
1:	jmp 1b
