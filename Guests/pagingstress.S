/* pagingstress: builds and tears down address spaces, remaps pages, changes their rights, relies on
 * the accessed and dirty flags, INVLPG and CR3 loads, and checks every read from inside the guest
 * (the same output under EPT and under shadow paging).  Long mode, mem=16.
 *
 * Layout (guest-physical): 0x20_0000-0x3F_FFFF page-table pool (a bump allocator, reset to tear
 * every address space down); 0x40_0000-0x7F_FFFF 1024 data frames, frame k tagged TAG|k at offset 0;
 * 0x80_0000 a frame holding RET.  Every address space maps the low 4 GiB like the loader (its PML4[0])
 * and a window at WIN of 4 KiB pages onto data frames. */
#include "guest.inc"
#include "idt64.inc"

/* EXPECT_PF insn: runs insn; a #PF records its error code and CR2 and resumes after it
 * (pf_error = -1 when none came).  Clobbers R11. */
.macro EXPECT_PF insn:vararg
	movq $-1, pf_error(%rip)
	movq $0, pf_cr2(%rip)
	lea .Lpf_resume\@(%rip), %r11
	mov %r11, pf_resume(%rip)
	\insn
.Lpf_resume\@:
	movq $0, pf_resume(%rip)
.endm

#define WIN        0x0000400000000000
#define WIN2       0x0000400040000000      /* a 2 MiB page */
#define GWIN       0x0000400080000000      /* a global page */
#define XWIN       0x00004000000C0000      /* the code frame, page 192 of the window */
#define POOL       0x200000
#define POOL_END   0x400000
#define DATA       0x400000
#define NFRAMES    1024
#define CODEPG     0x800000
#define TAG        0x5A5A000000000000
#define P_RW       0x3
#define ADDR_MASK  0x000FFFFFFFFFF000

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	call install_pf_gate
	PRINT "paging stress: 4-level, 1024 tagged frames\n"
	/* Tag the data frames through the loader's identity map. */
	xor %ecx, %ecx
	movabs $TAG, %rdx
1:	mov %rcx, %rax
	shl $12, %rax
	lea DATA(%rax), %rdi
	mov %rdx, %rax
	or %rcx, %rax
	mov %rax, (%rdi)
	inc %ecx
	cmp $NFRAMES, %ecx
	jb 1b
	movb $0xC3, CODEPG                /* ret */

	/* 1. Build: address space A maps 64 window pages onto frames 0-63. */
	call as_create
	mov %rax, as_list(%rip)
	mov %rax, %rdi
	mov $64, %esi
	xor %edx, %edx
	call map_window
	mov as_list(%rip), %rax
	mov %rax, %cr3
	mov $64, %edi
	xor %esi, %esi
	call check_window
	TEST 1, %rax, "build: 64 window pages read their frames' tags"

	/* 2. Writes through the window land in the frames. */
	xor %r13d, %r13d
	xor %ecx, %ecx
2:	movabs $WIN, %rsi
	mov %rcx, %rax
	shl $12, %rax
	add %rax, %rsi
	lea 0x1234(%rcx), %rdx
	mov %rdx, 8(%rsi)
	cmp %rdx, DATA+8(%rax)
	je 3f
	inc %r13
3:	inc %ecx
	cmp $64, %ecx
	jb 2b
	TEST 2, %r13, "writes through the window land in the frames"

	/* 3. Remap all 64 pages onto frames 64-127, INVLPG each. */
	mov as_list(%rip), %rdi
	mov $64, %esi
	mov $64, %edx
	call map_window
	mov $64, %edi
	call invlpg_window
	mov $64, %edi
	mov $64, %esi
	call check_window
	TEST 3, %rax, "remap 64 pages with INVLPG: the new frames' tags"

	/* 4. A read-only page: a write faults with P|W and CR2 = the address; a read still works. */
	mov as_list(%rip), %rdi
	movabs $WIN, %rsi
	call pte_ptr
	movq $(DATA + 64 * 4096 + 0x1), (%rax)
	invlpg (%rsi)
	EXPECT_PF movq $1, (%rsi)
	xor %r13d, %r13d
	cmpq $0x3, pf_error(%rip)
	setne %r13b
	cmp %rsi, pf_cr2(%rip)
	setne %al
	or %al, %r13b
	movabs $TAG, %rax
	or $64, %rax
	cmp %rax, (%rsi)
	setne %al
	or %al, %r13b
	TEST 4, %r13, "read-only page: write #PF error 0x3, CR2 right, reads work"

	/* 5. CR0.WP = 0: the supervisor writes the read-only page; WP = 1 again: it faults again. */
	mov %cr0, %rax
	btr $16, %rax
	mov %rax, %cr0
	EXPECT_PF movq $0x77, 16(%rsi)
	xor %r13d, %r13d
	cmpq $-1, pf_error(%rip)
	setne %r13b
	cmpq $0x77, DATA + 64 * 4096 + 16
	setne %al
	or %al, %r13b
	mov %cr0, %rax
	bts $16, %rax
	mov %rax, %cr0
	EXPECT_PF movq $0x78, 16(%rsi)
	cmpq $0x3, pf_error(%rip)
	setne %al
	or %al, %r13b
	TEST 5, %r13, "CR0.WP=0 lets the supervisor write a read-only page, WP=1 faults again"

	/* 6. Not present: a read faults with error 0 and CR2. */
	mov as_list(%rip), %rdi
	movabs $WIN + 4096, %rsi
	call pte_ptr
	movq $0, (%rax)
	invlpg (%rsi)
	EXPECT_PF mov 8(%rsi), %rax
	xor %r13d, %r13d
	cmpq $0, pf_error(%rip)
	setne %r13b
	lea 8(%rsi), %rax
	cmp %rax, pf_cr2(%rip)
	setne %al
	or %al, %r13b
	TEST 6, %r13, "not-present page: read #PF error 0x0 with CR2"

	/* 7. Accessed and dirty flags: clear both; a read sets A only, a write sets D. */
	mov as_list(%rip), %rdi
	movabs $WIN + 2 * 4096, %rsi
	call pte_ptr
	mov %rax, %r12
	movq $(DATA + 500 * 4096 + P_RW), (%r12)
	invlpg (%rsi)
	mov (%rsi), %rax
	xor %r13d, %r13d
	movabs $TAG + 500, %rdx
	cmp %rdx, %rax
	setne %r13b
	mov (%r12), %rax
	and $0x60, %eax
	cmp $0x20, %eax
	setne %al
	or %al, %r13b
	movq $5, 24(%rsi)
	mov (%r12), %rax
	and $0x60, %eax
	cmp $0x60, %eax
	setne %al
	or %al, %r13b
	mov as_list(%rip), %rax
	testb $0x20, 128 * 8(%rax)      /* the window's PML4E was used: A set */
	setz %al
	or %al, %r13b
	TEST 7, %r13, "accessed and dirty: a read sets A only, a write sets D, A in the PML4E"

	/* 8. Execute-disable: a fetch from an NX page faults with P|I/D; without XD the call returns. */
	mov as_list(%rip), %rdi
	movabs $XWIN, %rsi
	mov $(CODEPG + P_RW), %edx
	call map_page
	invlpg (%rsi)
	call *%rsi
	call pte_ptr
	movabs $(1 << 63), %rdx
	or %rdx, (%rax)
	invlpg (%rsi)
	EXPECT_PF jmp *%rsi
	xor %r13d, %r13d
	cmpq $0x11, pf_error(%rip)
	setne %r13b
	cmp %rsi, pf_cr2(%rip)
	setne %al
	or %al, %r13b
	TEST 8, %r13, "execute-disable page: fetch #PF error 0x11 with CR2; executable it runs"

	/* 9. Four address spaces with different frames behind the window, 400 CR3 switches. */
	call build_spaces
	call switch_spaces
	TEST 9, %rax, "4 address spaces, 400 CR3 switches, each read its own frame"

	/* 10. Tear every address space down and build them again from the same pool, in another
	 * order: the same CR3 values now mean other mappings. */
	mov $0x1000, %eax
	mov %rax, %cr3
	movq $POOL, pt_next(%rip)
	movq $1, space_shift(%rip)
	call build_spaces
	call switch_spaces
	TEST 10, %rax, "tear down and rebuild 4 spaces in the same frames: the new mappings"

	/* 11. A 2 MiB page; remapped and INVLPG at an address inside it. */
	mov as_list(%rip), %rax
	mov %rax, %cr3
	mov %rax, %rdi
	movabs $WIN2, %rsi
	call pde_ptr
	mov %rax, %r12
	movq $(DATA + 0x83), (%r12)
	xor %ecx, %ecx
	xor %r13d, %r13d
	call check_big
	movq $(DATA + 0x200000 + 0x83), (%r12)
	movabs $WIN2 + 0x5000, %rax
	invlpg (%rax)
	mov $512, %ecx
	call check_big
	TEST 11, %r13, "2 MiB page read, remapped, INVLPG inside it: the new frames"

	/* 12. Global pages (CR4.PGE): INVLPG and a PGE toggle both drop them. */
	mov %cr4, %rax
	bts $7, %rax
	mov %rax, %cr4
	mov as_list(%rip), %rdi
	movabs $GWIN, %rsi
	mov $(DATA + 900 * 4096 + 0x103), %edx
	call map_page
	xor %r13d, %r13d
	mov $900, %eax
	call check_gwin
	call pte_ptr
	movq $(DATA + 901 * 4096 + 0x103), (%rax)
	invlpg (%rsi)
	mov $901, %eax
	call check_gwin
	call pte_ptr
	movq $(DATA + 902 * 4096 + 0x103), (%rax)
	mov %cr4, %rax
	btr $7, %rax
	mov %rax, %cr4
	bts $7, %rax
	mov %rax, %cr4
	mov $902, %eax
	call check_gwin
	TEST 12, %r13, "global page: INVLPG and a CR4.PGE toggle show the new frame"

	/* 13. 4000 random remaps with INVLPG, a write and two checked reads each. */
	call stress
	TEST 13, %rax, "4000 random remaps with INVLPG: every read and write checked"

	mov $0x1000, %eax
	mov %rax, %cr3
	PRINT "paging stress: done\n"
	FINISH

/* --------------------------------------------------------------- #PF recovery */

	.text
install_pf_gate:
	push %rax
	push %rdi
	IDT_GATE 14, pf_handler
	pop %rdi
	pop %rax
	ret

pf_handler:
	push %rax
	mov pf_resume(%rip), %rax
	test %rax, %rax
	jz 1f
	mov %rax, 16(%rsp)              /* saved RIP */
	mov 8(%rsp), %rax
	mov %rax, pf_error(%rip)
	mov %cr2, %rax
	mov %rax, pf_cr2(%rip)
	movq $0, pf_resume(%rip)
	pop %rax
	add $8, %rsp                    /* error code */
	iretq
1:	pop %rax
	jmp idt_stub_14

/* --------------------------------------------------------------- page tables */
/* RAX = a zeroed frame from the pool. */
pt_alloc:
	push %rcx
	push %rdi
	mov pt_next(%rip), %rax
	lea 4096(%rax), %rcx
	mov %rcx, pt_next(%rip)
	cmp $POOL_END, %rcx
	jbe 1f
	PRINT "page-table pool exhausted\n"
	SHUTDOWN 2
1:	mov %rax, %rdi
	push %rax
	xor %eax, %eax
	mov $512, %ecx
	rep stosq
	pop %rax
	pop %rdi
	pop %rcx
	ret

/* RAX = a new PML4 that maps the low 4 GiB like the loader's. */
as_create:
	push %rcx
	call pt_alloc
	mov 0x1000, %rcx
	mov %rcx, (%rax)
	pop %rcx
	ret

/* RAX = the address of the entry for RSI in PML4 RDI at the level whose index starts at bit R8
 * (12 = PTE, 21 = PDE), making tables on the way.  Preserves everything else. */
entry_ptr:
	push %rbx
	push %rcx
	push %rdx
	mov %rdi, %rbx
	mov $39, %ecx
1:	cmp %r8d, %ecx
	je 3f
	mov %rsi, %rdx
	shr %cl, %rdx
	and $0x1FF, %edx
	lea (%rbx, %rdx, 8), %rdx
	mov (%rdx), %rax
	test $1, %al
	jnz 2f
	call pt_alloc
	or $7, %rax
	mov %rax, (%rdx)
2:	movabs $ADDR_MASK, %rbx
	and %rax, %rbx
	sub $9, %ecx
	jmp 1b
3:	mov %rsi, %rdx
	shr %cl, %rdx
	and $0x1FF, %edx
	lea (%rbx, %rdx, 8), %rax
	pop %rdx
	pop %rcx
	pop %rbx
	ret

pte_ptr:
	push %r8
	mov $12, %r8d
	call entry_ptr
	pop %r8
	ret

pde_ptr:
	push %r8
	mov $21, %r8d
	call entry_ptr
	pop %r8
	ret

/* Maps RSI → RDX (address | flags) in PML4 RDI. */
map_page:
	push %rax
	call pte_ptr
	mov %rdx, (%rax)
	pop %rax
	ret

/* Maps window pages 0..RSI-1 of PML4 RDI onto frames RDX.., read/write. */
map_window:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %r9
	mov %rsi, %r9
	xor %ecx, %ecx
1:	movabs $WIN, %rsi
	mov %rcx, %rax
	shl $12, %rax
	add %rax, %rsi
	push %rdx
	add %rcx, %rdx
	shl $12, %rdx
	add $(DATA + P_RW), %rdx
	call map_page
	pop %rdx
	inc %rcx
	cmp %r9, %rcx
	jb 1b
	pop %r9
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* INVLPG window pages 0..RDI-1. */
invlpg_window:
	push %rax
	push %rcx
	movabs $WIN, %rax
	xor %ecx, %ecx
1:	invlpg (%rax)
	add $4096, %rax
	inc %ecx
	cmp %edi, %ecx
	jb 1b
	pop %rcx
	pop %rax
	ret

/* RAX = how many of window pages 0..RDI-1 do not read TAG|(RSI + i). */
check_window:
	push %rcx
	push %rdx
	push %r8
	push %r9
	xor %r9d, %r9d
	movabs $WIN, %r8
	xor %ecx, %ecx
1:	movabs $TAG, %rdx
	add %rsi, %rdx
	add %rcx, %rdx
	cmp %rdx, (%r8)
	je 2f
	inc %r9
2:	add $4096, %r8
	inc %rcx
	cmp %rdi, %rcx
	jb 1b
	mov %r9, %rax
	pop %r9
	pop %r8
	pop %rdx
	pop %rcx
	ret

/* R13 += mismatches of the 2 MiB window's 512 pages against frames RCX... */
check_big:
	push %rax
	push %rcx
	push %rdx
	push %r8
	movabs $WIN2, %r8
	xor %edx, %edx
1:	movabs $TAG, %rax
	add %rcx, %rax
	add %rdx, %rax
	cmp %rax, (%r8)
	je 2f
	inc %r13
2:	add $4096, %r8
	inc %edx
	cmp $512, %edx
	jb 1b
	pop %r8
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* R13 += 1 unless GWIN reads TAG|RAX. */
check_gwin:
	push %rdx
	push %rsi
	movabs $TAG, %rdx
	or %rax, %rdx
	movabs $GWIN, %rsi
	cmp %rdx, (%rsi)
	je 1f
	inc %r13
1:	pop %rsi
	pop %rdx
	ret

/* Four address spaces in as_list[(k + space_shift) % 4]; space k maps window pages 0-15 onto
 * frames 128 + 16 * k + space_shift * 64 + i. */
build_spaces:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	xor %ecx, %ecx
1:	call as_create
	mov %rcx, %rdx
	add space_shift(%rip), %rdx
	and $3, %edx
	lea as_list(%rip), %rsi
	mov %rax, (%rsi, %rdx, 8)
	mov %rax, %rdi
	mov $16, %esi
	call space_first_frame
	call map_window
	inc %ecx
	cmp $4, %ecx
	jb 1b
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	ret

/* RDX = the first frame of space RDX (its index in as_list). */
space_first_frame:
	shl $4, %rdx
	add $128, %rdx
	push %rax
	mov space_shift(%rip), %rax
	shl $6, %rax
	add %rax, %rdx
	pop %rax
	ret

/* RAX = mismatches over 400 switches: CR3 = space (n % 4), read window page (n % 16). */
switch_spaces:
	push %rcx
	push %rdx
	push %rsi
	push %r8
	push %r9
	xor %r9d, %r9d
	xor %ecx, %ecx
1:	mov %rcx, %rdx
	and $3, %edx
	lea as_list(%rip), %rsi
	mov (%rsi, %rdx, 8), %rax
	mov %rax, %cr3
	call space_first_frame
	mov %rcx, %rax
	shr $2, %rax
	and $15, %eax
	add %rax, %rdx
	shl $12, %rax
	movabs $WIN, %r8
	add %rax, %r8
	movabs $TAG, %rax
	or %rdx, %rax
	cmp %rax, (%r8)
	je 2f
	inc %r9
2:	inc %ecx
	cmp $400, %ecx
	jb 1b
	mov %r9, %rax
	pop %r9
	pop %r8
	pop %rsi
	pop %rdx
	pop %rcx
	ret

/* RAX = mismatches over 4000 remaps in space 0: page p = x % 64 onto frame f = x' % 1024,
 * INVLPG, the tag read, a value written through the window and read back by its frame. */
stress:
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	mov as_list(%rip), %rdi
	mov %rdi, %cr3
	xor %r9d, %r9d
	movabs $0x2545F4914F6CDD1D, %r10
	xor %ebx, %ebx
1:	movabs $6364136223846793005, %rax
	imul %rax, %r10
	movabs $1442695040888963407, %rax
	add %rax, %r10
	mov %r10, %rsi
	shr $33, %rsi
	and $63, %esi
	shl $12, %rsi
	movabs $WIN, %rax
	add %rax, %rsi                  /* the page */
	mov %r10, %r8
	shr $44, %r8
	and $(NFRAMES - 1), %r8d        /* the frame */
	mov %r8, %rdx
	shl $12, %rdx
	add $(DATA + P_RW), %rdx
	call map_page
	invlpg (%rsi)
	movabs $TAG, %rax
	or %r8, %rax
	cmp %rax, (%rsi)
	je 2f
	inc %r9
2:	mov %r10, 32(%rsi)
	shl $12, %r8
	cmp %r10, DATA + 32(%r8)
	je 3f
	inc %r9
3:	inc %ebx
	cmp $4000, %ebx
	jb 1b
	mov %r9, %rax
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	ret

	.data
	.balign 8
pt_next:	.quad POOL
space_shift:	.quad 0
as_list:	.quad 0, 0, 0, 0
pf_resume:	.quad 0
pf_error:	.quad -1
pf_cr2:	.quad 0
