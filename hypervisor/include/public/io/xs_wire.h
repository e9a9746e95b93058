/*
 * pvcore public ABI: the xenstore wire protocol and its shared ring page.
 *
 * Owns: message types, the message header, watch event fields and
 * struct xenstore_domain_interface (the page at start_info.store_mfn).
 */
#ifndef PVCORE_PUBLIC_IO_XS_WIRE_H
#define PVCORE_PUBLIC_IO_XS_WIRE_H

#include <stdint.h>
#include <stddef.h>

enum xsd_sockmsg_type {
    XS_CONTROL = 0,
    XS_DIRECTORY = 1,
    XS_READ = 2,
    XS_GET_PERMS = 3,
    XS_WATCH = 4,
    XS_UNWATCH = 5,
    XS_TRANSACTION_START = 6,
    XS_TRANSACTION_END = 7,
    XS_INTRODUCE = 8,
    XS_RELEASE = 9,
    XS_GET_DOMAIN_PATH = 10,
    XS_WRITE = 11,
    XS_MKDIR = 12,
    XS_RM = 13,
    XS_SET_PERMS = 14,
    XS_WATCH_EVENT = 15,
    XS_ERROR = 16,
    XS_IS_DOMAIN_INTRODUCED = 17,
    XS_RESUME = 18,
    XS_SET_TARGET = 19,
    /* 20 was XS_RESTRICT, retired */
    XS_RESET_WATCHES = 21,
    XS_DIRECTORY_PART = 22,
    XS_TYPE_COUNT,
    XS_INVALID = 0xffff
};
#define XS_DEBUG XS_CONTROL

/* Fields of an XS_WATCH_EVENT payload (NUL-separated). */
enum xs_watch_type {
    XS_WATCH_PATH = 0,
    XS_WATCH_TOKEN = 1
};

/* Header before every request and reply; len payload bytes follow. */
struct xsd_sockmsg {
    uint32_t type;                  /* enum xsd_sockmsg_type              */
    uint32_t req_id;                /* echoed in the reply                */
    uint32_t tx_id;                 /* transaction, 0 for none            */
    uint32_t len;
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg");

/* The error replies: an XS_ERROR message whose payload is one of these
 * names, NUL-terminated (Xen's xsd_errors table, in its order). */
#define XSD_ERROR_LIST(X) \
    X(EINVAL) X(EACCES) X(EEXIST) X(EISDIR) X(ENOENT) X(ENOMEM) X(ENOSPC) X(EIO) \
    X(ENOTEMPTY) X(ENOSYS) X(EROFS) X(EBUSY) X(EAGAIN) X(EISCONN) X(E2BIG) X(EPERM)

typedef uint32_t XENSTORE_RING_IDX;
#define XENSTORE_RING_SIZE       1024
#define MASK_XENSTORE_IDX(idx)   ((idx) & (XENSTORE_RING_SIZE - 1))
#define XENSTORE_PAYLOAD_MAX     4096
#define XENSTORE_ABS_PATH_MAX    3072
#define XENSTORE_REL_PATH_MAX    2048

#define XENSTORE_SERVER_FEATURE_RECONNECTION  1
#define XENSTORE_SERVER_FEATURE_ERROR         2
#define XENSTORE_CONNECTED       0
#define XENSTORE_RECONNECT       1
#define XENSTORE_ERROR_NONE      0
#define XENSTORE_ERROR_COMM      1
#define XENSTORE_ERROR_RINGIDX   2
#define XENSTORE_ERROR_PROTO     3

struct xenstore_domain_interface {
    char req[XENSTORE_RING_SIZE];   /* guest -> xenstored                 */
    char rsp[XENSTORE_RING_SIZE];   /* xenstored -> guest (and watches)   */
    XENSTORE_RING_IDX req_cons, req_prod;
    XENSTORE_RING_IDX rsp_cons, rsp_prod;
    uint32_t server_features;       /* XENSTORE_SERVER_FEATURE_*          */
    uint32_t connection;            /* XENSTORE_CONNECTED / _RECONNECT    */
    uint32_t error;                 /* XENSTORE_ERROR_*                   */
};
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048,
               "xenstore_domain_interface.req_cons");
_Static_assert(sizeof(struct xenstore_domain_interface) == 2076,
               "xenstore_domain_interface");

#endif /* PVCORE_PUBLIC_IO_XS_WIRE_H */
