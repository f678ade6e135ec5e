/* hostile_rep: REP string I/O with counts far larger than one exit may do, interrupts off, until
 * its time budget ends (expect=time-budget): 2 Mi elements of REP OUTSB to the unhandled port
 * 0xEC, REP INSW from the ATA data port of an absent drive and REP OUTSL to port 0x80, round and
 * round. The hypervisor moves at most StringIO.defaultMaxIterations elements per exit and leaves
 * RIP on the instruction, so each batch is one bounded exit and the turn ends on time; a victim VM
 * (victim.S) checks that it still gets the CPU every slice.
 * It prints the guest TSC ticks of its first REP OUTSB of 32768 elements (many exits).
 */
#include "guest.inc"

.equ BUFFER,   0x100000          /* 2 MiB inside its 4 MiB of RAM */
.equ ELEMENTS, 0x200000

.macro REP_IO op:req, port:req, count:req, index:req
	mov $BUFFER, %\index
	mov $\count, %rcx
	mov $\port, %dx
	rep \op
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	PRINT "hostile: REP OUTSB/INSW/OUTSL of 2 Mi elements to unhandled, ATA and POST ports, interrupts off\n"
	cli
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r8
	REP_IO outsb, 0xEC, 32768, rsi
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r8, %rdx
	PRINT "hostile: REP OUTSB of 32768 elements took "
	PRINT_DEC %rdx
	PRINT " ticks\n"
1:	REP_IO outsb, 0xEC, ELEMENTS, rsi
	REP_IO insw, 0x1F0, ELEMENTS / 2, rdi
	REP_IO outsl, PORT_POST, ELEMENTS / 4, rsi
	jmp 1b
