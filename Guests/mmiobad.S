/* mmiobad: an instruction the MMIO path does not emulate (ADD to the I/O APIC's IOWIN): the
 * hypervisor must stop this guest with a report naming the opcode, and nothing else.
 * Module options: apic=on expect=error. */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	mov $0xFEC00000, %rbx
	PRINT "mmiobad: ADD to IOWIN\n"
	addl $1, 0x10(%rbx)
	PRINT "mmiobad: ERROR: still running\n"
	SHUTDOWN 2
