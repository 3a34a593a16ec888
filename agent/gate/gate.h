/* gate: the internals of quorum-backup-gate shared by its files. libc only.
 *
 *   gate_main.c     command line: run, probe, ctl, --help
 *   gate_loop.c     the supervisor: set-up, the poll() loop, the end
 *   gate_signal.c   signal names, the self-pipe the handlers write to
 *   gate_child.c    the node's life: start (fork, exec), reaping, the
 *                   group's end, signals forwarded, its output drained
 *   gate_server.c   the control socket and its clients: accept, read,
 *                   write, time out, the replies (status, logs, errors)
 *   gate_request.c  one request line: parsed, checked, and carried out by
 *                   the stop/start state machine
 *   gate_hold.c     the hold marker and the validation of its fields
 *   gate_output.c   pass-through of the node's output, the ring of lines
 *   gate_json.c     JSON writing (escaped by hand) and top-level reading
 *   gate_client.c   the client side: one request over the socket, HTTP probe
 *
 * The protocol itself is in gate_proto.h. The client side knows nothing of
 * the supervisor; the supervisor uses it only to tell whether another gate
 * answers on its socket. */
#ifndef QB_GATE_H
#define QB_GATE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "gate_proto.h"

/* ---- the supervisor (gate_loop.c; its parts are at the end) ---- */

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

/* Signal names without "SIG": "TERM" or a number. -1 when unknown
 * (gate_signal.c). */
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

/* ---- the supervisor's parts ---- */

#define GATE_CLIENTS_MAX 16
#define GATE_CLIENT_TIMEOUT_MS 5000     /* to send the line, to read the reply */

enum gate_state { ST_RUNNING, ST_STOPPING, ST_STOPPED, ST_STARTING };

enum client_phase {
	C_FREE = 0,
	C_READING,      /* the request line is coming */
	C_DEFERRED,     /* a stop or start that came while starting */
	C_WAIT_STOP,    /* waiting for the group to be gone */
	C_WAIT_START,   /* waiting for exec to succeed or fail */
	C_WRITING,      /* sending the reply; then close */
};

/* One connection on the control socket. */
struct client {
	int fd;
	enum client_phase phase;
	char in[GATE_REQUEST_MAX + 2];  /* the line, its '\n', a NUL */
	size_t inlen;
	long long deadline;             /* qb_mono_ms(); 0: none */
	unsigned stop_timeout;          /* C_WAIT_STOP: seconds */
	char *out;
	size_t outlen, outoff;
};

/* The supervisor's whole state; times are qb_mono_ms() milliseconds. */
struct gate {
	const struct gate_opts *o;
	enum gate_state state;
	pid_t pid;                      /* the command's process; 0: exited */
	pid_t pgid;                     /* its group; 0: no group left */
	long long started_ms;
	long long stop_ms;              /* when the stop signal was sent */
	unsigned restarts;
	int exit_kind;                  /* 0 none, 1 exit code, 2 signal */
	int exit_value;
	struct gate_hold hold;
	char start_error[512];
	int exec_fd;                    /* exec result of a child starting */
	int start_by_request;
	int exit_when_stopped;          /* SIGTERM came while stopping */
	int term_sent;                  /* the group had SIGTERM/INT/stop */
	int exit_after_group;           /* the leader exited on its own... */
	int exit_pending;               /* ...with this status for the gate */
	long long leftover_deadline;    /* ...and the rest gets this long */
	int done;
	int status;                     /* the gate's exit status when done */
	int listen_fd;
	dev_t sock_dev;
	ino_t sock_ino;
	int sock_bound;
	long long accept_paused_until;
	int lock_fd;
	int state_fd;                   /* --state-dir, opened once */
	int sig_rfd;
	int out_w, err_w;               /* write ends handed to each child */
	mode_t umask;
	struct gate_ring ring;
	struct gate_stream out, err;
	struct client cl[GATE_CLIENTS_MAX];
	char command[1024];             /* for the log */
};

/* gate_loop.c: the loop ends, the gate exiting with status (logged with
 * why). The first call wins. */
void gate_finish(struct gate *g, int status, const char *why);

/* gate_signal.c */
/* "exit:N" or "signal:NAME" for a wait status, in a static buffer. */
const char *gate_status_text(int st);
/* Handlers for the forwarded signals and SIGCHLD that write the signal's
 * number to a pipe; *rfd: its read end (non-blocking). SIGPIPE ignored. */
int gate_signals_setup(int *rfd, struct err *e);
/* In a forked child: those signals back to their defaults. */
void gate_signals_reset(void);
/* Close the write end: a late signal writes nowhere. */
void gate_signals_close(void);

/* gate_child.c */
/* Fork and exec the command (state starting; the result comes on
 * g->exec_fd). by_request: a start (counted in restarts), not the boot. */
int child_spawn(struct gate *g, int by_request, struct err *e);
/* The exec-result pipe is readable: running, or the start failed. */
void child_exec_check(struct gate *g);
/* While stopping: when every process of the group is gone, stopped. */
void child_group_check(struct gate *g);
/* A signal from the self-pipe: SIGCHLD reaps, others go to the group. */
void child_signal(struct gate *g, int sig);
/* What the node's pipes still hold, passed on and kept. */
void child_drain_output(struct gate *g);

/* gate_server.c */
int server_listen(struct gate *g, struct err *e);
/* Accept what waits on the listening socket, and read from each. */
void server_accept(struct gate *g);
/* At the end: finish the replies under way, tell the waiting clients that
 * none is coming, and close them all. */
void server_goodbye(struct gate *g);
/* Remove the socket file if it is still the one this gate bound. */
void server_unlink(struct gate *g);
void client_read(struct gate *g, struct client *c);
void client_write(struct client *c);
void client_close(struct client *c);
/* c's deadline passed: what it waited for is answered as timed out. */
void client_timeout(struct gate *g, struct client *c);
/* The replies: each sends one line and closes the connection once it is
 * written. */
void reply_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The status object, with "ok":false and the error when error is set. */
void reply_status(struct gate *g, struct client *c, const char *error);
void reply_logs(struct gate *g, struct client *c, unsigned n);

/* gate_request.c */
/* c's request line is in c->in: carry it out, or answer why not. */
void request_dispatch(struct gate *g, struct client *c);
/* The start settled: run the requests that waited for it. */
void request_redispatch(struct gate *g);

#endif
