/* hostile_pci: the PCI and MMIO surfaces of its own virtual PC, beside a victim VM (victim.S).
 * Module options: pci=on net=on apic=on disk=1 vcpus=2 mem=8 budget=100 expect=error (one vCPU
 * works too: then vCPU 0 rewrites the descriptors itself between kicks). Interrupts stay off.
 * BARs moved where other things live (the hypervisor decodes RAM, the local APIC, the I/O APIC
 * and the ECAM window before any BAR, and BARs in device and BAR order):
 *   PASS 1  virtio-blk at 00:01.0 (BARs 0xE0000000, 0xE0004000), virtio-net at 00:02.0 (0xE0008000)
 *   PASS 2  BARs 0 and 1 moved onto RAM: words written there read back
 *   PASS 3  BAR 0 on the local APIC page: its version and TPR are the APIC's
 *   PASS 4  BAR 0 on the I/O APIC: IOREGSEL/IOWIN read its version
 *   PASS 5  BAR 0 on the ECAM window: ECAM answers
 *   PASS 6  BAR 1 and virtio-net's BAR 0 on virtio-blk's BAR 0: the address is virtio-blk's BAR 0
 *   PASS 7  moved back, each device answers at its BARs, untouched, and a read of sector 0 completes
 * Configuration space at every width (ECAM and mechanism #1):
 *   PASS 8  ECAM reads of 1, 2, 4 and 8 bytes, aligned and not, agree with 0xCF8/0xCFC
 *   PASS 9  absent functions read all ones at every width, by ECAM and by 0xCFC
 *   PASS 10 the last bytes of the ECAM window read all ones at every width, crossing its end too
 *   PASS 11 writes at the end of the ECAM window, past it and past config space change nothing
 *   PASS 12 0xCFC-0xCFF: bytes, words and dwords at each port; bytes past 0xCFF read all ones
 *   PASS 13 an OUT running past 0xCFF writes only the bytes inside; CONFIG_ADDRESS keeps its bits
 * MMIO instructions against virtio-blk's common configuration (RBX) and MSI-X table (R15):
 *   PASS 14 widths: 88-8B, C6/C7 (imm32 sign-extended under REX.W), MOVZX/MOVSX, moffs, 66, REX.W
 *   PASS 15 REX.R/X/B registers, SIL under REX 40, AH without REX
 *   PASS 16 segment overrides (FS and GS with non-zero bases: the GPA is the exit's) and 67
 *   PASS 17 LOCK OR/AND to memory, XCHG, TEST, OR/AND into a register: values and flags
 *   PASS 18 8-byte accesses at the last bytes of BAR 1 (the rest outside any BAR): load 0, store ignored
 * The descriptor table rewritten while the queue is kicked (a read of sector 0 with one field random):
 *   PASS 19 the descriptor table was rewritten during the kicks
 *   PASS 20 every kick completed its request or left the device in NEEDS_RESET (reset and on)
 *   PASS 21 after the last reset, a well-formed read completes
 * Last, and the VM stops there (expect=error): BAR 1 moved right after RAM (0x800000), an 8-byte
 * store at 0x7FFFFC, half RAM and half BAR, is refused: the stop report names it.
 */
#include "guest.inc"
#include "idt64.inc"
#include "xorshift64.inc"

.equ RAM_END,    0x800000        /* mem=8 */
.equ DESC,       0x400000        /* 16 descriptors of 16 bytes */
.equ AVAIL,      0x401000
.equ USED,       0x402000
.equ HEADER,     0x403000
.equ DATA,       0x404000
.equ STATUS,     0x405000
.equ QSIZE,      16
.equ BUFFERS,    0x500000        /* random descriptors point at 0x500000-0x7FFFFF (or past RAM) */
.equ TRAMP,      0x90000
#include "virtio_blk64.inc"
#include "ap64.inc"

.equ LAPIC,      0xFEE00000
.equ IOAPIC,     0xFEC00000
.equ ECAM,       0xF0000000
.equ ECAM_END,   0xF0100000
.equ BLK,        0x80000800      /* CONFIG_ADDRESS of 00:01.0 */
.equ NET,        0x80001000      /* 00:02.0 */
.equ BAR0,       0x10
.equ BAR1,       0x14
.equ BLK_BAR0,   0xE0000000
.equ BLK_BAR1,   0xE0004000
.equ NET_BAR0,   0xE0008000
.equ NET_BAR1,   0xE000C000
.equ SPOT,       0x200000        /* RAM the BARs are moved onto */
.equ CAPACITY,   2048            /* disk=1: sectors */
.equ NET_MAC_LO, 0x00565302      /* 02:53:56:00 */
.equ KICKS,      300
.equ IA32_FS_BASE, 0xC0000100
.equ IA32_GS_BASE, 0xC0000101

/* R14 += 1 unless the 64-bit register \reg holds \value. */
.macro EXPECT reg:req, value:req
	push \reg
	push %rax
	movabs $\value, %rax
	cmp %rax, 8(%rsp)
	pop %rax
	lea 8(%rsp), %rsp
	je .Lexpect\@
	inc %r14
.Lexpect\@:
.endm

/* Configuration register \reg of function \fn (a CONFIG_ADDRESS) := \value. */
.macro CONFIG_WRITE fn:req, reg:req, value:req
	mov $(\fn | \reg), %eax
	mov $\value, %ecx
	call config_write
.endm

	.section .text.start, "ax"
	.globl _start
_start:
	call idt_install
	cli
	PRINT "hostile: BARs moved over RAM, the APICs, ECAM and each other, interrupts off\n"
	mov $BLK_BAR0, %ebx
	mov $BLK_BAR1, %r15d

	/* 1: where firmware put them. */
	xor %r14d, %r14d
	mov $(BLK | BAR0), %eax
	call config_read
	EXPECT %rax, BLK_BAR0
	mov $(BLK | BAR1), %eax
	call config_read
	EXPECT %rax, BLK_BAR1
	mov $(NET | BAR0), %eax
	call config_read
	EXPECT %rax, NET_BAR0
	mov $NET, %eax
	call config_read
	EXPECT %rax, 0x10411AF4
	mov DEVICE_CONFIG(%rbx), %eax
	EXPECT %rax, CAPACITY
	TEST 1, %r14, "virtio-blk at 00:01.0 (BARs 0xE0000000, 0xE0004000), virtio-net at 00:02.0 (0xE0008000)"

	/* 2: over RAM the EPT maps RAM: what is written there stays there. */
	CONFIG_WRITE BLK, BAR0, SPOT
	CONFIG_WRITE BLK, BAR1, SPOT + 0x4000
	movabs $0x5A5A5A5A00000001, %rax
	mov %rax, SPOT + DEVICE_STATUS             /* would be ACKNOWLEDGE in the device */
	mov %rax, SPOT + 0x4000 + 8                /* would be MSI-X entry 0's data */
	movq SPOT + DEVICE_STATUS, %rcx
	movq SPOT + 0x4000 + 8, %rdx
	xor %rax, %rcx
	xor %rax, %rdx
	or %rdx, %rcx
	TEST 2, %rcx, "BARs 0 and 1 moved onto RAM: words written there read back"

	/* 3: the local APIC page is the APIC's whatever a BAR says. */
	xor %r14d, %r14d
	mov $LAPIC, %edi
	mov 0x30(%rdi), %r8d                       /* version, before */
	CONFIG_WRITE BLK, BAR0, LAPIC
	mov 0x30(%rdi), %eax
	cmp %r8d, %eax
	je 1f
	inc %r14
1:	movl $0x20, 0x80(%rdi)                     /* TPR */
	mov 0x80(%rdi), %eax
	EXPECT %rax, 0x20
	movl $0, 0x80(%rdi)
	TEST 3, %r14, "BAR 0 on the local APIC page: its version and TPR are the APIC's"

	/* 4: the I/O APIC likewise. */
	mov $IOAPIC, %edi
	movl $1, (%rdi)                            /* IOREGSEL: the version register */
	mov 0x10(%rdi), %r8d                       /* IOWIN, before */
	CONFIG_WRITE BLK, BAR0, IOAPIC
	movl $0, (%rdi)
	movl $1, (%rdi)
	mov 0x10(%rdi), %eax
	xor %r8d, %eax
	and $0xFF, %r8d                            /* 0x11 or 0x20: an I/O APIC version, not 0 or all ones */
	cmp $0x11, %r8d
	setb %cl
	movzbl %cl, %ecx
	or %rcx, %rax
	TEST 4, %rax, "BAR 0 on the I/O APIC: IOREGSEL/IOWIN read its version"

	/* 5: ECAM is decoded before the BARs. */
	xor %r14d, %r14d
	CONFIG_WRITE BLK, BAR0, ECAM
	mov $ECAM, %esi
	mov (%rsi), %eax
	EXPECT %rax, 0x12378086
	mov 0x8000(%rsi), %eax
	EXPECT %rax, 0x10421AF4
	mov 0x8000 + BAR0(%rsi), %eax
	EXPECT %rax, ECAM
	TEST 5, %r14, "BAR 0 on the ECAM window: ECAM answers"

	/* 6: BARs on top of each other: the first in device and BAR order decodes. */
	xor %r14d, %r14d
	CONFIG_WRITE BLK, BAR0, BLK_BAR0
	CONFIG_WRITE BLK, BAR1, BLK_BAR0
	CONFIG_WRITE NET, BAR0, BLK_BAR0
	mov DEVICE_CONFIG(%rbx), %eax
	EXPECT %rax, CAPACITY
	movl $1, DEVICE_FEATURE_SELECT(%rbx)
	mov DEVICE_FEATURE(%rbx), %eax
	and $1, %eax
	EXPECT %rax, 1                             /* VIRTIO_F_VERSION_1 */
	TEST 6, %r14, "BAR 1 and virtio-net's BAR 0 on virtio-blk's BAR 0: the address is virtio-blk's BAR 0"

	/* 7: moved back, each answers at its BARs; nothing the RAM writes did reached them. */
	xor %r14d, %r14d
	CONFIG_WRITE BLK, BAR1, BLK_BAR1
	CONFIG_WRITE NET, BAR0, NET_BAR0
	movzbl DEVICE_STATUS(%rbx), %eax
	EXPECT %rax, 0
	mov 8(%r15), %eax                          /* MSI-X entry 0's data */
	EXPECT %rax, 0
	mov $NET_BAR0, %edi
	mov DEVICE_CONFIG(%rdi), %eax
	EXPECT %rax, NET_MAC_LO
	movl $1, DEVICE_FEATURE_SELECT(%rdi)
	mov DEVICE_FEATURE(%rdi), %eax
	and $1, %eax
	EXPECT %rax, 1
	call device_init
	call good_read
	or %rax, %r14
	TEST 7, %r14, "moved back, each device answers at its BARs, untouched, and a read of sector 0 completes"

	PRINT "hostile: ECAM and 0xCF8/0xCFC at every width, aligned and not, at the ends of their windows\n"
	/* 8: 00:01.0 by ECAM against mechanism #1. */
	xor %r14d, %r14d
	mov $BLK, %eax
	call config_read
	mov %eax, %r8d                             /* vendor and device */
	mov $(BLK | 4), %eax
	call config_read
	mov %eax, %r9d                             /* command and status */
	mov $(ECAM + 0x8000), %esi
	movzbl (%rsi), %eax
	EXPECT %rax, 0xF4
	movzbl 3(%rsi), %eax
	EXPECT %rax, 0x10
	movzwl 1(%rsi), %eax
	EXPECT %rax, 0x421A
	movzwl 2(%rsi), %eax
	EXPECT %rax, 0x1042
	mov (%rsi), %eax
	cmp %r8, %rax
	je 1f
	inc %r14
1:	mov 2(%rsi), %eax                          /* a dword from offset 2: bytes 2-5 */
	mov %r8d, %ecx
	shr $16, %ecx
	mov %r9d, %edx
	shl $16, %edx
	or %edx, %ecx
	cmp %rcx, %rax
	je 1f
	inc %r14
1:	mov (%rsi), %rax                           /* a qword: two dwords */
	mov %r9, %rcx
	shl $32, %rcx
	or %r8, %rcx
	cmp %rcx, %rax
	je 1f
	inc %r14
1:	TEST 8, %r14, "ECAM reads of 1, 2, 4 and 8 bytes, aligned and not, agree with 0xCF8/0xCFC"

	/* 9: 00:05.0, 00:01.1 and bus 1 (outside the window: by 0xCF8 only). */
	xor %r14d, %r14d
	mov $(ECAM + 0x28000), %esi
	call all_ones_at
	mov $(ECAM + 0x9000), %esi
	call all_ones_at
	mov $0x80010000, %eax
	call config_read
	EXPECT %rax, 0xFFFFFFFF
	mov $0x80002800, %eax
	call config_read
	EXPECT %rax, 0xFFFFFFFF
	mov $0xCFE, %dx
	in %dx, %ax
	movzwl %ax, %eax
	EXPECT %rax, 0xFFFF
	TEST 9, %r14, "absent functions read all ones at every width, by ECAM and by 0xCFC"

	/* 10: 00:1F.7's last bytes, and accesses running past the end of the window. */
	xor %r14d, %r14d
	mov $(ECAM_END - 8), %esi
	call all_ones_at
	mov $(ECAM_END - 4), %esi
	call all_ones_at
	mov $(ECAM_END - 1), %esi
	call all_ones_at
	mov $(ECAM_END - 2), %esi
	call all_ones_at
	mov $(ECAM_END - 7), %esi
	call all_ones_at
	TEST 10, %r14, "the last bytes of the ECAM window read all ones at every width, crossing its end too"

	/* 11: writes at the end, crossing it, into extended space and across config space's end. */
	call config_hash
	mov %rax, %r13
	mov $-1, %rax
	mov $(ECAM_END - 4), %esi
	mov %eax, (%rsi)
	mov %rax, (%rsi)
	mov %eax, 2(%rsi)
	movw %ax, 3(%rsi)
	mov %rax, -4(%rsi)
	mov $(ECAM + 0x8000), %esi
	mov %eax, 0xFE(%rsi)                       /* 0xFE-0x101: past config space */
	mov %rax, 0xFC(%rsi)
	mov %eax, 0x100(%rsi)                      /* extended space */
	mov %eax, 0xFFE(%rsi)                      /* across into 00:01.1 */
	mov %rax, 0xFFC(%rsi)
	mov $(ECAM + 0x10000), %esi                /* 00:02.0's last bytes, across into 00:02.1 */
	mov %rax, 0xFFC(%rsi)
	call config_hash
	xor %r13, %rax
	mov $(ECAM + 0x8000 + 0x100), %esi
	or (%rsi), %eax
	TEST 11, %rax, "writes at the end of the ECAM window, past it and past config space change nothing"

	/* 12: 00:01.0's dword 0 through every data port and width. */
	xor %r14d, %r14d
	mov $BLK, %eax
	mov $0xCF8, %dx
	out %eax, %dx
	mov $0xCFD, %dx
	in %dx, %al
	movzbl %al, %eax
	EXPECT %rax, 0x1A
	mov $0xCFF, %dx
	in %dx, %al
	movzbl %al, %eax
	EXPECT %rax, 0x10
	mov $0xCFE, %dx
	in %dx, %ax
	movzwl %ax, %eax
	EXPECT %rax, 0x1042
	mov $0xCFD, %dx
	in %dx, %ax
	movzwl %ax, %eax
	EXPECT %rax, 0x421A
	mov $0xCFF, %dx
	in %dx, %ax                                /* past 0xCFF: the high byte floats */
	movzwl %ax, %eax
	EXPECT %rax, 0xFF10
	mov $0xCFD, %dx
	in %dx, %eax
	EXPECT %rax, 0xFF10421A
	mov $0xCFF, %dx
	in %dx, %eax
	EXPECT %rax, 0xFFFFFF10
	mov $0x00000800, %eax                      /* enable bit clear: the data port floats */
	mov $0xCF8, %dx
	out %eax, %dx
	mov $0xCFC, %dx
	in %dx, %eax
	EXPECT %rax, 0xFFFFFFFF
	TEST 12, %r14, "0xCFC-0xCFF: bytes, words and dwords at each port; bytes past 0xCFF read all ones"

	/* 13: OUTs at 0xCFE/0xCFF with register 0x0C: the bytes past 0xCFF would be BAR 0's. */
	xor %r14d, %r14d
	mov $(BLK | 0x0C), %eax
	call config_read
	mov %eax, %r8d
	mov $-1, %eax
	mov $0xCFE, %dx
	out %eax, %dx                              /* header type and BIST: read-only */
	mov $0xCFF, %dx
	out %ax, %dx
	mov $0x10, %al
	mov $0xCFC, %dx
	out %al, %dx                               /* cache line size: writable */
	mov $(BLK | 0x0C), %eax
	call config_read
	and $0xFFFFFF00, %r8d
	or $0x10, %r8d
	cmp %r8d, %eax
	je 1f
	inc %r14
1:	mov $(BLK | BAR0), %eax
	call config_read
	EXPECT %rax, BLK_BAR0
	mov $-1, %eax
	mov $0xCF8, %dx
	out %eax, %dx
	in %dx, %eax
	EXPECT %rax, 0x80FFFFFC
	TEST 13, %r14, "an OUT running past 0xCFF writes only the bytes inside; CONFIG_ADDRESS keeps its bits"

	PRINT "hostile: MMIO instructions with every prefix the decoder takes\n"
	movb $0, DEVICE_STATUS(%rbx)               /* reset: queue 0 disabled, its addresses writable */
	movw $0, QUEUE_SELECT(%rbx)
	/* 14: widths. */
	xor %r14d, %r14d
	movabs $0x1122334455667788, %rax
	mov %rax, QUEUE_DESC(%rbx)                 /* REX.W 89 */
	mov QUEUE_DESC(%rbx), %rcx                 /* REX.W 8B */
	EXPECT %rcx, 0x1122334455667788
	mov QUEUE_DESC + 4(%rbx), %ecx             /* the upper half alone */
	EXPECT %rcx, 0x11223344
	movl $0xCAFEF00D, QUEUE_DESC(%rbx)         /* C7 */
	mov QUEUE_DESC(%rbx), %rcx
	EXPECT %rcx, 0x11223344CAFEF00D
	movq $-2, QUEUE_DESC(%rbx)                 /* REX.W C7: imm32 sign-extended */
	mov QUEUE_DESC(%rbx), %rcx
	EXPECT %rcx, 0xFFFFFFFFFFFFFFFE
	.byte 0x66, 0x48, 0x89, 0x43, QUEUE_DESC   /* 66 REX.W 89: REX.W wins, 8 bytes */
	mov QUEUE_DESC(%rbx), %rcx
	EXPECT %rcx, 0x1122334455667788
	movw $0x8001, QUEUE_SELECT(%rbx)           /* 66 C7 */
	mov $-1, %rcx
	movzwl QUEUE_SELECT(%rbx), %ecx            /* 0F B7 */
	EXPECT %rcx, 0x8001
	movswq QUEUE_SELECT(%rbx), %rcx            /* REX.W 0F BF */
	EXPECT %rcx, 0xFFFFFFFFFFFF8001
	movabs $0x123456789ABCDEF0, %rcx
	movw QUEUE_SELECT(%rbx), %cx               /* 66 8B: bits 63:16 kept */
	EXPECT %rcx, 0x123456789ABC8001
	mov $0x7EED, %ax
	movabs %ax, BLK_BAR0 + QUEUE_SELECT        /* 66 A3 */
	xor %eax, %eax
	movabs BLK_BAR0 + QUEUE_SELECT, %ax        /* 66 A1 */
	EXPECT %rax, 0x7EED
	mov $0xA5A5A5A5, %eax
	movabs %eax, BLK_BAR0 + DRIVER_FEATURE_SELECT   /* A3 */
	mov $-1, %rax
	movabs BLK_BAR0 + DRIVER_FEATURE_SELECT, %eax   /* A1: bits 63:32 cleared */
	EXPECT %rax, 0xA5A5A5A5
	movb $1, DEVICE_STATUS(%rbx)               /* C6 */
	mov $0x03, %al
	movabs %al, BLK_BAR0 + DEVICE_STATUS       /* A2 */
	mov $-1, %rax
	movabs BLK_BAR0 + DEVICE_STATUS, %al       /* A0 */
	EXPECT %rax, 0xFFFFFFFFFFFFFF03
	movb DEVICE_STATUS(%rbx), %cl              /* 8A */
	movzbl %cl, %ecx
	EXPECT %rcx, 3
	movb $0, DEVICE_STATUS(%rbx)
	TEST 14, %r14, "widths: 88-8B, C6/C7 (imm32 sign-extended under REX.W), MOVZX/MOVSX, moffs, 66, REX.W"

	/* 15: registers. */
	xor %r14d, %r14d
	movabs $0x0102030405060708, %r9
	mov %r9, QUEUE_DESC(%rbx)                  /* REX.WR */
	mov QUEUE_DESC(%rbx), %r10
	EXPECT %r10, 0x0102030405060708
	mov %rbx, %r11
	mov $(QUEUE_DESC / 8), %r12d
	movl $0x600DBEEF, (%r11,%r12,8)            /* REX.XB */
	mov (%r11,%r12,8), %r13d
	EXPECT %r13, 0x600DBEEF
	mov $0x1234, %r8w
	mov %r8w, QUEUE_SELECT(%r11)               /* 66 REX.RB */
	xor %edx, %edx
	mov $1, %esi
	mov %sil, DEVICE_STATUS(%rbx)              /* REX 40: SIL (ACKNOWLEDGE), not DH */
	movzbl DEVICE_STATUS(%rbx), %eax
	EXPECT %rax, 1
	mov $0xFFFF, %eax
	movb DEVICE_STATUS(%rbx), %ah              /* no REX: AH */
	EXPECT %rax, 0x01FF
	mov $0x0300, %edx
	mov %dh, DEVICE_STATUS(%rbx)               /* DH: 3 */
	movzbl DEVICE_STATUS(%rbx), %eax
	EXPECT %rax, 3
	movzwl QUEUE_SELECT(%rbx), %eax
	EXPECT %rax, 0x1234
	movb $0, DEVICE_STATUS(%rbx)
	TEST 15, %r14, "REX.R/X/B registers, SIL under REX 40, AH without REX"

	/* 16: segment overrides and the address-size prefix. */
	xor %r14d, %r14d
	mov $IA32_FS_BASE, %ecx
	xor %edx, %edx
	mov $0x1000, %eax
	wrmsr
	mov $IA32_GS_BASE, %ecx
	mov $0x3000, %eax
	wrmsr
	mov $0x11111111, %eax
	mov %eax, %es:DRIVER_FEATURE_SELECT(%rbx)
	mov %cs:DRIVER_FEATURE_SELECT(%rbx), %ecx
	EXPECT %rcx, 0x11111111
	lea -0x1000(%rbx), %rsi
	mov $0x22222222, %eax
	mov %eax, %fs:DRIVER_FEATURE_SELECT(%rsi)  /* FS base 0x1000 */
	mov %ss:DRIVER_FEATURE_SELECT(%rbx), %ecx
	EXPECT %rcx, 0x22222222
	lea -0x3000(%rbx), %rsi
	mov $0x33333333, %eax
	mov %eax, %gs:DRIVER_FEATURE_SELECT(%rsi)  /* GS base 0x3000 */
	mov %ds:DRIVER_FEATURE_SELECT(%rbx), %ecx
	EXPECT %rcx, 0x33333333
	mov %gs:DRIVER_FEATURE_SELECT(%rsi), %ecx
	EXPECT %rcx, 0x33333333
	mov $0x44444444, %eax
	mov %eax, DRIVER_FEATURE_SELECT(%ebx)      /* 67 */
	movzwl QUEUE_SELECT(%ebx), %ecx
	mov DRIVER_FEATURE_SELECT(%ebx), %edx
	EXPECT %rdx, 0x44444444
	mov $0x55555555, %eax
	.byte 0x67, 0xA3                           /* 67 A3: moffs32 */
	.long BLK_BAR0 + DRIVER_FEATURE_SELECT
	.byte 0x3E, 0x67, 0x8B, 0x0C, 0x25         /* DS 67 8B, SIB without base or index: [disp32] */
	.long BLK_BAR0 + DRIVER_FEATURE_SELECT
	EXPECT %rcx, 0x55555555
	xor %eax, %eax
	xor %edx, %edx
	mov $IA32_FS_BASE, %ecx
	wrmsr
	mov $IA32_GS_BASE, %ecx
	wrmsr
	TEST 16, %r14, "segment overrides (FS and GS with non-zero bases: the GPA is the exit's) and 67"

	/* 17: read-modify-write forms (LOCK where it is legal). */
	xor %r14d, %r14d
	movl $0x0F0F0F0F, DRIVER_FEATURE_SELECT(%rbx)
	mov $0x30303030, %eax
	lock or %eax, DRIVER_FEATURE_SELECT(%rbx)  /* F0 09 */
	mov DRIVER_FEATURE_SELECT(%rbx), %ecx
	EXPECT %rcx, 0x3F3F3F3F
	mov $0xFF00FF00, %eax
	lock and %eax, DRIVER_FEATURE_SELECT(%rbx) /* F0 21 */
	mov DRIVER_FEATURE_SELECT(%rbx), %ecx
	EXPECT %rcx, 0x3F003F00
	mov $0x12345678, %eax
	lock xchg %eax, DRIVER_FEATURE_SELECT(%rbx)
	EXPECT %rax, 0x3F003F00
	xchg %eax, DRIVER_FEATURE_SELECT(%rbx)     /* implicitly locked */
	EXPECT %rax, 0x12345678
	mov $0x0000FF00, %ecx
	test %ecx, DRIVER_FEATURE_SELECT(%rbx)     /* 85: ZF from 0x3F00 */
	setz %al
	movzbl %al, %eax
	EXPECT %rax, 0
	mov $0x000000FF, %ecx
	test %ecx, DRIVER_FEATURE_SELECT(%rbx)     /* 0x00: ZF */
	setz %al
	movzbl %al, %eax
	EXPECT %rax, 1
	movabs $0xFFFFFFFF000000F0, %rcx
	or DRIVER_FEATURE_SELECT(%rbx), %ecx       /* 0B: into ECX, bits 63:32 cleared */
	EXPECT %rcx, 0x3F003FF0
	movw $0x3F00, QUEUE_SELECT(%rbx)
	mov $0x3000, %cx
	and QUEUE_SELECT(%rbx), %cx                /* 66 23 */
	js 1f                                      /* SF clear */
	movzwl %cx, %ecx
	EXPECT %rcx, 0x3000
	jmp 2f
1:	inc %r14
2:	mov $0x80, %al
	or %al, DEVICE_STATUS(%rbx)                /* 08: 0x80 FAILED */
	movzbl DEVICE_STATUS(%rbx), %eax
	EXPECT %rax, 0x80
	movb $0, DEVICE_STATUS(%rbx)
	TEST 17, %r14, "LOCK OR/AND to memory, XCHG, TEST, OR/AND into a register: values and flags"

	/* 18: BAR 1 is one page; 0xE0005000 on is no BAR's. */
	xor %r14d, %r14d
	movabs $0x1111222233334444, %rax
	mov %rax, 8(%r15)                          /* entry 0's data and vector control */
	mov 0xFFC(%r15), %rcx
	EXPECT %rcx, 0
	mov $-1, %rax
	mov %rax, 0xFFC(%r15)
	movl %eax, 0xFFE(%r15)
	mov 8(%r15), %rcx
	EXPECT %rcx, 0x33334444                    /* vector control keeps only bit 0: unmasked */
	movabs $0x100000000, %rax
	mov %rax, 8(%r15)                          /* data 0, masked again */
	TEST 18, %r14, "8-byte accesses at the last bytes of BAR 1 (the rest outside any BAR): load 0, store ignored"

	call rewrite_while_kicking

	/* Last, as the VM stops at it: an 8-byte store from the last 4 bytes of RAM into BAR 1,
	 * moved to RAM's end. The exit reports the BAR's first byte; the hypervisor refuses the
	 * access (it crosses from RAM into a device) rather than putting all 8 bytes into the BAR. */
	cmpq $0, guest_failures(%rip)
	je 1f
	FINISH                                     /* a failure above: end as a plain failed run */
1:	CONFIG_WRITE BLK, BAR1, RAM_END
	PRINT "hostile: BAR 1 at 0x800000, right after RAM; an 8-byte store at 0x7FFFFC crosses into it\n"
	movabs $0x1111222233334444, %rax
	mov %rax, RAM_END - 4
	PRINT "hostile: ERROR: still running after the store across RAM's end into BAR 1\n"
	SHUTDOWN 2

/* ---- the descriptor table rewritten while vCPU 0 kicks the queue ---- */

rewrite_while_kicking:
	mov $0xB, %eax
	mov $1, %ecx
	cpuid
	and $0xFFFF, %ebx
	mov $BLK_BAR0, %ebp                        /* EBP: BAR 0 across the CPUID above */
	xchg %rbx, %rbp
	cmp $2, %ebp
	jb 1f
	PRINT "hostile: vCPU 1 rewrites the descriptor table while vCPU 0 kicks the queue\n"
	call ap_tramp_install
	mov $LAPIC, %edi
	movl $0, 0x310(%rdi)
	movl $0xC4500, 0x300(%rdi)                 /* INIT to all excluding self */
	movl $(0xC4600 | TRAMP >> 12), 0x300(%rdi) /* start-up */
	movl $(0xC4600 | TRAMP >> 12), 0x300(%rdi)
	mov $2000000, %ecx
2:	cmpq $0, ap_rounds(%rip)
	jne 3f
	pause
	dec %ecx
	jnz 2b
	jmp 3f
1:	PRINT "hostile: one vCPU: vCPU 0 rewrites the descriptor table between its kicks\n"
3:	call device_init
	xor %r13d, %r13d                           /* kicks */
	xor %r14d, %r14d                           /* kicks that neither completed nor asked for a reset */
	xor %r9d, %r9d                             /* resets */
	xor %r10d, %r10d                           /* kicks during which vCPU 1's rewriting went on */
	movabs $0x2545F4914F6CDD1D, %r12
kick:
	cmp $2, %ebp
	jae 1f
	call rewrite_descriptors
	inc %r10
	jmp 2f
1:	mov ap_rounds(%rip), %r11
2:	xor %eax, %eax
	call submit_head
	movzbl DEVICE_STATUS(%rbx), %eax
	test $NEEDS_RESET, %eax
	jz 3f
	inc %r9
	movzbl ISR(%rbx), %eax
	call device_init
	jmp 4f
3:	movzwl USED+2, %eax
	movzwl AVAIL+2, %ecx
	cmp %ecx, %eax
	je 4f
	inc %r14
	call device_init
4:	cmp $2, %ebp
	jb 5f
	cmp ap_rounds(%rip), %r11
	je 5f
	inc %r10
5:	inc %r13
	cmp $KICKS, %r13
	jb kick
	movq $1, ap_stop(%rip)
	PRINT "hostile: "
	PRINT_DEC %r13
	PRINT " kicks, "
	PRINT_DEC %r9
	PRINT " resets, descriptors rewritten during "
	PRINT_DEC %r10
	PRINT " of them\n"
	cmp $0, %r10
	TEST_IF ne, 19, "the descriptor table was rewritten during the kicks"
	TEST 20, %r14, "every kick completed its request or left the device in NEEDS_RESET (reset and on)"
	cmp $2, %ebp
	jb 6f
	mov $2000000, %ecx                         /* vCPU 1 has stopped writing */
7:	cmpq $0, ap_stopped(%rip)
	jne 6f
	pause
	dec %ecx
	jnz 7b
6:	call device_init
	call good_read
	TEST 21, %rax, "after the last reset, a well-formed read completes"
	ret

/* The read of good_chain at descriptors 0-2 with one field of descriptors 0-3 random (R12: the
 * xorshift state): an address mostly in BUFFERS-RAM_END (the rest anywhere), a length up to
 * 128 KiB (some running past RAM), any of NEXT, WRITE and INDIRECT, a next sometimes past the table. */
rewrite_descriptors:
	push %rcx
	push %rdx
	call good_chain
	call next
	mov %eax, %ecx
	shr $8, %ecx
	and $0x30, %ecx                            /* descriptor 0-3 */
	mov %eax, %edx
	call next
	and $3, %edx
	jz 1f
	dec %edx
	jz 2f
	dec %edx
	jz 3f
	and $0x1F, %eax
	mov %ax, DESC+14(%rcx)
	jmp 9f
1:	test $0x700, %eax
	jz 4f
	and $0x2FFFFF, %eax
	add $BUFFERS, %eax
4:	mov %rax, DESC(%rcx)
	jmp 9f
2:	and $0x1FFFF, %eax
	mov %eax, DESC+8(%rcx)
	jmp 9f
3:	and $7, %eax
	mov %ax, DESC+12(%rcx)
9:	pop %rdx
	pop %rcx
	ret

/* vCPU 1: rewrite the descriptor table until vCPU 0 says stop. */
ap_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	lea ap_stack_top(%rip), %rsp
	lidt guest_idtr(%rip)
	movabs $0x9E3779B97F4A7C15, %r12
1:	call rewrite_descriptors
	lock incq ap_rounds(%rip)
	cmpq $0, ap_stop(%rip)
	je 1b
	movq $1, ap_stopped(%rip)
2:	cli
	hlt
	jmp 2b

/* ---- helpers ---- */

/* EAX = CONFIG_ADDRESS, ECX = the dword to write. Clobbers DX. */
config_write:
	mov $0xCF8, %dx
	out %eax, %dx
	mov %ecx, %eax
	mov $0xCFC, %dx
	out %eax, %dx
	ret

/* R14 += 1 for each of the 1-, 2-, 4- and 8-byte reads at RSI that is not all ones. */
all_ones_at:
	movzbl (%rsi), %eax
	EXPECT %rax, 0xFF
	movzwl (%rsi), %eax
	EXPECT %rax, 0xFFFF
	mov (%rsi), %eax
	EXPECT %rax, 0xFFFFFFFF
	mov (%rsi), %rax
	EXPECT %rax, 0xFFFFFFFFFFFFFFFF
	ret

/* RAX = a hash of the 64 dwords of 00:00.0, 00:01.0 and 00:02.0 read by 0xCF8/0xCFC. */
config_hash:
	push %rcx
	push %rdx
	push %rsi
	xor %esi, %esi
	mov $0x80000000, %ecx
1:	mov %ecx, %eax
	call config_read
	rol $7, %rsi
	xor %rax, %rsi
	add $4, %ecx
	cmp $0x80001100, %ecx
	jb 1b
	mov %rsi, %rax
	pop %rsi
	pop %rdx
	pop %rcx
	ret

	.data
	.balign 8
ap_rounds:	.quad 0
ap_stop:	.quad 0
ap_stopped:	.quad 0

	.bss
	.balign 16
ap_stack:	.space 4096
ap_stack_top:
