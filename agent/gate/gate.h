/* gate: the internals of quorum-backup-gate shared by its files. libc only.
 *
 *   gate_main.c    command line: run, probe, ctl, --help
 *   gate_loop.c    the supervisor: event loop, child, signals, socket server
 *   gate_hold.c    the hold marker and the validation of its fields
 *   gate_output.c  pass-through of the node's output, the ring of lines
 *   gate_json.c    JSON writing (escaped by hand) and top-level reading
 *   gate_client.c  the client side: one request over the socket, HTTP probe
 *
 * The protocol itself is in gate_proto.h. */
#ifndef QB_GATE_H
#define QB_GATE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "gate_proto.h"

/* ---- the supervisor (gate_loop.c) ---- */

struct gate_opts {
	const char *socket_path;
	const char *state_dir;
	int stop_signal;
	unsigned log_lines;
	char **argv;            /* the command, NULL-terminated */
};

/* Run the supervisor until it must exit; returns the process exit status
 * (the node's status when it exited on its own, 0 after SIGTERM while
 * held, 1 when the gate could not set itself up). */
int gate_run(const struct gate_opts *o);

/* Signal names without "SIG": "TERM" or a number. -1 when unknown. */
int gate_signal_parse(const char *s);
/* "TERM", or "SIG<n>" in a static buffer for signals without a name. */
const char *gate_signal_name(int sig);

/* ---- the hold marker (gate_hold.c) ---- */

struct gate_hold {
	int present;
	char job[GATE_JOB_MAX + 1];         /* "" when not given */
	char reason[GATE_REASON_MAX + 1];   /* "" when not given */
	long long until;                    /* epoch seconds; 0: none */
	long long since;                    /* epoch seconds of the request */
};

/* Read DIR/GATE_HOLD_FILE. Absent: 0 with h->present = 0. A marker that
 * cannot be parsed still holds (h->present = 1, what parsed is kept):
 * returns -1 with e saying why, and the caller keeps the node stopped. */
int hold_load(int dirfd, const char *dir, struct gate_hold *h,
    struct err *e);
/* Write it atomically (fsync, rename, fsync dir), mode 0600. */
int hold_save(int dirfd, const char *dir, const struct gate_hold *h,
    struct err *e);
/* Remove it and fsync the directory; absent is not an error. */
int hold_remove(int dirfd, const char *dir, struct err *e);
/* 1 when s is a valid reason (see gate_proto.h; job ids: gate_job_valid
 * there). */
int hold_reason_valid(const char *s);

/* ---- the node's output (gate_output.c) ---- */

struct gate_ring {
	char **line;
	unsigned cap, start, count;
};

struct gate_stream {
	int fd;                         /* read end of the node's pipe */
	int out_fd;                     /* where the bytes go on: 1 or 2 */
	struct gate_ring *ring;
	char part[GATE_LINE_MAX];       /* the line being assembled */
	size_t len;
	int cut;                        /* the line is longer than part */
};

int ring_init(struct gate_ring *r, unsigned cap);
void ring_free(struct gate_ring *r);
/* The i-th of the newest n lines (0 = oldest of them). */
const char *ring_get(const struct gate_ring *r, unsigned n, unsigned i);

/* Copy what the pipe holds now to out_fd and into the ring, up to a bound
 * per call so that one chatty node cannot starve the event loop.
 * Returns 1 when more may be waiting, 0 when drained, -1 on EOF or error. */
int stream_pump(struct gate_stream *s);
/* Push the incomplete last line, if any, into the ring. */
void stream_flush(struct gate_stream *s);

/* ---- JSON (gate_json.c) ---- */

struct jbuf {
	char *p;
	size_t len, cap;
	int failed;                     /* out of memory: the text is cut */
};

void jb_init(struct jbuf *b);
void jb_free(struct jbuf *b);
void jb_raw(struct jbuf *b, const char *s);
void jb_fmt(struct jbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A quoted JSON string: " \ and control characters escaped, bytes that are
 * not well-formed UTF-8 replaced by \ufffd. */
void jb_str(struct jbuf *b, const char *s, size_t n);
/* "key": after a comma unless the text ends with '{' or '['. */
void jb_key(struct jbuf *b, const char *key);
/* A comma before an array element unless it is the first. */
void jb_elem(struct jbuf *b);

/* Find a top-level key of a JSON object; *v and *vlen span its raw value.
 * Returns 0 when found, -1 when absent or the text is not an object. */
int json_get(const char *json, const char *key, const char **v, size_t *vlen);
/* Decode the JSON string value at v (with its quotes) into out (cut to
 * fit, always NUL-terminated). -1 when v is not a string. */
int json_str(const char *v, size_t vlen, char *out, size_t size);
/* 1 when the raw value equals the literal lit (e.g. "true", "null"). */
int json_is(const char *v, size_t vlen, const char *lit);

/* ---- the client side (gate_client.c) ---- */

/* Send line to the gate at path and read its one-line reply (NUL-
 * terminated, without the '\n'; caller frees). timeout_ms bounds the whole
 * exchange. */
int gate_request(const char *path, const char *line, long long timeout_ms,
    char **reply, struct err *e);
/* 1 when something accepts connections on the Unix socket path, 0 when
 * nothing does (no file, or a stale socket), -1 on other errors. */
int gate_socket_answers(const char *path, struct err *e);
/* 0 when url is one http_get_status accepts; else ERR_USAGE saying why. */
int http_url_check(const char *url, struct err *e);
/* GET url (http://HOST[:PORT][/PATH], HOST numeric or localhost) and store
 * the HTTP status in *status. */
int http_get_status(const char *url, long long timeout_ms, int *status,
    struct err *e);

#endif
