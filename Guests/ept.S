/* ept: an access outside the guest's RAM.
 *
 * The guest's page tables identity-map 0-4 GiB, but EPT maps only [0, mem).
 * The store to GPA 0x40000000 (1 GiB) must stop the guest with the
 * hypervisor's EPT-violation report; nothing after it may run.
 * Expected hypervisor output:
 *   [ept] touching guest-physical 0x40000000 (outside my RAM)
 * followed by the hypervisor's EPT-violation report (GPA 0x40000000, write).
 * Never expected: "[ept] ERROR: still running after the EPT violation".
 */
#include "guest.inc"

	.section .text.start, "ax"
	.globl _start
_start:
	PRINT "touching guest-physical 0x40000000 (outside my RAM)\n"
	movq $1, 0x40000000             /* absolute address, no RIP-relative */
	PRINT "ERROR: still running after the EPT violation\n"
	SHUTDOWN 1
