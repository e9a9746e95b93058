/*
 * xs_wire.h - the xenstore wire protocol as syntax: message headers, the
 * error names, request payloads split into their strings, and paths
 * (validity, the relative-to-absolute rule, ancestry).
 *
 * Facts from Xen's xs_wire.h and docs/misc/xenstore.txt: a message is a
 * struct xsd_sockmsg header and at most XENSTORE_PAYLOAD_MAX payload bytes;
 * string arguments are NUL-terminated; a node path is absolute ("/a/b"),
 * or relative to the domain's home /local/domain/<domid>; node names use
 * [A-Za-z0-9-_@]; "@..." names are special watch paths.
 *
 * Everything here is a pure function of its arguments (no state), so the
 * parser can be tested and fuzzed on its own.
 */
#ifndef DOM0_XS_WIRE_H
#define DOM0_XS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <public/io/xs_wire.h>

#define XS_HDR_SIZE   ((uint32_t)sizeof(struct xsd_sockmsg))
#define XS_MSG_MAX    (XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX)
#define XS_ARGS_MAX   16              /* SET_PERMS: owner + quota of entries */
#define XS_HOME_MAX   32              /* "/local/domain/4294967295" + NUL */

/* "READ", "WRITE" ... or "UNKNOWN". */
const char *xs_type_name(uint32_t type);

/* The XS_ERROR payload name of a positive errno ("EINVAL" for any errno
 * Xen has no name for, as xenstored does); and back (-1 if unknown). */
const char *xs_error_name(int errnum);
int xs_error_from_name(const char *name);

/* 0 if the header may be followed by its payload, -E2BIG if len exceeds
 * XENSTORE_PAYLOAD_MAX (the stream cannot be trusted after that). */
int xs_header_check(const struct xsd_sockmsg *h);

/* Split a payload into exactly-NUL-terminated strings: the payload must be
 * non-empty and end in NUL. Returns the count (<= max) or -EINVAL. */
int xs_split_strings(const char *payload, uint32_t len, const char **argv, unsigned max);

/* WRITE's payload: a NUL-terminated path, then the value (the rest,
 * possibly empty, not terminated). -EINVAL without the NUL. */
int xs_split_write(const char *payload, uint32_t len, const char **path, const char **value,
                   uint32_t *value_len);

/* The home of a domain: "/local/domain/<domid>". */
void xs_home(uint32_t domid, char out[XS_HOME_MAX]);

/* The absolute form of a request path for domid into out[outlen]:
 * absolute paths are taken as they are, relative ones are put under the
 * domain's home. Checks characters, "//", a trailing '/', the relative
 * (XENSTORE_REL_PATH_MAX) and absolute (XENSTORE_ABS_PATH_MAX) lengths.
 * Special paths ("@introduceDomain") only if allow_special. -EINVAL if bad. */
int xs_path_canonical(uint32_t domid, const char *in, int allow_special, char *out, size_t outlen);

/* Is path equal to or below ancestor ("/" is the ancestor of all)? */
int xs_path_is_under(const char *path, const char *ancestor);

/* A domid argument in decimal ("0".."65535" style, no sign, no junk). */
int xs_parse_domid(const char *s, uint32_t *domid);

/* A decimal unsigned 64-bit value (mfn, offset...). */
int xs_parse_u64(const char *s, uint64_t *v);

#endif
