/*
 * roles.c - the roles of pvd's callers (see roles.h).
 *
 * Owns the resolved --admin-group / --reader-group ids and the table read
 * from --tls-roles ("ROLE CN" per line, ROLE admin or reader, CN the rest
 * of the line; '#' starts a comment; a CN listed twice is an error).
 * The role is decided once per connection, from what the kernel or the TLS
 * handshake says about the peer, never from a request.
 * Invariant: certs[0..ncerts) have distinct, non-empty CNs. No locks (one
 * thread).
 */
#include "roles.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROLES_MAX_CERTS 4096

const char *role_name(enum pvd_role role)
{
	switch (role) {
	case PVD_ROLE_ADMIN:
		return "admin";
	case PVD_ROLE_READER:
		return "reader";
	default:
		return "none";
	}
}

int role_parse(const char *s, enum pvd_role *role)
{
	if (!strcmp(s, "admin"))
		*role = PVD_ROLE_ADMIN;
	else if (!strcmp(s, "reader"))
		*role = PVD_ROLE_READER;
	else if (!strcmp(s, "any"))
		*role = PVD_ROLE_NONE;
	else
		return -1;
	return 0;
}

static int resolve_group(const char *opt, const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group *g;
	char *end;
	unsigned long n;

	errno = 0;
	g = getgrnam(name);
	if (g) {
		*gid = g->gr_gid;
		return 0;
	}
	n = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && !*end && n < (gid_t)-1) {
		*gid = (gid_t)n;
		return 0;
	}
	snprintf(err, errlen, "--%s %.100s: no such group", opt, name);
	return -1;
}

static int read_tls_roles(struct roles *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int lineno = 0, rc = 0;

	if (!f) {
		snprintf(err, errlen, "--tls-roles %.300s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *s = conf_trim(line), *cn;
		enum pvd_role role;
		size_t n;

		lineno++;
		if (!*s || *s == '#')
			continue;
		n = strcspn(s, " \t");
		cn = conf_trim(s + n);
		s[n] = '\0';
		if (role_parse(s, &role) != 0 || role == PVD_ROLE_NONE) {
			snprintf(err, errlen, "--tls-roles %.300s:%d: the role must be admin or reader, not \"%.40s\"",
				 path, lineno, s);
			rc = -1;
		} else if (!*cn || strlen(cn) >= sizeof(r->certs[0].cn)) {
			snprintf(err, errlen, "--tls-roles %.300s:%d: expected \"ROLE CN\" with a CN of 1 to %zu characters",
				 path, lineno, sizeof(r->certs[0].cn) - 1);
			rc = -1;
		} else if (r->ncerts >= ROLES_MAX_CERTS) {
			snprintf(err, errlen, "--tls-roles %.300s: more than %d certificates", path, ROLES_MAX_CERTS);
			rc = -1;
		} else {
			struct roles_cert *c;
			for (int i = 0; i < r->ncerts; i++)
				if (!strcmp(r->certs[i].cn, cn)) {
					snprintf(err, errlen, "--tls-roles %.300s:%d: CN \"%.64s\" is listed twice", path,
						 lineno, cn);
					rc = -1;
				}
			c = rc ? NULL : realloc(r->certs, (size_t)(r->ncerts + 1) * sizeof(*c));
			if (!rc && !c) {
				snprintf(err, errlen, "--tls-roles: out of memory");
				rc = -1;
			}
			if (c) {
				r->certs = c;
				snprintf(c[r->ncerts].cn, sizeof(c[r->ncerts].cn), "%s", cn);
				c[r->ncerts++].role = role;
			}
		}
	}
	fclose(f);
	return rc;
}

int roles_init(struct roles *r, const struct pvd_options *o, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->admin_group = o->admin_group;
	r->reader_group = o->reader_group;
	if (o->admin_group && resolve_group("admin-group", o->admin_group, &r->admin_gid, err, errlen) != 0)
		return -1;
	r->have_admin_gid = o->admin_group != NULL;
	if (o->reader_group && resolve_group("reader-group", o->reader_group, &r->reader_gid, err, errlen) != 0)
		return -1;
	r->have_reader_gid = o->reader_group != NULL;
	if (o->tls_roles && read_tls_roles(r, o->tls_roles, err, errlen) != 0) {
		roles_free(r);
		return -1;
	}
	return 0;
}

void roles_free(struct roles *r)
{
	free(r->certs);
	memset(r, 0, sizeof(*r));
}

static int in_group(gid_t want, gid_t gid, const gid_t *groups, int n)
{
	if (gid == want)
		return 1;
	for (int i = 0; i < n; i++)
		if (groups[i] == want)
			return 1;
	return 0;
}

enum pvd_role roles_for_peer(const struct roles *r, uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	if (uid == 0 || uid == geteuid())
		return PVD_ROLE_ADMIN;
	if (r->have_admin_gid && in_group(r->admin_gid, gid, groups, ngroups))
		return PVD_ROLE_ADMIN;
	if (r->have_reader_gid && in_group(r->reader_gid, gid, groups, ngroups))
		return PVD_ROLE_READER;
	return PVD_ROLE_NONE;
}

enum pvd_role roles_for_cert(const struct roles *r, const char *cn)
{
	if (!cn)
		return PVD_ROLE_NONE;
	for (int i = 0; i < r->ncerts; i++)
		if (!strcmp(r->certs[i].cn, cn))
			return r->certs[i].role;
	return PVD_ROLE_NONE;
}

void roles_needed_text(const struct roles *r, enum pvd_role needed, int tls, char *out, size_t len)
{
	if (tls)
		snprintf(out, len, "a certificate listed as %s in --tls-roles", needed == PVD_ROLE_READER ?
			 "reader or admin" : "admin");
	else if (needed == PVD_ROLE_ADMIN)
		snprintf(out, len, "uid 0 or group %s", r->admin_group ? r->admin_group : "(no --admin-group set)");
	else
		snprintf(out, len, "group %s or %s", r->reader_group ? r->reader_group : "(no --reader-group set)",
			 r->admin_group ? r->admin_group : "uid 0");
}
