/* io: port I/O emulation.
 *
 * Checks: (a) IN byte/word/dword from the unhandled port 0x1234 reads all
 * ones; (b) OUTs to it are ignored; (c) OUTs to port 0x80 are ignored;
 * (d) the COM1 scratch register 0x3FF keeps what is written; (e) the COM1
 * divisor latch (LCR.DLAB=1, DLL/DLM) round-trips and LCR reads back;
 * (f) text through the polled UART, after which LSR shows THR empty.
 * Expected hypervisor output:
 *   [io] PASS 1 IN byte from port 0x1234 reads 0xFF
 *   [io] PASS 2 IN word from port 0x1234 reads 0xFFFF
 *   [io] PASS 3 IN dword from port 0x1234 reads 0xFFFFFFFF
 *   [io] PASS 4 OUT byte/word/dword to port 0x1234 is ignored
 *   [io] PASS 5 OUT to port 0x80 (16 times) is ignored
 *   [io] PASS 6 COM1 scratch register keeps 0x5A and 0xA5
 *   [io] PASS 7 COM1 divisor latch round trip (DLL 0x03, DLM 0x00, LCR 0x80/0x03)
 *   [io] io via COM1
 *   [io] PASS 8 COM1 LSR shows THR empty after output
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

.equ UNHANDLED_PORT, 0x1234

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	/* (a) EAX is preset to 0 so partial-width results are visible */
	mov $UNHANDLED_PORT, %dx
	xor %eax, %eax
	inb %dx, %al
	cmp $0xFF, %rax
	TEST_IF e, 1, "IN byte from port 0x1234 reads 0xFF"
	xor %eax, %eax
	inw %dx, %ax
	cmp $0xFFFF, %rax
	TEST_IF e, 2, "IN word from port 0x1234 reads 0xFFFF"
	xor %eax, %eax
	inl %dx, %eax
	mov $0xFFFFFFFF, %ecx
	cmp %rcx, %rax
	TEST_IF e, 3, "IN dword from port 0x1234 reads 0xFFFFFFFF"

	/* (b) */
	mov $0x12345678, %eax
	outb %al, %dx
	outw %ax, %dx
	outl %eax, %dx
	xor %eax, %eax
	TEST 4, %rax, "OUT byte/word/dword to port 0x1234 is ignored"

	/* (c) */
	mov $16, %ecx
1:	mov %cl, %al
	outb %al, $PORT_POST
	dec %ecx
	jnz 1b
	xor %eax, %eax
	TEST 5, %rax, "OUT to port 0x80 (16 times) is ignored"

	/* (d) r12 = 0 if both patterns read back */
	xor %r12d, %r12d
	mov $COM1_SCR, %dx
	mov $0x5A, %al
	outb %al, %dx
	xor %eax, %eax
	inb %dx, %al
	cmp $0x5A, %al
	setne %cl
	or %cl, %r12b
	mov $0xA5, %al
	outb %al, %dx
	xor %eax, %eax
	inb %dx, %al
	cmp $0xA5, %al
	setne %cl
	or %cl, %r12b
	TEST 6, %r12, "COM1 scratch register keeps 0x5A and 0xA5"

	/* (e) r12 = 0 if LCR, DLL, DLM and the restored LCR all read back */
	xor %r12d, %r12d
	mov $COM1_LCR, %dx
	mov $0x80, %al                  /* DLAB */
	outb %al, %dx
	inb %dx, %al
	cmp $0x80, %al
	setne %cl
	or %cl, %r12b
	mov $COM1_THR, %dx              /* DLL while DLAB=1 */
	mov $0x03, %al
	outb %al, %dx
	mov $COM1_IER, %dx              /* DLM while DLAB=1 */
	mov $0x00, %al
	outb %al, %dx
	mov $COM1_THR, %dx
	inb %dx, %al
	cmp $0x03, %al
	setne %cl
	or %cl, %r12b
	mov $COM1_IER, %dx
	inb %dx, %al
	cmp $0x00, %al
	setne %cl
	or %cl, %r12b
	mov $COM1_LCR, %dx
	mov $0x03, %al                  /* 8N1, DLAB=0 */
	outb %al, %dx
	inb %dx, %al
	cmp $0x03, %al
	setne %cl
	or %cl, %r12b
	TEST 7, %r12, "COM1 divisor latch round trip (DLL 0x03, DLM 0x00, LCR 0x80/0x03)"

	/* (f) */
	COM1_PRINT "io via COM1\n"
	mov $COM1_LSR, %dx
	inb %dx, %al
	test $LSR_THRE, %al
	TEST_IF nz, 8, "COM1 LSR shows THR empty after output"

	FINISH
