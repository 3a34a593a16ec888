/* gate_output: the node's stdout and stderr. The bytes go on unchanged to
 * the gate's own stdout and stderr (kubectl logs shows them), and the last
 * complete lines are kept for the `logs` request, each cut at
 * GATE_LINE_MAX bytes. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "gate.h"

/* Read at most this much per stream_pump call. */
#define PUMP_MAX (256 * 1024)

int
ring_init(struct gate_ring *r, unsigned cap)
{
	r->line = calloc(cap, sizeof *r->line);
	r->cap = r->line ? cap : 0;
	r->start = r->count = 0;
	return r->line ? 0 : -1;
}

void
ring_free(struct gate_ring *r)
{
	for (unsigned i = 0; i < r->cap; i++)
		free(r->line[i]);
	free(r->line);
	r->line = NULL;
	r->cap = r->start = r->count = 0;
}

static void
ring_push(struct gate_ring *r, const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	unsigned slot;

	if (!copy || r->cap == 0) {
		free(copy);
		return;   /* out of memory: the line is only passed through */
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (r->count < r->cap) {
		slot = (r->start + r->count) % r->cap;
		r->count++;
	} else {
		slot = r->start;
		r->start = (r->start + 1) % r->cap;
	}
	free(r->line[slot]);
	r->line[slot] = copy;
}

const char *
ring_get(const struct gate_ring *r, unsigned n, unsigned i)
{
	if (n > r->count)
		n = r->count;
	if (i >= n)
		return NULL;
	return r->line[(r->start + (r->count - n) + i) % r->cap];
}

/* Feed bytes into the line being assembled. */
static void
stream_lines(struct gate_stream *s, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = sizeof s->part - s->len;

		if (take > room) {
			s->cut = 1;
			memcpy(s->part + s->len, p, room);
			s->len += room;
		} else {
			memcpy(s->part + s->len, p, take);
			s->len += take;
		}
		if (!nl)
			return;
		ring_push(s->ring, s->part, s->len);
		s->len = 0;
		s->cut = 0;
		p = nl + 1;
		n -= take + 1;
	}
}

void
stream_flush(struct gate_stream *s)
{
	if (s->len > 0 || s->cut)
		ring_push(s->ring, s->part, s->len);
	s->len = 0;
	s->cut = 0;
}

int
stream_pump(struct gate_stream *s)
{
	char buf[16384];
	size_t total = 0;

	while (total < PUMP_MAX) {
		ssize_t n = read(s->fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (n == 0)
			return -1;
		/* our stdout may be gone (EPIPE): the lines are still kept */
		(void)fs_write_all(s->out_fd, buf, (size_t)n);
		stream_lines(s, buf, (size_t)n);
		total += (size_t)n;
	}
	return 1;
}
