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

int
main(int argc, char **argv)
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
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
		SIGTERM };
	const char *data = NULL, *pid_file = NULL, *address = NULL;
	const char *validators = NULL, *syncing_file = NULL;
	const char *crash_file = NULL, *ignore_term_file = NULL;
	const char *stop_wait_file = NULL;
	int port = 0, stop_delay = 0, ignore_term = 0, term_code = 0;
	int orphans = 0, orphan_ms = 1000, exit_after = -1, exit_code = 0;
	int print_lines = 0, print_special = 0, fds = 0, have_genesis = 0;
	long long block_ms = 0, genesis_ms = 0;
	char path[4096], msg[8192], vjson[4096];
	struct conn conn[MAX_CONN];
	struct sockaddr_in sa;
	struct sigaction act;
	long long start, next_tick, stop_at = -1, term_at = -1;
	unsigned long height = 0;
	int lock_fd, journal_fd, lfd, one = 1, sp[2], c;
	FILE *jf;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': stop_delay = atoi(optarg); break;
		case 'i': ignore_term = 1; break;
		case 't': term_code = atoi(optarg); break;
		case 'o': orphans = atoi(optarg); break;
		case 'O': orphan_ms = atoi(optarg); break;
		case 'a': exit_after = atoi(optarg); break;
		case 'c': exit_code = atoi(optarg); break;
		case 'l': print_lines = 1; break;
		case 'S': print_special = 1; break;
		case 'P': pid_file = optarg; break;
		case 'f': fds = 1; break;
		case 'A': address = optarg; break;
		case 'V': validators = optarg; break;
		case 'b': block_ms = atoll(optarg); break;
		case 'g': genesis_ms = atoll(optarg); have_genesis = 1; break;
		case 'y': syncing_file = optarg; break;
		case 'C': crash_file = optarg; break;
		case 'I': ignore_term_file = optarg; break;
		case 'W': stop_wait_file = optarg; break;
		default: return 2;
		}
	}
	if ((block_ms != 0 || have_genesis) && (block_ms <= 0 ||
	    !have_genesis)) {
		say(2, "testnode: --block-ms (> 0) and --genesis-ms go "
		    "together\n");
		return 2;
	}
	/* The replies are built in body[] below: keep them within it. */
	if ((address && (strlen(address) > 256 || strpbrk(address,
	    "\"\\\n"))) || (validators && validators_json(vjson,
	    sizeof vjson, validators) < 0)) {
		say(2, "testnode: --address or --validators: too long or a "
		    "character that needs escaping\n");
		return 2;
	}
	if (crash_file && access(crash_file, F_OK) == 0) {
		say(2, "testnode: crash file present: exiting with 3\n");
		return 3;
	}
	if (ignore_term_file && access(ignore_term_file, F_OK) == 0)
		ignore_term = 1;
	if (fds) {
		list_fds();
		if (!data)
			return 0;   /* only the list: what any child inherits */
	}
	if (!data || port <= 0 || port > 65535) {
		say(2, "usage: testnode --data DIR --port N [options]\n");
		return 2;
	}

	snprintf(path, sizeof path, "%s/geth", data);
	mkdir_one(data);
	mkdir_one(path);
	snprintf(path, sizeof path, "%s/geth/chaindata", data);
	mkdir_one(path);
	snprintf(path, sizeof path, "%s/geth/LOCK", data);
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		die("open", path);
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0)
		die("flock", path);

	snprintf(path, sizeof path, "%s/geth/chaindata/journal.log", data);
	jf = fopen(path, "r");
	if (jf) {
		int ch;
		while ((ch = getc(jf)) != EOF)
			if (ch == '\n')
				height++;
		fclose(jf);
	}
	journal_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (journal_fd < 0)
		die("open", path);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		die("socket", "");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(path, sizeof path, "127.0.0.1:%d", port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind", path);
	if (listen(lfd, 16) < 0)
		die("listen", path);

	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		die("pipe", "");
	sig_wfd = sp[1];
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigemptyset(&act.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pid_file) {
		char tmp[4096];
		FILE *f;
		snprintf(tmp, sizeof tmp, "%s.tmp", pid_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
			die("write", tmp);
		if (rename(tmp, pid_file) < 0)
			die("rename", tmp);
	}

	for (int k = 0; k < orphans; k++) {
		pid_t p = fork();
		if (p < 0)
			die("fork", "");
		if (p == 0) {
			/* the child leaves a grandchild behind and exits */
			if (fork() == 0) {
				close(lock_fd);   /* the lock is the node's */
				close(lfd);
				usleep((useconds_t)orphan_ms * 1000);
				_exit(0);
			}
			_exit(0);
		}
		waitpid(p, NULL, 0);
	}

	snprintf(msg, sizeof msg, "testnode: listening on 127.0.0.1:%d pid=%d\n",
	    port, (int)getpid());
	say(2, msg);
	if (print_special) {
		char longline[5002];
		say(1, "testnode: special \"quote\" back\\slash tab\there "
		    "ctl\001 bad\377 utf8 \xc3\xa9\n");
		memset(longline, 'x', 5000);
		longline[5000] = '\n';
		longline[5001] = '\0';
		say(1, longline);
	}

	for (int i = 0; i < MAX_CONN; i++)
		conn[i].fd = -1;
	/* On the chain clock, the height is the clock's whatever the journal
	 * holds; the block the node starts in is not a new one. */
	if (block_ms > 0)
		height = clock_height(block_ms, genesis_ms);
	start = now_ms();
	next_tick = start;
	for (;;) {
		struct pollfd pfd[2 + MAX_CONN];
		long long now = now_ms(), wake = next_tick;
		int n = 0;

		if (exit_after >= 0 && now >= start + exit_after)
			exit(exit_code);
		if (stop_at >= 0 && now >= stop_at && stop_wait_file &&
		    access(stop_wait_file, F_OK) == 0 &&
		    now - term_at < 600000)
			stop_at = now + 50;   /* held by the test */
		else if (stop_at >= 0 && now >= stop_at)
			exit(term_code);
		if (now >= next_tick && block_ms > 0 &&
		    clock_height(block_ms, genesis_ms) == height) {
			next_tick = now + TICK_MS;   /* the same block still */
			wake = next_tick;
		} else if (now >= next_tick) {
			height = block_ms > 0 ? clock_height(block_ms,
			    genesis_ms) : height + 1;
			snprintf(msg, sizeof msg, "block %lu\n", height);
			say(journal_fd, msg);
			if (print_lines) {
				snprintf(msg, sizeof msg, "testnode: block %lu\n",
				    height);
				say(1, msg);
			}
			next_tick = now + TICK_MS;
			wake = next_tick;
		}
		if (exit_after >= 0 && start + exit_after < wake)
			wake = start + exit_after;
		if (stop_at >= 0 && stop_at < wake)
			wake = stop_at;

		pfd[n++] = (struct pollfd){ .fd = sp[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONN; i++)
			pfd[n++] = (struct pollfd){ .fd = conn[i].fd,
			    .events = POLLIN };
		if (poll(pfd, (nfds_t)n, wake > now ? (int)(wake - now) : 0) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", "");
		}
		if (pfd[0].revents) {
			unsigned char b[64];
			ssize_t k = read(sp[0], b, sizeof b);
			for (ssize_t j = 0; j < k; j++) {
				snprintf(msg, sizeof msg,
				    "testnode: got signal %d\n", b[j]);
				say(1, msg);
				if ((b[j] == SIGTERM || b[j] == SIGINT) &&
				    !ignore_term && stop_at < 0) {
					term_at = now_ms();
					stop_at = term_at + stop_delay;
				}
			}
		}
		if (pfd[1].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			int slot = -1;
			for (int i = 0; i < MAX_CONN && fd >= 0; i++)
				if (conn[i].fd < 0) {
					slot = i;
					break;
				}
			if (slot < 0 && fd >= 0)
				close(fd);
			else if (fd >= 0) {
				conn[slot].fd = fd;
				conn[slot].len = 0;
			}
		}
		for (int i = 0; i < MAX_CONN; i++) {
			struct conn *cn = &conn[i];
			ssize_t k;
			char body[sizeof vjson + 512];
			unsigned long h;

			if (cn->fd < 0 || !pfd[2 + i].revents)
				continue;
			k = read(cn->fd, cn->buf + cn->len,
			    sizeof cn->buf - 1 - cn->len);
			if (k <= 0) {
				close(cn->fd);
				cn->fd = -1;
				continue;
			}
			cn->len += (size_t)k;
			if (!request_complete(cn))
				continue;
			/* A few JSON-RPC methods as geth answers them (the
			 * agent's readiness and facts); any other request gets
			 * eth_blockNumber's reply. */
			cn->buf[cn->len] = '\0';
			/* the chain clock's height now, not at the last tick */
			h = block_ms > 0 ? clock_height(block_ms, genesis_ms) :
			    height;
			if (strstr(cn->buf, "\"eth_syncing\"") && syncing_file &&
			    access(syncing_file, F_OK) == 0)
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":{\"currentBlock\":"
				    "\"0x1\",\"highestBlock\":\"0x%lx\","
				    "\"startingBlock\":\"0x0\"}}", h + 100);
			else if (strstr(cn->buf, "\"eth_syncing\""))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":false}");
			else if (strstr(cn->buf, "\"net_peerCount\""))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":\"0x3\"}");
			else if (strstr(cn->buf, "\"web3_clientVersion\""))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":\"testnode/v1\"}");
			else if (strstr(cn->buf, "\"eth_getBlockByNumber\""))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":{\"number\":\"0x%lx\","
				    "\"hash\":\"0x%064lx\",\"stateRoot\":"
				    "\"0x%064lx\"}}", h, h, h + 1);
			else if (address &&
			    strstr(cn->buf, "\"istanbul_nodeAddress\""))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":\"%s\"}", address);
			else if (validators &&
			    strstr(cn->buf, "\"istanbul_getValidators\""))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":%s}", vjson);
			else if (strstr(cn->buf, "\"istanbul_") ||
			    strstr(cn->buf, "\"qbft_"))
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"error\":{\"code\":-32601,"
				    "\"message\":\"the method does not exist\"}}");
			else
				snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\","
				    "\"id\":1,\"result\":\"0x%lx\"}", h);
			snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			    strlen(body), body);
			say(cn->fd, msg);
			close(cn->fd);
			cn->fd = -1;
		}
	}
}
