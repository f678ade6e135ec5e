/* hostile_out: exit handling is charged to the VM's turn: an
 * OUT to an unhandled port in a loop with interrupts off - two instructions per
 * exit, every exit thousands of host instructions - until its time budget ends
 * (expect=time-budget). A victim VM (victim.S) checks that it still gets the CPU
 * every slice and at least its share.
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	PRINT "hostile: OUT to port 0xEC in a loop with interrupts off\n"
	cli
1:	outb %al, $0xEC
	jmp 1b
