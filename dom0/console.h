/*
 * console.h - the minimal console backend: Domain 0 reads a domain's PV
 * console ring (public/io/console.h, the "out" half) and appends what the
 * guest wrote to a per-domain log file, with an optional line callback
 * (for interactive attach).
 *
 * Exactly once across Domain 0 restarts: the consumer index lives in the
 * ring itself (out_cons), and a small record beside the log
 * (<log>.pos) names the chunk in flight: the log size before it and the
 * ring range it covers. A chunk is recorded, then appended to the log,
 * then acknowledged by storing out_cons. A new process that finds out_cons
 * still at the chunk's start cuts the log back to its size before the chunk
 * and reads the chunk again from the ring (the guest cannot overwrite
 * unacknowledged bytes), so nothing is lost and nothing is logged twice,
 * even if the previous process was killed between any two steps.
 *
 * The ring is guest memory: indices are re-read and checked on every poll
 * (prod - cons > XENCONS_OUT_SIZE is corrupt: the bytes are skipped,
 * -EPROTO says so once per corruption), bytes are copied out before use.
 * Close a console before its domain is destroyed (the frame goes back to
 * the hypervisor's free pool and may belong to another domain next).
 */
#ifndef DOM0_CONSOLE_H
#define DOM0_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include <public/io/console.h>

#define CONSOLE_LINE_MAX 512        /* longer lines reach the callback in pieces */

/* Which ring a console (and its .pos record) belongs to. */
struct console_identity {
    uint64_t boot_id;               /* the machine boot (ctl_boot_id) */
    uint32_t domid;
    uint8_t handle[16];
    uint64_t ring_mfn;
    uint32_t backend_port;          /* Domain 0's end of its console channel (0: none) */
    uint32_t pad;
};

/* A complete line without its '\n' (or a CONSOLE_LINE_MAX piece). */
typedef void (*console_line_fn)(void *arg, uint32_t domid, const char *line, size_t len);

struct console;

/* Start reading ring (the mapped page of id->ring_mfn) into log_path
 * (created 0640 if missing, appended to). When <log>.pos names the same
 * identity, an unacknowledged chunk of the previous reader is undone as
 * described above. */
int console_open(const struct console_identity *id, struct xencons_interface *ring,
                 const char *log_path, struct console **out, char *err, size_t errlen);

/* The identity recorded beside log_path (to re-attach after a restart:
 * map its ring_mfn, check boot_id and domid, then console_open). */
int console_read_identity(const char *log_path, struct console_identity *id,
                          char *err, size_t errlen);

void console_set_line_fn(struct console *c, console_line_fn fn, void *arg);

/* Console input: put up to n bytes of p in the ring's "in" half for the
 * guest (what fits; the guest reads at its own pace). Returns the bytes
 * queued, -EPROTO when the guest corrupted the in indices. The caller
 * notifies the guest on console_backend_port(c) when it queued any. */
int console_input(struct console *c, const char *p, size_t n);
uint32_t console_backend_port(const struct console *c);

/* Move what the guest wrote to the log. Returns the bytes consumed (0 if
 * none), -EPROTO when the ring indices were corrupt (skipped), or the
 * errno of a failed log write (the chunk stays in the ring). */
int console_poll(struct console *c, char *err, size_t errlen);

/* Bytes logged by this handle; the log's current size; the times this
 * handle rotated (or emptied) the log. */
uint64_t console_bytes_logged(const struct console *c);
uint64_t console_log_size(const struct console *c);
uint64_t console_rotations(const struct console *c);

/* Cap the log at max_bytes (0: no cap; at least XENCONS_OUT_SIZE, one
 * chunk): a chunk that would take it past rotates it first: the log
 * becomes <log>.1, <log>.1 becomes <log>.2 ... up to <log>.keep, the
 * oldest is dropped; keep 0 empties the log instead. The log and its
 * rotated files together stay within max_bytes * (keep + 1). */
void console_set_log_limit(struct console *c, uint64_t max_bytes, unsigned int keep);

/* Remove a log, its record and its rotated files (the domain is gone). */
int console_remove_logs(const char *log_path, char *err, size_t errlen);

/* Close the log; the ring is left as it is. NULL is accepted. */
void console_close(struct console *c);

#endif
