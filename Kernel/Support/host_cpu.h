/*
 * host_cpu.h: one record per host CPU, found through that CPU's IA32_GS_BASE (%gs:0 holds
 * the record's own address), and the mailbox in it between the boot CPU (BSP) and the
 * application processors (APs). Shared by C, Swift (HostCPUs.swift, APMain.swift) and the
 * AP start-up code (APStartup.S, which includes only the offsets).
 *
 * Who owns what:
 * - The BSP owns every record and every frame an AP uses (its record page with its GDT and
 *   TSS, its stacks, its VMXON region): it allocates and fills them before the AP's INIT,
 *   and frees them only once the AP is back in wait-for-SIPI (after its INIT at the end of
 *   the run) - never while the AP could still touch them.
 * - The AP writes `state` (and, before a FAILED state, `failure`, `detail`, `mismatch`);
 *   the BSP only reads them. The BSP writes `command`; the AP only reads it. Each is one
 *   aligned 32-bit word, stored with release and loaded with acquire ordering, so what a
 *   CPU wrote before a state or command is visible once the other sees it.
 * - Everything else in a record is written by the BSP before the AP is started and only
 *   read afterwards, by both.
 * - The AP start-up page below 1 MiB (its parameter block) is the BSP's: it writes the
 *   block before each AP's INIT and not again until that AP's state leaves OFF, by which
 *   time the AP runs on its own stack and GDT and no longer reads the page.
 * - An AP touches no other kernel state: no heap, no console, no global variable (an
 *   exception on an AP is reported like one on the BSP and ends the run).
 *
 * The protocol: OFF --(INIT, SIPI; the AP runs)--> STARTED --> VMX_ON or FAILED.
 * In VMX_ON the AP waits in HLT with interrupts on; the BSP writes a command and sends
 * the wake-up IPI (HOST_CPU_WAKEUP_VECTOR). VMXOFF: the AP leaves VMX operation, sets
 * VMX_OFF and halts with interrupts off; the BSP then sends INIT, which puts it back in
 * wait-for-SIPI, as the firmware left it.
 */
#ifndef SWIFTVISOR_HOST_CPU_H
#define SWIFTVISOR_HOST_CPU_H

/* The AP start-up page's parameter block, at ap_trampoline_params (APStartup.S). */
#define AP_PARAMS_CR3           0       /* the BSP's CR3: the kernel's page tables */
#define AP_PARAMS_EFER          8       /* IA32_EFER to load before paging (LME, NXE) */
#define AP_PARAMS_ENTRY         16      /* the 64-bit entry point: ap_start64 */
#define AP_PARAMS_STACK_TOP     24      /* the AP's stack */
#define AP_PARAMS_CPU           32      /* its struct host_cpu, the first argument of apMain */
#define AP_PARAMS_SIZE          40

#define HOST_CPU_WAKEUP_VECTOR  0xF0

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>

enum host_cpu_state {
    HOST_CPU_OFF = 0,           /* not started (or back in wait-for-SIPI) */
    HOST_CPU_STARTED = 1,       /* running on its own stack, GDT, TSS and IDT */
    HOST_CPU_VMX_ON = 2,        /* in VMX root operation, waiting for a command */
    HOST_CPU_FAILED = 3,        /* could not enter VMX operation: `failure` says why; halted */
    HOST_CPU_VMX_OFF = 4,       /* left VMX operation on command; halted */
};

enum host_cpu_failure {
    HOST_CPU_NO_VMX = 1,                /* CPUID.1:ECX.VMX = 0 */
    HOST_CPU_FEATURE_CONTROL = 2,       /* IA32_FEATURE_CONTROL locked without VMX outside SMX (detail: low 32 bits) */
    HOST_CPU_CAPABILITY_MISMATCH = 3,   /* a VMX capability MSR differs from the BSP's (mismatch: its name) */
    HOST_CPU_VMXON_FAILED = 4,          /* VMXON failed (detail: 1 VMfailInvalid, 2 VMfailValid) */
};

enum host_cpu_command {
    HOST_CPU_NO_COMMAND = 0,
    HOST_CPU_COMMAND_VMXOFF = 1,
};

struct host_cpu {
    struct host_cpu *record;            /* itself: %gs:0 */
    uint32_t index;                     /* 0 for the BSP, then in MADT order */
    uint32_t apic_id;
    uint32_t state;                     /* enum host_cpu_state: the AP's */
    uint32_t command;                   /* enum host_cpu_command: the BSP's */
    uint32_t failure;                   /* enum host_cpu_failure: the AP's */
    uint32_t detail;
    const uint8_t *mismatch;            /* the differing MSR's name (a static string) */
    uint64_t mismatch_length;
    uint64_t tables;                    /* the page holding this record, its GDT and TSS */
    uint64_t gdt, tss;                  /* in that page */
    uint64_t vmxon_region;
    uint64_t stack_bottom, stack_top;
    uint64_t ist_bottom, ist_top;       /* IST1: NMI, #DF, #MC */
    uint64_t idt_base;                  /* the BSP's IDT, shared */
    uint64_t boot_capabilities;         /* the BSP's VMX capability MSRs (a VMXCapabilities) */
};

static inline uint32_t host_cpu_load_state(const struct host_cpu *c) { return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE); }
static inline void host_cpu_store_state(struct host_cpu *c, uint32_t s) { __atomic_store_n(&c->state, s, __ATOMIC_RELEASE); }
static inline uint32_t host_cpu_load_command(const struct host_cpu *c) { return __atomic_load_n(&c->command, __ATOMIC_ACQUIRE); }
static inline void host_cpu_store_command(struct host_cpu *c, uint32_t command) { __atomic_store_n(&c->command, command, __ATOMIC_RELEASE); }

/* The BSP's own record (host_cpu.c): no frame to give back. */
extern struct host_cpu host_cpu_bsp;
static inline struct host_cpu *host_cpu_bsp_record(void) { return &host_cpu_bsp; }

/* APStartup.S: the start-up code copied to a page below 1 MiB, and the AP's 64-bit entry. */
extern char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[], ap_start64[];
static inline uint64_t ap_trampoline_address(void) { return (uint64_t)ap_trampoline_start; }
static inline uint64_t ap_trampoline_size(void) { return (uint64_t)(ap_trampoline_end - ap_trampoline_start); }
static inline uint64_t ap_trampoline_params_offset(void) { return (uint64_t)(ap_trampoline_params - ap_trampoline_start); }
static inline uint64_t ap_start64_address(void) { return (uint64_t)ap_start64; }

/* An interrupt window for a CPU that waits: STI's one-instruction shadow keeps an interrupt
 * that is already pending from arriving before HLT, so it ends the HLT instead of being lost. */
static inline void sti_hlt_cli(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
#endif
#endif
