/* hostile_apic: the APIC model's guest-facing paths under a seeded random stream, beside a
 * victim VM (victim.S), with interrupts off: MOV stores and loads of
 * random values at random registers of its local APIC page, random I/O APIC register selects and window writes, and WRMSR/RDMSR of
 * IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range with random values (#GP handled and
 * skipped). Module options: apic=on budget=40 expect=time-budget. The hypervisor must stay up,
 * the victim keep its view and its share of the CPU.
 */
#include "guest.inc"
#include "idt64.inc"
#include "xorshift64.inc"

.equ LAPIC,  0xFEE00000
.equ IOAPIC, 0xFEC00000

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	/* An NMI IPI it sends itself (ICR delivery mode 4) is delivered as an NMI, interrupts off or
	 * not (SDM Vol. 3A §11.6.1): counted and returned from, like a real kernel's NMI handler. */
	IDT_GATE 2, nmi_handler
	PRINT "hostile: random local APIC, I/O APIC and APIC MSR accesses with interrupts off\n"
	cli
	movabs $0x9E3779B97F4A7C15, %r12           /* xorshift64 state */
	mov $LAPIC, %ebx
	mov $IOAPIC, %ebp
1:	call next
	mov %eax, %ecx
	and $7, %ecx
	cmp $3, %ecx
	jb 2f                                      /* 0-2: a local APIC register */
	je 3f                                      /* 3: the I/O APIC */
	cmp $5, %ecx
	jb 4f                                      /* 4: an x2APIC MSR */
	je 5f                                      /* 5: IA32_TSC_DEADLINE */
	cmp $6, %ecx
	je 6f                                      /* 6: a read of a local APIC register */
	/* 7: IA32_APIC_BASE, one time in 64: the same page, enabled, xAPIC mode, a random BSP bit
	 * and sometimes reserved bit 63 (#GP). (A disabled or moved or x2APIC-mode APIC has no page: the
	 * next access there would end this VM as an EPT violation, like any access outside it.) */
	test $0x3F00, %eax
	jnz 1b
	call next
	mov %rax, %rdx
	shr $32, %rdx
	and $0x80000000, %edx                      /* bit 63: reserved, #GP (address bits stay 0) */
	and $0x100, %eax
	or $(LAPIC | 0x800), %eax
	mov $0x1B, %ecx
	TRY wrmsr
	jmp 1b
2:	call next
	mov %eax, %ecx
	shr $8, %ecx
	and $0x3F0, %ecx                          /* one of the 64 registers */
	call next
	mov %eax, (%rbx,%rcx)
	jmp 1b
3:	call next
	movb %al, (%rbp)                          /* IOREGSEL */
	call next
	mov %eax, 0x10(%rbp)                      /* IOWIN */
	jmp 1b
4:	call next
	mov %eax, %ecx
	shr $8, %ecx
	and $0x3F, %ecx
	add $0x800, %ecx
	call next
	mov %rax, %rdx
	shr $32, %rdx
	TRY wrmsr
	TRY rdmsr
	jmp 1b
5:	call next
	mov %rax, %rdx
	shr $32, %rdx
	mov $0x6E0, %ecx
	TRY wrmsr
	jmp 1b
6:	call next
	mov %eax, %ecx
	shr $8, %ecx
	and $0x3F0, %ecx
	mov (%rbx,%rcx), %edx
	jmp 1b

/* RAX = the next xorshift64 value (R12 is the state). */

	.text
nmi_handler:
	lock incq nmis_taken(%rip)
	iretq
	.data
	.balign 8
nmis_taken:	.quad 0
