/* hostile_net: a network guest that goes after the victim's frames on the virtual switch
 * (net_victim.S, net_sender.S). Module options: net=on (the third net VM: MAC 02:53:56:00:00:03).
 * It first sends frames with the victim's MAC as their source, to make a learning switch send
 * the victim's unicast here, in one notification of 200 chains with a flood of random source
 * MACs: far more than the switch takes from a sender on one exit. Then, for RUN_TICKS of its
 * TSC, rounds of 74 chains published at once and kicked until the device has taken them all
 * (its status read meanwhile, an exit each time): the victim's MAC as source again (first
 * and last, so a table flushed by the flood learns it anew), 60 frames of 1518 bytes with random
 * source and destination MACs (xorshift64), and between them frames the device must refuse
 * (0, 13, 1519 and 65,535 bytes after the virtio_net_hdr, the last a chain of 17 descriptors; a
 * chain of four 0-length descriptors) and one good broadcast split by 0-length descriptors.
 * All the while it takes every frame it receives and counts those addressed to the victim's MAC.
 *   PASS 1 virtio-net at 00:02.0 up with MAC 02:53:56:00:00:03
 *   PASS 2 no frame addressed to the victim's MAC reached me
 *   PASS 3 the device took every chain and never needed a reset
 * The hypervisor must stay up and keep this VM's turns to the slice and an exit, the victim get
 * all its frames, and this VM's report count its refused frames (bad tx) and its foreign source
 * MACs (spoofed).
 */
#include "guest.inc"
#include "idt64.inc"
#include "xorshift64.inc"
#include "virtio_net.inc"

.equ RUN_TICKS,   40000000       /* past the sender's last frame and the victim's window */
.equ FIRST,       200            /* chains in the first notification */
.equ STEALS,      4              /* frames with the victim's MAC as source, each end of a round */
.equ FLOOD,       60             /* random-MAC frames in a round */
/* The chains the device must refuse, and the split one, at fixed descriptors past the ones
 * rebuilt for each notification (0-199). */
.equ SP_EMPTY,    200            /* the header alone: 0 bytes */
.equ SP_13,       201            /* 13 bytes */
.equ SP_1519,     202            /* 1519 bytes: one past the largest frame */
.equ SP_64K,      203            /* the header, then 16 descriptors: 65,535 bytes */
.equ SP_ZEROS,    220            /* four descriptors of 0 bytes */
.equ SP_SPLIT,    224            /* header, 0, 30 bytes, 0, 30 bytes, 0: a good 60-byte frame */
.equ SPECIAL,     0x290000       /* the special chains' buffers */
.equ BIG,         0x300000       /* 64 KiB */

/* Descriptor n of transmitq1: addr, len, flags, next. */
.macro TXD n:req, addr:req, len:req, flags=0, next=0
	movq $(\addr), NET_TX_DESC + 16 * (\n)
	movl $(\len), NET_TX_DESC + 16 * (\n) + 8
	movw $(\flags), NET_TX_DESC + 16 * (\n) + 12
	movw $(\next), NET_TX_DESC + 16 * (\n) + 14
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	mov $NET_HOSTILE_MAC, %rax
	call net_up
	TEST 1, %rax, "virtio-net at 00:02.0 up with MAC 02:53:56:00:00:03"
	call build_special_chains
	PRINT "hostile_net: the victim's MAC as source, random source MACs, frames of 0, 13, 1519 and 65535 bytes, 0-length descriptors\n"
	movabs $0x9E3779B97F4A7C15, %r12
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r15                             /* start */
	xor %r14d, %r14d                           /* rounds */

	/* The first notification: the victim's MAC as source, then a flood. */
	xor %r13d, %r13d                           /* the next ordinary descriptor */
	call steal
	mov $(FIRST - STEALS), %ecx
	call flood
	call net_tx_kick
	PRINT "hostile_net: one notification of 200 chains, the victim's MAC as source and a flood of random ones\n"
	call drain
	jc 9f

1:	xor %r13d, %r13d
	call steal
	mov $16, %ecx
	call flood
	mov $SP_EMPTY, %eax
	call net_tx_publish
	mov $SP_13, %eax
	call net_tx_publish
	mov $16, %ecx
	call flood
	mov $SP_1519, %eax
	call net_tx_publish
	mov $SP_64K, %eax
	call net_tx_publish
	mov $16, %ecx
	call flood
	mov $SP_ZEROS, %eax
	call net_tx_publish
	mov $SP_SPLIT, %eax
	call net_tx_publish
	mov $(FLOOD - 48), %ecx
	call flood
	call steal
	call net_tx_kick
	call drain
	jc 9f
	inc %r14
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r15, %rax
	cmp $RUN_TICKS, %rax
	jb 1b

9:	call receive
	PRINT "hostile_net: "
	PRINT_DEC %r14
	PRINT " rounds of 74 chains; "
	mov received(%rip), %rax
	PRINT_DEC %rax
	PRINT " frames received, "
	mov stolen(%rip), %rax
	PRINT_DEC %rax
	PRINT " of them to "
	mov $NET_VICTIM_MAC, %rax
	call net_print_mac
	PRINT "\n"
	mov stolen(%rip), %rax
	TEST 2, %rax, "no frame addressed to the victim's MAC reached me"
	mov resets(%rip), %rax
	TEST 3, %rax, "the device took every chain and never needed a reset"
	FINISH

/* STEALS frames of 60 bytes from the victim's MAC to the sender's, at descriptor R13 on. */
steal:
	push %rax
	push %rcx
	push %rdx
	push %rdi
	mov $STEALS, %ecx
1:	push %rcx
	mov %r13, %rdi
	mov $60, %ecx
	call net_tx_buffer
	mov $NET_SENDER_MAC, %rax
	mov $NET_VICTIM_MAC, %rdx
	call net_put_macs
	mov %r13, %rax
	call net_tx_publish
	inc %r13
	pop %rcx
	dec %ecx
	jnz 1b
	pop %rdi
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* RCX frames of 1518 bytes from random source MACs, to the broadcast address or a random
 * unicast one, at descriptor R13 on. */
flood:
	push %rax
	push %rcx
	push %rdx
	push %rdi
1:	push %rcx
	mov %r13, %rdi
	mov $NET_MAX_FRAME, %ecx
	call net_tx_buffer
	call next
	mov %rax, %rdx
	shl $16, %rdx
	shr $16, %rdx                              /* source: any 48 bits */
	call next
	movabs $0xFEFFFFFFFFFF, %rcx               /* unicast: the I/G bit clear */
	and %rcx, %rax
	test $0x100, %eax
	jz 2f
	mov $NET_BROADCAST, %rax
2:	call net_put_macs
	mov %r13, %rax
	call net_tx_publish
	inc %r13
	pop %rcx
	dec %ecx
	jnz 1b
	pop %rdi
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* Kicks until the device has taken every published chain, receiving meanwhile; CF set (and
 * the reset counted) when the device asks for a reset instead. */
drain:
	push %rax
	push %rbx
	mov net_bar(%rip), %rbx
1:	call receive
	movzbl DEVICE_STATUS(%rbx), %eax
	test $NEEDS_RESET, %eax
	jnz 3f
	call net_tx_outstanding
	test %eax, %eax
	jz 2f
	call net_tx_kick
	jmp 1b
2:	pop %rbx
	pop %rax
	clc
	ret
3:	incq resets(%rip)
	PRINT "hostile_net: the device needs a reset\n"
	pop %rbx
	pop %rax
	stc
	ret

/* Takes every received frame, counting those addressed to the victim's MAC. */
receive:
	push %rax
	push %rcx
	push %rdx
	push %rsi
1:	call net_rx_next
	test %rax, %rax
	jz 2f
	incq received(%rip)
	mov %rax, %rsi
	call net_get_mac
	mov $NET_VICTIM_MAC, %rcx
	cmp %rcx, %rax
	jne 3f
	incq stolen(%rip)
3:	call net_rx_recycle
	jmp 1b
2:	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	ret

build_special_chains:
	push %rax
	push %rcx
	push %rdx
	push %rdi
	mov $SPECIAL, %edi                         /* zero virtio_net_hdrs and frames */
	xor %eax, %eax
	mov $(0x2000 / 8), %ecx
	rep stosq
	TXD SP_EMPTY, SPECIAL, NET_HDR
	TXD SP_13, SPECIAL + 0x100, NET_HDR + 13
	TXD SP_1519, SPECIAL + 0x800, NET_HDR + NET_MAX_FRAME + 1
	TXD SP_64K, SPECIAL + 0x200, NET_HDR, VIRTQ_DESC_F_NEXT, SP_64K + 1
	mov $1, %ecx                               /* 15 x 4096 + 4095 bytes at BIG */
1:	lea SP_64K(%rcx), %eax
	shl $4, %eax
	lea -1(%rcx), %rdx
	shl $12, %rdx
	add $BIG, %rdx
	mov %rdx, NET_TX_DESC(%rax)
	movl $4096, NET_TX_DESC+8(%rax)
	movw $VIRTQ_DESC_F_NEXT, NET_TX_DESC+12(%rax)
	lea SP_64K+1(%rcx), %edx
	mov %dx, NET_TX_DESC+14(%rax)
	inc %ecx
	cmp $16, %ecx
	jbe 1b
	movl $4095, NET_TX_DESC + 16 * (SP_64K + 16) + 8
	movw $0, NET_TX_DESC + 16 * (SP_64K + 16) + 12
	TXD SP_ZEROS, SPECIAL + 0x300, 0, VIRTQ_DESC_F_NEXT, SP_ZEROS + 1
	TXD SP_ZEROS + 1, SPECIAL + 0x300, 0, VIRTQ_DESC_F_NEXT, SP_ZEROS + 2
	TXD SP_ZEROS + 2, SPECIAL + 0x300, 0, VIRTQ_DESC_F_NEXT, SP_ZEROS + 3
	TXD SP_ZEROS + 3, SPECIAL + 0x300, 0
	TXD SP_SPLIT, SPECIAL + 0x400, NET_HDR, VIRTQ_DESC_F_NEXT, SP_SPLIT + 1
	TXD SP_SPLIT + 1, SPECIAL + 0x500, 0, VIRTQ_DESC_F_NEXT, SP_SPLIT + 2
	TXD SP_SPLIT + 2, SPECIAL + 0x500, 30, VIRTQ_DESC_F_NEXT, SP_SPLIT + 3
	TXD SP_SPLIT + 3, SPECIAL + 0x600, 0, VIRTQ_DESC_F_NEXT, SP_SPLIT + 4
	TXD SP_SPLIT + 4, SPECIAL + 0x700, 30, VIRTQ_DESC_F_NEXT, SP_SPLIT + 5
	TXD SP_SPLIT + 5, SPECIAL + 0x600, 0
	/* The refused frames carry the victim's MAC both ways; the split one is this VM's broadcast. */
	mov $NET_VICTIM_MAC, %rax
	mov %rax, %rdx
	mov $(SPECIAL + 0x100 + NET_HDR), %edi
	call net_put_macs
	mov $(SPECIAL + 0x800 + NET_HDR), %edi
	call net_put_macs
	mov $BIG, %edi
	call net_put_macs
	mov $NET_BROADCAST, %rax
	mov $NET_HOSTILE_MAC, %rdx
	mov $(SPECIAL + 0x500), %edi
	call net_put_macs
	pop %rdi
	pop %rdx
	pop %rcx
	pop %rax
	ret

	.bss
	.balign 8
received: .quad 0
stolen:   .quad 0
resets:   .quad 0
