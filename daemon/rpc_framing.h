/*
 * rpc_framing.h - newline-delimited frames on a libevent buffer, with a
 * size limit (see rpc_framing.c).
 */
#ifndef PVD_RPC_FRAMING_H
#define PVD_RPC_FRAMING_H

#include <event2/buffer.h>
#include <stddef.h>

enum frame_status {
	FRAME_READY,		/* *frame holds one frame (malloc'd, NUL-terminated) */
	FRAME_NEED_MORE,	/* no complete frame buffered */
	FRAME_OVERSIZE,		/* a frame exceeded the limit; its bytes are being dropped */
};

struct frame_reader {
	size_t limit;		/* largest frame, without its newline */
	int discarding;		/* inside an oversize frame: drop up to the next newline */
};

void frame_reader_init(struct frame_reader *fr, size_t limit);

/*
 * Take the next frame out of in. Blank lines are skipped and a trailing CR
 * is removed. An oversize frame is reported once, then dropped up to and
 * including its newline (possibly across later calls) without buffering it.
 */
enum frame_status frame_next(struct frame_reader *fr, struct evbuffer *in, char **frame, size_t *len);

#endif
