/*
 * netfront.h - the test kernels' virtual network interface frontend
 * (netfront.c): the netif handshake in xenstore (feature-rx-copy), a tx
 * and an rx ring, buffers granted to Domain 0 once and reused. Include
 * after lib.h.
 */
#ifndef GUEST_NETFRONT_H
#define GUEST_NETFRONT_H

#include "lib.h"
#include <public/io/netif.h>
#include <public/io/xenbus.h>

#define NF_TX_BUFS 200          /* frames in flight on the tx ring */
#define NF_RX_BUFS 128          /* rx buffers posted */

struct netfront_stats {
    uint64_t tx_frames, tx_bytes;       /* sent (queued on the ring) */
    uint64_t tx_errors;                 /* answered XEN_NETIF_RSP_ERROR */
    uint64_t rx_frames, rx_bytes;
    uint64_t rx_errors;                 /* rx responses with a negative status */
};

/* Connect to vif `index` (device/vif/<index>): xenbus_init must have run.
 * Its MAC (from the frontend directory) into mac. 0, or -errno
 * (-XB_ETIMEDOUT when the backend never connects). */
long netfront_init(uint32_t index, uint8_t mac[6]);
/* After the backend shut the vif: Closing, Closed, Initialising, and the
 * handshake again on fresh rings. raw_rx_gref (hostile tests; 0: none):
 * the first rx request of the fresh ring names it, with an id no rx
 * buffer has (its answer only counts in rx_errors). 0 or -errno. */
long netfront_reconnect(grant_ref_t raw_rx_gref);

/* Queue one frame (14 .. 1514 bytes) and kick if the backend asks:
 * 0, or -XB_EAGAIN when every tx buffer is in flight. */
long netfront_send(const void *frame, uint32_t len);
/* Answers the backend gave: received frames to fn (frame, length, arg)
 * and their buffers posted again; tx responses taken. The number of
 * frames received plus tx responses taken (0: nothing came). */
typedef void (*netfront_rx_fn)(const uint8_t *frame, uint32_t len, void *arg);
unsigned int netfront_poll(netfront_rx_fn fn, void *arg);
/* Sleep until the backend signals or deadline (system time) passes. */
void netfront_wait(uint64_t deadline);
/* Tx buffers free now. */
unsigned int netfront_tx_free(void);
const struct netfront_stats *netfront_stats(void);
/* The backend's XenbusState, -1 if it cannot be read; its error node. */
long netfront_backend_state(void);
long netfront_backend_error(char *buf, uint32_t size);

/* Hostile tests. Put n raw slots on the tx ring as they are (each
 * request slot's id is set here to a free tx buffer, whose page and ref
 * netfront_tx_buffer gives) and kick: 0, or -XB_EAGAIN. */
long netfront_send_slots(union netif_tx_slot *slots, unsigned int n);
/* A free tx buffer (page and its grant ref), not taken. */
uint8_t *netfront_tx_buffer(grant_ref_t *ref);
/* Publish tx req_prod `ahead` past the requests really put and kick. */
void netfront_bump_tx_prod(uint32_t ahead);
/* Publish rx req_prod `ahead` past the requests really posted and kick. */
void netfront_bump_rx_prod(uint32_t ahead);

#endif
