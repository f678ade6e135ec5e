# Swiftvisor: the front door.
#   make run    build everything and run the hypervisor in Bochs with its demo guests
#   make test   build everything and pass every test (swift test + boot tests in Bochs and QEMU)
#   make bench  exit-cost micro-benchmarks in Bochs
#   make iso    build/swiftvisor.iso (GRUB rescue image, Multiboot2)
# Missing Debian packages (bochs, grub, xorriso, qemu, ...) are installed by tools/deps.sh.

SWIFTC  ?= swiftc
CLANG   ?= clang
LD      ?= ld
UNICODE_TABLES := $(dir $(shell command -v $(SWIFTC)))../lib/swift/embedded/x86_64-unknown-none-elf/libswiftUnicodeDataTables.a
BUILD   := build
OBJ     := $(BUILD)/obj

# Embedded Swift for bare x86_64. FPU/SSE policy: host code is built without SSE,
# MMX or x87 use, so the guest's FPU/SSE state stays in the registers across VM
# exits; `make kernel` checks the linked image for any such instruction.
EMBEDDED := -target x86_64-unknown-none-elf -enable-experimental-feature Embedded \
	-enable-experimental-feature Extern -wmo -parse-as-library -O \
	-Xcc -mno-red-zone -Xcc -mno-sse -Xcc -mno-mmx \
	-Xfrontend -disable-stack-protector -Xfrontend -function-sections
CFLAGS := -target x86_64-unknown-none-elf -ffreestanding -fno-builtin -fno-stack-protector \
	-mno-red-zone -mno-sse -mno-mmx -O2 -Wall -Werror -ffunction-sections

X86_SRC     := $(sort $(wildcard Sources/X86/*.swift))
VTX_SRC     := $(sort $(wildcard Sources/VTx/*.swift))
MACHINE_SRC := $(shell find Sources/Machine -name '*.swift' | sort)
VMX_SRC     := $(sort $(wildcard Sources/VMX/*.swift))
GUEST_REGISTERS_H := Sources/GuestRegisterBlock/include/guest_registers.h
KERNEL_SRC  := $(sort $(wildcard Kernel/*.swift Kernel/*/*.swift Kernel/*/*/*.swift))
KERNEL_ASM  := $(sort $(wildcard Kernel/Boot/*.S Kernel/Hypervisor/*.S))
KERNEL_C    := $(sort $(wildcard Kernel/Support/*.c))
KERNEL_H    := $(sort $(wildcard Kernel/Support/*.h))
ASM_OBJ     := $(patsubst Kernel/%.S,$(OBJ)/%.o,$(KERNEL_ASM))
C_OBJ       := $(patsubst Kernel/%.c,$(OBJ)/%.o,$(KERNEL_C))

.PHONY: FORCE all kernel guests iso run test bench deps swift-test boot-test check-exit-path console-test run-checks-test clean lint

all: kernel guests

include Guests/guests.mk

# The demo the quick start shows: guests booted as Multiboot2 modules, one after the other.
DEMO_GUESTS := hello cpuid io
DEMO_MODULES := $(foreach g,$(DEMO_GUESTS),$(GUEST_OUT)/$(g).bin "$(g)")

deps:
	@bash tools/deps.sh

iso: $(BUILD)/swiftvisor.iso

$(BUILD)/swiftvisor.iso: $(BUILD)/swiftvisor.elf $(foreach g,$(DEMO_GUESTS),$(GUEST_OUT)/$(g).bin) tools/mkiso.sh
	bash tools/mkiso.sh $@ $(BUILD)/swiftvisor.elf "" $(DEMO_MODULES)

# Boot the hypervisor in Bochs (VT-x with EPT) and show its console.
#   make run                                   the demo guests
#   make run GUEST=k [INITRD=f] [DISK=img] [CMDLINE="..."] [MEMORY=MiB] [GUEST2=k2 ...] [PCI=on] [NET=on]
#                                              your own kernels (bzImage, Multiboot, ELF64 or flat),
#                                              round-robin when there are several
#                                              DISK=img: Bochs's ata1-master, the hypervisor's own disk;
#                                              the guest's ATA disk is all of it (disk=host) and its
#                                              writes stay in img; RAMDISK=img: a copy in RAM (volatile)
#   When stdin is a terminal (stdout may be a pipe), keys go to the focused VM (its keyboard and
#   serial line; INPUT=keyboard|serial to choose), Ctrl-A n focuses the next VM, Ctrl-A x quits,
#   Ctrl-A h lists the keys (README). The variables and files are checked before the build.
#   RUN_TIMEOUT: wall-clock seconds (0: none; Bochs ends anyway after the hypervisor's last line).
#   RUN_WORKDIR and RUN_ISO: where the run's files go (tools/console_test.py uses its own).
MEMORY  ?= 64
# CPUS=N: the Bochs machine's host CPUs (every one enters VMX operation; guests run on the first).
CPUS    ?= 1
RUN_WORKDIR ?= $(BUILD)/run-bochs
RUN_ISO ?= $(BUILD)/run.iso
RUN_INPUT := $(if $(INPUT),input=$(INPUT)) $(if $(APIC),apic=$(APIC)) $(if $(VCPUS),vcpus=$(VCPUS)) $(if $(PCI),pci=$(PCI)) $(if $(NET),net=$(NET))
MEMORY2 ?= $(MEMORY)
MEMORY3 ?= $(MEMORY)
MEMORY4 ?= $(MEMORY)
# Bochs's RAM: what the guests asked for need (their RAM, tables and modules), at least 512 MiB.
MEGS    ?= $(if $(GUEST),$(shell python3 tools/run_checks.py --default-megs $(foreach v,GUEST GUEST2 GUEST3 GUEST4 INITRD INITRD2 INITRD3 INITRD4 RAMDISK MEMORY MEMORY2 MEMORY3 MEMORY4,$(call shell-quote,$(v)=$($(v))))),128)
RUN_TIMEOUT ?= $(if $(GUEST),0,600)
comma := ,
# expect=end: a guest that shuts down or powers off, or one stopped with Ctrl-A x, ends the run normally.
RUN_MODULES := $(if $(GUEST),"$(GUEST)" "guest mem=$(MEMORY) budget=1000000 expect=end $(RUN_INPUT) $(if $(DISK),disk=host) -- $(CMDLINE)") \
	$(if $(INITRD),"$(INITRD)" "+initrd guest") $(if $(RAMDISK),"$(RAMDISK)" "+disk guest") \
	$(if $(GUEST2),"$(GUEST2)" "guest2 mem=$(MEMORY2) budget=1000000 expect=end $(RUN_INPUT) -- $(CMDLINE2)") \
	$(if $(INITRD2),"$(INITRD2)" "+initrd guest2") \
	$(if $(GUEST3),"$(GUEST3)" "guest3 mem=$(MEMORY3) budget=1000000 expect=end $(RUN_INPUT) -- $(CMDLINE3)") \
	$(if $(INITRD3),"$(INITRD3)" "+initrd guest3") \
	$(if $(GUEST4),"$(GUEST4)" "guest4 mem=$(MEMORY4) budget=1000000 expect=end $(RUN_INPUT) -- $(CMDLINE4)") \
	$(if $(INITRD4),"$(INITRD4)" "+initrd guest4")
RUN_CMDLINE := $(if $(GUEST2),schedule=round-robin)
# The run's variables and files are checked before anything is built (tools/run_checks.py): the
# values as make sees them, quoted for the shell, and which variables the command line set
# ($(origin): a misspelled one is in no other list) and the Makefile defines.
RUN_VARIABLES := GUEST GUEST2 GUEST3 GUEST4 INITRD INITRD2 INITRD3 INITRD4 DISK RAMDISK CMDLINE CMDLINE2 CMDLINE3 CMDLINE4 \
	MEMORY MEMORY2 MEMORY3 MEMORY4 MEGS VCPUS APIC PCI NET INPUT RUN_TIMEOUT RUN_WORKDIR RUN_ISO
shell-quote = '$(subst ','\'',$(1))'
variables-from = $(foreach v,$(.VARIABLES),$(if $(filter $(1),$(origin $(v))),$(v)))
RUN_CHECK = python3 tools/run_checks.py --given "$(call variables-from,command line)" \
	--known "$(call variables-from,file override)" $(foreach v,$(RUN_VARIABLES),$(call shell-quote,$(v)=$($(v))))

run: deps
	@$(RUN_CHECK)
	@$(MAKE) --no-print-directory kernel guests
ifeq ($(GUEST),)
	@$(MAKE) --no-print-directory iso
	python3 tools/swiftvisor_run.py bochs --iso $(BUILD)/swiftvisor.iso --workdir $(RUN_WORKDIR) --cpus $(CPUS) --timeout $(RUN_TIMEOUT)
else
	bash tools/mkiso.sh $(RUN_ISO) $(BUILD)/swiftvisor.elf "$(RUN_CMDLINE)" $(RUN_MODULES)
	python3 tools/swiftvisor_run.py bochs --iso $(RUN_ISO) --workdir $(RUN_WORKDIR) --megs $(MEGS) --cpus $(CPUS) --cpu-options ignore_bad_msrs=0 --timeout $(RUN_TIMEOUT) $(if $(DISK),--host-disk "$(DISK)")
endif

swift-test:
	swift test

boot-test: kernel guests
	python3 tools/boottest.py -j 2

# `make run` driven through a pseudo-terminal: keys, Ctrl-A n and Ctrl-A x, the terminal restored.
console-test: kernel guests
	python3 tools/console_test.py

# `make run` as a new user meets it: bad variables and files refused first, random images as
# GUEST, a DISK= run killed and run again, output piped while keys come from a terminal.
run-checks-test: kernel guests
	python3 tools/run_checks_test.py

# The VM-exit path's generated code: no allocation, reference counting or dynamic dispatch.
check-exit-path: kernel
	python3 tools/check_exit_path.py $(BUILD)/swiftvisor.elf

# libFuzzer targets (Fuzz/): each guest image loader and the virtual PC's port bus, built
# with -sanitize=fuzzer,address into build/fuzz/. make test runs each for 8 s (fuzz-smoke);
# make fuzz for FUZZ_SECONDS each. A crash fails the run and leaves its input in build/fuzz/crashes/.
.PHONY: fuzz fuzz-smoke
FUZZ_SECONDS ?= 300
fuzz-smoke:
	bash Fuzz/build.sh
	bash Fuzz/run.sh 8

fuzz:
	bash Fuzz/build.sh
	bash Fuzz/run.sh $(FUZZ_SECONDS)

# Lint: `swift format lint` (the toolchain's, configured by .swift-format) and pyflakes (Debian's
# pyflakes3) on tools/ and Fuzz/. The project aligns continuation lines by hand, which swift-format's
# pretty-printer would re-indent: its layout findings are left out, every rule finding fails.
SWIFT_LAYOUT_FINDINGS := \[(Indentation|AddLines|RemoveLine|Spacing|LineLength|TrailingComma|TrailingWhitespace)\]
lint:
	@out=$$(swift format lint --recursive Sources Kernel Tests Fuzz Package.swift 2>&1 | grep -vE '$(SWIFT_LAYOUT_FINDINGS)'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	pyflakes3 tools Fuzz
	@echo "lint: clean"

test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory swift-test
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory check-exit-path
	@$(MAKE) --no-print-directory boot-test
	@$(MAKE) --no-print-directory console-test
	@$(MAKE) --no-print-directory run-checks-test

bench: deps
	@$(MAKE) --no-print-directory kernel guests
	python3 tools/bench.py

kernel: $(BUILD)/swiftvisor.elf

# Each Swift module's file list, in a file rewritten only when the list changes: a file added or
# removed rebuilds the module even when its timestamp is older than the object (a rebase, a copy).
FILES_X86 := $(X86_SRC)
FILES_VTx := $(VTX_SRC)
FILES_Machine := $(MACHINE_SRC)
FILES_VMX := $(VMX_SRC)
FILES_Kernel := $(KERNEL_SRC)
$(OBJ)/%.files: FORCE
	@mkdir -p $(OBJ)
	@printf '%s\n' $(FILES_$*) | cmp -s - $@ || printf '%s\n' $(FILES_$*) > $@
FORCE:

$(OBJ)/X86.o: $(X86_SRC) $(OBJ)/X86.files Makefile
	@mkdir -p $(OBJ)
	$(SWIFTC) $(EMBEDDED) -module-name X86 -emit-module -emit-module-path $(OBJ)/X86.swiftmodule -c $(X86_SRC) -o $@ && touch $@

$(OBJ)/VTx.o: $(VTX_SRC) $(OBJ)/VTx.files $(OBJ)/X86.o
	$(SWIFTC) $(EMBEDDED) -I $(OBJ) -module-name VTx -emit-module -emit-module-path $(OBJ)/VTx.swiftmodule -c $(VTX_SRC) -o $@ && touch $@

$(OBJ)/Machine.o: $(MACHINE_SRC) $(OBJ)/Machine.files $(OBJ)/X86.o
	$(SWIFTC) $(EMBEDDED) -I $(OBJ) -module-name Machine -emit-module -emit-module-path $(OBJ)/Machine.swiftmodule -c $(MACHINE_SRC) -o $@ && touch $@

$(OBJ)/VMX.o: $(VMX_SRC) $(OBJ)/VMX.files $(GUEST_REGISTERS_H) $(OBJ)/X86.o $(OBJ)/VTx.o $(OBJ)/Machine.o
	$(SWIFTC) $(EMBEDDED) -I $(OBJ) -I Sources/GuestRegisterBlock/include -module-name VMX -emit-module -emit-module-path $(OBJ)/VMX.swiftmodule -c $(VMX_SRC) -o $@ && touch $@

$(OBJ)/Kernel.o: $(KERNEL_SRC) $(OBJ)/Kernel.files $(KERNEL_H) $(OBJ)/X86.o $(OBJ)/VTx.o $(OBJ)/Machine.o $(OBJ)/VMX.o
	$(SWIFTC) $(EMBEDDED) -I $(OBJ) -I Sources/GuestRegisterBlock/include -module-name Kernel -import-objc-header Kernel/Support/cpu.h -c $(KERNEL_SRC) -o $@ && touch $@

$(OBJ)/%.o: Kernel/%.S $(GUEST_REGISTERS_H)
	@mkdir -p $(dir $@)
	$(CLANG) -target x86_64-unknown-none-elf -c $< -o $@

$(OBJ)/%.o: Kernel/%.c $(KERNEL_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -c $< -o $@

$(BUILD)/swiftvisor.elf: $(ASM_OBJ) $(C_OBJ) $(OBJ)/Kernel.o $(OBJ)/X86.o $(OBJ)/VTx.o $(OBJ)/Machine.o $(OBJ)/VMX.o Kernel/Boot/linker.ld
	$(LD) -static -no-pie -nostdlib -z max-page-size=0x1000 -z noexecstack --gc-sections -T Kernel/Boot/linker.ld \
		-o $@ $(ASM_OBJ) $(C_OBJ) $(OBJ)/Kernel.o $(OBJ)/X86.o $(OBJ)/VTx.o $(OBJ)/Machine.o $(OBJ)/VMX.o $(UNICODE_TABLES)
	@# The FPU/SSE policy, enforced: no x87/MMX/SSE/AVX register may appear in host code.
	@if objdump -d $@ | grep -qE '%[xyz]mm[0-9]|%st(\(|\b)|%mm[0-7]'; then \
		echo "error: $@ uses FPU/SSE registers (see the FPU policy in the Makefile)"; \
		objdump -d $@ | grep -E '%[xyz]mm[0-9]|%st(\(|\b)|%mm[0-7]' | head; rm -f $@; exit 1; fi
	@echo "built $@ ($$(stat -c %s $@) bytes)"

clean:
	rm -rf $(BUILD) .build
