/* hostile_xsetbv: XSETBV values the processor refuses, which the hypervisor
 * carries out, must not end every VM. Meant for Bochs `corei7_skylake_x` (AVX-512,
 * MPX): each invalid XCR0 must raise #GP in this guest only; valid ones work.
 *   PASS 1 XSETBV XCR0 = 0x27 (opmask without the ZMM states) raises #GP
 *   PASS 2 XSETBV XCR0 = 0x67 raises #GP
 *   PASS 3 XSETBV XCR0 = 0xE3 (AVX-512 without AVX) raises #GP
 *   PASS 4 XSETBV XCR0 = 0x0B (BNDREGS without BNDCSR) raises #GP
 *   PASS 5 XSETBV XCR0 = 0x13 (BNDCSR without BNDREGS) raises #GP
 *   PASS 6 XSETBV XCR0 = 0x20001 (XTILECFG without XTILEDATA) raises #GP
 *   PASS 7 XSETBV XCR0 = 0x101 (a supervisor state) raises #GP
 *   PASS 8 XSETBV XCR0 = 0x5 (AVX without SSE) raises #GP
 *   PASS 9 XSETBV XCR1 raises #GP
 *   PASS 10 XSETBV XCR0 = 7 works
 *   PASS 11 XSETBV of every supported state works (AVX-512 all three together)
 * "hostile: XCR0 supported 0x..." is printed first.
 */
#include "guest.inc"
#include "idt64.inc"

.macro XSETBV_GP n:req, index:req, value:req, name:req
	mov $\index, %ecx
	mov $\value, %eax
	xor %edx, %edx
	TRY xsetbv
	cmpq $13, fault_vector(%rip)
	TEST_IF e, \n, "\name"
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	mov %cr4, %rax
	or $0x40600, %rax               /* OSXSAVE, OSFXSR, OSXMMEXCPT */
	mov %rax, %cr4
	mov $0xD, %eax
	xor %ecx, %ecx
	cpuid
	mov %eax, %r14d                 /* XCR0-supported, low half */
	PRINT "hostile: XCR0 supported "
	PRINT_HEX %r14
	PRINT "\n"

	XSETBV_GP 1, 0, 0x27, "XSETBV XCR0 = 0x27 (opmask without the ZMM states) raises #GP"
	XSETBV_GP 2, 0, 0x67, "XSETBV XCR0 = 0x67 raises #GP"
	XSETBV_GP 3, 0, 0xE3, "XSETBV XCR0 = 0xE3 (AVX-512 without AVX) raises #GP"
	XSETBV_GP 4, 0, 0x0B, "XSETBV XCR0 = 0x0B (BNDREGS without BNDCSR) raises #GP"
	XSETBV_GP 5, 0, 0x13, "XSETBV XCR0 = 0x13 (BNDCSR without BNDREGS) raises #GP"
	XSETBV_GP 6, 0, 0x20001, "XSETBV XCR0 = 0x20001 (XTILECFG without XTILEDATA) raises #GP"
	XSETBV_GP 7, 0, 0x101, "XSETBV XCR0 = 0x101 (a supervisor state) raises #GP"
	XSETBV_GP 8, 0, 0x5, "XSETBV XCR0 = 0x5 (AVX without SSE) raises #GP"
	XSETBV_GP 9, 1, 0x1, "XSETBV XCR1 raises #GP"

	xor %ecx, %ecx
	mov $7, %eax
	xor %edx, %edx
	TRY xsetbv
	cmpq $-1, fault_vector(%rip)
	TEST_IF e, 10, "XSETBV XCR0 = 7 works"

	/* Every user state the CPU supports (x87, SSE, AVX, MPX, AVX-512, PKRU ...). */
	xor %ecx, %ecx
	mov %r14d, %eax
	xor %edx, %edx
	TRY xsetbv
	mov fault_vector(%rip), %r12
	xor %ecx, %ecx
	xgetbv
	cmp %r14d, %eax
	jne 1f
	cmp $-1, %r12
1:	TEST_IF e, 11, "XSETBV of every supported state works (AVX-512 all three together)"
	/* Back to x87|SSE|AVX and let the victim run. */
	xor %ecx, %ecx
	mov $7, %eax
	xor %edx, %edx
	xsetbv
	FINISH
