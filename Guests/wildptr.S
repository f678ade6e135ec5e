/* wildptr: hypercall argument checking (docs/hypercalls.md errors).
 *
 * Every call below passes a bad pointer, length, function or argument; the
 * hypervisor must return the error in RAX, print nothing for it and keep
 * running.  RBX at entry holds the RAM size (docs/guests.md), used for a
 * buffer that straddles the end of RAM.
 * Expected hypervisor output (the third result may be -3 or -2):
 *   [wildptr] consoleWrite(0xFFFFFFFFFFFFF000, 16) = -2
 *   [wildptr] PASS 1 consoleWrite of an address outside RAM returns -2 (badAddress)
 *   [wildptr] consoleWrite(0x9000, 100000) = -3
 *   [wildptr] PASS 2 consoleWrite longer than 4096 returns -3 (badLength)
 *   [wildptr] consoleWrite(0x8000, UINT64_MAX) = -3
 *   [wildptr] PASS 3 consoleWrite of length UINT64_MAX returns an error
 *   [wildptr] consoleWrite(RAM end - 8, 16) = -2
 *   [wildptr] PASS 4 consoleWrite straddling the end of RAM returns -2 (badAddress)
 *   [wildptr] hypercall 99 = -1
 *   [wildptr] PASS 5 unknown hypercall returns -1 (unknownFunction)
 *   [wildptr] testResult(name 0xFFFFFFFF00000000, 8) = -2
 *   [wildptr] PASS 6 testResult with a wild name pointer returns -2 (badAddress)
 *   [wildptr] testResult(verdict 2) = -4
 *   [wildptr] PASS 7 testResult with verdict 2 returns -4 (badArgument)
 *   [wildptr] putChar(0x100) = -4
 *   [wildptr] PASS 8 putChar of 0x100 returns -4 (badArgument)
 *   [wildptr] hypervisor survived wild pointers
 *   [wildptr] PASS 9 hypervisor survived wild pointers
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

/* Prints "<label> = <signed RAX>\n" and keeps the result in r12. */
.macro REPORT label:req
	mov %rax, %r12
	PRINT "\label = "
	PRINT_SDEC %r12
	PRINT "\n"
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	mov %rbx, %r15                  /* RAM size */
	call idt_install

	mov $0xFFFFFFFFFFFFF000, %rbx
	mov $16, %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall
	REPORT "consoleWrite(0xFFFFFFFFFFFFF000, 16)"
	cmp $HC_E_BAD_ADDRESS, %r12
	TEST_IF e, 1, "consoleWrite of an address outside RAM returns -2 (badAddress)"

	mov $0x9000, %ebx
	mov $100000, %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall
	REPORT "consoleWrite(0x9000, 100000)"
	cmp $HC_E_BAD_LENGTH, %r12
	TEST_IF e, 2, "consoleWrite longer than 4096 returns -3 (badLength)"

	mov $0x8000, %ebx
	mov $-1, %rcx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall
	REPORT "consoleWrite(0x8000, UINT64_MAX)"
	test %r12, %r12
	TEST_IF s, 3, "consoleWrite of length UINT64_MAX returns an error"

	lea -8(%r15), %rbx
	mov $16, %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall
	REPORT "consoleWrite(RAM end - 8, 16)"
	cmp $HC_E_BAD_ADDRESS, %r12
	TEST_IF e, 4, "consoleWrite straddling the end of RAM returns -2 (badAddress)"

	mov $99, %eax
	vmcall
	REPORT "hypercall 99"
	cmp $HC_E_UNKNOWN_FUNCTION, %r12
	TEST_IF e, 5, "unknown hypercall returns -1 (unknownFunction)"

	/* a rejected testResult prints no PASS/FAIL line and is not counted */
	mov $100, %ebx
	xor %ecx, %ecx
	mov $0xFFFFFFFF00000000, %rdx
	mov $8, %esi
	mov $HC_TEST_RESULT, %eax
	vmcall
	REPORT "testResult(name 0xFFFFFFFF00000000, 8)"
	cmp $HC_E_BAD_ADDRESS, %r12
	TEST_IF e, 6, "testResult with a wild name pointer returns -2 (badAddress)"

	mov $101, %ebx
	mov $2, %ecx
	lea wild_name(%rip), %rdx
	mov $(wild_name_end - wild_name), %esi
	mov $HC_TEST_RESULT, %eax
	vmcall
	REPORT "testResult(verdict 2)"
	cmp $HC_E_BAD_ARGUMENT, %r12
	TEST_IF e, 7, "testResult with verdict 2 returns -4 (badArgument)"

	mov $0x100, %ebx
	mov $HC_PUTCHAR, %eax
	vmcall
	REPORT "putChar(0x100)"
	cmp $HC_E_BAD_ARGUMENT, %r12
	TEST_IF e, 8, "putChar of 0x100 returns -4 (badArgument)"

	PRINT "hypervisor survived wild pointers\n"
	xor %eax, %eax
	TEST 9, %rax, "hypervisor survived wild pointers"
	FINISH

	.section .rodata
wild_name:	.ascii "must not be printed"
wild_name_end:
