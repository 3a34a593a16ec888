/* nodes_fixture: the processes, ports and gates the nodes suites share,
 * and their runner (see nodes_fixture.h). */
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "nodes_fixture.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "nodes.h"

/* ---- processes ------------------------------------------------------ */

const char *gate_bin;
const char *testnode_bin;
char ganache_cli[PATH_MAX];   /* "" when absent */

struct proc {
	pid_t pid;
	char pidfile[PATH_MAX];   /* the supervised node's, or "" */
};
static struct proc procs[16];
static int nprocs;

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* tmp/name into one of four static buffers. */
const char *
tp(const char *fmt, ...)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *b = buf[next++ % 4];
	char rel[PATH_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", tmp, rel), PATH_MAX);
	return b;
}

/* Start argv with stdout and stderr appended to log; registered for the
 * teardown (pidfile: the node it supervises, killed too). */
pid_t
spawn(char *const argv[], const char *log, const char *pidfile)
{
	pid_t pid;

	ck_assert_int_lt(nprocs, (int)(sizeof procs / sizeof procs[0]));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nul = open("/dev/null", O_RDONLY);

		if (fd < 0 || nul < 0)
			_exit(126);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	procs[nprocs].pid = pid;
	snprintf(procs[nprocs].pidfile, sizeof procs[nprocs].pidfile, "%s",
	    pidfile ? pidfile : "");
	nprocs++;
	return pid;
}

long long
read_pidfile(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* pid runs a program whose command line contains what. */
int
pid_runs(long long pid, const char *what)
{
	char path[64], cmd[4096];
	ssize_t n;
	int fd;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%lld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmd, sizeof cmd - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	return strstr(cmd, what) != NULL;
}

static int
wait_exit(pid_t pid, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 1;
		msleep(10);
	}
	return 0;
}

/* SIGTERM each process (a gate forwards it to its node), SIGKILL after 3 s,
 * and kill a supervised node that is still there. */
static void
stop_procs(void)
{
	for (int i = nprocs - 1; i >= 0; i--) {
		struct proc *p = &procs[i];
		long long node = p->pidfile[0] ? read_pidfile(p->pidfile) : -1;

		kill(p->pid, SIGTERM);
		if (!wait_exit(p->pid, 3000)) {
			if (pid_runs(node, "testnode"))
				kill((pid_t)node, SIGKILL);
			if (!wait_exit(p->pid, 1000)) {
				kill(p->pid, SIGKILL);
				waitpid(p->pid, NULL, 0);
			}
		}
		node = p->pidfile[0] ? read_pidfile(p->pidfile) : -1;
		if (pid_runs(node, "testnode"))
			kill((pid_t)node, SIGKILL);
	}
	nprocs = 0;
}

/* SIGKILL the node a gate supervises (one that ignores SIGTERM). */
void
kill_node(const char *pidfile)
{
	long long node = read_pidfile(pidfile);

	if (pid_runs(node, "testnode"))
		kill((pid_t)node, SIGKILL);
}

void
teardown_tmp(void)
{
	stop_procs();
	tmp_teardown();
}

/* ---- ports and sockets ---------------------------------------------- */

static int port_next;

/* A free port on 127.0.0.1. */
int
free_port(void)
{
	if (!port_next)
		port_next = 30000 + (int)(getpid() % 3000) * 10;
	for (int tries = 0; tries < 200; tries++) {
		int port = port_next++, fd, one = 1, r;
		struct sockaddr_in sa = { .sin_family = AF_INET,
			.sin_port = htons((unsigned short)port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		if (port_next > 65000)
			port_next = 30000;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fd, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
		if (r == 0)
			return port;
	}
	ck_abort_msg("no free port on 127.0.0.1");
	return -1;
}

/* A TCP listener on 127.0.0.1 that never accepts; *port gets its port. */
int
silent_tcp(int *port)
{
	for (int tries = 0; tries < 20; tries++) {
		int p = free_port(), one = 1;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET,
			.sin_port = htons((unsigned short)p),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		ck_assert_int_ge(fd, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		    listen(fd, 8) == 0) {
			*port = p;
			return fd;
		}
		close(fd);
	}
	ck_abort_msg("cannot listen on 127.0.0.1");
	return -1;
}

char *
urlf(int port, const char *path)
{
	char *u;

	ck_assert_int_gt(asprintf(&u, "http://127.0.0.1:%d%s", port, path), 0);
	return u;
}

/* ---- nodes under gates ---------------------------------------------- */

void
gnode_free(struct gnode *g)
{
	node_def_free(g->def);
	g->def = NULL;
}

/* Wait until the gate answers "running" and the node answers HTTP. */
static void
wait_up(const struct node_def *d, const char *url, double limit)
{
	double end = now_s() + limit;
	struct err e = { .code = ERR_OK };
	const char *state = NULL;

	for (;;) {
		json_t *r = NULL;
		int up = 0;

		if (node_gate_request(d, "status", 1.0, &r, &e) == 0) {
			state = json_get_str(r, "state");
			up = state && strcmp(state, "running") == 0;
		}
		json_decref(r);
		if (up)
			break;
		ck_assert_msg(now_s() < end, "%s: gate not running after %.0f s"
		    ": %s", d->name, limit, e.msg);
		msleep(20);
	}
	for (;;) {
		long st = 0;

		if (node_http_status(url, 1.0, &st, &e) == 0 && st == 200)
			return;
		ck_assert_msg(now_s() < end, "%s: %s not answering after %.0f s"
		    ": %s", d->name, url, limit, e.msg);
		msleep(20);
	}
}

/* A gate named name supervising a testnode (extra: testnode flags,
 * NULL-terminated, e.g. --print-lines for a line of output per block).
 * The def checks health (GET / -> 200). log: where the gate's output
 * goes (NULL: its own file). */
void
gnode_start(struct gnode *g, const char *name, const char *log,
    long long stop_timeout, const char *const *extra)
{
	char port[16], sock[PATH_MAX], data[PATH_MAX], logf[PATH_MAX];
	char *argv[40], *url;
	int a = 0;

	memset(g, 0, sizeof *g);
	snprintf(g->dir, sizeof g->dir, "%s", tp("%s", name));
	ck_assert_int_eq(mkdir(g->dir, 0700), 0);
	snprintf(sock, sizeof sock, "%s/gate.sock", g->dir);
	snprintf(g->state, sizeof g->state, "%s/state", g->dir);
	snprintf(data, sizeof data, "%s/data", g->dir);
	snprintf(g->pidfile, sizeof g->pidfile, "%s/node.pid", g->dir);
	snprintf(logf, sizeof logf, "%s", log ? log : tp("%s/gate.log", name));
	g->port = free_port();
	snprintf(port, sizeof port, "%d", g->port);
	argv[a++] = (char *)gate_bin;
	argv[a++] = "--socket";
	argv[a++] = sock;
	argv[a++] = "--state-dir";
	argv[a++] = g->state;
	argv[a++] = "--";
	argv[a++] = (char *)testnode_bin;
	argv[a++] = "--data";
	argv[a++] = data;
	argv[a++] = "--port";
	argv[a++] = port;
	argv[a++] = "--pid-file";
	argv[a++] = g->pidfile;
	for (; extra && *extra; extra++)
		argv[a++] = (char *)*extra;
	argv[a] = NULL;
	g->gate = spawn(argv, logf, g->pidfile);
	url = urlf(g->port, "/");
	g->def = node_def_new(name, sock, NULL, url, 0, stop_timeout);
	ck_assert_ptr_nonnull(g->def);
	wait_up(g->def, url, 10);
	free(url);
}

/* The same node seen through its JSON-RPC instead of its health URL. */
struct node_def *
rpc_def(const struct gnode *g, long long min_peers)
{
	char *url = urlf(g->port, "");
	struct node_def *d = node_def_new(g->def->name, g->def->gate_socket,
	    url, NULL, min_peers, g->def->stop_timeout);

	free(url);
	ck_assert_ptr_nonnull(d);
	return d;
}

static json_t *
gate_status(const struct node_def *d)
{
	struct err e;
	json_t *r;

	ck_assert_msg(node_gate_request(d, "status", 2.0, &r, &e) == 0, "%s",
	    e.msg);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	return r;
}

void
assert_gate_state(const struct node_def *d, const char *want)
{
	json_t *r = gate_status(d);

	ck_assert_str_eq(json_get_str(r, "state"), want);
	json_decref(r);
}

const char *const print_lines[] = { "--print-lines", NULL };

/* ---- the client's limits, with canned replies ----------------------- */

/* Read one HTTP request (headers and Content-Length bytes) into buf. */
size_t
read_request(int fd, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		char *end, *cl;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(buf, "\ncontent-length:");
		if (len >= (size_t)(end - buf) + 4 +
		    (cl ? strtoul(cl + 16, NULL, 10) : 0))
			break;
	}
	return len;
}

/* ---- runner --------------------------------------------------------- */

/* The program's name in messages: "test_" and the suite's name. */
static const char *suite_name = "nodes";

/* SIGKILL (by pid) every descendant left, e.g. by a test that failed
 * before its teardown: as a subreaper this process inherits them. */
static void
kill_leftovers(void)
{
	for (int round = 0; round < 20; round++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		int found = 0;

		if (!d)
			return;
		while ((de = readdir(d)) != NULL) {
			char path[300], buf[512], *pp;
			long pid = strtol(de->d_name, NULL, 10);
			FILE *f;

			if (pid <= 0)
				continue;
			snprintf(path, sizeof path, "/proc/%ld/status", pid);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fgets(buf, sizeof buf, f))
				if ((pp = strstr(buf, "PPid:")) == buf &&
				    strtol(buf + 5, NULL, 10) == (long)getpid()) {
					fprintf(stderr, "test_%s: killing "
					    "leftover process %ld\n", suite_name,
					    pid);
					kill((pid_t)pid, SIGKILL);
					found = 1;
				}
			fclose(f);
		}
		closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			return;
		msleep(50);
	}
}

static const char *
find_bin(const char *env, const char *rel, char *buf, size_t size)
{
	const char *v = getenv(env), *top = getenv("top_builddir");

	if (v && v[0])
		return v;
	snprintf(buf, size, "%s/%s", top && top[0] ? top : ".", rel);
	return buf;
}

int
nodes_run_suite(Suite *s, const char *name)
{
	static char gbuf[PATH_MAX], tbuf[PATH_MAX];
	const char *g = getenv("GANACHE_CLI"), *src = getenv("top_srcdir");
	int rc;

	suite_name = name;
	gate_bin = find_bin("GATE", "quorum-backup-gate", gbuf, sizeof gbuf);
	testnode_bin = find_bin("TESTNODE", "tests/helpers/testnode", tbuf,
	    sizeof tbuf);
	if (access(gate_bin, X_OK) < 0 || access(testnode_bin, X_OK) < 0) {
		fprintf(stderr, "test_%s: %s or %s is missing\n", name,
		    gate_bin, testnode_bin);
		return EXIT_FAILURE;
	}
	if (g && g[0])
		snprintf(ganache_cli, sizeof ganache_cli, "%s", g);
	else
		snprintf(ganache_cli, sizeof ganache_cli,
		    "%s/tests/e2e/node_modules/ganache/dist/node/cli.js",
		    src && src[0] ? src : ".");
	if (access(ganache_cli, R_OK) < 0 ||
	    system("node --version >/dev/null 2>&1") != 0)
		ganache_cli[0] = '\0';

	log_set_level(LOG_ERROR);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		perror("prctl(PR_SET_CHILD_SUBREAPER)");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "test_%s: curl_global_init failed\n", name);
		return EXIT_FAILURE;
	}
	/* The leftovers killed before the base directory goes. */
	rc = run_suite_then(s, name, kill_leftovers);
	curl_global_cleanup();
	return rc;
}
