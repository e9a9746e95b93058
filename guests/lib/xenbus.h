/*
 * xenbus.h - the test kernels' xenstore client (xenbus.c): requests over
 * the ring page at start_info->store_mfn, its event channel, watch events
 * kept aside while waiting for a reply, transactions.
 *
 * Errors: the negative errno of Xen's error name (-ENOENT, -EACCES,
 * -EAGAIN ...), -ETIMEDOUT if no reply came within the timeout, -EPROTO if
 * the server set the ring's error field (this guest was cut off).
 */
#ifndef GUEST_XENBUS_H
#define GUEST_XENBUS_H

#include "lib.h"
#include <public/io/xs_wire.h>

#define XB_ENOENT  2
#define XB_EIO     5
#define XB_E2BIG   7
#define XB_EAGAIN  11
#define XB_ENOMEM  12
#define XB_EACCES  13
#define XB_EBUSY   16
#define XB_EEXIST  17
#define XB_EISDIR  21
#define XB_EINVAL  22
#define XB_ENOSPC  28
#define XB_EROFS   30
#define XB_ENOTEMPTY 39
#define XB_ENOSYS  38
#define XB_EPERM   1
#define XB_EISCONN 106
#define XB_EPROTO  71
#define XB_ETIMEDOUT 110

/* Map the ring, bind the event channel. 0 or -errno. */
long xenbus_init(void);
struct xenstore_domain_interface *xenbus_ring(void);
/* Kick the server. */
void xenbus_notify(void);

/* One request; reply payload into reply[*len] (in: its size, NUL added if
 * room). Returns 0 or -errno. tx: transaction id or 0. */
long xenbus_request(uint32_t type, uint32_t tx, const void *payload, uint32_t len,
                    char *reply, uint32_t *reply_len);
/* Payload from '|'-separated strings ("path|token|"), as in the tests. */
long xenbus_request_bars(uint32_t type, uint32_t tx, const char *bars, char *reply,
                         uint32_t *reply_len);

long xenbus_read(uint32_t tx, const char *path, char *buf, uint32_t size);
long xenbus_write(uint32_t tx, const char *path, const char *value);
long xenbus_rm(uint32_t tx, const char *path);
long xenbus_watch(const char *path, const char *token);
long xenbus_unwatch(const char *path, const char *token);
long xenbus_transaction_start(uint32_t *tx);
long xenbus_transaction_end(uint32_t tx, bool commit);

/* The next watch event (path and token, '\0'-terminated) within timeout_ns:
 * 0, or -ETIMEDOUT. */
long xenbus_wait_event(char *path, uint32_t path_size, char *token, uint32_t token_size,
                       uint64_t timeout_ns);
/* Forget queued watch events. */
void xenbus_drop_events(void);

/* ---- device directories (xenbus_dev.c), for the frontends ---- */
/* "<dir>/<key>" into v (as xenbus_read). */
long xenbus_read_key(const char *dir, const char *key, char *v, uint32_t size);
/* "<dir>/<key>" = the formatted value (at most 63 bytes). */
long xenbus_printf(const char *dir, const char *key, const char *fmt, ...) PRINTF(3, 4);
/* The decimal number at the start of s (0 if none). */
uint64_t xenbus_parse_u64(const char *s);
/* "<dir>/state" as a number, -1 when it cannot be read. */
long xenbus_state_of(const char *dir);
/* Poll "<dir>/state" until it is state: 0, or -XB_ETIMEDOUT. */
long xenbus_wait_state(const char *dir, long state, uint64_t timeout_ns);

/* Raw bytes onto the request ring (hostile tests); 0 if they do not fit. */
bool xenbus_put_raw(const void *bytes, uint32_t len);

#endif
