/* Host unit tests of writable page tables (arch/x86_64/pv/ptwr.c) with
 * the page-table code under it, on the harness: when a #PF is taken as a
 * write to a page table and what the write does to entries, references
 * and registers; when it is left to bounce.
 *
 * Domain 1's kernel tables: L4[0] -> L3[0] -> L2[0] -> L1, and in the L1:
 * entry 0 maps a data page writable, entry MAP_L1 the L1 itself read-only
 * (so VA(MAP_L1) is where the guest writes its L1 entries), entry MAP_L2
 * the L2 read-only. Instruction bytes are host memory, like every guest
 * address in the harness. */
#include <public/xen.h>

#include "harness.h"
#include "hv/ptwr.h"
#include "hv/pv.h"

#define MAP_L1  5
#define MAP_L2  6
#define VA(i)   ((uint64_t)(i) * PAGE_SIZE)
#define PF_WRITE_PRESENT 3u
#define RFLAGS_ZF (1UL << 6)
#define RFLAGS_TF (1UL << 8)

static struct domain *dom;
static mfn_t l1, l2, data_a, data_b;
static unsigned int debug_traps;
static uint8_t code[16];

/* The only trap ptwr.c injects itself: #DB after a single-stepped write. */
void pv_inject_trap(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
                    bool has_error_code, uint32_t error_code)
{
    (void)v, (void)regs, (void)has_error_code, (void)error_code;
    assert_int_equal(vector, 1);
    debug_traps++;
}

static int setup(void **state)
{
    (void)state;
    harness_init();
    dom = harness_domain(1, 64, 0, true);
    mfn_t l4 = harness_frame(dom), l3 = harness_frame(dom);
    l2 = harness_frame(dom);
    l1 = harness_frame(dom);
    data_a = harness_frame(dom);
    data_b = harness_frame(dom);
    harness_table(l4)[0] = pte(l3, PTE_TABLE);
    harness_table(l3)[0] = pte(l2, PTE_TABLE);
    harness_table(l2)[0] = pte(l1, PTE_TABLE);
    harness_table(l1)[0] = pte(data_a, PTE_DATA);
    harness_table(l1)[MAP_L1] = pte(l1, PTE_RO);
    harness_table(l1)[MAP_L2] = pte(l2, PTE_RO);
    assert_int_equal(vcpu_set_guest_table(dom->vcpus[0], l4, false), 0);
    dom->vm_assist = 1UL << VMASST_TYPE_writable_pagetables;
    debug_traps = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_fini();
    return 0;
}

/* Take a write #PF at cr2 with the instruction `bytes` at rip. */
static bool fault(struct cpu_regs *r, uint64_t cr2, const char *bytes, size_t n)
{
    memcpy(code, bytes, n);
    r->rip = (uint64_t)code;
    if (!r->error_code)
        r->error_code = PF_WRITE_PRESENT;
    return pv_ptwr_fault(dom->vcpus[0], r, cr2);
}

static uint64_t *l1e(unsigned int i)
{
    return &harness_table(l1)[i];
}

static void direct_writes_update_entries_and_references(void **state)
{
    (void)state;
    /* mov %rax, (%rbx): map B at entry 1. */
    struct cpu_regs r = { .rbx = VA(MAP_L1) + 8, .rax = pte(data_b, PTE_DATA) };
    assert_true(fault(&r, r.rbx, "\x48\x89\x03", 3));
    assert_int_equal(r.rip, (uint64_t)code + 3);
    assert_int_equal(*l1e(1), pte(data_b, PTE_DATA | _PAGE_USER));
    assert_int_equal(type_of(data_b), PGT_writable);
    assert_int_equal(type_count(data_b), 1);
    assert_int_equal(ref_count(data_b), 2);

    /* mov %al, (%rbx): the low byte without RW; the writable type goes. */
    r = (struct cpu_regs){ .rbx = VA(MAP_L1) + 8, .rax = 0x61 };
    assert_true(fault(&r, r.rbx, "\x88\x03", 2));
    assert_int_equal(*l1e(1), pte(data_b, 0x61 | _PAGE_USER));
    assert_int_equal(type_count(data_b), 0);
    assert_int_equal(ref_count(data_b), 2);

    /* xchg %rax, (%rbx) with 0: removed, the old entry in rax. */
    r = (struct cpu_regs){ .rbx = VA(MAP_L1) + 8, .rax = 0 };
    assert_true(fault(&r, r.rbx, "\x48\x87\x03", 3));
    assert_int_equal(r.rax, pte(data_b, 0x61 | _PAGE_USER));
    assert_int_equal(*l1e(1), 0);
    assert_int_equal(ref_count(data_b), 1);
}

static void cmpxchg_that_does_not_match_writes_nothing(void **state)
{
    (void)state;
    uint64_t cur = *l1e(0);
    /* cmpxchg %rcx, (%rbx) with a stale rax. */
    struct cpu_regs r = { .rbx = VA(MAP_L1), .rax = cur ^ _PAGE_DIRTY,
                          .rcx = pte(data_b, PTE_DATA), .rflags = RFLAGS_ZF | 2 };
    assert_true(fault(&r, r.rbx, "\x48\x0f\xb1\x0b", 4));
    assert_int_equal(r.rax, cur);
    assert_false(r.rflags & RFLAGS_ZF);
    assert_int_equal(*l1e(0), cur);
    assert_int_equal(ref_count(data_b), 1);
    assert_int_equal(r.rip, (uint64_t)code + 4);

    /* And with the right value: replaced, references moved. */
    r = (struct cpu_regs){ .rbx = VA(MAP_L1), .rax = cur, .rcx = pte(data_b, PTE_DATA) };
    assert_true(fault(&r, r.rbx, "\xf0\x48\x0f\xb1\x0b", 5));
    assert_true(r.rflags & RFLAGS_ZF);
    assert_int_equal(*l1e(0), pte(data_b, PTE_DATA | _PAGE_USER));
    assert_int_equal(ref_count(data_a), 1);
    assert_int_equal(ref_count(data_b), 2);
}

static void refused_entries_bounce_unchanged(void **state)
{
    (void)state;
    uint64_t cur = *l1e(0);
    struct cpu_regs r = { .rbx = VA(MAP_L1), .rax = pte(l1, PTE_DATA) };
    assert_false(fault(&r, r.rbx, "\x48\x89\x03", 3));      /* writable map of the L1 */
    r.rax = pte(data_b, PTE_DATA | _PAGE_PCD);
    assert_false(fault(&r, r.rbx, "\x48\x89\x03", 3));      /* forbidden flag */
    assert_int_equal(*l1e(0), cur);
    assert_int_equal(r.rip, (uint64_t)code);
    assert_int_equal(type_count(l1), 1);                    /* the L2 entry's */
}

static void only_kernel_writes_to_read_only_l1_tables(void **state)
{
    (void)state;
    struct vcpu *v = dom->vcpus[0];
    struct cpu_regs r = { .rbx = VA(MAP_L1) + 16, .rax = pte(data_b, PTE_RO) };
    const char *mov = "\x48\x89\x03";

    dom->vm_assist = 0;
    assert_false(fault(&r, r.rbx, mov, 3));
    dom->vm_assist = 1UL << VMASST_TYPE_writable_pagetables;
    v->kernel_mode = false;
    assert_false(fault(&r, r.rbx, mov, 3));
    v->kernel_mode = true;
    r.error_code = 1;                                       /* a read */
    assert_false(fault(&r, r.rbx, mov, 3));
    r.error_code = PF_WRITE_PRESENT | 8;                    /* reserved bit */
    assert_false(fault(&r, r.rbx, mov, 3));
    r.error_code = 0;
    assert_false(fault(&r, r.rbx + PAGE_SIZE, mov, 3));     /* cr2 elsewhere */
    r.rbx = VA(MAP_L1) + 20;
    assert_false(fault(&r, r.rbx, mov, 3));                 /* misaligned */
    r.rbx = VA(0) + 8;
    assert_false(fault(&r, r.rbx, mov, 3));                 /* a writable data page */
    r.rbx = VA(MAP_L2) + 8;
    assert_false(fault(&r, r.rbx, mov, 3));                 /* an L2: not emulated */
    r.rbx = VA(MAP_L1) + 16;
    assert_false(fault(&r, r.rbx, "\x48\x01\x03", 3));      /* add: not emulated */
    memcpy(code, mov, 3);
    r.rip = TEST_UNMAPPED_VA;
    assert_false(pv_ptwr_fault(v, &r, r.rbx));              /* instruction unreadable */
    assert_int_equal(*l1e(2), 0);

    /* The same write as it should be: done. */
    r = (struct cpu_regs){ .rbx = VA(MAP_L1) + 16, .rax = pte(data_b, PTE_RO) };
    assert_true(fault(&r, r.rbx, mov, 3));
    assert_int_equal(*l1e(2), pte(data_b, PTE_RO | _PAGE_USER));
}

static void segment_base_and_single_step(void **state)
{
    (void)state;
    test_fs_base = 0x10000;
    /* mov %rax, %fs:(%rbx) */
    struct cpu_regs r = { .rbx = VA(MAP_L1) + 24 - 0x10000, .rax = pte(data_b, PTE_RO),
                          .rflags = RFLAGS_TF | 2 };
    assert_true(fault(&r, VA(MAP_L1) + 24, "\x64\x48\x89\x03", 4));
    test_fs_base = 0;
    assert_int_equal(*l1e(3), pte(data_b, PTE_RO | _PAGE_USER));
    assert_int_equal(debug_traps, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(direct_writes_update_entries_and_references),
        T(cmpxchg_that_does_not_match_writes_nothing),
        T(refused_entries_bounce_unchanged),
        T(only_kernel_writes_to_read_only_l1_tables),
        T(segment_base_and_single_step),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
