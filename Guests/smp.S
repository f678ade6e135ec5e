/* smp: a VM of several vCPUs from inside.  Module options: vcpus=4 (any N >= 2).
 *
 * The BSP starts the APs as an OS does (SDM Vol. 3A §8.4.4.1): a real-mode trampoline copied
 * below 1 MiB, INIT to all excluding self, then two start-up IPIs with its page number.  Each AP
 * climbs real -> protected -> long mode on the BSP's page tables, reads its APIC ID from its
 * local APIC and from CPUID, and reports in.  Then, with every AP halted between tasks:
 * a fixed IPI to each AP by APIC ID, a broadcast to all excluding self, IPIs from the APs back
 * to the BSP, a TLB shootdown (the BSP remaps a page all APs have used, INVLPGs it, and asks
 * every AP to INVLPG and read it again), and each AP's own local APIC timer.  Interrupts are
 * delivered to halted vCPUs, so every wait below is the hypervisor waking the right vCPU.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"
#include "ap64.inc"

.equ LAPIC,    0xFEE00000
.equ TRAMP,    0x90000              /* the trampoline's page: SIPI vector 0x90 */
.equ ALIAS,    0x8000000000         /* PML4 slot 1: the shootdown page's linear address */
.equ MAGIC_A,  0x1111aaaa
.equ MAGIC_B,  0x2222bbbb
.equ V_IPI,    0x50                 /* AP: count it */
.equ V_SHOOT,  0x51                 /* AP: INVLPG the alias, read it */
.equ V_REPLY,  0x52                 /* BSP: an AP answered */
.equ V_CALL,   0x53                 /* AP: answer the BSP with V_REPLY */
.equ V_TOUCH,  0x54                 /* AP: read the alias (fills its TLB) */
.equ V_ARM,    0x55                 /* AP: arm a one-shot local APIC timer */
.equ V_TIMER,  0x40                 /* AP: its timer fired */
.equ V_COM1,   0x56                 /* AP: COM1's interrupt through I/O APIC pin 4 */
.equ IOAPIC,   0xFEC00000
.equ V_SPUR,   0xFF
.equ MAXCPU,   8

/* ICR: destination (APIC ID in bits 31:24 of ICR high), then the low word sends. */
.macro SEND_IPI dest_reg:req, low:req
	mov \dest_reg, %eax
	shl $24, %eax
	movl %eax, 0x310(%rbx)
	movl $\low, 0x300(%rbx)
.endm
.macro BROADCAST low:req               /* all excluding self (shorthand 3) */
	movl $0, 0x310(%rbx)
	movl $(\low | 3 << 18), 0x300(%rbx)
.endm

/* Wait (halted, interrupts on) until the quadword \var reaches \count; a bounded number of
 * wake-ups, so a lost interrupt fails the test instead of hanging it. */
.macro WAIT_FOR var:req, count:req
	mov $200000, %r12d
1:	cmpq \count, \var(%rip)
	jae 2f
	sti
	pause
	dec %r12d
	jnz 1b
2:
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	COPY_EXCEPTION_GATES big_idt
	SET_GATE big_idt, V_IPI, ipi_handler
	SET_GATE big_idt, V_SHOOT, shoot_handler
	SET_GATE big_idt, V_REPLY, reply_handler
	SET_GATE big_idt, V_CALL, call_handler
	SET_GATE big_idt, V_TOUCH, touch_handler
	SET_GATE big_idt, V_ARM, arm_handler
	SET_GATE big_idt, V_TIMER, timer_handler
	SET_GATE big_idt, V_COM1, com1_handler
	SET_GATE big_idt, V_SPUR, spurious_handler
	lidt big_idtr(%rip)
	PIC_INIT_LINUX 0xFF, 0xFF
	mov $LAPIC, %rbx
	movl $(0x100 | V_SPUR), 0xF0(%rbx)

	/* 1: topology.  CPUID.0BH subleaf 1 EBX: logical processors in the package. */
	mov $0xB, %eax
	mov $1, %ecx
	cpuid
	mov %rbx, %r15                      /* N, kept for the whole test */
	and $0xFFFF, %r15d
	mov $LAPIC, %rbx
	cmp $2, %r15
	TEST_IF ae, 1, "CPUID leaf 0BH reports several logical processors"
	PRINT "smp: vCPUs (CPUID.0BH): "
	PRINT_DEC %r15
	PRINT "\n"
	mov 0x20(%rbx), %eax
	shr $24, %eax
	TEST 2, %rax, "the BSP's local APIC ID is 0"

	/* The shootdown page: PML4[1] -> pdpt -> pd -> pt[0] -> page A (identity-mapped image). */
	lea alias_pd(%rip), %rax
	or $3, %rax
	mov %rax, alias_pdpt(%rip)
	lea alias_pt(%rip), %rax
	or $3, %rax
	mov %rax, alias_pd(%rip)
	lea page_a(%rip), %rax
	or $3, %rax
	mov %rax, alias_pt(%rip)
	lea alias_pdpt(%rip), %rax
	or $3, %rax
	mov %cr3, %rdx
	mov %rax, 8(%rdx)                   /* PML4[1] */
	movl $MAGIC_A, page_a(%rip)
	movl $MAGIC_B, page_b(%rip)

	/* 3-5: INIT, SIPI, SIPI.  The trampoline goes to TRAMP with the BSP's CR4 in it. */
	call ap_tramp_install
	BROADCAST 0x4500                    /* INIT, assert, level */
	BROADCAST (0x4600 | TRAMP >> 12)    /* start-up */
	BROADCAST (0x4600 | TRAMP >> 12)    /* the second SIPI of the MP protocol is ignored by a started AP */
	lea -1(%r15), %r14                  /* APs expected */
	WAIT_FOR online_count, %r14
	cmp %r14, online_count(%rip)
	TEST_IF e, 3, "INIT-SIPI-SIPI started every AP"
	mov $1, %eax
	mov %r15d, %ecx
	shl %cl, %eax
	sub $2, %eax                        /* bits 1..N-1 */
	cmp %rax, online_mask(%rip)
	TEST_IF e, 4, "the APs read APIC IDs 1..N-1 from their own local APICs"
	cmpq $0, cpuid_mismatch(%rip)
	TEST_IF e, 5, "each AP's CPUID leaf 1 APIC ID matches its local APIC ID"

	/* 6: a fixed IPI to each AP by physical APIC ID. */
	mov $1, %r13
6:	SEND_IPI %r13d, (0x4000 | V_IPI)
	lea ipi_count(%rip), %rdx
	mov $200000, %r12d
61:	cmpq $1, (%rdx,%r13,8)
	jae 62f
	pause
	dec %r12d
	jnz 61b
62:	inc %r13
	cmp %r15, %r13
	jb 6b
	call aps_failing
	.quad ipi_count, 1, 0
	TEST 6, %rax, "a fixed IPI to each APIC ID woke that halted AP"

	/* 7: a broadcast to all excluding self reaches every AP, not the BSP. */
	BROADCAST (0x4000 | V_IPI)
	mov $200000, %r12d
71:	call aps_failing
	.quad ipi_count, 2, 0
	test %rax, %rax
	jz 72f
	pause
	dec %r12d
	jnz 71b
72:	TEST 7, %rax, "a broadcast IPI (all excluding self) reached every AP"
	cmpq $0, ipi_count(%rip)
	TEST_IF e, 8, "the broadcast left the BSP alone"

	/* 9: each AP in turn answers the BSP with an IPI of its own, while the BSP waits with
	 * interrupts on (one at a time: requests for one vector merge in the IRR, §11.8.4). */
	mov $1, %r13
9:	SEND_IPI %r13d, (0x4000 | V_CALL)
	WAIT_FOR reply_count, %r13
	inc %r13
	cmp %r15, %r13
	jb 9b
	cmp %r14, reply_count(%rip)
	TEST_IF e, 9, "IPIs from every AP reached the halted BSP"

	/* 10: TLB shootdown.  Every AP reads the alias (page A), the BSP remaps it to page B and
	 * asks them to INVLPG and read again: each must see page B. */
	BROADCAST (0x4000 | V_TOUCH)
	WAIT_FOR touch_count, %r14
	mov $ALIAS, %rax
	mov (%rax), %eax
	cmp $MAGIC_A, %eax
	TEST_IF e, 10, "the alias maps page A on the BSP"
	call aps_failing
	.quad touched, MAGIC_A, 1
	TEST 11, %rax, "every AP read page A through the alias"
	lea page_b(%rip), %rax
	or $3, %rax
	mov %rax, alias_pt(%rip)
	mov $ALIAS, %rax
	invlpg (%rax)
	BROADCAST (0x4000 | V_SHOOT)
	WAIT_FOR shoot_count, %r14
	call aps_failing
	.quad shot, MAGIC_B, 1
	TEST 12, %rax, "TLB shootdown: after the IPI and INVLPG every AP reads page B"

	/* 13: each AP arms its own local APIC timer (one-shot) and sleeps until it fires. */
	BROADCAST (0x4000 | V_ARM)
	mov $200000, %r12d
131:	call aps_failing
	.quad timer_count, 1, 0
	test %rax, %rax
	jz 132f
	sti
	pause
	dec %r12d
	jnz 131b
132:	TEST 13, %rax, "each AP's local APIC timer interrupted that AP"

	/* 14-16: the MADT as the firmware tables describe this machine: found through the RSDP (the
	 * legacy scan of 0xE0000-0xFFFFF) and the XSDT, checksum 0, one enabled local APIC per vCPU
	 * with APIC IDs 0..N-1, one I/O APIC. */
	movabs $0x2052545020445352, %rax    /* "RSD PTR " */
	mov $0xE0000, %esi
1:	cmp %rax, (%rsi)
	je 2f
	add $16, %esi
	cmp $0x100000, %esi
	jb 1b
	xor %edx, %edx                      /* no RSDP: no MADT */
	jmp 5f
2:	mov 24(%rsi), %rdi                  /* XsdtAddress */
	mov 4(%rdi), %ecx                   /* XSDT length */
	lea 36(%rdi), %r8
	add %rdi, %rcx
	xor %edx, %edx
3:	cmp %rcx, %r8
	jae 5f
	mov (%r8), %r9
	add $8, %r8
	cmpl $0x43495041, (%r9)             /* "APIC" */
	jne 3b
	mov %r9, %rdx
5:	test %rdx, %rdx
	jz 6f
	mov 4(%rdx), %ecx                   /* MADT length: sum of its bytes */
	xor %eax, %eax
	xor %edi, %edi
4:	add (%rdx,%rdi), %al
	inc %edi
	cmp %ecx, %edi
	jb 4b
	movzbl %al, %eax
	jmp 7f
6:	mov $1, %eax
7:	TEST 14, %rax, "the MADT is found through the RSDP and XSDT, checksum 0"
	xor %r8d, %r8d                      /* enabled local APICs */
	xor %r9d, %r9d                      /* their IDs, as a mask */
	xor %r10d, %r10d                    /* I/O APICs */
	test %rdx, %rdx
	jz 9f
	mov 4(%rdx), %ecx
	add %rdx, %rcx                      /* end */
	lea 44(%rdx), %rsi                  /* first entry */
8:	cmp %rcx, %rsi
	jae 9f
	movzbl 1(%rsi), %edi                /* entry length */
	test %edi, %edi
	jz 9f
	cmpb $0, (%rsi)                     /* type 0: processor local APIC */
	jne 81f
	testl $1, 4(%rsi)                   /* enabled */
	jz 82f
	inc %r8d
	movzbl 3(%rsi), %eax
	bts %rax, %r9
	jmp 82f
81:	cmpb $1, (%rsi)                     /* type 1: I/O APIC */
	jne 82f
	inc %r10d
82:	add %rdi, %rsi
	jmp 8b
9:	mov $1, %eax
	mov %r15d, %ecx
	shl %cl, %rax
	dec %rax                            /* IDs 0..N-1 */
	cmp %r15, %r8
	jne 91f
	cmp %rax, %r9
91:	TEST_IF e, 15, "the MADT lists N enabled local APICs with APIC IDs 0..N-1"
	cmp $1, %r10d
	TEST_IF e, 16, "the MADT lists one I/O APIC"

	/* 17: the I/O APIC routes a pin to each AP by its physical APIC ID: COM1's THR-empty
	 * interrupt (IER bit 1, OUT2 on) on pin 4, edge, pointed at one AP at a time; only that AP
	 * takes it. */
	mov $0x3FC, %dx
	mov $0x08, %al                      /* MCR: OUT2 gates the IRQ line */
	out %al, %dx
	mov $IOAPIC, %rdi
	mov $1, %r13
17:	movl $0x19, (%rdi)                  /* redirection entry 4, high: destination */
	mov %r13d, %eax
	shl $24, %eax
	movl %eax, 0x10(%rdi)
	movl $0x18, (%rdi)                  /* low: vector, fixed, physical, edge, unmasked */
	movl $V_COM1, 0x10(%rdi)
	mov $0x3F9, %dx
	xor %al, %al
	out %al, %dx                        /* IER 0: the line drops */
	mov $2, %al
	out %al, %dx                        /* IER THRE: it rises, an edge on pin 4 */
	lea com1_count(%rip), %rsi
	mov $200000, %r12d
171:	cmpq $1, (%rsi,%r13,8)
	jae 172f
	pause
	dec %r12d
	jnz 171b
172:	inc %r13
	cmp %r15, %r13
	jb 17b
	mov $0x3F9, %dx
	xor %al, %al
	out %al, %dx
	movl $0x18, (%rdi)
	movl $(1 << 16), 0x10(%rdi)         /* pin 4 masked again */
	call aps_failing
	.quad com1_count, 1, 1
	cmpq $0, com1_count(%rip)
	jne 173f
	test %rax, %rax
173:	TEST_IF e, 17, "I/O APIC pin 4 pointed at each AP's APIC ID interrupted that AP once, never the BSP"
	FINISH

/* RAX = the number of APs 1..N-1 whose entry in the quadword array named after the call fails
 * the test named there against the value named there: (array, value, 0 = at least / 1 = equal). */
aps_failing:
	mov (%rsp), %rsi
	mov (%rsi), %rdi                    /* array */
	mov 8(%rsi), %rdx                   /* value */
	mov 16(%rsi), %r8                   /* 0: entry >= value, 1: entry == value */
	addq $24, (%rsp)
	mov $1, %ecx
	xor %eax, %eax
1:	cmp %r15, %rcx
	jae 2f
	cmp %rdx, (%rdi,%rcx,8)
	je 3f                               /* equal passes both tests */
	jb 4f
	test %r8, %r8                       /* greater: passes "at least" only */
	jz 3f
4:	inc %eax
3:	inc %rcx
	jmp 1b
2:	ret

/* ---- AP side ---- */

ap_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $LAPIC, %rbx
	mov 0x20(%rbx), %eax
	shr $24, %eax                       /* APIC ID */
	cmp $MAXCPU, %eax
	jae ap_dead
	mov %eax, %ecx
	inc %ecx
	shl $12, %ecx
	lea ap_stacks(%rip), %rsp
	add %rcx, %rsp
	lidt big_idtr(%rip)
	movl $(0x100 | V_SPUR), 0xF0(%rbx)
	mov %rax, %r8
	mov $1, %eax
	cpuid
	shr $24, %ebx
	cmp %r8d, %ebx
	je 1f
	lock incq cpuid_mismatch(%rip)
1:	lock bts %r8, online_mask(%rip)
	lock incq online_count(%rip)
ap_idle:
	sti
	hlt
	jmp ap_idle
ap_dead:
	cli
	hlt
	jmp ap_dead

/* Interrupt handlers.  RDX = APIC ID, RBX = the local APIC. */
.macro HANDLER_ENTRY
	push %rax
	push %rbx
	push %rcx
	push %rdx
	mov $LAPIC, %rbx
	mov 0x20(%rbx), %edx
	shr $24, %edx
.endm
.macro HANDLER_EXIT
	movl $0, 0xB0(%rbx)                 /* EOI */
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	iretq
.endm

ipi_handler:
	HANDLER_ENTRY
	lea ipi_count(%rip), %rax
	lock incq (%rax,%rdx,8)
	HANDLER_EXIT
reply_handler:
	HANDLER_ENTRY
	lock incq reply_count(%rip)
	HANDLER_EXIT
call_handler:
	HANDLER_ENTRY
	movl $0, 0x310(%rbx)                /* to APIC ID 0, the BSP */
	movl $(0x4000 | V_REPLY), 0x300(%rbx)
	HANDLER_EXIT
touch_handler:
	HANDLER_ENTRY
	mov $ALIAS, %rax
	mov (%rax), %eax
	lea touched(%rip), %rcx
	mov %rax, (%rcx,%rdx,8)
	lock incq touch_count(%rip)
	HANDLER_EXIT
shoot_handler:
	HANDLER_ENTRY
	mov $ALIAS, %rax
	invlpg (%rax)
	mov (%rax), %eax
	lea shot(%rip), %rcx
	mov %rax, (%rcx,%rdx,8)
	lock incq shoot_count(%rip)
	HANDLER_EXIT
arm_handler:
	HANDLER_ENTRY
	movl $0xB, 0x3E0(%rbx)              /* divide by 1 */
	movl $V_TIMER, 0x320(%rbx)          /* LVT timer: one-shot */
	movl $20000, 0x380(%rbx)            /* initial count */
	HANDLER_EXIT
com1_handler:
	HANDLER_ENTRY
	lea com1_count(%rip), %rax
	lock incq (%rax,%rdx,8)
	mov $0x3FA, %dx
	in %dx, %al                         /* IIR: THRE acknowledged */
	HANDLER_EXIT
timer_handler:
	HANDLER_ENTRY
	lea timer_count(%rip), %rax
	lock incq (%rax,%rdx,8)
	HANDLER_EXIT
spurious_handler:
	iretq

	.data
	.balign 8
big_idtr:	.word 256 * 16 - 1
		.quad big_idt
online_count:	.quad 0
online_mask:	.quad 0
cpuid_mismatch:	.quad 0
reply_count:	.quad 0
touch_count:	.quad 0
shoot_count:	.quad 0
ipi_count:	.space 8 * MAXCPU
timer_count:	.space 8 * MAXCPU
com1_count:	.space 8 * MAXCPU
touched:	.space 8 * MAXCPU
shot:		.space 8 * MAXCPU

	.bss
	.balign 16
big_idt:	.space 256 * 16
	.balign 4096
alias_pdpt:	.space 4096
alias_pd:	.space 4096
alias_pt:	.space 4096
page_a:		.space 4096
page_b:		.space 4096
ap_stacks:	.space 4096 * (MAXCPU + 1)
