/* gate_loop: the supervisor's set-up, its one thread and one poll() loop,
 * and its end. The loop watches the signal self-pipe (gate_signal.c), the
 * control socket and its clients (gate_server.c), the node's output pipes
 * (gate_output.c) and the exec-result pipe of a child being started
 * (gate_child.c), and wakes for the clients' deadlines and, while a stop
 * waits, to check the node's group. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "gate.h"
#include "log.h"

#define STOP_CHECK_MS 200       /* group check while stopping */

void
gate_finish(struct gate *g, int status, const char *why)
{
	if (g->done)
		return;
	g->done = 1;
	g->status = status;
	log_info("exiting", "status=%d reason=%s", status, logq(why));
}

/* ---- set-up ---- */

static int
std_fds_open(struct err *e)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return err_sys(e, ERR_FAILED, "open /dev/null");
		if (n != fd) {   /* lower fds are open: cannot happen */
			close(n);
			return err_set(e, ERR_FAILED, "fd %d is closed", fd);
		}
	}
	return 0;
}

static int
output_setup(struct gate *g, struct err *e)
{
	int po[2], pe[2];

	if (ring_init(&g->ring, g->o->log_lines) < 0)
		return err_set(e, ERR_FAILED, "out of memory");
	if (pipe2(po, O_CLOEXEC) < 0)
		return err_sys(e, ERR_FAILED, "pipe");
	if (pipe2(pe, O_CLOEXEC) < 0) {
		err_sys(e, ERR_FAILED, "pipe");
		close(po[0]);
		close(po[1]);
		return -1;
	}
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	g->out.fd = po[0];
	g->out_w = po[1];
	g->out.out_fd = STDOUT_FILENO;
	g->out.ring = &g->ring;
	g->err.fd = pe[0];
	g->err_w = pe[1];
	g->err.out_fd = STDERR_FILENO;
	g->err.ring = &g->ring;
	return 0;
}

static int
state_dir_setup(struct gate *g, struct err *e)
{
	char path[4096];

	if (fs_mkdir_p(g->o->state_dir, 0700, e) < 0) {
		err_prefix(e, "state dir");
		return -1;
	}
	/* Opened once, never through a link: the state dir lies on the data
	 * volume, which the node writes; the marker and the lock are reached
	 * below this descriptor from now on. */
	g->state_fd = fs_opendirat(AT_FDCWD, g->o->state_dir, g->o->state_dir,
	    0, e);
	if (g->state_fd < 0) {
		err_prefix(e, "state dir");
		return -1;
	}
	if (fs_join(path, sizeof path, g->o->state_dir, GATE_LOCK_FILE) < 0)
		return err_set(e, ERR_CONFIG, "state dir path too long: %s",
		    g->o->state_dir);
	g->lock_fd = fs_openat_regular(g->state_fd, GATE_LOCK_FILE, path,
	    O_RDWR | O_CREAT, NULL, e);
	if (g->lock_fd < 0)
		return -1;
	if (flock(g->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_BUSY, "another gate uses the state "
			    "dir %s (%s is locked): one state dir per gate",
			    g->o->state_dir, path);
		return err_sys(e, ERR_FAILED, "flock %s", path);
	}
	/* What an interrupted marker write may have left. */
	unlinkat(g->state_fd, GATE_HOLD_FILE FS_PARTIAL_SUFFIX, 0);
	return 0;
}

/* Everything up to the node's first start (unless a hold keeps it
 * stopped). */
static int
gate_setup(struct gate *g, struct err *e)
{
	const struct gate_opts *o = g->o;

	if (std_fds_open(e) < 0 || gate_signals_setup(&g->sig_rfd, e) < 0 ||
	    output_setup(g, e) < 0)
		return -1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("subreaper_failed", "error=%s: orphans of the node "
		    "will not be reaped here", logq(strerror(errno)));
	if (state_dir_setup(g, e) < 0)
		return -1;
	if (hold_load(g->state_fd, o->state_dir, &g->hold, e) < 0)
		log_error("hold_unreadable", "error=%s action=%s", logq(e->msg),
		    logq("the node stays stopped until start"));
	if (server_listen(g, e) < 0)
		return -1;
	log_info("gate_started", "socket=%s state_dir=%s stop_signal=%s "
	    "command=%s", logq(o->socket_path), logq(o->state_dir),
	    gate_signal_name(o->stop_signal), logq(g->command));
	if (g->hold.present) {
		log_info("held_at_start", "job=%s reason=%s until=%lld since=%lld",
		    logq(g->hold.job[0] ? g->hold.job : "-"),
		    logq(g->hold.reason[0] ? g->hold.reason : "-"),
		    g->hold.until, g->hold.since);
		return 0;
	}
	return child_spawn(g, 0, e);
}

/* ---- the loop ---- */

/* The descriptors to watch (who[] maps the clients' entries back to
 * g->cl), and the next deadline in *next (-1: none). */
static int
poll_fill(struct gate *g, struct pollfd *pfd, int *who, long long now,
    long long *next)
{
	int n = 0;

	*next = -1;
	pfd[n++] = (struct pollfd){ .fd = g->sig_rfd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = now >= g->accept_paused_until ?
	    g->listen_fd : -1, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = g->out.fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = g->err.fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = g->exec_fd, .events = POLLIN };
	if (g->accept_paused_until > now)
		*next = g->accept_paused_until;
	for (int i = 0; i < GATE_CLIENTS_MAX; i++) {
		struct client *c = &g->cl[i];
		short ev = 0;

		if (c->phase == C_FREE)
			continue;
		if (c->phase == C_READING)
			ev = POLLIN;
		else if (c->phase == C_WRITING)
			ev = POLLOUT;
		/* waiting clients: only POLLHUP/POLLERR (gone) */
		who[n] = i;
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		if (c->deadline > 0 && (*next < 0 || c->deadline < *next))
			*next = c->deadline;
	}
	if (g->state == ST_STOPPING &&
	    (*next < 0 || now + STOP_CHECK_MS < *next))
		*next = now + STOP_CHECK_MS;
	return n;
}

static void
loop(struct gate *g)
{
	struct pollfd pfd[5 + GATE_CLIENTS_MAX];
	int who[5 + GATE_CLIENTS_MAX];

	while (!g->done) {
		long long now = qb_mono_ms(), next;
		int n = poll_fill(g, pfd, who, now, &next), r;

		r = poll(pfd, (nfds_t)n, next < 0 ? -1 :
		    (int)(next > now ? (next - now > 60000 ? 60000 : next - now)
		    : 0));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll_failed", "error=%s", logq(strerror(errno)));
			gate_finish(g, 1, "poll failed");
			break;
		}
		if (pfd[0].revents) {
			unsigned char sigs[64];
			ssize_t k;
			while ((k = read(g->sig_rfd, sigs, sizeof sigs)) > 0)
				for (ssize_t j = 0; j < k && !g->done; j++)
					child_signal(g, sigs[j]);
		}
		if (g->done)
			break;
		for (int k = 2; k <= 3; k++) {
			struct gate_stream *s = k == 2 ? &g->out : &g->err;
			if (pfd[k].revents && stream_pump(s) < 0) {
				log_error("output_failed", "stream=%s error=%s",
				    k == 2 ? "stdout" : "stderr",
				    logq(strerror(errno)));
				close(s->fd);
				s->fd = -1;
			}
		}
		if (g->exec_fd >= 0 && pfd[4].revents)
			child_exec_check(g);
		if (g->done)
			break;
		for (int k = 5; k < n; k++) {
			struct client *c = &g->cl[who[k]];

			if (!pfd[k].revents || c->fd != pfd[k].fd)
				continue;
			if (c->phase == C_READING)
				client_read(g, c);
			else if (c->phase == C_WRITING)
				client_write(c);
			else if (pfd[k].revents & (POLLHUP | POLLERR))
				client_close(c);   /* a waiting client left */
		}
		if (pfd[1].revents)
			server_accept(g);
		now = qb_mono_ms();
		for (int i = 0; i < GATE_CLIENTS_MAX; i++) {
			struct client *c = &g->cl[i];
			if (c->phase != C_FREE && c->deadline > 0 &&
			    now >= c->deadline)
				client_timeout(g, c);
		}
		child_group_check(g);
		if (!g->done && g->exit_after_group &&
		    now >= g->leftover_deadline) {
			log_warn("group_leftover_timeout", "pgid=%d after=%ds",
			    (int)g->pgid, GATE_STOP_TIMEOUT_DEFAULT);
			gate_finish(g, g->exit_pending,
			    "the node exited on its own");
		}
	}
}

/* ---- the gate ---- */

static struct gate *
gate_new(const struct gate_opts *o)
{
	struct gate *g = calloc(1, sizeof *g);
	size_t n = 0;

	if (!g)
		return NULL;
	g->o = o;
	g->state = ST_STOPPED;
	g->exec_fd = g->listen_fd = g->lock_fd = g->sig_rfd = -1;
	g->state_fd = -1;
	g->out.fd = g->err.fd = g->out_w = g->err_w = -1;
	for (int i = 0; i < GATE_CLIENTS_MAX; i++)
		g->cl[i].fd = -1;
	g->umask = umask(0);
	umask(g->umask);
	/* The command as one line, for the log. */
	for (char **a = o->argv; *a && n + 2 < sizeof g->command; a++) {
		int w = snprintf(g->command + n, sizeof g->command - n, "%s%s",
		    n ? " " : "", *a);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= sizeof g->command)
		n = sizeof g->command - 1;
	g->command[n] = '\0';
	return g;
}

static void
close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void
gate_free(struct gate *g)
{
	server_goodbye(g);
	if (g->out.fd >= 0 || g->err.fd >= 0)
		child_drain_output(g);
	server_unlink(g);
	close_fd(g->exec_fd);
	close_fd(g->listen_fd);
	close_fd(g->lock_fd);
	close_fd(g->state_fd);
	close_fd(g->out.fd);
	close_fd(g->err.fd);
	close_fd(g->out_w);
	close_fd(g->err_w);
	close_fd(g->sig_rfd);
	gate_signals_close();
	ring_free(&g->ring);
	free(g);
}

int
gate_run(const struct gate_opts *o)
{
	struct gate *g = gate_new(o);
	struct err e;
	int status = 1;

	if (!g) {
		log_error("setup_failed", "error=%s", logq("out of memory"));
		return 1;
	}
	if (gate_setup(g, &e) == 0) {
		loop(g);
		status = g->status;
	} else {
		log_error("setup_failed", "error=%s", logq(e.msg));
		fprintf(stderr, "quorum-backup-gate: %s\n", e.msg);
	}
	gate_free(g);
	return status;
}
