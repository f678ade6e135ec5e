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
GUEST_NAMES  := hello cpuid msr io ept triple wildptr realmode protected spin bench fpu misc ticker
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
