/*
 * The guest register block: the one definition of the general-purpose registers
 * VMEntryExit.S stores on every VM exit and loads on every entry, which Swift
 * (Sources/VMX/GuestRegisters.swift) imports as `guest_registers`.
 *
 * One 8-byte slot per register in the SDM's numbering (Vol. 3C §28.2.1, Table 28-3:
 * 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15), so the
 * register number of an exit qualification is the slot index. Slot 4 is unused:
 * the guest's RSP lives in the VMCS (guest-state area), as does RIP.
 */
#ifndef SWIFTVISOR_GUEST_REGISTERS_H
#define SWIFTVISOR_GUEST_REGISTERS_H

#define GUEST_RAX   0
#define GUEST_RCX   8
#define GUEST_RDX   16
#define GUEST_RBX   24
#define GUEST_RSP   32
#define GUEST_RBP   40
#define GUEST_RSI   48
#define GUEST_RDI   56
#define GUEST_R8    64
#define GUEST_R9    72
#define GUEST_R10   80
#define GUEST_R11   88
#define GUEST_R12   96
#define GUEST_R13   104
#define GUEST_R14   112
#define GUEST_R15   120
#define GUEST_REGISTERS_SIZE 128

#ifndef __ASSEMBLER__
#include <stddef.h>

typedef unsigned long long guest_register;

struct guest_registers {
    guest_register rax, rcx, rdx, rbx;
    guest_register rsp_in_vmcs;         /* unused: VMCS guest RSP */
    guest_register rbp, rsi, rdi;
    guest_register r8, r9, r10, r11, r12, r13, r14, r15;
};

_Static_assert(offsetof(struct guest_registers, rax) == GUEST_RAX, "RAX");
_Static_assert(offsetof(struct guest_registers, rcx) == GUEST_RCX, "RCX");
_Static_assert(offsetof(struct guest_registers, rdx) == GUEST_RDX, "RDX");
_Static_assert(offsetof(struct guest_registers, rbx) == GUEST_RBX, "RBX");
_Static_assert(offsetof(struct guest_registers, rsp_in_vmcs) == GUEST_RSP, "RSP");
_Static_assert(offsetof(struct guest_registers, rbp) == GUEST_RBP, "RBP");
_Static_assert(offsetof(struct guest_registers, rsi) == GUEST_RSI, "RSI");
_Static_assert(offsetof(struct guest_registers, rdi) == GUEST_RDI, "RDI");
_Static_assert(offsetof(struct guest_registers, r8) == GUEST_R8, "R8");
_Static_assert(offsetof(struct guest_registers, r9) == GUEST_R9, "R9");
_Static_assert(offsetof(struct guest_registers, r10) == GUEST_R10, "R10");
_Static_assert(offsetof(struct guest_registers, r11) == GUEST_R11, "R11");
_Static_assert(offsetof(struct guest_registers, r12) == GUEST_R12, "R12");
_Static_assert(offsetof(struct guest_registers, r13) == GUEST_R13, "R13");
_Static_assert(offsetof(struct guest_registers, r14) == GUEST_R14, "R14");
_Static_assert(offsetof(struct guest_registers, r15) == GUEST_R15, "R15");
_Static_assert(sizeof(struct guest_registers) == GUEST_REGISTERS_SIZE, "size");
#endif

#endif
