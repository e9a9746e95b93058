/*
 * Prints the size of every key structure of the PV ABI and the offset and
 * size of its fields, one per line. Built twice by abi-layout.sh: against
 * pvcore's headers (-DPVCORE_HEADERS, <public/...>) and against Debian's
 * Xen 4.17 headers (<xen/...>); the two outputs must be identical.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef PVCORE_HEADERS
#include <public/xen.h>
#include <public/callback.h>
#include <public/event_channel.h>
#include <public/grant_table.h>
#include <public/memory.h>
#include <public/physdev.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/version.h>
#include <public/io/console.h>
#include <public/io/xs_wire.h>
#include <public/privileged.h>
#else
#define __XEN_TOOLS__ 1     /* sysctl.h and domctl.h are for tools (layouts unchanged) */
#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/physdev.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/nmi.h>
#include <xen/sysctl.h>
#include <xen/domctl.h>
#include <xen/platform.h>
#endif

#define S(s) printf("%-28s size %zu\n", #s, sizeof(struct s))
#define F(s, f) printf("%-28s %-26s at %4zu size %zu\n", #s, #f, \
                       offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define U(u) printf("%-28s size %zu\n", #u, sizeof(union u))
#define UF(u, f) printf("%-28s %-26s at %4zu size %zu\n", #u, #f, \
                        offsetof(union u, f), sizeof(((union u *)0)->f))

int main(void)
{
    S(start_info); F(start_info, nr_pages); F(start_info, shared_info);
    F(start_info, flags); F(start_info, store_mfn); F(start_info, store_evtchn);
    F(start_info, console.domU.mfn); F(start_info, console.domU.evtchn);
    F(start_info, console.dom0.info_off); F(start_info, pt_base);
    F(start_info, nr_pt_frames); F(start_info, mfn_list); F(start_info, mod_start);
    F(start_info, mod_len); F(start_info, cmd_line); F(start_info, first_p2m_pfn);
    F(start_info, nr_p2m_frames);
    S(shared_info); F(shared_info, vcpu_info); F(shared_info, evtchn_pending);
    F(shared_info, evtchn_mask); F(shared_info, wc_version); F(shared_info, wc_sec);
    F(shared_info, wc_nsec); F(shared_info, wc_sec_hi); F(shared_info, arch);
    S(arch_shared_info); F(arch_shared_info, max_pfn);
    F(arch_shared_info, pfn_to_mfn_frame_list_list); F(arch_shared_info, nmi_reason);
    F(arch_shared_info, p2m_cr3); F(arch_shared_info, p2m_vaddr);
    F(arch_shared_info, p2m_generation);
    S(vcpu_info); F(vcpu_info, evtchn_upcall_pending); F(vcpu_info, evtchn_upcall_mask);
    F(vcpu_info, evtchn_pending_sel); F(vcpu_info, arch); F(vcpu_info, time);
    S(arch_vcpu_info); F(arch_vcpu_info, cr2);
    S(vcpu_time_info); F(vcpu_time_info, version); F(vcpu_time_info, tsc_timestamp);
    F(vcpu_time_info, system_time); F(vcpu_time_info, tsc_to_system_mul);
    F(vcpu_time_info, tsc_shift); F(vcpu_time_info, flags);
    S(trap_info); F(trap_info, vector); F(trap_info, flags); F(trap_info, cs);
    F(trap_info, address);
    S(mmu_update); F(mmu_update, ptr); F(mmu_update, val);
    S(mmuext_op); F(mmuext_op, cmd); F(mmuext_op, arg1.mfn);
    F(mmuext_op, arg1.linear_addr); F(mmuext_op, arg2.nr_ents);
    F(mmuext_op, arg2.src_mfn);
    S(multicall_entry); F(multicall_entry, op); F(multicall_entry, result);
    F(multicall_entry, args);
    S(cpu_user_regs); F(cpu_user_regs, r15); F(cpu_user_regs, rbp);
    F(cpu_user_regs, r11); F(cpu_user_regs, rax); F(cpu_user_regs, rdi);
    F(cpu_user_regs, error_code); F(cpu_user_regs, entry_vector);
    F(cpu_user_regs, rip); F(cpu_user_regs, cs); F(cpu_user_regs, saved_upcall_mask);
    F(cpu_user_regs, rflags); F(cpu_user_regs, rsp); F(cpu_user_regs, ss);
    F(cpu_user_regs, es); F(cpu_user_regs, ds); F(cpu_user_regs, fs);
    F(cpu_user_regs, gs);
    S(vcpu_guest_context); F(vcpu_guest_context, flags);
    F(vcpu_guest_context, user_regs); F(vcpu_guest_context, trap_ctxt);
    F(vcpu_guest_context, ldt_base); F(vcpu_guest_context, ldt_ents);
    F(vcpu_guest_context, gdt_frames); F(vcpu_guest_context, gdt_ents);
    F(vcpu_guest_context, kernel_ss); F(vcpu_guest_context, kernel_sp);
    F(vcpu_guest_context, ctrlreg); F(vcpu_guest_context, debugreg);
    F(vcpu_guest_context, event_callback_eip);
    F(vcpu_guest_context, failsafe_callback_eip);
    F(vcpu_guest_context, syscall_callback_eip); F(vcpu_guest_context, vm_assist);
    F(vcpu_guest_context, fs_base); F(vcpu_guest_context, gs_base_kernel);
    F(vcpu_guest_context, gs_base_user);
    S(iret_context); F(iret_context, rax); F(iret_context, flags);
    F(iret_context, rip); F(iret_context, ss);
    S(callback_register); F(callback_register, type); F(callback_register, flags);
    F(callback_register, address);
    S(xennmi_callback); F(xennmi_callback, handler_address);
    S(xen_sysctl); F(xen_sysctl, cmd); F(xen_sysctl, interface_version); F(xen_sysctl, u);
    S(xen_domctl); F(xen_domctl, interface_version); F(xen_domctl, domain); F(xen_domctl, u);
    S(xen_platform_op); F(xen_platform_op, interface_version); F(xen_platform_op, u);
    S(vcpu_register_time_memory_area);
    S(evtchn_alloc_unbound); F(evtchn_alloc_unbound, remote_dom);
    F(evtchn_alloc_unbound, port);
    S(evtchn_bind_interdomain); F(evtchn_bind_interdomain, remote_port);
    F(evtchn_bind_interdomain, local_port);
    S(evtchn_bind_virq); F(evtchn_bind_virq, vcpu); F(evtchn_bind_virq, port);
    S(evtchn_bind_pirq); F(evtchn_bind_pirq, port);
    S(evtchn_bind_ipi); F(evtchn_bind_ipi, port);
    S(evtchn_status); F(evtchn_status, port); F(evtchn_status, status);
    F(evtchn_status, vcpu); F(evtchn_status, u.interdomain.port);
    F(evtchn_status, u.virq);
    S(evtchn_bind_vcpu); F(evtchn_bind_vcpu, vcpu);
    S(evtchn_init_control); F(evtchn_init_control, link_bits);
    F(evtchn_init_control, offset); F(evtchn_init_control, vcpu);
    S(evtchn_expand_array); F(evtchn_expand_array, array_gfn);
    S(evtchn_set_priority); F(evtchn_set_priority, priority);
    S(evtchn_fifo_control_block); F(evtchn_fifo_control_block, ready);
    F(evtchn_fifo_control_block, head);
    printf("EVTCHN_FIFO %u %u %u %u %u %#x %u\n", EVTCHN_FIFO_PENDING,
           EVTCHN_FIFO_MASKED, EVTCHN_FIFO_LINKED, EVTCHN_FIFO_BUSY,
           EVTCHN_FIFO_LINK_BITS, (unsigned)EVTCHN_FIFO_LINK_MASK,
           (unsigned)EVTCHN_FIFO_NR_CHANNELS);
    S(evtchn_op); F(evtchn_op, u);
    S(grant_entry_v1); F(grant_entry_v1, domid); F(grant_entry_v1, frame);
    S(gnttab_map_grant_ref); F(gnttab_map_grant_ref, flags);
    F(gnttab_map_grant_ref, ref); F(gnttab_map_grant_ref, dom);
    F(gnttab_map_grant_ref, status); F(gnttab_map_grant_ref, handle);
    F(gnttab_map_grant_ref, dev_bus_addr);
    S(gnttab_unmap_grant_ref); F(gnttab_unmap_grant_ref, handle);
    F(gnttab_unmap_grant_ref, status);
    S(gnttab_setup_table); F(gnttab_setup_table, nr_frames);
    F(gnttab_setup_table, status); F(gnttab_setup_table, frame_list);
    S(gnttab_query_size); F(gnttab_query_size, max_nr_frames);
    F(gnttab_query_size, status);
    S(gnttab_copy); F(gnttab_copy, source.domid); F(gnttab_copy, source.offset);
    F(gnttab_copy, dest); F(gnttab_copy, len); F(gnttab_copy, flags);
    F(gnttab_copy, status);
    S(gnttab_transfer); F(gnttab_transfer, status);
    S(gnttab_set_version); S(gnttab_get_version); F(gnttab_get_version, version);
    S(gnttab_unmap_and_replace); F(gnttab_unmap_and_replace, new_addr);
    F(gnttab_unmap_and_replace, handle); F(gnttab_unmap_and_replace, status);
    S(gnttab_get_status_frames); F(gnttab_get_status_frames, dom);
    F(gnttab_get_status_frames, status); F(gnttab_get_status_frames, frame_list);
    S(grant_entry_header); F(grant_entry_header, domid);
    U(grant_entry_v2); UF(grant_entry_v2, full_page.frame); UF(grant_entry_v2, sub_page.page_off);
    UF(grant_entry_v2, sub_page.length); UF(grant_entry_v2, sub_page.frame);
    UF(grant_entry_v2, transitive.trans_domid); UF(grant_entry_v2, transitive.gref);
    S(xen_memory_reservation); F(xen_memory_reservation, extent_start);
    F(xen_memory_reservation, nr_extents); F(xen_memory_reservation, extent_order);
    F(xen_memory_reservation, mem_flags); F(xen_memory_reservation, domid);
    S(xen_memory_exchange); F(xen_memory_exchange, out);
    F(xen_memory_exchange, nr_exchanged);
    S(xen_memory_map); F(xen_memory_map, buffer);
    S(xen_machphys_mapping); F(xen_machphys_mapping, max_mfn);
    S(xen_machphys_mfn_list); F(xen_machphys_mfn_list, extent_start);
    F(xen_machphys_mfn_list, nr_extents);
    S(xen_add_to_physmap); F(xen_add_to_physmap, space); F(xen_add_to_physmap, idx);
    F(xen_add_to_physmap, gpfn);
    S(sched_shutdown); S(sched_poll); F(sched_poll, nr_ports); F(sched_poll, timeout);
    S(sched_remote_shutdown); F(sched_remote_shutdown, reason);
    S(vcpu_runstate_info); F(vcpu_runstate_info, state_entry_time);
    F(vcpu_runstate_info, time);
    S(vcpu_register_runstate_memory_area);
    S(vcpu_set_singleshot_timer); F(vcpu_set_singleshot_timer, flags);
    S(vcpu_register_vcpu_info); F(vcpu_register_vcpu_info, offset);
    S(physdev_set_iopl); S(physdev_set_iobitmap); F(physdev_set_iobitmap, nr_ports);
    S(xen_feature_info); F(xen_feature_info, submap);
    S(xen_platform_parameters); S(xen_compile_info); F(xen_compile_info, compile_date);
    S(xencons_interface); F(xencons_interface, out); F(xencons_interface, in_cons);
    F(xencons_interface, out_prod);
    S(xenstore_domain_interface); F(xenstore_domain_interface, rsp);
    F(xenstore_domain_interface, req_cons); F(xenstore_domain_interface, rsp_prod);
    F(xenstore_domain_interface, server_features);
    F(xenstore_domain_interface, error);
    S(xsd_sockmsg); F(xsd_sockmsg, len);
    return 0;
}
