/* intruder: a guest that tries to reach memory that is not its own.
 *
 * It writes a pattern over all of its RAM above its image (RBX = RAM size at
 * entry; that much it owns), then walks on past the end of its RAM - toward
 * where other VMs' memory and the hypervisor live in host-physical terms. EPT
 * maps nothing there, so the first store beyond its RAM must stop it with an
 * EPT violation; other VMs (the tickers, which check their own RAM) carry on.
 *   [intruder] filled my RAM up to 0x...
 *   [intruder] writing past the end of my RAM at 0x...
 * then the hypervisor's EPT-violation report. It must never print
 * "ERROR: wrote outside my RAM".
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	mov %rbx, %r12                  /* RAM size */
	mov $0x10000, %rdi
	mov %r12, %rcx
	sub %rdi, %rcx
	shr $3, %rcx
	movabs $0x494E5452554445AA, %rax
	rep stosq
	PRINT "filled my RAM up to "
	PRINT_HEX %r12
	PRINT "\n"
	PRINT "writing past the end of my RAM at "
	PRINT_HEX %r12
	PRINT "\n"
	mov %r12, %rdi
1:	movq $0x1BADBAD, (%rdi)          /* every 2 MiB up to 4 GiB: the first must fault */
	add $0x200000, %rdi
	movabs $0x100000000, %r11
	cmp %r11, %rdi
	jb 1b
	PRINT "ERROR: wrote outside my RAM\n"
	SHUTDOWN 1
