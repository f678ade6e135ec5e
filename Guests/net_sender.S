/* net_sender: the victim's peer on the virtual switch (net_victim.S, hostile_net.S). Module
 * options: net=on (the second net VM: MAC 02:53:56:00:00:02). It sends the 40 numbered test frames
 * to the victim's MAC, frame n once SPACING * n ticks of its TSC have passed (lengths 60-1518), and
 * after every 8th a numbered broadcast; it takes and gives back whatever it receives, and stops
 * only after the victim's window, so that its report does not fall into the victim's waits.
 *   PASS 1 virtio-net at 00:02.0 up with MAC 02:53:56:00:00:02
 *   PASS 2 the device used all 45 transmit buffers
 */
#include "guest.inc"
#include "idt64.inc"
#include "virtio_net.inc"

.equ SPACING,     500000
.equ FRAMES,      40
.equ BROADCAST_0, 1000
.equ END_TICKS,   34000000       /* past net_victim's WINDOW_TICKS */
.equ FRAME,       0x300000       /* where a frame is built */

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	mov $NET_SENDER_MAC, %rax
	call net_up
	TEST 1, %rax, "virtio-net at 00:02.0 up with MAC 02:53:56:00:00:02"

	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r15                             /* start */
	xor %r14d, %r14d                           /* the next frame's number */
	xor %r13d, %r13d                           /* the next broadcast's number, from 0 */
1:	call net_rx_next                           /* receive buffers go straight back */
	test %rax, %rax
	jz 2f
	call net_rx_recycle
	jmp 1b
2:	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r15, %rax
	cmp $FRAMES, %r14
	jae 3f
	mov %r14, %rcx
	imul $SPACING, %rcx
	cmp %rcx, %rax
	jb 1b
	mov $NET_VICTIM_MAC, %rax
	mov %r14, %rcx
	call send
	inc %r14
	test $7, %r14
	jnz 1b
	mov $NET_BROADCAST, %rax
	lea BROADCAST_0(%r13), %rcx
	call send
	inc %r13
	jmp 1b
3:	cmp $END_TICKS, %rax
	jb 1b

4:	call net_tx_outstanding                    /* the last ones, should any wait */
	test %eax, %eax
	jz 5f
	call net_tx_kick
	jmp 4b
5:	PRINT "net_sender: sent "
	PRINT_DEC %r14
	PRINT " numbered frames to "
	mov $NET_VICTIM_MAC, %rax
	call net_print_mac
	PRINT " and "
	PRINT_DEC %r13
	PRINT " broadcasts\n"
	movzwl NET_TX_USED+2, %eax
	cmp $(FRAMES + FRAMES / 8), %eax
	TEST_IF e, 2, "the device used all 45 transmit buffers"
	FINISH

/* Sends test frame RCX to MAC RAX. */
send:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	mov $FRAME, %edi
	mov $NET_SENDER_MAC, %rdx
	call net_put_macs
	mov %rcx, %rax
	call test_frame_fill
	call test_frame_length
	mov $FRAME, %esi
	call net_tx
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	ret
