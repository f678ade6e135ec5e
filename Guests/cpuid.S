/* cpuid: what the hypervisor's CPUID emulation shows the guest.
 *
 * Checks: leaf 1 hides VMX (ECX bit 5 = 0) and sets the hypervisor-present
 * bit (ECX bit 31 = 1); leaf 0x40000000 answers EAX >= 0x40000000 and the
 * signature "Swiftvisor" in EBX, ECX, EDX ("Swif", "tvis", "or\0\0"); leaf 0
 * gives a printable 12-byte vendor string.
 * Expected hypervisor output (ECX1, MAXLEAF, VENDOR depend on the CPU):
 *   [cpuid] CPUID.1: ECX = ECX1
 *   [cpuid] PASS 1 CPUID.1:ECX.VMX[bit 5] is hidden
 *   [cpuid] PASS 2 CPUID.1:ECX.hypervisor[bit 31] is set
 *   [cpuid] CPUID.40000000: max leaf MAXLEAF, signature "Swiftvisor"
 *   [cpuid] PASS 3 CPUID.40000000 signature is Swiftvisor
 *   [cpuid] PASS 4 CPUID.40000000 EAX >= 0x40000000
 *   [cpuid] CPUID.0: vendor "VENDOR"
 *   [cpuid] PASS 5 CPUID.0 vendor string is printable
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	/* leaf 1 */
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	mov %rcx, %r12
	PRINT "CPUID.1: ECX = "
	PRINT_HEX %r12
	PRINT "\n"
	bt $5, %r12d
	TEST_IF nc, 1, "CPUID.1:ECX.VMX[bit 5] is hidden"
	bt $31, %r12d
	TEST_IF c, 2, "CPUID.1:ECX.hypervisor[bit 31] is set"

	/* leaf 0x40000000 */
	mov $0x40000000, %eax
	xor %ecx, %ecx
	cpuid
	mov %eax, %r12d
	lea text_buf(%rip), %rdi
	mov %ebx, 0(%rdi)
	mov %ecx, 4(%rdi)
	mov %edx, 8(%rdi)
	/* r13 = 0 if the signature matches */
	xor %r13d, %r13d
	cmp $0x66697753, %ebx           /* "Swif" */
	setne %r13b
	cmp $0x73697674, %ecx           /* "tvis" */
	setne %al
	or %al, %r13b
	cmp $0x0000726F, %edx           /* "or\0\0" */
	setne %al
	or %al, %r13b
	PRINT "CPUID.40000000: max leaf "
	PRINT_HEX %r12
	PRINT ", signature \""
	call print_text_buf
	PRINT "\"\n"
	TEST 3, %r13, "CPUID.40000000 signature is Swiftvisor"
	cmp $0x40000000, %r12d
	TEST_IF ae, 4, "CPUID.40000000 EAX >= 0x40000000"

	/* leaf 0: vendor in EBX, EDX, ECX */
	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	lea text_buf(%rip), %rdi
	mov %ebx, 0(%rdi)
	mov %edx, 4(%rdi)
	mov %ecx, 8(%rdi)
	PRINT "CPUID.0: vendor \""
	call print_text_buf
	PRINT "\"\n"
	/* r13 = number of bytes outside 0x20..0x7E */
	xor %r13d, %r13d
	mov $12, %ecx
1:	movzbl (%rdi), %eax
	inc %rdi
	sub $0x20, %eax
	cmp $(0x7E - 0x20), %eax
	jbe 2f
	inc %r13
2:	dec %ecx
	jnz 1b
	TEST 5, %r13, "CPUID.0 vendor string is printable"

	FINISH

/* consoleWrite of text_buf up to its first NUL (at most 12 bytes) */
print_text_buf:
	push %rax
	push %rbx
	push %rcx
	lea text_buf(%rip), %rbx
	xor %ecx, %ecx
1:	cmpb $0, (%rbx,%rcx)
	je 2f
	inc %ecx
	cmp $12, %ecx
	jb 1b
2:	call guest_console_write
	pop %rcx
	pop %rbx
	pop %rax
	ret

	.bss
text_buf:	.space 16
