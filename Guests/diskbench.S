/* diskbench: make bench's disk read. Reads MIB MiB (ATA: ATA_MIB) of its disk and reports the guest
 * TSC ticks the reads took (in Bochs with `clock: sync=none`: emulated instructions, hypervisor's
 * included), with interrupts off:
 *   - with a virtio-blk disk at 00:01.0 (module option pci=on): requests of 64 KiB (header, one
 *     64 KiB data buffer, status byte), one queue notification each, completion polled in the
 *     used ring (RAM: no exit);
 *   - otherwise the ATA primary master: READ SECTORS of 128 sectors, per sector the status polled
 *     until DRQ and the 256 words taken by one `rep insw`.
 * Prints "diskbench: virtio-blk|ata read N MiB in T TSC ticks" and shuts down 0 (1 on an error).
 * Module options: disk=MIB (at least), mem=8.
 */
#include "guest.inc"

.equ MIB,        4               /* virtio-blk */
.equ ATA_MIB,    1               /* ATA PIO: ~0.5 G instructions a MiB in Bochs */
.equ DESC,       0x100000
.equ AVAIL,      0x101000
.equ USED,       0x102000
.equ HEADER,     0x103000
.equ STATUS,     0x104000
.equ BUFFER,     0x200000        /* 64 KiB: one request (virtio) or READ SECTORS (ATA) */
.equ QSIZE,      16

.equ ATA_DATA,    0x1F0
.equ ATA_COUNT,   0x1F2
.equ ATA_LBA_LO,  0x1F3
.equ ATA_LBA_MID, 0x1F4
.equ ATA_LBA_HI,  0x1F5
.equ ATA_DEVICE,  0x1F6
.equ ATA_COMMAND, 0x1F7

	.section .text.start, "ax"
	.globl _start
_start:
	cli
	mov $0x80000800, %eax                      /* 00:01.0 vendor/device */
	mov $0xCF8, %dx
	out %eax, %dx
	mov $0xCFC, %dx
	in %dx, %eax
	cmp $0x10421AF4, %eax
	je virtio

/* ---- ATA PIO ---- */
ata:
	PRINT "diskbench: ATA PIO, READ SECTORS of 128 sectors, one rep insw per sector\n"
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r15
	xor %r12d, %r12d                           /* LBA */
1:	mov $ATA_DEVICE, %dx
	mov $0xE0, %al                             /* LBA, master (LBA < 2^24) */
	outb %al, %dx
	mov $ATA_COUNT, %dx
	mov $128, %al                              /* 64 KiB per command */
	outb %al, %dx
	mov %r12d, %eax
	mov $ATA_LBA_LO, %dx
	outb %al, %dx
	shr $8, %eax
	mov $ATA_LBA_MID, %dx
	outb %al, %dx
	shr $8, %eax
	mov $ATA_LBA_HI, %dx
	outb %al, %dx
	mov $ATA_COMMAND, %dx
	mov $0x20, %al                             /* READ SECTORS */
	outb %al, %dx
	mov $BUFFER, %edi
	mov $128, %r13d
2:	mov $ATA_COMMAND, %dx                      /* Status */
3:	inb %dx, %al
	test $0x01, %al                            /* ERR */
	jnz fail
	and $0x88, %al                             /* BSY | DRQ */
	cmp $0x08, %al
	jne 3b
	mov $ATA_DATA, %dx
	mov $256, %ecx
	rep insw
	dec %r13d
	jnz 2b
	add $128, %r12d
	cmp $(ATA_MIB * 2048), %r12d
	jb 1b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r15, %rdx
	PRINT "diskbench: ata read 1 MiB in "
	PRINT_DEC %rdx
	PRINT " TSC ticks\n"
	SHUTDOWN 0

/* ---- virtio-blk ---- */
virtio:
	mov $0x80000810, %eax                      /* BAR 0 */
	mov $0xCF8, %dx
	out %eax, %dx
	mov $0xCFC, %dx
	in %dx, %eax
	and $0xFFFFFFF0, %eax
	mov %eax, %ebx
	PRINT "diskbench: virtio-blk, 64 KiB requests, completion polled in the used ring\n"
	mov $DESC, %edi
	xor %eax, %eax
	mov $(0x3000 / 8), %ecx
	rep stosq
	movb $0, 0x14(%rbx)                        /* reset */
	movb $1, 0x14(%rbx)
	movb $3, 0x14(%rbx)
	movl $1, 0x08(%rbx)
	movl $1, 0x0C(%rbx)                        /* VERSION_1 */
	movb $0x0B, 0x14(%rbx)
	movw $0, 0x16(%rbx)
	movw $QSIZE, 0x18(%rbx)
	mov $DESC, %eax
	mov %rax, 0x20(%rbx)
	mov $AVAIL, %eax
	mov %rax, 0x28(%rbx)
	mov $USED, %eax
	mov %rax, 0x30(%rbx)
	movw $1, 0x1C(%rbx)
	movb $0x0F, 0x14(%rbx)
	movzbl 0x14(%rbx), %eax
	cmp $0x0F, %eax
	jne fail
	movw $1, AVAIL                             /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	/* The chain: header (readable), 64 KiB data (writable), status (writable). */
	movq $HEADER, DESC
	movl $16, DESC+8
	movw $1, DESC+12
	movw $1, DESC+14
	movq $BUFFER, DESC+16
	movl $0x10000, DESC+16+8
	movw $3, DESC+16+12
	movw $2, DESC+16+14
	movq $STATUS, DESC+32
	movl $1, DESC+32+8
	movw $2, DESC+32+12
	movl $0, HEADER                            /* VIRTIO_BLK_T_IN */
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r15
	xor %r12d, %r12d                           /* requests done */
1:	mov %r12, %rax
	shl $7, %rax                               /* 128 sectors per request */
	mov %rax, HEADER+8
	movb $0xFF, STATUS
	mov %r12d, %eax
	and $(QSIZE - 1), %eax
	movw $0, AVAIL+4(,%rax,2)                  /* head 0 */
	lea 1(%r12), %eax
	movw %ax, AVAIL+2
	xor %eax, %eax
	movw %ax, 0x3000(%rbx)                     /* notify queue 0: the one exit per request */
2:	movzwl USED+2, %eax
	lea 1(%r12), %ecx
	cmp %cx, %ax
	jne 2b
	cmpb $0, STATUS
	jne fail
	inc %r12d
	cmp $(MIB * 16), %r12d
	jb 1b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r15, %rdx
	PRINT "diskbench: virtio-blk read 4 MiB in "
	PRINT_DEC %rdx
	PRINT " TSC ticks\n"
	SHUTDOWN 0

fail:
	PRINT "diskbench: FAILED (device error)\n"
	SHUTDOWN 1
