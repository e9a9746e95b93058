/*
 * rpc_methods.c - pvd's one dispatch table of JSON-RPC methods.
 *
 * Adding a method = one line here + its handler + its entry in
 * api/pvd.openrpc.json (params and errors). rpc_new refuses to start when
 * this table and the document disagree.
 */
#include "methods.h"

const struct rpc_method rpc_methods[] = {
	{ "rpc.discover",       method_rpc_discover },
	{ "daemon.version",     method_daemon_version },
	{ "host.info",          method_host_info },
	{ "host.dmesg",         method_host_dmesg },
	{ "config.validate",    method_config_validate },
	{ "domain.define",      method_domain_define },
	{ "domain.undefine",    method_domain_undefine },
	{ "domain.list",        method_domain_list },
	{ "domain.info",        method_domain_info },
	{ "domain.get_config",  method_domain_get_config },
	{ "domain.autostart",   method_domain_autostart },
	{ "domain.start",       method_domain_start },
	{ "domain.create",      method_domain_create },
	{ "domain.destroy",     method_domain_destroy },
	{ "domain.adopt",       method_domain_adopt },
	{ "domain.shutdown",    method_domain_shutdown },
	{ "domain.reboot",      method_domain_reboot },
	{ "domain.pause",       method_domain_pause },
	{ "domain.resume",      method_domain_resume },
	{ "domain.set_memory",  method_domain_set_memory },
	{ "domain.set_maxmem",  method_domain_set_maxmem },
	{ "domain.set_sched",   method_domain_set_sched },
	{ "domain.console",     method_domain_console },
	{ "domain.set_disk_quota", method_domain_set_disk_quota },
	{ "domain.set_disk_limit", method_domain_set_disk_limit },
	{ "vol.list",           method_vol_list },
	{ "vol.create",         method_vol_create },
	{ "vol.delete",         method_vol_delete },
	{ "vol.resize",         method_vol_resize },
	{ "domain.block_attach", method_domain_block_attach },
	{ "domain.block_detach", method_domain_block_detach },
	{ "domain.net_attach",  method_domain_net_attach },
	{ "domain.net_detach",  method_domain_net_detach },
	{ "domain.net_limit",   method_domain_net_limit },
	{ "events.subscribe",   method_events_subscribe },
	{ "events.unsubscribe", method_events_unsubscribe },
	{ "events.list",        method_events_list },
	{ "xs.ls",              method_xs_ls },
	{ "xs.read",            method_xs_read },
	{ "xs.write",           method_xs_write },
	{ "xs.rm",              method_xs_rm },
	{ "xs.watch",           method_xs_watch },
	{ NULL, NULL }
};
