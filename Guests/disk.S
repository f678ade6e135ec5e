/* disk: the virtual PC's ATA primary channel with a scratch disk (module
 * argument disk=1: 1 MiB, 2048 sectors, zeroed), driven by polled PIO with
 * drive interrupts disabled (Device Control nIEN).
 *
 *  1. IDENTIFY DEVICE (0xEC) on the master: status 0x58 (DRDY|DSC|DRQ), 256
 *     words; model (words 27-46, ATA byte order) "SWIFTVISOR VIRTUAL DISK";
 *     LBA28 capacity (words 60-61) 2048; word 49 bit 9 (LBA); the integrity word
 *     255 (0xA5 signature, checksum: all 512 bytes sum to 0); status 0x50 after.
 *  2. A never-written sector (LBA 6) reads all zeros.
 *  3. WRITE SECTORS (0x30) LBA 5 with word i = 0xA500 + i; status 0x58 before
 *     the data and 0x50 after; FLUSH CACHE (0xE7) ends with 0x50.
 *  4. READ SECTORS (0x20) LBA 5: the pattern comes back.
 *  5. The same sector by CHS (default translation 16 heads, 63 sectors per
 *     track: LBA 5 = C 0, H 0, S 6): the pattern again.
 *  6. READ SECTORS at LBA 4096 (past the end): status ERR, Error IDNF.
 *  7. The secondary channel (0x170-0x177) is absent: 0x177 reads 0xFF.
 * Expected hypervisor output:
 *   [disk] disk: identified SWIFTVISOR VIRTUAL DISK, 2048 sectors, CHS 2/16/63
 *   [disk] PASS 1 IDENTIFY DEVICE status is 0x58 (DRDY|DSC|DRQ)
 *   [disk] PASS 2 IDENTIFY model is SWIFTVISOR VIRTUAL DISK
 *   [disk] PASS 3 IDENTIFY words 60-61: 2048 LBA28 sectors
 *   [disk] PASS 4 IDENTIFY word 49 bit 9: LBA supported
 *   [disk] PASS 5 IDENTIFY integrity word: signature 0xA5, checksum 0
 *   [disk] PASS 6 status 0x50 after the IDENTIFY data
 *   [disk] PASS 7 unwritten LBA 6 reads all zeros
 *   [disk] PASS 8 WRITE SECTORS LBA 5: DRQ (0x58) for the data
 *   [disk] PASS 9 WRITE SECTORS LBA 5: status 0x50 after 256 words
 *   [disk] PASS 10 FLUSH CACHE: status 0x50
 *   [disk] PASS 11 READ SECTORS LBA 5 returns the written pattern
 *   [disk] PASS 12 READ SECTORS CHS 0/0/6 returns the written pattern
 *   [disk] PASS 13 READ SECTORS LBA 4096 (past the end): status ERR
 *   [disk] PASS 14 READ SECTORS LBA 4096 (past the end): error IDNF
 *   [disk] PASS 15 secondary channel absent: port 0x177 reads 0xFF
 *   [disk] disk: wrote, flushed and read back LBA 5 (CHS 0/0/6)
 * then shutdown 0.
 */
#include "guest.inc"
#include "idt64.inc"

.equ ATA_DATA,    0x1F0
.equ ATA_ERROR,   0x1F1
.equ ATA_COUNT,   0x1F2
.equ ATA_LBA_LO,  0x1F3
.equ ATA_LBA_MID, 0x1F4
.equ ATA_LBA_HI,  0x1F5
.equ ATA_DEVICE,  0x1F6
.equ ATA_STATUS,  0x1F7
.equ ATA_COMMAND, 0x1F7
.equ ATA_CONTROL, 0x3F6
.equ ATA2_STATUS, 0x177

.equ ST_BSY, 0x80
.equ ST_DRQ, 0x08
.equ ST_ERR, 0x01
.equ ERR_IDNF, 0x10
.equ POLL_LIMIT, 100000

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install

	mov $ATA_CONTROL, %dx           /* nIEN: no INTRQ from the drive */
	mov $0x02, %al
	outb %al, %dx

	/* ---- 1. IDENTIFY DEVICE ---- */
	mov $0xA0, %al                  /* master, CHS (LBA bit clear) */
	mov $ATA_DEVICE, %dx
	outb %al, %dx
	mov $0xEC, %al
	call ata_command
	call ata_wait_drq               /* EAX = the status seen */
	mov %rax, %r12
	lea identify(%rip), %rdi
	call ata_read_sector
	mov $ATA_STATUS, %dx
	xor %eax, %eax
	inb %dx, %al
	mov %rax, %r15                  /* status after the data */

	/* model string: words 27-46, first character in each word's high byte */
	lea identify+27*2(%rip), %rsi
	lea model(%rip), %rdi
	mov $20, %ecx
1:	lodsw
	xchg %al, %ah
	stosw
	dec %ecx
	jnz 1b
	lea model(%rip), %rsi
	mov $40, %ecx                   /* trimmed length: drop trailing spaces */
2:	cmpb $' ', -1(%rsi,%rcx)
	jne 3f
	dec %ecx
	jnz 2b
3:	mov %rcx, %r14                  /* r14 = model length */

	movzwl identify+60*2(%rip), %r13d
	movzwl identify+61*2(%rip), %eax
	shl $16, %eax
	or %eax, %r13d                  /* r13 = LBA28 sectors */

	PRINT "disk: identified "
	push %rbx
	push %rcx
	lea model(%rip), %rbx
	mov %r14, %rcx
	call guest_console_write
	pop %rcx
	pop %rbx
	PRINT ", "
	PRINT_DEC %r13
	PRINT " sectors, CHS "
	movzwl identify+1*2(%rip), %eax
	PRINT_DEC %rax
	PUTCHAR '/'
	movzwl identify+3*2(%rip), %eax
	PRINT_DEC %rax
	PUTCHAR '/'
	movzwl identify+6*2(%rip), %eax
	PRINT_DEC %rax
	PRINT "\n"

	cmp $0x58, %r12
	TEST_IF e, 1, "IDENTIFY DEVICE status is 0x58 (DRDY|DSC|DRQ)"

	lea model(%rip), %rsi
	lea expected_model(%rip), %rdi
	mov $(expected_model_end - expected_model), %ecx
	repe cmpsb
	TEST_IF e, 2, "IDENTIFY model is SWIFTVISOR VIRTUAL DISK"

	cmp $2048, %r13
	TEST_IF e, 3, "IDENTIFY words 60-61: 2048 LBA28 sectors"

	testw $(1 << 9), identify+49*2(%rip)
	TEST_IF nz, 4, "IDENTIFY word 49 bit 9: LBA supported"

	lea identify(%rip), %rsi        /* sum of all 512 bytes, signature 0xA5 */
	xor %eax, %eax
	xor %ecx, %ecx
4:	add (%rsi,%rcx), %al
	inc %ecx
	cmp $512, %ecx
	jb 4b
	xor %r13d, %r13d
	test %al, %al
	setnz %r13b
	cmpb $0xA5, identify+255*2(%rip)
	setne %al
	or %al, %r13b
	TEST 5, %r13, "IDENTIFY integrity word: signature 0xA5, checksum 0"

	cmp $0x50, %r15
	TEST_IF e, 6, "status 0x50 after the IDENTIFY data"

	/* ---- 2. a sector never written reads zeros ---- */
	mov $6, %eax
	call ata_select_lba
	mov $0x20, %al
	call ata_command
	call ata_wait_drq
	lea buffer(%rip), %rdi
	call ata_read_sector
	lea buffer(%rip), %rdi
	xor %eax, %eax
	mov $256, %ecx
	repe scasw
	TEST_IF e, 7, "unwritten LBA 6 reads all zeros"

	/* ---- 3. WRITE SECTORS LBA 5 ---- */
	lea pattern(%rip), %rdi
	xor %ecx, %ecx
5:	lea 0xA500(%rcx), %eax
	mov %ax, (%rdi,%rcx,2)
	inc %ecx
	cmp $256, %ecx
	jb 5b

	mov $5, %eax
	call ata_select_lba
	mov $0x30, %al
	call ata_command
	call ata_wait_drq
	cmp $0x58, %eax
	TEST_IF e, 8, "WRITE SECTORS LBA 5: DRQ (0x58) for the data"
	lea pattern(%rip), %rsi
	mov $ATA_DATA, %dx
	mov $256, %ecx
6:	lodsw
	outw %ax, %dx
	dec %ecx
	jnz 6b
	call ata_wait_ready             /* EAX = status once BSY and DRQ are clear */
	cmp $0x50, %eax
	TEST_IF e, 9, "WRITE SECTORS LBA 5: status 0x50 after 256 words"

	mov $0xE7, %al                  /* FLUSH CACHE */
	call ata_command
	call ata_wait_ready
	cmp $0x50, %eax
	TEST_IF e, 10, "FLUSH CACHE: status 0x50"

	/* ---- 4. READ SECTORS LBA 5 ---- */
	lea buffer(%rip), %rdi
	mov $256, %ecx
	mov $0xDEAD, %eax
	rep stosw
	mov $5, %eax
	call ata_select_lba
	mov $0x20, %al
	call ata_command
	call ata_wait_drq
	lea buffer(%rip), %rdi
	call ata_read_sector
	lea buffer(%rip), %rsi
	lea pattern(%rip), %rdi
	mov $256, %ecx
	repe cmpsw
	TEST_IF e, 11, "READ SECTORS LBA 5 returns the written pattern"

	/* ---- 5. READ SECTORS CHS 0/0/6 ---- */
	lea buffer(%rip), %rdi
	mov $256, %ecx
	mov $0xDEAD, %eax
	rep stosw
	mov $ATA_DEVICE, %dx
	mov $0xA0, %al                  /* master, CHS, head 0 */
	outb %al, %dx
	mov $ATA_COUNT, %dx
	mov $1, %al
	outb %al, %dx
	mov $ATA_LBA_LO, %dx            /* sector number */
	mov $6, %al
	outb %al, %dx
	mov $ATA_LBA_MID, %dx           /* cylinder low */
	xor %eax, %eax
	outb %al, %dx
	mov $ATA_LBA_HI, %dx            /* cylinder high */
	outb %al, %dx
	mov $0x20, %al
	call ata_command
	call ata_wait_drq
	lea buffer(%rip), %rdi
	call ata_read_sector
	lea buffer(%rip), %rsi
	lea pattern(%rip), %rdi
	mov $256, %ecx
	repe cmpsw
	TEST_IF e, 12, "READ SECTORS CHS 0/0/6 returns the written pattern"

	/* ---- 6. past the end ---- */
	mov $4096, %eax
	call ata_select_lba
	mov $0x20, %al
	call ata_command
	call ata_wait_not_busy
	mov %eax, %r12d
	mov $ATA_ERROR, %dx
	xor %eax, %eax
	inb %dx, %al
	mov %eax, %r13d
	test $ST_ERR, %r12b
	TEST_IF nz, 13, "READ SECTORS LBA 4096 (past the end): status ERR"
	test $ERR_IDNF, %r13b
	TEST_IF nz, 14, "READ SECTORS LBA 4096 (past the end): error IDNF"
	PRINT "disk: past the end: status "
	PRINT_HEX %r12
	PRINT " error "
	PRINT_HEX %r13
	PRINT "\n"

	/* ---- 7. no secondary channel ---- */
	mov $ATA2_STATUS, %dx
	xor %eax, %eax
	inb %dx, %al
	cmp $0xFF, %eax
	TEST_IF e, 15, "secondary channel absent: port 0x177 reads 0xFF"

	PRINT "disk: wrote, flushed and read back LBA 5 (CHS 0/0/6)\n"
	FINISH

/* ---------------------------------------------------------------- helpers */
	.text

#include "ata64.inc"

/* Polls Status until BSY is clear; EAX = that status (0x100 added on timeout).  Clobbers RCX, RDX. */
ata_wait_not_busy:
	mov $ATA_STATUS, %dx
	mov $POLL_LIMIT, %ecx
1:	xor %eax, %eax
	inb %dx, %al
	test $ST_BSY, %al
	jz 2f
	dec %ecx
	jnz 1b
	or $0x100, %eax
2:	ret

/* Polls until BSY clear and DRQ set (or ERR); EAX = the status, with 0x100
 * added on timeout.  Clobbers RCX, RDX. */
ata_wait_drq:
	mov $ATA_STATUS, %dx
	mov $POLL_LIMIT, %ecx
1:	xor %eax, %eax
	inb %dx, %al
	test $ST_BSY, %al
	jnz 3f
	test $(ST_DRQ | ST_ERR), %al
	jnz 2f
3:	dec %ecx
	jnz 1b
	or $0x100, %eax
2:	ret

/* Polls until BSY and DRQ are both clear; EAX = the status (0x100 added on
 * timeout).  Clobbers RCX, RDX. */
ata_wait_ready:
	mov $ATA_STATUS, %dx
	mov $POLL_LIMIT, %ecx
1:	xor %eax, %eax
	inb %dx, %al
	test $(ST_BSY | ST_DRQ), %al
	jz 2f
	dec %ecx
	jnz 1b
	or $0x100, %eax
2:	ret

/* Reads 256 data words into (RDI).  Clobbers RAX, RCX, RDX, RDI. */
ata_read_sector:
	mov $ATA_DATA, %dx
	mov $256, %ecx
1:	inw %dx, %ax
	stosw
	dec %ecx
	jnz 1b
	ret

	.section .rodata
expected_model:	.ascii "SWIFTVISOR VIRTUAL DISK"
expected_model_end:

	.bss
	.balign 16
identify:	.space 512
buffer:		.space 512
pattern:	.space 512
model:		.space 40
	.text
