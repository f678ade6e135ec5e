/* msr: MSR virtualisation.
 *
 * Checks: (a) RDMSR IA32_FEATURE_CONTROL (0x3A) succeeds with the lock bit
 * set and VMX-outside-SMX clear (VMX is hidden); (b) WRMSR to it raises #GP;
 * (c) RDMSR IA32_VMX_BASIC (0x480) raises #GP; (d) LSTAR, (e) STAR and
 * KERNEL_GS_BASE round-trip a written value (they pass through untrapped).
 * The #GPs are caught by the guest's own IDT (idt64.inc) and skipped.
 * LSTAR and KERNEL_GS_BASE must hold canonical addresses (WRMSR of a
 * non-canonical one raises #GP on real CPUs), so those use canonical values.
 * Expected hypervisor output (VALUE depends on the hypervisor):
 *   [msr] IA32_FEATURE_CONTROL = VALUE
 *   [msr] PASS 1 RDMSR IA32_FEATURE_CONTROL succeeds
 *   [msr] PASS 2 IA32_FEATURE_CONTROL lock bit is set
 *   [msr] PASS 3 IA32_FEATURE_CONTROL VMX-outside-SMX bit is clear
 *   [msr] PASS 4 WRMSR IA32_FEATURE_CONTROL raises #GP
 *   [msr] PASS 5 RDMSR IA32_VMX_BASIC raises #GP
 *   [msr] PASS 6 LSTAR round trip
 *   [msr] PASS 7 STAR round trip
 *   [msr] PASS 8 KERNEL_GS_BASE round trip
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

.equ IA32_FEATURE_CONTROL, 0x3A
.equ IA32_VMX_BASIC,       0x480
.equ IA32_STAR,            0xC0000081
.equ IA32_LSTAR,           0xC0000082
.equ IA32_KERNEL_GS_BASE,  0xC0000102

/* TEST n: write VALUE to MSR, read it back; pass if neither faults and the
 * value matches. */
.macro MSR_ROUND_TRIP n:req, msr:req, value:req, name:req
	mov $\msr, %ecx
	mov $\value, %r12
	mov %r12d, %eax
	mov %r12, %rdx
	shr $32, %rdx
	TRY wrmsr
	mov fault_vector(%rip), %r13
	xor %eax, %eax
	xor %edx, %edx
	mov $\msr, %ecx
	TRY rdmsr
	and fault_vector(%rip), %r13    /* -1 & -1 = -1: neither faulted */
	shl $32, %rdx
	or %rdx, %rax
	cmp $-1, %r13
	jne .Lrt_fail\@
	cmp %r12, %rax
.Lrt_fail\@:
	TEST_IF e, \n, "\name"
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	/* (a) */
	mov $IA32_FEATURE_CONTROL, %ecx
	xor %eax, %eax
	xor %edx, %edx
	TRY rdmsr
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r12
	PRINT "IA32_FEATURE_CONTROL = "
	PRINT_HEX %r12
	PRINT "\n"
	cmpq $-1, fault_vector(%rip)
	TEST_IF e, 1, "RDMSR IA32_FEATURE_CONTROL succeeds"
	bt $0, %r12
	TEST_IF c, 2, "IA32_FEATURE_CONTROL lock bit is set"
	bt $2, %r12
	TEST_IF nc, 3, "IA32_FEATURE_CONTROL VMX-outside-SMX bit is clear"

	/* (b) write back what was read (with bit 2 set, to try enabling VMX) */
	mov $IA32_FEATURE_CONTROL, %ecx
	mov %r12d, %eax
	or $0x5, %eax
	mov %r12, %rdx
	shr $32, %rdx
	TRY wrmsr
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 4, "WRMSR IA32_FEATURE_CONTROL raises #GP"

	/* (c) */
	mov $IA32_VMX_BASIC, %ecx
	TRY rdmsr
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 5, "RDMSR IA32_VMX_BASIC raises #GP"

	/* (d), (e) */
	MSR_ROUND_TRIP 6, IA32_LSTAR, 0xFFFF800090ABCDE0, "LSTAR round trip"
	MSR_ROUND_TRIP 7, IA32_STAR, 0x1234567890ABCDE0, "STAR round trip"
	MSR_ROUND_TRIP 8, IA32_KERNEL_GS_BASE, 0x00007F1234567890, "KERNEL_GS_BASE round trip"

	FINISH
