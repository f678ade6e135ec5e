/* hostile_msr: no host MSR reaches the processor from a guest. With its
 * own #GP handler (idt64.inc) it goes after the MSRs that once reached the
 * processor, checks the hypervisor's answers, then rewrites APIC_BASE and the
 * MTRRs in a loop with interrupts off until its time budget ends
 * (expect=time-budget). A victim VM (victim.S) checks that its own MSRs never
 * change. Expected lines:
 *   PASS 1 WRMSR APIC_BASE = 0x982900 (the host APIC onto hypervisor memory) is only virtual
 *   PASS 2 APIC_BASE reads back 0x982900 with BSP
 *   PASS 3 x2APIC mode in APIC_BASE raises #GP
 *   PASS 4 RDMSR of x2APIC MSR 0x803 raises #GP
 *   PASS 5 MTRRdefType = 0 and MTRR 0 = [0, 16 MiB) UC are accepted
 *   PASS 6 MTRRdefType reads back 0
 *   PASS 7 WRMSR IA32_DS_AREA raises #GP
 *   PASS 8 WRMSR IA32_RTIT_CTL raises #GP
 *   PASS 9 WRMSR IA32_SPEC_CTRL raises #GP
 *   PASS 10 WRMSR IA32_BIOS_UPDT_TRIG raises #GP
 *   PASS 11 WRMSR IA32_PERF_GLOBAL_CTRL raises #GP
 *   PASS 12 WRMSR IA32_MC0_CTL raises #GP
 *   PASS 13 WRMSR MISC_ENABLE reserved bit raises #GP
 *   PASS 14 WRMSR IA32_FEATURE_CONTROL raises #GP
 *   PASS 15 RDPMC raises #GP
 *   PASS 16 CPUID leaf 0xA shows no PMU
 *   PASS 17 MONITOR and MWAIT return
 *   PASS 18 WRMSR IA32_TSC_DEADLINE raises #GP
 */
#include "guest.inc"
#include "idt64.inc"

/* TEST n: WRMSR msr = value must raise #GP. */
.macro WRMSR_GP n:req, msr:req, lo:req, hi:req, name:req
	mov $\msr, %ecx
	mov $\lo, %eax
	mov $\hi, %edx
	TRY wrmsr
	cmpq $13, fault_vector(%rip)
	TEST_IF e, \n, "\name"
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	mov $0x1B, %ecx
	mov $0x982900, %eax
	xor %edx, %edx
	TRY wrmsr
	cmpq $-1, fault_vector(%rip)
	TEST_IF e, 1, "WRMSR APIC_BASE = 0x982900 (the host APIC onto hypervisor memory) is only virtual"
	mov $0x1B, %ecx
	rdmsr
	cmp $0x982900 | 0x100, %eax
	TEST_IF e, 2, "APIC_BASE reads back 0x982900 with BSP"
	WRMSR_GP 3, 0x1B, 0xFEE00D00, 0, "x2APIC mode in APIC_BASE raises #GP"
	mov $0x803, %ecx
	TRY rdmsr
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 4, "RDMSR of x2APIC MSR 0x803 raises #GP"

	call rewrite_mtrrs
	cmpq $-1, fault_vector(%rip)
	TEST_IF e, 5, "MTRRdefType = 0 and MTRR 0 = [0, 16 MiB) UC are accepted"
	mov $0x2FF, %ecx
	rdmsr
	test %eax, %eax
	TEST_IF e, 6, "MTRRdefType reads back 0"

	WRMSR_GP 7, 0x600, 0x100000, 0, "WRMSR IA32_DS_AREA raises #GP"
	WRMSR_GP 8, 0x570, 1, 0, "WRMSR IA32_RTIT_CTL raises #GP"
	WRMSR_GP 9, 0x48, 1, 0, "WRMSR IA32_SPEC_CTRL raises #GP"
	WRMSR_GP 10, 0x79, 0x100000, 0, "WRMSR IA32_BIOS_UPDT_TRIG raises #GP"
	WRMSR_GP 11, 0x38F, 0xFF, 7, "WRMSR IA32_PERF_GLOBAL_CTRL raises #GP"
	WRMSR_GP 12, 0x400, 0xFFFFFFFF, 0xFFFFFFFF, "WRMSR IA32_MC0_CTL raises #GP"
	WRMSR_GP 13, 0x1A0, 0x1801, 0x40, "WRMSR MISC_ENABLE reserved bit raises #GP"
	WRMSR_GP 14, 0x3A, 5, 0, "WRMSR IA32_FEATURE_CONTROL raises #GP"
	xor %ecx, %ecx
	TRY rdpmc
	cmpq $13, fault_vector(%rip)
	TEST_IF e, 15, "RDPMC raises #GP"
	mov $0xA, %eax
	xor %ecx, %ecx
	cpuid
	or %ebx, %eax
	or %edx, %eax
	TEST 16, %rax, "CPUID leaf 0xA shows no PMU"
	lea monitor_line(%rip), %rax
	xor %ecx, %ecx
	xor %edx, %edx
	TRY monitor
	mov fault_vector(%rip), %r12
	xor %eax, %eax
	xor %ecx, %ecx
	TRY mwait
	and fault_vector(%rip), %r12
	cmp $-1, %r12
	TEST_IF e, 17, "MONITOR and MWAIT return"
	WRMSR_GP 18, 0x6E0, 0xFFFFFFFF, 0, "WRMSR IA32_TSC_DEADLINE raises #GP"

	PRINT "hostile: rewriting APIC_BASE and the MTRRs with interrupts off\n"
	cli
1:	mov $0x1B, %ecx
	mov $0x982900, %eax
	xor %edx, %edx
	wrmsr
	call rewrite_mtrrs
	jmp 1b

/* MTRRdefType = 0 (UC, MTRRs off), MTRR 0 = [0, 16 MiB) UC. Sets fault_vector. */
rewrite_mtrrs:
	mov $0x2FF, %ecx
	xor %eax, %eax
	xor %edx, %edx
	TRY wrmsr
	mov fault_vector(%rip), %r12
	mov $0x200, %ecx
	xor %eax, %eax
	xor %edx, %edx
	TRY wrmsr
	and fault_vector(%rip), %r12
	mov $0x201, %ecx
	mov $0xFF000800, %eax
	mov $0xF, %edx
	TRY wrmsr
	and %r12, fault_vector(%rip)
	ret

	.data
	.balign 64
monitor_line:	.space 64
