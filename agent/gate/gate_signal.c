/* gate_signal: signal names, and the self-pipe through which signals reach
 * the supervisor's loop: the handler only writes the signal's number, and
 * the loop acts on it (gate_child.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gate.h"

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

const char *
gate_status_text(int st)
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

/* ---- the self-pipe ---- */

static int sig_wfd = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sig_wfd, &b, 1);
	errno = saved;
}

int
gate_signals_setup(int *rfd, struct err *e)
{
	struct sigaction sa;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_sys(e, ERR_FAILED, "pipe");
	*rfd = p[0];
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

void
gate_signals_reset(void)
{
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		signal(forwarded[i], SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

void
gate_signals_close(void)
{
	if (sig_wfd >= 0) {
		int fd = sig_wfd;
		sig_wfd = -1;   /* a late signal writes nowhere */
		close(fd);
	}
}
