/*
 * GuestCR2.S: CR2 for a page fault the hypervisor reflects into a guest under shadow paging.
 * A #PF that causes a VM exit does not update CR2 (SDM Vol. 3C §27.1), and VM entry does not
 * load it: the guest finds in CR2 what the processor holds at entry.
 *
 *   void guest_cr2_write(uint64_t value)
 */
        .text
        .code64
        .global guest_cr2_write

guest_cr2_write:
        mov     %rdi, %cr2
        ret
