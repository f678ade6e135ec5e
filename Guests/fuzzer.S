/* fuzzer: a guest that throws a seeded random stream of privileged operations at
 * the hypervisor, with its own exception handlers (idt64.inc: a faulting
 * operation is counted and skipped):
 *   CPUID of random leaves and subleaves
 *   RDMSR / WRMSR of random MSRs (known ones, the architectural ranges, any
 *     32-bit number) with random values
 *   IN / OUT of width 1, 2, 4 to the devices' ports and random ports, and
 *     REP INS / OUTS of random counts in either direction
 *   MOV to CR0 / CR3 / CR4 / CR8 / CR2, DR0-DR3 / DR6 / DR7, LMSW, CLTS with
 *     random values (CR0, CR3, CR4 restored after each)
 *   VMCALL with random function numbers and arguments
 *   XSETBV / XGETBV, RDPMC, RDTSCP, INVD, WBINVD, MONITOR / MWAIT, INVLPG,
 *     INVPCID and VMX instructions with random operands
 * Left out, because the guest itself would end (not the hypervisor's business):
 * the shutdown and testResult hypercalls, HLT, the i8042 reset (port 0x64), writes
 * to ACPI's PM1a blocks and reset register (0x600-0x605, 0xCF9: power off, reset),
 * string I/O from guest-physical memory outside its RAM (an EPT violation stops
 * the VM, by design), and output bytes on port 0xE9 / COM1's data port (they
 * would only flood the log).
 * Every 8192 operations it prints a progress line; at the end, counts per kind
 * of operation and per exception vector, then shuts down with 0. The stream is a
 * xorshift64* sequence from SEED, so a run is reproducible (Bochs is deterministic).
 */
#include "guest.inc"
#include "idt64.inc"

.equ OPERATIONS, 30000
.equ SEED, 0x5EEDF00DCAFE1234
.equ KINDS, 10
.equ SCRATCH_MIDDLE, 512        /* string I/O runs from the middle of a 1 KiB buffer */

/* One operation that may fault: run it under TRY and count its vector. */
.macro FUZZ insn:vararg
	TRY \insn
	call count_fault
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	mov %cr0, %rax
	mov %rax, saved_cr0(%rip)
	mov %cr3, %rax
	mov %rax, saved_cr3(%rip)
	/* CR4.OSXSAVE when the CPU has XSAVE, so XSETBV/XGETBV reach the hypervisor. */
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	mov %cr4, %rax
	bt $26, %ecx
	jnc 1f
	or $(1 << 18), %rax
	mov %rax, %cr4
1:	mov %rax, saved_cr4(%rip)
	movabs $SEED, %r15               /* r15: the generator's state */
	PRINT "seed "
	PRINT_HEX %r15
	PRINT ", operations "
	mov $OPERATIONS, %eax
	PRINT_DEC %rax
	PRINT "\n"
	xor %r14d, %r14d                 /* r14: operations done */

next_operation:
	call rand
	xor %edx, %edx
	mov $KINDS, %ecx
	div %rcx                         /* rdx: the kind */
	lea kind_counts(%rip), %rax
	incq (%rax,%rdx,8)
	lea kind_table(%rip), %rax
	call *(%rax,%rdx,8)
	cld
	inc %r14
	test $8191, %r14
	jnz 1f
	PRINT "operations "
	PRINT_DEC %r14
	PRINT ", faults "
	PRINT_DEC faults_total(%rip)
	PRINT "\n"
1:	cmp $OPERATIONS, %r14
	jb next_operation

	/* The summary. */
	PRINT "done: "
	PRINT_DEC %r14
	PRINT " operations, "
	PRINT_DEC faults_total(%rip)
	PRINT " faulted\n"
	PRINT "by kind: cpuid rdmsr wrmsr in out string cr/dr vmcall misc pio-burst:"
	xor %ebx, %ebx
	lea kind_counts(%rip), %rsi
2:	PUTCHAR ' '
	PRINT_DEC (%rsi,%rbx,8)
	inc %ebx
	cmp $KINDS, %ebx
	jb 2b
	PRINT "\n"
	PRINT "by vector:"
	xor %ebx, %ebx
	lea fault_counts(%rip), %rsi
3:	cmpq $0, (%rsi,%rbx,8)
	je 4f
	PRINT " #"
	PRINT_DEC %rbx
	PUTCHAR '='
	PRINT_DEC (%rsi,%rbx,8)
4:	inc %ebx
	cmp $32, %ebx
	jb 3b
	PRINT "\n"
	/* Still itself: its code and CR3 are intact and a hypercall works. */
	mov %cr3, %rax
	xor saved_cr3(%rip), %rax
	TEST 1, %rax, "CR3 is the guest's own after the stream"
	mov $HC_VERSION, %eax
	vmcall
	shr $48, %rax
	cmp $HC_VERSION_SIGNATURE, %rax
	TEST_IF e, 2, "the hypervisor still answers hypercalls"
	FINISH

/* ---------------------------------------------------------------- generator */
	.text
/* RAX = the next xorshift64* number (Vigna 2016); only RAX and R15 change. */
rand:
	mov %r15, %rax
	shr $12, %rax
	xor %rax, %r15
	mov %r15, %rax
	shl $25, %rax
	xor %rax, %r15
	mov %r15, %rax
	shr $27, %rax
	xor %rax, %r15
	movabs $0x2545F4914F6CDD1D, %rax
	imul %r15, %rax
	ret

/* RAX = a value shaped for finding edges: a full random word, a small one, a
 * single bit, or a boundary (0, -1, 2^31-1, 2^31, 2^32-1, 2^32, 2^63, 2^47). */
rand_value:
	push %rcx
	call rand
	mov %eax, %ecx
	shr $8, %ecx
	and $3, %ecx
	call rand
	cmp $1, %ecx
	jb 9f
	je 1f
	cmp $2, %ecx
	je 2f
	and $7, %eax
	lea boundaries(%rip), %rcx
	mov (%rcx,%rax,8), %rax
	jmp 9f
1:	and $0xFF, %eax
	jmp 9f
2:	mov %eax, %ecx
	and $63, %ecx
	mov $1, %eax
	shl %cl, %rax
9:	pop %rcx
	ret

/* ECX = an MSR number: one of the known ones, one in the architectural ranges
 * (0-0x1FFF, 0xC0000000-0xC0001FFF), or any 32-bit number. */
rand_msr:
	push %rax
	call rand
	mov %eax, %ecx
	shr $16, %ecx
	and $3, %ecx
	call rand
	cmp $1, %ecx
	jb 1f
	je 2f
	cmp $2, %ecx
	je 3f
	mov %eax, %ecx                   /* any */
	jmp 9f
1:	xor %edx, %edx                   /* a known one */
	mov $(known_msrs_end - known_msrs) / 4, %ecx
	push %rdx
	div %rcx
	lea known_msrs(%rip), %rax
	mov (%rax,%rdx,4), %ecx
	pop %rdx
	jmp 9f
2:	mov %eax, %ecx                   /* low range */
	and $0x1FFF, %ecx
	jmp 9f
3:	mov %eax, %ecx                   /* high range */
	and $0x1FFF, %ecx
	or $0xC0000000, %ecx
9:	pop %rax
	ret

/* DX = a port: a device's (or its neighbour), or any. */
rand_port:
	push %rax
	push %rcx
	call rand
	bt $20, %eax
	jc 1f
	mov %eax, %edx
	and $0xFFFF, %edx
	jmp 9f
1:	xor %edx, %edx
	mov $(device_ports_end - device_ports) / 2, %ecx
	div %rcx
	lea device_ports(%rip), %rax
	movzwl (%rax,%rdx,2), %edx
9:	pop %rcx
	pop %rax
	ret

/* CF set when port DX must not be written: the i8042 command port (0xFE resets
 * the VM), ACPI's PM1a blocks (S5 powers it off) and reset register 0xCF9, port
 * 0xE9 and COM1's data port (console bytes). */
port_is_kept:
	cmp $0x64, %dx
	je 1f
	cmp $0xCF9, %dx
	je 1f
	cmp $0x600, %dx
	jb 2f
	cmp $0x605, %dx
	jbe 1f
2:	cmp $0xE9, %dx
	je 1f
	cmp $0x3F8, %dx
	je 1f
	clc
	ret
1:	stc
	ret

/* Counts the vector of the last TRY, if it faulted. Preserves all GPRs. */
count_fault:
	push %rax
	push %rcx
	mov fault_vector(%rip), %rax
	cmp $31, %rax
	ja 1f
	lea fault_counts(%rip), %rcx
	incq (%rcx,%rax,8)
	incq faults_total(%rip)
1:	pop %rcx
	pop %rax
	ret

/* ---------------------------------------------------------------- operations */
op_cpuid:
	call rand
	mov %eax, %ecx
	bt $24, %eax
	jc 1f
	/* a leaf near a range's start: 0x0-0x1F, 0x40000000-, 0x80000000-, 0x8FFFFFFF- */
	shr $28, %ecx
	and $3, %ecx
	lea leaf_bases(%rip), %rdx
	mov (%rdx,%rcx,4), %ecx
	and $0x1F, %eax
	add %ecx, %eax
1:	push %rax
	call rand_value
	mov %eax, %ecx
	pop %rax
	FUZZ cpuid
	ret

op_rdmsr:
	call rand_msr
	FUZZ rdmsr
	ret

op_wrmsr:
	call rand_msr
	call rand_value
	mov %rax, %rdx
	call rand_value
	shr $32, %rdx                    /* high half: often 0 */
	bt $7, %r15
	jc 1f
	xor %edx, %edx
1:	FUZZ wrmsr
	ret

op_in:
	call rand_port
	call rand
	and $3, %eax
	cmp $1, %eax
	jb 1f
	je 2f
	FUZZ inl %dx, %eax
	ret
1:	FUZZ inb %dx, %al
	ret
2:	FUZZ inw %dx, %ax
	ret

op_out:
	call rand_port
	call port_is_kept
	jc 9f
	call rand_value
	mov %eax, %ecx
	call rand
	and $3, %eax
	xchg %eax, %ecx
	cmp $1, %ecx
	jb 1f
	je 2f
	FUZZ outl %eax, %dx
	ret
1:	FUZZ outb %al, %dx
	ret
2:	FUZZ outw %ax, %dx
9:	ret

/* REP INS / OUTS through a 1 KiB scratch buffer (INS never writes outside it),
 * either direction; OUTS sometimes from a random address. */
op_string:
	call rand_port
	call rand
	mov %rax, %rbx
	mov %eax, %ecx
	and $63, %ecx                    /* count */
	lea scratch(%rip), %rdi
	add $SCRATCH_MIDDLE, %rdi
	mov %rdi, %rsi
	bt $8, %ebx
	jnc 1f
	std
1:	bt $9, %ebx
	jc 5f
	/* INS */
	bt $10, %ebx
	jc 2f
	FUZZ rep insb %dx, (%rdi)
	ret
2:	bt $11, %ebx
	jc 3f
	FUZZ rep insw %dx, (%rdi)
	ret
3:	FUZZ rep insl %dx, (%rdi)
	ret
5:	/* OUTS */
	call port_is_kept
	jc 9f
	mov %ebx, %eax
	and $0x7000, %eax
	jnz 6f
	push %rcx
	call rand_value                  /* one in eight: a random address, */
	mov %rax, %rsi
	pop %rcx
	/* but below 4 GiB only inside RAM: the identity map covers 4 GiB and the
	 * hypervisor stops a VM that touches guest-physical memory it does not own
	 * (the ept guest's case). Above 4 GiB or non-canonical: the guest's #PF/#GP. */
	mov %rsi, %rax
	shr $32, %rax
	jnz 6f
	and $0x1FFFFF, %esi
6:	bt $10, %ebx
	jc 7f
	FUZZ rep outsb (%rsi), %dx
	ret
7:	bt $11, %ebx
	jc 8f
	FUZZ rep outsw (%rsi), %dx
	ret
8:	FUZZ rep outsl (%rsi), %dx
9:	ret

/* Control and debug registers. CR0/CR3/CR4 get a random bit flipped (or a random
 * value) and then their own value back, so the guest keeps running. */
op_cr:
	call rand
	mov %eax, %ecx
	shr $4, %ecx
	and $63, %ecx                    /* a bit to flip */
	mov %eax, %ebx
	and $15, %ebx
	lea cr_table(%rip), %rdx
	jmp *(%rdx,%rbx,8)
cr0_flip:
	mov saved_cr0(%rip), %rax
	btc %rcx, %rax
	FUZZ mov %rax, %cr0
	jmp restore_cr
cr4_flip:
	mov saved_cr4(%rip), %rax
	btc %rcx, %rax
	FUZZ mov %rax, %cr4
	jmp restore_cr
cr4_random:
	call rand_value
	FUZZ mov %rax, %cr4
	jmp restore_cr
cr3_flags:
	call rand
	and $0x18, %eax                  /* PWT, PCD */
	bt $5, %ecx
	jnc 1f
	shl $52, %rax                    /* or above MAXPHYADDR: #GP */
1:	or saved_cr3(%rip), %rax
	FUZZ mov %rax, %cr3
	jmp restore_cr
cr8_write:
	call rand_value
	FUZZ mov %rax, %cr8
	FUZZ mov %cr8, %rax
	ret
cr2_write:
	call rand_value
	mov %rax, %cr2
	ret
dr_write:
	call rand_value
	and $3, %ecx
	lea dr_writes(%rip), %rdx
	jmp *(%rdx,%rcx,8)
dr0: FUZZ mov %rax, %dr0
	ret
dr1: FUZZ mov %rax, %dr1
	ret
dr2: FUZZ mov %rax, %dr2
	ret
dr3: FUZZ mov %rax, %dr3
	ret
dr6_write:
	call rand_value
	FUZZ mov %rax, %dr6
	FUZZ mov %dr6, %rax
	ret
dr7_write:
	call rand_value
	and $~0x20FF, %rax               /* no breakpoint enabled, no GD (the guest would trap itself) */
	FUZZ mov %rax, %dr7
	FUZZ mov %dr7, %rax
	mov $0x400, %eax
	mov %rax, %dr7
	ret
lmsw_write:
	call rand
	FUZZ lmsw %ax
	jmp restore_cr
clts_op:
	FUZZ clts
	jmp restore_cr
restore_cr:
	mov saved_cr3(%rip), %rax
	TRY mov %rax, %cr3
	mov saved_cr4(%rip), %rax
	TRY mov %rax, %cr4
	mov saved_cr0(%rip), %rax
	TRY mov %rax, %cr0
	ret

/* VMCALL with a random function (never shutdown or testResult) and arguments. */
op_vmcall:
	call rand
	mov %rax, %rdi
	call rand_value
	mov %rax, %rbx
	call rand_value
	mov %rax, %rcx
	call rand_value
	mov %rax, %rdx
	call rand_value
	mov %rax, %rsi
	mov %rdi, %rax
	and $7, %eax
	cmp $HC_TEST_RESULT, %eax
	je 1f
	cmp $HC_SHUTDOWN, %eax
	jne 2f
1:	mov %rdi, %rax                   /* an unknown function instead */
	or $0x100, %rax
	/* consoleWrite and putChar only with arguments they refuse (a bad address, a
	 * length over 4096, a value over 255), or nothing: random RAM on the console
	 * would only bury the log. */
2:	cmp $HC_CONSOLE_WRITE, %eax
	jne 3f
	bt $1, %edi
	jc 4f
	xor %ecx, %ecx                   /* length 0 */
	bt $2, %edi
	jc 5f
	mov $4097, %ecx                  /* too long */
	jmp 5f
4:	bts $47, %rbx                    /* outside RAM */
	jmp 5f
3:	cmp $HC_PUTCHAR, %eax
	jne 5f
	bts $8, %rbx                     /* not a byte */
5:	FUZZ vmcall
	ret

/* Other instructions that exit or fault. */
op_misc:
	call rand
	mov %eax, %ebx
	shr $8, %ebx
	and $15, %ebx
	push %rax
	call rand_value
	mov %rax, %rcx
	call rand_value
	mov %rax, %rdx
	pop %rax
	lea misc_table(%rip), %rdi
	jmp *(%rdi,%rbx,8)
m_xsetbv:
	and $3, %ecx                     /* XCR0 mostly, sometimes a missing XCR */
	bt $2, %eax
	jc 1f
	xor %ecx, %ecx
1:	FUZZ xsetbv
	ret
m_xgetbv:
	FUZZ xgetbv
	ret
m_rdpmc:
	FUZZ rdpmc
	ret
m_rdtscp:
	FUZZ rdtscp
	ret
m_rdtsc:
	FUZZ rdtsc
	ret
m_invd:
	FUZZ invd
	ret
m_wbinvd:
	FUZZ wbinvd
	ret
m_monitor:
	lea scratch(%rip), %rax
	xor %ecx, %ecx
	xor %edx, %edx
	FUZZ monitor
	ret
m_mwait:
	and $1, %ecx                     /* ECX bit 0: interrupts as break events */
	FUZZ mwait
	ret
m_invlpg:
	mov %rcx, %rax
	FUZZ invlpg (%rax)
	ret
m_invpcid:
	and $3, %ecx
	lea scratch(%rip), %rax
	FUZZ invpcid (%rax), %rcx
	ret
m_vmxon:
	lea scratch(%rip), %rax
	FUZZ vmxon (%rax)
	ret
m_vmread:
	FUZZ vmread %rcx, %rdx
	ret
m_vmptrld:
	lea scratch(%rip), %rax
	FUZZ vmptrld (%rax)
	ret
m_invept:
	lea scratch(%rip), %rax
	FUZZ invept (%rax), %rcx
	ret
m_cpuid_after_tsc:                   /* TSC_ADJUST / TSC moved: RDTSC still answers */
	mov $0x10, %ecx
	FUZZ rdmsr
	rdtsc
	ret

/* A burst of the port I/O an OS driver does: the same device port 16 times. */
op_pio_burst:
	call rand_port
	call port_is_kept
	jc 9f
	mov $16, %ebx
1:	call rand_value
	bt $3, %ebx
	jc 2f
	FUZZ outb %al, %dx
	jmp 3f
2:	FUZZ inb %dx, %al
3:	dec %ebx
	jnz 1b
9:	ret

	.section .rodata
	.balign 8
kind_table:
	.quad op_cpuid, op_rdmsr, op_wrmsr, op_in, op_out, op_string, op_cr, op_vmcall, op_misc, op_pio_burst
cr_table:
	.quad cr0_flip, cr0_flip, cr4_flip, cr4_flip, cr4_random, cr3_flags, cr8_write, cr2_write
	.quad dr_write, dr_write, dr6_write, dr7_write, lmsw_write, clts_op, cr8_write, cr0_flip
dr_writes:
	.quad dr0, dr1, dr2, dr3
misc_table:
	.quad m_xsetbv, m_xgetbv, m_rdpmc, m_rdtscp, m_rdtsc, m_invd, m_wbinvd, m_monitor
	.quad m_mwait, m_invlpg, m_invpcid, m_vmxon, m_vmread, m_vmptrld, m_invept, m_cpuid_after_tsc
boundaries:
	.quad 0, -1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 0x8000000000000000, 0x800000000000
leaf_bases:
	.long 0, 0x40000000, 0x80000000, 0x8FFFFFF0
known_msrs:
	.long 0x10, 0x17, 0x1B, 0x2A, 0x34, 0x3A, 0x3B, 0x48, 0x49, 0x79, 0x8B, 0x9B, 0xC1, 0xE7, 0xE8
	.long 0xFE, 0x119, 0x174, 0x175, 0x176, 0x179, 0x17A, 0x186, 0x198, 0x199, 0x1A0, 0x1D9, 0x1F2
	.long 0x200, 0x201, 0x20E, 0x20F, 0x250, 0x258, 0x26F, 0x277, 0x2FF, 0x38F, 0x3F1, 0x400, 0x401
	.long 0x480, 0x48B, 0x491, 0x4C1, 0x600, 0x6E0, 0x800, 0x802, 0x80F, 0x830, 0xD90, 0xDA0
	.long 0x10A, 0x122, 0x140, 0x1A4, 0x570, 0x560, 0x6A0, 0x6A2, 0x6A4, 0x6A8
	.long 0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101
	.long 0xC0000102, 0xC0000103, 0xC0010015, 0xC0010114, 0x40000000, 0x4B564D00
known_msrs_end:
device_ports:
	.word 0x20, 0x21, 0xA0, 0xA1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x60, 0x70, 0x71, 0x3D4, 0x3D5
	.word 0x1F0, 0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x1F7, 0x3F6, 0x3F7
	.word 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x80, 0x92, 0xCF8, 0xCFC, 0x4D0, 0x4D1
	.word 0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0xCF9
device_ports_end:

	.data
	.balign 8
saved_cr0:	.quad 0
saved_cr3:	.quad 0
saved_cr4:	.quad 0
faults_total:	.quad 0
kind_counts:	.fill KINDS, 8, 0
fault_counts:	.fill 32, 8, 0

	.bss
	.balign 64
scratch:	.skip 1024
