/* testnode: a stand-in for geth in the gate's tests. Single-threaded, libc
 * only.
 *
 *   testnode --data DIR --port N [--stop-delay MS] [--ignore-term]
 *            [--term-code C] [--orphans K] [--orphan-ms MS]
 *            [--exit-after MS] [--exit-code C] [--print-lines]
 *            [--print-special] [--pid-file FILE] [--list-fds]
 *            [--address ADDR] [--validators A,B,...]
 *            [--block-ms MS --genesis-ms EPOCH_MS] [--syncing-file PATH]
 *            [--crash-file PATH] [--ignore-term-file PATH]
 *            [--stop-wait-file PATH]
 *
 * - holds flock(LOCK_EX) on DIR/geth/LOCK while it runs (exit 1 if taken);
 * - appends "block N" to DIR/geth/chaindata/journal.log every 50 ms (the
 *   height goes on from the lines already there);
 * - --block-ms MS --genesis-ms EPOCH_MS (together): a chain clock shared by
 *   every testnode given the same values, so that they report the same
 *   height at the same time: the height is (now - EPOCH_MS) / MS, now in
 *   CLOCK_REALTIME milliseconds (0 before EPOCH_MS), and "block N" is
 *   appended only when the height changes, instead of every 50 ms;
 * - answers HTTP requests on 127.0.0.1:PORT with 200 and a JSON-RPC reply:
 *   eth_syncing false, net_peerCount 3, web3_clientVersion "testnode/v1",
 *   eth_getBlockByNumber a block (number, hash, stateRoot), istanbul_* and
 *   qbft_* "method does not exist", anything else eth_blockNumber's reply
 *   ({"jsonrpc":"2.0","id":1,"result":"0x<height>"});
 * - --address ADDR: istanbul_nodeAddress answers "ADDR";
 * - --validators A,B,...: istanbul_getValidators answers ["A","B",...]
 *   (qbft_* still "method does not exist");
 * - --syncing-file PATH: while PATH exists (looked at for each request),
 *   eth_syncing answers {"currentBlock":"0x1","highestBlock":
 *   "0x<height+100>","startingBlock":"0x0"}, as a node catching up does;
 * - --crash-file PATH: when PATH exists at start, exits at once with 3
 *   (a node that crashes when it is started again);
 * - --ignore-term-file PATH: when PATH exists at start, behaves as with
 *   --ignore-term (a node that will not stop, chosen between starts);
 * - --stop-wait-file PATH: after TERM or INT, does not exit while PATH
 *   exists (looked at every 50 ms, for at most 10 minutes): a stop that
 *   lasts exactly until a test lets it end;
 * - prints "testnode: got signal N" on stdout for every signal it gets
 *   (HUP INT QUIT USR1 USR2 TERM); on TERM or INT waits --stop-delay ms,
 *   then exits with --term-code (default 0), unless --ignore-term;
 * - --orphans K: K grandchildren, left behind by a child that exits at
 *   once, sleep --orphan-ms (default 1000) and exit: the gate reaps them;
 * - --exit-after MS: exits on its own with --exit-code after MS;
 * - --print-lines: "testnode: block N" on stdout at each append;
 * - --print-special: one line with a quote, a backslash, a tab, \001, a
 *   byte 0xff and UTF-8 "é", and one line of 5000 'x', on stdout;
 * - --list-fds: "testnode: fds 0 1 2 ..." (the descriptors it inherited);
 *   alone, without --data: print that and exit;
 * - stderr: "testnode: listening on 127.0.0.1:PORT pid=N" once ready. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 8
#define TICK_MS 50

static int sig_wfd = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sig_wfd, &b, 1);
	errno = saved;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The --block-ms chain clock's height: wall-clock time, since that is what
 * separate processes share. */
static unsigned long
clock_height(long long block_ms, long long genesis_ms)
{
	struct timespec ts;
	long long t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return t <= genesis_ms ? 0 : (unsigned long)((t - genesis_ms) /
	    block_ms);
}

/* --validators A,B,C as the JSON array ["A","B","C"] into out; -1 when it
 * does not fit or an address holds a character that would need escaping. */
static int
validators_json(char *out, size_t size, const char *list)
{
	size_t o = 0;

	if (size < 3)
		return -1;
	out[o++] = '[';
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, ",");

		if (o + k + 4 >= size)
			return -1;
		if (o > 1)
			out[o++] = ',';
		out[o++] = '"';
		for (size_t i = 0; i < k; i++) {
			if (p[i] == '"' || p[i] == '\\' ||
			    (unsigned char)p[i] < 0x20)
				return -1;
			out[o++] = p[i];
		}
		out[o++] = '"';
		p += k;
		if (*p == ',')
			p++;
	}
	out[o++] = ']';
	out[o] = '\0';
	return 0;
}

static void
say(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
die(const char *what, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof msg, "testnode: %s %s: %s\n", what, arg,
	    strerror(errno));
	say(2, msg);
	exit(1);
}

static void
mkdir_one(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir", path);
}

static void
list_fds(void)
{
	char line[1024] = "testnode: fds";
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self;

	if (!d)
		die("opendir", "/proc/self/fd");
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(line);
		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		snprintf(line + n, sizeof line - n, " %s", de->d_name);
	}
	closedir(d);
	strncat(line, "\n", sizeof line - strlen(line) - 1);
	say(1, line);
}

struct conn {
	int fd;
	char buf[8192];
	size_t len;
};

/* Enough of the request has arrived: the headers and Content-Length bytes
 * of body, or the buffer is full. */
static int
request_complete(struct conn *c)
{
	char *end, *cl;
	size_t head, body = 0;

	if (c->len >= sizeof c->buf - 1)
		return 1;
	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	cl = strcasestr(c->buf, "\ncontent-length:");
	if (cl && cl < end)
		body = (size_t)strtoul(cl + 16, NULL, 10);
	return c->len >= head + body;
}

/* The command line, as parsed. */
struct options {
	const char *data, *pid_file, *address, *validators, *syncing_file;
	const char *crash_file, *ignore_term_file, *stop_wait_file;
	int port, stop_delay, ignore_term, term_code;
	int orphans, orphan_ms, exit_after, exit_code;
	int print_lines, print_special, fds;
	long long block_ms, genesis_ms;
	char vjson[4096];           /* --validators as JSON, when given */
};

/* The node once it runs: its descriptors, connections and clocks. */
struct node {
	const struct options *o;
	int lock_fd, journal_fd, lfd, sig_rfd;
	struct conn conn[MAX_CONN];
	long long start, next_tick, stop_at, term_at;   /* now_ms() times */
	unsigned long height;
};

/* The checks on the options parse_options() read, in this order: a crash
 * file exits before the usage check, and --list-fds alone prints and
 * exits. -1 to go on, or the exit code. */
static int
check_options(struct options *o)
{
	/* The replies are built in serve_conn()'s body[]: keep them within
	 * it. */
	if ((o->address && (strlen(o->address) > 256 || strpbrk(o->address,
	    "\"\\\n"))) || (o->validators && validators_json(o->vjson,
	    sizeof o->vjson, o->validators) < 0)) {
		say(2, "testnode: --address or --validators: too long or a "
		    "character that needs escaping\n");
		return 2;
	}
	if (o->crash_file && access(o->crash_file, F_OK) == 0) {
		say(2, "testnode: crash file present: exiting with 3\n");
		return 3;
	}
	if (o->ignore_term_file && access(o->ignore_term_file, F_OK) == 0)
		o->ignore_term = 1;
	if (o->fds) {
		list_fds();
		if (!o->data)
			return 0;   /* only the list: what any child inherits */
	}
	if (!o->data || o->port <= 0 || o->port > 65535) {
		say(2, "usage: testnode --data DIR --port N [options]\n");
		return 2;
	}
	return -1;
}

/* The command line into o: the getopt_long loop and the check that
 * --block-ms and --genesis-ms come together, then check_options(). -1 to
 * go on, or the exit code. */
static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "stop-delay", required_argument, NULL, 's' },
		{ "ignore-term", no_argument, NULL, 'i' },
		{ "term-code", required_argument, NULL, 't' },
		{ "orphans", required_argument, NULL, 'o' },
		{ "orphan-ms", required_argument, NULL, 'O' },
		{ "exit-after", required_argument, NULL, 'a' },
		{ "exit-code", required_argument, NULL, 'c' },
		{ "print-lines", no_argument, NULL, 'l' },
		{ "print-special", no_argument, NULL, 'S' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "list-fds", no_argument, NULL, 'f' },
		{ "address", required_argument, NULL, 'A' },
		{ "validators", required_argument, NULL, 'V' },
		{ "block-ms", required_argument, NULL, 'b' },
		{ "genesis-ms", required_argument, NULL, 'g' },
		{ "syncing-file", required_argument, NULL, 'y' },
		{ "crash-file", required_argument, NULL, 'C' },
		{ "ignore-term-file", required_argument, NULL, 'I' },
		{ "stop-wait-file", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	int have_genesis = 0, c;

	memset(o, 0, sizeof *o);
	o->orphan_ms = 1000;
	o->exit_after = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->data = optarg; break;
		case 'p': o->port = atoi(optarg); break;
		case 's': o->stop_delay = atoi(optarg); break;
		case 'i': o->ignore_term = 1; break;
		case 't': o->term_code = atoi(optarg); break;
		case 'o': o->orphans = atoi(optarg); break;
		case 'O': o->orphan_ms = atoi(optarg); break;
		case 'a': o->exit_after = atoi(optarg); break;
		case 'c': o->exit_code = atoi(optarg); break;
		case 'l': o->print_lines = 1; break;
		case 'S': o->print_special = 1; break;
		case 'P': o->pid_file = optarg; break;
		case 'f': o->fds = 1; break;
		case 'A': o->address = optarg; break;
		case 'V': o->validators = optarg; break;
		case 'b': o->block_ms = atoll(optarg); break;
		case 'g':
			o->genesis_ms = atoll(optarg);
			have_genesis = 1;
			break;
		case 'y': o->syncing_file = optarg; break;
		case 'C': o->crash_file = optarg; break;
		case 'I': o->ignore_term_file = optarg; break;
		case 'W': o->stop_wait_file = optarg; break;
		default: return 2;
		}
	}
	if ((o->block_ms != 0 || have_genesis) && (o->block_ms <= 0 ||
	    !have_genesis)) {
		say(2, "testnode: --block-ms (> 0) and --genesis-ms go "
		    "together\n");
		return 2;
	}
	return check_options(o);
}

/* DIR/geth/chaindata, the lock on DIR/geth/LOCK, and the journal opened for
 * appending, the height counted from the lines it holds. */
static void
open_data_dir(struct node *n)
{
	const char *data = n->o->data;
	char path[4096];
	FILE *jf;

	snprintf(path, sizeof path, "%s/geth", data);
	mkdir_one(data);
	mkdir_one(path);
	snprintf(path, sizeof path, "%s/geth/chaindata", data);
	mkdir_one(path);
	snprintf(path, sizeof path, "%s/geth/LOCK", data);
	n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (n->lock_fd < 0)
		die("open", path);
	if (flock(n->lock_fd, LOCK_EX | LOCK_NB) < 0)
		die("flock", path);

	snprintf(path, sizeof path, "%s/geth/chaindata/journal.log", data);
	jf = fopen(path, "r");
	if (jf) {
		int ch;
		while ((ch = getc(jf)) != EOF)
			if (ch == '\n')
				n->height++;
		fclose(jf);
	}
	n->journal_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (n->journal_fd < 0)
		die("open", path);
}

/* The listening socket on 127.0.0.1:PORT, non-blocking. */
static void
open_listener(struct node *n)
{
	struct sockaddr_in sa;
	char where[64];
	int one = 1;

	n->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->lfd < 0)
		die("socket", "");
	setsockopt(n->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)n->o->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(where, sizeof where, "127.0.0.1:%d", n->o->port);
	if (bind(n->lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind", where);
	if (listen(n->lfd, 16) < 0)
		die("listen", where);
}

/* The signals the node reports go through a pipe to the loop (the
 * self-pipe); SIGPIPE is ignored, for a client gone before its reply. */
static void
catch_signals(struct node *n)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
		SIGTERM };
	struct sigaction act;
	int sp[2];

	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		die("pipe", "");
	n->sig_rfd = sp[0];
	sig_wfd = sp[1];
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigemptyset(&act.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &act, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* --pid-file: written to FILE.tmp, then renamed, so that it is whole. */
static void
write_pid_file(const char *pid_file)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", pid_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		die("write", tmp);
	if (rename(tmp, pid_file) < 0)
		die("rename", tmp);
}

/* --orphans K: for each, a child that leaves a grandchild behind and
 * exits; the grandchild sleeps --orphan-ms and exits. */
static void
leave_orphans(const struct node *n)
{
	for (int k = 0; k < n->o->orphans; k++) {
		pid_t p = fork();
		if (p < 0)
			die("fork", "");
		if (p == 0) {
			/* the child leaves a grandchild behind and exits */
			if (fork() == 0) {
				/* the lock is the node's */
				close(n->lock_fd);
				close(n->lfd);
				usleep((useconds_t)n->o->orphan_ms * 1000);
				_exit(0);
			}
			_exit(0);
		}
		waitpid(p, NULL, 0);
	}
}

/* Everything before the loop, in this order; "listening" (stderr) is the
 * line the tests wait for, and the clocks start after it. */
static void
setup(struct node *n, const struct options *o)
{
	char msg[128];

	memset(n, 0, sizeof *n);
	n->o = o;
	n->stop_at = -1;
	n->term_at = -1;
	open_data_dir(n);
	open_listener(n);
	catch_signals(n);
	if (o->pid_file)
		write_pid_file(o->pid_file);
	leave_orphans(n);

	snprintf(msg, sizeof msg,
	    "testnode: listening on 127.0.0.1:%d pid=%d\n", o->port,
	    (int)getpid());
	say(2, msg);
	if (o->print_special) {
		char longline[5002];
		say(1, "testnode: special \"quote\" back\\slash tab\there "
		    "ctl\001 bad\377 utf8 \xc3\xa9\n");
		memset(longline, 'x', 5000);
		longline[5000] = '\n';
		longline[5001] = '\0';
		say(1, longline);
	}

	for (int i = 0; i < MAX_CONN; i++)
		n->conn[i].fd = -1;
	/* On the chain clock, the height is the clock's whatever the journal
	 * holds; the block the node starts in is not a new one. */
	if (o->block_ms > 0)
		n->height = clock_height(o->block_ms, o->genesis_ms);
	n->start = now_ms();
	n->next_tick = n->start;
}

/* --exit-after, and a stop (TERM or INT) that is due: both end the process
 * here, unless --stop-wait-file holds the stop for another 50 ms. */
static void
check_deadlines(struct node *n, long long now)
{
	const struct options *o = n->o;

	if (o->exit_after >= 0 && now >= n->start + o->exit_after)
		exit(o->exit_code);
	if (n->stop_at >= 0 && now >= n->stop_at && o->stop_wait_file &&
	    access(o->stop_wait_file, F_OK) == 0 &&
	    now - n->term_at < 600000)
		n->stop_at = now + 50;   /* held by the test */
	else if (n->stop_at >= 0 && now >= n->stop_at)
		exit(o->term_code);
}

/* The tick, every TICK_MS: "block N" appended to the journal (and printed
 * with --print-lines), on the chain clock only when the height changed. */
static void
chain_tick(struct node *n, long long now)
{
	const struct options *o = n->o;
	char msg[128];

	if (now < n->next_tick)
		return;
	if (o->block_ms > 0 &&
	    clock_height(o->block_ms, o->genesis_ms) == n->height) {
		n->next_tick = now + TICK_MS;   /* the same block still */
		return;
	}
	n->height = o->block_ms > 0 ? clock_height(o->block_ms,
	    o->genesis_ms) : n->height + 1;
	snprintf(msg, sizeof msg, "block %lu\n", n->height);
	say(n->journal_fd, msg);
	if (o->print_lines) {
		snprintf(msg, sizeof msg, "testnode: block %lu\n", n->height);
		say(1, msg);
	}
	n->next_tick = now + TICK_MS;
}

/* What the self-pipe holds: a line on stdout for each signal, and TERM or
 * INT starts the stop (--stop-delay from now), unless --ignore-term. */
static void
read_signals(struct node *n)
{
	unsigned char b[64];
	char msg[64];
	ssize_t k = read(n->sig_rfd, b, sizeof b);

	for (ssize_t j = 0; j < k; j++) {
		snprintf(msg, sizeof msg, "testnode: got signal %d\n", b[j]);
		say(1, msg);
		if ((b[j] == SIGTERM || b[j] == SIGINT) &&
		    !n->o->ignore_term && n->stop_at < 0) {
			n->term_at = now_ms();
			n->stop_at = n->term_at + n->o->stop_delay;
		}
	}
}

/* A new connection into a free slot; closed at once when none is free. */
static void
accept_conn(struct node *n)
{
	int fd = accept4(n->lfd, NULL, NULL, SOCK_CLOEXEC);
	int slot = -1;

	for (int i = 0; i < MAX_CONN && fd >= 0; i++)
		if (n->conn[i].fd < 0) {
			slot = i;
			break;
		}
	if (slot < 0 && fd >= 0)
		close(fd);
	else if (fd >= 0) {
		n->conn[slot].fd = fd;
		n->conn[slot].len = 0;
	}
}

/* The JSON-RPC reply to the request req: a few methods as geth answers
 * them (the agent's readiness and facts); any other request gets
 * eth_blockNumber's reply. */
static void
reply_body(const struct node *n, const char *req, char *body, size_t size)
{
	const struct options *o = n->o;
	unsigned long h;

	/* the chain clock's height now, not at the last tick */
	h = o->block_ms > 0 ? clock_height(o->block_ms, o->genesis_ms) :
	    n->height;
	if (strstr(req, "\"eth_syncing\"") && o->syncing_file &&
	    access(o->syncing_file, F_OK) == 0)
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":{\"currentBlock\":"
		    "\"0x1\",\"highestBlock\":\"0x%lx\","
		    "\"startingBlock\":\"0x0\"}}", h + 100);
	else if (strstr(req, "\"eth_syncing\""))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":false}");
	else if (strstr(req, "\"net_peerCount\""))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":\"0x3\"}");
	else if (strstr(req, "\"web3_clientVersion\""))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":\"testnode/v1\"}");
	else if (strstr(req, "\"eth_getBlockByNumber\""))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":{\"number\":\"0x%lx\","
		    "\"hash\":\"0x%064lx\",\"stateRoot\":"
		    "\"0x%064lx\"}}", h, h, h + 1);
	else if (o->address && strstr(req, "\"istanbul_nodeAddress\""))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":\"%s\"}", o->address);
	else if (o->validators && strstr(req, "\"istanbul_getValidators\""))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":%s}", o->vjson);
	else if (strstr(req, "\"istanbul_") || strstr(req, "\"qbft_"))
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"error\":{\"code\":-32601,"
		    "\"message\":\"the method does not exist\"}}");
	else
		snprintf(body, size, "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"result\":\"0x%lx\"}", h);
}

/* What a connection sent: once the request is complete, the reply, and the
 * connection closed (as on end of file or an error). */
static void
serve_conn(struct node *n, struct conn *cn)
{
	char body[sizeof n->o->vjson + 512], msg[8192];
	ssize_t k;

	k = read(cn->fd, cn->buf + cn->len, sizeof cn->buf - 1 - cn->len);
	if (k <= 0) {
		close(cn->fd);
		cn->fd = -1;
		return;
	}
	cn->len += (size_t)k;
	if (!request_complete(cn))
		return;
	cn->buf[cn->len] = '\0';
	reply_body(n, cn->buf, body, sizeof body);
	snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    strlen(body), body);
	say(cn->fd, msg);
	close(cn->fd);
	cn->fd = -1;
}

/* The loop: the deadlines and the tick, then poll until the next of them
 * for signals, connections and requests. It ends only by exit(). */
static void
run(struct node *n)
{
	for (;;) {
		struct pollfd pfd[2 + MAX_CONN];
		long long now = now_ms(), wake;
		int k = 0;

		check_deadlines(n, now);
		chain_tick(n, now);
		wake = n->next_tick;
		if (n->o->exit_after >= 0 && n->start + n->o->exit_after < wake)
			wake = n->start + n->o->exit_after;
		if (n->stop_at >= 0 && n->stop_at < wake)
			wake = n->stop_at;

		pfd[k++] = (struct pollfd){ .fd = n->sig_rfd,
		    .events = POLLIN };
		pfd[k++] = (struct pollfd){ .fd = n->lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONN; i++)
			pfd[k++] = (struct pollfd){ .fd = n->conn[i].fd,
			    .events = POLLIN };
		if (poll(pfd, (nfds_t)k, wake > now ? (int)(wake - now) :
		    0) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", "");
		}
		if (pfd[0].revents)
			read_signals(n);
		if (pfd[1].revents)
			accept_conn(n);
		for (int i = 0; i < MAX_CONN; i++)
			if (n->conn[i].fd >= 0 && pfd[2 + i].revents)
				serve_conn(n, &n->conn[i]);
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	struct node n;
	int rc;

	if ((rc = parse_options(argc, argv, &o)) >= 0)
		return rc;
	setup(&n, &o);
	run(&n);   /* returns only by exit() */
	return 0;
}
