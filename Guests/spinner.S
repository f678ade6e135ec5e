/* spinner: a status line redrawn on every timer tick, as kernels do (a
 * spinning "|/-\" and nothing else changing on that row), for the hypervisor's
 * VGA mirror: in log mode it must report that row at most once per guest second
 * (Machine/VGATextMirror.swift), not 100 times.
 *
 * PIT channel 0 at 100 Hz; each IRQ0 counts a tick; the main loop redraws VGA
 * row 0 as "spinner: working X" after every tick for 300 ticks (3 guest
 * seconds), then prints "spinner: 300 ticks", writes "SPINNER DONE" on row 2
 * and shuts down.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ IDT_VECTORS, 0x30
.equ RUN_TICKS, 300
.equ VGA, 0xB8000

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	lea guest_idt(%rip), %rsi
	lea sp_idt(%rip), %rdi
	mov $(32 * 16 / 8), %ecx
	rep movsq
	SET_GATE sp_idt, 0x20, irq0_handler
	lidt sp_idtr(%rip)
	PIC_INIT_LINUX 0xFF, 0xFF
	PIT_CH0_100HZ
	mov $0xFE, %al                  /* IRQ0 only */
	outb %al, $PIC1_DATA
	PRINT "spinner: redrawing VGA row 0 on every tick for 300 ticks\n"

	/* Row 0: "spinner: working " in grey, the spinner at column 17. */
	lea label(%rip), %rsi
	mov $VGA, %edi
	mov $(label_end - label), %ecx
	mov $0x07, %ah
1:	lodsb
	stosw
	dec %ecx
	jnz 1b

	xor %r12d, %r12d                /* the last tick drawn */
2:	cli
	mov sp_ticks(%rip), %rax
	cmp $RUN_TICKS, %rax
	jae 3f
	cmp %r12, %rax
	je 4f
	mov %rax, %r12
	and $3, %eax
	lea spin(%rip), %rbx
	movzbl (%rbx,%rax), %eax
	mov $0x0E, %ah                  /* yellow */
	mov %ax, VGA + 2 * (label_end - label)
4:	sti
	hlt
	jmp 2b

3:	mov $0xFF, %al
	outb %al, $PIC1_DATA
	PRINT "spinner: "
	PRINT_DEC sp_ticks(%rip)
	PRINT " ticks\n"
	lea done(%rip), %rsi
	mov $(VGA + 2 * 160), %edi
	mov $(done_end - done), %ecx
	mov $0x0A, %ah
5:	lodsb
	stosw
	dec %ecx
	jnz 5b
	SHUTDOWN 0

	.text
irq0_handler:
	push %rax
	incq sp_ticks(%rip)
	mov $0x20, %al
	outb %al, $PIC1_CMD
	pop %rax
	iretq

	.section .rodata
label:	.ascii "spinner: working "
label_end:
spin:	.byte 0x7C, 0x2F, 0x2D, 0x5C    /* | / - backslash */
done:	.ascii "SPINNER DONE"
done_end:

	.data
	.balign 16
	.word 0, 0, 0
sp_idtr:
	.word IDT_VECTORS * 16 - 1
	.quad sp_idt

	.bss
	.balign 8
sp_ticks:	.quad 0
	.balign 16
sp_idt:		.space IDT_VECTORS * 16
	.text
