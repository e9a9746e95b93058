/*
 * Test kernel: basic hypercalls.
 *
 * Covers xen_version sub-ops, console_io, memory_op queries
 * (maximum_ram_page, current_reservation, maximum_reservation, memory_map,
 * machphys_mapping, machine_memory_map), vm_assist, sched_op yield, vcpu_op
 * is_up / runstate, set_segment_base, fpu_taskswitch, an unknown hypercall
 * (-ENOSYS) and bad guest pointers (-EFAULT).
 */
#include "lib.h"
#include "evtime.h"

const char test_name[] = "hypercall_basics";

#define BAD_PTR_UNMAPPED  ((void *)0x0000100000000000ul)
#define BAD_PTR_XEN       ((void *)0xffff830000000000ul)

static void check_version(void)
{
    long v = hypercall_xen_version(XENVER_version, NULL);
    xen_extraversion_t extra;
    xen_capabilities_info_t caps;
    struct xen_platform_parameters pp;
    struct xen_feature_info fi = { .submap_idx = 0 };

    test_ok(v > 0 && (v >> 16) >= 3, "XENVER_version = %#lx, want major >= 3",
            (unsigned long)v);
    printk("xen version %ld.%ld\n", v >> 16, v & 0xffff);

    memset(extra, 0x7f, sizeof(extra));
    test_eq(hypercall_xen_version(XENVER_extraversion, extra), 0,
            "XENVER_extraversion");
    test_ok(strnlen(extra, sizeof(extra)) < sizeof(extra),
            "extraversion is not NUL-terminated");

    memset(caps, 0, sizeof(caps));
    test_eq(hypercall_xen_version(XENVER_capabilities, caps), 0,
            "XENVER_capabilities");
    test_ok(strstr(caps, "xen-3.0-x86_64") != NULL,
            "capabilities \"%s\" lack xen-3.0-x86_64", caps);

    test_eq(hypercall_xen_version(XENVER_platform_parameters, &pp), 0,
            "XENVER_platform_parameters");
    test_eq(pp.virt_start, HYPERVISOR_VIRT_START, "platform virt_start");

    test_eq(hypercall_xen_version(XENVER_get_features, &fi), 0,
            "XENVER_get_features submap 0");
    test_ok(!(fi.submap & (1u << XENFEAT_auto_translated_physmap)),
            "PV guest reported auto_translated_physmap (submap %#x)",
            fi.submap);
    fi.submap_idx = 1000;
    test_eq(hypercall_xen_version(XENVER_get_features, &fi), -XEN_EINVAL,
            "XENVER_get_features with submap_idx 1000");

    test_eq(hypercall_xen_version(XENVER_pagesize, NULL), 4096,
            "XENVER_pagesize");
    test_eq(hypercall_xen_version(XENVER_extraversion, BAD_PTR_UNMAPPED),
            -XEN_EFAULT, "XENVER_extraversion into an unmapped buffer");
    test_eq(hypercall_xen_version(XENVER_capabilities, BAD_PTR_XEN),
            -XEN_EFAULT, "XENVER_capabilities into hypervisor memory");
    test_eq(hypercall_xen_version(1000, NULL), -XEN_ENOSYS,
            "xen_version with unknown command 1000");
}

static void check_console(void)
{
    static const char msg[] = "console_io: hello from the test kernel\n";

    test_eq(hypercall_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), 0,
            "CONSOLEIO_write");
    test_eq(hypercall_console_io(CONSOLEIO_write, 16, BAD_PTR_UNMAPPED),
            -XEN_EFAULT, "CONSOLEIO_write from an unmapped buffer");
    test_eq(hypercall_console_io(CONSOLEIO_write, 16, BAD_PTR_XEN),
            -XEN_EFAULT, "CONSOLEIO_write from hypervisor memory");
    test_eq(hypercall_console_io(77, 0, NULL), -XEN_ENOSYS,
            "console_io with unknown command 77");
}

static uint64_t e820_ram_bytes(const struct e820_entry *map, unsigned int n,
                               uint64_t *top)
{
    uint64_t ram = 0;

    *top = 0;
    for (unsigned int i = 0; i < n; i++) {
        printk("  e820[%u]: %#lx + %#lx type %u\n", i,
               (unsigned long)map[i].addr, (unsigned long)map[i].size,
               map[i].type);
        if (map[i].type == E820_RAM) {
            ram += map[i].size;
            if (map[i].addr + map[i].size > *top)
                *top = map[i].addr + map[i].size;
        }
    }
    return ram;
}

/*
 * XENMEM_memory_map gives the pseudo-physical map the toolstack set; a
 * domain without one (Xen's PV dom0) gets -ENOSYS and must assume
 * [0, nr_pages) is RAM. XENMEM_machine_memory_map is for privileged
 * domains only.
 */
static void check_memory_map(struct e820_entry *map, unsigned int cap,
                             long cur)
{
    struct xen_memory_map mm = { .nr_entries = cap, .buffer = HC(map) };
    long rc = hypercall_memory_op(XENMEM_memory_map, &mm);
    uint64_t top;

    test_ok(rc == 0 || rc == -XEN_ENOSYS,
            "XENMEM_memory_map returned %ld, want 0 or -ENOSYS", rc);
    if (rc == 0) {
        test_ok(mm.nr_entries >= 1 && mm.nr_entries <= cap,
                "memory_map returned %u entries", mm.nr_entries);
        test_ok(e820_ram_bytes(map, mm.nr_entries, &top) >=
                (uint64_t)cur * PAGE_SIZE,
                "memory_map has less RAM than the %ld pages held", cur);
        mm.nr_entries = cap;
        mm.buffer = HC(BAD_PTR_UNMAPPED);
        test_eq(hypercall_memory_op(XENMEM_memory_map, &mm), -XEN_EFAULT,
                "memory_map into an unmapped buffer");
    } else {
        printk("memory_map: none set for this domain (-ENOSYS)\n");
    }
    test_eq(hypercall_memory_op(XENMEM_memory_map, BAD_PTR_XEN), -XEN_EFAULT,
            "memory_map with its argument in hypervisor memory");

    mm.nr_entries = cap;
    mm.buffer = HC(map);
    rc = hypercall_memory_op(XENMEM_machine_memory_map, &mm);
    if (start_info->flags & SIF_PRIVILEGED) {
        long max_ram = hypercall_memory_op(XENMEM_maximum_ram_page, NULL);

        test_eq(rc, 0, "machine_memory_map for a privileged domain");
        if (rc == 0) {
            test_ok(e820_ram_bytes(map, mm.nr_entries, &top) > 0,
                    "machine memory map has no RAM");
            test_ok(top >> PAGE_SHIFT <= (uint64_t)max_ram,
                    "machine RAM ends at %#lx, above maximum_ram_page %#lx",
                    (unsigned long)top, (unsigned long)max_ram);
        }
    } else {
        test_eq(rc, -XEN_EPERM, "machine_memory_map for an unprivileged "
                "domain");
    }
}

static void check_memory_queries(void)
{
    domid_t self = DOMID_SELF;
    long max_ram = hypercall_memory_op(XENMEM_maximum_ram_page, NULL);
    long cur = hypercall_memory_op(XENMEM_current_reservation, &self);
    long max = hypercall_memory_op(XENMEM_maximum_reservation, &self);
    struct xen_machphys_mapping mapping;
    static struct e820_entry map[64];

    test_ok(max_ram > 0, "XENMEM_maximum_ram_page = %ld", max_ram);
    test_ok(cur > 0 && (uint64_t)cur >= start_info->nr_pages - 16 &&
            (uint64_t)cur <= start_info->nr_pages + 16,
            "current_reservation %ld far from start_info nr_pages %lu", cur,
            (unsigned long)start_info->nr_pages);
    test_ok(max >= cur, "maximum_reservation %ld < current %ld", max, cur);
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn += 997)
        if (!test_ok(pfn_to_mfn(pfn) <= (uint64_t)max_ram,
                     "p2m[%lu] = %#lx above maximum_ram_page %#lx",
                     (unsigned long)pfn, (unsigned long)pfn_to_mfn(pfn),
                     (unsigned long)max_ram))
            break;
    test_eq(hypercall_memory_op(XENMEM_current_reservation, BAD_PTR_UNMAPPED),
            -XEN_EFAULT, "current_reservation with an unmapped domid pointer");

    test_eq(hypercall_memory_op(XENMEM_machphys_mapping, &mapping), 0,
            "XENMEM_machphys_mapping");
    test_eq(mapping.v_start, MACH2PHYS_VIRT_START, "machphys v_start");
    test_ok(mapping.v_end > mapping.v_start &&
            mapping.v_end <= MACH2PHYS_VIRT_END,
            "machphys v_end %#lx", (unsigned long)mapping.v_end);
    /* maximum_ram_page is one past the highest MFN; max_mfn is the last
     * MFN the table covers. */
    test_ok(mapping.max_mfn + 1 >= (uint64_t)max_ram,
            "machphys max_mfn %#lx below maximum_ram_page %#lx",
            (unsigned long)mapping.max_mfn, (unsigned long)max_ram);
    /* The M2P inverts the P2M for our own frames. */
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn += 509)
        if (!test_eq(mfn_to_pfn(pfn_to_mfn(pfn)), pfn, "m2p[p2m[%lu]]",
                     (unsigned long)pfn))
            break;

    check_memory_map(map, ARRAY_SIZE(map), cur);
    test_eq(hypercall_memory_op(63, NULL), -XEN_ENOSYS,
            "memory_op with unknown command 63");
}

static void check_vm_assist(void)
{
    test_eq(hypercall_vm_assist(VMASST_CMD_enable,
                                VMASST_TYPE_writable_pagetables), 0,
            "enable writable_pagetables");
    test_eq(hypercall_vm_assist(VMASST_CMD_disable,
                                VMASST_TYPE_writable_pagetables), 0,
            "disable writable_pagetables");
    /* Accepted (and meaningless) for 64-bit guests too. */
    test_eq(hypercall_vm_assist(VMASST_CMD_enable,
                                VMASST_TYPE_4gb_segments), 0,
            "enable 4gb_segments on a 64-bit guest");
    test_eq(hypercall_vm_assist(VMASST_CMD_disable,
                                VMASST_TYPE_4gb_segments), 0,
            "disable 4gb_segments");
    test_eq(hypercall_vm_assist(VMASST_CMD_enable, 64), -XEN_EINVAL,
            "enable vm_assist type 64 (beyond the bitmap)");
    test_eq(hypercall_vm_assist(VMASST_CMD_enable, 31), -XEN_EINVAL,
            "enable unknown vm_assist type 31");
    test_eq(hypercall_vm_assist(7, VMASST_TYPE_writable_pagetables),
            -XEN_ENOSYS, "vm_assist unknown command 7");
}

static void check_sched_vcpu(void)
{
    struct vcpu_runstate_info rs;

    test_eq(hypercall_sched_op(SCHEDOP_yield, NULL), 0, "SCHEDOP_yield");
    test_eq(hypercall_sched_op(99, NULL), -XEN_ENOSYS, "sched_op command 99");
    test_eq(hypercall_vcpu_op(VCPUOP_is_up, 0, NULL), 1, "VCPUOP_is_up vcpu0");
    test_eq(hypercall_vcpu_op(VCPUOP_is_up, 4096, NULL), -XEN_ENOENT,
            "VCPUOP_is_up on vcpu 4096");
    test_eq(hypercall_vcpu_op(VCPUOP_get_runstate_info, 0, &rs), 0,
            "VCPUOP_get_runstate_info");
    test_eq(rs.state, RUNSTATE_running, "runstate of the running vcpu");
    test_ok(rs.time[RUNSTATE_running] > 0, "no running time accounted");
    test_eq(hypercall_vcpu_op(VCPUOP_get_runstate_info, 0, BAD_PTR_UNMAPPED),
            -XEN_EFAULT, "get_runstate_info into an unmapped buffer");

    /* A registered runstate area is written at once and again whenever
     * the vCPU is descheduled and comes back. */
    static struct vcpu_runstate_info area;
    struct vcpu_register_runstate_memory_area reg = { .addr = (uint64_t)&area };
    test_eq(hypercall_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &reg), 0,
            "VCPUOP_register_runstate_memory_area");
    test_eq(area.state, RUNSTATE_running, "runstate area written at registration");
    uint64_t first = area.state_entry_time;
    test_ok(first > 0, "runstate area has no state entry time");
    sleep_until(system_time() + 20 * NSEC_PER_MSEC);
    test_ok(area.state_entry_time > first,
            "runstate area not updated across a block (entry time %lu, was %lu)",
            (unsigned long)area.state_entry_time, (unsigned long)first);
    test_eq(area.state, RUNSTATE_running, "runstate area state after waking");
    reg.addr = 0;
    test_eq(hypercall_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &reg), 0,
            "unregister the runstate area");
}

static void check_misc(void)
{
    static uint64_t fs_target = 0x5ca1ab1e;
    uint64_t fs = 0;

    test_eq(hypercall_set_segment_base(SEGBASE_FS, (uint64_t)&fs_target), 0,
            "set_segment_base(FS)");
    __asm__ volatile("mov %%fs:0, %0" : "=r"(fs) : : "memory");
    test_eq(fs, fs_target, "load through %%fs after set_segment_base");
    test_eq(hypercall_set_segment_base(SEGBASE_FS, 0), 0,
            "set_segment_base(FS, 0)");
    test_eq(hypercall_set_segment_base(9, 0), -XEN_EINVAL,
            "set_segment_base unknown selector 9");
    test_eq(hypercall_set_segment_base(SEGBASE_FS, 0x800000000000ul),
            -XEN_EINVAL, "set_segment_base non-canonical FS");
    test_eq(hypercall_fpu_taskswitch(1), 0, "fpu_taskswitch(1)");
    test_eq(hypercall_fpu_taskswitch(0), 0, "fpu_taskswitch(0)");
}

static void check_unknown_hypercalls(void)
{
    for (unsigned int nr = 56; nr < 128; nr += 9)
        test_eq(hypercall5(nr, 1, 2, 3, 4, 5), -XEN_ENOSYS,
                "unknown hypercall %u", nr);
}

void test_main(void)
{
    check_version();
    check_console();
    check_memory_queries();
    check_vm_assist();
    check_sched_vcpu();
    check_misc();
    check_unknown_hypercalls();
}
