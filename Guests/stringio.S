/* stringio: INS/OUTS under the hypervisor.  Module options: disk=1.
 *
 * REP OUTSB to port 0xE9 forwards, backwards (DF = 1), through an FS override and with a 32-bit
 * address size; REP OUTSW / REP INSW of an ATA sector (polled, nIEN = 1) written and read back
 * through the guest's own paging (a 4 KiB mapping at linear 0x40000000); REP INSD / OUTSD; and a
 * REP INSB whose buffer runs into a not-present page: the #PF must come with CR2 at the page
 * boundary and RCX/RDI showing the progress made, and after the guest's handler maps the page the
 * restarted instruction finishes the rest.
 */
#include "guest.inc"
#include "idt64.inc"
#include "pc64.inc"

.equ ATA_DATA,    0x1F0
.equ ATA_COUNT,   0x1F2
.equ ATA_LBA0,    0x1F3
.equ ATA_LBA1,    0x1F4
.equ ATA_LBA2,    0x1F5
.equ ATA_DRIVE,   0x1F6
.equ ATA_STATUS,  0x1F7
.equ ATA_CONTROL, 0x3F6
.equ FS_BASE_MSR, 0xC0000100
.equ PT,          0x30000      /* a page table for linear 0x40000000-0x401FFFFF */
.equ FRAME0,      0x20000      /* linear 0x40000000 -> 0x20000 */
.equ FRAME1,      0x21000      /* linear 0x40001000 -> 0x21000 once the #PF handler maps it */
.equ LINEAR,      0x40000000
.equ UNHANDLED,   0x1234       /* a port with nothing behind it: reads all ones */

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	lea pf_handler(%rip), %rax      /* our own #PF handler: it maps the page and retries */
	SET_GATE guest_idt, 14, pf_handler
	cld

	/* 1: forwards. */
	lea msg_fwd(%rip), %rsi
	mov $(msg_fwd_end - msg_fwd), %ecx
	mov $PORT_E9, %dx
	rep outsb
	lea msg_fwd_end(%rip), %rax
	sub %rsi, %rax
	or %rcx, %rax
	TEST 1, %rax, "REP OUTSB: RSI advanced past the string, RCX = 0"

	/* 2: backwards with DF = 1, from the last byte. */
	lea msg_back_end - 1(%rip), %rsi
	mov $(msg_back_end - msg_back), %ecx
	std
	rep outsb
	cld
	lea msg_back - 1(%rip), %rax
	sub %rsi, %rax
	TEST 2, %rax, "REP OUTSB with DF=1: RSI moved down past the string"

	/* 3: an FS segment override (FS.base from IA32_FS_BASE, 64-bit mode). */
	lea msg_fs(%rip), %rax
	sub $0x1000, %rax
	mov %rax, %rdx
	shr $32, %rdx
	mov $FS_BASE_MSR, %ecx
	wrmsr
	mov $0x1000, %esi
	mov $(msg_fs_end - msg_fs), %ecx
	mov $PORT_E9, %dx
	rep outsb %fs:(%rsi), (%dx)
	cmp $(0x1000 + msg_fs_end - msg_fs), %rsi
	TEST_IF e, 3, "REP OUTSB through FS: RSI is an offset in FS"

	/* 4: a 32-bit address size (ESI, ECX) with garbage in bits 63:32 of RSI and RCX. */
	lea msg_a32(%rip), %rsi
	mov $0xDEAD000000000000, %rax
	or %rax, %rsi
	mov $0xBEEF000000000000, %rcx
	or $(msg_a32_end - msg_a32), %rcx
	mov $PORT_E9, %dx
	addr32 rep outsb
	test %ecx, %ecx
	TEST_IF z, 4, "ADDR32 REP OUTSB: ECX counted down to 0"

	/* 5-6: REP OUTSD / REP INSD (dword elements). */
	lea dwords(%rip), %rdi
	mov $16, %ecx
	mov $UNHANDLED, %dx
	rep insl
	lea dwords(%rip), %rsi
	mov $16, %ecx
	xor %eax, %eax
1:	lodsl
	cmp $0xFFFFFFFF, %eax
	jne 2f
	loop 1b
2:	TEST 5, %rcx, "REP INSD from an empty port: 16 dwords of all ones"
	lea dwords(%rip), %rsi
	mov $16, %ecx
	mov $PORT_POST, %dx
	rep outsl
	lea dwords + 64(%rip), %rax
	sub %rsi, %rax
	TEST 6, %rax, "REP OUTSD to port 0x80: RSI advanced 64 bytes"

	/* The guest's own 4 KiB mapping: PD entry for 0x40000000 -> PT; PT[0] -> FRAME0, PT[1] absent. */
	mov %cr3, %rax
	and $~0xFFF, %rax
	mov (%rax), %rax                 /* PML4[0] -> PDPT */
	and $~0xFFF, %rax
	mov 8(%rax), %rax                /* PDPT[1] -> PD for 1-2 GiB */
	and $~0xFFF, %rax
	movq $(PT + 3), (%rax)
	movq $(FRAME0 + 3), PT
	movq $0, PT + 8
	invlpg LINEAR
	invlpg LINEAR + 0x1000

	/* 7-9: ATA sector: REP OUTSW from a pattern, REP INSW back through linear 0x40000000. */
	lea pattern(%rip), %rdi
	xor %eax, %eax
	mov $256, %ecx
1:	stosw
	add $0x0101, %ax
	loop 1b
	mov $0x02, %al                   /* nIEN: polled */
	mov $ATA_CONTROL, %dx
	out %al, %dx
	mov $0x30, %bl                   /* WRITE SECTORS */
	call ata_command
	call ata_wait_drq
	lea pattern(%rip), %rsi
	mov $256, %ecx
	mov $ATA_DATA, %dx
	rep outsw
	TEST 7, %rcx, "REP OUTSW: 256 words written to the ATA data port"
	call ata_wait_idle
	mov $0x20, %bl                   /* READ SECTORS */
	call ata_command
	call ata_wait_drq
	mov $LINEAR, %edi
	mov $256, %ecx
	mov $ATA_DATA, %dx
	rep insw
	cmp $(LINEAR + 512), %rdi
	TEST_IF e, 8, "REP INSW through the guest's page tables: RDI advanced 512 bytes"
	lea pattern(%rip), %rsi
	mov $FRAME0, %edi
	mov $512, %ecx
	repe cmpsb
	TEST 9, %rcx, "the sector read back through linear 0x40000000 is in frame 0x20000 and matches"

	/* 10-13: REP INSB across into a not-present page: #PF at the boundary, then completion. */
	movq $0, pf_count(%rip)
	mov $(LINEAR + 0xFF0), %edi
	mov $0x20, %ecx
	mov $UNHANDLED, %dx
	rep insb
	cmpq $1, pf_count(%rip)
	TEST_IF e, 10, "REP INSB into a not-present page: one #PF"
	mov pf_cr2(%rip), %rax
	cmp $(LINEAR + 0x1000), %rax
	TEST_IF e, 11, "#PF CR2 is the first byte of the missing page"
	mov pf_error(%rip), %rax
	cmp $2, %rax
	TEST_IF e, 12, "#PF error code 2 (write, supervisor, not present)"
	mov pf_rcx(%rip), %rax
	cmp $0x10, %rax
	TEST_IF e, 13, "at the #PF, RCX = 16 elements left"
	cmp $(LINEAR + 0x1010), %rdi
	TEST_IF e, 14, "after the retry, RDI is past the buffer"
	mov $FRAME1, %esi
	mov (%rsi), %rax
	and 8(%rsi), %rax
	mov $FRAME0 + 0xFF0, %esi
	and (%rsi), %rax
	and 8(%rsi), %rax
	not %rax
	TEST 15, %rax, "all 32 bytes landed: 16 in each frame"
	FINISH

/* #PF: record CR2, the error code and RCX; map PT[1] -> FRAME1; retry the instruction. */
pf_handler:
	push %rax
	incq pf_count(%rip)
	mov %cr2, %rax
	mov %rax, pf_cr2(%rip)
	mov 8(%rsp), %rax
	mov %rax, pf_error(%rip)
	mov %rcx, pf_rcx(%rip)
	movq $(FRAME1 + 3), PT + 8
	invlpg LINEAR + 0x1000
	pop %rax
	add $8, %rsp                     /* the error code */
	iretq

/* ATA helpers (primary master, LBA28 sector 3, one sector; BL = command). */
ata_command:
	call ata_wait_idle
	mov $ATA_DRIVE, %dx
	mov $0xE0, %al
	out %al, %dx
	mov $ATA_COUNT, %dx
	mov $1, %al
	out %al, %dx
	mov $ATA_LBA0, %dx
	mov $3, %al
	out %al, %dx
	xor %al, %al
	mov $ATA_LBA1, %dx
	out %al, %dx
	mov $ATA_LBA2, %dx
	out %al, %dx
	mov $ATA_STATUS, %dx
	mov %bl, %al
	out %al, %dx
	ret
ata_wait_idle:                       /* BSY = 0 and DRQ = 0 */
	mov $ATA_STATUS, %dx
1:	in %dx, %al
	test $0x88, %al
	jnz 1b
	ret
ata_wait_drq:                        /* BSY = 0 and DRQ = 1 */
	mov $ATA_STATUS, %dx
1:	in %dx, %al
	test $0x80, %al
	jnz 1b
	test $0x08, %al
	jz 1b
	ret

	.section .rodata
msg_fwd:	.ascii "stringio: hello via REP OUTSB\n"
msg_fwd_end:
msg_back:	.ascii "\n1=FD htiw BSTUO PER aiv sdrawkcab :oignirts"
msg_back_end:
msg_fs:		.ascii "stringio: via REP OUTSB with an FS override\n"
msg_fs_end:
msg_a32:	.ascii "stringio: via ADDR32 REP OUTSB\n"
msg_a32_end:

	.section .data
	.balign 8
pf_count:	.quad 0
pf_cr2:		.quad 0
pf_error:	.quad 0
pf_rcx:		.quad 0
dwords:		.space 64
	.balign 2
pattern:	.space 512

