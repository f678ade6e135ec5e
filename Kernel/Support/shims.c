/*
 * shims.c: the runtime symbols Embedded Swift's objects call into:
 * memory (memset, memcpy, memmove, memcmp), the heap (posix_memalign, free),
 * putchar (COM1) and arc4random_buf.
 *
 * Built with -ffreestanding -fno-builtin so the compiler
 * does not turn these loops back into calls to themselves.
 *
 * The heap is a fixed arena inside the kernel image (.bss), so the frame
 * allocator never hands it out: a first-fit, address-ordered free list with
 * coalescing. It serves Swift's small objects; page-sized, page-aligned memory
 * for VMX structures and guests comes from the frame allocator instead.
 */
#include <stdint.h>
#include <stddef.h>
#include "cpu.h"

void *memset(void *d, int c, size_t n) {
    unsigned char *p = d;
    if (n >= 64 && ((uintptr_t)p & 7) == 0) {
        /* Whole quadwords with REP STOSQ: 8x fewer iterations (frames of guest RAM are zeroed here). */
        uint64_t pattern = 0x0101010101010101ull * (unsigned char)c;
        size_t quads = n / 8;
        __asm__ volatile("rep stosq" : "+D"(p), "+c"(quads) : "a"(pattern) : "memory");
        n &= 7;
    }
    while (n--) *p++ = (unsigned char)c;
    return d;
}
void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dp = d; const unsigned char *sp = s;
    if (n >= 64) {
        /* Quadwords with REP MOVSQ (images and initrds are copied into guest RAM here). */
        size_t quads = n / 8;
        __asm__ volatile("rep movsq" : "+D"(dp), "+S"(sp), "+c"(quads) :: "memory");
        n &= 7;
    }
    while (n--) *dp++ = *sp++;
    return d;
}
void *memmove(void *d, const void *s, size_t n) {
    unsigned char *dp = d; const unsigned char *sp = s;
    if (dp < sp) { while (n--) *dp++ = *sp++; }
    else if (dp > sp) { dp += n; sp += n; while (n--) *--dp = *--sp; }
    return d;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

/* ---- COM1 ---- */
#define COM1 0x3F8
int putchar(int c) {
    if (c == '\n') putchar('\r');
    while (!(inb(COM1 + 5) & 0x20)) { }      /* LSR.THRE: the holding register is free */
    outb(COM1, (uint8_t)c);
    return c;
}

/* ---- heap ---- */
#define HEAP_SIZE (8u << 20)
typedef struct block { size_t size; struct block *next; } block;   /* size includes the header */
static unsigned char heap_arena[HEAP_SIZE] __attribute__((aligned(4096)));
static block *free_list;
static int heap_ready;
static uint64_t heap_used;

static void heap_init(void) {
    free_list = (block *)heap_arena;
    free_list->size = HEAP_SIZE;
    free_list->next = 0;
    heap_ready = 1;
}

/* Every allocation carries a one-word back-pointer to its block just before the user pointer. */
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!heap_ready) heap_init();
    if (alignment < 16) alignment = 16;
    if (alignment & (alignment - 1)) return 22;       /* EINVAL */
    size = (size + 15) & ~(size_t)15;
    block **link = &free_list;
    for (block *b = free_list; b; link = &b->next, b = b->next) {
        uintptr_t start = (uintptr_t)b + sizeof(block) + sizeof(block *);
        uintptr_t user = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
        uintptr_t end = user + size;
        if (end > (uintptr_t)b + b->size) continue;
        /* Leading gap: if it can hold a free block, split it off and keep it free. */
        uintptr_t header = user - sizeof(block *) - sizeof(block);
        header &= ~(uintptr_t)15;
        if (header != (uintptr_t)b) {
            if (header - (uintptr_t)b < sizeof(block) + 32) {
                /* too small to stand alone: waste it inside this allocation */
                header = (uintptr_t)b;
            } else {
                block *lead = b;
                block *rest = (block *)header;
                rest->size = lead->size - (header - (uintptr_t)lead);
                rest->next = lead->next;
                lead->size = header - (uintptr_t)lead;
                lead->next = rest;
                link = &lead->next;
                b = rest;
            }
        }
        /* Trailing remainder becomes a free block when it is worth it. */
        uintptr_t used_end = (end + 15) & ~(uintptr_t)15;
        size_t taken = used_end - (uintptr_t)b;
        if (b->size - taken >= sizeof(block) + 32) {
            block *tail = (block *)used_end;
            tail->size = b->size - taken;
            tail->next = b->next;
            b->size = taken;
            *link = tail;
        } else {
            *link = b->next;
        }
        ((block **)user)[-1] = b;
        heap_used += b->size;
        *out = (void *)user;
        return 0;
    }
    *out = 0;
    return 12;                                           /* ENOMEM */
}

void free(void *p) {
    if (!p) return;
    block *b = ((block **)p)[-1];
    heap_used -= b->size;
    block *prev = 0, *cur = free_list;
    while (cur && cur < b) { prev = cur; cur = cur->next; }
    b->next = cur;
    if (prev) prev->next = b; else free_list = b;
    if (cur && (unsigned char *)b + b->size == (unsigned char *)cur) { b->size += cur->size; b->next = cur->next; }
    if (prev && (unsigned char *)prev + prev->size == (unsigned char *)b) { prev->size += b->size; prev->next = b->next; }
}

void *malloc(size_t n) { void *p; return posix_memalign(&p, 16, n) ? 0 : p; }

void heap_statistics(uint64_t *used, uint64_t *capacity) { *used = heap_used; *capacity = HEAP_SIZE; }

/* Hash seeding only (Set/Dictionary): a TSC-mixed generator is enough here. */
void arc4random_buf(void *buf, size_t n) {
    static uint64_t state = 0x9E3779B97F4A7C15ull;
    unsigned char *p = buf;
    state ^= rdtsc();
    while (n--) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        *p++ = (unsigned char)state;
    }
}

/* ---- 128-bit division (compiler runtime: Swift's dividingFullWidth lowers to these) ---- */
static unsigned __int128 udivmod128(unsigned __int128 n, unsigned __int128 d, unsigned __int128 *remainder) {
    if (d == 0) { *remainder = 0; return 0; }       /* Swift traps before dividing by zero */
    if ((d >> 64) == 0 && (n >> 64) < d) {
        /* One DIV: the quotient fits in 64 bits. */
        uint64_t q, r;
        __asm__("divq %4" : "=a"(q), "=d"(r) : "a"((uint64_t)n), "d"((uint64_t)(n >> 64)), "rm"((uint64_t)d));
        *remainder = r;
        return q;
    }
    unsigned __int128 q = 0, r = 0;
    for (int bit = 127; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1);
        if (r >= d) { r -= d; q |= (unsigned __int128)1 << bit; }
    }
    *remainder = r;
    return q;
}
unsigned __int128 __udivti3(unsigned __int128 n, unsigned __int128 d) { unsigned __int128 r; return udivmod128(n, d, &r); }
unsigned __int128 __umodti3(unsigned __int128 n, unsigned __int128 d) { unsigned __int128 r; udivmod128(n, d, &r); return r; }
