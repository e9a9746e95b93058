/*
 * blk_native.c - the host side of `make blk-bench` (bench/blk_bench.sh):
 * the I/O pattern the `blk` test kernel's bench mode sends through
 * blkfront, done natively on the same image with DEPTH requests in
 * flight (DEPTH threads, each with one request at a time, taking the
 * next request of the pattern in turn), page cache as for the guest.
 *
 *   blk_native IMAGE WHAT BYTES COUNT DEPTH [BUFFER]
 *     WHAT: seq-write, seq-read (request i at offset i * BYTES) or
 *     rand-write, rand-read (4 KiB-aligned offsets in the first 32 MiB
 *     from the guest's xorshift sequence: rand-write from its start,
 *     rand-read after COUNT values, as the guest runs them one after the
 *     other)
 *     BUFFER: the bytes of the guest's data pages; request i uses slot
 *     i % (BUFFER / BYTES) of one buffer that size, as the guest's do
 *     (default: a buffer of BYTES per thread)
 *   prints: WHAT ns=<elapsed nanoseconds>
 *
 * Owns nothing beyond its run. The offsets are computed and the threads
 * started (waiting on a barrier) before the clock starts: the run is
 * timed from the first thread's start to the last one's end, by the
 * threads' own clocks.
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

#define MAX_DEPTH 512

struct run {
	int fd, write;
	size_t bytes;
	char *buf;			/* slots requests' worth: request i uses slot i % slots */
	unsigned slots;
	pthread_barrier_t go;		/* the threads and the clock start together */
	uint64_t *off;
	unsigned count, depth;
	unsigned next;			/* the next request to take */
	pthread_mutex_t lock;
	int failed;
};

struct worker {
	struct run *r;
	pthread_t th;
	struct timespec start, end;	/* its own, after the barrier and when it ran out */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;

	pthread_barrier_wait(&r->go);
	clock_gettime(CLOCK_MONOTONIC, &w->start);
	for (;;) {
		unsigned i;
		ssize_t n;
		char *buf;
		pthread_mutex_lock(&r->lock);
		i = r->next++;
		pthread_mutex_unlock(&r->lock);
		if (i >= r->count) {
			clock_gettime(CLOCK_MONOTONIC, &w->end);
			return NULL;
		}
		buf = r->buf + (size_t)(i % r->slots) * r->bytes;
		n = r->write ? pwrite(r->fd, buf, r->bytes, (off_t)r->off[i])
			     : pread(r->fd, buf, r->bytes, (off_t)r->off[i]);
		if (n != (ssize_t)r->bytes && r->write) {
			r->failed = 1;
			return NULL;
		}
	}
}

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000ll + t->tv_nsec;
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
	struct timespec a = { 0 }, b = { 0 };
	uint64_t rng = 88172645463325252ull;
	const char *what;
	int random;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: blk_native IMAGE seq-write|seq-read|rand-write|rand-read BYTES COUNT DEPTH [BUFFER]\n");
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
	/* the buffer: BUFFER bytes (the guest's, whose requests share its
	 * slots the same way), else one request's worth per thread */
	r.slots = argc == 7 ? (unsigned)(parse(argv[6], "BUFFER") / r.bytes) : r.depth;
	if (r.slots == 0 || r.slots > r.count)
		r.slots = r.slots ? r.count : 1;
	if (posix_memalign((void **)&r.buf, 4096, (size_t)r.slots * r.bytes))
		return 1;
	memset(r.buf, 0x5a, (size_t)r.slots * r.bytes);
	pthread_barrier_init(&r.go, NULL, r.depth + 1);
	for (unsigned i = 0; i < r.depth; i++) {
		w[i].r = &r;
		if (pthread_create(&w[i].th, NULL, work, &w[i])) {
			fprintf(stderr, "blk_native: cannot start a thread\n");
			return 1;
		}
	}
	/* every thread started and waiting: the run is timed from the first
	 * thread's start to the last one's end, by the threads' own clocks
	 * (the main thread may not run again until they are done) */
	pthread_barrier_wait(&r.go);
	for (unsigned i = 0; i < r.depth; i++) {
		pthread_join(w[i].th, NULL);
		if (i == 0 || ts_ns(&w[i].start) < ts_ns(&a))
			a = w[i].start;
		if (i == 0 || ts_ns(&w[i].end) > ts_ns(&b))
			b = w[i].end;
	}
	if (r.failed) {
		fprintf(stderr, "blk_native: %s: a write failed\n", what);
		return 1;
	}
	printf("%s ns=%lld\n", what, ts_ns(&b) - ts_ns(&a));
	return 0;
}
