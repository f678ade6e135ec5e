# Swiftvisor test guests: flat binaries entered at GPA 0x8000 (docs/guests.md).
# Included by the top-level Makefile; uses CLANG, LD and BUILD if set.
#   make guests        build/guests/NAME.bin for every NAME in GUEST_NAMES
#   make guests-disasm disassemble each image at its load address (for review)
# Each Guests/NAME.S is run through the C preprocessor (#include "guest.inc");
# guest.ld lays out .text.start (the entry), .text, .rodata, .data and .bss
# from 0x8000 in one section, so .bss is part of the image as zeros.

_guests_saved_goal := $(.DEFAULT_GOAL)

CLANG ?= clang
LD    ?= ld
BUILD ?= build

GUEST_DIR    := Guests
GUEST_OUT    := $(BUILD)/guests
GUEST_NAMES  := hello cpuid msr io ept triple wildptr realmode protected spin bench fpu misc ticker timer disk intruder keyboard reset modes stringio acpi ioapic mmiobad lapic
GUEST_NAMES  += fuzzer fuzzwatch smp
GUEST_NAMES  += pagingstress
GUEST_BINS   := $(patsubst %,$(GUEST_OUT)/%.bin,$(GUEST_NAMES))
GUEST_OBJS   := $(patsubst %,$(GUEST_OUT)/%.o,$(GUEST_NAMES))
GUEST_INCS   := $(wildcard $(GUEST_DIR)/include/*.inc $(GUEST_DIR)/include/*.h)
GUEST_LDS    := $(GUEST_DIR)/guest.ld
GUEST_CFLAGS := -target x86_64-unknown-none-elf -I $(GUEST_DIR)/include

.PHONY: guests guests-disasm
.SECONDARY: $(GUEST_OBJS)

guests: $(GUEST_BINS)

$(GUEST_OUT)/%.o: $(GUEST_DIR)/%.S $(GUEST_INCS) $(GUEST_DIR)/guests.mk
	@mkdir -p $(GUEST_OUT)
	$(CLANG) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/%.bin: $(GUEST_OUT)/%.o $(GUEST_LDS)
	$(LD) -nostdlib -static -T $(GUEST_LDS) -e _start --oformat binary -o $@ $<

# realmode is 16-bit code and protected 32-bit; the rest are 64-bit.
guests-disasm: $(GUEST_BINS)
	@for n in $(GUEST_NAMES); do \
		case $$n in realmode) m="-mi386 -Maddr16,data16";; protected) m="-mi386";; *) m="-mi386:x86-64";; esac; \
		objdump -D -b binary $$m --adjust-vma=0x8000 $(GUEST_OUT)/$$n.bin; \
	done

# Do not let this fragment's targets become the including Makefile's default goal.
.DEFAULT_GOAL := $(_guests_saved_goal)

# Kernels in real formats, for the loaders: a higher-half Multiboot ELF32 kernel,
# and the hello guest linked as an ELF64 executable at 2 MiB.
GUEST_KERNELS := $(GUEST_OUT)/multiboot.elf $(GUEST_OUT)/hello64.elf
guests: $(GUEST_KERNELS)

$(GUEST_OUT)/multiboot.o: $(GUEST_DIR)/multiboot.S $(GUEST_INCS)
	@mkdir -p $(GUEST_OUT)
	$(CLANG) -target i386-unknown-none-elf -I $(GUEST_DIR)/include -c $< -o $@

$(GUEST_OUT)/multiboot.elf: $(GUEST_OUT)/multiboot.o $(GUEST_DIR)/multiboot.ld
	$(LD) -m elf_i386 -nostdlib -static --no-warn-rwx-segments -T $(GUEST_DIR)/multiboot.ld -o $@ $<

$(GUEST_OUT)/hello64.elf: $(GUEST_OUT)/hello.o $(GUEST_DIR)/elf64.ld
	$(LD) -nostdlib -static --no-warn-rwx-segments -T $(GUEST_DIR)/elf64.ld -o $@ $<

# A malformed kernel (an ELF64 file cut short): the hypervisor must refuse it with a reason.
GUEST_KERNELS += $(GUEST_OUT)/truncated.elf
guests: $(GUEST_OUT)/truncated.elf
$(GUEST_OUT)/truncated.elf: $(GUEST_OUT)/hello64.elf
	head -c 200 $< > $@

# Interrupt-driven ATA PIO (atairq, a flat guest like the others) and the teaching
# kernel (teachkernel.elf: Multiboot v1 ELF32 at 1 MiB, higher half, switches to long mode itself).
GUEST_NAMES += atairq
.SECONDARY: $(GUEST_OUT)/atairq.o
guests: $(GUEST_OUT)/atairq.bin

# The interactive console: a keyboard shell and a VGA spinner.
GUEST_NAMES += shell spinner
.SECONDARY: $(GUEST_OUT)/shell.o $(GUEST_OUT)/spinner.o
guests: $(GUEST_OUT)/shell.bin $(GUEST_OUT)/spinner.bin

# The hostile-guest suite: one hostile guest per finding, each paired with a victim.
ISOLATION_GUESTS := victim hostile_msr hostile_tsc hostile_out hostile_cr2dr hostile_xsetbv usermode_vmcall hostile_apic hostile_virtio hostile_nmi hostile_pci hostile_rep hostile_blk
GUEST_NAMES += $(ISOLATION_GUESTS)
.SECONDARY: $(patsubst %,$(GUEST_OUT)/%.o,$(ISOLATION_GUESTS))
guests: $(patsubst %,$(GUEST_OUT)/%.bin,$(ISOLATION_GUESTS))

# Hostile network guests on the virtual switch: a victim that only receives, its sender, and a
# hostile VM that sends with the victim's MAC, floods and sends frames the device must refuse.
NET_GUESTS := net_victim net_sender hostile_net
GUEST_NAMES += $(NET_GUESTS)
.SECONDARY: $(patsubst %,$(GUEST_OUT)/%.o,$(NET_GUESTS))
guests: $(patsubst %,$(GUEST_OUT)/%.bin,$(NET_GUESTS))

# The teaching kernel (Guests/teachkernel.S): a Multiboot v1 ELF32 at 1 MiB, higher half,
# that enters long mode itself; and its disk, whose sector 0 holds a marker the kernel reads.
GUEST_KERNELS += $(GUEST_OUT)/teachkernel.elf $(GUEST_OUT)/teachdisk.img
guests: $(GUEST_OUT)/teachkernel.elf $(GUEST_OUT)/teachdisk.img

$(GUEST_OUT)/teachkernel.o: $(GUEST_DIR)/teachkernel.S
	@mkdir -p $(GUEST_OUT)
	$(CLANG) -target i386-unknown-none-elf -c $< -o $@

$(GUEST_OUT)/teachkernel.elf: $(GUEST_OUT)/teachkernel.o $(GUEST_DIR)/teachkernel.ld
	$(LD) -m elf_i386 -nostdlib -static --no-warn-rwx-segments -T $(GUEST_DIR)/teachkernel.ld -o $@ $<

$(GUEST_OUT)/teachdisk.img: $(GUEST_DIR)/guests.mk
	@mkdir -p $(GUEST_OUT)
	printf 'TEACHKERNEL DISK SECTOR 0: written by the test harness' > $@
	truncate -s 1M $@

# Make bench's disk read, virtio-blk against ATA PIO (Guests/diskbench.S).
GUEST_NAMES += diskbench
.SECONDARY: $(GUEST_OUT)/diskbench.o
guests: $(GUEST_OUT)/diskbench.bin
