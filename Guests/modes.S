/* modes: every CPU-mode and paging transition a kernel makes, done by the guest itself
 * (module options: mode=real mem=8).
 *
 * real mode → protected mode → 32-bit paging (4 KiB pages) → paging off → 32-bit paging with
 * 4 MiB pages (PSE) → paging off → PAE paging without long mode (the hypervisor loads the
 * PDPTEs) → IA-32e mode (EFER.LME, CR0.PG) → 64-bit mode → compatibility mode → paging off,
 * IA-32e mode left → 16-bit protected mode → real mode → protected mode → long mode again.
 * Each step is checked from inside: a page at guest-physical 0x200000 holds a magic value, and
 * each paging mode maps it again at another linear address (the alias); the value read through
 * the alias proves that the mode's translation is really in force.  Bad values get the fault a
 * real CPU gives (#GP for CR0.PG without PE, a reserved PDPTE bit, EFER.LME with paging on,
 * clearing CR0.PG in 64-bit mode, a reserved CR8 bit).  In 64-bit mode: #BP and #DB reach the
 * guest's IDT, CR8 is a register, RDTSCP, WBINVD and INVLPG work.
 * Output: hypercalls (32-bit registers outside 64-bit mode); PASS lines through testResult.
 *
 * Memory: this image at 0x8000 (below 64 KiB, so 16-bit offsets reach everything), stack below
 * 0x7000, page tables at 0x100000-0x107FFF, the magic at 0x200000, RAM up to 8 MiB.
 */
#include "guest_abi.inc"

.equ MAGIC,      0x5AFEC0DE
.equ MAGIC_PA,   0x200000
.equ PD32,       0x100000      /* 32-bit paging, 4 KiB pages: PD, PT (identity 0-4 MiB), PT (alias) */
.equ PT32_ID,    0x101000
.equ PT32_ALIAS, 0x102000
.equ PD32_PSE,   0x103000      /* 32-bit paging, 4 MiB pages */
.equ PDPT_PAE,   0x104000      /* PAE: good PDPT; a bad one at +0x100 */
.equ PD_PAE,     0x105000      /* 2 MiB pages: 0-2 MiB, 2-4 MiB, alias 4-6 MiB -> 2-4 MiB */
.equ PML4,       0x106000
.equ PDPT_LM,    0x107000
.equ EFER_MSR,   0xC0000080
.equ TSC_AUX,    0xC0000103

.equ SEL_CODE64, 0x08
.equ SEL_DATA,   0x10
.equ SEL_CODE32, 0x18
.equ SEL_CODE16, 0x20
.equ SEL_DATA16, 0x28

/* Arguments in 32-bit registers: the same instructions assemble in .code16 (with prefixes),
 * .code32 and .code64 (zero-extended). */
.macro HC_PRINT str:req
	.pushsection .rodata
.Lps\@: .ascii "\str"
.Lpe\@:
	.popsection
	movl $.Lps\@, %ebx
	movl $(.Lpe\@ - .Lps\@), %ecx
	movl $HC_CONSOLE_WRITE, %eax
	vmcall
.endm

/* testResult(n, pass = (condition cc holds), name).  Clobbers EAX, EBX, ECX, EDX, ESI. */
.macro CHECK cc:req, n:req, name:req
	.pushsection .rodata
.Lcs\@: .ascii "\name"
.Lce\@:
	.popsection
	set\cc %cl
	movzbl %cl, %ecx
	xorl $1, %ecx                 /* testResult wants 0 = pass */
	movl $\n, %ebx
	movl $.Lcs\@, %edx
	movl $(.Lce\@ - .Lcs\@), %esi
	movl $HC_TEST_RESULT, %eax
	vmcall
.endm

/* The next instruction may fault: a fault handler resumes at \label with fault_vector set. */
.macro TRY32 label:req
	movl $0xFFFFFFFF, fault_vector
	movl %esp, recover_sp
	movl $\label, recover_ip
.endm
.macro TRY64 label:req
	movq $-1, fault_vector
	movq %rsp, recover_sp
	movq $\label, recover_ip
.endm

	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7000, %sp
	cld

	/* 1: real mode as the hypervisor started it; string I/O with a 16-bit address size. */
	smsw %ax
	testw $1, %ax
	CHECK z, 1, "real mode: CR0.PE = 0"
	movw $rm_msg, %si
	movw $(rm_msg_end - rm_msg), %cx
	movw $PORT_E9, %dx
	rep outsb
	cmpw $rm_msg_end, %si
	CHECK e, 2, "real mode: REP OUTSB (16-bit addresses) advanced SI past the string"

	/* real → protected mode. */
	lgdtl gdt_descriptor
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $protected32

	.code32
protected32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $0x7000, %esp
	lidt idt32_descriptor
	movl %cr0, %eax
	testl $1, %eax
	CHECK nz, 3, "protected mode: CR0.PE = 1"

	/* CR0.PG = 1 with PE = 0: #GP(0), nothing changes. */
	TRY32 1f
	movl %cr0, %eax
	andl $~1, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
1:	cmpl $13, fault_vector
	CHECK e, 4, "CR0.PG = 1 with CR0.PE = 0 raises #GP"
	movl %cr0, %eax
	testl $0x80000000, %eax
	CHECK z, 5, "CR0.PG is still 0 after the refused write"

	movl $MAGIC, MAGIC_PA
	call build_tables

	/* 32-bit paging with 4 KiB pages. */
	movl $PD32, %eax
	movl %eax, %cr3
	call paging_on
	cmpl $MAGIC, 0x400000
	CHECK e, 6, "32-bit paging (4 KiB pages): the alias at 0x400000 reads the magic"
	call paging_off
	cmpl $MAGIC, 0x200000
	CHECK e, 7, "paging off again: linear 0x200000 is physical again"

	/* 32-bit paging with 4 MiB pages. */
	movl %cr4, %eax
	orl $0x10, %eax                   /* PSE */
	movl %eax, %cr4
	movl $PD32_PSE, %eax
	movl %eax, %cr3
	call paging_on
	cmpl $MAGIC, 0x600000
	CHECK e, 8, "32-bit paging with 4 MiB pages (PSE): the alias at 0x600000 reads the magic"
	call paging_off

	/* PAE paging: a PDPTE with a reserved bit refuses CR0.PG with #GP. */
	movl %cr4, %eax
	andl $~0x10, %eax
	orl $0x20, %eax                   /* PAE */
	movl %eax, %cr4
	movl $(PDPT_PAE + 0x100), %eax
	movl %eax, %cr3
	TRY32 1f
	call paging_on
1:	cmpl $13, fault_vector
	CHECK e, 9, "PAE: a PDPTE with a reserved bit makes CR0.PG = 1 raise #GP"
	movl %cr0, %eax
	testl $0x80000000, %eax
	CHECK z, 10, "PAE: paging still off after the refused write"

	movl $PDPT_PAE, %eax
	movl %eax, %cr3
	call paging_on
	cmpl $MAGIC, 0x400000
	CHECK e, 11, "PAE paging without long mode: the alias at 0x400000 reads the magic"
	movl $0x12345678, 0x400004        /* a write through the alias lands in the magic page */
	cmpl $0x12345678, 0x200004
	CHECK e, 12, "PAE paging: a write through the alias reaches the same physical page"

	/* EFER.LME cannot change while paging is on. */
	TRY32 1f
	movl $EFER_MSR, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
1:	cmpl $13, fault_vector
	CHECK e, 13, "setting EFER.LME with paging on raises #GP"
	call paging_off

	/* Into IA-32e mode the textbook way: PAE (already on), CR3, EFER.LME|NXE, CR0.PG. */
	call enter_long_mode
	movl $EFER_MSR, %ecx
	rdmsr
	testl $0x400, %eax
	CHECK nz, 14, "CR0.PG with EFER.LME: IA-32e mode active (EFER.LMA = 1)"
	ljmpl $SEL_CODE64, $long64

	.code64
long64:
	lidt idt64_descriptor(%rip)
	cmpl $MAGIC, 0x400000
	CHECK e, 15, "64-bit mode: the alias at 0x400000 reads the magic (4-level paging)"

	/* Clearing CR0.PG in 64-bit mode: #GP. */
	TRY64 1f
	movq %cr0, %rax
	btrq $31, %rax
	movq %rax, %cr0
1:	cmpq $13, fault_vector(%rip)
	CHECK e, 16, "clearing CR0.PG in 64-bit mode raises #GP"

	/* #BP and #DB go to the guest's own IDT. */
	movq $0, bp_count(%rip)
	int3
	cmpq $1, bp_count(%rip)
	CHECK e, 17, "INT3 reaches the guest's #BP handler"
	movq $0, db_count(%rip)
	pushfq
	orq $0x100, (%rsp)                /* TF: a single-step trap after the next instruction */
	popfq
	nop
	cmpq $1, db_count(%rip)
	CHECK e, 18, "a single-step trap (RFLAGS.TF) reaches the guest's #DB handler"

	/* CR8 is the VM's own register; bits 63:4 are reserved. */
	movq $9, %rax
	movq %rax, %cr8
	movq %cr8, %rbx
	cmpq $9, %rbx
	CHECK e, 19, "MOV to CR8 / MOV from CR8 round trip (9)"
	TRY64 1f
	movq $0x10, %rax
	movq %rax, %cr8
1:	cmpq $13, fault_vector(%rip)
	CHECK e, 20, "MOV to CR8 with a reserved bit raises #GP"
	xorl %eax, %eax
	movq %rax, %cr8

	/* RDTSCP (if the CPU has it), WBINVD, INVLPG. */
	movl $0x80000001, %eax
	cpuid
	btl $27, %edx
	jnc 1f
	movl $TSC_AUX, %ecx
	movl $0x42, %eax
	xorl %edx, %edx
	wrmsr
	rdtscp
	cmpl $0x42, %ecx
	jmp 2f
1:	HC_PRINT "modes: no RDTSCP on this CPU\n"
	cmpl %eax, %eax
2:	CHECK e, 21, "RDTSCP returns IA32_TSC_AUX in ECX"
	wbinvd
	invlpg 0x400000
	cmpl $0x12345678, 0x400004
	CHECK e, 22, "WBINVD and INVLPG complete; the alias still maps after INVLPG"

	/* 64-bit mode → compatibility mode → paging off: IA-32e mode is left. */
	pushq $SEL_CODE32
	pushq $compat32
	lretq

	.code32
compat32:
	call paging_off
	movl $EFER_MSR, %ecx
	rdmsr
	testl $0x400, %eax
	CHECK z, 23, "paging off in compatibility mode: IA-32e mode left (EFER.LMA = 0)"
	movl $EFER_MSR, %ecx
	rdmsr
	andl $~0x100, %eax                /* LME off */
	wrmsr

	/* Back to real mode through a 16-bit code segment. */
	ljmp $SEL_CODE16, $protected16

	.code16
protected16:
	movw $SEL_DATA16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr0, %eax
	andl $~1, %eax
	movl %eax, %cr0
	ljmp $0, $real_again
real_again:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7000, %sp
	lidtl real_idt_descriptor
	smsw %ax
	testw $1, %ax
	CHECK z, 24, "back in real mode: CR0.PE = 0"

	/* And all the way up again: protected mode, then long mode. */
	lgdtl gdt_descriptor
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $protected32_again

	.code32
protected32_again:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x7000, %esp
	call enter_long_mode
	ljmpl $SEL_CODE64, $long64_again

	.code64
long64_again:
	lidt idt64_descriptor(%rip)
	cmpl $MAGIC, 0x400000
	CHECK e, 25, "long mode re-entered from real mode: the alias reads the magic"

	/* Debug registers, CLTS and LMSW, as a kernel's early setup uses them. */
	movq $0x123450, %rax
	movq %rax, %dr0
	movq %dr0, %rbx
	cmpq %rax, %rbx
	CHECK e, 26, "MOV to DR0 / MOV from DR0 round trip"
	movq %cr0, %rax
	orq $8, %rax                      /* TS */
	movq %rax, %cr0
	clts
	movq %cr0, %rax
	testq $8, %rax
	CHECK z, 27, "CLTS clears CR0.TS"
	smsw %ax
	xorw $2, %ax                      /* flip MP */
	movw %ax, %bx
	lmsw %ax
	smsw %ax
	cmpw %ax, %bx
	CHECK e, 28, "LMSW loads CR0.MP"
	HC_PRINT "modes: all transitions done\n"
	xorl %ebx, %ebx
	movl $HC_SHUTDOWN, %eax
	vmcall
1:	hlt
	jmp 1b

/* ---- 32-bit helpers ---- */
	.code32
paging_on:
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ret
paging_off:
	movl %cr0, %eax
	andl $0x7FFFFFFF, %eax
	movl %eax, %cr0
	ret

/* CR4.PAE, CR3 = PML4, EFER.LME|NXE, CR0.PG.  Called with paging off. */
enter_long_mode:
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $PML4, %eax
	movl %eax, %cr3
	movl $EFER_MSR, %ecx
	rdmsr
	orl $0x900, %eax                  /* LME | NXE */
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ret

/* Every paging structure the steps use; each maps linear = physical for the low 2-4 MiB and
 * maps the magic page again at an alias. */
build_tables:
	movl $PD32, %edi                  /* zero 0x100000-0x107FFF */
	movl $(8 * 1024), %ecx
	xorl %eax, %eax
	rep stosl
	/* 32-bit paging, 4 KiB: PDE[0] -> identity PT, PDE[1] (4 MiB) -> alias PT. */
	movl $(PT32_ID + 3), PD32
	movl $(PT32_ALIAS + 3), PD32 + 4
	movl $PT32_ID, %edi
	movl $3, %eax
	movl $1024, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $4, %edi
	loop 1b
	movl $(MAGIC_PA + 3), PT32_ALIAS  /* linear 0x400000 -> 0x200000 */
	/* 32-bit paging, 4 MiB pages: 0-4 MiB identity, 4-8 MiB -> 0-4 MiB. */
	movl $0x83, PD32_PSE
	movl $0x83, PD32_PSE + 4
	/* PAE: PDPT[0] -> PD (present; R/W is reserved in a PAE PDPTE); the bad PDPT sets bit 1. */
	movl $(PD_PAE + 1), PDPT_PAE
	movl $(PD_PAE + 1), PDPT_PAE + 0x100
	movl $(PD_PAE + 3), PDPT_PAE + 0x108
	movl $0x83, PD_PAE                /* 0-2 MiB */
	movl $(MAGIC_PA + 0x83), PD_PAE + 8      /* 2-4 MiB */
	movl $(MAGIC_PA + 0x83), PD_PAE + 16     /* 4-6 MiB -> 2-4 MiB: the alias */
	/* 4-level: PML4[0] -> PDPT[0] -> the PAE page directory. */
	movl $(PDPT_LM + 3), PML4
	movl $(PD_PAE + 3), PDPT_LM
	ret

/* ---- fault handlers: resume at recover_ip with recover_sp ---- */
gp32:
	movl $13, fault_vector
	movl recover_sp, %esp
	jmp *recover_ip
unexpected32:
	HC_PRINT "modes: unexpected exception in 32-bit mode\n"
	movl $2, %ebx
	movl $HC_SHUTDOWN, %eax
	vmcall

	.code64
gp64:
	movq $13, fault_vector(%rip)
	movq recover_sp(%rip), %rsp
	jmp *recover_ip(%rip)
bp64:
	incq bp_count(%rip)
	iretq
db64:
	incq db_count(%rip)
	andq $~0x100, 16(%rsp)            /* clear TF in the saved RFLAGS */
	iretq
unexpected64:
	HC_PRINT "modes: unexpected exception in 64-bit mode\n"
	movl $2, %ebx
	movl $HC_SHUTDOWN, %eax
	vmcall

	.section .rodata
rm_msg:	.ascii "modes: REP OUTSB from real mode\n"
rm_msg_end:

	.section .data
	.balign 8
gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF          /* 0x08 64-bit code */
	.quad 0x00CF92000000FFFF          /* 0x10 data, flat */
	.quad 0x00CF9A000000FFFF          /* 0x18 32-bit code, flat */
	.quad 0x00009A000000FFFF          /* 0x20 16-bit code, 64 KiB */
	.quad 0x000092000000FFFF          /* 0x28 16-bit data, 64 KiB */
gdt_end:
gdt_descriptor:
	.word gdt_end - gdt - 1
	.long gdt
real_idt_descriptor:
	.word 0x3FF
	.long 0

	.balign 8
/* Interrupt gates; every handler sits below 64 KiB, so offset bits 31:16 (and 63:32) are 0. */
.macro GATE32 handler:req
	.word \handler
	.word SEL_CODE32
	.byte 0, 0x8E
	.word 0
.endm
.macro GATE64 handler:req
	.word \handler
	.word SEL_CODE64
	.byte 0, 0x8E
	.word 0
	.long 0, 0
.endm
idt32:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12
	GATE32 unexpected32
	.endr
	GATE32 gp32
	.irp v, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	GATE32 unexpected32
	.endr
idt32_end:
idt32_descriptor:
	.word idt32_end - idt32 - 1
	.long idt32

	.balign 16
idt64:
	GATE64 unexpected64
	GATE64 db64
	GATE64 unexpected64
	GATE64 bp64
	.irp v, 4,5,6,7,8,9,10,11,12
	GATE64 unexpected64
	.endr
	GATE64 gp64
	.irp v, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	GATE64 unexpected64
	.endr
idt64_end:
idt64_descriptor:
	.word idt64_end - idt64 - 1
	.quad idt64

	.balign 8
fault_vector:	.quad 0
recover_sp:	.quad 0
recover_ip:	.quad 0
bp_count:	.quad 0
db_count:	.quad 0
