/* gate_loop: the supervisor. One thread, one poll() loop over the signal
 * self-pipe, the control socket and its clients, the node's output pipes
 * and the exec-result pipe of a child being started.
 *
 * The node runs in a process group of its own. A stop sends one signal to
 * the group and completes only when every process of the group is gone,
 * checked with kill(-pgid, 0) after reaping (the gate is a child subreaper,
 * so members orphaned by a shell that did not exec come back to it and are
 * reaped here). Nothing is ever escalated to SIGKILL. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "gate.h"
#include "log.h"

#define MAX_CLIENTS 16
#define CLIENT_TIMEOUT_MS 5000
#define STOP_CHECK_MS 200       /* group check while stopping */
#define ACCEPT_PAUSE_MS 1000    /* after EMFILE */

enum state { ST_RUNNING, ST_STOPPING, ST_STOPPED, ST_STARTING };

static const char *const state_names[] = {
	[ST_RUNNING] = GATE_STATE_RUNNING,
	[ST_STOPPING] = GATE_STATE_STOPPING,
	[ST_STOPPED] = GATE_STATE_STOPPED,
	[ST_STARTING] = GATE_STATE_STARTING,
};

enum phase {
	C_FREE = 0,
	C_READING,      /* the request line is coming */
	C_DEFERRED,     /* a stop or start that came while starting */
	C_WAIT_STOP,    /* waiting for the group to be gone */
	C_WAIT_START,   /* waiting for exec to succeed or fail */
	C_WRITING,      /* sending the reply; then close */
};

struct client {
	int fd;
	enum phase phase;
	char in[GATE_REQUEST_MAX + 2];  /* the line, its '\n', a NUL */
	size_t inlen;
	long long deadline;             /* 0: none */
	unsigned stop_timeout;          /* C_WAIT_STOP: seconds */
	char *out;
	size_t outlen, outoff;
};

struct gate {
	const struct gate_opts *o;
	enum state state;
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
	struct client cl[MAX_CLIENTS];
	char command[1024];             /* for the log */
};

/* ---- signals ---- */

static const struct {
	const char *name;
	int sig;
} sig_table[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

/* Forwarded to the node's group. */
static const int forwarded[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
};

int
gate_signal_parse(const char *s)
{
	char *end;
	long v;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++)
		if (strcmp(s, sig_table[i].name) == 0)
			return sig_table[i].sig;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v >= NSIG)
		return -1;
	return (int)v;
}

const char *
gate_signal_name(int sig)
{
	static char buf[16];

	for (size_t i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++)
		if (sig_table[i].sig == sig)
			return sig_table[i].name;
	snprintf(buf, sizeof buf, "SIG%d", sig);
	return buf;
}

static int sig_wfd = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sig_wfd, &b, 1);
	errno = saved;
}

/* "exit:N" or "signal:NAME" for the log. */
static const char *
status_text(int st)
{
	static char buf[32];

	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exit:%d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "signal:%s",
		    gate_signal_name(WTERMSIG(st)));
	else
		snprintf(buf, sizeof buf, "0x%x", (unsigned)st);
	return buf;
}

static void
finish(struct gate *g, int status, const char *why)
{
	if (g->done)
		return;
	g->done = 1;
	g->status = status;
	log_info("exiting", "status=%d reason=%s", status, logq(why));
}

/* ---- replies ---- */

static void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->phase = C_FREE;
}

static void
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
	c->deadline = qb_mono_ms() + CLIENT_TIMEOUT_MS;
	jb_init(b);
	client_write(c);
}

static void
reply_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
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

/* The status object, with "ok":false and the error when error is set. */
static void
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
	if (g->hold.present) {
		jb_raw(&b, "{");
		jb_key(&b, GATE_OPT_JOB);
		if (g->hold.job[0])
			jb_str0(&b, g->hold.job);
		else
			jb_raw(&b, "null");
		jb_key(&b, GATE_OPT_REASON);
		if (g->hold.reason[0])
			jb_str0(&b, g->hold.reason);
		else
			jb_raw(&b, "null");
		jb_key(&b, GATE_OPT_UNTIL);
		if (g->hold.until > 0)
			jb_fmt(&b, "%lld", g->hold.until);
		else
			jb_raw(&b, "null");
		jb_key(&b, "since");
		jb_fmt(&b, "%lld", g->hold.since);
		jb_raw(&b, "}");
	} else {
		jb_raw(&b, "null");
	}
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

static void
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

/* ---- the child ---- */

static void drain_output(struct gate *g);
static void dispatch(struct gate *g, struct client *c);

/* In the forked child: become the group leader, put back what a process
 * started by the container runtime would have, and exec. */
static void __attribute__((noreturn))
child_exec(struct gate *g, int efd)
{
	sigset_t none;
	int err_no;

	setpgid(0, 0);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		signal(forwarded[i], SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	umask(g->umask);
	if (dup2(g->out_w, STDOUT_FILENO) < 0 ||
	    dup2(g->err_w, STDERR_FILENO) < 0) {
		err_no = errno;
	} else {
		execvp(g->o->argv[0], g->o->argv);
		err_no = errno;
	}
	(void)!write(efd, &err_no, sizeof err_no);
	_exit(err_no == ENOENT ? 127 : 126);
}

static int
spawn(struct gate *g, int by_request, struct err *e)
{
	sigset_t all, old;
	int ep[2], fork_errno;
	pid_t pid;

	if (pipe2(ep, O_CLOEXEC) < 0)
		return err_sys(e, ERR_FAILED, "pipe");
	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(g, ep[1]);
	fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		errno = fork_errno;
		return err_sys(e, ERR_FAILED, "fork");
	}
	/* Also here, so the group exists whichever runs first. EACCES: the
	 * child has exec'd already, and has done it itself. */
	if (setpgid(pid, pid) < 0 && errno != EACCES && errno != ESRCH)
		log_warn("setpgid_failed", "pid=%d error=%s", (int)pid,
		    logq(strerror(errno)));
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	g->exec_fd = ep[0];
	g->pid = pid;
	g->pgid = pid;
	g->state = ST_STARTING;
	g->term_sent = 0;
	g->started_ms = qb_mono_ms();
	g->start_by_request = by_request;
	return 0;
}

/* Run the requests that waited for the start to settle. */
static void
redispatch_deferred(struct gate *g)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (g->cl[i].phase == C_DEFERRED)
			dispatch(g, &g->cl[i]);
}

/* The exec result arrived: err_no 0 means exec succeeded. */
static void
exec_resolved(struct gate *g, int err_no)
{
	char msg[600];

	close(g->exec_fd);
	g->exec_fd = -1;
	if (err_no == 0) {
		g->state = ST_RUNNING;
		if (g->start_by_request)
			g->restarts++;
		g->start_error[0] = '\0';
		log_info("started", "pid=%d pgid=%d restarts=%u command=%s",
		    (int)g->pid, (int)g->pgid, g->restarts, logq(g->command));
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (g->cl[i].phase == C_WAIT_START)
				reply_status(g, &g->cl[i], NULL);
	} else {
		snprintf(g->start_error, sizeof g->start_error, "exec %s: %s",
		    g->o->argv[0], strerror(err_no));
		log_error("start_failed", "pid=%d error=%s", (int)g->pid,
		    logq(g->start_error));
		/* The child exits 127 (or 126) now; its reaping is routine. */
		g->pid = 0;
		g->pgid = 0;
		g->exit_kind = 1;
		g->exit_value = err_no == ENOENT ? 127 : 126;
		if (!g->start_by_request) {
			/* At boot, as a container whose command is missing. */
			finish(g, g->exit_value, g->start_error);
			return;
		}
		g->state = ST_STOPPED;
		snprintf(msg, sizeof msg, "start failed: %s", g->start_error);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (g->cl[i].phase == C_WAIT_START)
				reply_status(g, &g->cl[i], msg);
	}
	redispatch_deferred(g);
}

static void
exec_check(struct gate *g)
{
	int err_no = 0;
	ssize_t n = read(g->exec_fd, &err_no, sizeof err_no);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF: exec closed the pipe. A child killed before exec also ends
	 * here; its exit is then handled as the node's own. */
	exec_resolved(g, n == (ssize_t)sizeof err_no ? err_no : 0);
}

static void
group_gone(struct gate *g)
{
	double secs = (double)(qb_mono_ms() - g->stop_ms) / 1000.0;

	drain_output(g);
	g->pgid = 0;
	g->state = ST_STOPPED;
	log_info("stopped", "after=%.3fs job=%s", secs,
	    logq(g->hold.job[0] ? g->hold.job : "-"));
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (g->cl[i].phase == C_WAIT_STOP)
			reply_status(g, &g->cl[i], NULL);
	if (g->exit_after_group)
		finish(g, g->exit_pending, "the node exited on its own");
	else if (g->exit_when_stopped)
		finish(g, 0, "SIGTERM while the node was stopping");
}

/* While stopping: is every process of the group gone (reaped)? */
static void
check_group(struct gate *g)
{
	if (g->state != ST_STOPPING || g->pid != 0)
		return;
	if (kill(-g->pgid, 0) == 0 || errno != ESRCH)
		return;
	group_gone(g);
}

static void
leader_exited(struct gate *g, pid_t pid, int st)
{
	int status;

	if (g->exec_fd >= 0) {
		exec_check(g);   /* the pipe is readable now: data or EOF */
		if (g->done || g->pid != pid)
			return;
	}
	g->pid = 0;
	if (WIFEXITED(st)) {
		g->exit_kind = 1;
		g->exit_value = WEXITSTATUS(st);
	} else {
		g->exit_kind = 2;
		g->exit_value = WTERMSIG(st);
	}
	log_info("child_exited", "pid=%d status=%s requested=%s", (int)pid,
	    status_text(st), g->state == ST_STOPPING ? "yes" : "no");
	if (g->state == ST_STOPPING) {
		check_group(g);
		return;
	}
	/* On its own: crash semantics, the gate exits with its status. */
	drain_output(g);
	status = g->exit_kind == 1 ? g->exit_value : 128 + g->exit_value;
	if (kill(-g->pgid, 0) < 0 && errno == ESRCH) {
		finish(g, status, "the node exited on its own");
		return;
	}
	/* Processes of its group remain (a shell that did not exec leaves
	 * its child): a PID 1 exiting now would have them SIGKILLed by the
	 * kernel. They get their time to stop first, with one SIGTERM unless
	 * they had one already, and the gate exits when they are gone. */
	g->state = ST_STOPPING;
	g->stop_ms = qb_mono_ms();
	g->exit_after_group = 1;
	g->exit_pending = status;
	g->leftover_deadline = g->stop_ms + GATE_STOP_TIMEOUT_DEFAULT * 1000LL;
	log_warn("group_leftover", "pgid=%d action=%s wait=%ds", (int)g->pgid,
	    g->term_sent ? "none" : "TERM", GATE_STOP_TIMEOUT_DEFAULT);
	if (!g->term_sent && kill(-g->pgid, SIGTERM) == 0)
		g->term_sent = 1;
}

static void
reap(struct gate *g)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			break;
		if (p == g->pid && !g->done)
			leader_exited(g, p, st);
		else
			log_debug("reaped", "pid=%d status=%s", (int)p,
			    status_text(st));
	}
	check_group(g);
}

static void
handle_signal(struct gate *g, int sig)
{
	const char *name = gate_signal_name(sig);

	if (sig == SIGCHLD) {
		reap(g);
		return;
	}
	if ((sig == SIGTERM || sig == SIGINT) && g->state == ST_STOPPED) {
		log_info("signal_received", "signal=%s action=exit reason=%s",
		    name, g->hold.present ? "held" : "stopped");
		finish(g, 0, g->hold.present ? "signal while the node is held" :
		    "signal while the node is stopped");
		return;
	}
	if ((sig == SIGTERM || sig == SIGINT) && g->state == ST_STOPPING) {
		/* The stop signal went out once; it is not repeated. */
		g->exit_when_stopped = 1;
		log_info("signal_received", "signal=%s action=exit_when_stopped",
		    name);
		return;
	}
	if (g->pgid <= 0) {
		log_info("signal_ignored", "signal=%s reason=%s", name,
		    logq("no node process"));
		return;
	}
	if (kill(-g->pgid, sig) < 0)
		log_warn("signal_not_forwarded", "signal=%s pgid=%d error=%s",
		    name, (int)g->pgid, logq(strerror(errno)));
	else {
		log_info("signal_forwarded", "signal=%s pgid=%d", name,
		    (int)g->pgid);
		if (sig == SIGTERM || sig == SIGINT)
			g->term_sent = 1;
	}
}

/* ---- output ---- */

static void
drain_output(struct gate *g)
{
	struct gate_stream *s[2] = { &g->out, &g->err };

	for (int i = 0; i < 2; i++) {
		if (s[i]->fd < 0)
			continue;
		for (int k = 0; k < 16 && stream_pump(s[i]) == 1; k++)
			;
		stream_flush(s[i]);
	}
}

/* ---- requests ---- */

static void
defer(struct client *c)
{
	c->phase = C_DEFERRED;
	c->deadline = qb_mono_ms() + CLIENT_TIMEOUT_MS;
}

/* Whole seconds in [min, max]; -1 when s is not that. */
static long long
parse_uint(const char *s, long long min, long long max)
{
	long long v = 0;

	if (!*s || strlen(s) > 12)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < min || v > max ? -1 : v;
}

struct stop_req {
	unsigned timeout;
	const char *job, *reason;
	long long until;
};

static void
stop_wait(struct gate *g, struct client *c, unsigned timeout)
{
	if (timeout == 0) {
		char msg[256];
		snprintf(msg, sizeof msg, "stop timed out after 0 s: the node "
		    "is still stopping (SIG%s was sent once and is not "
		    "repeated)", gate_signal_name(g->o->stop_signal));
		reply_status(g, c, msg);
		return;
	}
	c->phase = C_WAIT_STOP;
	c->stop_timeout = timeout;
	c->deadline = qb_mono_ms() + (long long)timeout * 1000;
}

static int
hold_set(struct gate *g, const struct stop_req *r, struct err *e)
{
	struct gate_hold h;

	memset(&h, 0, sizeof h);
	h.present = 1;
	if (r->job)
		snprintf(h.job, sizeof h.job, "%s", r->job);
	if (r->reason)
		snprintf(h.reason, sizeof h.reason, "%s", r->reason);
	h.until = r->until;
	h.since = (long long)time(NULL);
	if (hold_save(g->state_fd, g->o->state_dir, &h, e) < 0)
		return -1;
	g->hold = h;
	return 0;
}

static void
do_stop(struct gate *g, struct client *c, const struct stop_req *r)
{
	struct err e;

	switch (g->state) {
	case ST_STARTING:
		defer(c);
		return;
	case ST_STOPPED:
		/* After a failed start nothing holds the node yet. */
		if (!g->hold.present) {
			if (hold_set(g, r, &e) < 0) {
				reply_error(c, "%s", e.msg);
				return;
			}
			log_info("hold_set", "job=%s reason=%s",
			    logq(r->job ? r->job : "-"),
			    logq(r->reason ? r->reason : "-"));
		}
		reply_status(g, c, NULL);
		return;
	case ST_STOPPING:
		stop_wait(g, c, r->timeout);
		return;
	case ST_RUNNING:
		break;
	}
	/* The marker first: a stop is never without its owner and reason. */
	if (hold_set(g, r, &e) < 0) {
		reply_error(c, "%s: the node was not stopped", e.msg);
		return;
	}
	log_info("stop_requested", "job=%s reason=%s until=%lld timeout=%u "
	    "signal=%s pgid=%d", logq(r->job ? r->job : "-"),
	    logq(r->reason ? r->reason : "-"), r->until, r->timeout,
	    gate_signal_name(g->o->stop_signal), (int)g->pgid);
	if (kill(-g->pgid, g->o->stop_signal) < 0 && errno != ESRCH) {
		int saved = errno;
		struct err e2;
		if (hold_remove(g->state_fd, g->o->state_dir, &e2) == 0)
			g->hold.present = 0;
		reply_error(c, "send SIG%s to process group %d: %s",
		    gate_signal_name(g->o->stop_signal), (int)g->pgid,
		    strerror(saved));
		return;
	}
	g->state = ST_STOPPING;
	g->term_sent = 1;
	g->stop_ms = qb_mono_ms();
	stop_wait(g, c, r->timeout);
	check_group(g);
}

static void
do_start(struct gate *g, struct client *c)
{
	struct gate_hold saved;
	struct err e;
	char msg[700];

	switch (g->state) {
	case ST_RUNNING:
		reply_status(g, c, NULL);
		return;
	case ST_STARTING:
		defer(c);
		return;
	case ST_STOPPING:
		snprintf(msg, sizeof msg, "the node is still stopping (SIG%s "
		    "sent %lld s ago): start it once it has stopped",
		    gate_signal_name(g->o->stop_signal),
		    (qb_mono_ms() - g->stop_ms) / 1000);
		reply_status(g, c, msg);
		return;
	case ST_STOPPED:
		break;
	}
	log_info("start_requested", "job=%s", logq(g->hold.present &&
	    g->hold.job[0] ? g->hold.job : "-"));
	saved = g->hold;
	if (hold_remove(g->state_fd, g->o->state_dir, &e) < 0) {
		reply_error(c, "%s: the node stays stopped", e.msg);
		return;
	}
	g->hold.present = 0;
	if (spawn(g, 1, &e) < 0) {
		snprintf(g->start_error, sizeof g->start_error, "%.400s",
		    e.msg);
		log_error("start_failed", "error=%s", logq(e.msg));
		/* Put the hold back: the node stays as it was. */
		if (saved.present && hold_save(g->state_fd, g->o->state_dir, &saved, &e) == 0)
			g->hold = saved;
		snprintf(msg, sizeof msg, "start failed: %s", g->start_error);
		reply_status(g, c, msg);
		return;
	}
	c->phase = C_WAIT_START;
	c->deadline = 0;
}

static void
parse_stop(struct gate *g, struct client *c, char **tok, int ntok)
{
	struct stop_req r = { .timeout = GATE_STOP_TIMEOUT_DEFAULT };
	int seen_timeout = 0;

	for (int i = 1; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		const char *v;
		long long n;

		if (!eq) {
			reply_error(c, "stop: unexpected \"%.64s\": options are "
			    "timeout=SECONDS job=ID until=EPOCH_SECONDS "
			    "reason=TEXT", tok[i]);
			return;
		}
		*eq = '\0';
		v = eq + 1;
		if (strcmp(tok[i], GATE_OPT_TIMEOUT) == 0) {
			if (seen_timeout++)
				goto twice;
			n = parse_uint(v, 0, GATE_STOP_TIMEOUT_MAX);
			if (n < 0) {
				reply_error(c, "stop: bad timeout \"%.64s\": "
				    "expected whole seconds from 0 to %d", v,
				    GATE_STOP_TIMEOUT_MAX);
				return;
			}
			r.timeout = (unsigned)n;
		} else if (strcmp(tok[i], GATE_OPT_JOB) == 0) {
			if (r.job)
				goto twice;
			if (!gate_job_valid(v)) {
				reply_error(c, "stop: bad job \"%.64s\": 1 to %d "
				    "characters from A-Z a-z 0-9 - . _ : @ / +",
				    v, GATE_JOB_MAX);
				return;
			}
			r.job = v;
		} else if (strcmp(tok[i], GATE_OPT_UNTIL) == 0) {
			long long now = (long long)time(NULL);
			if (r.until)
				goto twice;
			n = parse_uint(v, 1, 253402300799LL);   /* year 9999 */
			if (n < 0 || n <= now) {
				reply_error(c, "stop: bad until \"%.64s\": "
				    "expected a time in the future, in seconds "
				    "since the epoch (now is %lld)", v, now);
				return;
			}
			r.until = n;
		} else if (strcmp(tok[i], GATE_OPT_REASON) == 0) {
			if (r.reason)
				goto twice;
			if (!hold_reason_valid(v)) {
				reply_error(c, "stop: bad reason: 1 to %d bytes "
				    "of UTF-8 text without spaces or control "
				    "characters", GATE_REASON_MAX);
				return;
			}
			r.reason = v;
		} else {
			reply_error(c, "stop: unknown option \"%.64s\": options "
			    "are timeout=, job=, until=, reason=", tok[i]);
			return;
		}
		continue;
twice:
		reply_error(c, "stop: %s given twice", tok[i]);
		return;
	}
	do_stop(g, c, &r);
}

static void
dispatch(struct gate *g, struct client *c)
{
	char line[GATE_REQUEST_MAX + 2];
	char *tok[GATE_REQUEST_MAX / 2 + 1];
	const char *nl = memchr(c->in, '\n', c->inlen);
	size_t len = nl ? (size_t)(nl - c->in) : c->inlen;
	char *p, *save = NULL;
	int ntok = 0;

	if (len > GATE_REQUEST_MAX) {
		reply_error(c, "request line longer than %d bytes",
		    GATE_REQUEST_MAX);
		return;
	}
	if (memchr(c->in, '\0', len)) {
		reply_error(c, "request contains a NUL byte");
		return;
	}
	memcpy(line, c->in, len);
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			reply_error(c, "request contains control characters");
			return;
		}
	for (p = strtok_r(line, " \t", &save); p; p = strtok_r(NULL, " \t", &save))
		tok[ntok++] = p;
	if (ntok == 0) {
		reply_error(c, "empty request: expected stop, start, status or "
		    "logs");
		return;
	}
	if (strcmp(tok[0], GATE_REQ_STATUS) == 0 ||
	    strcmp(tok[0], GATE_REQ_START) == 0) {
		if (ntok > 1) {
			reply_error(c, "%s takes no arguments", tok[0]);
			return;
		}
		if (strcmp(tok[0], GATE_REQ_STATUS) == 0)
			reply_status(g, c, NULL);
		else
			do_start(g, c);
	} else if (strcmp(tok[0], GATE_REQ_STOP) == 0) {
		parse_stop(g, c, tok, ntok);
	} else if (strcmp(tok[0], GATE_REQ_LOGS) == 0) {
		long long n = g->ring.cap;
		if (ntok > 2 || (ntok == 2 &&
		    (strncmp(tok[1], GATE_OPT_LINES "=", 6) != 0 ||
		    (n = parse_uint(tok[1] + 6, 1, g->ring.cap)) < 0))) {
			reply_error(c, "logs: expected no argument or lines=N "
			    "with N from 1 to %u", g->ring.cap);
			return;
		}
		reply_logs(g, c, (unsigned)n);
	} else {
		reply_error(c, "unknown request \"%.64s\": expected stop, start, "
		    "status or logs", tok[0]);
	}
}

/* ---- clients ---- */

static void
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
				dispatch(g, c);
				return;
			}
			continue;
		}
		if (n == 0) {   /* a last line without '\n' still counts */
			if (c->inlen > 0)
				dispatch(g, c);
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

static void
accept_clients(struct gate *g)
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
		for (int i = 0; i < MAX_CLIENTS && !c; i++)
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
		c->deadline = qb_mono_ms() + CLIENT_TIMEOUT_MS;
		client_read(g, c);
	}
}

static void
client_timeout(struct gate *g, struct client *c)
{
	char msg[256];

	switch (c->phase) {
	case C_READING:
		reply_error(c, "no complete request line within %d s",
		    CLIENT_TIMEOUT_MS / 1000);
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
signals_setup(struct gate *g, struct err *e)
{
	struct sigaction sa;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_sys(e, ERR_FAILED, "pipe");
	g->sig_rfd = p[0];
	sig_wfd = p[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
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

static int
listen_setup(struct gate *g, struct err *e)
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

/* ---- the loop ---- */

static void
loop(struct gate *g)
{
	struct pollfd pfd[5 + MAX_CLIENTS];
	int who[5 + MAX_CLIENTS];

	while (!g->done) {
		long long now = qb_mono_ms(), next = -1;
		int n = 0, r;

		pfd[n++] = (struct pollfd){ .fd = g->sig_rfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = now >= g->accept_paused_until ?
		    g->listen_fd : -1, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = g->out.fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = g->err.fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = g->exec_fd, .events = POLLIN };
		if (g->accept_paused_until > now)
			next = g->accept_paused_until;
		for (int i = 0; i < MAX_CLIENTS; i++) {
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
			if (c->deadline > 0 && (next < 0 || c->deadline < next))
				next = c->deadline;
		}
		if (g->state == ST_STOPPING &&
		    (next < 0 || now + STOP_CHECK_MS < next))
			next = now + STOP_CHECK_MS;
		r = poll(pfd, (nfds_t)n, next < 0 ? -1 :
		    (int)(next > now ? (next - now > 60000 ? 60000 : next - now)
		    : 0));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll_failed", "error=%s", logq(strerror(errno)));
			finish(g, 1, "poll failed");
			break;
		}
		if (pfd[0].revents) {
			unsigned char sigs[64];
			ssize_t k;
			while ((k = read(g->sig_rfd, sigs, sizeof sigs)) > 0)
				for (ssize_t j = 0; j < k && !g->done; j++)
					handle_signal(g, sigs[j]);
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
			exec_check(g);
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
			accept_clients(g);
		now = qb_mono_ms();
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &g->cl[i];
			if (c->phase != C_FREE && c->deadline > 0 &&
			    now >= c->deadline)
				client_timeout(g, c);
		}
		check_group(g);
		if (!g->done && g->exit_after_group &&
		    now >= g->leftover_deadline) {
			log_warn("group_leftover_timeout", "pgid=%d after=%ds",
			    (int)g->pgid, GATE_STOP_TIMEOUT_DEFAULT);
			finish(g, g->exit_pending, "the node exited on its own");
		}
	}
}

int
gate_run(const struct gate_opts *o)
{
	struct gate *g;
	struct err e;
	int status = 1;
	size_t n = 0;

	g = calloc(1, sizeof *g);
	if (!g) {
		log_error("setup_failed", "error=%s", logq("out of memory"));
		return 1;
	}
	g->o = o;
	g->state = ST_STOPPED;
	g->exec_fd = g->listen_fd = g->lock_fd = g->sig_rfd = -1;
	g->state_fd = -1;
	g->out.fd = g->err.fd = g->out_w = g->err_w = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		g->cl[i].fd = -1;
	g->umask = umask(0);
	umask(g->umask);
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

	if (std_fds_open(&e) < 0 || signals_setup(g, &e) < 0 ||
	    output_setup(g, &e) < 0)
		goto fail;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("subreaper_failed", "error=%s: orphans of the node "
		    "will not be reaped here", logq(strerror(errno)));
	if (state_dir_setup(g, &e) < 0)
		goto fail;
	if (hold_load(g->state_fd, o->state_dir, &g->hold, &e) < 0)
		log_error("hold_unreadable", "error=%s action=%s", logq(e.msg),
		    logq("the node stays stopped until start"));
	if (listen_setup(g, &e) < 0)
		goto fail;
	log_info("gate_started", "socket=%s state_dir=%s stop_signal=%s "
	    "command=%s", logq(o->socket_path), logq(o->state_dir),
	    gate_signal_name(o->stop_signal), logq(g->command));
	if (g->hold.present) {
		log_info("held_at_start", "job=%s reason=%s until=%lld since=%lld",
		    logq(g->hold.job[0] ? g->hold.job : "-"),
		    logq(g->hold.reason[0] ? g->hold.reason : "-"),
		    g->hold.until, g->hold.since);
	} else if (spawn(g, 0, &e) < 0) {
		goto fail;
	}
	loop(g);
	status = g->status;
	goto out;
fail:
	log_error("setup_failed", "error=%s", logq(e.msg));
	fprintf(stderr, "quorum-backup-gate: %s\n", e.msg);
out:
	/* Pending clients learn that no answer is coming. */
	for (int i = 0; i < MAX_CLIENTS; i++) {
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
	if (g->out.fd >= 0 || g->err.fd >= 0)
		drain_output(g);
	if (g->sock_bound) {
		struct stat st;
		if (lstat(o->socket_path, &st) == 0 &&
		    st.st_dev == g->sock_dev && st.st_ino == g->sock_ino)
			unlink(o->socket_path);
	}
	if (g->exec_fd >= 0)
		close(g->exec_fd);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->lock_fd >= 0)
		close(g->lock_fd);
	if (g->state_fd >= 0)
		close(g->state_fd);
	if (g->out.fd >= 0)
		close(g->out.fd);
	if (g->err.fd >= 0)
		close(g->err.fd);
	if (g->out_w >= 0)
		close(g->out_w);
	if (g->err_w >= 0)
		close(g->err_w);
	if (g->sig_rfd >= 0)
		close(g->sig_rfd);
	if (sig_wfd >= 0) {
		int fd = sig_wfd;
		sig_wfd = -1;   /* a late signal writes nowhere */
		close(fd);
	}
	ring_free(&g->ring);
	free(g);
	return status;
}
