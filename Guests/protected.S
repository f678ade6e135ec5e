/* protected: a 32-bit protected-mode guest without paging (mode=protected,
 * unrestricted guest).
 *
 * Start state: CS = 0x18 (32-bit flat), data 0x10, ESP = 0x8000, CR0 = PE|ET|NE.
 * Checks: consoleWrite from 32-bit code, CR0.PE = 1 and CR0.PG = 0.
 * Expected hypervisor output (CR0 is typically 0x00000031):
 *   [protected] hello from 32-bit protected mode
 *   [protected] CR0 = 0x00000031
 *   [protected] PASS 1 CR0.PE is 1
 *   [protected] PASS 2 CR0.PG is 0
 * then shutdown 0.
 */
#include "guest_abi.inc"

	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	xor %ebp, %ebp                  /* failure count */
	mov $hello_msg, %ebx
	mov $(hello_end - hello_msg), %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall

	mov %cr0, %edi
	mov $cr0_msg, %ebx
	mov $(cr0_end - cr0_msg), %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall
	mov %edi, %eax
	call print_hex32
	mov $newline, %ebx
	mov $1, %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall

	mov %edi, %ecx
	not %ecx
	and $1, %ecx                    /* fail if PE = 0 */
	mov $1, %ebx
	mov $name1, %edx
	mov $(name1_end - name1), %esi
	call test32

	mov %edi, %ecx
	shr $31, %ecx                   /* fail if PG = 1 */
	mov $2, %ebx
	mov $name2, %edx
	mov $(name2_end - name2), %esi
	call test32

	xor %ebx, %ebx
	test %ebp, %ebp
	setnz %bl
	mov $HC_SHUTDOWN, %eax
	vmcall
1:	hlt
	jmp 1b

/* testResult(EBX = n, ECX = 0/1, EDX = name, ESI = length) */
test32:
	mov $HC_TEST_RESULT, %eax
	vmcall
	or %ecx, %eax
	jz 1f
	inc %ebp
1:	ret

/* Prints EAX as "0x" and 8 hex digits.  Clobbers EAX, EBX, ECX, EDX. */
print_hex32:
	mov $(hexbuf + 10), %ebx
	mov $8, %ecx
1:	mov %eax, %edx
	and $0xF, %edx
	movb hexdigits(%edx), %dl
	dec %ebx
	mov %dl, (%ebx)
	shr $4, %eax
	loop 1b
	mov $hexbuf, %ebx
	mov $10, %ecx
	mov $HC_CONSOLE_WRITE, %eax
	vmcall
	ret

	.section .rodata
hello_msg:	.ascii "hello from 32-bit protected mode\n"
hello_end:
cr0_msg:	.ascii "CR0 = "
cr0_end:
newline:	.ascii "\n"
hexdigits:	.ascii "0123456789abcdef"
name1:		.ascii "CR0.PE is 1"
name1_end:
name2:		.ascii "CR0.PG is 0"
name2_end:

	.data
hexbuf:		.ascii "0x00000000"
