/*
 * pvd.h - the daemon's one state struct. Everything pvd holds hangs off
 * struct pvd; there are no other globals (log.c keeps only its two flags).
 * Built and torn down in the order written in main.c.
 */
#ifndef PVD_PVD_H
#define PVD_PVD_H

#include <event2/event.h>

#include "image_dir.h"
#include "options.h"
#include "roles.h"

struct store;
struct domain_cache;
struct config_checker;
struct rpc;
struct server;
struct tls_listener;
struct hv;
struct pvd_xs;
struct pvd_blk;
struct pvd_net;

struct pvd {
	struct pvd_options opt;
	struct image_dirs images;	/* where kernels and ramdisks may come from */
	struct image_dirs disk_dirs;	/* where disk images may be: the pool and --disk-dir (pool.c) */
	struct roles roles;		/* who may call what */
	int lock_fd;			/* flock on STATE/pvd.lock: one pvd per state dir */
	struct config_checker *checker;
	struct store *store;
	struct domain_cache *domains;	/* the store's domains for the read paths (domain_cache.c) */
	struct store_sync *sync;	/* commits made durable off the loop (store_sync.c) */
	struct rpc *rpc;
	struct event_base *base;
	struct server *server;		/* unix socket and its clients (also TLS clients) */
	struct tls_listener *tls;
	struct event *sig_term, *sig_int, *sig_hup;
	struct hv *hv;			/* the machine; NULL without one (hv.c) */
	struct pvd_xs *xs;		/* the xenstore server; NULL without a machine (xs_host.c) */
	struct pvd_blk *blk;		/* the block backend; NULL without a machine (blk_host.c) */
	struct pvd_net *net;		/* netback; NULL without a machine (net_host.c) */
};

#endif
