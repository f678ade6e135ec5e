/* shell: a tiny interactive shell, the way a teaching kernel has one, for the
 * hypervisor's console (`make run`, tools/console_test.py).
 *
 * Input: keys typed on the hypervisor's console reach the focused VM on its
 * i8042 keyboard (set-1 scancodes on IRQ 1) and/or its UART's receive line
 * (module option input=keyboard|serial|both). The shell reads both and keeps to
 * the first that delivers: the keyboard when a scancode came with (or before)
 * the first UART byte (input=both), else the UART. The keyboard driver tracks
 * Shift (0x2A/0x36) and Ctrl (0x1D), skips E0-prefixed keys, translates make
 * codes with a US layout and queues ASCII in a ring; the UART is polled.
 *
 * Output: its COM1 (polled, as a kernel's early console), a prompt "$ " and the
 * typed characters echoed, so the hypervisor prints "[name] $ echo hi" once
 * Enter ends the line. The VGA text screen shows a title (row 0), the line
 * being typed (row 1) and the last reply (row 2).
 *
 * Commands: `echo TEXT` prints TEXT; `ticks` the timer ticks (100 Hz) so far;
 * `help`; `exit` shuts down with code 0. Anything else: "unknown command: ...".
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ KBD_DATA,   0x60
.equ KBD_STATUS, 0x64
.equ COM1_DATA,  0x3F8
.equ COM1_FCR,   0x3FA
.equ IDT_VECTORS, 0x30
.equ LINE_MAX,   70
.equ VGA,        0xB8000
.equ SOURCE_KEYBOARD, 1
.equ SOURCE_SERIAL,   2

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	lea guest_idt(%rip), %rsi
	lea sh_idt(%rip), %rdi
	mov $(32 * 16 / 8), %ecx
	rep movsq
	SET_GATE sh_idt, 0x20, irq0_handler
	SET_GATE sh_idt, 0x21, irq1_handler
	lidt sh_idtr(%rip)
	PIC_INIT_LINUX 0xFF, 0xFF
	PIT_CH0_100HZ
	mov $0xFC, %al                  /* IRQ0 (timer) and IRQ1 (keyboard) */
	outb %al, $PIC1_DATA
	mov $0x07, %al                  /* UART: FIFOs on and cleared, no interrupts */
	mov $COM1_FCR, %dx
	outb %al, %dx

	/* The screen: grey on black, a title on row 0 in white on blue. */
	mov $VGA, %edi
	mov $(80 * 25), %ecx
	mov $0x0720, %ax
	rep stosw
	lea title(%rip), %rsi
	mov $(title_end - title), %ecx
	xor %edx, %edx
	mov $0x1F, %bl
	call vga_row

	COM1_PRINT "shell: commands are echo TEXT, ticks, help, exit\n"
	call prompt

main_loop:
	cli
	call kbd_pop                    /* AL = a typed character, ZF=1 when none */
	jz 2f
	cmpq $SOURCE_SERIAL, sh_source(%rip)
	je main_loop                    /* the UART won: keyboard input is a copy */
	movq $SOURCE_KEYBOARD, sh_source(%rip)
	jmp handle_char
2:	mov $COM1_LSR, %dx
	inb %dx, %al
	test $0x01, %al                 /* LSR.DR: a byte received */
	jz idle
	mov $COM1_DATA, %dx
	inb %dx, %al
	cmpq $SOURCE_KEYBOARD, sh_source(%rip)
	je main_loop                    /* the keyboard won: UART input is a copy */
	cmpq $SOURCE_SERIAL, sh_source(%rip)
	je handle_char
	/* The first UART byte: did the keyboard deliver too (scancodes read or waiting)? */
	mov %al, %bl
	cmpq $0, sh_scancodes(%rip)
	jne 3f
	inb $KBD_STATUS, %al
	test $0x01, %al
	jnz 3f
	movq $SOURCE_SERIAL, sh_source(%rip)
	mov %bl, %al
	jmp handle_char
3:	movq $SOURCE_KEYBOARD, sh_source(%rip)
	jmp main_loop
idle:
	sti                             /* the STI shadow covers HLT: no lost wakeup */
	hlt
	jmp main_loop

/* AL: one character from either source. */
handle_char:
	cmp $'\r', %al
	je execute
	cmp $'\n', %al
	je execute
	cmp $0x08, %al
	je backspace
	cmp $0x7F, %al
	je backspace
	cmp $0x20, %al
	jb main_loop                    /* other control characters: ignored */
	cmp $0x7F, %al
	ja main_loop
	mov sh_len(%rip), %rcx
	cmp $LINE_MAX, %rcx
	jae main_loop
	lea sh_line(%rip), %rdx
	mov %al, (%rdx,%rcx)
	inc %rcx
	mov %rcx, sh_len(%rip)
	call com1_putc                  /* echo */
	call show_line
	jmp main_loop

backspace:
	mov sh_len(%rip), %rcx
	test %rcx, %rcx
	jz main_loop
	dec %rcx
	mov %rcx, sh_len(%rip)
	mov $0x08, %al                  /* BS, space, BS: the terminal's way to erase */
	call com1_putc
	mov $' ', %al
	call com1_putc
	mov $0x08, %al
	call com1_putc
	call show_line
	jmp main_loop

execute:
	mov $'\n', %al
	call com1_putc
	cmpq $0, sh_announced(%rip)     /* the first command: say where input comes from */
	jne 1f
	movq $1, sh_announced(%rip)
	cmpq $SOURCE_SERIAL, sh_source(%rip)
	je 2f
	COM1_PRINT "shell: input from the keyboard (IRQ 1)\n"
	jmp 1f
2:	COM1_PRINT "shell: input from the serial line (COM1)\n"
1:
	lea sh_line(%rip), %rsi
	mov sh_len(%rip), %rcx
	test %rcx, %rcx
	jz 9f
	/* echo TEXT */
	lea cmd_echo(%rip), %rdi
	mov $(cmd_echo_end - cmd_echo), %edx
	call starts_with
	jne 1f
	add $(cmd_echo_end - cmd_echo), %rsi
	sub $(cmd_echo_end - cmd_echo), %rcx
	call reply
	jmp 9f
1:	lea cmd_ticks(%rip), %rdi
	mov $(cmd_ticks_end - cmd_ticks), %edx
	call is_command
	jne 2f
	COM1_PRINT "ticks: "
	mov sh_ticks(%rip), %rax
	call com1_dec
	mov $'\n', %al
	call com1_putc
	jmp 9f
2:	lea cmd_help(%rip), %rdi
	mov $(cmd_help_end - cmd_help), %edx
	call is_command
	jne 3f
	COM1_PRINT "shell: echo TEXT prints TEXT; ticks: timer ticks; exit: shut down\n"
	jmp 9f
3:	lea cmd_exit(%rip), %rdi
	mov $(cmd_exit_end - cmd_exit), %edx
	call is_command
	jne 4f
	COM1_PRINT "shell: bye\n"
	SHUTDOWN 0
4:	COM1_PRINT "unknown command: "
	call com1_write
	mov $'\n', %al
	call com1_putc
9:	movq $0, sh_len(%rip)
	call prompt
	jmp main_loop

/* RSI/RCX: the text after "echo ": to COM1 with a newline, and to VGA row 2. */
reply:
	call com1_write
	mov $'\n', %al
	call com1_putc
	mov $2, %edx
	mov $0x0A, %bl                  /* light green */
	call vga_row
	ret

/* ZF=1 when the line RSI/RCX starts with the RDX bytes at RDI. Preserves RSI, RCX. */
starts_with:
	cmp %rdx, %rcx
	jb 1f
	push %rsi
	push %rcx
	push %rdi
	mov %rdx, %rcx
	repe cmpsb
	pop %rdi
	pop %rcx
	pop %rsi
	ret
1:	or $1, %edx                     /* ZF=0 */
	ret

/* ZF=1 when the line RSI/RCX is exactly the RDX bytes at RDI. */
is_command:
	cmp %rdx, %rcx
	jne 1f
	jmp starts_with
1:	ret

/* "$ " on COM1, and the empty line on VGA row 1. */
prompt:
	COM1_PRINT "$ "
	call show_line
	ret

/* VGA row 1: "$ " and the line typed so far. Preserves all GPRs. */
show_line:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	lea sh_prompt_line(%rip), %rsi
	movw $0x2024, (%rsi)            /* "$ " */
	lea 2(%rsi), %rdi
	push %rsi
	lea sh_line(%rip), %rsi
	mov sh_len(%rip), %rcx
	rep movsb
	pop %rsi
	mov sh_len(%rip), %rcx
	add $2, %rcx
	mov $1, %edx
	mov $0x07, %bl
	call vga_row
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	ret

/* Writes RSI/RCX (at most 80 bytes) on VGA row EDX with attribute BL, blanks the rest.
 * Preserves RSI and RCX. */
vga_row:
	push %rax
	push %rcx
	push %rsi
	push %rdi
	push %rdx
	imul $160, %edx, %edi
	add $VGA, %edi
	mov $80, %edx
	cmp %rdx, %rcx
	cmova %rdx, %rcx
	sub %rcx, %rdx
	mov %bl, %ah
	jrcxz 2f
1:	lodsb
	stosw
	dec %rcx
	jnz 1b
2:	mov $0x20, %al
	mov %rdx, %rcx
	rep stosw
	pop %rdx
	pop %rdi
	pop %rsi
	pop %rcx
	pop %rax
	ret

/* RAX in decimal on COM1. */
com1_dec:
	push %rbx
	push %rcx
	push %rdx
	lea sh_numbuf_end(%rip), %rbx
	xor %ecx, %ecx
	mov $10, %r8d
1:	xor %edx, %edx
	div %r8
	add $'0', %dl
	dec %rbx
	mov %dl, (%rbx)
	inc %rcx
	test %rax, %rax
	jnz 1b
	mov %rbx, %rsi
	call com1_write
	pop %rdx
	pop %rcx
	pop %rbx
	ret

/* The next character from the keyboard ring in AL; ZF=1 when empty. Call with IF=0. */
kbd_pop:
	push %rbx
	push %rcx
	movzbl sh_ring_tail(%rip), %ecx
	cmpb sh_ring_head(%rip), %cl
	je 1f
	lea sh_ring(%rip), %rbx
	movzbl (%rbx,%rcx), %eax
	incb sh_ring_tail(%rip)
	or $1, %ecx                     /* ZF=0 */
1:	pop %rcx
	pop %rbx
	ret

/* ---------------------------------------------------------------- handlers */
	.text
irq0_handler:
	push %rax
	incq sh_ticks(%rip)
	mov $0x20, %al
	outb %al, $PIC1_CMD
	pop %rax
	iretq

/* One scancode per interrupt: modifiers tracked, make codes translated and queued. */
irq1_handler:
	push %rax
	push %rbx
	push %rcx
	incq sh_scancodes(%rip)
	inb $KBD_DATA, %al
	cmp $0xE0, %al                  /* an extended key follows: skipped */
	jne 1f
	movq $1, sh_extended(%rip)
	jmp 9f
1:	cmpq $0, sh_extended(%rip)
	movq $0, sh_extended(%rip)
	jne 9f
	mov %al, %cl
	and $0x7F, %cl                  /* the key */
	xor %ebx, %ebx
	test $0x80, %al
	sete %bl                        /* 1 = make, 0 = break */
	cmp $0x2A, %cl                  /* left Shift */
	je 2f
	cmp $0x36, %cl                  /* right Shift */
	je 2f
	cmp $0x1D, %cl                  /* Ctrl */
	jne 3f
	mov %rbx, sh_ctrl(%rip)
	jmp 9f
2:	mov %rbx, sh_shift(%rip)
	jmp 9f
3:	test %ebx, %ebx                 /* other breaks: nothing */
	jz 9f
	movzbl %cl, %ecx
	cmp $0x3A, %ecx
	jae 9f
	lea keymap(%rip), %rbx
	cmpq $0, sh_shift(%rip)
	je 4f
	lea keymap_shift(%rip), %rbx
4:	movzbl (%rbx,%rcx), %eax
	test %eax, %eax
	jz 9f
	cmpq $0, sh_ctrl(%rip)
	je 5f
	and $0x1F, %al                  /* Ctrl+letter */
5:	movzbl sh_ring_head(%rip), %ecx
	lea sh_ring(%rip), %rbx
	mov %al, (%rbx,%rcx)
	incb sh_ring_head(%rip)
9:	mov $0x20, %al
	outb %al, $PIC1_CMD
	pop %rcx
	pop %rbx
	pop %rax
	iretq

	.section .rodata
/* Set-1 make codes 0x00-0x39 -> ASCII, US layout (0: no character). */
keymap:
	.byte 0, 0x1B
	.ascii "1234567890-="
	.byte 0x08, 0x09
	.ascii "qwertyuiop[]"
	.byte '\r', 0
	.ascii "asdfghjkl;"
	.byte 0x27, 0x60, 0, 0x5C       /* ' ` LShift backslash */
	.ascii "zxcvbnm,./"
	.byte 0, '*', 0, ' '            /* RShift KP* Alt Space */
keymap_shift:
	.byte 0, 0x1B
	.ascii "!@#$%^&*()_+"
	.byte 0x08, 0x09
	.ascii "QWERTYUIOP{}"
	.byte '\r', 0
	.ascii "ASDFGHJKL:"
	.byte 0x22, 0x7E, 0, 0x7C       /* double quote, tilde, LShift, bar */
	.ascii "ZXCVBNM<>?"
	.byte 0, '*', 0, ' '
title:	.ascii " Swiftvisor test shell: echo TEXT, ticks, help, exit"
title_end:
cmd_echo:	.ascii "echo "
cmd_echo_end:
cmd_ticks:	.ascii "ticks"
cmd_ticks_end:
cmd_help:	.ascii "help"
cmd_help_end:
cmd_exit:	.ascii "exit"
cmd_exit_end:

	.data
	.balign 16
	.word 0, 0, 0
sh_idtr:
	.word IDT_VECTORS * 16 - 1
	.quad sh_idt

	.bss
	.balign 8
sh_ticks:	.quad 0
sh_scancodes:	.quad 0
sh_source:	.quad 0
sh_announced:	.quad 0
sh_shift:	.quad 0
sh_ctrl:	.quad 0
sh_extended:	.quad 0
sh_len:		.quad 0
sh_ring_head:	.byte 0
sh_ring_tail:	.byte 0
sh_line:	.space LINE_MAX
sh_prompt_line:	.space LINE_MAX + 2
sh_numbuf:	.space 24
sh_numbuf_end:
	.balign 16
sh_ring:	.space 256
	.balign 16
sh_idt:		.space IDT_VECTORS * 16
	.text
