/* hello: the smallest long-mode guest, one line through each output path.
 *
 * Checks: the consoleWrite, putChar and version hypercalls, the emulated COM1
 * UART (polled LSR/THR) and the port 0xE9 debug console.
 * Expected hypervisor output (VERSION = hypercall 0's result, e.g.
 * 0x5356000000000001 for ABI 0.1):
 *   [hello] Hello from a long-mode guest under Swiftvisor
 *   [hello] hello via COM1
 *   [hello] hello via putChar
 *   [hello] hypercall version VERSION (ABI 0.1)
 *   [hello] PASS 1 version carries the SV signature
 *   [hello] hello via port E9
 * then shutdown with exit code 0.
 */
#include "guest.inc"
#include "idt64.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	PRINT "Hello from a long-mode guest under Swiftvisor\n"
	COM1_PRINT "hello via COM1\n"

	/* putChar, one byte per hypercall */
	lea putchar_msg(%rip), %rsi
	mov $(putchar_end - putchar_msg), %ecx
1:	movzbl (%rsi), %ebx
	mov $HC_PUTCHAR, %eax
	vmcall
	inc %rsi
	dec %ecx
	jnz 1b

	/* version: "SV" << 48 | major << 16 | minor */
	mov $HC_VERSION, %eax
	vmcall
	mov %rax, %r12
	PRINT "hypercall version "
	PRINT_HEX %r12
	PRINT " (ABI "
	mov %r12, %rax
	shr $16, %rax
	and $0xFFFF, %eax
	PRINT_DEC %rax
	PRINT "."
	movzwl %r12w, %eax
	PRINT_DEC %rax
	PRINT ")\n"
	mov %r12, %rax
	shr $48, %rax
	cmp $HC_VERSION_SIGNATURE, %rax
	TEST_IF e, 1, "version carries the SV signature"

	/* port 0xE9, byte by byte */
	lea e9_msg(%rip), %rsi
	mov $(e9_end - e9_msg), %ecx
	mov $PORT_E9, %dx
2:	lodsb
	outb %al, %dx
	dec %ecx
	jnz 2b

	FINISH

	.section .rodata
putchar_msg:	.ascii "hello via putChar\n"
putchar_end:
e9_msg:		.ascii "hello via port E9\n"
e9_end:
