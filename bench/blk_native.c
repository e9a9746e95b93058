/*
 * blk_native.c - the host side of `make blk-bench` (bench/blk_bench.sh):
 * the I/O pattern the `blk` test kernel's bench mode sends through
 * blkfront, done natively on the same image with the same number of
 * requests in flight (DEPTH threads, each with one request at a time,
 * taking the next request of the pattern in turn), page cache as for
 * the guest.
 *
 *   blk_native IMAGE WHAT BYTES COUNT DEPTH
 *     WHAT: seq-write, seq-read (request i at offset i * BYTES) or
 *     rand-write, rand-read (4 KiB-aligned offsets in the first 32 MiB
 *     from the guest's xorshift sequence: rand-write from its start,
 *     rand-read after COUNT values, as the guest runs them one after the
 *     other)
 *   prints: WHAT ns=<elapsed nanoseconds>
 *
 * Owns nothing beyond its run; the offsets of a pattern are computed
 * before the clock starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 64

struct run {
	int fd, write;
	size_t bytes;
	uint64_t *off;
	unsigned count, depth;
	unsigned next;			/* the next request to take */
	pthread_mutex_t lock;
	int failed;
};

struct worker {
	struct run *r;
	pthread_t th;
	void *buf;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;

	for (;;) {
		unsigned i;
		ssize_t n;
		pthread_mutex_lock(&r->lock);
		i = r->next++;
		pthread_mutex_unlock(&r->lock);
		if (i >= r->count)
			return NULL;
		n = r->write ? pwrite(r->fd, w->buf, r->bytes, (off_t)r->off[i])
			     : pread(r->fd, w->buf, r->bytes, (off_t)r->off[i]);
		if (n != (ssize_t)r->bytes && r->write) {
			r->failed = 1;
			return NULL;
		}
	}
}

static uint64_t parse(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "blk_native: %s \"%s\" is not a number\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct run r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct worker w[MAX_DEPTH];
	struct timespec a, b;
	uint64_t rng = 88172645463325252ull;
	const char *what;
	int random;

	if (argc != 6) {
		fprintf(stderr, "usage: blk_native IMAGE seq-write|seq-read|rand-write|rand-read BYTES COUNT DEPTH\n");
		return 2;
	}
	what = argv[2];
	if (strcmp(what, "seq-write") && strcmp(what, "seq-read") && strcmp(what, "rand-write") &&
	    strcmp(what, "rand-read")) {
		fprintf(stderr, "blk_native: pattern \"%s\" (seq-write, seq-read, rand-write, rand-read)\n", what);
		return 2;
	}
	r.write = strstr(what, "write") != NULL;
	random = !strncmp(what, "rand", 4);
	r.bytes = parse(argv[3], "BYTES");
	r.count = (unsigned)parse(argv[4], "COUNT");
	r.depth = (unsigned)parse(argv[5], "DEPTH");
	if (r.bytes == 0 || r.bytes > (64u << 20) || r.count == 0 || r.depth == 0 || r.depth > MAX_DEPTH) {
		fprintf(stderr, "blk_native: BYTES 1..64 MiB, COUNT > 0, DEPTH 1..%d\n", MAX_DEPTH);
		return 2;
	}
	r.fd = open(argv[1], r.write ? O_RDWR : O_RDONLY);
	if (r.fd < 0) {
		fprintf(stderr, "blk_native: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	r.off = calloc(r.count, sizeof(*r.off));
	if (!r.off)
		return 1;
	/* the guest's rand-read goes on with the sequence after rand-write's */
	for (unsigned i = 0; !r.write && random && i < r.count; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
	}
	for (unsigned i = 0; i < r.count; i++) {
		if (random) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			r.off[i] = (rng % (32u * 2048u / 8u)) * 8u * 512u;
		} else {
			r.off[i] = (uint64_t)i * r.bytes;
		}
	}
	for (unsigned i = 0; i < r.depth; i++) {
		if (posix_memalign(&w[i].buf, 4096, r.bytes))
			return 1;
		memset(w[i].buf, 0x5a, r.bytes);
		w[i].r = &r;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned i = 0; i < r.depth; i++)
		if (pthread_create(&w[i].th, NULL, work, &w[i])) {
			fprintf(stderr, "blk_native: cannot start a thread\n");
			return 1;
		}
	for (unsigned i = 0; i < r.depth; i++)
		pthread_join(w[i].th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (r.failed) {
		fprintf(stderr, "blk_native: %s: a write failed\n", what);
		return 1;
	}
	printf("%s ns=%lld\n", what, (long long)(b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec));
	return 0;
}
