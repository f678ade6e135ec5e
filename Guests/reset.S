/* reset: resets the machine the PC way, through the keyboard controller
 * (i8042 command 0xFE pulses the CPU's reset line). The hypervisor must stop
 * this VM and report it; other guests carry on.
 *   [reset] resetting through the keyboard controller
 * then "reset requested through the keyboard controller (i8042 command 0xFE)".
 * It must never print "ERROR: still running after the reset".
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	PRINT "resetting through the keyboard controller\n"
	mov $0xFE, %al
	out %al, $0x64
	PRINT "ERROR: still running after the reset\n"
	SHUTDOWN 1
