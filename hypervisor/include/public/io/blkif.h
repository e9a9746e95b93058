/*
 * pvcore public ABI: the virtual block device protocol (Xen's blkif).
 *
 * Owns: the request and response layouts of the blkif shared ring, the
 * operation codes, response statuses, the vdisk info bits the backend
 * publishes in xenstore ("info"), and the XenbusState values both ends
 * write to their "state" nodes. Sectors are 512 bytes whatever the
 * device's sector-size; a segment names one granted page and the sectors
 * [first_sect, last_sect] inside it (both <= 7).
 */
#ifndef PVCORE_PUBLIC_IO_BLKIF_H
#define PVCORE_PUBLIC_IO_BLKIF_H

#include <stdint.h>
#include <stddef.h>

#include "ring.h"
#include "xenbus.h"

typedef uint16_t blkif_vdev_t;
typedef uint64_t blkif_sector_t;

#define BLKIF_OP_READ             0
#define BLKIF_OP_WRITE            1
#define BLKIF_OP_WRITE_BARRIER    2
#define BLKIF_OP_FLUSH_DISKCACHE  3
#define BLKIF_OP_RESERVED_1       4
#define BLKIF_OP_DISCARD          5
#define BLKIF_OP_INDIRECT         6

#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
/* BLKIF_OP_INDIRECT (offered with "feature-max-indirect-segments"): the
 * segments are in up to 8 granted pages, 512 to a page. */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8
#define BLKIF_SEGS_PER_INDIRECT_FRAME (4096 / sizeof(struct blkif_request_segment))
#define BLKIF_SECTOR_SHIFT        9
#define BLKIF_SECTORS_PER_PAGE    8

#define BLKIF_RSP_EOPNOTSUPP      (-2)
#define BLKIF_RSP_ERROR           (-1)
#define BLKIF_RSP_OKAY            0

#define BLKIF_DISCARD_SECURE      1

/* The "info" node. */
#define VDISK_CDROM               0x1
#define VDISK_REMOVABLE           0x2
#define VDISK_READONLY            0x4

struct blkif_request_segment {
    uint32_t gref;                /* grant_ref_t of the page */
    uint8_t first_sect, last_sect;
    uint8_t pad[2];
};

struct blkif_request {
    uint8_t operation;            /* BLKIF_OP_* */
    uint8_t nr_segments;          /* 1..BLKIF_MAX_SEGMENTS_PER_REQUEST for read/write */
    blkif_vdev_t handle;
    uint32_t pad;
    uint64_t id;                  /* echoed in the response */
    blkif_sector_t sector_number; /* start sector on the disk */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct blkif_request_discard {
    uint8_t operation;            /* BLKIF_OP_DISCARD */
    uint8_t flag;                 /* BLKIF_DISCARD_SECURE */
    blkif_vdev_t handle;
    uint32_t pad;
    uint64_t id;
    blkif_sector_t sector_number;
    uint64_t nr_sectors;
    uint8_t pad2[80];
};

/* operation BLKIF_OP_INDIRECT: a READ or WRITE (indirect_op) whose
 * nr_segments segments are an array of struct blkif_request_segment in
 * the pages granted as indirect_grefs[0 .. ceil(nr_segments / 512) - 1].
 * The response carries indirect_op as its operation. */
struct blkif_request_indirect {
    uint8_t operation;            /* BLKIF_OP_INDIRECT */
    uint8_t indirect_op;          /* BLKIF_OP_READ or BLKIF_OP_WRITE */
    uint16_t nr_segments;
    uint32_t pad;
    uint64_t id;
    blkif_sector_t sector_number;
    blkif_vdev_t handle;
    uint16_t pad2;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint8_t pad3[52];
};

struct blkif_response {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;               /* BLKIF_RSP_* */
    uint32_t pad2;
};

_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif_request.id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif_request.sector");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard.nr_sectors");
_Static_assert(sizeof(struct blkif_request_discard) == 112, "blkif_request_discard");
_Static_assert(offsetof(struct blkif_request_indirect, nr_segments) == 2, "indirect.nr_segments");
_Static_assert(offsetof(struct blkif_request_indirect, id) == 8, "indirect.id");
_Static_assert(offsetof(struct blkif_request_indirect, sector_number) == 16, "indirect.sector");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "indirect.handle");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "indirect.grefs");
_Static_assert(sizeof(struct blkif_request_indirect) == 112, "blkif_request_indirect");
_Static_assert(offsetof(struct blkif_response, status) == 10, "blkif_response.status");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");

XEN_DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response);

/* Slots of a one-page ring: 32. A multi-page ring ("ring-page-order" n,
 * pages granted as "ring-ref0" .. "ring-ref<2^n - 1>", one virtually
 * contiguous ring) has BLKIF_RING_SLOTS_ORDER(n). */
#define BLKIF_RING_SLOTS XEN_RING_SLOTS(XEN_RING_PAGE_SIZE, sizeof(union blkif_sring_entry))
#define BLKIF_RING_SLOTS_ORDER(n) XEN_RING_SLOTS(XEN_RING_PAGE_SIZE << (n), sizeof(union blkif_sring_entry))

/* Linux's xvd major: the virtual-device number of xvda, xvdb (+16) ... */
#define XVD_DEVID(index) (202u * 256u + 16u * (index))

#endif /* PVCORE_PUBLIC_IO_BLKIF_H */
