/* misc: the remaining exits — INVD, CR4.OSXSAVE/XSETBV, VMX instructions,
 * CR4.VMXE, CR0 writes — and the hypervisor's own CPUID leaf 0x40000001.
 *
 * Checks, one group each (a line is printed before every group):
 *  1. INVD runs without fault (the hypervisor performs it as a no-op).
 *  2. If CPUID.1:ECX.XSAVE[26] is set: setting CR4.OSXSAVE does not fault and
 *     reads back; CPUID.1:ECX.OSXSAVE[27] then reads 1 (the hypervisor mirrors
 *     the guest's CR4); XSETBV(0, 3) succeeds and XGETBV(0) reads 3; XSETBV(0, 2)
 *     (x87 clear) and XSETBV(1, 3) raise #GP.  XCR0 is then put back as it was
 *     (one more XSETBV).  Without XSAVE the group prints a note and is skipped.
 *  3. VMXON (memory operand) and VMREAD raise #UD (VMX is hidden); VMCALL is
 *     the hypercall and does not fault.
 *  4. Setting CR4.VMXE raises #GP; CR4 then reads as before, VMXE clear.
 *  5. CR0.WP cleared and set again reads back each time without fault; CR0 is
 *     printed; NE reads 1, and a guest that clears NE reads it back clear
 *     although the CPU keeps it forced (the read shadow hides the fixed bit).
 *  6. CPUID.40000001: EAX = 1 (hypercall ABI 0.1).
 * Exits it causes (CPU with XSAVE whose CR4_FIXED1 allows OSXSAVE, so that
 * setting OSXSAVE does not exit): INVD 1, XSETBV 4, VMXON 1, VMREAD 1,
 * CPUID 3, control-register access 3 (VMXE, NE clear, NE set).
 * Expected hypervisor output (VALUE depends on the CPU):
 *   [misc] group 1: INVD
 *   [misc] PASS 1 INVD executes without fault
 *   [misc] group 2: CR4.OSXSAVE and XSETBV
 *   [misc] XCR0 before = VALUE
 *   [misc] PASS 2 setting CR4.OSXSAVE does not fault
 *   [misc] PASS 3 CR4.OSXSAVE reads back as 1
 *   [misc] PASS 4 CPUID.1:ECX.OSXSAVE[27] is 1 after setting CR4.OSXSAVE
 *   [misc] PASS 5 XSETBV XCR0=3 (x87|SSE) succeeds
 *   [misc] PASS 6 XGETBV(0) reads 3 back
 *   [misc] PASS 7 XSETBV XCR0=2 (x87 clear) raises #GP
 *   [misc] PASS 8 XSETBV ECX=1 raises #GP
 *   [misc] PASS 9 XCR0 restored
 *   [misc] group 3: VMX instructions
 *   [misc] PASS 10 VMXON raises #UD
 *   [misc] PASS 11 VMREAD raises #UD
 *   [misc] PASS 12 VMCALL is the hypercall, no fault
 *   [misc] group 4: CR4.VMXE
 *   [misc] PASS 13 setting CR4.VMXE raises #GP
 *   [misc] PASS 14 CR4.VMXE reads 0 afterwards
 *   [misc] PASS 15 CR4 unchanged by the refused write
 *   [misc] group 5: CR0 writes
 *   [misc] CR0 = VALUE
 *   [misc] PASS 16 clearing CR0.WP: no fault, reads back clear
 *   [misc] PASS 17 setting CR0.WP: no fault, reads back set
 *   [misc] PASS 18 CR0.NE reads 1
 *   [misc] CR0 with NE cleared = VALUE
 *   [misc] PASS 19 clearing CR0.NE: no fault, reads back clear
 *   [misc] PASS 20 CR0 restored
 *   [misc] group 6: CPUID.40000001
 *   [misc] CPUID.40000001: EAX = 0x0000000000000001
 *   [misc] PASS 21 CPUID.40000001 EAX = 1 (hypercall ABI 0.1)
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

.equ CR0_NE,      1 << 5
.equ CR0_WP,      1 << 16
.equ CR4_VMXE,    1 << 13
.equ CR4_OSXSAVE, 1 << 18

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	/* ---- 1. INVD ---- */
	PRINT "group 1: INVD\n"
	TRY invd
	cmpq $-1, fault_vector(%rip)
	TEST_IF e, 1, "INVD executes without fault"

	/* ---- 2. CR4.OSXSAVE, XSETBV, XGETBV ---- */
	PRINT "group 2: CR4.OSXSAVE and XSETBV\n"
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	bt $26, %ecx
	jc 1f
	PRINT "CPUID.1:ECX.XSAVE is clear: XSETBV tests skipped\n"
	jmp .Lxsave_done
1:
	mov %cr4, %rax
	or $CR4_OSXSAVE, %rax
	TRY mov %rax, %cr4
	mov fault_vector(%rip), %r13
	/* The original XCR0, to put back at the end (no exit: XGETBV runs natively). */
	xor %r14, %r14
	xor %ecx, %ecx
	TRY xgetbv
	shl $32, %rdx
	mov %eax, %eax
	or %rdx, %rax
	mov %rax, %r14
	PRINT "XCR0 before = "
	PRINT_HEX %r14
	PRINT "\n"
	cmp $-1, %r13
	TEST_IF e, 2, "setting CR4.OSXSAVE does not fault"
	mov %cr4, %rax
	bt $18, %rax
	TEST_IF c, 3, "CR4.OSXSAVE reads back as 1"
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	bt $27, %ecx
	TEST_IF c, 4, "CPUID.1:ECX.OSXSAVE[27] is 1 after setting CR4.OSXSAVE"

	xor %ecx, %ecx
	mov $3, %eax
	xor %edx, %edx
	TRY xsetbv
	cmpq $-1, fault_vector(%rip)
	TEST_IF e, 5, "XSETBV XCR0=3 (x87|SSE) succeeds"

	xor %ecx, %ecx
	mov $-1, %rax
	mov $-1, %rdx
	TRY xgetbv
	mov fault_vector(%rip), %r13
	shl $32, %rdx
	mov %eax, %eax
	or %rdx, %rax
	cmp $-1, %r13
	jne 2f
	cmp $3, %rax
2:	TEST_IF e, 6, "XGETBV(0) reads 3 back"

	xor %ecx, %ecx
	mov $2, %eax
	xor %edx, %edx
	TRY xsetbv
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 7, "XSETBV XCR0=2 (x87 clear) raises #GP"

	mov $1, %ecx
	mov $3, %eax
	xor %edx, %edx
	TRY xsetbv
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 8, "XSETBV ECX=1 raises #GP"

	/* Put XCR0 back as it was (it is the CPU's, shared with the host). */
	xor %ecx, %ecx
	mov %r14, %rax
	mov %r14, %rdx
	shr $32, %rdx
	TRY xsetbv
	mov fault_vector(%rip), %r13
	xor %ecx, %ecx
	TRY xgetbv
	and fault_vector(%rip), %r13
	shl $32, %rdx
	mov %eax, %eax
	or %rdx, %rax
	cmp $-1, %r13
	jne 3f
	cmp %r14, %rax
3:	TEST_IF e, 9, "XCR0 restored"
.Lxsave_done:

	/* ---- 3. VMX instructions ---- */
	PRINT "group 3: VMX instructions\n"
	lea vmxon_pointer(%rip), %rax
	TRY vmxon (%rax)
	cmpq $6, fault_vector(%rip)
	TEST_IF e, 10, "VMXON raises #UD"
	xor %eax, %eax
	TRY vmread %rax, %rbx
	cmpq $6, fault_vector(%rip)
	TEST_IF e, 11, "VMREAD raises #UD"
	mov $HC_VERSION, %eax
	TRY vmcall
	mov %rax, %r12
	shr $48, %r12
	cmpq $-1, fault_vector(%rip)
	jne 4f
	cmp $HC_VERSION_SIGNATURE, %r12
4:	TEST_IF e, 12, "VMCALL is the hypercall, no fault"

	/* ---- 4. CR4.VMXE ---- */
	PRINT "group 4: CR4.VMXE\n"
	mov %cr4, %r12
	mov %r12, %rax
	or $CR4_VMXE, %rax
	TRY mov %rax, %cr4
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 13, "setting CR4.VMXE raises #GP"
	mov %cr4, %rax
	bt $13, %rax
	TEST_IF nc, 14, "CR4.VMXE reads 0 afterwards"
	cmp %r12, %rax
	TEST_IF e, 15, "CR4 unchanged by the refused write"

	/* ---- 5. CR0 ---- */
	PRINT "group 5: CR0 writes\n"
	mov %cr0, %r12
	PRINT "CR0 = "
	PRINT_HEX %r12
	PRINT "\n"
	mov %r12, %rax
	and $~CR0_WP, %rax
	TRY mov %rax, %cr0
	mov %cr0, %rax
	cmpq $-1, fault_vector(%rip)
	jne 5f
	test $CR0_WP, %rax               /* ZF = WP clear */
5:	TEST_IF e, 16, "clearing CR0.WP: no fault, reads back clear"
	mov %cr0, %rax
	or $CR0_WP, %rax
	TRY mov %rax, %cr0
	mov %cr0, %rax
	cmpq $-1, fault_vector(%rip)
	jne 6f
	cmp %r12, %rax
6:	TEST_IF e, 17, "setting CR0.WP: no fault, reads back set"

	bt $5, %r12
	TEST_IF c, 18, "CR0.NE reads 1"
	mov %r12, %rax
	and $~CR0_NE, %rax
	TRY mov %rax, %cr0
	mov fault_vector(%rip), %r13
	mov %cr0, %rax
	mov %rax, %r14
	PRINT "CR0 with NE cleared = "
	PRINT_HEX %r14
	PRINT "\n"
	cmp $-1, %r13
	jne 7f
	mov %r12, %rax
	and $~CR0_NE, %rax
	cmp %rax, %r14
7:	TEST_IF e, 19, "clearing CR0.NE: no fault, reads back clear"
	TRY mov %r12, %cr0
	mov %cr0, %rax
	cmpq $-1, fault_vector(%rip)
	jne 8f
	cmp %r12, %rax
8:	TEST_IF e, 20, "CR0 restored"

	/* ---- 6. CPUID.40000001 ---- */
	PRINT "group 6: CPUID.40000001\n"
	mov $0x40000001, %eax
	xor %ecx, %ecx
	cpuid
	mov %rax, %r12
	PRINT "CPUID.40000001: EAX = "
	PRINT_HEX %r12
	PRINT "\n"
	cmp $1, %r12
	TEST_IF e, 21, "CPUID.40000001 EAX = 1 (hypercall ABI 0.1)"

	FINISH

	.data
	.balign 8
vmxon_pointer:	.quad vmxon_region      /* VMXON's operand: the region's physical address */

	.bss
	.balign 4096
vmxon_region:	.space 4096
