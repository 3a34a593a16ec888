/* gate_child: the node's life. It runs in a process group of its own. A
 * stop sends one signal to the group (gate_request.c) and completes only
 * when every process of the group is gone, checked with kill(-pgid, 0)
 * after reaping (the gate is a child subreaper, so members orphaned by a
 * shell that did not exec come back to it and are reaped here). Nothing is
 * ever escalated to SIGKILL. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "gate.h"
#include "log.h"

/* In the forked child: become the group leader, put back what a process
 * started by the container runtime would have, and exec. */
static void __attribute__((noreturn))
child_exec(struct gate *g, int efd)
{
	sigset_t none;
	int err_no;

	setpgid(0, 0);
	gate_signals_reset();
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

int
child_spawn(struct gate *g, int by_request, struct err *e)
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
		for (int i = 0; i < GATE_CLIENTS_MAX; i++)
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
			gate_finish(g, g->exit_value, g->start_error);
			return;
		}
		g->state = ST_STOPPED;
		snprintf(msg, sizeof msg, "start failed: %s", g->start_error);
		for (int i = 0; i < GATE_CLIENTS_MAX; i++)
			if (g->cl[i].phase == C_WAIT_START)
				reply_status(g, &g->cl[i], msg);
	}
	request_redispatch(g);
}

void
child_exec_check(struct gate *g)
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

	child_drain_output(g);
	g->pgid = 0;
	g->state = ST_STOPPED;
	log_info("stopped", "after=%.3fs job=%s", secs,
	    logq(g->hold.job[0] ? g->hold.job : "-"));
	for (int i = 0; i < GATE_CLIENTS_MAX; i++)
		if (g->cl[i].phase == C_WAIT_STOP)
			reply_status(g, &g->cl[i], NULL);
	if (g->exit_after_group)
		gate_finish(g, g->exit_pending, "the node exited on its own");
	else if (g->exit_when_stopped)
		gate_finish(g, 0, "SIGTERM while the node was stopping");
}

/* While stopping: is every process of the group gone (reaped)? */
void
child_group_check(struct gate *g)
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
		child_exec_check(g);   /* the pipe is readable now: data or EOF */
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
	    gate_status_text(st), g->state == ST_STOPPING ? "yes" : "no");
	if (g->state == ST_STOPPING) {
		child_group_check(g);
		return;
	}
	/* On its own: crash semantics, the gate exits with its status. */
	child_drain_output(g);
	status = g->exit_kind == 1 ? g->exit_value : 128 + g->exit_value;
	if (kill(-g->pgid, 0) < 0 && errno == ESRCH) {
		gate_finish(g, status, "the node exited on its own");
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
			    gate_status_text(st));
	}
	child_group_check(g);
}

void
child_signal(struct gate *g, int sig)
{
	const char *name = gate_signal_name(sig);

	if (sig == SIGCHLD) {
		reap(g);
		return;
	}
	if ((sig == SIGTERM || sig == SIGINT) && g->state == ST_STOPPED) {
		log_info("signal_received", "signal=%s action=exit reason=%s",
		    name, g->hold.present ? "held" : "stopped");
		gate_finish(g, 0, g->hold.present ?
		    "signal while the node is held" :
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

void
child_drain_output(struct gate *g)
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
