/* nodes_fixture: what the suites of agent/nodes (test_nodes_rpc,
 * test_nodes_gate, test_nodes_order, test_nodes_ganache) share, against
 * real processes:
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
 * - loopback sockets made here that accept and never answer.
 *
 * Ports: 127.0.0.1 only, from 30000 + (pid % 3000) * 10 upwards, each
 * checked free before use. Every process started is killed by pid in the
 * test's teardown; the runner is a child subreaper and kills (by pid) any
 * descendant still alive at the end, so a failed test leaves nothing. */
#ifndef QB_NODES_FIXTURE_H
#define QB_NODES_FIXTURE_H

#include <check.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "json.h"
#include "nodes.h"

/* ---- processes ------------------------------------------------------ */

extern const char *gate_bin;
extern const char *testnode_bin;
extern char ganache_cli[PATH_MAX];   /* "" when absent */
double now_s(void);
void msleep(int ms);

/* tmp/name into one of four static buffers. */
const char *tp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start argv with stdout and stderr appended to log; registered for the
 * teardown (pidfile: the node it supervises, killed too). */
pid_t spawn(char *const argv[], const char *log, const char *pidfile);

long long read_pidfile(const char *path);

/* pid runs a program whose command line contains what. */
int pid_runs(long long pid, const char *what);

/* SIGKILL the node a gate supervises (one that ignores SIGTERM). */
void kill_node(const char *pidfile);

void teardown_tmp(void);

/* ---- ports and sockets ---------------------------------------------- */

/* A free port on 127.0.0.1. */
int free_port(void);

/* A TCP listener on 127.0.0.1 that never accepts; *port gets its port. */
int silent_tcp(int *port);

char *urlf(int port, const char *path);

/* ---- nodes under gates ---------------------------------------------- */

struct gnode {
	struct node_def *def;
	pid_t gate;
	int port;
	char dir[PATH_MAX / 2];
	char pidfile[PATH_MAX];
	char state[PATH_MAX];
};

void gnode_free(struct gnode *g);

/* A gate named name supervising a testnode (extra: testnode flags,
 * NULL-terminated, e.g. --print-lines for a line of output per block).
 * The def checks health (GET / -> 200). log: where the gate's output
 * goes (NULL: its own file). */
void gnode_start(struct gnode *g, const char *name, const char *log,
    long long stop_timeout, const char *const *extra);

/* The same node seen through its JSON-RPC instead of its health URL. */
struct node_def *rpc_def(const struct gnode *g, long long min_peers);

void assert_gate_state(const struct node_def *d, const char *want);
extern const char *const print_lines[];

/* ---- the client's limits, with canned replies ----------------------- */

/* Read one HTTP request (headers and Content-Length bytes) into buf. */
size_t read_request(int fd, char *buf, size_t size);

/* ---- runner --------------------------------------------------------- */

/* As run_suite (testutil.h), for the nodes suites: finds the gate
 * ($GATE), the testnode ($TESTNODE) and ganache, makes this process a
 * child subreaper, runs the suite and kills (by pid) any descendant
 * still alive before base_dir is removed; the exit status. */
int nodes_run_suite(Suite *s, const char *name);

#endif
