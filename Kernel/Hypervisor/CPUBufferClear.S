/*
 * CPUBufferClear.S: VERW with a memory operand overwrites the CPU's affected
 * buffers on processors with CPUID.(EAX=7,ECX=0):EDX.MD_CLEAR[bit 10] (Intel's
 * MDS guidance); done when the CPU changes VM (GuestContext).
 *
 *   void cpu_buffers_clear(void)
 */
        .text
        .code64
        .global cpu_buffers_clear
cpu_buffers_clear:
        sub     $8, %rsp
        mov     %ds, %ax
        mov     %ax, (%rsp)
        verw    (%rsp)
        add     $8, %rsp
        ret
