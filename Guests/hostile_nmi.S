/* hostile_nmi: a guest that stays in its own NMI handler. It sends
 * itself an NMI through its local APIC (ICR: delivery mode NMI, its own APIC ID) and its NMI
 * handler spins with interrupts off and never returns, so the guest's NMIs stay blocked until an
 * IRET that never comes. On a CPU without the VMX-preemption timer the hypervisor ends turns with
 * the host's NMIs; those must still leave this guest (virtual NMIs keep its NMI blocking its own),
 * or it would keep the CPU for ever. Module options: apic=on budget=40 expect=time-budget, beside
 * the victim (victim.S).
 */
#include "guest.inc"
#include "idt64.inc"

.equ LAPIC, 0xFEE00000
.equ ICR_LOW, 0x300
.equ ICR_HIGH, 0x310
.equ ICR_NMI, 4 << 8                            /* delivery mode NMI, physical, edge */

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	IDT_GATE 2, nmi_handler
	PRINT "hostile: sending itself an NMI whose handler never returns\n"
	cli
	mov $LAPIC, %ebx
	mov 0x20(%rbx), %eax                         /* its APIC ID, bits 31:24 */
	and $0xFF000000, %eax
	mov %eax, ICR_HIGH(%rbx)
	movl $ICR_NMI, ICR_LOW(%rbx)
1:	pause                                        /* the NMI arrives at the next instruction */
	jmp 1b

	.text
nmi_handler:
	PRINT "hostile: in its NMI handler for good, NMIs blocked, interrupts off\n"
1:	jmp 1b
