/* hostile_virtio: malformed virtqueues against the virtio-blk device, beside a victim
 * VM (victim.S). Module options: pci=on apic=on disk=1 mem=4 budget=40 expect=time-budget.
 * It finds the disk on PCI bus 0 by configuration mechanism #1 (0xCF8/0xCFC), brings it up
 * (VERSION_1 and INDIRECT_DESC, one queue of 16), checks that a well-formed read completes, then
 * feeds it one malformed ring at a time; after each the device must show DEVICE_NEEDS_RESET
 * (status bit 6) and a configuration-change interrupt (ISR bit 1), write nothing to the used ring,
 * and work again after a reset:
 *   PASS 1  virtio-blk found at 00:01.0 with BAR 0 at 0xE0000000
 *   PASS 2  FEATURES_OK accepted
 *   PASS 3  a well-formed read of sector 0 completes with status OK
 *   PASS 4  descriptor address past RAM: NEEDS_RESET
 *   PASS 5  a loop in the chain (0 -> 1 -> 0): NEEDS_RESET
 *   PASS 6  a buffer length running past RAM: NEEDS_RESET
 *   PASS 7  a head index past the queue size: NEEDS_RESET
 *   PASS 8  avail.idx 1000 ahead: NEEDS_RESET
 *   PASS 9  an indirect table of 17 bytes: NEEDS_RESET
 *   PASS 10 a descriptor table outside RAM: NEEDS_RESET at DRIVER_OK
 *   PASS 11 a readable buffer after a writable one: NEEDS_RESET
 *   PASS 12 the used ring was never written for a malformed chain
 *   PASS 13 after the resets, a well-formed read still completes
 * Then ECAM and MSI-X, with messages no local APIC may take (dropped and counted by the hypervisor):
 *   PASS 14 ECAM at 0xF0000000: 00:01.0 as by 0xCF8, extended space 0, an absent slot all ones
 *   PASS 15 MSI-X on, queue_msix_vector 1 reads back, 7 reads NO_VECTOR, ISR stays 0
 *   PASS 16 a masked vector's message waits in the PBA; unmasked it is sent (and dropped)
 * Then, until its time budget ends, a seeded random stream of descriptor tables, ring indices,
 * kicks, MSI-X table entries (any address and data but NMI, unaligned accesses too) and MSI-X
 * control bits, resetting the device whenever it asks for it. The hypervisor must stay up, the
 * victim keep its view, and the hostile's report count the malformed rings and dropped messages.
 */
#include "guest.inc"
#include "idt64.inc"
#include "xorshift64.inc"

.equ RAM_END,    0x400000        /* mem=4 */
.equ DESC,       0x100000        /* 16 descriptors of 16 bytes */
.equ AVAIL,      0x101000        /* flags, idx, ring[16], used_event */
.equ USED,       0x102000        /* flags, idx, ring[16] of 8 bytes, avail_event */
.equ HEADER,     0x103000        /* struct virtio_blk_req header: type, reserved, sector */
.equ DATA,       0x104000
.equ STATUS,     0x105000
.equ INDIRECT,   0x106000
.equ QSIZE,      16

#include "virtio_blk64.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	PRINT "hostile: malformed virtqueues against virtio-blk, interrupts off\n"
	cli
	xor %r14, %r14

	/* 00:01.0: vendor 0x1AF4, device 0x1042; BAR 0. */
	call find_device                           /* RBX = BAR 0 for the rest of the run */
	xor %ecx, %ecx
	cmp $0x10421AF4, %r8d
	setne %cl
	cmp $0xE0000000, %ebx
	setne %dl
	or %dl, %cl
	TEST 1, %rcx, "virtio-blk found at 00:01.0 with BAR 0 at 0xE0000000"

	call device_init
	movzbl DEVICE_STATUS(%rbx), %eax
	cmp $0x0F, %eax
	TEST_IF e, 2, "FEATURES_OK accepted"

	call good_read
	TEST 3, %rax, "a well-formed read of sector 0 completes with status OK"

	/* 4: a descriptor address past RAM. */
	call device_init
	call good_chain
	movabs $0x100000000, %rax
	mov %rax, DESC+16                          /* the data buffer at 4 GiB */
	call submit_expect_reset
	TEST 4, %rax, "descriptor address past RAM: NEEDS_RESET"

	/* 5: a loop: descriptor 1's next is 0, and it has NEXT. */
	call device_init
	call good_chain
	movw $3, DESC+16+12                        /* NEXT | WRITE */
	movw $0, DESC+16+14
	call submit_expect_reset
	TEST 5, %rax, "a loop in the chain (0 -> 1 -> 0): NEEDS_RESET"

	/* 6: a buffer whose length runs past the end of RAM. */
	call device_init
	call good_chain
	movq $(RAM_END - 256), DESC+16
	movl $0x10000, DESC+16+8
	call submit_expect_reset
	TEST 6, %rax, "a buffer length running past RAM: NEEDS_RESET"

	/* 7: a head index past the queue size. */
	call device_init
	call good_chain
	mov $200, %eax
	call submit_head_expect_reset
	TEST 7, %rax, "a head index past the queue size: NEEDS_RESET"

	/* 8: avail.idx far ahead of the device. */
	call device_init
	call good_chain
	movw $1000, AVAIL+2
	call kick_expect_reset
	TEST 8, %rax, "avail.idx 1000 ahead: NEEDS_RESET"

	/* 9: an INDIRECT descriptor whose table length is not a multiple of 16. */
	call device_init
	movq $INDIRECT, DESC
	movl $17, DESC+8
	movw $4, DESC+12                           /* VIRTQ_DESC_F_INDIRECT */
	call submit_expect_reset
	TEST 9, %rax, "an indirect table of 17 bytes: NEEDS_RESET"

	/* 10: the descriptor table outside RAM, found when the queue is enabled. */
	movabs $0x7FFF00000000, %rax               /* outside RAM */
	call device_init_desc
	movzbl DEVICE_STATUS(%rbx), %eax
	test $NEEDS_RESET, %eax
	TEST_IF ne, 10, "a descriptor table outside RAM: NEEDS_RESET at DRIVER_OK"

	/* 11: device-readable after device-writable. */
	call device_init
	call good_chain
	movw $1, DESC+32+12                        /* the status byte: readable, after writable data */
	movw $3, DESC+16+12
	call submit_expect_reset
	TEST 11, %rax, "a readable buffer after a writable one: NEEDS_RESET"

	/* 12: device_init cleared the used ring before each case; r14 counts cases that saw it written. */
	TEST 12, %r14, "the used ring was never written for a malformed chain"

	call device_init
	call good_read
	TEST 13, %rax, "after the resets, a well-formed read still completes"

	/* 14: ECAM (bus 0 at 0xF0000000; device 1 at +0x8000, device 5 at +0x28000). */
	xor %ecx, %ecx
	mov $0xF0008000, %esi
	mov (%rsi), %eax                           /* MMIO: plain moves (what the hypervisor emulates) */
	cmp $0x10421AF4, %eax
	setne %cl
	mov 0x100(%rsi), %eax
	test %eax, %eax
	setne %dl
	or %dl, %cl
	mov 0x20000(%rsi), %eax
	cmp $0xFFFFFFFF, %eax
	setne %dl
	or %dl, %cl
	TEST 14, %rcx, "ECAM at 0xF0000000: 00:01.0 as by 0xCF8, extended space 0, an absent slot all ones"

	/* 15: MSI-X on (capability at 0x84: Message Control is its upper word), BAR 1 in R15; entry 0
	 * aims into the BAR window, entry 1 has vector 5: both must be dropped. */
	mov $0x80000814, %eax
	call config_read
	and $0xFFFFFFF0, %eax
	mov %eax, %r15d
	mov $0x80000884, %eax
	mov $0xCF8, %dx
	out %eax, %dx
	mov $0x80000000, %eax                      /* MSI-X Enable; the ID and next pointer are read-only */
	mov $0xCFC, %dx
	out %eax, %dx
	movl $0xE0000000, (%r15)
	movl $0, 4(%r15)
	movl $0x41, 8(%r15)
	movl $0, 12(%r15)
	movl $0xFEE00000, 16(%r15)
	movl $0, 20(%r15)
	movl $0x05, 24(%r15)
	movl $0, 28(%r15)
	call device_init
	call set_vectors
	movzwl QUEUE_MSIX_VECTOR(%rbx), %ecx
	xor $1, %ecx
	movw $7, QUEUE_MSIX_VECTOR(%rbx)           /* past the 2-entry table */
	movzwl QUEUE_MSIX_VECTOR(%rbx), %eax
	xor $0xFFFF, %eax                          /* 0 for NO_VECTOR */
	or %eax, %ecx
	movw $1, QUEUE_MSIX_VECTOR(%rbx)
	push %rcx
	call good_read
	pop %rcx
	or %rax, %rcx
	movzbl ISR(%rbx), %eax
	or %rax, %rcx
	TEST 15, %rcx, "MSI-X on, queue_msix_vector 1 reads back, 7 reads NO_VECTOR, ISR stays 0"

	/* 16: entry 1 masked: the read's message is pending (PBA bit 1) until unmasked. */
	call device_init
	call set_vectors
	movl $1, 28(%r15)
	call good_read
	mov 0x800(%r15), %ecx
	xor $2, %ecx
	movl $0, 28(%r15)
	mov 0x800(%r15), %edx
	or %edx, %ecx
	or %rax, %rcx
	TEST 16, %rcx, "a masked vector's message waits in the PBA; unmasked it is sent (and dropped)"

	/* The random phase: until the budget ends. R12 is the xorshift state. */
	PRINT "hostile: random descriptor tables, indices, kicks and MSI-X entries until the budget ends\n"
	movabs $0x9E3779B97F4A7C15, %r12
	call device_init
random_round:
	/* 16 random descriptors; addresses mostly in the ring area (masked), some anywhere. */
	mov $DESC, %rdi
	mov $QSIZE, %ecx
1:	call next
	test $0x700, %eax
	jz 2f
	and $0x3FFFFF, %eax                        /* usually inside RAM, above the code, stack */
	or $0x100000, %eax                         /* and page tables (the device may write there) */
2:	mov %rax, (%rdi)
	call next
	and $0x1FFFF, %eax                         /* lengths up to 128 KiB */
	mov %eax, 8(%rdi)
	call next
	and $0x7, %eax                             /* NEXT, WRITE, INDIRECT in any mix */
	mov %ax, 12(%rdi)
	call next
	and $0x1F, %eax                            /* next: sometimes past the table */
	mov %ax, 14(%rdi)
	add $16, %rdi
	dec %ecx
	jnz 1b
	call next
	mov %eax, %ecx
	and $0x1F, %eax                            /* head 0-31 */
	movzwl AVAIL+2, %edx
	mov %edx, %esi
	and $(QSIZE - 1), %esi
	mov %ax, AVAIL+4(,%rsi,2)
	shr $8, %ecx
	and $3, %ecx                               /* usually 1, sometimes 0, 2 or 3 more */
	add %ecx, %edx
	mov %dx, AVAIL+2
	call random_msix
	xor %eax, %eax
	movw %ax, NOTIFY(%rbx)
	movzbl DEVICE_STATUS(%rbx), %eax
	test $NEEDS_RESET, %eax
	jz random_round
	movzbl ISR(%rbx), %eax                     /* read clears */
	call device_init
	call next
	and $3, %eax                               /* vectors 0-1, or 2-3 past the table (NO_VECTOR) */
	movw %ax, QUEUE_MSIX_VECTOR(%rbx)
	movw %ax, CONFIG_MSIX_VECTOR(%rbx)
	jmp random_round

/* One random MSI-X action: a qword anywhere in the first 64 bytes of BAR 1 (the 32-byte table,
 * then nothing; half of them an address in 0xFEExxxxx, so some messages are delivered), a word at
 * an odd offset (ignored), or Enable/Function Mask in Message Control.
 * A data dword that would ask for an NMI (delivery mode 4) becomes INIT (5): this guest runs with
 * interrupts off, but an NMI would still reach it. */
random_msix:
	call next
	mov %eax, %ecx
	shr $16, %ecx
	and $0x38, %ecx
	test $0x300, %eax
	jz 1f
	mov %rax, %rdx
	call next
	xor %rdx, %rax
	test $0x800, %edx                          /* half the time: an address field in 0xFEExxxxx */
	jz 4f
	and $0x000FFFFC, %eax                      /* (the upper dword 0) */
	or $0xFEE00000, %eax
	and $0x10, %ecx                            /* entry 0 or 1 */
4:	mov %rax, (%r15,%rcx)
	jmp 2f
1:	test $0x400, %eax
	jz 3f
	movw %ax, 3(%r15,%rcx)                     /* not a dword or qword: ignored */
	jmp 2f
3:	and $0xC0000000, %eax                      /* Enable and Function Mask at random */
	push %rax
	mov $0x80000884, %eax
	mov $0xCF8, %dx
	out %eax, %dx
	pop %rax
	mov $0xCFC, %dx
	out %eax, %dx
2:	lea 8(%r15), %rdi
	call no_nmi
	lea 24(%r15), %rdi
	jmp no_nmi

/* The data dword at RDI: delivery mode 4 (NMI) becomes 5. */
no_nmi:
	mov (%rdi), %eax
	mov %eax, %edx
	shr $8, %edx
	and $7, %edx
	cmp $4, %edx
	jne 1f
	xor $0x100, %eax
	mov %eax, (%rdi)
1:	ret

/* config_msix_vector 0, queue 0's queue_msix_vector 1 (after device_init: NO_VECTOR). */
set_vectors:
	movw $0, CONFIG_MSIX_VECTOR(%rbx)
	movw $0, QUEUE_SELECT(%rbx)
	movw $1, QUEUE_MSIX_VECTOR(%rbx)
	ret

/* ---- helpers; RBX = BAR 0 ---- */

submit_expect_reset:
	xor %eax, %eax
submit_head_expect_reset:
	call submit_head
	jmp check_reset
kick_expect_reset:
	xor %eax, %eax
	movw %ax, NOTIFY(%rbx)
/* RAX = 0 when the device is in NEEDS_RESET with the config-change ISR bit; counts a written used ring in R14. */
check_reset:
	movzwl USED+2, %eax
	test %eax, %eax
	jz 1f
	inc %r14
1:	movzbl DEVICE_STATUS(%rbx), %eax
	and $NEEDS_RESET, %eax
	xor $NEEDS_RESET, %eax                     /* 0 when set */
	movzbl ISR(%rbx), %ecx
	and $2, %ecx
	xor $2, %ecx                               /* 0 when the configuration-change bit was set */
	or %ecx, %eax
	ret

/* RAX = the next xorshift64 value (R12 is the state). */
