/* Unit tests of agent/nodes: the gate client against quorum-backup-gate
 * supervising a testnode: probes (health, JSON-RPC, a syncing node
 * answered by a canned JSON-RPC server), stop and start and their
 * arguments, a node that does not stop, an unreachable gate, a request the
 * gate does not know.
 *
 * Every process started is killed by pid in the test's teardown; the
 * runner (nodes_fixture.h) is a child subreaper and kills (by pid) any
 * descendant still alive at the end, so a failed test leaves nothing. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "nodes_fixture.h"
#include "err.h"
#include "gate_proto.h"
#include "json.h"
#include "nodes.h"

/* ---- ports and sockets ---------------------------------------------- */

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

/* ---- the client's limits, with canned replies ----------------------- */

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
nodes_gate_suite(void)
{
	Suite *s = suite_create("nodes_gate");
	TCase *tc;

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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return nodes_run_suite(nodes_gate_suite(), "nodes_gate");
}
