/* Unit tests of agent/nodes: the ordering helpers on two nodes under
 * gates: nodes_stop_all and nodes_start_all in order, the resume of what
 * was stopped when a stop fails, the events a watcher hears, and
 * nodes_wait_ready's timeouts and reasons.
 *
 * Every process started is killed by pid in the test's teardown; the
 * runner (nodes_fixture.h) is a child subreaper and kills (by pid) any
 * descendant still alive at the end, so a failed test leaves nothing. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "nodes_fixture.h"
#include "err.h"
#include "json.h"
#include "nodes.h"

/* ---- nodes under gates ---------------------------------------------- */

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

/* ---- gates ---------------------------------------------------------- */

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
nodes_order_suite(void)
{
	Suite *s = suite_create("nodes_order");
	TCase *tc;

	tc = tcase_create("gate");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_stop_all_resumes);
	tcase_add_test(tc, test_watch_events);
	tcase_add_test(tc, test_wait_ready_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return nodes_run_suite(nodes_order_suite(), "nodes_order");
}
