/* hostile_blk: virtio-blk requests that try to hold the hypervisor inside one exit, beside a victim
 * VM (victim.S). Module options: pci=on apic=on disk=host mem=16 budget=M expect=time-budget, on a
 * disk of at least 0x100000 sectors. Interrupts stay off; every wait polls the used ring and the
 * device status and gives up after a number of its own TSC ticks.
 *   PASS 1  virtio-blk found at 00:01.0, FEATURES_OK, a queue of 128, at least 0x100000 sectors
 *   PASS 2  512 poisonous sectors written in one WRITE
 *   PASS 3  a READ whose buffer covers its own available ring and header: NEEDS_RESET, rings untouched
 *   PASS 4  after a reset, sector 0 reads back as the poisonous bytes
 *   PASS 5  a used ring on top of the available ring: NEEDS_RESET at DRIVER_OK
 *   PASS 6  one WRITE_ZEROES of 0x100000 sectors completes OK; sector 0 reads as zeros
 *   PASS 7  one DISCARD of 0x100000 sectors completes OK
 *   PASS 8  one WRITE of 126 buffers (12096 KiB) completes OK
 *   PASS 9  one READ of 126 buffers completes OK and reads back what was written
 *   PASS 10 a full queue: 128 requests made available with one notification all complete OK
 * Then, until its time budget ends, the four maximal requests back to back, each completed before
 * the next. A device that did a request's whole work in the exit that found it would keep the CPU
 * for hundreds of millions of ticks (WRITE_ZEROES on a host disk is one host command per sector),
 * and the self-feeding READ of PASS 3 would never leave it.
 */
#include "guest.inc"
#include "idt64.inc"

.equ QSIZE,       128             /* the device's queue_size maximum: one request may use all of it */
.equ DESC,        0x100000        /* 128 descriptors of 16 bytes */
.equ AVAIL,       0x101000        /* flags, idx, ring[128], used_event: 262 bytes */
.equ USED,        0x102000        /* flags, idx, ring[128] of 8 bytes, avail_event */
.equ HEADERS,     0x103000        /* struct virtio_blk_req headers: type, reserved, sector; one per request */
.equ STATUSES,    0x104000        /* one status byte per request */
.equ SEGMENT,     0x104800        /* struct virtio_blk_discard_write_zeroes (§5.2.6.2) */
.equ INDIRECT,    0x105000        /* 128 indirect tables of 3 descriptors (48 bytes) */
.equ SECTOR_BUF,  0x108000        /* one sector read back */
.equ POISON,      0x200000        /* the self-feeding READ's disk image, 512 sectors */
.equ FULLQ,       0x200000        /* afterwards the full queue's 128 buffers of 4 KiB */
.equ BIG,         0x300000        /* the maximal WRITE and READ: 126 buffers of 96 KiB */
.equ CHUNK,       0x18000
.equ BIG_BUFFERS, 126             /* the queue less header and status (seg_max) */
.equ BIG_END,     BIG + BIG_BUFFERS * CHUNK
.equ MAX_ZERO,    0x100000        /* max_discard_sectors = max_write_zeroes_sectors */
.equ PATTERN_KEY, 0xB10C5EED00000000
.equ RING_END,    0x106800        /* the end of what blk_init clears */
.equ HEADER,      HEADERS         /* virtio_blk64.inc's read of sector 0: request 0, into SECTOR_BUF */
.equ DATA,        SECTOR_BUF
.equ STATUS,      STATUSES
#include "virtio_blk64.inc"

/* Request types and the status (§5.2.6). */
.equ T_IN, 0
.equ T_OUT, 1
.equ T_DISCARD, 11
.equ T_WRITE_ZEROES, 13

/* The self-feeding READ (PASS 3): its data buffer is the sector at AVAIL, which holds the available
 * ring (flags, idx, ring[128]) and two request headers, H0 at +0x1F0 (head 0: descriptors 0-2) and
 * H1 at +0x1E0 (head 3: descriptors 3-5). Poisonous sector j says: avail.idx = 128 (j + 1), every
 * ring entry head 0 but the last, head 3; H0 reads sector j, H1 sector j + 1 (mod 512). A device
 * that took the READ would make the ring non-empty again with every completion: head 0 re-reads
 * sector j 127 times, head 3 moves on to sector j + 1, and 512 sectors of 128 entries wrap avail.idx
 * exactly (128 * 512 = 65536), so the queue never drains. */
.equ H0,          0x1F0
.equ H1,          0x1E0
.equ POISON_SECTORS, 512

.equ SHORT_WAIT,  200000000       /* ticks: a request of a few sectors, or a refusal */
.equ LONG_WAIT,   20000000000     /* a maximal request on a host disk (~500 M ticks of host work) */

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	PRINT "hostile: virtio-blk requests that try to hold the hypervisor, interrupts off\n"
	cli

	/* 1: 00:01.0 is virtio-blk (1AF4:1042), BAR 0; FEATURES_OK kept, queue_size 128, the capacity. */
	call find_device                           /* RBX = BAR 0 for the rest of the run */
	xor %r14d, %r14d
	cmp $0x10421AF4, %r8d
	setne %r14b
	movw $0, QUEUE_SELECT(%rbx)
	movzwl QUEUE_SIZE(%rbx), %eax              /* after reset: the device's maximum */
	cmp $QSIZE, %eax
	setne %al
	or %al, %r14b
	call blk_init
	movzbl DEVICE_STATUS(%rbx), %eax
	cmp $0x0F, %eax
	setne %al
	or %al, %r14b
	mov DEVICE_CONFIG+4(%rbx), %eax            /* capacity (§5.2.4), in two dwords */
	shl $32, %rax
	mov DEVICE_CONFIG(%rbx), %ecx
	or %rcx, %rax
	mov %rax, capacity(%rip)
	PRINT "hostile: disk of "
	PRINT_DEC %rax
	PRINT " sectors\n"
	cmp $MAX_ZERO, %rax
	setb %al
	or %al, %r14b
	TEST 1, %r14, "virtio-blk found at 00:01.0, FEATURES_OK, a queue of 128, at least 0x100000 sectors"

	/* 2: the poisonous sectors, built at POISON and written to sector 0 in one request. */
	mov $POISON, %rdi
	xor %eax, %eax
	mov $(POISON_SECTORS * 512 / 8), %ecx
	rep stosq
	xor %ecx, %ecx                             /* j */
1:	mov %rcx, %rdi
	shl $9, %rdi
	add $POISON, %rdi
	lea 1(%rcx), %eax
	shl $7, %eax
	mov %ax, 2(%rdi)                           /* avail.idx = 128 (j + 1), wrapping at 16 bits */
	movw $3, 4 + 2 * (QSIZE - 1)(%rdi)         /* the last ring entry: head 3 */
	lea 1(%rcx), %eax
	and $(POISON_SECTORS - 1), %eax
	mov %rax, H1 + 8(%rdi)                     /* H1: IN, sector j + 1 */
	mov %rcx, H0 + 8(%rdi)                     /* H0: IN, sector j */
	inc %ecx
	cmp $POISON_SECTORS, %ecx
	jb 1b
	mov $T_OUT, %eax
	call first_desc
	inc %edi
	mov $POISON, %esi
	mov $(POISON_SECTORS * 512), %edx
	call set_desc
	inc %edi
	call set_status_desc
	mov $SHORT_WAIT, %r8
	call run_request
	TEST 2, %rax, "512 poisonous sectors written in one WRITE"

	/* 3: the self-feeding READ. The device must refuse it when it takes it from the ring: nothing
	 * read into the available ring (avail.idx still 1), nothing in the used ring. */
	call blk_init
	xor %edi, %edi
	mov $(AVAIL + H0), %esi
	call self_feeding_chain
	mov $3, %edi
	mov $(AVAIL + H1), %esi
	call self_feeding_chain
	movb $0xFF, STATUSES
	mov $1, %ecx
	mov $SHORT_WAIT, %r8
	call mark_start
	xor %eax, %eax
	call submit_head
	call wait_used
	xor $1, %rax                               /* 0: it ended in NEEDS_RESET */
	movzwl USED+2, %ecx
	or %rcx, %rax
	movzwl AVAIL+2, %ecx
	xor $1, %ecx
	or %rcx, %rax
	movzbl STATUSES, %ecx
	xor $0xFF, %ecx
	or %rcx, %rax
	movzbl ISR(%rbx), %ecx                     /* the configuration-change bit; the read clears it */
	and $2, %ecx
	xor $2, %ecx
	or %rcx, %rax
	TEST 3, %rax, "a READ whose buffer covers its own available ring and header: NEEDS_RESET, rings untouched"

	/* 4: reset; sector 0 read into SECTOR_BUF is poisonous sector 0. */
	call blk_init
	call read_sector0
	mov SECTOR_BUF, %rcx
	xor $0x00800000, %rcx                      /* flags 0, avail.idx 128 */
	or %rcx, %rax
	mov SECTOR_BUF + H1 + 8, %rcx
	xor $1, %rcx
	or %rcx, %rax
	movzwl SECTOR_BUF + 4 + 2 * (QSIZE - 1), %ecx
	xor $3, %ecx
	or %rcx, %rax
	TEST 4, %rax, "after a reset, sector 0 reads back as the poisonous bytes"

	/* 5: the device area on top of the driver area (§2.7: the used ring is the device's to write). */
	call clear_rings
	mov $DESC, %eax
	mov $AVAIL, %edx
	call device_init_rings
	movzbl DEVICE_STATUS(%rbx), %eax
	test $NEEDS_RESET, %eax
	TEST_IF ne, 5, "a used ring on top of the available ring: NEEDS_RESET at DRIVER_OK"

	/* 6: one maximal WRITE_ZEROES from sector 0; afterwards sector 0 (poisonous) reads as zeros. */
	PRINT "hostile: one WRITE_ZEROES of 0x100000 sectors\n"
	call blk_init
	mov $T_WRITE_ZEROES, %eax
	call run_zero_request
	call print_took
	mov %rax, %r14
	call read_sector0
	or %rax, %r14
	mov $SECTOR_BUF, %rsi
	mov $64, %ecx
1:	lodsq
	or %rax, %r14
	dec %ecx
	jnz 1b
	TEST 6, %r14, "one WRITE_ZEROES of 0x100000 sectors completes OK; sector 0 reads as zeros"

	mov $T_DISCARD, %eax
	call run_zero_request
	call print_took
	TEST 7, %rax, "one DISCARD of 0x100000 sectors completes OK"

	/* 8: BIG filled with its pattern (each qword its address XOR PATTERN_KEY), written from sector 0. */
	mov $BIG, %rdi
	movabs $PATTERN_KEY, %rdx
1:	mov %rdi, %rax
	xor %rdx, %rax
	mov %rax, (%rdi)
	add $8, %rdi
	cmp $BIG_END, %rdi
	jb 1b
	mov $T_OUT, %eax
	call run_big_request
	call print_took
	TEST 8, %rax, "one WRITE of 126 buffers (12096 KiB) completes OK"

	/* 9: BIG cleared, read back from sector 0; every qword checked, and the used length. */
	mov $BIG, %rdi
	xor %eax, %eax
	mov $((BIG_END - BIG) / 8), %rcx
	rep stosq
	mov $T_IN, %eax
	call run_big_request
	call print_took
	mov %rax, %r14
	movzwl USED+2, %eax                        /* the READ's used element: its len is the data and */
	dec %eax                                   /* the status byte */
	and $(QSIZE - 1), %eax
	mov USED + 4 + 4(,%rax,8), %eax
	xor $(BIG_BUFFERS * CHUNK + 1), %eax
	or %rax, %r14
	mov $BIG, %rsi
	movabs $PATTERN_KEY, %rdx
1:	mov (%rsi), %rax
	xor %rsi, %rax
	xor %rdx, %rax
	or %rax, %r14
	add $8, %rsi
	cmp $BIG_END, %rsi
	jb 1b
	TEST 9, %r14, "one READ of 126 buffers completes OK and reads back what was written"

	/* 10: 128 READs of 4 KiB (sectors 8i), each head an indirect table (header, buffer, status),
	 * all made available at once, one notification. */
	call blk_init
	xor %ecx, %ecx
1:	mov %ecx, %edi
	mov $T_IN, %eax
	call set_header
	lea (,%rcx,8), %rax
	mov %rax, HEADERS + 8(,%rdi,1)             /* set_header left RDI = the header's offset */
	imul $48, %rcx, %rdi
	add $INDIRECT, %rdi
	mov %rcx, %rax
	shl $4, %rax
	add $HEADERS, %rax
	mov %rax, (%rdi)
	movl $16, 8(%rdi)
	movw $VIRTQ_DESC_F_NEXT, 12(%rdi)
	movw $1, 14(%rdi)
	mov %rcx, %rax
	shl $12, %rax
	add $FULLQ, %rax
	mov %rax, 16(%rdi)
	movl $4096, 24(%rdi)
	movw $(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE), 28(%rdi)
	movw $2, 30(%rdi)
	lea STATUSES(%rcx), %rax
	mov %rax, 32(%rdi)
	movl $1, 40(%rdi)
	movw $VIRTQ_DESC_F_WRITE, 44(%rdi)
	movb $0xFF, STATUSES(%rcx)
	mov %rcx, %rax
	shl $4, %rax
	add $DESC, %rax
	mov %rdi, (%rax)
	movl $48, 8(%rax)
	movw $VIRTQ_DESC_F_INDIRECT, 12(%rax)
	mov %cx, AVAIL + 4(,%rcx,2)
	inc %ecx
	cmp $QSIZE, %ecx
	jb 1b
	movw $QSIZE, AVAIL + 2
	call mark_start
	xor %eax, %eax
	movw %ax, NOTIFY(%rbx)
	mov $QSIZE, %ecx
	mov $SHORT_WAIT, %r8
	call wait_used
	call print_took
	mov %rax, %r14
	/* Every status OK, every buffer's first qword that of the pattern at BIG + 4096 i, the heads in
	 * the used ring adding up to 0 + 1 + ... + 127. */
	xor %ecx, %ecx
	xor %r9d, %r9d
	movabs $PATTERN_KEY, %rdx
2:	movzbl STATUSES(%rcx), %eax
	or %rax, %r14
	mov %rcx, %rsi
	shl $12, %rsi
	mov FULLQ(%rsi), %rax
	add $BIG, %rsi
	xor %rsi, %rax
	xor %rdx, %rax
	or %rax, %r14
	mov USED + 4(,%rcx,8), %eax
	add %rax, %r9
	inc %ecx
	cmp $QSIZE, %ecx
	jb 2b
	sub $(QSIZE * (QSIZE - 1) / 2), %r9
	or %r9, %r14
	TEST 10, %r14, "a full queue: 128 requests made available with one notification all complete OK"

	/* Until the budget ends: the maximal requests back to back. A request that fails is reported,
	 * and the device reset for the next. */
	PRINT "hostile: maximal WRITE_ZEROES, DISCARD, WRITE and READ back to back until the budget ends\n"
round:
	call blk_init
	mov $T_WRITE_ZEROES, %eax
	call run_zero_request
	call report_failure
	mov $T_DISCARD, %eax
	call run_zero_request
	call report_failure
	mov $T_OUT, %eax
	call run_big_request
	call report_failure
	mov $T_IN, %eax
	call run_big_request
	call report_failure
	jmp round

/* ---- helpers; RBX = BAR 0 ---- */

/* Clears the rings, headers, statuses and indirect tables. */
clear_rings:
	push %rdi
	push %rcx
	push %rax
	mov $DESC, %edi
	xor %eax, %eax
	mov $((RING_END - DESC) / 8), %ecx
	rep stosq
	pop %rax
	pop %rcx
	pop %rdi
	ret

/* Reset and bring-up with queue 0 of 128 at DESC, AVAIL, USED, the rings cleared first. */
blk_init:
	call clear_rings
	jmp device_init

/* Descriptor EDI: address RSI, length EDX, flags AX, next EDI + 1. */
set_desc:
	push %rdi
	push %rcx
	lea 1(%rdi), %ecx
	shl $4, %edi
	add $DESC, %edi
	mov %rsi, (%rdi)
	mov %edx, 8(%rdi)
	mov %ax, 12(%rdi)
	mov %cx, 14(%rdi)
	pop %rcx
	pop %rdi
	ret

/* Descriptor EDI: request 0's status byte, device-writable, the end of the chain. */
set_status_desc:
	push %rsi
	push %rdx
	push %rax
	mov $STATUSES, %esi
	mov $1, %edx
	mov $VIRTQ_DESC_F_WRITE, %eax
	call set_desc
	pop %rax
	pop %rdx
	pop %rsi
	ret

/* Header EDI (at HEADERS + 16 EDI): type EAX, sector 0; leaves RDI = its offset from HEADERS. */
set_header:
	shl $4, %edi
	mov %eax, HEADERS(%rdi)
	movl $0, HEADERS + 4(%rdi)
	movq $0, HEADERS + 8(%rdi)
	ret

/* Header 0 of type EAX and descriptor 0 pointing at it (device-readable, NEXT); leaves EDI = 0,
 * EDX = 16 and EAX = NEXT for the next descriptor. Clobbers RSI. */
first_desc:
	xor %edi, %edi
	call set_header
	mov $HEADERS, %esi
	mov $16, %edx
	mov $VIRTQ_DESC_F_NEXT, %eax
	jmp set_desc

/* The self-feeding READ's chain at descriptors EDI, EDI + 1, EDI + 2: its header at RSI, the
 * sector at AVAIL device-writable, the status byte. */
self_feeding_chain:
	push %rdi
	push %rdx
	push %rax
	mov $16, %edx
	mov $VIRTQ_DESC_F_NEXT, %eax
	call set_desc
	inc %edi
	push %rsi
	mov $AVAIL, %esi
	mov $512, %edx
	mov $(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE), %eax
	call set_desc
	pop %rsi
	inc %edi
	call set_status_desc
	pop %rax
	pop %rdx
	pop %rdi
	ret

/* The helpers below clobber RCX, RDX, RSI, RDI and R8, and return RAX as run_request. */

/* A READ of sector 0 into SECTOR_BUF (DATA). */
read_sector0:
	call good_chain
	mov $SHORT_WAIT, %r8
	jmp run_request

/* WRITE_ZEROES or DISCARD (type EAX) of min(capacity, MAX_ZERO) sectors from sector 0, one segment,
 * no flags (§5.2.6.2). */
run_zero_request:
	call first_desc
	inc %edi
	mov $SEGMENT, %esi
	call set_desc
	inc %edi
	call set_status_desc
	movq $0, SEGMENT                           /* sector */
	mov capacity(%rip), %rax
	mov $MAX_ZERO, %ecx
	cmp %rcx, %rax
	cmova %rcx, %rax
	mov %eax, SEGMENT + 8                      /* num_sectors */
	movl $0, SEGMENT + 12                      /* flags */
	movabs $LONG_WAIT, %r8
	jmp run_request

/* OUT or IN (type EAX) at sector 0 with all of BIG: header, 126 data descriptors (device-writable for
 * IN), status: the whole queue in one chain. */
run_big_request:
	mov %eax, %ecx
	call first_desc
	mov $(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE), %eax
	cmp $T_IN, %ecx
	je 1f
	mov $VIRTQ_DESC_F_NEXT, %eax
1:	mov $BIG, %esi
	mov $CHUNK, %edx
2:	inc %edi
	call set_desc
	add $CHUNK, %esi
	cmp $BIG_BUFFERS, %edi
	jb 2b
	inc %edi
	call set_status_desc
	movabs $LONG_WAIT, %r8
	jmp run_request

/* Makes head 0 available, notifies, and waits up to R8 ticks for its used entry. RAX = 0 when it
 * completed with status OK, 1 NEEDS_RESET, 2 timeout, 3 another status. */
run_request:
	push %rcx
	call mark_start
	movb $0xFF, STATUSES
	movzwl USED+2, %ecx
	inc %ecx
	xor %eax, %eax
	call submit_head
	call wait_used
	test %rax, %rax
	jnz 1f
	movzbl STATUSES, %eax
	test %eax, %eax
	jz 1f
	mov $3, %eax
1:	pop %rcx
	ret

/* `started` = now: the notification's exit counts in `took`. */
mark_start:
	push %rax
	push %rdx
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, started(%rip)
	pop %rdx
	pop %rax
	ret

/* Waits until used.idx is CX, the device shows NEEDS_RESET, or R8 ticks have passed; RAX = 0, 1 or
 * 2 as run_request, and `took` the ticks since `started`. Each round reads the device status (an
 * exit): the device may carry on with its work on any of the VM's exits. */
wait_used:
	push %rdx
	push %r9
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r9
1:	movzwl USED+2, %eax
	cmp %cx, %ax
	je 2f
	movzbl DEVICE_STATUS(%rbx), %eax
	test $NEEDS_RESET, %eax
	jnz 3f
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r9, %rax
	cmp %r8, %rax
	jb 1b
	mov $2, %eax
	jmp 4f
2:	xor %eax, %eax
	jmp 4f
3:	mov $1, %eax
4:	push %rax
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub started(%rip), %rax
	mov %rax, took(%rip)
	pop %rax
	pop %r9
	pop %rdx
	ret

/* Prints how long the last wait took. */
print_took:
	PRINT "hostile: completed after "
	push %rax
	mov took(%rip), %rax
	PRINT_DEC %rax
	pop %rax
	PRINT " ticks\n"
	ret

/* In the budget's rounds: a request that did not complete OK (RAX != 0) is reported by its code. */
report_failure:
	test %rax, %rax
	jz 1f
	PRINT "hostile: a maximal request failed: "
	PRINT_DEC %rax
	PRINT "\n"
	call blk_init
1:	ret

	.data
	.balign 8
capacity:	.quad 0
started:	.quad 0
took:		.quad 0
