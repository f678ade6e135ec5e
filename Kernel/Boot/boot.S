/*
 * boot.S: the first instructions of Swiftvisor.
 *
 * GRUB (Multiboot2) and QEMU -kernel (Multiboot1) both enter here in 32-bit
 * protected mode with paging off, EAX holding the loader's magic and EBX the
 * physical address of its boot information. We build an identity map of the
 * first 4 GiB with 2 MiB pages, switch to long mode (SDM Vol. 3A §10.8.5:
 * CR4.PAE, then EFER.LME, then CR0.PG) and call the Swift kernel:
 *     kmain(magic, bootInfo)
 * The Swift side replaces these tables with its own once it has a frame allocator.
 */
#define MB1_MAGIC       0x1BADB002
#define MB1_FLAGS       0x00000003          /* align modules on pages, give memory info */
#define MB2_MAGIC       0xE85250D6

        .section .multiboot, "a"
        .align 8
mb2_header:
        .long MB2_MAGIC
        .long 0                             /* architecture: i386 protected mode */
        .long mb2_header_end - mb2_header
        .long -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
        .align 8
        /* Information request (Multiboot2 §3.1.4), optional: the ACPI old and new RSDP copies
           (tags 14 and 15), where HostCPUs finds the MADT. GRUB gives them anyway. */
        .short 1, 1
        .long 16
        .long 14, 15
        .align 8
        .short 0, 0                         /* end tag */
        .long 8
mb2_header_end:
        .align 4
mb1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)

        .section .boot.text, "ax"
        .code32
        .global _start
_start:
        cli
        cld
        mov     $boot_stack_top, %esp
        mov     %eax, %edi                  /* magic -> first argument of kmain */
        mov     %ebx, %esi                  /* info  -> second argument */

        /* Long mode present? CPUID.80000001h:EDX.LM[bit 29] */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      no_long_mode
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     no_long_mode
        mov     %edx, %ebp                  /* keep NX bit (20) for later */

        /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PDk[i] = 2 MiB page k*1GiB + i*2MiB */
        mov     $boot_pml4, %ebx
        mov     $boot_pdpt, %eax
        or      $0x3, %eax
        mov     %eax, (%ebx)
        mov     $boot_pdpt, %ebx
        mov     $boot_pd, %eax
        or      $0x3, %eax
        mov     $0, %ecx
1:      mov     %eax, (%ebx,%ecx,8)
        add     $0x1000, %eax
        inc     %ecx
        cmp     $4, %ecx
        jb      1b
        mov     $boot_pd, %ebx
        mov     $0x83, %eax                 /* present | writable | page size */
        xor     %edx, %edx                  /* high dword of the entry */
        xor     %ecx, %ecx
2:      mov     %eax, (%ebx,%ecx,8)
        mov     %edx, 4(%ebx,%ecx,8)
        add     $0x200000, %eax
        adc     $0, %edx
        inc     %ecx
        cmp     $2048, %ecx
        jb      2b

        mov     $boot_pml4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $((1 << 5) | (1 << 9) | (1 << 10)), %eax   /* PAE, OSFXSR, OSXMMEXCPT */
        mov     %eax, %cr4
        mov     $0xC0000080, %ecx           /* IA32_EFER */
        rdmsr
        or      $(1 << 8), %eax             /* LME */
        bt      $20, %ebp
        jnc     3f
        or      $(1 << 11), %eax            /* NXE when CPUID says NX exists */
3:      wrmsr
        mov     %cr0, %eax
        and     $~((1 << 2) | (1 << 3)), %eax       /* clear EM, TS */
        or      $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax /* PG WP NE MP PE */
        mov     %eax, %cr0

        lgdt    boot_gdt_descriptor
        ljmp    $0x08, $long_mode_entry

no_long_mode:
        /* Tell the serial port, then stop. Both emulators end on this path too. */
        mov     $no_lm_message, %esi
4:      lodsb
        test    %al, %al
        jz      5f
        mov     $0x3F8, %dx
        out     %al, %dx
        jmp     4b
5:      mov     $0xF4, %dx
        mov     $1, %al
        out     %al, %dx
        xchg    %bx, %bx
6:      cli
        hlt
        jmp     6b

        .code64
long_mode_entry:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        xor     %ax, %ax
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $boot_stack_top, %rsp
        xor     %ebp, %ebp
        /* edi/esi still hold magic and info; zero-extend them */
        mov     %edi, %edi
        mov     %esi, %esi
        call    kmain
7:      cli
        hlt
        jmp     7b

        .section .rodata
no_lm_message:
        .asciz  "swiftvisor: this CPU has no long mode\nswiftvisor: exit status 1\n"
        .align 16
boot_gdt:
        .quad   0
        .quad   0x00AF9A000000FFFF          /* 0x08: 64-bit code, DPL 0 */
        .quad   0x00CF92000000FFFF          /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_descriptor:
        .short  boot_gdt_end - boot_gdt - 1
        .quad   boot_gdt

        .section .bss
        .align 4096
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4 * 4096
        .global boot_stack_bottom
boot_stack_bottom:
        .skip 64 * 1024
        .global boot_stack_top
boot_stack_top:
