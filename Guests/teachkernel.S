/* teachkernel: what a small teaching OS kernel does on a PC, step by step, each step a
 * named PASS/FAIL line on COM1 (polled 16550 at 0x3F8). The same binary boots directly
 * (QEMU -kernel) and under Swiftvisor; the lines must be the same.
 *
 *  boot   Multiboot v1 ELF32 loaded at 1 MiB; entry through a low physical stub (.boot);
 *         the rest is linked at 0xC0100000 (Guests/teachkernel.ld).
 *  paging The stub builds 4-level tables (identity 0-2 MiB, the kernel at 0xC0000000 with
 *         4 KiB pages and one NX page, the user program at 0x400000 with U/S = 1) and enters
 *         long mode itself: CR4.PAE, CR3, EFER.LME|NXE|SCE by WRMSR, CR0.PG|WP; far jump to
 *         64-bit code, then to the higher half. CR4.SMEP when CPUID.7:EBX[7] says so.
 *  NX     a jump into the NX page raises #PF with I/D = 1 and CR2 = the page, caught by the
 *         #PF handler, which resumes elsewhere; with SMEP, executing a user page faults too.
 *  IRQs   IDT (exceptions, IRQ 0-15 at 0x20-0x2F, INT 0x80 with DPL 3), GDT with a TSS,
 *         the 8259 pair remapped, PIT channel 0 at 100 Hz.
 *  disk   primary master, interrupt-driven PIO: READ SECTORS of LBA 0 (the harness wrote a
 *         marker there) with REP INSW; WRITE SECTORS of 3 sectors (LBA 8-10) with REP OUTSW,
 *         IRQ 14 after each; READ SECTORS of the 3 back, IRQ 14 before each, compared.
 *  keys   four bytes fed into the i8042 with controller command 0xD2, each arriving as IRQ 1.
 *  ring 3 IRETQ to a user program that writes to the console through SYSCALL and INT 0x80,
 *         asks its CPL both ways, hands the kernel a bad pointer (refused), spins through
 *         timer interrupts in ring 3 and exits with SYSCALL. Every kernel entry from ring 3
 *         saves the user's x87 state with FNSAVE, clobbers the x87 registers, and restores
 *         them with FRSTOR on the way back: the user's x87 value must survive.
 *  end    "teachkernel: all N checks passed", then the Swiftvisor shutdown hypercall when
 *         CPUID 0x40000000 says "Swiftvisor", else QEMU's isa-debug-exit (port 0xF4).
 */

#define KERNEL_VMA 0xC0000000
#define PHYS(x) ((x) - KERNEL_VMA)

.equ COM1, 0x3F8
.equ PIC1_CMD, 0x20
.equ PIC1_DATA, 0x21
.equ PIC2_CMD, 0xA0
.equ PIC2_DATA, 0xA1
.equ ATA_DATA, 0x1F0
.equ ATA_COUNT, 0x1F2
.equ ATA_LBA_LO, 0x1F3
.equ ATA_LBA_MID, 0x1F4
.equ ATA_LBA_HI, 0x1F5
.equ ATA_DEVICE, 0x1F6
.equ ATA_STATUS, 0x1F7
.equ ATA_CONTROL, 0x3F6
.equ USER_BASE, 0x400000
.equ USER_LIMIT, 0x600000
.equ USER_STACK_TOP, 0x600000
.equ USER_PHYS, 0x300000
.equ X87_VALUE, 271828
.equ TIMEOUT_TICKS, 200

/* Selectors: SYSCALL loads CS = STAR[47:32], SS = +8; SYSRET (64-bit) CS = STAR[63:48] + 16,
 * SS = STAR[63:48] + 8, both with RPL 3 (SDM Vol. 2B SYSCALL/SYSRET). */
.equ KERNEL_CS, 0x08
.equ KERNEL_DS, 0x10
.equ USER32_CS, 0x18
.equ USER_DS, 0x20
.equ USER_CS, 0x28
.equ TSS_SEL, 0x30

/* ======================================================================== .boot (physical) */
	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002
	.long 0x00000003                /* page-aligned modules, memory information */
	.long -(0x1BADB002 + 0x00000003)

	.section .boot, "ax"
	.code32
	.globl _start
_start:
	cli
	mov $PHYS(boot_stack_top), %esp
	mov %eax, PHYS(mb_magic)
	mov %ebx, PHYS(mb_info)

	/* Page tables (in .bss: zero), physical addresses. */
	/* PML4[0] -> PDPT (U/S so ring 3 can reach 0x400000 through it) */
	mov $PHYS(pdpt), %eax
	or $0x7, %eax
	mov %eax, PHYS(pml4)
	/* PDPT[0] -> PD low (0-1 GiB), PDPT[3] -> PD high (3-4 GiB) */
	mov $PHYS(pd_low), %eax
	or $0x7, %eax
	mov %eax, PHYS(pdpt)
	mov $PHYS(pd_high), %eax
	or $0x3, %eax
	mov %eax, PHYS(pdpt) + 3 * 8
	/* PD low: 0-1 GiB identity in 2 MiB pages, supervisor (the stub runs here; the
	 * Multiboot information lies somewhere in it) */
	mov $PHYS(pd_low), %edi
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, (%edi,%ecx,8)
	inc %ecx
	cmp $512, %ecx
	jb 2b
	/* PD low [2]: 0x400000-0x5FFFFF -> PT user */
	mov $PHYS(pt_user), %eax
	or $0x7, %eax
	mov %eax, PHYS(pd_low) + 2 * 8
	/* PT user [0]: code, read-only, user; [0x1FF] (0x5FF000): stack, user, NX */
	movl $(USER_PHYS | 0x5), PHYS(pt_user)
	mov $PHYS(user_stack_page), %eax
	or $0x7, %eax
	mov %eax, PHYS(pt_user) + 0x1FF * 8
	movl $0x80000000, PHYS(pt_user) + 0x1FF * 8 + 4
	/* PD high [0] -> PT kernel: 0xC0000000 + n*4K -> n*4K, n < 512 */
	mov $PHYS(pt_kernel), %eax
	or $0x3, %eax
	mov %eax, PHYS(pd_high)
	mov $PHYS(pt_kernel), %edi
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $12, %eax
	or $0x3, %eax
	mov %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	inc %ecx
	cmp $512, %ecx
	jb 1b
	/* ... except the NX test page: execute-disable (bit 63) */
	mov $PHYS(nx_page), %ecx
	shr $12, %ecx
	movl $0x80000000, 4(%edi,%ecx,8)

	/* The textbook sequence: CR4.PAE, CR3, EFER.LME (+NXE, SCE), CR0.PG. */
	mov %cr4, %eax
	or $0x20, %eax                  /* PAE */
	mov %eax, %cr4
	mov $PHYS(pml4), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx           /* IA32_EFER */
	rdmsr
	or $(0x100 | 0x800 | 0x1), %eax /* LME, NXE, SCE */
	wrmsr
	mov %cr0, %eax
	and $~(0x4 | 0x8), %eax         /* EM, TS off: x87 usable */
	or $(0x80000000 | 0x10000 | 0x20 | 0x2 | 0x1), %eax   /* PG, WP, NE, MP, PE */
	mov %eax, %cr0
	lgdt boot_gdtr
	ljmp $KERNEL_CS, $boot64

	.code64
boot64:
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	movl $kernel_main, %eax         /* zero-extended: 0x00000000C01xxxxx */
	jmp *%rax

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08 64-bit code */
	.quad 0x00CF92000000FFFF        /* 0x10 data */
boot_gdt_end:
	.word 0
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

/* ======================================================================== kernel (higher half) */
	.text
	.code64

/* CHECK cc, "name": a PASS/FAIL line for condition code cc (after cmp/test). */
.macro CHECK cc:req, name:req
	.pushsection .rodata
.Lck\@: .asciz "\name"
	.popsection
	set\cc %al
	lea .Lck\@(%rip), %rsi
	call check_report
.endm

.macro PUTS str:req
	.pushsection .rodata
.Lps\@: .asciz "\str"
	.popsection
	push %rsi
	lea .Lps\@(%rip), %rsi
	call puts
	pop %rsi
.endm

kernel_main:
	lea kernel_stack_top(%rip), %rsp
	call com1_init
	fninit
	PUTS "teachkernel: long mode, kernel at "
	lea kernel_main(%rip), %rax
	call put_hex
	PUTS "\n"

	/* ---- boot ---- */
	cmpl $0x2BADB002, mb_magic(%rip)
	CHECK e, "multiboot: EAX = 0x2BADB002 at the physical entry, ELF32 loaded at 1 MiB"
	mov mb_info(%rip), %eax         /* physical, identity-mapped below 2 MiB */
	mov (%rax), %eax
	and $0x41, %eax                 /* memory sizes and memory map present */
	cmp $0x41, %eax
	CHECK e, "multiboot: information structure with memory sizes and memory map"

	/* ---- paging ---- */
	mov $0xC0000080, %ecx
	rdmsr
	and $(0x400 | 0x800 | 0x1), %eax  /* LMA, NXE, SCE */
	cmp $(0x400 | 0x800 | 0x1), %eax
	CHECK e, "long mode entered by the kernel itself: EFER.LMA, NXE and SCE set"
	lea kernel_main(%rip), %rax
	mov $0xC0000000, %ecx
	cmp %rcx, %rax
	CHECK ae, "running at the higher-half virtual address 0xC01xxxxx"
	mov %cr0, %rax
	mov %cr4, %rcx
	and $0x80010001, %eax            /* PG, WP, PE */
	and $0x20, %ecx                  /* PAE */
	or %rcx, %rax
	cmp $0x80010021, %eax
	CHECK e, "CR0.PG, CR0.WP, CR0.PE and CR4.PAE read back set"

	/* SMEP if the CPU has it (CPUID.(7,0):EBX bit 7). */
	xor %ecx, %ecx
	mov $7, %eax
	cpuid
	and $0x80, %ebx
	mov %ebx, smep(%rip)
	jz 1f
	mov %cr4, %rax
	or $(1 << 20), %rax
	mov %rax, %cr4
1:
	call gdt_idt_install

	/* NX: jump into the NX page; #PF (I/D set) resumes at 2f. */
	lea 2f(%rip), %rax
	mov %rax, pf_resume(%rip)
	movq $-1, pf_error(%rip)
	lea nx_page(%rip), %rax
	jmp *%rax
2:	mov pf_error(%rip), %rax
	and $0x11, %eax                 /* P (protection violation) and I/D (instruction fetch) */
	cmp $0x11, %eax
	jne 3f
	lea nx_page(%rip), %rax
	cmp pf_cr2(%rip), %rax
3:	CHECK e, "NX: executing a no-execute page raises #PF (P, I/D; CR2 = the page), handled"

	cmpl $0, smep(%rip)
	je 5f
	lea 4f(%rip), %rax
	mov %rax, pf_resume(%rip)
	movq $-1, pf_error(%rip)
	mov $USER_BASE, %eax
	jmp *%rax
4:	mov pf_error(%rip), %rax
	and $0x15, %eax                 /* P, U/S = 0 (supervisor), I/D */
	cmp $0x11, %eax
	CHECK e, "SMEP: the kernel executing a user page raises #PF, handled"
	jmp 6f
5:	PUTS "teachkernel: SMEP not offered by this CPU\n"
6:
	/* ---- PIC, PIT ---- */
	call pic_remap
	mov $PIC1_DATA, %dx
	in %dx, %al
	cmp $0xFA, %al
	CHECK e, "8259A pair remapped to vectors 0x20/0x28 (IMR reads back)"
	mov $0x34, %al                  /* PIT channel 0, lo/hi, mode 2 */
	out %al, $0x43
	mov $(11932 & 0xFF), %al        /* 1193182 / 11932 = 100 Hz */
	out %al, $0x40
	mov $(11932 >> 8), %al
	out %al, $0x40
	sti
	xor %ebx, %ebx                  /* HLT wake-ups */
7:	hlt
	inc %ebx
	cmpq $10, ticks(%rip)
	jb 7b
	cli
	cmp $10, %rbx
	CHECK e, "PIT at 100 Hz: 10 IRQ0s woke 10 HLTs"

	/* ---- disk ---- */
	call disk_tests

	/* ---- keyboard ---- */
	call keyboard_tests

	/* ---- ring 3 ---- */
	call user_tests

	/* ---- done ---- */
	jmp finish

/* ------------------------------------------------------------------ checks, console */

/* AL = 1: pass. RSI = name. Prints "PASS n name" / "FAIL n name". Preserves GPRs but RAX, RSI. */
check_report:
	incq checks(%rip)
	test %al, %al
	jnz 1f
	incq failures(%rip)
	PUTS "FAIL "
	jmp 2f
1:	PUTS "PASS "
2:	mov checks(%rip), %rax
	call put_dec
	mov $' ', %al
	call putc
	call puts
	mov $'\n', %al
	call putc
	ret

com1_init:
	push %rax
	push %rdx
	mov $(COM1 + 1), %dx            /* IER: no interrupts */
	xor %eax, %eax
	out %al, %dx
	mov $(COM1 + 3), %dx            /* LCR: DLAB */
	mov $0x80, %al
	out %al, %dx
	mov $COM1, %dx                  /* divisor 1: 115200 */
	mov $1, %al
	out %al, %dx
	mov $(COM1 + 1), %dx
	xor %eax, %eax
	out %al, %dx
	mov $(COM1 + 3), %dx            /* 8N1 */
	mov $0x03, %al
	out %al, %dx
	mov $(COM1 + 4), %dx            /* MCR: DTR, RTS */
	mov $0x03, %al
	out %al, %dx
	pop %rdx
	pop %rax
	ret

/* AL to COM1, polled. Preserves GPRs. */
putc:
	push %rax
	push %rdx
	mov %al, %ah
	mov $(COM1 + 5), %dx
1:	in %dx, %al
	test $0x20, %al
	jz 1b
	mov $COM1, %dx
	mov %ah, %al
	out %al, %dx
	pop %rdx
	pop %rax
	ret

/* NUL-terminated string at RSI. Preserves GPRs. */
puts:
	push %rax
	push %rsi
1:	lodsb
	test %al, %al
	jz 2f
	call putc
	jmp 1b
2:	pop %rsi
	pop %rax
	ret

/* RAX in decimal. Preserves GPRs. */
put_dec:
	push %rax
	push %rcx
	push %rdx
	push %rdi
	lea numbuf+24(%rip), %rdi
	movb $0, (%rdi)
	mov $10, %ecx
1:	xor %edx, %edx
	div %rcx
	add $'0', %dl
	dec %rdi
	mov %dl, (%rdi)
	test %rax, %rax
	jnz 1b
	push %rsi
	mov %rdi, %rsi
	call puts
	pop %rsi
	pop %rdi
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* RAX as 0x + hex digits. Preserves GPRs. */
put_hex:
	push %rax
	push %rcx
	push %rdx
	push %rdi
	lea numbuf+24(%rip), %rdi
	movb $0, (%rdi)
1:	mov %eax, %edx
	and $0xF, %edx
	cmp $10, %dl
	jb 2f
	add $('a' - '0' - 10), %dl
2:	add $'0', %dl
	dec %rdi
	mov %dl, (%rdi)
	shr $4, %rax
	jnz 1b
	dec %rdi
	movb $'x', (%rdi)
	dec %rdi
	movb $'0', (%rdi)
	push %rsi
	mov %rdi, %rsi
	call puts
	pop %rsi
	pop %rdi
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* ------------------------------------------------------------------ GDT, TSS, IDT */
gdt_idt_install:
	/* TSS descriptor (64-bit, 16 bytes) at gdt + TSS_SEL. */
	lea tss(%rip), %rax
	lea gdt + TSS_SEL(%rip), %rdi
	movw $(tss_end - tss - 1), (%rdi)
	mov %ax, 2(%rdi)
	mov %rax, %rcx
	shr $16, %rcx
	mov %cl, 4(%rdi)
	movb $0x89, 5(%rdi)             /* present, DPL 0, available 64-bit TSS */
	movb $0, 6(%rdi)
	shr $24, %rcx
	mov %cl, 7(%rdi)
	shr $32, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	lea ring0_stack_top(%rip), %rax /* RSP0: interrupts and INT 0x80 from ring 3 */
	mov %rax, tss + 4(%rip)
	movw $(tss_end - tss), tss + 102(%rip)   /* I/O map base beyond the limit: no bitmap */
	lea gdt(%rip), %rax
	mov %rax, gdtr + 2(%rip)
	lgdt gdtr(%rip)
	mov $TSS_SEL, %ax
	ltr %ax
	/* reload CS through a far return, and the data segments */
	lea 1f(%rip), %rax
	pushq $KERNEL_CS
	push %rax
	lretq
1:	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss

	/* IDT: vectors 0-31 exceptions, 0x20-0x2F IRQs, 0x80 system call (DPL 3). */
	xor %ecx, %ecx
2:	lea exc_stubs(%rip), %rax
	imul $16, %rcx, %rdx            /* stubs are 16 bytes apart */
	add %rdx, %rax
	mov $0x8E, %edx
	call set_gate
	inc %ecx
	cmp $32, %ecx
	jb 2b
	mov $0x20, %ecx
3:	lea irq_stubs(%rip), %rax
	lea -0x20(%rcx), %rdx
	imul $16, %rdx, %rdx
	add %rdx, %rax
	mov $0x8E, %edx
	call set_gate
	inc %ecx
	cmp $0x30, %ecx
	jb 3b
	mov $0x80, %ecx
	lea int80_entry(%rip), %rax
	mov $0xEE, %edx                 /* DPL 3: INT 0x80 allowed from ring 3 */
	call set_gate
	lea idt(%rip), %rax
	mov %rax, idtr + 2(%rip)
	lidt idtr(%rip)
	ret

/* Gate ECX -> handler RAX, type/attributes DL. Preserves RCX. */
set_gate:
	push %rdi
	lea idt(%rip), %rdi
	push %rcx
	shl $4, %rcx
	add %rcx, %rdi
	pop %rcx
	mov %ax, (%rdi)
	movw $KERNEL_CS, 2(%rdi)
	movb $0, 4(%rdi)
	mov %dl, 5(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	pop %rdi
	ret

pic_remap:
	mov $0xFF, %al
	out %al, $PIC1_DATA
	out %al, $PIC2_DATA
	mov $0x11, %al
	out %al, $PIC1_CMD
	out %al, $PIC2_CMD
	mov $0x20, %al
	out %al, $PIC1_DATA
	mov $0x28, %al
	out %al, $PIC2_DATA
	mov $0x04, %al
	out %al, $PIC1_DATA
	mov $0x02, %al
	out %al, $PIC2_DATA
	mov $0x01, %al
	out %al, $PIC1_DATA
	out %al, $PIC2_DATA
	mov $0xFA, %al                  /* IRQ0, IRQ2 (cascade) */
	out %al, $PIC1_DATA
	mov $0xFF, %al
	out %al, $PIC2_DATA
	ret

/* ------------------------------------------------------------------ interrupt entry */
.macro SAVE_REGS
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
.endm
.macro RESTORE_REGS
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
.endm
/* Frame after SAVE_REGS: 15 GPRs (RAX at 14*8), vector 120, error 128, RIP 136, CS 144,
 * RFLAGS 152, RSP 160, SS 168. */
.equ F_RAX, 112
.equ F_VEC, 120
.equ F_ERR, 128
.equ F_RIP, 136
.equ F_CS, 144

/* x87 switch on entry from ring 3: save the user's state (FNSAVE also reinitialises the
 * FPU), then the kernel uses the x87 itself. */
.macro FPU_ENTER_FROM_USER
	testb $3, F_CS(%rsp)
	jz .Lfe\@
	fnsave user_fpu(%rip)
	incq fpu_switches(%rip)
	fld1                            /* the kernel's own x87 use: clobbers ST0 */
	fldpi
.Lfe\@:
.endm
.macro FPU_LEAVE_TO_USER
	testb $3, F_CS(%rsp)
	jz .Lfl\@
	frstor user_fpu(%rip)
.Lfl\@:
.endm

	.balign 16
exc_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
.if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
.else
	pushq $0
.endif
	pushq $\v
	jmp exc_common
.endr

	.balign 16
irq_stubs:
.irp v, 0x20,0x21,0x22,0x23,0x24,0x25,0x26,0x27,0x28,0x29,0x2A,0x2B,0x2C,0x2D,0x2E,0x2F
	.balign 16
	pushq $0
	pushq $\v
	jmp irq_common
.endr

exc_common:
	SAVE_REGS
	cmpq $14, F_VEC(%rsp)
	jne 1f
	cmpq $0, pf_resume(%rip)
	je 1f
	/* an expected #PF: record it and resume where the test said */
	mov F_ERR(%rsp), %rax
	mov %rax, pf_error(%rip)
	mov %cr2, %rax
	mov %rax, pf_cr2(%rip)
	mov pf_resume(%rip), %rax
	mov %rax, F_RIP(%rsp)
	movq $0, pf_resume(%rip)
	RESTORE_REGS
	add $16, %rsp
	iretq
1:	PUTS "teachkernel: unexpected exception "
	mov F_VEC(%rsp), %rax
	call put_dec
	PUTS " error "
	mov F_ERR(%rsp), %rax
	call put_hex
	PUTS " at RIP "
	mov F_RIP(%rsp), %rax
	call put_hex
	PUTS " CS "
	mov F_CS(%rsp), %rax
	call put_hex
	PUTS " CR2 "
	mov %cr2, %rax
	call put_hex
	PUTS "\n"
	xor %eax, %eax
	CHECK ne, "no unexpected exception"
	lea kernel_stack_top(%rip), %rsp
	jmp finish

irq_common:
	SAVE_REGS
	FPU_ENTER_FROM_USER
	mov F_VEC(%rsp), %rax
	cmp $0x20, %eax
	jne 1f
	incq ticks(%rip)
	testb $3, F_CS(%rsp)
	jz 9f
	incq user_ticks(%rip)
	jmp 9f
1:	cmp $0x21, %eax
	jne 2f
	in $0x60, %al
	mov irq1_count(%rip), %rcx
	cmp $16, %rcx
	jae 11f
	lea kbd_bytes(%rip), %rdx
	mov %al, (%rdx,%rcx)
11:	incq irq1_count(%rip)
	jmp 9f
2:	cmp $0x2E, %eax
	jne 3f
	mov $ATA_STATUS, %dx            /* Status: acknowledges the drive's interrupt */
	in %dx, %al
	movzbl %al, %eax
	mov %rax, irq14_status(%rip)
	incq irq14_count(%rip)
	movq $1, irq14_flag(%rip)
	jmp 8f
3:	incq other_irqs(%rip)
	cmp $0x28, %eax
	jb 9f
8:	mov $0x20, %al                  /* EOI to the slave for IRQ 8-15 */
	out %al, $PIC2_CMD
9:	mov $0x20, %al
	out %al, $PIC1_CMD
	FPU_LEAVE_TO_USER
	RESTORE_REGS
	add $16, %rsp
	iretq

/* INT 0x80 (DPL 3): system call, number in RAX, arguments RDI, RSI; result in RAX. */
int80_entry:
	pushq $0
	pushq $0x80
	SAVE_REGS
	FPU_ENTER_FROM_USER
	incq int80_count(%rip)
	mov F_CS(%rsp), %rdx
	and $3, %edx                    /* the caller's CPL */
	mov F_RAX(%rsp), %rax           /* RDI and RSI are still the caller's */
	call do_syscall
	mov %rax, F_RAX(%rsp)
	FPU_LEAVE_TO_USER
	RESTORE_REGS
	add $16, %rsp
	iretq

/* SYSCALL: RCX = user RIP, R11 = user RFLAGS, IF cleared by IA32_FMASK; still on the user stack. */
syscall_entry:
	mov %rsp, user_rsp(%rip)
	lea syscall_stack_top(%rip), %rsp
	push %rcx
	push %r11
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	fnsave user_fpu(%rip)
	incq fpu_switches(%rip)
	fld1
	fldpi
	incq syscall_count(%rip)
	mov $3, %edx                    /* SYSCALL is used from ring 3 only here */
	call do_syscall
	frstor user_fpu(%rip)
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r11
	pop %rcx
	mov user_rsp(%rip), %rsp
	sysretq

/* RAX = number, RDI, RSI = arguments, RDX = caller's CPL. Returns RAX. May clobber
 * RCX, RDX, RSI, RDI, R8-R11. Every user pointer is checked against the user's window. */
do_syscall:
	cmp $1, %rax
	je sys_write
	cmp $2, %rax
	je sys_ticks
	cmp $3, %rax
	je sys_cpl
	cmp $60, %rax
	je sys_exit
	mov $-38, %rax                  /* ENOSYS */
	ret
sys_write:                              /* write(buffer, length) to the console */
	cmp $USER_BASE, %rdi
	jb 2f
	cmp $256, %rsi
	ja 2f
	lea (%rdi,%rsi), %rax
	cmp $USER_LIMIT, %rax
	ja 2f
	mov %rsi, %rcx
	push %rcx
	jrcxz 1f
3:	movzbl (%rdi), %eax
	call putc
	inc %rdi
	dec %rcx
	jnz 3b
1:	pop %rax
	incq write_calls(%rip)
	ret
2:	mov $-14, %rax                  /* EFAULT */
	ret
sys_ticks:
	mov ticks(%rip), %rax
	ret
sys_cpl:
	mov %rdx, %rax
	ret
sys_exit:                               /* exit(x87 value, CPL via SYSCALL, CPL via INT 0x80, EFAULT seen) */
	mov %rdi, user_x87(%rip)
	mov %rsi, user_cpl_syscall(%rip)
	mov %r10, user_cpl_int80(%rip)
	mov %r8, user_efault(%rip)
	fninit
	mov kernel_rsp_saved(%rip), %rsp
	ret                             /* returns from enter_user */

/* ------------------------------------------------------------------ disk */
/* With interrupts off: sleep until IRQ 14 (or TIMEOUT_TICKS). EAX = status, 0x100 = timeout. */
wait_irq14:
	push %r8
	mov ticks(%rip), %r8
1:	cli
	cmpq $0, irq14_flag(%rip)
	jne 2f
	mov ticks(%rip), %rax
	sub %r8, %rax
	cmp $TIMEOUT_TICKS, %rax
	ja 3f
	sti
	hlt
	jmp 1b
2:	movq $0, irq14_flag(%rip)
	mov irq14_status(%rip), %rax
	pop %r8
	ret
3:	PUTS "teachkernel: ATA request timed out waiting for IRQ 14\n"
	mov $0x100, %eax
	pop %r8
	ret

/* Master, LBA EAX, count CL, command AL (in the high byte of AX after the call: see below). */
ata_setup:
	push %rdx
	push %rax
	mov $ATA_DEVICE, %dx
	mov $0xE0, %al                  /* LBA, master (LBA < 2^24 here) */
	out %al, %dx
	mov $ATA_COUNT, %dx
	mov %cl, %al
	out %al, %dx
	pop %rax
	push %rax
	mov $ATA_LBA_LO, %dx
	out %al, %dx
	shr $8, %eax
	mov $ATA_LBA_MID, %dx
	out %al, %dx
	shr $8, %eax
	mov $ATA_LBA_HI, %dx
	out %al, %dx
	pop %rax
	pop %rdx
	ret

ata_command:                            /* AL = command */
	push %rdx
	mov $ATA_STATUS, %dx
	out %al, %dx
	pop %rdx
	ret

disk_tests:
	push %rbx
	push %r12
	push %r13
	mov $ATA_CONTROL, %dx           /* nIEN = 0 */
	xor %eax, %eax
	out %al, %dx
	in $PIC2_DATA, %al              /* unmask IRQ 14 */
	and $~0x40, %al
	out %al, $PIC2_DATA

	/* LBA 0: the harness's marker. */
	movq $0, irq14_flag(%rip)
	mov irq14_count(%rip), %r12
	xor %eax, %eax
	mov $1, %cl
	call ata_setup
	mov $0x20, %al
	call ata_command
	call wait_irq14
	mov %eax, %ebx
	lea sector_buf(%rip), %rdi
	mov $ATA_DATA, %dx
	mov $256, %ecx
	rep insw
	lea sector_buf(%rip), %rsi
	lea disk_marker(%rip), %rdi
	mov $(disk_marker_end - disk_marker), %ecx
	repe cmpsb
	jne 1f
	cmp $0x58, %ebx
1:	CHECK e, "ATA read, interrupt-driven (IRQ 14, status 0x58), REP INSW: LBA 0 holds the harness's marker"

	/* WRITE SECTORS of 3 (LBA 8-10): REP OUTSW per sector, IRQ 14 after each. */
	lea write_buf(%rip), %rdi
	xor %ecx, %ecx
2:	mov %ecx, %eax
	imul $0x9E37, %eax, %eax
	xor $0x1234, %eax
	mov %ax, (%rdi,%rcx,2)
	inc %ecx
	cmp $(3 * 256), %ecx
	jb 2b
	mov irq14_count(%rip), %r12
	xor %r13d, %r13d                /* failures */
	movq $0, irq14_flag(%rip)
	mov $8, %eax
	mov $3, %cl
	call ata_setup
	mov $0x30, %al
	call ata_command
	mov $ATA_CONTROL, %dx           /* Alternate Status until DRQ (no acknowledge) */
	mov $1000000, %ecx
3:	in %dx, %al
	test $0x80, %al
	jnz 4f
	test $0x08, %al
	jnz 5f
4:	dec %ecx
	jnz 3b
	inc %r13d
5:	lea write_buf(%rip), %rsi
	xor %ebx, %ebx                  /* sector */
6:	mov $ATA_DATA, %dx
	mov $256, %ecx
	rep outsw
	call wait_irq14
	cmp $2, %ebx
	je 7f
	cmp $0x58, %eax                 /* more to write: DRQ again */
	je 8f
	inc %r13d
	jmp 8f
7:	cmp $0x50, %eax                 /* the last: done */
	je 8f
	inc %r13d
8:	inc %ebx
	cmp $3, %ebx
	jb 6b
	mov irq14_count(%rip), %rax
	sub %r12, %rax
	cmp $3, %rax
	je 9f
	inc %r13d
9:	test %r13d, %r13d
	CHECK z, "ATA write, interrupt-driven, REP OUTSW: 3 sectors, IRQ 14 after each (0x58, 0x58, 0x50)"

	/* READ SECTORS of 3 back: IRQ 14 before each, REP INSW. */
	mov irq14_count(%rip), %r12
	xor %r13d, %r13d
	movq $0, irq14_flag(%rip)
	mov $8, %eax
	mov $3, %cl
	call ata_setup
	mov $0x20, %al
	call ata_command
	lea read_buf(%rip), %rdi
	xor %ebx, %ebx
10:	call wait_irq14
	cmp $0x58, %eax
	je 11f
	inc %r13d
11:	mov $ATA_DATA, %dx
	mov $256, %ecx
	rep insw
	inc %ebx
	cmp $3, %ebx
	jb 10b
	lea read_buf(%rip), %rsi
	lea write_buf(%rip), %rdi
	mov $(3 * 512), %ecx
	repe cmpsb
	je 12f
	inc %r13d
12:	mov irq14_count(%rip), %rax
	sub %r12, %rax
	cmp $3, %rax
	je 13f
	inc %r13d
13:	test %r13d, %r13d
	CHECK z, "ATA read back, interrupt-driven, REP INSW: IRQ 14 before each of 3 sectors, data equal"

	/* A request made the way some teaching kernels make it: interrupts off, the data out,
	 * Status (not Alternate Status: each read acknowledges the drive) polled until not BSY,
	 * FLUSH CACHE, Status polled again, then interrupts on and sleep: IRQ 14 must come. */
	cli
	movq $0, irq14_flag(%rip)
	mov irq14_count(%rip), %r12
	mov $20, %eax
	mov $1, %cl
	call ata_setup
	mov $0x30, %al
	call ata_command
	mov $ATA_CONTROL, %dx
14:	in %dx, %al
	test $0x80, %al
	jnz 14b
	lea write_buf(%rip), %rsi
	mov $ATA_DATA, %dx
	mov $256, %ecx
	rep outsw
	mov $ATA_STATUS, %dx
15:	in %dx, %al
	test $0x80, %al
	jnz 15b
	mov $0xE7, %al                  /* FLUSH CACHE */
	call ata_command
	mov $ATA_STATUS, %dx
16:	in %dx, %al
	test $0x80, %al
	jnz 16b
	call wait_irq14
	cmp $0x50, %eax
	jne 17f
	mov irq14_count(%rip), %rax
	sub %r12, %rax
	cmp $1, %rax
17:	CHECK e, "ATA write+flush polled through Status with interrupts off: IRQ 14 still comes once they are on"
	pop %r13
	pop %r12
	pop %rbx
	ret

/* ------------------------------------------------------------------ keyboard */
kbd_wait_input_empty:
	push %rcx
	mov $1000000, %ecx
1:	in $0x64, %al
	test $0x02, %al
	jz 2f
	dec %ecx
	jnz 1b
2:	pop %rcx
	ret

keyboard_tests:
	push %rbx
	push %r12
	cli
	/* drain, then the command byte with IRQ 1 enabled (read 0x20, write 0x60) */
	mov $16, %ecx
1:	in $0x64, %al
	test $0x01, %al
	jz 2f
	in $0x60, %al
	dec %ecx
	jnz 1b
2:	call kbd_wait_input_empty
	mov $0x20, %al
	out %al, $0x64
	mov $1000000, %ecx
3:	in $0x64, %al
	test $0x01, %al
	jnz 4f
	dec %ecx
	jnz 3b
4:	in $0x60, %al
	or $0x01, %al                   /* keyboard interrupt enable */
	and $~0x10, %al                 /* keyboard clock enabled */
	mov %al, %bl
	call kbd_wait_input_empty
	mov $0x60, %al
	out %al, $0x64
	call kbd_wait_input_empty
	mov %bl, %al
	out %al, $0x60
	in $PIC1_DATA, %al              /* unmask IRQ 1 */
	and $~0x02, %al
	out %al, $PIC1_DATA
	/* an IRQ 1 latched while it was masked (the command byte read) is taken now */
	mov ticks(%rip), %r8
	add $2, %r8
9:	sti
	hlt
	cli
	cmp ticks(%rip), %r8
	ja 9b
	movq $0, irq1_count(%rip)

	/* four bytes, one at a time: 0xD2 then the byte; sleep until IRQ 1 took it */
	xor %r12d, %r12d
5:	lea kbd_feed(%rip), %rax
	movzbl (%rax,%r12), %ebx
	call kbd_wait_input_empty
	mov $0xD2, %al
	out %al, $0x64
	call kbd_wait_input_empty
	mov %bl, %al
	out %al, $0x60
	mov ticks(%rip), %r8
6:	cli
	lea 1(%r12), %rax
	cmp irq1_count(%rip), %rax
	jbe 7f
	mov ticks(%rip), %rax
	sub %r8, %rax
	cmp $TIMEOUT_TICKS, %rax
	ja 7f
	sti
	hlt
	jmp 6b
7:	inc %r12d
	cmp $4, %r12d
	jb 5b
	cli
	mov irq1_count(%rip), %rax
	cmp $4, %rax
	jne 8f
	mov kbd_bytes(%rip), %eax
	cmp kbd_feed(%rip), %eax
8:	CHECK e, "keyboard: 4 bytes fed by i8042 command 0xD2 arrived, one IRQ 1 each, in order"
	pop %r12
	pop %rbx
	ret

/* ------------------------------------------------------------------ ring 3 */
user_tests:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	/* SYSCALL/SYSRET MSRs */
	mov $0xC0000081, %ecx           /* STAR */
	xor %eax, %eax
	mov $((USER32_CS << 16) | KERNEL_CS), %edx
	wrmsr
	mov $0xC0000082, %ecx           /* LSTAR */
	lea syscall_entry(%rip), %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr
	mov $0xC0000084, %ecx           /* FMASK: IF, DF, TF cleared on SYSCALL */
	mov $0x700, %eax
	xor %edx, %edx
	wrmsr

	movq $0, user_ticks(%rip)
	movq $0, fpu_switches(%rip)
	movq $0, write_calls(%rip)
	fninit
	call enter_user
	/* back from sys_exit */
	cli
	mov user_cpl_syscall(%rip), %rax
	cmp $3, %rax
	jne 1f
	mov user_cpl_int80(%rip), %rax
	cmp $3, %rax
1:	CHECK e, "ring 3 through IRETQ: the user program runs at CPL 3 (seen by SYSCALL and INT 0x80)"
	cmpq $0, syscall_count(%rip)
	je 2f
	cmpq $2, write_calls(%rip)
2:	CHECK e, "SYSCALL/SYSRET and INT 0x80/IRETQ: both console writes from ring 3 arrived"
	cmpq $-14, user_efault(%rip)
	CHECK e, "a user pointer into kernel memory is refused (EFAULT)"
	cmpq $0, user_ticks(%rip)
	CHECK a, "timer interrupts taken while in ring 3 (through the TSS's RSP0)"
	cmpq $X87_VALUE, user_x87(%rip)
	jne 3f
	cmpq $4, fpu_switches(%rip)
3:	CHECK ae, "x87: the user's value survived every kernel entry (FNSAVE/FRSTOR on each switch)"
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

/* IRETQ to the user program; sys_exit returns from here. */
enter_user:
	mov %rsp, kernel_rsp_saved(%rip)
	pushq $(USER_DS | 3)            /* SS */
	pushq $USER_STACK_TOP           /* RSP */
	pushq $0x202                    /* RFLAGS: IF */
	pushq $(USER_CS | 3)            /* CS */
	pushq $USER_BASE                /* RIP */
	iretq

/* ------------------------------------------------------------------ the end */
finish:
	cli
	mov checks(%rip), %rbx
	mov failures(%rip), %r12
	test %r12, %r12
	jnz 1f
	PUTS "teachkernel: all "
	mov %rbx, %rax
	call put_dec
	PUTS " checks passed\n"
	jmp 2f
1:	PUTS "teachkernel: "
	mov %r12, %rax
	call put_dec
	PUTS " of "
	mov %rbx, %rax
	call put_dec
	PUTS " checks failed\n"
2:	xor %r13d, %r13d
	test %r12, %r12
	setnz %r13b                     /* exit status */
	PUTS "teachkernel: exit status "
	mov %r13, %rax
	call put_dec
	PUTS "\n"
	mov $(COM1 + 5), %dx            /* drain the UART (LSR.TEMT) */
3:	in %dx, %al
	test $0x40, %al
	jz 3b
	/* Under Swiftvisor: the shutdown hypercall. CPUID.1:ECX[31] first, then leaf 0x40000000. */
	mov $1, %eax
	cpuid
	bt $31, %ecx
	jnc 4f
	mov $0x40000000, %eax
	cpuid
	cmp $0x66697753, %ebx           /* "Swif" */
	jne 4f
	cmp $0x73697674, %ecx           /* "tvis" */
	jne 4f
	mov %r13, %rbx                  /* shutdown(RBX = code) */
	mov $3, %eax
	vmcall
4:	mov %r13d, %eax                 /* QEMU: isa-debug-exit ends with (code << 1) | 1 */
	out %al, $0xF4
5:	cli
	hlt
	jmp 5b

/* ======================================================================== the user program */
	.section .user, "ax"
	.code64
user_start:
	fninit
	fildl x87_value(%rip)           /* ST0 = 271828: must survive every kernel entry */
	mov $1, %eax                    /* write via SYSCALL */
	lea msg_syscall(%rip), %rdi
	mov $(msg_syscall_end - msg_syscall), %esi
	syscall
	mov $1, %eax                    /* write via INT 0x80 */
	lea msg_int80(%rip), %rdi
	mov $(msg_int80_end - msg_int80), %esi
	int $0x80
	mov $3, %eax                    /* CPL via SYSCALL */
	syscall
	mov %rax, %r12
	mov $3, %eax                    /* CPL via INT 0x80 */
	int $0x80
	mov %rax, %r13
	mov $1, %eax                    /* a kernel pointer: refused */
	mov $0xC0100000, %edi
	mov $16, %esi
	syscall
	mov %rax, %r14
	mov $2, %eax                    /* spin in ring 3 across 5 timer ticks */
	syscall
	lea 5(%rax), %r15
1:	mov $20000, %ecx
2:	dec %ecx
	jnz 2b
	mov $2, %eax
	int $0x80
	cmp %r15, %rax
	jb 1b
	fistpl -8(%rsp)                 /* the x87 value now */
	mov -8(%rsp), %edi
	mov %r12, %rsi
	mov %r13, %r10
	mov %r14, %r8
	mov $60, %eax                   /* exit */
	syscall
3:	jmp 3b
x87_value:	.long X87_VALUE
msg_syscall:	.ascii "user: hello from ring 3 through SYSCALL\n"
msg_syscall_end:
msg_int80:	.ascii "user: hello from ring 3 through INT 0x80\n"
msg_int80_end:

/* ======================================================================== data */
	.section .rodata
disk_marker:	.ascii "TEACHKERNEL DISK SECTOR 0: written by the test harness"
disk_marker_end:
kbd_feed:	.byte 0x1E, 0x9E, 0x30, 0xB0   /* 'a' make/break, 'b' make/break (set 1) */

	.data
	.balign 4096
nx_page:	.fill 4096, 1, 0xC3   /* RET everywhere, and mapped no-execute */
	.balign 16
gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08 kernel code, 64-bit */
	.quad 0x00CF92000000FFFF        /* 0x10 kernel data */
	.quad 0x00CFFA000000FFFF        /* 0x18 user code, 32-bit (SYSRET's base selector) */
	.quad 0x00CFF2000000FFFF        /* 0x20 user data */
	.quad 0x00AFFA000000FFFF        /* 0x28 user code, 64-bit */
	.quad 0, 0                      /* 0x30 TSS, 16 bytes, filled at run time */
gdt_end:
	.balign 8
	.word 0, 0, 0
gdtr:	.word gdt_end - gdt - 1
	.long 0, 0
	.word 0, 0, 0
idtr:	.word 256 * 16 - 1
	.long 0, 0

	.bss
	.balign 4096
pml4:		.space 4096
pdpt:		.space 4096
pd_low:		.space 4096
pd_high:	.space 4096
pt_kernel:	.space 4096
pt_user:	.space 4096
user_stack_page: .space 4096
idt:		.space 256 * 16
		.space 16384
kernel_stack_top:
		.space 8192
ring0_stack_top:
		.space 8192
syscall_stack_top:
		.space 4096
boot_stack_top:
	.balign 16
tss:		.space 104
tss_end:
	.balign 16
user_fpu:	.space 108
	.balign 8
mb_magic:	.quad 0
mb_info:	.quad 0
smep:		.quad 0
checks:		.quad 0
failures:	.quad 0
pf_resume:	.quad 0
pf_error:	.quad 0
pf_cr2:		.quad 0
ticks:		.quad 0
user_ticks:	.quad 0
irq1_count:	.quad 0
irq14_count:	.quad 0
irq14_flag:	.quad 0
irq14_status:	.quad 0
other_irqs:	.quad 0
int80_count:	.quad 0
syscall_count:	.quad 0
write_calls:	.quad 0
fpu_switches:	.quad 0
user_rsp:	.quad 0
kernel_rsp_saved: .quad 0
user_x87:	.quad 0
user_cpl_syscall: .quad 0
user_cpl_int80:	.quad 0
user_efault:	.quad 0
kbd_bytes:	.space 16
numbuf:		.space 32
	.balign 16
sector_buf:	.space 512
write_buf:	.space 3 * 512
read_buf:	.space 3 * 512
