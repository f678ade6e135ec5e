/* multiboot: a Multiboot (v1) kernel, as an ELF32 file, to exercise the loader.
 *
 * Linked with its code at virtual 0xC0100000 but loaded at physical 0x100000
 * (Guests/multiboot.ld: a higher-half split), so the loader must translate the
 * ELF entry point to its physical address. It runs where it is loaded, paging
 * off, so all its addresses below are physical (symbol - 0xC0000000).
 * It checks what the Multiboot specification promises at entry: EAX =
 * 0x2BADB002, EBX = the information structure with memory sizes, a memory map,
 * the command line and boot-loader name; CR0.PE = 1, CR0.PG = 0, flat segments.
 * Prints through COM1 (polled) and ends with the shutdown hypercall:
 *   multiboot: magic 2BADB002
 *   multiboot: mem_upper NNNN KiB, mmap entries N
 *   multiboot: cmdline "..."
 *   multiboot: loader "Swiftvisor"
 *   multiboot: all checks passed
 */
#include "guest_abi.inc"
#define PHYS(x) ((x) - 0xC0000000)

        .section .multiboot, "a"
        .align 4
        .long 0x1BADB002
        .long 0x00000003                   /* page-align modules, memory information */
        .long -(0x1BADB002 + 0x00000003)

        .section .text, "ax"
        .code32
        .globl _start
_start:
        mov     $PHYS(stack_top), %esp
        mov     %eax, %esi                 /* keep the magic and the info pointer */
        mov     %ebx, %edi
        xor     %ebp, %ebp                 /* failures */

        mov     $PHYS(msg_magic), %eax
        call    puts
        mov     %esi, %eax
        call    puthex
        call    newline
        cmp     $0x2BADB002, %esi
        je      1f
        inc     %ebp
1:
        mov     %cr0, %eax
        test    $1, %eax                   /* PE */
        jnz     2f
        inc     %ebp
2:      test    $0x80000000, %eax          /* PG must be off */
        jz      3f
        inc     %ebp
3:
        mov     (%edi), %ebx               /* flags */
        test    $1, %ebx                   /* mem_lower/mem_upper */
        jnz     4f
        inc     %ebp
4:      mov     $PHYS(msg_mem), %eax
        call    puts
        mov     8(%edi), %eax              /* mem_upper in KiB */
        call    putdec
        mov     $PHYS(msg_kib), %eax
        call    puts
        /* memory map: flag bit 6, length at 44, address at 48; entries are size+4 bytes */
        xor     %ecx, %ecx
        test    $(1 << 6), %ebx
        jz      6f
        mov     48(%edi), %edx
        mov     44(%edi), %eax
        add     %edx, %eax
5:      cmp     %eax, %edx
        jae     6f
        inc     %ecx
        add     (%edx), %edx
        add     $4, %edx
        jmp     5b
6:      push    %ecx
        mov     %ecx, %eax
        call    putdec
        call    newline
        pop     %ecx
        cmp     $2, %ecx                   /* at least usable low and high memory */
        jae     7f
        inc     %ebp
7:
        test    $(1 << 2), %ebx            /* cmdline */
        jnz     8f
        inc     %ebp
        jmp     9f
8:      mov     $PHYS(msg_cmdline), %eax
        call    puts
        mov     16(%edi), %eax
        call    puts
        mov     $PHYS(msg_quote), %eax
        call    puts
9:
        test    $(1 << 9), %ebx            /* boot_loader_name */
        jz      10f
        mov     $PHYS(msg_loader), %eax
        call    puts
        mov     64(%edi), %eax
        call    puts
        mov     $PHYS(msg_quote), %eax
        call    puts
10:
        test    %ebp, %ebp
        jnz     11f
        mov     $PHYS(msg_ok), %eax
        call    puts
11:     mov     $HC_SHUTDOWN, %eax
        mov     %ebp, %ebx
        vmcall
        hlt

/* puts: the NUL-terminated string at EAX, through COM1. */
puts:   push    %esi
        mov     %eax, %esi
1:      lodsb
        test    %al, %al
        jz      2f
        call    putc
        jmp     1b
2:      pop     %esi
        ret
putc:   push    %edx
        push    %eax
        mov     $COM1_LSR, %dx
1:      in      %dx, %al
        test    $LSR_THRE, %al
        jz      1b
        pop     %eax
        mov     $COM1_THR, %dx
        out     %al, %dx
        pop     %edx
        ret
newline: mov    $'\n', %al
        jmp     putc
/* puthex: EAX as 8 hex digits. */
puthex: push    %ecx
        push    %ebx
        mov     %eax, %ebx
        mov     $8, %ecx
1:      rol     $4, %ebx
        mov     %ebx, %eax
        and     $0xF, %eax
        cmp     $10, %al
        jb      2f
        add     $('A' - 10 - '0'), %al
2:      add     $'0', %al
        call    putc
        loop    1b
        pop     %ebx
        pop     %ecx
        ret
/* putdec: EAX in decimal. */
putdec: push    %ebx
        push    %ecx
        push    %edx
        mov     $10, %ebx
        xor     %ecx, %ecx
1:      xor     %edx, %edx
        div     %ebx
        push    %edx
        inc     %ecx
        test    %eax, %eax
        jnz     1b
2:      pop     %eax
        add     $'0', %al
        call    putc
        loop    2b
        pop     %edx
        pop     %ecx
        pop     %ebx
        ret

        .section .rodata
msg_magic:   .asciz "multiboot: magic "
msg_mem:     .asciz "multiboot: mem_upper "
msg_kib:     .asciz " KiB, mmap entries "
msg_cmdline: .asciz "multiboot: cmdline \""
msg_loader:  .asciz "multiboot: loader \""
msg_quote:   .asciz "\"\n"
msg_ok:      .asciz "multiboot: all checks passed\n"

        .section .bss
        .align 16
        .skip 4096
stack_top:
