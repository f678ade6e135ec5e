/* atairq: interrupt-driven ATA PIO in both directions, as a kernel that sleeps
 * on IRQ 14 does it (module argument disk=1: a zeroed 1 MiB scratch disk).
 *
 * Setup: an IDT (exceptions from idt64.inc; IRQ0 at 0x20 counts ticks; IRQ14 at
 * 0x2E reads Status - which acknowledges the drive - records it, counts, sets a
 * flag and sends EOI to both PICs; any other IRQ is counted as unexpected), the
 * PICs as Linux programs them with IRQ0, the cascade and IRQ14 unmasked, PIT at
 * 100 Hz as the timeout clock, Device Control nIEN = 0.
 *
 * Sleeping: with interrupts off, the flag is cleared before the command (or the
 * last data word) is written; then `cli; flag set? done : sti; hlt; repeat`,
 * which cannot lose the wake-up (STI's interrupt shadow covers HLT). A request
 * that sees no IRQ 14 within 100 PIT ticks (1 s) times out, as a kernel's
 * "addRequest ... timeout" would.
 *
 *  1. WRITE SECTORS, one sector per command, LBA 100..199: wait (polling
 *     Alternate Status, which does not acknowledge) for DRQ, 256 OUTW, check
 *     Alternate Status is BSY right after the block (the drive is still
 *     writing: the interrupt cannot have come yet), sleep until IRQ 14; the
 *     handler's Status must be 0x50.
 *  2. READ SECTORS, one per command, LBA 100..199: sleep until IRQ 14 (Status
 *     0x58), 256 INW, compare with the pattern; Alternate Status 0x50 after
 *     (no interrupt after the last data-in block).
 *  3. READ SECTORS of 4 sectors (LBA 150..153) in one command: one IRQ 14
 *     per block, each with Status 0x58, the data right.
 *  4. A teaching kernel's write request (SWEB's ATADriver::addRequest): with
 *     interrupts off, WRITE SECTORS, Alternate Status polled for DRQ, 256 OUTW,
 *     Alternate Status polled until not BSY, FLUSH CACHE (writing Command drops
 *     the write's pending interrupt), polled until not BSY again; only then
 *     interrupts on: exactly one IRQ 14 (status 0x50) must come, 10 times.
 *  5. The same, polling Status (0x1F7) instead, as older SWEB versions do: each
 *     read acknowledges the drive and drops INTRQ before the CPU could take it;
 *     the 8259 keeps the request (as QEMU's does), so one IRQ 14 still comes.
 *  6. Totals: 100 + 100 + 4 + 10 + 10 IRQ 14s, no other IRQ, no timeout.
 * Expected hypervisor output:
 *   [atairq] atairq: 100 sectors written, 100 IRQ 14 (status 0x50 each), BSY seen after 100 of 100 blocks
 *   [atairq] PASS 1 100 interrupt-driven WRITE SECTORS: each woke the guest with IRQ 14 and status 0x50
 *   [atairq] PASS 2 the drive was BSY after every data-out block (interrupt not yet due)
 *   [atairq] atairq: 100 sectors read back, 100 IRQ 14 (status 0x58 each), 0 mismatches
 *   [atairq] PASS 3 100 interrupt-driven READ SECTORS: IRQ 14 with status 0x58 before each sector
 *   [atairq] PASS 4 the 100 sectors read back equal what was written
 *   [atairq] PASS 5 READ SECTORS of 4: one IRQ 14 per block, data right
 *   [atairq] PASS 6 10 write+flush requests polled with interrupts off: one IRQ 14 each once interrupts are on
 *   [atairq] PASS 7 10 write+flush requests polling Status (acknowledging) with interrupts off: one IRQ 14 each
 *   [atairq] atairq: IRQ 14 count 224, timeouts 0, unexpected IRQs 0
 *   [atairq] PASS 8 224 IRQ 14 in total (100 + 20 writes, 100 + 4 reads), no timeout, no other IRQ
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ ATA_DATA,    0x1F0
.equ ATA_COUNT,   0x1F2
.equ ATA_LBA_LO,  0x1F3
.equ ATA_LBA_MID, 0x1F4
.equ ATA_LBA_HI,  0x1F5
.equ ATA_DEVICE,  0x1F6
.equ ATA_STATUS,  0x1F7
.equ ATA_COMMAND, 0x1F7
.equ ATA_ALTSTATUS, 0x3F6
.equ ATA_CONTROL, 0x3F6

.equ ST_BSY, 0x80
.equ ST_DRQ, 0x08
.equ ST_ERR, 0x01
.equ FIRST_LBA, 100
.equ SECTORS, 100
.equ TIMEOUT_TICKS, 100
.equ IDT_VECTORS, 0x30

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	lea guest_idt(%rip), %rsi
	lea irq_idt(%rip), %rdi
	mov $(32 * 16 / 8), %ecx
	rep movsq
	.irp v, 0x21,0x22,0x23,0x24,0x25,0x26,0x27,0x28,0x29,0x2A,0x2B,0x2C,0x2D,0x2F
	SET_GATE irq_idt, \v, other_irq_handler
	.endr
	SET_GATE irq_idt, 0x20, irq0_handler
	SET_GATE irq_idt, 0x2E, irq14_handler
	lidt irq_idtr(%rip)

	PIC_INIT_LINUX 0xFA, 0xBF       /* IRQ0, IRQ2 (cascade), IRQ14 */
	PIT_CH0_100HZ
	mov $ATA_CONTROL, %dx           /* nIEN = 0: the drive drives INTRQ */
	xor %eax, %eax
	outb %al, %dx

	/* ---- 1. 100 single-sector writes ---- */
	xor %r12d, %r12d                /* sector index */
	xor %r13d, %r13d                /* completions with status 0x50 */
	xor %r14d, %r14d                /* blocks after which the drive was BSY */
write_loop:
	lea FIRST_LBA(%r12), %eax
	lea buffer(%rip), %rdi
	call fill_pattern
	movq $0, irq14_flag(%rip)
	lea FIRST_LBA(%r12), %eax
	call ata_select_lba
	mov $0x30, %al                  /* WRITE SECTORS */
	call ata_command
	call ata_wait_drq_alt
	test $0x100, %eax
	jnz write_next                  /* timed out: counted as a bad completion */
	lea buffer(%rip), %rsi
	mov $ATA_DATA, %dx
	mov $256, %ecx
1:	lodsw
	outw %ax, %dx
	dec %ecx
	jnz 1b
	mov $ATA_ALTSTATUS, %dx
	inb %dx, %al
	cmp $ST_BSY, %al
	jne 2f
	inc %r14d
2:	call wait_irq14
	cmp $0x50, %eax
	jne write_next
	inc %r13d
write_next:
	inc %r12d
	cmp $SECTORS, %r12d
	jb write_loop

	mov irq14_count(%rip), %r15
	PRINT "atairq: "
	PRINT_DEC %r12
	PRINT " sectors written, "
	PRINT_DEC %r15
	PRINT " IRQ 14 (status 0x50 each), BSY seen after "
	PRINT_DEC %r14
	PRINT " of 100 blocks\n"
	cmp $SECTORS, %r13d
	jne 3f
	cmp $SECTORS, %r15
3:	TEST_IF e, 1, "100 interrupt-driven WRITE SECTORS: each woke the guest with IRQ 14 and status 0x50"
	cmp $SECTORS, %r14d
	TEST_IF e, 2, "the drive was BSY after every data-out block (interrupt not yet due)"

	/* ---- 2. 100 single-sector reads ---- */
	xor %r12d, %r12d                /* sector index */
	xor %r13d, %r13d                /* IRQs with status 0x58 */
	xor %r14d, %r14d                /* sectors that differ */
	mov irq14_count(%rip), %r15     /* IRQ count before */
read_loop:
	movq $0, irq14_flag(%rip)
	lea FIRST_LBA(%r12), %eax
	call ata_select_lba
	mov $0x20, %al                  /* READ SECTORS */
	call ata_command
	call wait_irq14
	cmp $0x58, %eax
	jne 4f
	inc %r13d
4:	lea FIRST_LBA(%r12), %eax
	call read_and_compare
	add %eax, %r14d
	inc %r12d
	cmp $SECTORS, %r12d
	jb read_loop
	mov $ATA_ALTSTATUS, %dx
	xor %eax, %eax
	inb %dx, %al
	cmp $0x50, %al
	je 5f
	inc %r14d                       /* not idle after the last data-in block */
5:	neg %r15
	add irq14_count(%rip), %r15     /* IRQs taken by the reads */
	PRINT "atairq: "
	PRINT_DEC %r12
	PRINT " sectors read back, "
	PRINT_DEC %r15
	PRINT " IRQ 14 (status 0x58 each), "
	PRINT_DEC %r14
	PRINT " mismatches\n"
	cmp $SECTORS, %r13d
	jne 6f
	cmp $SECTORS, %r15
6:	TEST_IF e, 3, "100 interrupt-driven READ SECTORS: IRQ 14 with status 0x58 before each sector"
	TEST 4, %r14, "the 100 sectors read back equal what was written"

	/* ---- 3. one READ SECTORS of 4 sectors: an IRQ per block ---- */
	xor %r13d, %r13d                /* failures */
	mov irq14_count(%rip), %r15
	movq $0, irq14_flag(%rip)
	mov $150, %eax
	call ata_select_lba
	mov $ATA_COUNT, %dx
	mov $4, %al
	outb %al, %dx
	mov $0x20, %al
	call ata_command
	xor %r12d, %r12d
7:	call wait_irq14
	cmp $0x58, %eax
	je 8f
	inc %r13d
8:	movq $0, irq14_flag(%rip)       /* before the last word: the next block's IRQ must not be lost */
	lea 150(%r12), %eax
	call read_and_compare
	add %eax, %r13d
	inc %r12d
	cmp $4, %r12d
	jb 7b
	neg %r15
	add irq14_count(%rip), %r15
	cmp $4, %r15
	je 9f
	inc %r13d
9:	TEST 5, %r13, "READ SECTORS of 4: one IRQ 14 per block, data right"

	/* ---- 4. write + flush polled with interrupts off, then one IRQ ---- */
	mov $ATA_ALTSTATUS, %r14d       /* the register polled */
	call flush_requests
	TEST 6, %r13, "10 write+flush requests polled with interrupts off: one IRQ 14 each once interrupts are on"

	/* ---- 5. the same, polling Status (each read acknowledges the drive) ---- */
	mov $ATA_STATUS, %r14d
	call flush_requests
	TEST 7, %r13, "10 write+flush requests polling Status (acknowledging) with interrupts off: one IRQ 14 each"

	/* ---- 6. totals ---- */
	mov irq14_count(%rip), %r12
	PRINT "atairq: IRQ 14 count "
	PRINT_DEC %r12
	PRINT ", timeouts "
	PRINT_DEC timeouts(%rip)
	PRINT ", unexpected IRQs "
	PRINT_DEC other_irq_count(%rip)
	PRINT "\n"
	xor %eax, %eax
	cmp $(2 * SECTORS + 4 + 20), %r12
	setne %al
	or timeouts(%rip), %rax
	or other_irq_count(%rip), %rax
	TEST 8, %rax, "224 IRQ 14 in total (100 + 20 writes, 100 + 4 reads), no timeout, no other IRQ"
	FINISH

/* ---------------------------------------------------------------- helpers */
	.text

/* 10 write+flush requests at LBA 200-209 made with interrupts off, polling the
 * status register R14 (Alternate Status or Status) until not BSY after the data
 * and after FLUSH CACHE; then sleep until IRQ 14, and check exactly one comes.
 * R13 = failures.  Clobbers RAX, RCX, RDX, RSI, RDI, R8, R12, R15. */
flush_requests:
	xor %r12d, %r12d                /* request */
	xor %r13d, %r13d                /* failures */
10:	mov irq14_count(%rip), %r15
	movq $0, irq14_flag(%rip)
	lea 200(%r12), %eax
	lea buffer(%rip), %rdi
	call fill_pattern
	lea 200(%r12), %eax
	call ata_select_lba
	mov $0x30, %al                  /* WRITE SECTORS */
	call ata_command
	call ata_wait_drq_alt
	test $0x100, %eax
	jnz 12f
	lea buffer(%rip), %rsi
	mov $ATA_DATA, %dx
	mov $256, %ecx
11:	lodsw
	outw %ax, %dx
	dec %ecx
	jnz 11b
	call ata_wait_not_busy_r14
	mov $0xE7, %al                  /* FLUSH CACHE */
	call ata_command
	call ata_wait_not_busy_r14
	call wait_irq14                 /* sti; hlt until the IRQ */
	cmp $0x50, %eax
	jne 12f
	/* a second interrupt must not follow: give it a PIT tick */
	mov ticks(%rip), %r8
	add $2, %r8
13:	sti
	hlt
	cli
	cmp ticks(%rip), %r8
	ja 13b
	mov irq14_count(%rip), %rax
	sub %r15, %rax
	cmp $1, %rax
	je 14f
12:	inc %r13d
14:	inc %r12d
	cmp $10, %r12d
	jb 10b
	ret

/* Fills 256 words at RDI with the pattern of sector EAX: word i = (lba*256+i)*0x9E37 ^ 0x5A5A.
 * Clobbers RAX, RCX, RDX, RDI. */
fill_pattern:
	mov %eax, %edx
	shl $8, %edx
	xor %ecx, %ecx
1:	lea (%rdx,%rcx), %eax
	imul $0x9E37, %eax, %eax
	xor $0x5A5A, %eax
	mov %ax, (%rdi,%rcx,2)
	inc %ecx
	cmp $256, %ecx
	jb 1b
	ret

/* Reads 256 words into `buffer` and compares them with sector EAX's pattern:
 * EAX = 0 if equal, 1 if not.  Clobbers RCX, RDX, RSI, RDI. */
read_and_compare:
	push %rax
	lea buffer(%rip), %rdi
	mov $ATA_DATA, %dx
	mov $256, %ecx
1:	inw %dx, %ax
	stosw
	dec %ecx
	jnz 1b
	pop %rax
	lea expected(%rip), %rdi
	call fill_pattern
	lea buffer(%rip), %rsi
	lea expected(%rip), %rdi
	mov $256, %ecx
	repe cmpsw
	setne %al
	movzbl %al, %eax
	ret

/* With interrupts off: sleep (sti; hlt) until the IRQ 14 handler has run, or
 * TIMEOUT_TICKS IRQ0 ticks pass.  EAX = the Status the handler read, or 0x100
 * on timeout (counted).  Returns with interrupts off.  Clobbers RAX, R8. */
wait_irq14:
	mov ticks(%rip), %r8
1:	cli
	cmpq $0, irq14_flag(%rip)
	jne 2f
	mov ticks(%rip), %rax
	sub %r8, %rax
	cmp $TIMEOUT_TICKS, %rax
	ja 3f
	sti
	hlt
	jmp 1b
2:	movq $0, irq14_flag(%rip)
	mov irq14_status(%rip), %rax
	ret
3:	incq timeouts(%rip)
	PRINT "atairq: request timed out waiting for IRQ 14\n"
	mov $0x100, %eax
	ret

/* Polls Alternate Status (no acknowledge) until BSY clear and DRQ set; EAX =
 * status, 0x100 added on timeout.  Clobbers RCX, RDX. */
ata_wait_drq_alt:
	mov $ATA_ALTSTATUS, %dx
	mov $100000, %ecx
1:	xor %eax, %eax
	inb %dx, %al
	test $ST_BSY, %al
	jnz 2f
	test $(ST_DRQ | ST_ERR), %al
	jnz 3f
2:	dec %ecx
	jnz 1b
	or $0x100, %eax
3:	ret

/* Polls the status register whose port is in R14 until BSY is clear; EAX =
 * status, 0x100 added on timeout.  Clobbers RCX, RDX. */
ata_wait_not_busy_r14:
	mov %r14w, %dx
	mov $100000, %ecx
1:	xor %eax, %eax
	inb %dx, %al
	test $ST_BSY, %al
	jz 2f
	dec %ecx
	jnz 1b
	or $0x100, %eax
2:	ret

#include "ata64.inc"

/* ---------------------------------------------------------------- handlers */
irq0_handler:
	push %rax
	incq ticks(%rip)
	mov $0x20, %al
	outb %al, $PIC1_CMD
	pop %rax
	iretq

irq14_handler:
	push %rax
	push %rdx
	mov $ATA_STATUS, %dx            /* Status, not Alternate Status: acknowledges INTRQ */
	xor %eax, %eax
	inb %dx, %al
	mov %rax, irq14_status(%rip)
	incq irq14_count(%rip)
	movq $1, irq14_flag(%rip)
	mov $0x20, %al
	outb %al, $PIC2_CMD
	outb %al, $PIC1_CMD
	pop %rdx
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

	.data
	.balign 16
	.word 0, 0, 0
irq_idtr:
	.word IDT_VECTORS * 16 - 1
	.quad irq_idt

	.bss
	.balign 8
ticks:		.quad 0
irq14_flag:	.quad 0
irq14_status:	.quad 0
irq14_count:	.quad 0
other_irq_count: .quad 0
timeouts:	.quad 0
	.balign 16
irq_idt:	.space IDT_VECTORS * 16
buffer:		.space 512
expected:	.space 512
	.text
