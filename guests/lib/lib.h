/*
 * The pvcore PV test-kernel library: one header for every kernel.
 *
 * Owns the library's interface: boot state (start_info, shared_info),
 * console and formatting, the test assertion helpers, traps and probes,
 * page-table helpers and event masking. Each kernel defines
 * `void test_main(void)`; the library boots, runs it and reports.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hypercall.h"

#define PAGE_SHIFT   12
#define PAGE_SIZE    4096ul
#define VIRT_BASE    0xffffffff80000000ul
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGNED(n)   __attribute__((aligned(n)))
#define NORETURN     __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- boot state (start.c) ---- */
extern start_info_t *start_info;
extern shared_info_t *shared_info;   /* mapped by the library at boot */
extern const char test_name[];       /* defined by each kernel */
void test_main(void);
NORETURN void domain_shutdown(unsigned int reason);

/* ---- strings and formatting (hypervisor/lib/{string,vsnprintf}.c,
 * string.c, console.c) ---- */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *hay, const char *needle);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF(3, 4);
void console_write(const char *s, size_t n);
void printk(const char *fmt, ...) PRINTF(1, 2);

/* ---- assertions (test.c) ----
 * test_ok(cond, fmt, ...): one check; a failure prints "FAIL: <msg>" with
 * the location and is counted. test_eq(actual, expected, fmt, ...): same,
 * printing both values. Kernels end by returning from test_main; the
 * library then prints "Test result: SUCCESS" (and powers off) or
 * "Test result: FAILURE: <first failure>" (and crashes the domain).
 * test_abort() ends at once with a FAILURE. */
bool test_check(bool ok, const char *file, int line, const char *fmt, ...)
    PRINTF(4, 5);
bool test_check_eq(int64_t actual, int64_t expected, const char *file,
                   int line, const char *fmt, ...) PRINTF(5, 6);
NORETURN void test_abort(const char *fmt, ...) PRINTF(1, 2);
NORETURN void test_finish(void);
unsigned int test_failures(void);
#define test_ok(cond, ...) test_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define test_eq(actual, expected, ...) \
    test_check_eq((int64_t)(actual), (int64_t)(expected), __FILE__, __LINE__, \
                  __VA_ARGS__)

/* ---- traps (traps.c, entry.S) ----
 * Xen PV exception frame as the handler sees it, after the entry stub
 * popped the RCX/R11 that Xen pushed on top and saved every register. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;            /* pushed by our stub                 */
    uint64_t error_code;        /* Xen's, or 0 for vectors without one */
    uint64_t rip, cs, rflags, rsp, ss;   /* cs bits 32-39: saved mask  */
};
#define TRAP_SYSCALL   0x100    /* pseudo vector: syscall callback     */
#define TRAP_FAILSAFE  0x101    /* pseudo vector: failsafe callback    */
#define TRAP_EVENT     0x102    /* pseudo vector: event callback; its
                                 * handler replaces "clear the pending
                                 * flag" (see evtime.h)                */
#define TRAP_NONE      (~0ul)

/* What the last probed trap looked like. */
struct trap_record {
    uint64_t vector;            /* TRAP_NONE when nothing trapped      */
    uint64_t error_code;
    uint64_t rip;               /* rip in the frame Xen delivered      */
    uint64_t cs;
    uint64_t cr2;               /* vcpu_info.arch.cr2 for #PF          */
    uint64_t rsp;
};
extern volatile struct trap_record last_trap;

typedef void (*trap_handler_t)(struct trap_frame *f);
void traps_init(void);
void trap_set_handler(unsigned int vector, trap_handler_t h);
/* Trap table entry for a software-interrupt vector with the given DPL;
 * the handler records the trap like a probe. */
void trap_add_soft_vector(unsigned int vector, unsigned int dpl);
long traps_install(void);
/* Run `insn` (an asm string) expecting it may trap: a trap on it (or a
 * trap reported just after it) is recorded in last_trap and execution
 * continues after the instruction. */
#define PROBE_ASM(insn)                                                   \
    "1: " insn "\n2:\n"                                                   \
    ".pushsection .extable, \"a\"\n .quad 1b, 2b\n .popsection\n"
static inline void probe_reset(void) { last_trap.vector = TRAP_NONE; }
const char *trap_name(uint64_t vector);

/* ---- memory (mm.c) ---- */
#define PTE_P     0x001ul
#define PTE_RW    0x002ul
#define PTE_US    0x004ul
#define PTE_PWT   0x008ul
#define PTE_PCD   0x010ul
#define PTE_A     0x020ul
#define PTE_D     0x040ul
#define PTE_PSE   0x080ul
#define PTE_G     0x100ul
#define PTE_NX    (1ul << 63)
#define PTE_ADDR  0x000ffffffffff000ul
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)
#define PTE_PAGE  (PTE_P | PTE_RW | PTE_A | PTE_D)

extern uint64_t *p2m;                      /* start_info->mfn_list */
#define m2p ((const uint64_t *)MACH2PHYS_VIRT_START)
void mm_init(void);
static inline uint64_t pfn_to_mfn(uint64_t pfn) { return p2m[pfn]; }
static inline uint64_t mfn_to_pfn(uint64_t mfn) { return m2p[mfn]; }
uint64_t virt_to_pfn(const void *va);
uint64_t virt_to_mfn(const void *va);
void *pfn_to_virt(uint64_t pfn);           /* only for mapped pfns */
void *mfn_to_virt(uint64_t mfn);
uint64_t mm_mapped_pfns(void);             /* pfns [0, n) are mapped */
/* Machine address of the level-`level` entry (1 = L1) mapping va, walking
 * the current kernel tables; 0 when an upper level is not present. */
uint64_t pte_maddr(uint64_t va, int level);
uint64_t pte_read(uint64_t va, int level);
/* A RAM frame that is not ours (the m2p does not lead back to it), or 0. */
uint64_t mm_foreign_ram_mfn(void);
long mmu_update1(uint64_t ptr, uint64_t val);
long mmuext1(unsigned int cmd, uint64_t arg1, uint64_t arg2);
/* A fresh zeroed page from the mapped pool (writable mapping). */
void *page_alloc(void);
long page_set_writable(void *va, bool writable);
/* Make sure an L1 table covers va in the kernel tables, adding L3/L2/L1
 * tables from the pool as needed. Returns 0 or -errno. */
long mm_ensure_l1(uint64_t va);
uint64_t kernel_l4_mfn(void);

/* A user address space (userspace.c): code_page mapped user read-only at
 * code_va, a fresh stack page at stack_va (one 2 MiB region of the first
 * GiB), pinned and installed as the user base pointer, kernel_stack_top
 * registered with stack_switch. Returns 0 or -errno. */
long user_space_init(const void *code_page, uint64_t code_va, uint64_t stack_va,
                     const void *kernel_stack_top);
/* Run 64-bit user code at rip with stack rsp and rbx = arg (the other
 * registers as they are); returns the value a trap handler passes to
 * user_resume_kernel(), which must be called with events masked. */
uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t arg);
NORETURN void user_resume_kernel(uint64_t value);

/* ---- the hypervisor (hypervisor.c) ---- */
/* "pvcore" in XENVER_extraversion; false on Xen. */
bool running_on_pvcore(void);

/* ---- events (events.c) ---- */
void events_mask_all(void);
bool events_masked(void);
void event_channel_mask(evtchn_port_t port);
void event_channel_unmask_local(evtchn_port_t port);
bool event_channel_pending(evtchn_port_t port);
void event_channel_clear(evtchn_port_t port);

#endif /* GUEST_LIB_H */
