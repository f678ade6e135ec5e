/* hostile_cr2dr: CR2, DR0-DR3 and DR6 are each VM's own.
 * It fills CR2, DR0-DR3 and DR6 with 0x41 patterns, computes across many turns
 * of the round-robin schedule, and checks its own values are still there; a
 * victim VM (victim.S) checks its own.
 *   PASS 1 CR2 kept my value across other VMs' turns
 *   PASS 2 DR0-DR3 kept my values across other VMs' turns
 *   PASS 3 DR6 kept my value across other VMs' turns
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	movabs $0x4141414141414141, %rax
	mov %rax, %cr2
	movabs $0x0000414141414140, %rax
	mov %rax, %dr0
	mov %rax, %dr1
	mov %rax, %dr2
	mov %rax, %dr3
	mov $0xFFFF0FF2, %eax
	mov %rax, %dr6
	mov %cr2, %r8
	mov %dr0, %r9
	mov %dr3, %r10
	mov %dr6, %r11
	PRINT "hostile: CR2, DR0-DR3 and DR6 set to 0x41 patterns\n"
	mov $20000000, %ecx
1:	dec %ecx
	jnz 1b
	mov %cr2, %rax
	cmp %r8, %rax
	TEST_IF e, 1, "CR2 kept my value across other VMs' turns"
	xor %r12d, %r12d
	mov %dr0, %rax
	xor %r9, %rax
	or %rax, %r12
	mov %dr1, %rax
	xor %r9, %rax
	or %rax, %r12
	mov %dr2, %rax
	xor %r9, %rax
	or %rax, %r12
	mov %dr3, %rax
	xor %r10, %rax
	or %rax, %r12
	TEST 2, %r12, "DR0-DR3 kept my values across other VMs' turns"
	mov %dr6, %rax
	cmp %r11, %rax
	TEST_IF e, 3, "DR6 kept my value across other VMs' turns"
	FINISH
