/*
 * netif.h - the Xen network device interface (the facts of Xen's public
 * io/netif.h, written for pvcore): the transmit and receive rings a
 * netfront shares with its netback, their flags and status codes.
 *
 * A packet on the tx ring is one request, optionally followed by extra-info
 * slots (XEN_NETTXF_extra_info), then more requests while
 * XEN_NETTXF_more_data is set. The first request's size is the size of the
 * whole packet; each following request's size is its own fragment's.
 * On the rx ring (feature-rx-copy) the frontend posts empty granted pages;
 * the backend copies a packet into them and answers with the offset,
 * flags and the length in status (negative: an error).
 */
#ifndef PVCORE_PUBLIC_IO_NETIF_H
#define PVCORE_PUBLIC_IO_NETIF_H

#include <stdint.h>

#include "ring.h"
#include "../grant_table.h"

#define XEN_NETTXF_csum_blank      (1u << 0)
#define XEN_NETTXF_data_validated  (1u << 1)
#define XEN_NETTXF_more_data       (1u << 2)
#define XEN_NETTXF_extra_info      (1u << 3)

struct netif_tx_request {
    grant_ref_t gref;
    uint16_t offset;
    uint16_t flags;              /* XEN_NETTXF_* */
    uint16_t id;                 /* echoed in the response */
    uint16_t size;
};

#define XEN_NETIF_EXTRA_TYPE_NONE       0
#define XEN_NETIF_EXTRA_TYPE_GSO        1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD  2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL  3
#define XEN_NETIF_EXTRA_TYPE_HASH       4
#define XEN_NETIF_EXTRA_TYPE_XDP        5
#define XEN_NETIF_EXTRA_TYPE_MAX        6
#define XEN_NETIF_EXTRA_FLAG_MORE       (1u << 0)

struct netif_extra_info {
    uint8_t type;                /* XEN_NETIF_EXTRA_TYPE_* */
    uint8_t flags;               /* XEN_NETIF_EXTRA_FLAG_* */
    uint8_t u[10];
};

struct netif_tx_response {
    uint16_t id;
    int16_t status;              /* XEN_NETIF_RSP_* */
};

struct netif_rx_request {
    uint16_t id;
    uint16_t pad;
    grant_ref_t gref;
};

#define XEN_NETRXF_data_validated  (1u << 0)
#define XEN_NETRXF_csum_blank      (1u << 1)
#define XEN_NETRXF_more_data       (1u << 2)
#define XEN_NETRXF_extra_info      (1u << 3)
#define XEN_NETRXF_gso_prefix      (1u << 4)

struct netif_rx_response {
    uint16_t id;
    uint16_t offset;
    uint16_t flags;              /* XEN_NETRXF_* */
    int16_t status;              /* > 0: bytes; else XEN_NETIF_RSP_* */
};

#define XEN_NETIF_RSP_DROPPED  (-2)
#define XEN_NETIF_RSP_ERROR    (-1)
#define XEN_NETIF_RSP_OKAY     0
#define XEN_NETIF_RSP_NULL     1

/* A tx slot holds a request or an extra-info record: 12 bytes each. */
union netif_tx_slot {
    struct netif_tx_request req;
    struct netif_extra_info extra;
};

XEN_DEFINE_RING_TYPES(netif_tx, union netif_tx_slot, struct netif_tx_response);
XEN_DEFINE_RING_TYPES(netif_rx, struct netif_rx_request, struct netif_rx_response);

#define NETIF_TX_RING_SIZE XEN_RING_SLOTS(XEN_RING_PAGE_SIZE, sizeof(union netif_tx_sring_entry))
#define NETIF_RX_RING_SIZE XEN_RING_SLOTS(XEN_RING_PAGE_SIZE, sizeof(union netif_rx_sring_entry))

_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");
_Static_assert(sizeof(struct netif_extra_info) == 12, "netif_extra_info");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response");

#endif
