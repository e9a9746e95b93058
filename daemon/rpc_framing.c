/*
 * rpc_framing.c - splits a byte stream into JSON-RPC frames: one JSON value
 * per line. Owns no memory beyond the frame it hands out.
 *
 * Invariants: never holds more than limit + 1 bytes of one frame in the
 * input buffer on its account (an oversize frame is drained as it arrives,
 * so a client cannot make pvd buffer an unbounded line); a frame handed out
 * never contains a newline.
 */
#include "rpc_framing.h"

#include <stdlib.h>
#include <string.h>

void frame_reader_init(struct frame_reader *fr, size_t limit)
{
	fr->limit = limit;
	fr->discarding = 0;
}

enum frame_status frame_next(struct frame_reader *fr, struct evbuffer *in, char **frame, size_t *len)
{
	for (;;) {
		struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);
		size_t avail = evbuffer_get_length(in);
		size_t n;
		char *buf;

		if (fr->discarding) {
			if (eol.pos < 0) {
				evbuffer_drain(in, avail);
				return FRAME_NEED_MORE;
			}
			evbuffer_drain(in, (size_t)eol.pos + 1);
			fr->discarding = 0;
			continue;
		}
		if (eol.pos < 0) {
			if (avail > fr->limit) {
				evbuffer_drain(in, avail);
				fr->discarding = 1;
				return FRAME_OVERSIZE;
			}
			return FRAME_NEED_MORE;
		}
		n = (size_t)eol.pos;
		if (n > fr->limit) {
			evbuffer_drain(in, n + 1);
			return FRAME_OVERSIZE;
		}
		buf = malloc(n + 1);
		if (!buf)
			return FRAME_NEED_MORE;
		evbuffer_remove(in, buf, n);
		evbuffer_drain(in, 1);
		buf[n] = '\0';
		if (n && buf[n - 1] == '\r')
			buf[--n] = '\0';
		if (strspn(buf, " \t\r") == n) {
			free(buf);
			continue;
		}
		*frame = buf;
		*len = n;
		return FRAME_READY;
	}
}
