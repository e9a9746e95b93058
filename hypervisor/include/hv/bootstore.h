/* The xenstore of boot-loader domains (common/bootstore.c).
 *
 * In boot-loader mode there is no Domain 0 and so no xenstore daemon, but
 * real guests talk to xenstore before anything else: GRUB's Xen port lists
 * device/vbd at start and waits for the answer, Linux reads and watches
 * its keys. The hypervisor therefore serves each boot-loader domain's
 * xenstore ring itself, with a read-only store: the domain's own keys as
 * a toolstack writes them (name, domid, memory/target, memory/static-max,
 * cpu/N/availability, console/, store/, and the empty directories device,
 * control, data, drivers, feature, attr, error), everything under
 * /local/domain/<domid>. The guest may read them and list them (DIRECTORY,
 * DIRECTORY_PART, GET_PERMS: "n0 r<domid>", Domain 0 owns them); writes
 * are refused with EACCES as Xen refuses them on a node the guest may
 * only read; a path outside its home is EACCES. Watches are accepted and
 * fire once when set, as xenstored fires them (nothing ever changes
 * after); transactions start and end (there is nothing to conflict with);
 * GET_DOMAIN_PATH answers; the toolstack's requests (INTRODUCE, RELEASE,
 * IS_DOMAIN_INTRODUCED, RESUME, CONTROL) are EACCES and unknown types
 * ENOSYS, as from cxenstored for a guest.
 *
 * This file's functions touch only the state and the ring given to them,
 * so they are unit-tested on the host (tests/unit/bootstore/); the
 * hypervisor's glue (the ring's frame, the event channel, the polling) is
 * in common/bootdomains.c. */
#ifndef HV_BOOTSTORE_H
#define HV_BOOTSTORE_H

#include <public/io/xs_wire.h>
#include "hv/types.h"

#define BOOTSTORE_MAX_WATCHES   16
#define BOOTSTORE_WATCH_MAX     256     /* path and token with their NULs */
#define BOOTSTORE_MSG_MAX       (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
#define BOOTSTORE_MAX_NODES     48

struct bootstore_node {
    char path[32];                      /* below the home; "" is the home */
    char value[24];
};

/* What the keys say about the domain (bootstore_init's argument). */
struct bootstore_domain {
    uint32_t domid, vcpus;
    const char *name;
    uint64_t mem_kib, maxmem_kib;
    uint64_t console_mfn, store_mfn;
    uint32_t console_port, store_port;
};

struct bootstore {
    uint32_t domid;
    unsigned int nr_nodes;
    struct bootstore_node nodes[BOOTSTORE_MAX_NODES];
    /* Watches: path NUL token NUL. */
    unsigned int nr_watches;
    char watches[BOOTSTORE_MAX_WATCHES][BOOTSTORE_WATCH_MAX];
    uint32_t next_tx;
    /* The request being read, and what is still to go to the guest. */
    uint32_t in_len;
    uint8_t in[BOOTSTORE_MSG_MAX];
    uint32_t out_len, out_done;
    uint8_t out[2 * BOOTSTORE_MSG_MAX];
    bool broken;                        /* a bad ring: no longer served */
    char scratch[2][XENSTORE_PAYLOAD_MAX];
};

/* A fresh store (s zeroed by the caller or not) holding dom's keys. */
void bootstore_init(struct bootstore *s, const struct bootstore_domain *dom);

/* Answer one request (header and its payload) into out, at most outmax
 * bytes: the reply, and for a new watch its first event. Returns the
 * bytes written. */
size_t bootstore_request(struct bootstore *s, const struct xsd_sockmsg *hdr,
                         const char *payload, uint8_t *out, size_t outmax);

/* Move what the guest wrote to the request ring through
 * bootstore_request and the replies to the response ring, as far as both
 * rings allow. Returns true when something moved (the guest is then to be
 * notified). A corrupt ring (indices further apart than its size) or a
 * request longer than XENSTORE_PAYLOAD_MAX stops the service for good:
 * *why says which, and the caller reports it once. */
bool bootstore_serve(struct bootstore *s, struct xenstore_domain_interface *intf,
                     const char **why);

#endif
