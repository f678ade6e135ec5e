/* keyboard: the virtual PC's i8042 keyboard, driven by the hypervisor's console
 * input (bytes arriving on the host's COM1 are typed on the focused guest's
 * keyboard, scancode set 1, IRQ 1).
 *
 * 1. An IDT with exception gates 0-31 (idt64.inc's stubs), IRQ0 at vector 0x20
 *    (counts ticks, EOI) and IRQ1 at vector 0x21 (the keyboard, below).
 * 2. The PIC is programmed as Linux does (ICW1 0x11, ICW2 0x20/0x28, ICW3
 *    0x04/0x02, ICW4 0x01); only IRQ0 and IRQ1 unmasked (master IMR 0xFC,
 *    slave 0xFF).
 * 3. PIT channel 0 at 100 Hz (0x34 to 0x43, count 11932), so that `sti; hlt`
 *    sleeps until the next tick (HLT with IF=1 and no interrupt source would
 *    stop the guest).
 * 4. The IRQ1 handler reads ONE byte from port 0x60 per interrupt (as Linux's
 *    i8042 driver does), ignores break codes (bit 7), translates the set-1 make
 *    codes of a-z, 0-9, space and Enter to ASCII, appends to a buffer (Enter
 *    sets a flag instead), EOIs and IRETQs.
 * 5. Main prints the prompt, waits in `sti; hlt` for Enter, then prints the
 *    line and tests it against "hello swiftvisor"; on success it writes
 *    "KEYBOARD OK" to VGA text row 2 (the hypervisor mirrors the screen).
 *    After 2000 ticks (~20 s of guest time) without Enter it gives up: it
 *    prints what it got and the 8042's state, drains (polling, no IRQ) the
 *    scancodes still waiting in the keyboard and prints them too, and the
 *    test fails.
 * Expected hypervisor output when "hello swiftvisor\r" is typed:
 *   [keyboard] keyboard: type something and press Enter
 *   [keyboard] keyboard: got 'hello swiftvisor'
 *   [keyboard] keyboard: N IRQ1s, N scancodes, N ticks
 *   [keyboard] PASS 1 typed line is 'hello swiftvisor'
 *   [keyboard] vga 02| KEYBOARD OK
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ KBD_DATA,  0x60
.equ KBD_STATUS, 0x64
.equ IDT_VECTORS, 0x30
.equ GIVE_UP_TICKS, 2000
.equ LINE_MAX,  64
.equ VGA_ROW2,  0xB8000 + 2 * 80 * 2

	.section .text.start, "ax"
	.globl _start
_start:
	/* ---- 1. IDT: the exception gates from idt64.inc, plus IRQ0 and IRQ1 */
	call idt_install
	lea guest_idt(%rip), %rsi
	lea kbd_idt(%rip), %rdi
	mov $(32 * 16 / 8), %ecx
	rep movsq
	SET_GATE kbd_idt, 0x20, irq0_handler
	SET_GATE kbd_idt, 0x21, irq1_handler
	lidt kbd_idtr(%rip)

	/* ---- 2. PIC, as Linux's init_8259A */
	PIC_INIT_LINUX 0xFF, 0xFF       /* all masked until the PIT runs */

	/* ---- 3. PIT channel 0 at 100 Hz */
	PIT_CH0_100HZ

	mov $0xFC, %al                  /* IRQ0 (timer) and IRQ1 (keyboard) */
	outb %al, $PIC1_DATA
	mov $0xFF, %al
	outb %al, $PIC2_DATA

	/* ---- 5. Prompt, then wait for Enter (or give up) */
	PRINT "keyboard: type something and press Enter\n"
1:	cli
	cmpq $0, kbd_enter(%rip)
	jne .Lgot_line
	cmpq $GIVE_UP_TICKS, kbd_ticks(%rip)
	jae .Lgave_up
	sti                             /* the STI shadow covers HLT: no lost wakeup */
	hlt
	jmp 1b

.Lgot_line:
	mov $0xFF, %al                  /* no more interrupts */
	outb %al, $PIC1_DATA
	PRINT "keyboard: got '"
	call print_line
	PRINT "'\n"
	call print_counts
	/* r12 = 0 if the line is exactly "hello swiftvisor" */
	mov $1, %r12d
	cmpq $(expected_end - expected), kbd_len(%rip)
	jne 2f
	lea kbd_line(%rip), %rsi
	lea expected(%rip), %rdi
	mov $(expected_end - expected), %ecx
	repe cmpsb
	jne 2f
	xor %r12d, %r12d
2:	TEST 1, %r12, "typed line is 'hello swiftvisor'"
	test %r12, %r12
	jnz 3f
	/* "KEYBOARD OK" on VGA text row 2, light grey on black */
	lea vga_message(%rip), %rsi
	mov $VGA_ROW2, %edi
	mov $(vga_message_end - vga_message), %ecx
	mov $0x07, %ah
4:	lodsb
	stosw
	dec %ecx
	jnz 4b
3:	FINISH

.Lgave_up:
	mov $0xFF, %al
	outb %al, $PIC1_DATA
	PRINT "keyboard: no Enter after 2000 ticks; got '"
	call print_line
	PRINT "' so far\n"
	call print_counts
	inb $KBD_STATUS, %al
	movzbl %al, %r13d
	PRINT "keyboard: 8042 status 0x"
	mov %r13, %rax
	call print_hex_short
	PRINT " (bit 0: a byte waits in port 0x60)\n"
	/* Whatever the keyboard still holds, read without waiting for IRQ1: shows
	 * whether the keys arrived but their interrupts did not. */
	xor %r13d, %r13d
	lea kbd_line(%rip), %rbx
	mov kbd_len(%rip), %rcx
5:	inb $KBD_STATUS, %al
	test $0x01, %al
	jz 6f
	inb $KBD_DATA, %al
	inc %r13
	test $0x80, %al
	jnz 5b
	movzbl %al, %eax
	lea scancode_ascii(%rip), %rdx
	movzbl (%rdx,%rax), %eax
	test %eax, %eax
	jz 5b
	cmp $'\n', %al                  /* Enter ends the line: not part of it */
	je 5b
	cmp $LINE_MAX, %rcx
	jae 5b
	mov %al, (%rbx,%rcx)
	inc %rcx
	jmp 5b
6:	mov %rcx, kbd_len(%rip)
	PRINT "keyboard: "
	PRINT_DEC %r13
	PRINT " more scancodes were waiting behind port 0x60 without an IRQ1; with them: '"
	call print_line
	PRINT "'\n"
	mov $1, %r12d
	TEST 1, %r12, "typed line is 'hello swiftvisor'"
	FINISH

/* Prints the line typed so far.  Preserves all GPRs. */
print_line:
	push %rbx
	push %rcx
	lea kbd_line(%rip), %rbx
	mov kbd_len(%rip), %rcx
	test %rcx, %rcx
	jz 1f
	call guest_console_write
1:	pop %rcx
	pop %rbx
	ret

/* "keyboard: N IRQ1s, N scancodes, N ticks".  Preserves all GPRs. */
print_counts:
	PRINT "keyboard: "
	PRINT_DEC kbd_irq1_count(%rip)
	PRINT " IRQ1s, "
	PRINT_DEC kbd_scancode_count(%rip)
	PRINT " scancodes, "
	PRINT_DEC kbd_ticks(%rip)
	PRINT " ticks\n"
	ret

/* ---------------------------------------------------------------- handlers */
	.text
irq0_handler:
	push %rax
	incq kbd_ticks(%rip)
	mov $0x20, %al                  /* non-specific EOI */
	outb %al, $PIC1_CMD
	pop %rax
	iretq

/* One scancode per interrupt: read port 0x60, translate a make code, EOI. */
irq1_handler:
	push %rax
	push %rbx
	push %rcx
	incq kbd_irq1_count(%rip)
	inb $KBD_DATA, %al
	incq kbd_scancode_count(%rip)
	test $0x80, %al                 /* a break code: ignored */
	jnz 9f
	movzbl %al, %eax
	lea scancode_ascii(%rip), %rbx
	movzbl (%rbx,%rax), %eax
	test %eax, %eax                 /* a key without ASCII here */
	jz 9f
	cmp $'\n', %al
	jne 1f
	movq $1, kbd_enter(%rip)
	jmp 9f
1:	mov kbd_len(%rip), %rcx
	cmp $LINE_MAX, %rcx
	jae 9f
	lea kbd_line(%rip), %rbx
	mov %al, (%rbx,%rcx)
	inc %rcx
	mov %rcx, kbd_len(%rip)
9:	mov $0x20, %al                  /* non-specific EOI */
	outb %al, $PIC1_CMD
	pop %rcx
	pop %rbx
	pop %rax
	iretq

	.section .rodata
/* Set-1 make code -> ASCII (0: not translated). */
scancode_ascii:
	.byte 0, 0                                              /* 0x00, 0x01 Esc */
	.ascii "1234567890"                                     /* 0x02-0x0B */
	.byte 0, 0, 0, 0                                        /* 0x0C-0x0F: - = BS Tab */
	.ascii "qwertyuiop"                                     /* 0x10-0x19 */
	.byte 0, 0                                              /* 0x1A-0x1B: [ ] */
	.byte '\n', 0                                           /* 0x1C Enter, 0x1D Ctrl */
	.ascii "asdfghjkl"                                      /* 0x1E-0x26 */
	.byte 0, 0, 0, 0, 0                                     /* 0x27-0x2B: ; ' ` LShift \ */
	.ascii "zxcvbnm"                                        /* 0x2C-0x32 */
	.byte 0, 0, 0, 0, 0, 0                                  /* 0x33-0x38: , . / RShift KP* Alt */
	.byte ' '                                               /* 0x39 Space */
	.fill 128 - 0x3A, 1, 0                                  /* 0x3A-0x7F */
expected:	.ascii "hello swiftvisor"
expected_end:
vga_message:	.ascii "KEYBOARD OK"
vga_message_end:

	.data
	.balign 16
	.word 0, 0, 0
kbd_idtr:
	.word IDT_VECTORS * 16 - 1
	.quad kbd_idt

	.bss
	.balign 8
kbd_ticks:	.quad 0
kbd_enter:	.quad 0
kbd_len:	.quad 0
kbd_irq1_count:	.quad 0
kbd_scancode_count: .quad 0
kbd_line:	.space LINE_MAX
	.balign 16
kbd_idt:	.space IDT_VECTORS * 16
	.text
