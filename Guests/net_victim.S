/* net_victim: the receiving end beside a hostile network guest (hostile_net.S) on the virtual
 * switch. Module options: net=on (the first of victim, sender, hostile: MAC 02:53:56:00:00:01).
 * It brings up its virtio-net device with 128 receive buffers and sends nothing. For WINDOW_TICKS
 * of its TSC it polls the receive queue and sorts what arrives: test frames from the sender
 * (net_sender.S, 02:53:56:00:00:02) numbered 0-39 to its MAC, the sender's broadcasts, and
 * anything else; between polls it times its waits for the CPU (cpuwatch.inc). Then:
 *   PASS 1 virtio-net at 00:02.0 up with MAC 02:53:56:00:00:01, 128 receive buffers posted
 *   PASS 2 all 40 numbered frames from the sender arrived, each intact and once
 *   PASS 3 the sender's 5 broadcasts arrived
 *   PASS 4 longest wait for the CPU within 3 slices
 *   PASS 5 my TSC never went backwards
 * Run with `schedule=round-robin slice=1`.
 */
#include "guest.inc"
#include "idt64.inc"
#include "cpuwatch.inc"
#include "virtio_net.inc"

.equ WINDOW_TICKS, 30000000      /* the sender's frames come within its first 21 M ticks */
.equ FRAMES,       40
.equ BROADCASTS,   5
.equ BROADCAST_0,  1000          /* the sender's broadcasts are numbered from here */
.equ MAX_WAIT,     3000000       /* 3 slices: the two other VMs' turns and the exits around them */

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	mov $NET_VICTIM_MAC, %rax
	call net_up
	TEST 1, %rax, "virtio-net at 00:02.0 up with MAC 02:53:56:00:00:01, 128 receive buffers posted"

	call watch_start
1:	call watch_step
	cmp $WINDOW_TICKS, %rax
	jae 2f
	call net_rx_next
	test %rax, %rax
	jz 1b
	call sort_frame
	call net_rx_recycle
	jmp 1b

2:	PRINT "net_victim: "
	call watch_report
	PRINT "net_victim: from "
	mov $NET_SENDER_MAC, %rax
	call net_print_mac
	PRINT ": "
	mov numbered(%rip), %rax
	PRINT_DEC %rax
	PRINT " of 40 numbered frames to me ("
	mov repeated(%rip), %rax
	PRINT_DEC %rax
	PRINT " repeated, "
	mov damaged(%rip), %rax
	PRINT_DEC %rax
	PRINT " damaged), "
	mov broadcasts(%rip), %rax
	PRINT_DEC %rax
	PRINT " broadcasts; "
	mov others(%rip), %rax
	PRINT_DEC %rax
	PRINT " other frames\n"

	mov numbered(%rip), %rax
	xor $FRAMES, %rax
	or repeated(%rip), %rax
	or damaged(%rip), %rax
	TEST 2, %rax, "all 40 numbered frames from the sender arrived, each intact and once"
	cmpq $BROADCASTS, broadcasts(%rip)
	TEST_IF e, 3, "the sender's 5 broadcasts arrived"
	cmpq $MAX_WAIT, watch_longest(%rip)
	TEST_IF be, 4, "longest wait for the CPU within 3 slices"
	mov watch_backwards(%rip), %rax
	TEST 5, %rax, "my TSC never went backwards"
	FINISH

/* Counts the frame at RAX of RCX bytes in one of the totals. */
sort_frame:
	push %rax
	push %rdx
	push %rsi
	push %rdi
	mov %rax, %rsi
	call net_get_mac
	mov %rax, %rdi                             /* destination */
	add $6, %rsi
	call net_get_mac
	sub $6, %rsi
	mov $NET_SENDER_MAC, %rdx
	cmp %rdx, %rax
	jne 8f
	call test_frame_check
	mov $NET_VICTIM_MAC, %rdx
	cmp %rdx, %rdi
	je 3f
	mov $NET_BROADCAST, %rdx
	cmp %rdx, %rdi
	jne 8f
	sub $BROADCAST_0, %rax                     /* a broadcast: BROADCAST_0 and on */
	cmp $BROADCASTS, %rax
	jae 8f
	incq broadcasts(%rip)
	jmp 9f
3:	cmp $FRAMES, %rax                          /* to me: 0-39, each once */
	jb 4f
	incq damaged(%rip)
	jmp 9f
4:	bts %rax, seen(%rip)
	jc 5f
	incq numbered(%rip)
	jmp 9f
5:	incq repeated(%rip)
	jmp 9f
8:	incq others(%rip)
9:	pop %rdi
	pop %rsi
	pop %rdx
	pop %rax
	ret

	.bss
	.balign 8
seen:       .quad 0                            /* bit n: numbered frame n arrived */
numbered:   .quad 0
repeated:   .quad 0
damaged:    .quad 0
broadcasts: .quad 0
others:     .quad 0
