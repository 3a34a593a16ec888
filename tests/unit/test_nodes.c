/* Unit tests of agent/nodes: the gate client, JSON-RPC and health checks,
 * node facts and the ordering helpers, against real processes:
 *
 * - tests/helpers/testnode ($TESTNODE): answers HTTP with 200 and, for
 *   JSON-RPC, as geth does for eth_blockNumber (its journal's height),
 *   eth_syncing (false), net_peerCount (3), web3_clientVersion,
 *   eth_getBlockByNumber (hash = the height, stateRoot = height + 1) and
 *   istanbul_* / qbft_* ("does not exist");
 * - quorum-backup-gate ($GATE) supervising testnodes, with --ignore-term for
 *   a node that does not stop;
 * - ganache (a real Ethereum JSON-RPC node) when $GANACHE_CLI or
 *   $top_srcdir/tests/e2e/node_modules/ganache/dist/node/cli.js (what
 *   scripts/install-deps.sh installs) exists and `node` is
 *   on the PATH; otherwise those cases say "skipped" and pass;
 * - loopback sockets made here that accept and never answer, and a small
 *   canned HTTP server for what no real node here produces on demand: the
 *   client's limits (oversized, non-JSON and error replies) and a node
 *   that is syncing.
 *
 * Ports: 127.0.0.1 only, from 30000 + (pid % 3000) * 10 upwards, each
 * checked free before use. Every process started is killed by pid in the
 * test's teardown; the runner is a child subreaper and kills (by pid) any
 * descendant still alive at the end, so a failed test leaves nothing. */
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "err.h"
#include "gate_proto.h"
#include "json.h"
#include "log.h"
#include "nodes.h"

/* ---- processes ------------------------------------------------------ */

static const char *gate_bin;
static const char *testnode_bin;
static char ganache_cli[PATH_MAX];   /* "" when absent */

struct proc {
	pid_t pid;
	char pidfile[PATH_MAX];   /* the supervised node's, or "" */
};
static struct proc procs[16];
static int nprocs;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* tmp/name into one of four static buffers. */
static const char *
tp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
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
static pid_t
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

static long long
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
static int
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
static void
kill_node(const char *pidfile)
{
	long long node = read_pidfile(pidfile);

	if (pid_runs(node, "testnode"))
		kill((pid_t)node, SIGKILL);
}

static void
teardown_tmp(void)
{
	stop_procs();
	tmp_teardown();
}

/* ---- ports and sockets ---------------------------------------------- */

static int port_next;

/* A free port on 127.0.0.1. */
static int
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
static int
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

/* A Unix socket at path: listening (never accepting) or, when listen_too
 * is 0, bound and closed (a stale socket file). */
static int
unix_socket(const char *path, int listen_too)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(strlen(path), sizeof sa.sun_path);
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	if (!listen_too) {
		close(fd);
		return -1;
	}
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static char *
urlf(int port, const char *path)
{
	char *u;

	ck_assert_int_gt(asprintf(&u, "http://127.0.0.1:%d%s", port, path), 0);
	return u;
}

/* ---- nodes under gates ---------------------------------------------- */

struct gnode {
	struct node_def *def;
	pid_t gate;
	int port;
	char dir[PATH_MAX / 2];
	char pidfile[PATH_MAX];
	char state[PATH_MAX];
};

static void
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
 * NULL-terminated, e.g. --print-lines for a line of output per block). The def checks health (GET / -> 200). log: where the
 * gate's output goes (NULL: its own file). */
static void
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
static struct node_def *
rpc_def(const struct gnode *g, long long min_peers)
{
	char *url = urlf(g->port, "");
	struct node_def *d = node_def_new(g->def->name, g->def->gate_socket,
	    url, NULL, min_peers, g->def->stop_timeout);

	free(url);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* Start a testnode without a gate on a free port; its port. */
static int
testnode_alone(void)
{
	char port[16], data[PATH_MAX], pidf[PATH_MAX];
	char *argv[10];
	int p = free_port();
	char *url;
	double end = now_s() + 10;
	struct err e;
	long st;

	snprintf(port, sizeof port, "%d", p);
	snprintf(data, sizeof data, "%s", tp("alone-%d", p));
	snprintf(pidf, sizeof pidf, "%s", tp("alone-%d.pid", p));
	argv[0] = (char *)testnode_bin;
	argv[1] = "--data";
	argv[2] = data;
	argv[3] = "--port";
	argv[4] = port;
	argv[5] = "--pid-file";
	argv[6] = pidf;
	argv[7] = NULL;
	spawn(argv, tp("alone-%d.log", p), NULL);
	url = urlf(p, "/");
	while (node_http_status(url, 1.0, &st, &e) < 0) {
		ck_assert_msg(now_s() < end, "testnode not answering: %s",
		    e.msg);
		msleep(20);
	}
	free(url);
	return p;
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

static void
assert_gate_state(const struct node_def *d, const char *want)
{
	json_t *r = gate_status(d);

	ck_assert_str_eq(json_get_str(r, "state"), want);
	json_decref(r);
}

/* Index of the first line at or after `from` that holds a and b; -1. */
static int
line_index(const char *path, const char *a, const char *b, int from)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int i = 0, found = -1;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f)) {
		if (i >= from && strstr(line, a) && (!b || strstr(line, b))) {
			found = i;
			break;
		}
		i++;
	}
	fclose(f);
	return found;
}

static const char *const print_lines[] = { "--print-lines", NULL };

/* ---- parsing -------------------------------------------------------- */

START_TEST(test_hex_quantity)
{
	static const struct { const char *s; long long v; } cases[] = {
		{ "0x0", 0 }, { "0x1b4", 436 }, { "0X1B4", 436 },
		{ "0x00ff", 255 }, { "0x7fffffffffffffff", 0x7fffffffffffffffLL },
		{ "0x8000000000000000", -1 }, { "0xffffffffffffffffff", -1 },
		{ "0x", -1 }, { "1b4", -1 }, { "0xg", -1 }, { "0x-1", -1 },
		{ "", -1 }, { " 0x1", -1 }, { "0x1 ", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_string(cases[i].s);
		ck_assert_msg(node_hex_quantity(j) == cases[i].v, "%s: %lld",
		    cases[i].s, node_hex_quantity(j));
		json_decref(j);
	}
	json_t *j = json_integer(42);
	ck_assert_int_eq(node_hex_quantity(j), 42);
	json_decref(j);
	j = json_integer(-3);
	ck_assert_int_eq(node_hex_quantity(j), -1);
	json_decref(j);
	ck_assert_int_eq(node_hex_quantity(NULL), -1);
	j = json_false();
	ck_assert_int_eq(node_hex_quantity(j), -1);
	json_decref(j);
}
END_TEST

START_TEST(test_def_validate)
{
	char longpath[200];
	struct node_def *d;
	struct err e;

	d = node_def_new("quorum", "/run/qb/quorum.sock",
	    "http://127.0.0.1:8545", NULL, 1, 60);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(node_def_validate(d, &e), 0);
	free(d->rpc_url);
	d->rpc_url = strdup("file:///etc/passwd");
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_msg(strstr(e.msg, "node.quorum: rpc_url") != NULL, "%s",
	    e.msg);
	free(d->rpc_url);
	d->rpc_url = NULL;
	d->health_url = strdup("ftp://127.0.0.1/");
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "health_url") != NULL, "%s", e.msg);
	free(d->health_url);
	d->health_url = NULL;
	d->stop_timeout = 86401;
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "stop_timeout") != NULL, "%s", e.msg);
	d->stop_timeout = 10;
	d->min_peers = -1;
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "min_peers") != NULL, "%s", e.msg);
	d->min_peers = 0;
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	free(d->gate_socket);
	d->gate_socket = strdup(longpath);
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "gate_socket: longer than") != NULL, "%s",
	    e.msg);
	/* and the client says so too, at once */
	json_t *r = (json_t *)1;
	ck_assert_int_eq(node_gate_request(d, "status", 1, &r, &e), -1);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_msg(strstr(e.msg, "longer than 107 bytes") != NULL, "%s",
	    e.msg);
	node_def_free(d);
	node_def_free(NULL);
}
END_TEST

START_TEST(test_state_json_unknown)
{
	struct node_def *d = node_def_new("tessera", "/x", NULL,
	    "http://127.0.0.1:1/upcheck", 0, 5);
	struct node_state st;
	json_t *j;

	memset(&st, 0, sizeof st);
	node_state_clear(&st);
	snprintf(st.gate_state, sizeof st.gate_state, "unreachable");
	snprintf(st.reason, sizeof st.reason, "why");
	j = node_state_json(d, &st);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_get_str(j, "name"), "tessera");
	ck_assert_str_eq(json_get_str(j, "state"), "unreachable");
	ck_assert_str_eq(json_get_str(j, "check"), "health");
	ck_assert_str_eq(json_get_str(j, "reason"), "why");
	ck_assert(json_is_null(json_object_get(j, "pid")));
	ck_assert(json_is_null(json_object_get(j, "uptime")));
	ck_assert(json_is_null(json_object_get(j, "height")));
	ck_assert(json_is_null(json_object_get(j, "syncing")));
	ck_assert(json_is_null(json_object_get(j, "peers")));
	ck_assert(json_is_null(json_object_get(j, "hold")));
	ck_assert(json_is_false(json_object_get(j, "ready")));
	json_decref(j);
	node_def_free(d);
}
END_TEST

/* ---- JSON-RPC against a real node ----------------------------------- */

static long long
journal_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long long n = 0;
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

START_TEST(test_rpc_testnode)
{
	int port = testnode_alone();
	char *url = urlf(port, "");
	json_t *r;
	struct err e;
	enum node_rpc_fail f;
	long long h1, h2, lines;

	ck_assert_msg(node_rpc_call(url, "eth_blockNumber", NULL, 2, &r, &f,
	    &e) == 0, "%s", e.msg);
	ck_assert_int_eq(f, NODE_RPC_OK);
	ck_assert(json_is_string(r));
	ck_assert_msg(strncmp(json_string_value(r), "0x", 2) == 0, "%s",
	    json_string_value(r));
	h1 = node_hex_quantity(r);
	json_decref(r);
	lines = journal_lines(tp("alone-%d/geth/chaindata/journal.log", port));
	/* the height is the journal's line count when it answered */
	ck_assert_int_gt(h1, 0);
	ck_assert_int_ge(lines, h1);
	ck_assert_int_le(lines, h1 + 10);
	msleep(300);
	ck_assert_msg(node_rpc_call(url, "eth_blockNumber", NULL, 2, &r, NULL,
	    &e) == 0, "%s", e.msg);
	h2 = node_hex_quantity(r);
	json_decref(r);
	ck_assert_int_ge(h2, h1 + 3);

	ck_assert_msg(node_rpc_call(url, "eth_syncing", NULL, 2, &r, &f, &e) ==
	    0, "%s", e.msg);
	ck_assert(json_is_false(r));
	json_decref(r);
	ck_assert_int_eq(node_rpc_call(url, "qbft_getValidatorsByBlockNumber",
	    NULL, 2, &r, &f, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_NO_METHOD);
	ck_assert_int_eq(e.code, ERR_FAILED);
	free(url);
}
END_TEST

START_TEST(test_facts_testnode)
{
	int port = testnode_alone();
	char *url = urlf(port, "");
	struct node_def *d = node_def_new("quorum", tp("none.sock"), url, NULL,
	    0, 5);
	struct err e;
	json_t *f;

	json_t *v;
	long long num;

	f = node_facts(d, &e);
	ck_assert_msg(f != NULL, "%s", e.msg);
	/* all from one eth_getBlockByNumber reply: testnode's hash is the
	 * height and its state root the height + 1, both 32 bytes */
	num = json_get_u(f, "block_number");
	ck_assert_int_gt(num, 0);
	ck_assert(json_is_integer(json_object_get(f, "block_number")));
	ck_assert_int_eq(strlen(json_get_str(f, "block_hash")), 66);
	ck_assert_int_eq(strlen(json_get_str(f, "state_root")), 66);
	v = json_string(json_get_str(f, "block_hash"));
	ck_assert_int_eq(node_hex_quantity(v), num);
	json_decref(v);
	v = json_string(json_get_str(f, "state_root"));
	ck_assert_int_eq(node_hex_quantity(v), num + 1);
	json_decref(v);
	ck_assert_str_eq(json_get_str(f, "client_version"), "testnode/v1");
	/* istanbul_/qbft_ "does not exist": no validators, no failure */
	ck_assert_ptr_null(json_object_get(f, "validators"));
	ck_assert_ptr_null(json_object_get(f, "validators_method"));
	json_decref(f);

	/* no rpc_url: nothing to ask, an empty object */
	free(d->rpc_url);
	d->rpc_url = NULL;
	f = node_facts(d, &e);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json_object_size(f), 0);
	json_decref(f);
	node_def_free(d);
	free(url);
}
END_TEST

START_TEST(test_rpc_nothing_listening)
{
	int port = free_port();
	char *url = urlf(port, "");
	struct node_def *d = node_def_new("quorum", tp("none.sock"), url, NULL,
	    0, 5);
	struct node_state st;
	enum node_rpc_fail f;
	struct err e;
	json_t *r = (json_t *)1;
	double t0 = now_s();
	long status;

	ck_assert_int_eq(node_rpc_call(url, "eth_blockNumber", NULL, 2, &r, &f,
	    &e), -1);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, url) && strstr(e.msg, "eth_blockNumber") &&
	    (strstr(e.msg, "refused") || strstr(e.msg, "connect")), "%s",
	    e.msg);
	ck_assert_int_eq(node_http_status(url, 2, &status, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);

	ck_assert_ptr_null(node_facts(d, &e));
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "quorum: the node does not answer "
	    "JSON-RPC") != NULL, "%s", e.msg);

	node_probe(d, &st);
	ck_assert_str_eq(st.gate_state, "unreachable");
	ck_assert_int_eq(st.rpc_ok, 0);
	ck_assert_int_eq(st.ready, 0);
	ck_assert_int_eq(st.height, -1);
	node_state_clear(&st);
	ck_assert_msg(now_s() - t0 < 3, "took %.1f s", now_s() - t0);
	node_def_free(d);
	free(url);
}
END_TEST

START_TEST(test_rpc_silent)
{
	int port, fd = silent_tcp(&port);
	char *url = urlf(port, "");
	struct node_def *d = node_def_new("quorum", tp("none.sock"), url, NULL,
	    0, 5);
	struct node_state st;
	struct err e;
	json_t *r;
	double t0 = now_s(), dt;

	ck_assert_int_eq(node_rpc_call(url, "eth_blockNumber", NULL, 0.5, &r,
	    NULL, &e), -1);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.4 && dt < 1.5, "took %.2f s", dt);
	ck_assert_msg(strstr(e.msg, "no answer within 0.5 s") != NULL, "%s",
	    e.msg);

	/* a probe never blocks long: every RPC call shares one deadline */
	t0 = now_s();
	node_probe(d, &st);
	dt = now_s() - t0;
	ck_assert_msg(dt < NODE_PROBE_CHECK_TIMEOUT + 1, "probe took %.2f s",
	    dt);
	ck_assert_int_eq(st.ready, 0);
	ck_assert_int_eq(st.rpc_ok, 0);
	node_state_clear(&st);
	close(fd);
	node_def_free(d);
	free(url);
}
END_TEST

/* ---- the client's limits, with canned replies ----------------------- */

static size_t read_request(int fd, char *buf, size_t size);

struct canned {
	int lfd;
	const char *reply;       /* headers and body, or NULL for big */
	size_t big;              /* bytes of body sent when reply is NULL */
	char req[8192];
	size_t req_len;
};

static void *
canned_serve(void *arg)
{
	struct canned *c = arg;
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	c->req_len = read_request(fd, c->req, sizeof c->req);
	if (c->reply) {
		(void)!send(fd, c->reply, strlen(c->reply), MSG_NOSIGNAL);
	} else {
		static char chunk[65536];
		const char *h = "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nConnection: close\r\n\r\n[\"";
		memset(chunk, 'a', sizeof chunk);
		(void)!send(fd, h, strlen(h), MSG_NOSIGNAL);
		for (size_t s = 0; s < c->big; s += sizeof chunk)
			if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0)
				break;
	}
	close(fd);
	return NULL;
}

/* Read one HTTP request (headers and Content-Length bytes) into buf. */
static size_t
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

/* A JSON-RPC server answering from a table of method -> result (JSON
 * text), "method not found" otherwise; until rpcsrv_stop. */
struct rpcsrv {
	int lfd, port;
	volatile int stop;
	const char *const *table;   /* method, result, ..., NULL */
	pthread_t th;
};

static void *
rpcsrv_loop(void *arg)
{
	struct rpcsrv *s = arg;

	while (!s->stop) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		char req[8192], body[1024], msg[1400], key[128];
		const char *result = NULL;
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		read_request(fd, req, sizeof req);
		for (const char *const *t = s->table; *t; t += 2) {
			snprintf(key, sizeof key, "\"method\":\"%s\"", t[0]);
			if (strstr(req, key))
				result = t[1];
		}
		if (result)
			snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
			    "\"id\":1,\"result\":%s}", result);
		else
			snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
			    "\"id\":1,\"error\":{\"code\":-32601,\"message\":"
			    "\"method not found\"}}");
		snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\nConnection: "
		    "close\r\n\r\n%s", strlen(body), body);
		(void)!send(fd, msg, strlen(msg), MSG_NOSIGNAL);
		close(fd);
	}
	return NULL;
}

static void
rpcsrv_start(struct rpcsrv *s, const char *const *table)
{
	memset(s, 0, sizeof *s);
	s->lfd = silent_tcp(&s->port);
	s->table = table;
	ck_assert_int_eq(pthread_create(&s->th, NULL, rpcsrv_loop, s), 0);
}

static void
rpcsrv_stop(struct rpcsrv *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* One call against a server that answers reply once. */
static int
canned_call(const char *reply, size_t big, const char *method,
    struct canned *c, enum node_rpc_fail *f, json_t **r, struct err *e)
{
	pthread_t th;
	int port, rc;
	char *url;

	memset(c, 0, sizeof *c);
	c->lfd = silent_tcp(&port);
	c->reply = reply;
	c->big = big;
	ck_assert_int_eq(pthread_create(&th, NULL, canned_serve, c), 0);
	url = urlf(port, "/rpc");
	rc = node_rpc_call(url, method, NULL, 3, r, f, e);
	pthread_join(th, NULL);
	close(c->lfd);
	free(url);
	return rc;
}

#define HTTP200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
	"Connection: close\r\n\r\n"

START_TEST(test_rpc_canned)
{
	struct canned c;
	enum node_rpc_fail f;
	struct err e;
	json_t *r, *req;
	const char *body;

	/* the request: POST, JSON, a JSON-RPC 2.0 object */
	ck_assert_msg(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{\"currentBlock\":\"0x5\",\"highestBlock\":\"0x10\"}}",
	    0, "eth_syncing", &c, &f, &r, &e) == 0, "%s", e.msg);
	ck_assert(json_is_object(r));
	json_decref(r);
	ck_assert_msg(strncmp(c.req, "POST /rpc HTTP/1.1\r\n", 20) == 0, "%s",
	    c.req);
	ck_assert_ptr_nonnull(strcasestr(c.req,
	    "\r\nContent-Type: application/json\r\n"));
	body = strstr(c.req, "\r\n\r\n") + 4;
	req = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(json_get_str(req, "jsonrpc"), "2.0");
	ck_assert_int_eq(json_get_u(req, "id"), 1);
	ck_assert_str_eq(json_get_str(req, "method"), "eth_syncing");
	ck_assert(json_is_array(json_object_get(req, "params")));
	ck_assert_int_eq(json_array_size(json_object_get(req, "params")), 0);
	json_decref(req);

	/* more than 1 MiB: refused, whatever the server sends */
	ck_assert_int_eq(canned_call(NULL, 2u << 20, "eth_blockNumber", &c, &f,
	    &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_msg(strstr(e.msg, "reply longer than 1048576 bytes") != NULL,
	    "%s", e.msg);
	/* the same with a Content-Length that says so */
	{
		static char big[256];
		snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: "
		    "%u\r\nConnection: close\r\n\r\n[", 3u << 20);
		ck_assert_int_eq(canned_call(big, 0, "eth_blockNumber", &c, &f,
		    &r, &e), -1);
		ck_assert_msg(strstr(e.msg, "reply longer than") != NULL, "%s",
		    e.msg);
	}
	/* not JSON */
	ck_assert_int_eq(canned_call(HTTP200 "hello", 0, "eth_blockNumber", &c,
	    &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_msg(strstr(e.msg, "not a JSON-RPC object") != NULL, "%s",
	    e.msg);
	/* an HTTP error with a text body */
	ck_assert_int_eq(canned_call("HTTP/1.1 500 Oops\r\nConnection: close"
	    "\r\n\r\nbroken", 0, "eth_blockNumber", &c, &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_msg(strstr(e.msg, "HTTP 500") != NULL, "%s", e.msg);
	/* JSON-RPC errors: geth's "method not found" and any other */
	ck_assert_int_eq(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"error\":{\"code\":-32601,\"message\":\"the method "
	    "istanbul_getValidators does not exist/is not available\"}}", 0,
	    "istanbul_getValidators", &c, &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_NO_METHOD);
	ck_assert_msg(strstr(e.msg, "error -32601") != NULL, "%s", e.msg);
	ck_assert_int_eq(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"error\":{\"code\":-32000,\"message\":\"boom\"}}", 0,
	    "eth_blockNumber", &c, &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_ERROR);
	ck_assert_msg(strstr(e.msg, "error -32000: boom") != NULL, "%s", e.msg);
	/* neither result nor error */
	ck_assert_int_eq(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1}",
	    0, "eth_blockNumber", &c, &f, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "neither result nor error") != NULL, "%s",
	    e.msg);
	/* other schemes never reach libcurl */
	ck_assert_int_eq(node_rpc_call("file:///etc/passwd", "eth_blockNumber",
	    NULL, 1, &r, &f, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(node_rpc_call("gopher://127.0.0.1/", "x", NULL, 1, &r,
	    &f, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
}
END_TEST

/* ---- gates ---------------------------------------------------------- */

START_TEST(test_probe_ready)
{
	struct gnode g;
	struct node_state st;
	struct node_def *rd;
	json_t *j;

	gnode_start(&g, "quorum", NULL, 5, print_lines);
	ck_assert_int_eq(node_probe(g.def, &st), 1);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.ready, 1);
	ck_assert_int_eq(st.rpc_ok, 1);
	ck_assert_int_eq(st.held, 0);
	ck_assert_ptr_null(st.hold);
	ck_assert_int_eq(st.pid, read_pidfile(g.pidfile));
	ck_assert_int_eq(st.restarts, 0);
	ck_assert(st.uptime >= 0);
	ck_assert_str_eq(st.reason, "");
	j = node_state_json(g.def, &st);
	ck_assert_str_eq(json_get_str(j, "state"), "running");
	ck_assert_str_eq(json_get_str(j, "check"), "health");
	ck_assert(json_is_true(json_object_get(j, "ready")));
	ck_assert(json_is_null(json_object_get(j, "reason")));
	ck_assert_int_eq(json_get_u(j, "pid"), st.pid);
	json_decref(j);
	node_state_clear(&st);

	/* Through JSON-RPC: a height, not syncing, 3 peers >= min_peers 3 */
	rd = rpc_def(&g, 3);
	ck_assert_msg(node_probe(rd, &st) == 1, "%s", st.reason);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.rpc_ok, 1);
	ck_assert_int_gt(st.height, 0);
	ck_assert_int_eq(st.syncing, 0);
	ck_assert_int_eq(st.peers, 3);
	j = node_state_json(rd, &st);
	ck_assert(json_is_false(json_object_get(j, "syncing")));
	ck_assert_str_eq(json_get_str(j, "check"), "rpc");
	ck_assert_int_eq(json_get_u(j, "height"), st.height);
	ck_assert_int_eq(json_get_u(j, "peers"), 3);
	json_decref(j);
	node_state_clear(&st);
	/* too few peers */
	rd->min_peers = 4;
	ck_assert_int_eq(node_probe(rd, &st), 0);
	ck_assert_int_eq(st.rpc_ok, 1);
	ck_assert_str_eq(st.reason, "3 peers, fewer than min_peers 4");
	node_state_clear(&st);
	node_def_free(rd);

	/* neither check: a running gate is enough */
	rd = node_def_new("bare", g.def->gate_socket, NULL, NULL, 0, 5);
	ck_assert_int_eq(node_probe(rd, &st), 1);
	ck_assert_int_eq(st.rpc_ok, 0);
	node_state_clear(&st);
	node_def_free(rd);
	gnode_free(&g);
}
END_TEST

/* A syncing node (the canned server answers its JSON-RPC, the gate and
 * testnode are real): answers everything, and is not ready. */
START_TEST(test_probe_syncing)
{
	static const char *const syncing[] = {
		"eth_blockNumber", "\"0x5\"",
		"eth_syncing", "{\"startingBlock\":\"0x0\",\"currentBlock\":"
		    "\"0x5\",\"highestBlock\":\"0x10\"}",
		"net_peerCount", "\"0x2\"",
		NULL };
	static const char *const synced[] = {
		"eth_blockNumber", "\"0x10\"", "eth_syncing", "false",
		"net_peerCount", "\"0x2\"", NULL };
	struct gnode g;
	struct rpcsrv srv;
	struct node_state st;
	struct node_def *d, *list[1];
	struct err e;
	char *url;

	gnode_start(&g, "quorum", NULL, 5, print_lines);
	rpcsrv_start(&srv, syncing);
	url = urlf(srv.port, "");
	d = node_def_new("quorum", g.def->gate_socket, url, NULL, 1, 5);
	ck_assert_int_eq(node_probe(d, &st), 0);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.rpc_ok, 1);
	ck_assert_int_eq(st.height, 5);
	ck_assert_int_eq(st.syncing, 1);
	ck_assert_int_eq(st.peers, 2);
	ck_assert_str_eq(st.reason, "syncing: block 5 of 16");
	node_state_clear(&st);
	list[0] = d;
	ck_assert_int_eq(nodes_wait_ready(list, 1, 1, NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "quorum: not ready after 1 s: syncing: "
	    "block 5 of 16") != NULL, "%s", e.msg);
	/* eth_syncing true (some clients): syncing too */
	rpcsrv_stop(&srv);
	{
		static const char *const t[] = { "eth_blockNumber", "\"0x5\"",
			"eth_syncing", "true", "net_peerCount", "\"0x2\"", NULL };
		rpcsrv_start(&srv, t);
	}
	free(d->rpc_url);
	d->rpc_url = urlf(srv.port, "");
	ck_assert_int_eq(node_probe(d, &st), 0);
	ck_assert_int_eq(st.syncing, 1);
	ck_assert_str_eq(st.reason, "syncing");
	node_state_clear(&st);
	/* the same server once synced: ready */
	rpcsrv_stop(&srv);
	rpcsrv_start(&srv, synced);
	free(d->rpc_url);
	d->rpc_url = urlf(srv.port, "");
	ck_assert_msg(node_probe(d, &st) == 1, "%s", st.reason);
	ck_assert_int_eq(st.height, 16);
	node_state_clear(&st);
	rpcsrv_stop(&srv);
	node_def_free(d);
	free(url);
	gnode_free(&g);
}
END_TEST

START_TEST(test_stop_start)
{
	struct gnode g;
	struct node_state st;
	struct err e;
	json_t *logs, *h;
	long long node, until = (long long)time(NULL) + 3600;
	struct stat sb;
	struct node_def *list[1];

	gnode_start(&g, "quorum", NULL, 5, print_lines);
	node = read_pidfile(g.pidfile);
	ck_assert(pid_runs(node, "testnode"));

	ck_assert_msg(node_stop(g.def, "j-test-1", until, "unit test stop",
	    &e) == 0, "%s", e.msg);
	/* the node is gone, the gate reaped it */
	ck_assert(!pid_runs(node, "testnode"));
	ck_assert_int_eq(stat(tp("quorum/state/%s", GATE_HOLD_FILE), &sb), 0);
	ck_assert_int_eq(node_probe(g.def, &st), 0);
	ck_assert_str_eq(st.gate_state, "stopped");
	ck_assert_int_eq(st.held, 1);
	ck_assert_int_eq(st.pid, -1);
	ck_assert_int_eq(st.rpc_ok, 0);
	h = st.hold;
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(json_get_str(h, "job"), "j-test-1");
	ck_assert_str_eq(json_get_str(h, "reason"), "unit_test_stop");
	ck_assert_int_eq(json_get_u(h, "until"), until);
	ck_assert_msg(strstr(st.reason, "stopped") &&
	    strstr(st.reason, "j-test-1"), "%s", st.reason);
	node_state_clear(&st);
	ck_assert_ptr_null(st.hold);

	/* stop again: idempotent, still 0 */
	ck_assert_msg(node_stop(g.def, "j-test-1", 0, NULL, &e) == 0, "%s",
	    e.msg);

	/* the node's output, newest last */
	ck_assert_msg(node_logs(g.def, 3, &logs, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(json_array_size(logs), 3);
	ck_assert_msg(strstr(json_string_value(json_array_get(logs, 2)),
	    "got signal 15") != NULL, "%s",
	    json_string_value(json_array_get(logs, 2)));
	json_decref(logs);
	ck_assert_msg(node_logs(g.def, 0, &logs, &e) == 0, "%s", e.msg);
	ck_assert_int_ge(json_array_size(logs), 3);
	json_decref(logs);
	/* more than the gate keeps (50): it refuses lines=60, so all */
	ck_assert_msg(node_logs(g.def, 60, &logs, &e) == 0, "%s", e.msg);
	ck_assert_int_ge(json_array_size(logs), 3);
	ck_assert_int_le(json_array_size(logs), GATE_LOG_LINES_DEFAULT);
	json_decref(logs);
	ck_assert_msg(node_logs(g.def, 100000, &logs, &e) == 0, "%s", e.msg);
	ck_assert_int_ge(json_array_size(logs), 3);
	json_decref(logs);

	ck_assert_msg(node_start(g.def, &e) == 0, "%s", e.msg);
	ck_assert_int_ne(stat(tp("quorum/state/%s", GATE_HOLD_FILE), &sb), 0);
	list[0] = g.def;
	ck_assert_msg(nodes_wait_ready(list, 1, 5, NULL, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(node_probe(g.def, &st), 1);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.held, 0);
	ck_assert_int_eq(st.restarts, 1);
	ck_assert_int_ne(st.pid, node);
	ck_assert_int_eq(st.pid, read_pidfile(g.pidfile));
	node_state_clear(&st);
	/* start again: idempotent */
	ck_assert_msg(node_start(g.def, &e) == 0, "%s", e.msg);
	gnode_free(&g);
}
END_TEST

START_TEST(test_stop_args)
{
	struct gnode g;
	struct node_state st;
	struct err e;
	char longr[600];

	gnode_start(&g, "quorum", NULL, 5, print_lines);
	ck_assert_int_eq(node_stop(g.def, "bad job", 0, NULL, &e), -1);
	ck_assert_int_eq(e.code, ERR_BAD_REQUEST);
	ck_assert_msg(strstr(e.msg, "bad job id") != NULL, "%s", e.msg);
	assert_gate_state(g.def, "running");

	/* spaces, a tab, a newline, a bad byte: the gate takes the rest */
	ck_assert_msg(node_stop(g.def, NULL, 0, "a b\tc\n\xff\xc3\xa9", &e) == 0,
	    "%s", e.msg);
	node_probe(g.def, &st);
	ck_assert_ptr_nonnull(st.hold);
	ck_assert_str_eq(json_get_str(st.hold, "reason"), "a_b_c_?\xc3\xa9");
	ck_assert(json_is_null(json_object_get(st.hold, "job")));
	ck_assert(json_is_null(json_object_get(st.hold, "until")));
	node_state_clear(&st);
	ck_assert_msg(node_start(g.def, &e) == 0, "%s", e.msg);

	/* a reason longer than the gate takes is cut, not refused */
	memset(longr, 'r', sizeof longr - 1);
	longr[sizeof longr - 1] = '\0';
	ck_assert_msg(node_stop(g.def, "j-2", 0, longr, &e) == 0, "%s", e.msg);
	node_probe(g.def, &st);
	ck_assert_int_eq(strlen(json_get_str(st.hold, "reason")),
	    GATE_REASON_MAX);
	node_state_clear(&st);

	/* an until in the past: the gate refuses, the error says why */
	ck_assert_msg(node_start(g.def, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(node_stop(g.def, "j-3", 1000, NULL, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "quorum: did not stop: stop: bad until") !=
	    NULL, "%s", e.msg);
	assert_gate_state(g.def, "running");
	gnode_free(&g);
}
END_TEST

START_TEST(test_stop_ignore_term)
{
	static const char *const extra[] = { "--ignore-term", NULL };
	struct gnode g;
	struct node_state st;
	struct err e;
	double t0, dt;

	gnode_start(&g, "quorum", NULL, 1, extra);
	t0 = now_s();
	ck_assert_int_eq(node_stop(g.def, "j-stuck", 0, "test", &e), -1);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.9 && dt < 5, "took %.2f s", dt);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "quorum: did not stop within 1 s (state "
	    "stopping)") != NULL, "%s", e.msg);
	/* the node's own words: it got the signal and ignored it */
	ck_assert_msg(strstr(e.msg, "last output lines:\n  testnode: listening"
	    " on 127.0.0.1:") && strstr(e.msg, "\n  testnode: got signal 15"),
	    "%s", e.msg);

	node_probe(g.def, &st);
	ck_assert_str_eq(st.gate_state, "stopping");
	ck_assert_int_eq(st.ready, 0);
	ck_assert_int_eq(st.held, 1);
	ck_assert_msg(strstr(st.reason, "stopping") != NULL, "%s", st.reason);
	node_state_clear(&st);

	/* start is refused while it is still stopping */
	ck_assert_int_eq(node_start(g.def, &e), -1);
	ck_assert_msg(strstr(e.msg, "did not start (state stopping)") &&
	    strstr(e.msg, "still stopping"), "%s", e.msg);
	kill_node(g.pidfile);
	gnode_free(&g);
}
END_TEST

START_TEST(test_unreachable)
{
	struct node_def *d = node_def_new("quorum", tp("missing.sock"), NULL,
	    NULL, 0, 5);
	struct node_state st;
	struct err e;
	json_t *r, *logs;
	double t0 = now_s(), dt;
	int fd;

	ck_assert_int_eq(node_probe(d, &st), 0);
	ck_assert_str_eq(st.gate_state, "unreachable");
	ck_assert_msg(strstr(st.reason, "no such socket") != NULL, "%s",
	    st.reason);
	node_state_clear(&st);
	ck_assert_int_eq(node_stop(d, "j", 0, NULL, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "quorum: did not stop: quorum: gate ") &&
	    strstr(e.msg, "no output lines"), "%s", e.msg);
	ck_assert_int_eq(node_start(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "did not start") != NULL, "%s", e.msg);
	ck_assert_int_eq(node_logs(d, 5, &logs, &e), -1);

	/* a stale socket file: nothing listens */
	unix_socket(tp("stale.sock"), 0);
	free(d->gate_socket);
	d->gate_socket = strdup(tp("stale.sock"));
	node_probe(d, &st);
	ck_assert_str_eq(st.gate_state, "unreachable");
	ck_assert_msg(strstr(st.reason, "nothing listens") != NULL, "%s",
	    st.reason);
	node_state_clear(&st);
	dt = now_s() - t0;
	ck_assert_msg(dt < 1, "took %.2f s", dt);

	/* listening but never answering: bounded by the timeout */
	fd = unix_socket(tp("silent.sock"), 1);
	free(d->gate_socket);
	d->gate_socket = strdup(tp("silent.sock"));
	t0 = now_s();
	ck_assert_int_eq(node_gate_request(d, "status", 0.5, &r, &e), -1);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.4 && dt < 1.5, "took %.2f s", dt);
	ck_assert_msg(strstr(e.msg, "no reply within 0.5 s") != NULL, "%s",
	    e.msg);
	t0 = now_s();
	node_probe(d, &st);
	ck_assert_str_eq(st.gate_state, "unreachable");
	ck_assert(now_s() - t0 < NODE_PROBE_GATE_TIMEOUT + 1);
	node_state_clear(&st);
	close(fd);

	ck_assert_int_eq(node_gate_request(d, "status\nstop", 1, &r, &e), -1);
	ck_assert_int_eq(e.code, ERR_BAD_REQUEST);
	node_def_free(d);
}
END_TEST

START_TEST(test_bad_request_reply)
{
	struct gnode g;
	struct err e;
	json_t *r;

	gnode_start(&g, "quorum", NULL, 5, print_lines);
	/* the gate answers: 0, and its "ok" says the rest */
	ck_assert_msg(node_gate_request(g.def, "frobnicate", 2, &r, &e) == 0,
	    "%s", e.msg);
	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_ptr_nonnull(strstr(json_get_str(r, "error"),
	    "unknown request"));
	json_decref(r);
	gnode_free(&g);
}
END_TEST

START_TEST(test_order)
{
	static const char *const slow[] = { "--print-lines", "--stop-delay",
	    "150", NULL };
	const char *log = tp("gates.log");
	struct gnode a, b;
	struct node_def *list[2];
	struct node_state st;
	struct err e;
	long long pa, pb, since_a, since_b;
	char pga[64], pgb[64], porta[32], portb[32];
	int ia, ib, sa, sb2, mark;

	/* both gates write into one file (O_APPEND, one write per line):
	 * the order of their lines is the order of the events */
	gnode_start(&a, "quorum", log, 5, slow);
	gnode_start(&b, "tessera", log, 5, print_lines);
	list[0] = a.def;
	list[1] = b.def;
	pa = read_pidfile(a.pidfile);
	pb = read_pidfile(b.pidfile);
	snprintf(pga, sizeof pga, "pgid=%lld", pa);
	snprintf(pgb, sizeof pgb, "pgid=%lld", pb);

	ck_assert_msg(nodes_stop_all(list, 2, "j-order",
	    (long long)time(NULL) + 600, "order test", NULL, &e) == 0, "%s", e.msg);
	ia = line_index(log, "event=stop_requested", pga, 0);
	ib = line_index(log, "event=stop_requested", pgb, 0);
	ck_assert_msg(ia >= 0 && ib >= 0 && ia < ib, "quorum at %d, tessera at "
	    "%d", ia, ib);
	/* quorum had stopped before tessera was asked */
	ck_assert_int_lt(line_index(log, "event=stopped", NULL, ia), ib);
	node_probe(a.def, &st);
	ck_assert_str_eq(st.gate_state, "stopped");
	since_a = json_get_u(st.hold, "since");
	node_state_clear(&st);
	node_probe(b.def, &st);
	ck_assert_str_eq(st.gate_state, "stopped");
	ck_assert_str_eq(json_get_str(st.hold, "job"), "j-order");
	since_b = json_get_u(st.hold, "since");
	node_state_clear(&st);
	ck_assert_int_le(since_a, since_b);

	mark = ib + 1;
	ck_assert_msg(nodes_start_all(list, 2, NULL, &e) == 0, "%s", e.msg);
	snprintf(porta, sizeof porta, "--port %d", a.port);
	snprintf(portb, sizeof portb, "--port %d", b.port);
	sa = line_index(log, "event=started", porta, mark);
	sb2 = line_index(log, "event=started", portb, mark);
	ck_assert_msg(sa >= 0 && sb2 >= 0 && sb2 < sa, "tessera at %d, quorum "
	    "at %d", sb2, sa);
	ck_assert_msg(nodes_wait_ready(list, 2, 5, NULL, &e) == 0, "%s", e.msg);
	gnode_free(&a);
	gnode_free(&b);
}
END_TEST

START_TEST(test_stop_all_resumes)
{
	static const char *const stuck[] = { "--ignore-term", NULL };
	struct gnode a, b;
	struct node_def *list[2];
	struct node_state st;
	struct err e;

	gnode_start(&a, "quorum", NULL, 5, print_lines);
	gnode_start(&b, "tessera", NULL, 1, stuck);
	list[0] = a.def;
	list[1] = b.def;
	ck_assert_int_eq(nodes_stop_all(list, 2, "j-fail", 0, "x", NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "tessera: did not stop within 1 s") != NULL,
	    "%s", e.msg);
	/* quorum was stopped, then started again */
	node_probe(a.def, &st);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.held, 0);
	ck_assert_int_eq(st.restarts, 1);
	node_state_clear(&st);
	assert_gate_state(b.def, "stopping");

	/* a start of all tries every node and returns the first error:
	 * tessera (started first) refuses, quorum is already running */
	ck_assert_int_eq(nodes_start_all(list, 2, NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "tessera: did not start") != NULL, "%s",
	    e.msg);
	kill_node(b.pidfile);
	gnode_free(&a);
	gnode_free(&b);
}
END_TEST

/* What a node_watch was told, in order: "EVENT:i[:gate_state]". */
struct watch_log {
	char lines[32][48];
	size_t n;
};

static void
record_event(void *arg, size_t i, enum node_event ev, struct node_state *st)
{
	static const char *const names[] = {
		[NODE_EV_STOP_REQUESTED] = "stop_requested",
		[NODE_EV_STOPPED] = "stopped",
		[NODE_EV_START_REQUESTED] = "start_requested",
		[NODE_EV_STARTED] = "started",
		[NODE_EV_FAILED] = "failed",
		[NODE_EV_PROBED] = "probed",
	};
	struct watch_log *w = arg;

	if (w->n >= sizeof w->lines / sizeof w->lines[0])
		return;
	snprintf(w->lines[w->n++], sizeof w->lines[0], "%s:%zu%s%s", names[ev],
	    i, st ? ":" : "", st ? st->gate_state : "");
}

/* The watcher hears every step as it happens, with a probe made after the
 * step: in order for a stop and a start of two nodes, and on the failure
 * path (a stop that fails, the resume of what was stopped). */
START_TEST(test_watch_events)
{
	static const char *const stuck[] = { "--ignore-term", NULL };
	struct watch_log log = { .n = 0 };
	struct node_watch w = { record_event, &log };
	struct gnode a, b;
	struct node_def *list[2];
	struct err e;
	static const char *const want_ok[] = {
		"stop_requested:0", "stopped:0:stopped",
		"stop_requested:1", "stopped:1:stopped",
		"start_requested:1", "started:1:running",
		"start_requested:0", "started:0:running",
	};
	static const char *const want_fail[] = {
		"stop_requested:0", "stopped:0:stopped",
		"stop_requested:1", "failed:1:stopping",
		"start_requested:1", "failed:1:stopping",
		"start_requested:0", "started:0:running",
	};

	gnode_start(&a, "quorum", NULL, 5, print_lines);
	gnode_start(&b, "tessera", NULL, 5, print_lines);
	list[0] = a.def;
	list[1] = b.def;
	ck_assert_msg(nodes_stop_all(list, 2, "j-watch", 0, "x", &w, &e) == 0,
	    "%s", e.msg);
	ck_assert_msg(nodes_start_all(list, 2, &w, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(log.n, sizeof want_ok / sizeof want_ok[0]);
	for (size_t i = 0; i < log.n; i++)
		ck_assert_str_eq(log.lines[i], want_ok[i]);
	/* Every readiness probe is told, the last ones ready. */
	log.n = 0;
	ck_assert_msg(nodes_wait_ready(list, 2, 10, &w, &e) == 0, "%s", e.msg);
	ck_assert_uint_ge(log.n, 2);
	ck_assert_str_eq(log.lines[log.n - 2], "probed:0:running");
	ck_assert_str_eq(log.lines[log.n - 1], "probed:1:running");
	gnode_free(&b);

	gnode_start(&b, "stuck", NULL, 1, stuck);
	list[1] = b.def;
	log.n = 0;
	ck_assert_int_eq(nodes_stop_all(list, 2, "j-watch", 0, "x", &w, &e), -1);
	ck_assert_uint_eq(log.n, sizeof want_fail / sizeof want_fail[0]);
	for (size_t i = 0; i < log.n; i++)
		ck_assert_str_eq(log.lines[i], want_fail[i]);
	kill_node(b.pidfile);
	gnode_free(&a);
	gnode_free(&b);
}
END_TEST

START_TEST(test_wait_ready_timeout)
{
	struct gnode a, b;
	struct node_def *list[2], *rd;
	struct err e;
	double t0, dt;

	gnode_start(&a, "quorum", NULL, 5, print_lines);
	gnode_start(&b, "tessera", NULL, 5, print_lines);
	list[0] = a.def;
	list[1] = b.def;
	ck_assert_msg(nodes_wait_ready(list, 2, 3, NULL, &e) == 0, "%s", e.msg);

	/* tessera's health URL answers nothing */
	free(b.def->health_url);
	b.def->health_url = urlf(free_port(), "/upcheck");
	t0 = now_s();
	ck_assert_int_eq(nodes_wait_ready(list, 2, 1, NULL, &e), -1);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 1 && dt < 4, "took %.2f s", dt);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "tessera: not ready after 1 s: ") &&
	    strstr(e.msg, "/upcheck") && strstr(e.msg, "last output lines:") &&
	    strstr(e.msg, "testnode: block"), "%s", e.msg);

	/* quorum through JSON-RPC with more peers wanted than it has */
	rd = rpc_def(&a, 5);
	list[0] = rd;
	list[1] = a.def;
	ck_assert_int_eq(nodes_wait_ready(list, 2, 1, NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "quorum: not ready after 1 s: 3 peers, "
	    "fewer than min_peers 5") != NULL, "%s", e.msg);

	/* a held node: the reason names the job */
	ck_assert_msg(node_stop(a.def, "j-held", 0, NULL, &e) == 0, "%s",
	    e.msg);
	list[0] = a.def;
	ck_assert_int_eq(nodes_wait_ready(list, 1, 0.5, NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "held by job j-held") != NULL, "%s", e.msg);
	node_def_free(rd);
	gnode_free(&a);
	gnode_free(&b);
}
END_TEST

/* ---- ganache: a real Ethereum JSON-RPC node ------------------------- */

START_TEST(test_ganache)
{
	char port[16], sock[PATH_MAX], state[PATH_MAX];
	char *argv[24], *url;
	struct node_def *d;
	struct node_state st;
	enum node_rpc_fail f;
	struct err e;
	json_t *facts, *r;
	char hash0[80];
	double end;
	int a = 0, p;

	if (!ganache_cli[0]) {
		printf("test_nodes: ganache cases skipped: no ganache (set "
		    "GANACHE_CLI or run scripts/install-deps.sh) "
		    "or no node on the PATH\n");
		return;
	}
	p = free_port();
	snprintf(port, sizeof port, "%d", p);
	snprintf(sock, sizeof sock, "%s", tp("ganache.sock"));
	snprintf(state, sizeof state, "%s", tp("ganache-state"));
	argv[a++] = (char *)gate_bin;
	argv[a++] = "--socket";
	argv[a++] = sock;
	argv[a++] = "--state-dir";
	argv[a++] = state;
	argv[a++] = "--";
	argv[a++] = "node";
	argv[a++] = ganache_cli;
	argv[a++] = "--server.host";
	argv[a++] = "127.0.0.1";
	argv[a++] = "--server.port";
	argv[a++] = port;
	argv[a++] = "--logging.quiet";
	argv[a++] = "--wallet.totalAccounts";
	argv[a++] = "1";
	argv[a] = NULL;
	spawn(argv, tp("ganache.log"), NULL);
	url = urlf(p, "");
	d = node_def_new("quorum", sock, url, NULL, 0, 20);
	end = now_s() + 60;
	while (node_rpc_call(url, "eth_blockNumber", NULL, 1, &r, NULL, &e) < 0) {
		ck_assert_msg(now_s() < end, "ganache not answering: %s", e.msg);
		msleep(100);
	}
	json_decref(r);

	facts = node_facts(d, &e);
	ck_assert_msg(facts != NULL, "%s", e.msg);
	ck_assert_int_eq(json_get_u(facts, "block_number"), 0);
	ck_assert(json_is_integer(json_object_get(facts, "block_number")));
	ck_assert_int_eq(strlen(json_get_str(facts, "block_hash")), 66);
	ck_assert_int_eq(strlen(json_get_str(facts, "state_root")), 66);
	ck_assert_msg(strncmp(json_get_str(facts, "client_version"), "Ganache/",
	    8) == 0, "%s", json_get_str(facts, "client_version"));
	/* no istanbul_/qbft_ calls: no validators, and no failure */
	ck_assert_ptr_null(json_object_get(facts, "validators"));
	snprintf(hash0, sizeof hash0, "%s", json_get_str(facts, "block_hash"));
	json_decref(facts);

	ck_assert_msg(node_rpc_call(url, "evm_mine", NULL, 5, &r, NULL, &e) == 0,
	    "%s", e.msg);
	json_decref(r);
	facts = node_facts(d, &e);
	ck_assert_msg(facts != NULL, "%s", e.msg);
	ck_assert_int_eq(json_get_u(facts, "block_number"), 1);
	ck_assert_str_ne(json_get_str(facts, "block_hash"), hash0);
	json_decref(facts);

	ck_assert_int_eq(node_rpc_call(url, "istanbul_getValidators", NULL, 5,
	    &r, &f, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_NO_METHOD);

	/* under its gate, with eth_syncing false and min_peers 0: ready */
	ck_assert_int_eq(node_probe(d, &st), 1);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.height, 1);
	ck_assert_int_eq(st.syncing, 0);
	ck_assert_int_eq(st.peers, 0);
	node_state_clear(&st);
	d->min_peers = 1;
	ck_assert_int_eq(node_probe(d, &st), 0);
	ck_assert_msg(strstr(st.reason, "0 peers, fewer than min_peers 1") !=
	    NULL, "%s", st.reason);
	node_state_clear(&st);
	d->min_peers = 0;

	/* a real stop and start of a real node */
	ck_assert_msg(node_stop(d, "j-ganache", 0, NULL, &e) == 0, "%s", e.msg);
	node_probe(d, &st);
	ck_assert_str_eq(st.gate_state, "stopped");
	ck_assert_int_eq(st.ready, 0);
	node_state_clear(&st);
	ck_assert_ptr_null(node_facts(d, &e));
	ck_assert_msg(node_start(d, &e) == 0, "%s", e.msg);
	{
		struct node_def *list[1] = { d };
		ck_assert_msg(nodes_wait_ready(list, 1, 60, NULL, &e) == 0, "%s",
		    e.msg);
	}
	node_def_free(d);
	free(url);
}
END_TEST

/* ---- runner --------------------------------------------------------- */

static Suite *
nodes_suite(void)
{
	Suite *s = suite_create("nodes");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_add_test(tc, test_hex_quantity);
	tcase_add_test(tc, test_def_validate);
	tcase_add_test(tc, test_state_json_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("rpc");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rpc_testnode);
	tcase_add_test(tc, test_facts_testnode);
	tcase_add_test(tc, test_rpc_nothing_listening);
	tcase_add_test(tc, test_rpc_silent);
	tcase_add_test(tc, test_rpc_canned);
	suite_add_tcase(s, tc);

	tc = tcase_create("gate");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_probe_ready);
	tcase_add_test(tc, test_probe_syncing);
	tcase_add_test(tc, test_stop_start);
	tcase_add_test(tc, test_stop_args);
	tcase_add_test(tc, test_stop_ignore_term);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_bad_request_reply);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_stop_all_resumes);
	tcase_add_test(tc, test_watch_events);
	tcase_add_test(tc, test_wait_ready_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("ganache");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ganache);
	suite_add_tcase(s, tc);
	return s;
}

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
					fprintf(stderr, "test_nodes: killing "
					    "leftover process %ld\n", pid);
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
main(void)
{
	static char gbuf[PATH_MAX], tbuf[PATH_MAX];
	const char *t = getenv("TMPDIR"), *g = getenv("GANACHE_CLI");
	const char *src = getenv("top_srcdir");
	SRunner *sr;
	int failed;

	gate_bin = find_bin("GATE", "quorum-backup-gate", gbuf, sizeof gbuf);
	testnode_bin = find_bin("TESTNODE", "tests/helpers/testnode", tbuf,
	    sizeof tbuf);
	if (access(gate_bin, X_OK) < 0 || access(testnode_bin, X_OK) < 0) {
		fprintf(stderr, "test_nodes: %s or %s is missing\n", gate_bin,
		    testnode_bin);
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
		fprintf(stderr, "test_nodes: curl_global_init failed\n");
		return EXIT_FAILURE;
	}
	/* as run_suite, with the leftovers killed before the removal */
	if (!t || !t[0])
		t = "/tmp";
	snprintf(base_dir, sizeof base_dir, "%s/qb-test-nodes.XXXXXX", t);
	if (!mkdtemp(base_dir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(nodes_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	kill_leftovers();
	rm_rf(base_dir);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
