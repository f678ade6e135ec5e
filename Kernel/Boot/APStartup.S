/*
 * APStartup.S: how an application processor gets from its start-up IPI to Swift.
 *
 * The start-up code between ap_trampoline_start and ap_trampoline_end is copied by the BSP
 * to a free page below 1 MiB (HostCPUs.swift); the SIPI's vector is that page's number, so the
 * AP starts in real mode at CS = page >> 4, IP = 0 (SDM Vol. 3A §8.4.4.1). It finds where it
 * runs from CS, patches its own GDT pointer and far-jump targets to that address, and goes
 *   real mode -> protected mode (its own flat GDT) -> long mode on the kernel's page tables
 * (CR4.PAE, EFER.LME, then CR0.PG, SDM Vol. 3A §10.8.5, as boot.S does), with CR0/CR4 set for
 * the FPU/SSE policy as boot.S sets them. In 64-bit mode it takes its stack and record from
 * the parameter block the BSP wrote (host_cpu.h) and jumps to ap_start64 in the kernel, which
 * calls apMain(record); apMain loads the AP's own GDT, TSS and the IDT.
 */
#include "../Support/host_cpu.h"

#define REL(symbol)     ((symbol) - ap_trampoline_start)
#define CR0_BITS        ((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1)   /* PG WP NE MP PE */
#define CR4_BITS        ((1 << 5) | (1 << 9) | (1 << 10))                   /* PAE OSFXSR OSXMMEXCPT */

        .section .rodata.ap_trampoline, "a"
        .balign 16
        .global ap_trampoline_start, ap_trampoline_end, ap_trampoline_params
        .code16
ap_trampoline_start:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        movzwl  %ax, %ebx
        shl     $4, %ebx                            /* ebx: the page's physical address */
        leal    REL(trampoline_gdt)(%ebx), %eax
        movl    %eax, REL(trampoline_gdtr) + 2
        leal    REL(trampoline_protected)(%ebx), %eax
        movl    %eax, REL(trampoline_far32)
        leal    REL(trampoline_long)(%ebx), %eax
        movl    %eax, REL(trampoline_far64)
        lgdtl   REL(trampoline_gdtr)
        movl    %cr0, %eax
        orl     $1, %eax                            /* PE */
        movl    %eax, %cr0
        ljmpl   *REL(trampoline_far32)

        .code32
trampoline_protected:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    %cr4, %eax
        orl     $CR4_BITS, %eax
        movl    %eax, %cr4
        movl    REL(ap_trampoline_params) + AP_PARAMS_CR3(%ebx), %eax
        movl    %eax, %cr3                          /* the kernel's PML4 lies below 4 GiB */
        movl    $0xC0000080, %ecx                   /* IA32_EFER */
        movl    REL(ap_trampoline_params) + AP_PARAMS_EFER(%ebx), %eax
        xorl    %edx, %edx
        wrmsr
        movl    %cr0, %eax
        andl    $~((1 << 2) | (1 << 3)), %eax       /* EM, TS clear */
        orl     $CR0_BITS, %eax
        movl    %eax, %cr0
        ljmpl   *REL(trampoline_far64)(%ebx)

        .code64
trampoline_long:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        xorw    %ax, %ax
        movw    %ax, %fs
        movw    %ax, %gs
        movl    %ebx, %ebx                          /* the upper half is undefined after the switch */
        movq    REL(ap_trampoline_params) + AP_PARAMS_STACK_TOP(%rbx), %rsp
        movq    REL(ap_trampoline_params) + AP_PARAMS_CPU(%rbx), %rdi
        xorl    %ebp, %ebp
        jmpq    *REL(ap_trampoline_params) + AP_PARAMS_ENTRY(%rbx)

        .balign 8
trampoline_gdt:
        .quad   0
        .quad   0x00CF9A000000FFFF                  /* 0x08: 32-bit code */
        .quad   0x00CF92000000FFFF                  /* 0x10: data */
        .quad   0x00AF9A000000FFFF                  /* 0x18: 64-bit code */
trampoline_gdtr:
        .short  4 * 8 - 1
        .long   0                                   /* patched: trampoline_gdt's address */
trampoline_far32:
        .long   0                                   /* patched: trampoline_protected */
        .short  0x08
trampoline_far64:
        .long   0                                   /* patched: trampoline_long */
        .short  0x18
        .balign 8
ap_trampoline_params:
        .skip   AP_PARAMS_SIZE
ap_trampoline_end:

/* In the kernel's text, reached on the AP's own stack with %rdi = its struct host_cpu. */
        .text
        .global ap_start64
ap_start64:
        call    apMain
1:      cli
        hlt
        jmp     1b
