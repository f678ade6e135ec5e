/* timer: the virtual PC's 8259A PIC pair, 8254 PIT and CMOS RTC together, with
 * interrupts injected by the hypervisor.
 *
 * 1. An IDT with exception gates 0-31 (idt64.inc's stubs), the IRQ0 handler at
 *    vector 0x20 (counts, non-specific EOI, IRETQ) and a catch-all for 0x21-0x2F
 *    (counts, EOI).
 * 2. The PIC is programmed as Linux does (ICW1 0x11, ICW2 0x20/0x28, ICW3
 *    0x04/0x02, ICW4 0x01), everything masked but IRQ0.
 * 3. PIT channel 0: mode 2, lobyte/hibyte, count 11932 (100 Hz). A latched read
 *    of the counter (0x00 to 0x43, two reads of 0x40) lies in 1..11932.
 * 4. The RTC date and time are read (wait for UIP clear, read twice until two
 *    reads agree) and printed as BCD.
 * 5. Timing: wait (sti; hlt) until the RTC seconds register changes, zero the
 *    IRQ0 count, wait until it changes again, cli: the count is the number of
 *    IRQ0s in one RTC second, 100 for 1193182 / 11932 = 99.998 Hz; 97..103 pass.
 * Expected hypervisor output:
 *   [timer] PASS 1 PIT channel 0 latched count is in 1..11932
 *   [timer] PIT channel 0 latched count = N
 *   [timer] RTC 20YY-MM-DD HH:MM:SS
 *   [timer] timer: N IRQ0 ticks in one RTC second
 *   [timer] PASS 2 IRQ0 ticks in one RTC second within 97..103
 *   [timer] PASS 3 no interrupt on vectors 0x21-0x2F
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ CMOS_INDEX, 0x70
.equ CMOS_DATA,  0x71
.equ IDT_VECTORS, 0x30

	.section .text.start, "ax"
	.globl _start
_start:
	/* ---- 1. IDT: idt64.inc builds gates 0-31 in guest_idt; copy them into a
	 * larger table and add the IRQ gates. */
	call idt_install
	lea guest_idt(%rip), %rsi
	lea timer_idt(%rip), %rdi
	mov $(32 * 16 / 8), %ecx
	rep movsq
	SET_GATE timer_idt, 0x20, irq0_handler
	.irp v, 0x21,0x22,0x23,0x24,0x25,0x26,0x27,0x28,0x29,0x2A,0x2B,0x2C,0x2D,0x2E,0x2F
	SET_GATE timer_idt, \v, other_irq_handler
	.endr
	lidt timer_idtr(%rip)

	/* ---- 2. PIC, as Linux's init_8259A ---- */
	PIC_INIT_LINUX 0xFE, 0xFF       /* only IRQ0 unmasked */

	/* ---- 3. PIT channel 0 at 100 Hz ---- */
	PIT_CH0_100HZ

	/* Latch and read the counter; r12 = count. */
	mov $0x00, %al                  /* counter latch, channel 0 */
	outb %al, $PIT_CMD
	xor %eax, %eax
	inb $PIT_CH0, %al
	movzbl %al, %r12d
	inb $PIT_CH0, %al
	movzbl %al, %eax
	shl $8, %eax
	or %eax, %r12d
	xor %r13d, %r13d                /* r13 = 0 if 1 <= count <= 11932 */
	cmp $1, %r12
	jb 1f
	cmp $PIT_COUNT, %r12
	jbe 2f
1:	mov $1, %r13d
2:	TEST 1, %r13, "PIT channel 0 latched count is in 1..11932"
	PRINT "PIT channel 0 latched count = "
	PRINT_DEC %r12
	PRINT "\n"

	/* ---- 4. RTC date and time ---- */
	call rtc_read_datetime
	call print_datetime

	/* ---- 5. IRQ0 ticks in one RTC second ---- */
	call rtc_seconds
	mov %eax, %r12d                 /* r12: the seconds value we start from */
1:	sti
	hlt
	call rtc_seconds
	cmp %eax, %r12d
	je 1b
	mov %eax, %r12d
	movq $0, irq0_count(%rip)       /* one store: no interrupt can split it */
2:	sti
	hlt
	call rtc_seconds
	cmp %eax, %r12d
	je 2b
	cli
	mov irq0_count(%rip), %r13
	PRINT "timer: "
	PRINT_DEC %r13
	PRINT " IRQ0 ticks in one RTC second\n"
	xor %r14d, %r14d
	cmp $97, %r13
	jb 3f
	cmp $103, %r13
	jbe 4f
3:	mov $1, %r14d
4:	TEST 2, %r14, "IRQ0 ticks in one RTC second within 97..103"

	mov other_irq_count(%rip), %r13
	TEST 3, %r13, "no interrupt on vectors 0x21-0x2F"
	FINISH

/* ---------------------------------------------------------------- handlers */
	.text
irq0_handler:
	push %rax
	incq irq0_count(%rip)
	mov $0x20, %al                  /* non-specific EOI */
	outb %al, $PIC1_CMD
	pop %rax
	iretq

other_irq_handler:
	push %rax
	incq other_irq_count(%rip)
	mov $0x20, %al
	outb %al, $PIC2_CMD
	outb %al, $PIC1_CMD
	pop %rax
	iretq

/* ---------------------------------------------------------------- RTC */

/* AL = CMOS register AL (no NMI-disable bit).  Preserves other GPRs. */
cmos_read:
	outb %al, $CMOS_INDEX
	inb $CMOS_DATA, %al
	ret

/* Waits while status A UIP is set.  Clobbers AL. */
rtc_wait_uip:
1:	mov $0x0A, %al
	call cmos_read
	test $0x80, %al
	jnz 1b
	ret

/* EAX = the seconds register, read while no update is in progress. */
rtc_seconds:
	call rtc_wait_uip
	xor %eax, %eax
	call cmos_read
	movzbl %al, %eax
	ret

/* Fills rtc_now[0..6] = century, year, month, day, hours, minutes, seconds,
 * repeating until two consecutive snapshots agree.  Clobbers RAX, RCX, RSI, RDI. */
rtc_read_datetime:
1:	lea rtc_now(%rip), %rdi
	call rtc_snapshot
	lea rtc_check(%rip), %rdi
	call rtc_snapshot
	mov rtc_now(%rip), %rax
	cmp rtc_check(%rip), %rax
	jne 1b
	ret

/* Reads the seven date/time registers into (RDI).  Clobbers RAX, RCX, RSI. */
rtc_snapshot:
	call rtc_wait_uip
	lea rtc_regs(%rip), %rsi
	xor %ecx, %ecx
1:	movzbl (%rsi,%rcx), %eax
	call cmos_read
	mov %al, (%rdi,%rcx)
	inc %ecx
	cmp $7, %ecx
	jb 1b
	ret

/* Prints "RTC CCYY-MM-DD HH:MM:SS" from rtc_now (BCD bytes as two hex digits). */
print_datetime:
	push %rbx
	push %rcx
	push %rsi
	push %rdi
	lea rtc_now(%rip), %rsi
	lea rtc_line_fields(%rip), %rdi
	xor %ecx, %ecx
1:	movzbl (%rdi,%rcx), %ebx        /* offset of the field in rtc_line */
	movzbl (%rsi,%rcx), %eax
	push %rcx
	lea rtc_line(%rip), %rcx
	add %rcx, %rbx
	pop %rcx
	mov %eax, %edx
	shr $4, %edx
	call hex_digit
	mov %dl, (%rbx)
	mov %eax, %edx
	and $0xF, %edx
	call hex_digit
	mov %dl, 1(%rbx)
	inc %ecx
	cmp $7, %ecx
	jb 1b
	lea rtc_line(%rip), %rbx
	mov $(rtc_line_end - rtc_line), %ecx
	call guest_console_write
	pop %rdi
	pop %rsi
	pop %rcx
	pop %rbx
	ret

/* DL (0..15) -> its hex digit character in DL. */
hex_digit:
	cmp $10, %dl
	jb 1f
	add $('A' - '0' - 10), %dl
1:	add $'0', %dl
	ret

	.section .rodata
/* CMOS registers: century, year, month, day of month, hours, minutes, seconds. */
rtc_regs:	.byte 0x32, 0x09, 0x08, 0x07, 0x04, 0x02, 0x00
/* Where each goes in rtc_line. */
rtc_line_fields: .byte 4, 6, 9, 12, 15, 18, 21

	.data
rtc_line:	.ascii "RTC CCYY-MM-DD HH:MM:SS\n"
rtc_line_end:
	.balign 16
	.word 0, 0, 0
timer_idtr:
	.word IDT_VECTORS * 16 - 1
	.quad timer_idt

	.bss
	.balign 8
irq0_count:	.quad 0
other_irq_count: .quad 0
rtc_now:	.quad 0
rtc_check:	.quad 0
	.balign 16
timer_idt:	.space IDT_VECTORS * 16
	.text
