/* realmode: a real-mode guest (module option mode=real, unrestricted guest).
 *
 * Start state: CS = 0, IP = 0x8000, SS = 0, SP = 0x7FF0, CR0.PE = 0.  All
 * addresses here are below 64 KiB, so offsets equal guest-physical addresses
 * with DS = ES = 0.  Hypercalls use 32-bit registers (operand-size prefix);
 * the upper halves of RAX..RSI are zero from the start state.
 * Checks: COM1 output with 16-bit IN/OUT, consoleWrite from real mode (and
 * its result), CR0.PE = 0 as read by SMSW.
 * Expected hypervisor output:
 *   [realmode] hello from real mode
 *   [realmode] consoleWrite from real mode
 *   [realmode] PASS 1 consoleWrite from real mode returns its length
 *   [realmode] PASS 2 CR0.PE is 0 (SMSW)
 * then shutdown 0.
 */
#include "guest_abi.inc"

	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	cld
	xor %bp, %bp                    /* failure count */

	mov $com1_msg, %si
	mov $(com1_end - com1_msg), %cx
1:	lodsb
	call com1_putc16
	loop 1b

	movl $cw_msg, %ebx
	movl $(cw_end - cw_msg), %ecx
	movl $HC_CONSOLE_WRITE, %eax
	vmcall
	cmpl $(cw_end - cw_msg), %eax
	setne %cl
	movl $1, %ebx
	movl $name1, %edx
	movl $(name1_end - name1), %esi
	call test16

	smsw %ax
	and $1, %ax                     /* PE */
	mov %al, %cl
	movl $2, %ebx
	movl $name2, %edx
	movl $(name2_end - name2), %esi
	call test16

	xorl %ebx, %ebx
	test %bp, %bp
	setnz %bl
	movl $HC_SHUTDOWN, %eax
	vmcall
2:	hlt
	jmp 2b

/* COM1: wait for LSR.THRE, write AL.  Preserves AX, DX. */
com1_putc16:
	push %dx
	push %ax
	mov $COM1_LSR, %dx
1:	inb %dx, %al
	test $LSR_THRE, %al
	jz 1b
	pop %ax
	mov $COM1_THR, %dx
	outb %al, %dx
	pop %dx
	ret

/* testResult(EBX = n, CL != 0 -> fail, EDX = name, ESI = length) */
test16:
	movzbl %cl, %ecx
	test %ecx, %ecx
	setnz %cl
	movl $HC_TEST_RESULT, %eax
	vmcall
	orl %ecx, %eax
	jz 1f
	inc %bp
1:	ret

	.section .rodata
com1_msg:	.ascii "hello from real mode\n"
com1_end:
cw_msg:		.ascii "consoleWrite from real mode\n"
cw_end:
name1:		.ascii "consoleWrite from real mode returns its length"
name1_end:
name2:		.ascii "CR0.PE is 0 (SMSW)"
name2_end:
