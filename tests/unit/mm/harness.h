/* Host harness for the guest memory code (arch/x86_64/mm.c, pv/mmu.c,
 * common/memory.c): fake machine memory with a frame table and the real
 * buddy heap, an idle L4, and the few hypervisor services that code
 * calls (domains, current vCPU, guest copies). Only hardware and other
 * subsystems are stood in for; the code under test is compiled as is. */
#ifndef TEST_MM_HARNESS_H
#define TEST_MM_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "asm/guest_mm.h"
#include "hv/batch.h"
#include "hv/errno.h"
#include "hv/mm.h"

#define TEST_FRAMES       1024u         /* 4 MiB of fake RAM */
#define TEST_RESERVED     16u           /* frames 0-15: not heap (like low memory) */
#define TEST_UNMAPPED_VA  0x0000100000000000UL  /* guest copies here fault */
#define TEST_HV_SLOT      261u          /* a present hypervisor slot of idle_l4 */

extern unsigned int test_descriptor_loads;

/* Fresh machine: memory, frame table, heap, idle L4, m2p. */
void harness_init(void);
void harness_fini(void);
/* The harness's domain with this id, without a reference (tests only). */
struct domain *domain_by_id(domid_t id);
/* A domain with id, max_pages and one vCPU (the current one if
 * make_current), owning nr_frames fresh frames. */
struct domain *harness_domain(domid_t id, uint64_t max_pages, uint64_t nr_frames,
                              bool make_current);
/* One more zeroed frame for d (fails the test if there is none). */
mfn_t harness_frame(struct domain *d);
uint64_t *harness_table(mfn_t mfn);

/* Continuations: see harness.c. */
struct harness_continuation {
    bool pending;
    unsigned int nr, nargs;
    uint64_t args[6];
};
extern unsigned int harness_preempt_every;
extern struct harness_continuation harness_cont;

static inline uint64_t pte(mfn_t mfn, uint64_t flags)
{
    return (mfn << PAGE_SHIFT) | flags;
}

#define PTE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define PTE_DATA  (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PTE_RO    (_PAGE_PRESENT | _PAGE_ACCESSED)

static inline uint32_t type_count(mfn_t mfn)
{
    return (uint32_t)(frame_table[mfn].type_info & PGT_count_mask);
}
static inline uint64_t type_of(mfn_t mfn)
{
    return frame_table[mfn].type_info & PGT_type_mask;
}
static inline uint32_t ref_count(mfn_t mfn)
{
    return frame_table[mfn].count;
}

#endif
