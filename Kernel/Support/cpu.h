/*
 * cpu.h: the instructions Swift cannot express, as static inline functions.
 * Imported into the Swift kernel as its bridging header; everything inlines.
 */
#ifndef SWIFTVISOR_CPU_H
#define SWIFTVISOR_CPU_H
#include <stdint.h>
#include <stddef.h>
#include "host_cpu.h"

/* ---- port I/O ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* String port I/O (the host ATA driver's PIO data blocks): `words` 16-bit transfers, DF clear. */
static inline void insw_block(uint16_t port, void *buffer, uint64_t words) {
    __asm__ volatile("rep insw" : "+D"(buffer), "+c"(words) : "d"(port) : "memory");
}
static inline void outsw_block(uint16_t port, const void *buffer, uint64_t words) {
    __asm__ volatile("rep outsw" : "+S"(buffer), "+c"(words) : "d"(port) : "memory");
}

/* ---- memory-mapped device registers (the host AHCI driver): one access each, never merged,
   reordered or cached by the compiler; the mapping is uncached (KernelPageTables.mapUncached) ---- */
static inline uint32_t mmio_read32(uint64_t address) { uint32_t v = *(volatile uint32_t *)address; __asm__ volatile("" ::: "memory"); return v; }
static inline void mmio_write32(uint64_t address, uint32_t v) { __asm__ volatile("" ::: "memory"); *(volatile uint32_t *)address = v; __asm__ volatile("" ::: "memory"); }

/* ---- MSRs, CPUID, TSC ---- */
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
typedef struct { uint32_t eax, ebx, ecx, edx; } cpuid_result;
static inline cpuid_result cpuid(uint32_t leaf, uint32_t subleaf) {
    cpuid_result r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }

/* ---- control registers, flags, descriptor tables ---- */
#define CR_ACCESSORS(n) \
    static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory"); }
CR_ACCESSORS(0)
CR_ACCESSORS(2)
CR_ACCESSORS(3)
CR_ACCESSORS(4)
static inline uint64_t read_dr7(void) { uint64_t v; __asm__ volatile("mov %%dr7, %0" : "=r"(v)); return v; }
static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }

typedef struct __attribute__((packed)) { uint16_t limit; uint64_t base; } descriptor_table_register;
static inline void lgdt(const void *base, uint16_t limit) { descriptor_table_register d = { limit, (uint64_t)base }; __asm__ volatile("lgdt %0" :: "m"(d) : "memory"); }
static inline void lidt(const void *base, uint16_t limit) { descriptor_table_register d = { limit, (uint64_t)base }; __asm__ volatile("lidt %0" :: "m"(d) : "memory"); }
static inline uint64_t sgdt_base(void) { descriptor_table_register d; __asm__ volatile("sgdt %0" : "=m"(d)); return d.base; }
static inline uint64_t sidt_base(void) { descriptor_table_register d; __asm__ volatile("sidt %0" : "=m"(d)); return d.base; }
static inline void ltr(uint16_t selector) { __asm__ volatile("ltr %0" :: "r"(selector) : "memory"); }
#define SEG_READER(name) static inline uint16_t read_##name(void) { uint16_t v; __asm__ volatile("mov %%" #name ", %0" : "=r"(v)); return v; }
SEG_READER(cs)
SEG_READER(ss)
SEG_READER(ds)
SEG_READER(es)
SEG_READER(fs)
SEG_READER(gs)
static inline uint16_t read_tr(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }
/* Reload CS with a far return and the data segments: after lgdt of a new GDT. */
static inline void reload_segments(uint16_t code, uint16_t data) {
    __asm__ volatile(
        "pushq %q0\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %w1, %%ds\n\tmov %w1, %%es\n\tmov %w1, %%ss\n\t"
        :: "r"((uint64_t)code), "r"(data) : "rax", "memory");
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
/* UD2: the crash self-test's unexpected #UD. */
static inline void undefined_instruction(void) { __asm__ volatile("ud2" ::: "memory"); }
/* Bochs's magic breakpoint (magic_break: enabled=1): the harness's debugger script quits on it. */
static inline void bochs_magic_break(void) { __asm__ volatile("xchg %%bx, %%bx" ::: "memory"); }

/* A read that may fault (interrupts.S): returns ~0 after a recovered fault. */
uint64_t recoverable_probe_read(uint64_t address);
extern char recoverable_probe_instruction[], recoverable_probe_resume[];
static inline uint64_t recoverable_probe_instruction_address(void) { return (uint64_t)recoverable_probe_instruction; }
static inline uint64_t recoverable_probe_resume_address(void) { return (uint64_t)recoverable_probe_resume; }

/* ---- VMX instructions (SDM Vol. 3C §31.2 conventions) ----
 * Each returns 0 for VMsucceed, 1 for VMfailInvalid (CF=1: no current VMCS or
 * bad pointer), 2 for VMfailValid (ZF=1: the VM-instruction error field says why). */
#define VMX_STATUS(insn, ...) \
    uint8_t cf, zf; \
    __asm__ volatile(insn "; setc %0; setz %1" : "=q"(cf), "=q"(zf) : __VA_ARGS__ : "cc", "memory"); \
    return cf ? 1 : (zf ? 2 : 0)
static inline int vmx_vmxon(uint64_t region) { VMX_STATUS("vmxon %2", "m"(region)); }
static inline int vmx_vmclear(uint64_t vmcs) { VMX_STATUS("vmclear %2", "m"(vmcs)); }
static inline int vmx_vmptrld(uint64_t vmcs) { VMX_STATUS("vmptrld %2", "m"(vmcs)); }
static inline int vmx_vmwrite(uint64_t field, uint64_t value) { VMX_STATUS("vmwrite %3, %2", "r"(field), "rm"(value)); }
static inline int vmx_invept(uint64_t type, const void *descriptor) { VMX_STATUS("invept %3, %2", "r"(type), "m"(*(const char (*)[16])descriptor)); }
static inline int vmx_invvpid(uint64_t type, const void *descriptor) { VMX_STATUS("invvpid %3, %2", "r"(type), "m"(*(const char (*)[16])descriptor)); }
static inline int vmx_vmxoff(void) {
    uint8_t cf, zf; __asm__ volatile("vmxoff; setc %0; setz %1" : "=q"(cf), "=q"(zf) :: "cc", "memory");
    return cf ? 1 : (zf ? 2 : 0);
}
static inline int vmx_vmread(uint64_t field, uint64_t *value) {
    uint8_t cf, zf; uint64_t v;
    __asm__ volatile("vmread %3, %2; setc %0; setz %1" : "=q"(cf), "=q"(zf), "=r"(v) : "r"(field) : "cc");
    *value = v;
    return cf ? 1 : (zf ? 2 : 0);
}
/* The exit path's unchecked read: only for fields that always exist while a VMCS is current. */
static inline uint64_t vmx_vmread_unchecked(uint64_t field) {
    uint64_t v; __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc"); return v;
}
static inline void vmx_vmwrite_unchecked(uint64_t field, uint64_t value) {
    __asm__ volatile("vmwrite %1, %0" :: "r"(field), "r"(value) : "cc", "memory");
}
/* XCR0 for the guest's XSETBV (SDM Vol. 2C XSETBV). */
static inline void xsetbv(uint32_t index, uint64_t value) {
    __asm__ volatile("xsetbv" :: "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
}
static inline uint64_t xgetbv(uint32_t index) { uint32_t lo, hi; __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index)); return ((uint64_t)hi << 32) | lo; }

/* Guest FPU/SSE/AVX state between VMs (the host itself never touches it). */
static inline void xsave_area(void *area, uint64_t mask) {
    __asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}
static inline void xrstor_area(const void *area, uint64_t mask) {
    __asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}
static inline void fxsave_area(void *area) { __asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory"); }
static inline void fxrstor_area(const void *area) { __asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory"); }

/* vmx_run: VMEntryExit.S */
int vmx_run(void *guest_registers, void *vm, int launched, void *exit_entry);
extern char vmx_exit_with_baseline[];
static inline void *vmx_baseline_exit_entry(void) { return vmx_exit_with_baseline; }

/* ---- linker symbols ---- */
extern char __kernel_start[], __kernel_end[], __text_end[], __rodata_end[];
static inline uint64_t kernel_text_end_address(void) { return (uint64_t)__text_end; }
static inline uint64_t kernel_rodata_end_address(void) { return (uint64_t)__rodata_end; }
static inline uint64_t kernel_start_address(void) { return (uint64_t)__kernel_start; }
static inline uint64_t kernel_end_address(void) { return (uint64_t)__kernel_end; }
extern const uint64_t isr_stub_table[256];
static inline uint64_t isr_stub_address(int vector) { return isr_stub_table[vector]; }
extern char boot_stack_top[];
static inline uint64_t boot_stack_top_address(void) { return (uint64_t)boot_stack_top; }

/* ---- the C runtime pieces the Swift objects need (shims.c) ---- */
void heap_statistics(uint64_t *used, uint64_t *capacity);
int putchar(int c);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif

/* An IRET to the next instruction: ends the blocking of NMIs that a VM exit caused by an NMI leaves
 * in effect (SDM Vol. 3C §27.5.x: NMIs stay blocked until the next IRET), so the next NMI arrives. */
static inline void nmi_unblock(void) {
    __asm__ volatile(
        "mov %%rsp, %%rax\n\t"
        "mov %%ss, %%ecx\n\t"
        "push %%rcx\n\t"
        "push %%rax\n\t"
        "pushfq\n\t"
        "mov %%cs, %%ecx\n\t"
        "push %%rcx\n\t"
        "lea 1f(%%rip), %%rcx\n\t"
        "push %%rcx\n\t"
        "iretq\n"
        "1:" ::: "rax", "rcx", "memory");
}
