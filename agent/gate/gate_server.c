/* gate_server: the control socket and its clients. At most
 * GATE_CLIENTS_MAX at once, each with GATE_CLIENT_TIMEOUT_MS to send its
 * line (and to read the reply); a client waiting for a stop or a start is
 * only watched for leaving. Nothing here blocks: the loop polls. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "gate.h"
#include "log.h"

#define ACCEPT_PAUSE_MS 1000    /* after EMFILE */

static const char *const state_names[] = {
	[ST_RUNNING] = GATE_STATE_RUNNING,
	[ST_STOPPING] = GATE_STATE_STOPPING,
	[ST_STOPPED] = GATE_STATE_STOPPED,
	[ST_STARTING] = GATE_STATE_STARTING,
};

/* ---- the socket ---- */

int
server_listen(struct gate *g, struct err *e)
{
	const char *path = g->o->socket_path;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int r;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return err_set(e, ERR_USAGE, "socket path longer than %zu "
		    "bytes: %s", sizeof sa.sun_path - 1, path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = gate_socket_answers(path, e);
	if (r < 0)
		return -1;
	if (r > 0)
		return err_set(e, ERR_BUSY, "%s: another gate answers on this "
		    "socket: refusing to start", path);
	if (lstat(path, &st) == 0) {
		if (unlink(path) < 0)
			return err_sys(e, ERR_FAILED, "remove stale socket %s",
			    path);
		log_info("stale_socket_removed", "path=%s", logq(path));
	}
	g->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (g->listen_fd < 0)
		return err_sys(e, ERR_FAILED, "socket");
	old = umask(0117);   /* born 0660: no window with wider access */
	r = bind(g->listen_fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r < 0)
		return err_sys(e, ERR_FAILED, "bind %s", path);
	if (lstat(path, &st) < 0)
		return err_sys(e, ERR_FAILED, "stat %s", path);
	g->sock_bound = 1;
	g->sock_dev = st.st_dev;
	g->sock_ino = st.st_ino;
	if (chmod(path, 0660) < 0)
		return err_sys(e, ERR_FAILED, "chmod %s", path);
	if (listen(g->listen_fd, 32) < 0)
		return err_sys(e, ERR_FAILED, "listen %s", path);
	return 0;
}

void
server_accept(struct gate *g)
{
	static const char busy[] = "{\"ok\":false,\"error\":\"too many "
	    "clients: try again\"}\n";

	for (int k = 0; k < 64; k++) {
		int fd = accept4(g->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept_failed", "error=%s",
				    logq(strerror(errno)));
				g->accept_paused_until = qb_mono_ms() +
				    ACCEPT_PAUSE_MS;
			}
			return;
		}
		for (int i = 0; i < GATE_CLIENTS_MAX && !c; i++)
			if (g->cl[i].phase == C_FREE)
				c = &g->cl[i];
		if (!c) {
			log_warn("client_rejected", "reason=%s",
			    logq("too many clients"));
			(void)!send(fd, busy, sizeof busy - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->phase = C_READING;
		c->inlen = 0;
		c->deadline = qb_mono_ms() + GATE_CLIENT_TIMEOUT_MS;
		client_read(g, c);
	}
}

void
server_goodbye(struct gate *g)
{
	/* Pending clients learn that no answer is coming. */
	for (int i = 0; i < GATE_CLIENTS_MAX; i++) {
		static const char bye[] = "{\"ok\":false,\"error\":\"the gate "
		    "is exiting\"}\n";
		struct client *c = &g->cl[i];
		if (c->phase == C_WRITING)
			client_write(c);
		else if (c->phase != C_FREE)
			(void)!send(c->fd, bye, sizeof bye - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (c->phase != C_FREE)
			client_close(c);
	}
}

void
server_unlink(struct gate *g)
{
	struct stat st;

	if (!g->sock_bound)
		return;
	if (lstat(g->o->socket_path, &st) == 0 &&
	    st.st_dev == g->sock_dev && st.st_ino == g->sock_ino)
		unlink(g->o->socket_path);
}

/* ---- a client ---- */

void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->phase = C_FREE;
}

void
client_read(struct gate *g, struct client *c)
{
	for (;;) {
		size_t room = sizeof c->in - 1 - c->inlen;
		ssize_t n;

		if (room == 0) {
			reply_error(c, "request line longer than %d bytes",
			    GATE_REQUEST_MAX);
			return;
		}
		n = recv(c->fd, c->in + c->inlen, room, MSG_DONTWAIT);
		if (n > 0) {
			int nl = memchr(c->in + c->inlen, '\n', (size_t)n) != NULL;
			c->inlen += (size_t)n;
			c->in[c->inlen] = '\0';
			if (nl) {
				request_dispatch(g, c);
				return;
			}
			continue;
		}
		if (n == 0) {   /* a last line without '\n' still counts */
			if (c->inlen > 0)
				request_dispatch(g, c);
			else
				client_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			client_close(c);
		return;
	}
}

void
client_write(struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;   /* poll for POLLOUT */
		if (n < 0) {
			client_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	client_close(c);
}

void
client_timeout(struct gate *g, struct client *c)
{
	char msg[256];

	switch (c->phase) {
	case C_READING:
		reply_error(c, "no complete request line within %d s",
		    GATE_CLIENT_TIMEOUT_MS / 1000);
		break;
	case C_DEFERRED:
		reply_error(c, "the node is still starting: try again");
		break;
	case C_WAIT_STOP:
		log_warn("stop_timed_out", "after=%us pgid=%d signal=%s",
		    c->stop_timeout, (int)g->pgid,
		    gate_signal_name(g->o->stop_signal));
		snprintf(msg, sizeof msg, "stop timed out after %u s: the node "
		    "is still stopping (SIG%s was sent once and is not "
		    "repeated)", c->stop_timeout,
		    gate_signal_name(g->o->stop_signal));
		reply_status(g, c, msg);
		break;
	case C_WRITING:
		log_warn("client_dropped", "reason=%s",
		    logq("the reply was not read in time"));
		client_close(c);
		break;
	default:
		break;
	}
}

/* ---- replies ---- */

/* Send b (taken over) followed by '\n', then close. */
static void
client_send(struct client *c, struct jbuf *b)
{
	jb_raw(b, "\n");
	if (b->failed) {
		log_error("reply_failed", "error=%s", logq("out of memory"));
		jb_free(b);
		client_close(c);
		return;
	}
	free(c->out);
	c->out = b->p;
	c->outlen = b->len;
	c->outoff = 0;
	c->phase = C_WRITING;
	c->deadline = qb_mono_ms() + GATE_CLIENT_TIMEOUT_MS;
	jb_init(b);
	client_write(c);
}

void
reply_error(struct client *c, const char *fmt, ...)
{
	char msg[1200];
	struct jbuf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warn("request_rejected", "error=%s", logq(msg));
	jb_init(&b);
	jb_raw(&b, "{");
	jb_key(&b, GATE_KEY_OK);
	jb_raw(&b, "false");
	jb_key(&b, GATE_KEY_ERROR);
	jb_str(&b, msg, strlen(msg));
	jb_raw(&b, "}");
	client_send(c, &b);
}

static void
jb_str0(struct jbuf *b, const char *s)
{
	jb_str(b, s, strlen(s));
}

static void
jb_hold(struct jbuf *b, const struct gate_hold *h)
{
	if (!h->present) {
		jb_raw(b, "null");
		return;
	}
	jb_raw(b, "{");
	jb_key(b, GATE_OPT_JOB);
	if (h->job[0])
		jb_str0(b, h->job);
	else
		jb_raw(b, "null");
	jb_key(b, GATE_OPT_REASON);
	if (h->reason[0])
		jb_str0(b, h->reason);
	else
		jb_raw(b, "null");
	jb_key(b, GATE_OPT_UNTIL);
	if (h->until > 0)
		jb_fmt(b, "%lld", h->until);
	else
		jb_raw(b, "null");
	jb_key(b, "since");
	jb_fmt(b, "%lld", h->since);
	jb_raw(b, "}");
}

void
reply_status(struct gate *g, struct client *c, const char *error)
{
	struct jbuf b;

	jb_init(&b);
	jb_raw(&b, "{");
	jb_key(&b, GATE_KEY_OK);
	jb_raw(&b, error ? "false" : "true");
	if (error) {
		jb_key(&b, GATE_KEY_ERROR);
		jb_str0(&b, error);
	}
	jb_key(&b, GATE_KEY_STATE);
	jb_str0(&b, state_names[g->state]);
	jb_key(&b, GATE_KEY_PID);
	if (g->pid > 0)
		jb_fmt(&b, "%d", (int)g->pid);
	else
		jb_raw(&b, "null");
	jb_key(&b, GATE_KEY_PGID);
	if (g->pgid > 0)
		jb_fmt(&b, "%d", (int)g->pgid);
	else
		jb_raw(&b, "null");
	jb_key(&b, GATE_KEY_UPTIME);
	if (g->pgid > 0)
		jb_fmt(&b, "%lld", (qb_mono_ms() - g->started_ms) / 1000);
	else
		jb_raw(&b, "null");
	jb_key(&b, GATE_KEY_RESTARTS);
	jb_fmt(&b, "%u", g->restarts);
	jb_key(&b, GATE_KEY_LAST_EXIT);
	if (g->exit_kind == 1)
		jb_fmt(&b, "{\"code\":%d}", g->exit_value);
	else if (g->exit_kind == 2)
		jb_fmt(&b, "{\"signal\":%d}", g->exit_value);
	else
		jb_raw(&b, "null");
	jb_key(&b, GATE_KEY_HOLD);
	jb_hold(&b, &g->hold);
	jb_key(&b, GATE_KEY_START_ERROR);
	if (g->start_error[0])
		jb_str0(&b, g->start_error);
	else
		jb_raw(&b, "null");
	jb_key(&b, GATE_KEY_COMMAND);
	jb_raw(&b, "[");
	for (char **a = g->o->argv; *a; a++) {
		jb_elem(&b);
		jb_str0(&b, *a);
	}
	jb_raw(&b, "]}");
	client_send(c, &b);
}

void
reply_logs(struct gate *g, struct client *c, unsigned n)
{
	struct jbuf b;

	jb_init(&b);
	jb_raw(&b, "{");
	jb_key(&b, GATE_KEY_OK);
	jb_raw(&b, "true");
	jb_key(&b, GATE_KEY_LINES);
	jb_raw(&b, "[");
	if (n > g->ring.count)
		n = g->ring.count;
	for (unsigned i = 0; i < n; i++) {
		jb_elem(&b);
		jb_str0(&b, ring_get(&g->ring, n, i));
	}
	jb_raw(&b, "]}");
	client_send(c, &b);
}
