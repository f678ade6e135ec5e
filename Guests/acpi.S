/* acpi: the VM's ACPI tables checked from inside, then a reset through the FADT's
 * reset register.  Module options: expect=reset (or acpi=off expect=shutdown: no RSDP found).
 *
 * Finds the RSDP by the legacy scan (ACPI 6.0 §5.2.5.1: 16-byte boundaries in 0xE0000-0xFFFFF),
 * checks its two checksums, follows the XSDT to the FADT and the FADT to the DSDT and FACS,
 * checks every table's checksum, reads PM1a_CNT (SCI_EN must be 1: no SMM), looks for \_S5 in
 * the DSDT's AML, and finally writes RESET_VALUE to RESET_REG: the hypervisor must end the VM
 * as reset.
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	/* The legacy scan. */
	mov $0xE0000, %esi
1:	movabs $0x2052545020445352, %rax        /* "RSD PTR " */
	cmp %rax, (%rsi)
	je 2f
	add $16, %esi
	cmp $0x100000, %esi
	jb 1b
	PRINT "acpi: no RSDP in 0xE0000-0xFFFFF\n"
	FINISH
2:	mov %rsi, %r12                          /* R12 = RSDP */
	PRINT "acpi: RSDP at "
	PRINT_HEX %r12
	PRINT "\n"
	mov %r12, %rsi
	mov $20, %ecx
	call sum_bytes
	TEST 1, %rax, "RSDP checksum (first 20 bytes) is 0"
	mov %r12, %rsi
	mov $36, %ecx
	call sum_bytes
	TEST 2, %rax, "RSDP extended checksum (36 bytes) is 0"
	movzbl 15(%r12), %eax
	cmp $2, %eax
	TEST_IF e, 3, "RSDP revision 2 (XSDT present)"

	mov 24(%r12), %r13                      /* R13 = XSDT */
	cmpl $0x54445358, (%r13)                /* "XSDT" */
	TEST_IF e, 4, "XsdtAddress points at an XSDT"
	mov %r13, %rsi
	call sum_table
	TEST 5, %rax, "XSDT checksum is 0"

	/* The XSDT's entries: find the FADT ("FACP"). */
	mov 4(%r13), %ecx
	sub $36, %ecx
	shr $3, %ecx                            /* entry count */
	lea 36(%r13), %rdi
	xor %r14, %r14
3:	test %ecx, %ecx
	jz 4f
	mov (%rdi), %rax
	cmpl $0x50434146, (%rax)                /* "FACP" */
	cmove %rax, %r14
	add $8, %rdi
	dec %ecx
	jmp 3b
4:	test %r14, %r14
	setz %al
	movzbl %al, %eax
	TEST 6, %rax, "the XSDT lists a FADT"
	mov %r14, %rsi
	call sum_table
	TEST 7, %rax, "FADT checksum is 0"

	mov 140(%r14), %r15                     /* X_DSDT */
	cmpl $0x54445344, (%r15)                /* "DSDT" */
	TEST_IF e, 8, "X_DSDT points at a DSDT"
	mov %r15, %rsi
	call sum_table
	TEST 9, %rax, "DSDT checksum is 0"
	/* \_S5 in the AML: the bytes "_S5_" after a NameOp (0x08). */
	mov 4(%r15), %ecx
	lea 36(%r15), %rsi
	sub $36, %ecx
	xor %ebx, %ebx
5:	cmp $5, %ecx
	jb 6f
	cmpb $0x08, (%rsi)
	jne 7f
	cmpl $0x5F35535F, 1(%rsi)               /* "_S5_" */
	jne 7f
	mov $1, %ebx
7:	inc %rsi
	dec %ecx
	jmp 5b
6:	cmp $1, %ebx
	TEST_IF e, 10, "the DSDT defines \\_S5"
	mov 132(%r14), %rax                     /* X_FIRMWARE_CTRL */
	cmpl $0x53434146, (%rax)                /* "FACS" */
	TEST_IF e, 11, "X_FIRMWARE_CTRL points at a FACS"

	/* Fixed hardware: PM1a_CNT.SCI_EN reads 1. */
	mov 64(%r14), %edx                      /* PM1a_CNT_BLK */
	in %dx, %ax
	test $1, %ax
	TEST_IF nz, 12, "PM1a_CNT.SCI_EN is 1 (no SMM: ACPI mode from the start)"
	movl 112(%r14), %eax
	bt $10, %eax
	TEST_IF c, 13, "FADT flags: RESET_REG_SUP"

	/* Reset through RESET_REG (system I/O, byte). */
	PRINT "acpi: writing RESET_VALUE to RESET_REG\n"
	mov 120(%r14), %rdx                     /* RESET_REG.Address */
	movzbl 128(%r14), %eax                  /* RESET_VALUE */
	out %al, %dx
	PRINT "acpi: ERROR: still running after the reset\n"
	SHUTDOWN 2

/* RAX = byte sum (mod 256) of ECX bytes at RSI. */
sum_bytes:
	xor %eax, %eax
1:	addb (%rsi), %al
	inc %rsi
	loop 1b
	movzbl %al, %eax
	ret
/* RAX = byte sum of the table at RSI (length at +4). */
sum_table:
	mov 4(%rsi), %ecx
	jmp sum_bytes
