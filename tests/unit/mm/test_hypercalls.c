/* Host unit tests of the page-table hypercalls (pv/mmu.c) and memory_op
 * (common/memory.c), called as a guest would: argument structures in
 * "guest memory" (host memory here), machine addresses of the harness. */
#include <public/memory.h>

#include "harness.h"
#include "hv/hypercall.h"
#include "hv/pagetype.h"

#define BAD_PTR TEST_UNMAPPED_VA        /* copies from/to it fault */

static struct domain *dom;
static struct vcpu *vcpu;
/* The guest's kernel tables: L4[0] -> L3[0] -> L2[0] -> L1, which maps
 * virtual page VA_PAGE_INDEX of the first 2 MiB. */
static mfn_t l4, l3, l2, l1;
#define VA_PAGE_INDEX 5
#define TEST_VA (VA_PAGE_INDEX * PAGE_SIZE)

static int setup(void **state)
{
    (void)state;
    harness_init();
    dom = harness_domain(1, 40, 0, true);
    vcpu = dom->vcpus[0];
    l4 = harness_frame(dom);
    l3 = harness_frame(dom);
    l2 = harness_frame(dom);
    l1 = harness_frame(dom);
    harness_table(l4)[0] = pte(l3, PTE_TABLE);
    harness_table(l3)[0] = pte(l2, PTE_TABLE);
    harness_table(l2)[0] = pte(l1, PTE_TABLE);
    assert_int_equal(vcpu_set_guest_table(vcpu, l4, false), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_fini();
    return 0;
}

static long mmu1(uint64_t ptr, uint64_t val, uint32_t *done)
{
    struct mmu_update req = { ptr, val };
    return do_mmu_update((uint64_t)&req, 1, (uint64_t)done, DOMID_SELF);
}

static long ext1(unsigned int cmd, uint64_t arg1, uint64_t arg2)
{
    struct mmuext_op op = { .cmd = cmd };
    uint32_t done = 0;
    op.arg1.mfn = arg1;
    op.arg2.src_mfn = arg2;
    return do_mmuext_op((uint64_t)&op, 1, (uint64_t)&done, DOMID_SELF);
}

static uint64_t l1_slot_ma(unsigned int idx)
{
    return (l1 << PAGE_SHIFT) + idx * 8;
}

static void mmu_update_maps_and_reports_done(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom), b = harness_frame(dom);
    struct mmu_update reqs[3] = {
        { l1_slot_ma(1), pte(a, PTE_DATA) },
        { l1_slot_ma(2), pte(b, PTE_RO) },
        { l1_slot_ma(3) + 4, pte(b, PTE_RO) },       /* low bits 4: no such command */
    };
    uint32_t done = 77;

    assert_int_equal(do_mmu_update((uint64_t)reqs, 3, (uint64_t)&done, DOMID_SELF), -ENOSYS);
    assert_int_equal(done, 2);
    assert_int_equal(harness_table(l1)[1], pte(a, PTE_DATA | _PAGE_USER));
    assert_int_equal(type_count(a), 1);
    assert_int_equal(ref_count(b), 2);

    /* A continuation carries the earlier done count on. */
    done = 2;
    assert_int_equal(do_mmu_update((uint64_t)&reqs[1], 1 | 0x80000000UL, (uint64_t)&done,
                                   DOMID_SELF), 0);
    assert_int_equal(done, 3);

    done = 9;
    assert_int_equal(do_mmu_update((uint64_t)reqs, 0, (uint64_t)&done, DOMID_SELF), 0);
    assert_int_equal(done, 0);
    /* Unreadable requests fault; an unwritable done count is ignored. */
    assert_int_equal(do_mmu_update(BAD_PTR, 1, (uint64_t)&done, DOMID_SELF), -EFAULT);
    assert_int_equal(do_mmu_update(HV_RESERVED_START, 1, 0, DOMID_SELF), -EFAULT);
    assert_int_equal(mmu1(l1_slot_ma(1), 0, (uint32_t *)BAD_PTR), 0);
    assert_int_equal(harness_table(l1)[1], 0);
    assert_int_equal(type_count(a), 0);
}

static void mmu_update_refusals(void **state)
{
    (void)state;
    mfn_t page = harness_frame(dom);
    uint32_t done;

    assert_int_equal(mmu1(l1_slot_ma(0), pte(l2, PTE_DATA), &done), -EBUSY);
    assert_int_equal(mmu1((l4 << PAGE_SHIFT) + 256 * 8, 0, &done), -EINVAL);
    assert_int_equal(mmu1((l4 << PAGE_SHIFT) + 300 * 8, pte(page, PTE_TABLE), &done), 0);
    assert_int_equal(mmu1((l4 << PAGE_SHIFT) + 301 * 8, pte(l2, PTE_TABLE), &done), -EINVAL);
    assert_int_equal(mmu1((l2 << PAGE_SHIFT) + 8, pte(page, PTE_DATA | _PAGE_PSE), &done),
                     -EINVAL);
    assert_int_equal(mmu1(0xfffffffffUL << PAGE_SHIFT, 0, &done), -EINVAL);
    assert_int_equal(mmu1(3UL << PAGE_SHIFT, 0, &done), -EINVAL);    /* not ours */

    struct mmu_update req = { l1_slot_ma(1), pte(page, PTE_RO) };
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, 0, 2), -ESRCH);       /* no domain 2 */
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, 0, dom->id), -ESRCH); /* itself by id */
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, 0, DOMID_IO), -EPERM);
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, 0, (uint64_t)(5 + 1) << 16), -ESRCH);
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, 0,
                                   ((uint64_t)(dom->id + 1) << 16) | DOMID_SELF), 0);
}

static void mmu_update_plain_memory_and_m2p(void **state)
{
    (void)state;
    mfn_t page = harness_frame(dom);
    uint32_t done;

    /* A frame no table uses is plain memory the guest may write. */
    assert_int_equal(mmu1((page << PAGE_SHIFT) + 16, 0x1234, &done), 0);
    assert_int_equal(harness_table(page)[2], 0x1234);
    assert_int_equal(type_count(page), 0);

    assert_int_equal(mmu1((page << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 77, &done), 0);
    assert_int_equal(machine_to_phys[page], 77);
    assert_int_equal(mmu1((3UL << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 77, &done), -EINVAL);
}

static void update_va_mapping_walks_the_kernel_table(void **state)
{
    (void)state;
    mfn_t page = harness_frame(dom);
    uint64_t mask = 1;

    unsigned int invlpgs = test_invlpgs;
    assert_int_equal(do_update_va_mapping(TEST_VA + 0x123, pte(page, PTE_DATA), UVMF_INVLPG), 0);
    assert_int_equal(harness_table(l1)[VA_PAGE_INDEX], pte(page, PTE_DATA | _PAGE_USER));
    assert_int_equal(test_invlpgs, invlpgs + 1);

    unsigned int loads = test_cr3_loads;
    assert_int_equal(do_update_va_mapping(TEST_VA, pte(page, PTE_RO),
                                          UVMF_TLB_FLUSH | UVMF_ALL), 0);
    assert_true(test_cr3_loads > loads);
    assert_int_equal(type_count(page), 0);
    assert_int_equal(do_update_va_mapping(TEST_VA, 0, UVMF_TLB_FLUSH | (uint64_t)&mask), 0);
    /* The update stands even when the vCPU mask cannot be read (Xen). */
    assert_int_equal(do_update_va_mapping(TEST_VA, pte(page, PTE_RO), UVMF_INVLPG | BAD_PTR),
                     -EFAULT);
    assert_int_equal(ref_count(page), 2);

    assert_int_equal(do_update_va_mapping(TEST_VA, pte(l1, PTE_DATA), 0), -EBUSY);
    assert_int_equal(do_update_va_mapping(HV_RESERVED_START + 0x1000, 0, 0), -EINVAL);
    assert_int_equal(do_update_va_mapping(0x0000900000000000UL, 0, 0), -EINVAL);
    assert_int_equal(do_update_va_mapping(GiB(1), 0, 0), -EINVAL);     /* no L2 there */
}

static void mmuext_pin_unpin_and_base_pointers(void **state)
{
    (void)state;
    mfn_t t1 = harness_frame(dom), t4 = harness_frame(dom), data = harness_frame(dom);
    uint32_t done = 0;

    assert_int_equal(mmu1(l1_slot_ma(7), pte(data, PTE_DATA), &done), 0);
    assert_int_equal(ext1(MMUEXT_PIN_L1_TABLE, t1, 0), 0);
    assert_int_equal(ext1(MMUEXT_PIN_L1_TABLE, t1, 0), -EINVAL);
    assert_int_equal(ext1(MMUEXT_PIN_L2_TABLE, t1, 0), -EINVAL);
    assert_int_equal(ext1(MMUEXT_UNPIN_TABLE, t1, 0), 0);
    assert_int_equal(ext1(MMUEXT_UNPIN_TABLE, t1, 0), -EINVAL);
    assert_int_equal(ext1(MMUEXT_PIN_L1_TABLE, 0xffffffffffUL, 0), -EINVAL);
    assert_int_equal(ext1(MMUEXT_PIN_L4_TABLE, data, 0), -EINVAL);
    assert_int_equal(ext1(MMUEXT_NEW_BASEPTR, data, 0), -EINVAL);

    harness_table(t4)[0] = pte(l3, PTE_TABLE);
    assert_int_equal(ext1(MMUEXT_NEW_USER_BASEPTR, t4, 0), 0);
    assert_int_equal(vcpu->guest_table_user, t4);
    assert_int_equal(type_count(l3), 2);
    assert_int_equal(ext1(MMUEXT_NEW_BASEPTR, t4, 0), 0);
    assert_int_equal(vcpu->guest_table, t4);
    assert_int_equal(test_cr3, t4 << PAGE_SHIFT);
    assert_int_equal(type_count(l4), 0);
    assert_int_equal(type_count(t4), 2);
    assert_int_equal(ext1(MMUEXT_NEW_USER_BASEPTR, 0, 0), 0);
    assert_int_equal(type_count(t4), 1);

    struct mmuext_op ops[2] = { { .cmd = MMUEXT_TLB_FLUSH_LOCAL }, { .cmd = 99 } };
    done = 5;
    assert_int_equal(do_mmuext_op((uint64_t)ops, 2, (uint64_t)&done, DOMID_SELF), -ENOSYS);
    assert_int_equal(done, 1);
    assert_int_equal(do_mmuext_op((uint64_t)ops, 1, (uint64_t)&done, 3), -ESRCH);
}

static void mmuext_flushes_ldt_and_pages(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom), b = harness_frame(dom), t1 = harness_frame(dom);
    uint64_t mask = 1;

    unsigned int loads = test_cr3_loads;
    assert_int_equal(ext1(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
    assert_int_equal(ext1(MMUEXT_TLB_FLUSH_ALL, 0, 0), 0);
    assert_int_equal(ext1(MMUEXT_TLB_FLUSH_MULTI, 0, (uint64_t)&mask), 0);
    assert_int_equal(test_cr3_loads, loads + 3);
    assert_int_equal(ext1(MMUEXT_INVLPG_MULTI, TEST_VA, BAD_PTR), -EFAULT);
    assert_int_equal(ext1(MMUEXT_INVLPG_LOCAL, TEST_VA, 0), 0);
    assert_int_equal(ext1(MMUEXT_MARK_SUPER, a, 0), -EOPNOTSUPP);

    assert_int_equal(ext1(MMUEXT_SET_LDT, 0x10000, 16), 0);
    assert_int_equal(vcpu->ldt_base, 0x10000);
    assert_int_equal(vcpu->ldt_ents, 16);
    assert_int_equal(test_descriptor_loads, 1);
    assert_int_equal(ext1(MMUEXT_SET_LDT, 0x10001, 16), -EINVAL);
    assert_int_equal(ext1(MMUEXT_SET_LDT, 0x10000, 8193), -EINVAL);
    assert_int_equal(ext1(MMUEXT_SET_LDT, HV_RESERVED_START, 1), -EINVAL);
    assert_int_equal(ext1(MMUEXT_SET_LDT, 0x10001, 0), 0);        /* no LDT */
    assert_int_equal(vcpu->ldt_base, 0);

    memset(harness_table(a), 0xab, PAGE_SIZE);
    assert_int_equal(ext1(MMUEXT_COPY_PAGE, b, a), 0);
    assert_int_equal(harness_table(b)[511], 0xababababababababUL);
    assert_int_equal(ext1(MMUEXT_CLEAR_PAGE, a, 0), 0);
    assert_int_equal(harness_table(a)[511], 0);
    assert_int_equal(ext1(MMUEXT_PIN_L1_TABLE, t1, 0), 0);
    assert_int_equal(ext1(MMUEXT_CLEAR_PAGE, t1, 0), -EINVAL);
    assert_int_equal(ext1(MMUEXT_COPY_PAGE, t1, a), -EINVAL);
    assert_int_equal(ext1(MMUEXT_COPY_PAGE, a, 3), -EINVAL);
}

static long memop(unsigned int cmd, xen_pfn_t *list, uint64_t n, unsigned int order,
                  domid_t domid)
{
    struct xen_memory_reservation r = { .extent_start = (uint64_t)list, .nr_extents = n,
                                        .extent_order = order, .domid = domid };
    return do_memory_op(cmd, (uint64_t)&r);
}

static long reservation(void)
{
    domid_t self = DOMID_SELF;
    return do_memory_op(XENMEM_current_reservation, (uint64_t)&self);
}

static void balloon_down_and_up(void **state)
{
    (void)state;
    xen_pfn_t list[8];
    long before = reservation();
    uint64_t free_before = frames_free();

    for (unsigned int i = 0; i < 4; i++)
        list[i] = harness_frame(dom);
    assert_int_equal(reservation(), before + 4);
    /* One of them stays mapped: given back, but alive until unmapped. */
    assert_int_equal(do_update_va_mapping(TEST_VA, pte(list[3], PTE_DATA), 0), 0);
    free_before = frames_free();
    assert_int_equal(memop(XENMEM_decrease_reservation, list, 4, 0, DOMID_SELF), 4);
    assert_int_equal(frames_free(), free_before + 3);
    assert_int_equal(reservation(), before + 1);
    assert_int_equal(memop(XENMEM_decrease_reservation, list, 1, 0, DOMID_SELF), 0);
    assert_int_equal(do_update_va_mapping(TEST_VA, 0, 0), 0);
    assert_int_equal(frames_free(), free_before + 4);
    assert_int_equal(reservation(), before);

    for (unsigned int i = 0; i < 3; i++)
        list[i] = 100 + i;
    assert_int_equal(memop(XENMEM_populate_physmap, list, 3, 0, DOMID_SELF), 3);
    assert_int_equal(reservation(), before + 3);
    for (unsigned int i = 0; i < 3; i++) {
        assert_int_equal(machine_to_phys[list[i]], 100 + i);
        assert_int_equal(frame_table[list[i]].owner, dom->id);
        assert_int_equal(harness_table(list[i])[17], 0);            /* scrubbed */
    }
    assert_int_equal(memop(XENMEM_increase_reservation, list, 2, 0, dom->id), 2);
    assert_int_equal(reservation(), before + 5);
    assert_int_equal(frame_table[list[1]].owner, dom->id);
    assert_int_equal(memop(XENMEM_increase_reservation, NULL, 1, 0, DOMID_SELF), 1);
    /* Continuation index: extents before it count as done. */
    list[0] = 300;
    list[1] = 200;
    assert_int_equal(do_memory_op(XENMEM_populate_physmap | (1 << MEMOP_EXTENT_SHIFT),
                                  (uint64_t)&(struct xen_memory_reservation){
                                      .extent_start = (uint64_t)list, .nr_extents = 2,
                                      .domid = DOMID_SELF }), 2);
    assert_int_equal(list[0], 300);
    assert_int_equal(machine_to_phys[list[1]], 200);
}

static void balloon_limits_and_refusals(void **state)
{
    (void)state;
    xen_pfn_t list[64];
    long before = reservation();
    domid_t self = DOMID_SELF;

    assert_int_equal(do_memory_op(XENMEM_maximum_reservation, (uint64_t)&self), 40);
    /* Never beyond max_pages: the batch stops there. */
    assert_int_equal(memop(XENMEM_increase_reservation, list, 64, 0, DOMID_SELF), 40 - before);
    assert_int_equal(reservation(), 40);
    assert_int_equal(memop(XENMEM_decrease_reservation, list, 40 - before, 0, DOMID_SELF),
                     40 - before);

    list[0] = 3;                                                    /* not ours */
    assert_int_equal(memop(XENMEM_decrease_reservation, list, 1, 0, DOMID_SELF), 0);
    list[0] = TEST_FRAMES + 1;
    assert_int_equal(memop(XENMEM_decrease_reservation, list, 1, 0, DOMID_SELF), 0);
    assert_int_equal(memop(XENMEM_populate_physmap, (xen_pfn_t *)BAD_PTR, 1, 0, DOMID_SELF), 0);
    assert_int_equal(memop(XENMEM_populate_physmap, (xen_pfn_t *)HV_RESERVED_START, 1, 0,
                           DOMID_SELF), 0);
    assert_int_equal(memop(XENMEM_increase_reservation, list, 1, 40, DOMID_SELF), 0);
    assert_int_equal(memop(XENMEM_increase_reservation, list, 1, 1, DOMID_SELF), 0);
    assert_int_equal(memop(XENMEM_increase_reservation, list, 1, 0, 5), 0);
    assert_int_equal(do_memory_op(XENMEM_increase_reservation, BAD_PTR), 0);
    assert_int_equal(reservation(), before);

    domid_t five = 5;
    harness_domain(2, 4, 0, false);
    domid_t two = 2;
    assert_int_equal(do_memory_op(XENMEM_current_reservation, (uint64_t)&five), -ESRCH);
    assert_int_equal(do_memory_op(XENMEM_current_reservation, (uint64_t)&two), -EPERM);
    assert_int_equal(do_memory_op(XENMEM_current_reservation, BAD_PTR), -EFAULT);
    assert_int_equal(do_memory_op(XENMEM_current_reservation | (1 << MEMOP_EXTENT_SHIFT),
                                  (uint64_t)&self), -EINVAL);
}

static void memory_layout_queries(void **state)
{
    (void)state;
    struct e820_entry map[4];
    struct xen_memory_map mm = { .nr_entries = 4, .buffer = (uint64_t)map };
    struct xen_machphys_mapping mp;
    xen_pfn_t mfns[4];
    struct xen_machphys_mfn_list ml = { .max_extents = 4, .extent_start = (uint64_t)mfns };

    assert_int_equal(do_memory_op(XENMEM_maximum_ram_page, 0), TEST_FRAMES);
    assert_int_equal(do_memory_op(XENMEM_memory_map, (uint64_t)&mm), 0);
    assert_int_equal(mm.nr_entries, 1);
    assert_int_equal(map[0].addr, 0);
    assert_int_equal(map[0].size, 40 * PAGE_SIZE);
    assert_int_equal(map[0].type, E820_RAM);
    mm.buffer = BAD_PTR;
    assert_int_equal(do_memory_op(XENMEM_memory_map, (uint64_t)&mm), -EFAULT);
    assert_int_equal(do_memory_op(XENMEM_memory_map, HV_RESERVED_START), -EFAULT);
    assert_int_equal(do_memory_op(XENMEM_machine_memory_map, (uint64_t)&mm), -EPERM);

    assert_int_equal(do_memory_op(XENMEM_machphys_mapping, (uint64_t)&mp), 0);
    assert_int_equal(mp.v_start, MACH2PHYS_VIRT_START);
    assert_int_equal(mp.v_end, MACH2PHYS_VIRT_END);
    assert_int_equal(mp.max_mfn, TEST_FRAMES - 1);
    assert_int_equal(do_memory_op(XENMEM_machphys_mfn_list, (uint64_t)&ml), 0);
    assert_int_equal(ml.nr_extents, 1);
    assert_int_equal(mfns[0], m2p_first_mfn());
    assert_int_equal(do_memory_op(63, 0), -ENOSYS);
}

/* Unknown sub-operations: -ENOSYS, each (hypercall, sub-op) recorded once
 * per domain; the record stops growing at UNIMPL_LOG_MAX. */
static void unimplemented_subops_recorded_once(void **state)
{
    (void)state;
    assert_int_equal(dom->nr_unimpl_logged, 0);
    assert_int_equal(do_memory_op(63, 0), -ENOSYS);
    assert_int_equal(do_memory_op(63, 0), -ENOSYS);
    assert_int_equal(dom->nr_unimpl_logged, 1);
    assert_int_equal(ext1(99, 0, 0), -ENOSYS);
    assert_int_equal(ext1(99, 0, 0), -ENOSYS);
    assert_int_equal(dom->nr_unimpl_logged, 2);
    assert_int_equal(hypercall_unimplemented(__HYPERVISOR_memory_op, HC_NO_SUBOP), -ENOSYS);
    assert_int_equal(dom->nr_unimpl_logged, 3);
    for (unsigned int i = 0; i < 2 * UNIMPL_LOG_MAX; i++)
        assert_int_equal(ext1(100 + i, 0, 0), -ENOSYS);
    assert_int_equal(dom->nr_unimpl_logged, UNIMPL_LOG_MAX);
}

/* ---- Continuations (hv/batch.h) ----
 * With the check for pending work answering yes every time, a batch stops
 * every BATCH_CHECK_EVERY requests and leaves a continuation, which is
 * issued again as the guest's re-executed hypercall instruction would;
 * the outcome must be the uninterrupted batch's. */

static long continue_all(long rc, unsigned int *rounds)
{
    *rounds = 0;
    while (harness_cont.pending) {
        const uint64_t *a = harness_cont.args;
        harness_cont.pending = false;
        (*rounds)++;
        assert_int_equal(rc, harness_cont.nr);      /* rax: the hypercall again */
        switch (harness_cont.nr) {
        case __HYPERVISOR_mmu_update:
            rc = do_mmu_update(a[0], a[1], a[2], a[3]);
            break;
        case __HYPERVISOR_mmuext_op:
            rc = do_mmuext_op(a[0], a[1], a[2], a[3]);
            break;
        case __HYPERVISOR_memory_op:
            rc = do_memory_op(a[0], a[1]);
            break;
        default:
            fail_msg("continuation of hypercall %u", harness_cont.nr);
        }
    }
    return rc;
}

/* mmu_update of n plain-memory writes into frame f, request bad refused. */
static long mmu_plain_batch(mfn_t f, unsigned int n, unsigned int bad, uint32_t *done,
                            unsigned int *rounds)
{
    struct mmu_update reqs[64];
    struct domain *other = domain_by_id(3);
    mfn_t foreign = harness_frame(other ? other : harness_domain(3, 4, 0, false));

    for (unsigned int i = 0; i < n; i++)
        reqs[i] = (struct mmu_update){ (f << PAGE_SHIFT) + i * 8, 0x1000 + i };
    if (bad < n)
        reqs[bad].ptr = foreign << PAGE_SHIFT;      /* not the caller's frame */
    *done = 0;
    return continue_all(do_mmu_update((uint64_t)reqs, n, (uint64_t)done, DOMID_SELF), rounds);
}

static void mmu_update_continues_as_uninterrupted(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom), b = harness_frame(dom);
    uint32_t done_a, done_b;
    unsigned int rounds;

    /* Uninterrupted: fails at request 37, 37 done. */
    assert_int_equal(mmu_plain_batch(a, 50, 37, &done_a, &rounds), -EINVAL);
    assert_int_equal(rounds, 0);
    assert_int_equal(done_a, 37);
    /* Preempted at 16 and 32, then the same failure at the same index. */
    harness_preempt_every = 1;
    assert_int_equal(mmu_plain_batch(b, 50, 37, &done_b, &rounds), -EINVAL);
    assert_int_equal(rounds, 37 / BATCH_CHECK_EVERY);
    assert_int_equal(done_b, 37);
    assert_memory_equal(harness_table(a), harness_table(b), PAGE_SIZE);
    assert_int_equal(harness_table(b)[36], 0x1000 + 36);
    assert_int_equal(harness_table(b)[37], 0);
    /* All 50 done, in 4 rounds. */
    assert_int_equal(mmu_plain_batch(b, 50, 99, &done_b, &rounds), 0);
    assert_int_equal(rounds, 49 / BATCH_CHECK_EVERY);
    assert_int_equal(done_b, 50);
    assert_int_equal(harness_table(b)[49], 0x1000 + 49);
    harness_preempt_every = 0;
}

static void mmuext_op_continues_as_uninterrupted(void **state)
{
    (void)state;
    struct mmuext_op ops[40];
    uint32_t done = 0;
    unsigned int rounds;

    for (unsigned int i = 0; i < 40; i++)
        ops[i] = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    ops[33].cmd = MMUEXT_MARK_SUPER;                /* -EOPNOTSUPP */
    harness_preempt_every = 1;
    assert_int_equal(continue_all(do_mmuext_op((uint64_t)ops, 40, (uint64_t)&done, DOMID_SELF),
                                  &rounds), -EOPNOTSUPP);
    assert_int_equal(rounds, 2);
    assert_int_equal(done, 33);
    /* Without a done pointer the continuation still completes. */
    ops[33].cmd = MMUEXT_TLB_FLUSH_LOCAL;
    assert_int_equal(continue_all(do_mmuext_op((uint64_t)ops, 40, 0, DOMID_SELF), &rounds), 0);
    assert_int_equal(rounds, 2);
    harness_preempt_every = 0;
}

static void memory_op_continues_as_uninterrupted(void **state)
{
    (void)state;
    xen_pfn_t list[30];
    unsigned int rounds;
    long before = reservation();
    /* Read again by each continuation: it must outlive them. */
    struct xen_memory_reservation r = { .extent_start = (uint64_t)list, .nr_extents = 30,
                                        .domid = DOMID_SELF };

    for (unsigned int i = 0; i < 30; i++)
        list[i] = 1000 + i;
    harness_preempt_every = 1;
    assert_int_equal(continue_all(do_memory_op(XENMEM_populate_physmap, (uint64_t)&r), &rounds),
                     30);
    assert_int_equal(rounds, 1);
    assert_int_equal(reservation(), before + 30);
    for (unsigned int i = 0; i < 30; i++) {
        assert_int_equal(machine_to_phys[list[i]], 1000 + i);
        assert_int_equal(frame_table[list[i]].owner, dom->id);
    }
    /* Given back with a frame not ours at 20: 20 extents done. */
    list[20] = harness_frame(harness_domain(3, 4, 0, false));
    assert_int_equal(continue_all(do_memory_op(XENMEM_decrease_reservation, (uint64_t)&r),
                                  &rounds), 20);
    assert_int_equal(rounds, 1);
    assert_int_equal(reservation(), before + 10);
    harness_preempt_every = 0;
}

/* XENMEM_exchange (order 0): each input frame, referenced only by its
 * allocation, is swapped for a new frame at the output gpfn; a bad one
 * stops it with -EINVAL and nr_exchanged its index, also across a
 * continuation; the checks come first, as Xen's. */
static void exchange_swaps_frames_and_continues(void **state)
{
    (void)state;
    xen_pfn_t in[30], orig[30], out[30];
    unsigned int rounds;
    struct domain *other = harness_domain(3, 4, 0, false);

    for (unsigned int i = 0; i < 30; i++) {
        in[i] = orig[i] = harness_frame(dom);
        out[i] = 2000 + i;
    }
    in[20] = harness_frame(other);
    long before = reservation();
    struct xen_memory_exchange x = {
        .in = { .extent_start = (uint64_t)in, .nr_extents = 30, .domid = DOMID_SELF },
        .out = { .extent_start = (uint64_t)out, .nr_extents = 30, .domid = DOMID_SELF },
    };
    harness_preempt_every = 1;
    assert_int_equal(continue_all(do_memory_op(XENMEM_exchange, (uint64_t)&x), &rounds),
                     -EINVAL);
    harness_preempt_every = 0;
    assert_int_equal(rounds, 1);
    assert_int_equal(x.nr_exchanged, 20);
    assert_int_equal(reservation(), before);
    for (unsigned int i = 0; i < 20; i++) {
        assert_int_equal(frame_table[out[i]].owner, dom->id);
        assert_int_equal(machine_to_phys[out[i]], 2000 + i);
        /* Each given frame was freed (the heap may hand it out again at once). */
        bool reused = false;
        for (unsigned int j = 0; j < 20; j++)
            reused |= out[j] == orig[i];
        assert_true(reused || frame_table[orig[i]].owner == OWNER_NONE);
    }
    assert_int_equal(frame_table[in[20]].owner, other->id);
    assert_int_equal(out[20], 2020);

    /* A frame that is mapped has another reference: refused, kept. */
    in[20] = orig[20];
    assert_int_equal(do_update_va_mapping(TEST_VA, pte(orig[20], PTE_DATA), 0), 0);
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -EINVAL);
    assert_int_equal(x.nr_exchanged, 20);
    assert_int_equal(frame_table[orig[20]].owner, dom->id);
    assert_int_equal(do_update_va_mapping(TEST_VA, 0, 0), 0);
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), 0);
    assert_int_equal(x.nr_exchanged, 30);
    assert_int_equal(machine_to_phys[out[29]], 2029);
    assert_int_equal(reservation(), before);

    /* Checks: progress beyond the list, sizes, orders, the domain. */
    x.nr_exchanged = 31;
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -EINVAL);
    assert_int_equal(x.nr_exchanged, 31);
    x.nr_exchanged = 0;
    x.out.nr_extents = 29;
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -EINVAL);
    x.out.nr_extents = 15;
    x.out.extent_order = 1;
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -EPERM);
    x.out.nr_extents = 30;
    x.out.extent_order = 0;
    x.in.domid = x.out.domid = 3;
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -EPERM);
    x.in.domid = x.out.domid = 9;
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -ESRCH);
    x.in.domid = DOMID_SELF;
    assert_int_equal(do_memory_op(XENMEM_exchange, (uint64_t)&x), -EINVAL);
    assert_int_equal(do_memory_op(XENMEM_exchange, BAD_PTR), -EFAULT);
}

/* ---- A request list at guest address 0 ----
 * Read there like any other list, and failing there as on Xen: a batch
 * never runs an element it did not copy in (it ran the stack's leftovers:
 * a multicall with a NULL list ran set_trap_table(NULL), stack_switch and
 * set_callbacks with hypervisor addresses). Only increase_reservation,
 * which reads nothing, has no list at 0. */

static unsigned int elems_run;

static long count_elem(void *ctx, void *elem, uint64_t at)
{
    (void)ctx;
    (void)elem;
    (void)at;
    elems_run++;
    return 0;
}

static void batch_list_at_0_is_read_there(void **state)
{
    (void)state;
    const struct batch_ops reads = { .size = BATCH_ELEM_MAX, .copy_in = true, .run = count_elem };
    const struct batch_ops writes_only = { .size = sizeof(xen_pfn_t), .run = count_elem,
                                           .out_size = sizeof(xen_pfn_t) };
    uint64_t i = 0;

    elems_run = 0;
    assert_int_equal(batch_run(&reads, NULL, 0, &i, 3), -EFAULT);
    assert_int_equal(elems_run, 0);
    assert_int_equal(i, 0);
    assert_int_equal(batch_run(&writes_only, NULL, 0, &i, 3), 0);
    assert_int_equal(elems_run, 3);

    /* The hypercalls over it: nothing done, -EFAULT or no extent. */
    uint32_t done = 0;
    long before = reservation();
    assert_int_equal(do_mmu_update(0, 1, (uint64_t)&done, DOMID_SELF), -EFAULT);
    assert_int_equal(do_mmuext_op(0, 1, (uint64_t)&done, DOMID_SELF), -EFAULT);
    assert_int_equal(done, 0);
    assert_int_equal(memop(XENMEM_decrease_reservation, NULL, 1, 0, DOMID_SELF), 0);
    assert_int_equal(memop(XENMEM_populate_physmap, NULL, 1, 0, DOMID_SELF), 0);
    assert_int_equal(reservation(), before);
    assert_int_equal(memop(XENMEM_increase_reservation, NULL, 1, 0, DOMID_SELF), 1);
    assert_int_equal(reservation(), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(mmu_update_maps_and_reports_done),
        T(mmu_update_refusals),
        T(mmu_update_plain_memory_and_m2p),
        T(update_va_mapping_walks_the_kernel_table),
        T(mmuext_pin_unpin_and_base_pointers),
        T(mmuext_flushes_ldt_and_pages),
        T(balloon_down_and_up),
        T(balloon_limits_and_refusals),
        T(memory_layout_queries),
        T(unimplemented_subops_recorded_once),
        T(mmu_update_continues_as_uninterrupted),
        T(mmuext_op_continues_as_uninterrupted),
        T(memory_op_continues_as_uninterrupted),
        T(exchange_swaps_frames_and_continues),
        T(batch_list_at_0_is_read_there),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
