/*
 * roles.h - who may call what (roles.c). Every connection gets one role
 * when it is accepted, from SO_PEERCRED/SO_PEERGROUPS (unix socket) or its
 * certificate's subject CN (TLS, --tls-roles); every method needs one
 * ("x-role" in api/pvd.openrpc.json, admin when absent; rpc.c checks).
 */
#ifndef PVD_ROLES_H
#define PVD_ROLES_H

#include <stddef.h>
#include <sys/types.h>

#include "options.h"

enum pvd_role {
	PVD_ROLE_NONE,		/* may only ask rpc.discover and daemon.version */
	PVD_ROLE_READER,	/* read-only: lists, info, events, consoles, host info, xenstore reads */
	PVD_ROLE_ADMIN,		/* everything */
};

struct roles_cert {
	char cn[65];		/* X.509 caps a CN at 64 characters */
	enum pvd_role role;
};

struct roles {
	const char *admin_group, *reader_group;	/* names as configured (pvd_options) */
	gid_t admin_gid, reader_gid;
	int have_admin_gid, have_reader_gid;
	struct roles_cert *certs;	/* --tls-roles, in file order */
	int ncerts;
};

/* Resolves the groups and reads --tls-roles; a message on error. */
int roles_init(struct roles *r, const struct pvd_options *o, char *err, size_t errlen);
void roles_free(struct roles *r);

const char *role_name(enum pvd_role role);
/* "any", "reader", "admin" -> *role; -1 for anything else. */
int role_parse(const char *s, enum pvd_role *role);

/* A unix-socket peer: uid 0 (or pvd's own uid) and --admin-group are
 * admin, --reader-group reader, everyone else none. groups are the
 * peer's supplementary groups (SO_PEERGROUPS). */
enum pvd_role roles_for_peer(const struct roles *r, uid_t uid, gid_t gid, const gid_t *groups, int ngroups);
/* A TLS client by its certificate's CN (NULL: none): the --tls-roles line
 * naming it, else none. */
enum pvd_role roles_for_cert(const struct roles *r, const char *cn);
/* What grants role needed, for error messages: "uid 0 or group pvdadm". */
void roles_needed_text(const struct roles *r, enum pvd_role needed, int tls, char *out, size_t len);

#endif
