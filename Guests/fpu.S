/* fpu: the guest's x87/SSE state survives VM exits.
 *
 * Enables SSE (CR4.OSFXSR|OSXMMEXCPT, CR0.EM = 0, CR0.MP = 1, CR0.TS = 0),
 * loads distinctive values into xmm0-xmm15, MXCSR, the x87 control word and
 * the x87 stack (st0 = pi, st1 = 1.0), takes an FXSAVE image, then makes 50
 * version hypercalls, 50 CPUID exits and 50 OUTs to COM1's scratch register
 * without touching the FPU.  Afterwards every register must be unchanged.
 * Expected hypervisor output:
 *   [fpu] PASS 1 CR4.OSFXSR and CR4.OSXMMEXCPT read back set
 *   [fpu] fpu: 150 exits done, checking the registers
 *   [fpu] PASS 2 xmm0-xmm15 unchanged across 150 exits
 *   [fpu] PASS 3 x87 st0 = pi and st1 = 1.0 unchanged
 *   [fpu] PASS 4 x87 control word and MXCSR unchanged
 *   [fpu] PASS 5 FXSAVE image (x87 control/status, MXCSR, st0-7, xmm0-15) unchanged
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

.equ FCW_VALUE,   0x0F7F        /* all exceptions masked, 64-bit precision, round toward zero */
.equ MXCSR_VALUE, 0x7F80        /* all exceptions masked, round toward zero */

/* repe cmpsb of \len bytes at \a and \b; ZF = 1 if equal.  Clobbers rcx, rsi, rdi. */
.macro COMPARE a:req, b:req, len:req
	lea \a, %rsi
	lea \b, %rdi
	mov $\len, %ecx
	cld
	repe cmpsb
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	mov %cr0, %rax
	and $~0xC, %rax                 /* EM = 0, TS = 0 */
	or $0x2, %rax                   /* MP = 1 */
	mov %rax, %cr0
	mov %cr4, %rax
	or $0x600, %rax                 /* OSFXSR | OSXMMEXCPT */
	mov %rax, %cr4
	mov %cr4, %rax
	and $0x600, %eax
	cmp $0x600, %eax
	TEST_IF e, 1, "CR4.OSFXSR and CR4.OSXMMEXCPT read back set"

	fninit
	fldcw fcw_value(%rip)
	ldmxcsr mxcsr_value(%rip)
	fldpi
	fstpt ref_pi(%rip)
	fld1
	fstpt ref_one(%rip)
	fld1
	fldpi                           /* st0 = pi, st1 = 1.0 */

	lea xmm_pattern(%rip), %rax
	movdqu 0*16(%rax), %xmm0
	movdqu 1*16(%rax), %xmm1
	movdqu 2*16(%rax), %xmm2
	movdqu 3*16(%rax), %xmm3
	movdqu 4*16(%rax), %xmm4
	movdqu 5*16(%rax), %xmm5
	movdqu 6*16(%rax), %xmm6
	movdqu 7*16(%rax), %xmm7
	movdqu 8*16(%rax), %xmm8
	movdqu 9*16(%rax), %xmm9
	movdqu 10*16(%rax), %xmm10
	movdqu 11*16(%rax), %xmm11
	movdqu 12*16(%rax), %xmm12
	movdqu 13*16(%rax), %xmm13
	movdqu 14*16(%rax), %xmm14
	movdqu 15*16(%rax), %xmm15
	fxsave64 fx_before(%rip)

	/* 150 exits; nothing here touches x87/SSE */
	mov $50, %r12d
1:	mov $HC_VERSION, %eax
	vmcall
	dec %r12d
	jnz 1b
	mov $50, %r12d
2:	mov $0x40000000, %eax
	xor %ecx, %ecx
	cpuid
	dec %r12d
	jnz 2b
	mov $50, %r12d
	mov $COM1_SCR, %dx
3:	mov %r12b, %al
	outb %al, %dx
	dec %r12d
	jnz 3b
	PRINT "fpu: 150 exits done, checking the registers\n"

	fxsave64 fx_after(%rip)
	lea xmm_out(%rip), %rax
	movdqu %xmm0, 0*16(%rax)
	movdqu %xmm1, 1*16(%rax)
	movdqu %xmm2, 2*16(%rax)
	movdqu %xmm3, 3*16(%rax)
	movdqu %xmm4, 4*16(%rax)
	movdqu %xmm5, 5*16(%rax)
	movdqu %xmm6, 6*16(%rax)
	movdqu %xmm7, 7*16(%rax)
	movdqu %xmm8, 8*16(%rax)
	movdqu %xmm9, 9*16(%rax)
	movdqu %xmm10, 10*16(%rax)
	movdqu %xmm11, 11*16(%rax)
	movdqu %xmm12, 12*16(%rax)
	movdqu %xmm13, 13*16(%rax)
	movdqu %xmm14, 14*16(%rax)
	movdqu %xmm15, 15*16(%rax)
	fstpt st0_out(%rip)
	fstpt st1_out(%rip)
	fnstcw fcw_out(%rip)
	stmxcsr mxcsr_out(%rip)

	COMPARE xmm_pattern(%rip), xmm_out(%rip), 256
	TEST_IF e, 2, "xmm0-xmm15 unchanged across 150 exits"

	COMPARE ref_pi(%rip), st0_out(%rip), 10
	setne %r13b
	COMPARE ref_one(%rip), st1_out(%rip), 10
	setne %al
	or %al, %r13b
	movzbl %r13b, %r13d
	TEST 3, %r13, "x87 st0 = pi and st1 = 1.0 unchanged"

	xor %r13d, %r13d
	cmpw $FCW_VALUE, fcw_out(%rip)
	setne %r13b
	cmpl $MXCSR_VALUE, mxcsr_out(%rip)
	setne %al
	or %al, %r13b
	TEST 4, %r13, "x87 control word and MXCSR unchanged"

	/* FXSAVE layout: 0 FCW, 2 FSW, 4 FTW, 24 MXCSR, 28 MXCSR_MASK,
	 * 32-159 st0-7, 160-415 xmm0-15.  FOP/FIP/FDP (6-23) are left out. */
	COMPARE fx_before(%rip), fx_after(%rip), 6
	setne %r13b
	COMPARE fx_before+24(%rip), fx_after+24(%rip), 416 - 24
	setne %al
	or %al, %r13b
	movzbl %r13b, %r13d
	TEST 5, %r13, "FXSAVE image (x87 control/status, MXCSR, st0-7, xmm0-15) unchanged"

	FINISH

	.section .rodata
	.balign 16
/* xmm<i> byte j = (16*i + j) % 255 + 1 (never zero) */
xmm_pattern:
	.set i, 0
	.rept 256
	.byte (i % 255) + 1
	.set i, i + 1
	.endr
fcw_value:	.word FCW_VALUE
mxcsr_value:	.long MXCSR_VALUE

	.bss
	.balign 16
fx_before:	.space 512
fx_after:	.space 512
xmm_out:	.space 256
ref_pi:		.space 16
ref_one:	.space 16
st0_out:	.space 16
st1_out:	.space 16
fcw_out:	.space 4
mxcsr_out:	.space 4
