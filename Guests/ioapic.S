/* ioapic: the I/O APIC's registers through emulated MMIO.  Module options: apic=on.
 *
 * The EPT maps only the VM's RAM; the I/O APIC page at 0xFEC00000 is a device, so every access
 * is an EPT violation that the hypervisor decodes and carries out (MMIOExit).  The accesses use
 * the instruction forms Linux's MMIO accessors compile to — MOV loads and stores of 8/32 bits,
 * MOV of an immediate, MOVZX, TEST, OR into memory, a REX register — and check what the 82093AA
 * answers: the version register, a redirection entry written and read back (with its read-only
 * delivery-status and remote-IRR bits), the ID register.
 */
#include "guest.inc"

.equ IOAPIC, 0xFEC00000

	.section .text.start, "ax"
	.globl _start
_start:
	mov $IOAPIC, %rbx
	/* 1: IOREGSEL = 1 (MOV imm32 to memory), IOWIN read (MOV load). */
	movl $1, (%rbx)
	mov 0x10(%rbx), %eax
	PRINT "ioapic: version register = "
	PRINT_HEX %rax
	PRINT "\n"
	cmp $0x00170011, %eax
	TEST_IF e, 1, "I/O APIC version 0x11 with 24 pins (MOV imm32 store, MOV load)"

	/* 2: IOREGSEL read back with MOVZX of a byte. */
	movzbl (%rbx), %ecx
	cmp $1, %ecx
	TEST_IF e, 2, "IOREGSEL reads back 1 (MOVZX byte load)"

	/* 3: redirection entry 2 low: vector 0x31, level, active low, masked; the read-only delivery
	 *    status (bit 12) and remote IRR (bit 14) stay 0.  A byte store selects the register. */
	movb $0x14, (%rbx)
	mov $(0x31 | 1 << 15 | 1 << 13 | 1 << 16 | 1 << 12 | 1 << 14), %r12d
	mov %r12d, 0x10(%rbx)                   /* REX.R register */
	mov 0x10(%rbx), %edx
	cmp $(0x31 | 1 << 15 | 1 << 13 | 1 << 16), %edx
	TEST_IF e, 3, "redirection entry 2 reads back; delivery status and remote IRR are read-only (REX store)"

	/* 4: entry 2 high: destination 0x0F in bits 63:56. */
	movb $0x15, (%rbx)
	movl $0x0F000000, 0x10(%rbx)
	mov 0x10(%rbx), %eax
	cmp $0x0F000000, %eax
	TEST_IF e, 4, "redirection entry 2 high half: destination 0x0F"

	/* 5: TEST against the register: the mask bit is set. */
	movb $0x14, (%rbx)
	mov $(1 << 16), %ecx
	test %ecx, 0x10(%rbx)
	TEST_IF nz, 5, "TEST of IOWIN sees the mask bit (flags from the emulated read)"

	/* 6: OR into memory: clear the mask by writing, then set the trigger bit with OR. */
	movl $0x31, 0x10(%rbx)
	mov $(1 << 15), %ecx
	or %ecx, 0x10(%rbx)
	mov 0x10(%rbx), %eax
	cmp $(0x31 | 1 << 15), %eax
	TEST_IF e, 6, "OR into IOWIN: read-modify-write through the device"

	/* 7: the ID register (bits 27:24). */
	movl $0, (%rbx)
	movl $0x05000000, 0x10(%rbx)
	mov 0x10(%rbx), %eax
	cmp $0x05000000, %eax
	TEST_IF e, 7, "I/O APIC ID register written and read back"
	FINISH
