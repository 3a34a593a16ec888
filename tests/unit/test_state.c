/* Unit tests of agent/state: the member's state model. Readings against
 * transitions (a reading begun before a job's transition never overwrites
 * it), what each job phase means for "down", the reasons, the lease, the
 * JSON of /v1/status and the figures of /metrics. No process is started:
 * the snapshots are built here as the prober's would be. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "json.h"
#include "nodes.h"
#include "state.h"

static struct agent_conf cf;
static struct node_def *defs[2];
static struct state *s;

static void
setup(void)
{
	memset(&cf, 0, sizeof cf);
	defs[0] = node_def_new("quorum", "/nonexistent/q.sock",
	    "http://127.0.0.1:1", NULL, 0, 10);
	defs[1] = node_def_new("tessera", "/nonexistent/t.sock", NULL,
	    "http://127.0.0.1:2/upcheck", 0, 10);
	ck_assert_ptr_nonnull(defs[0]);
	ck_assert_ptr_nonnull(defs[1]);
	cf.nodes = defs;
	cf.n_nodes = 2;
	cf.member = 1;
	s = state_new(&cf);
	ck_assert_ptr_nonnull(s);
}

static void
teardown(void)
{
	state_free(s);
	node_def_free(defs[0]);
	node_def_free(defs[1]);
}

/* A snapshot as a probe of a node that runs and is ready (or not). */
static void
snap(struct node_state *st, const char *gate_state, int ready, long long h)
{
	memset(st, 0, sizeof *st);
	node_state_clear(st);
	snprintf(st->gate_state, sizeof st->gate_state, "%s", gate_state);
	st->ready = ready;
	st->rpc_ok = ready;
	st->height = h;
	st->pid = 100;
	if (!ready)
		snprintf(st->reason, sizeof st->reason, "the node is %s",
		    gate_state);
}

/* Both nodes read once, running and ready. */
static void
both_ready(void)
{
	struct node_state st;

	for (size_t i = 0; i < 2; i++) {
		unsigned long t = state_node_begin(s, i);
		snap(&st, "running", 1, 10);
		ck_assert_int_eq(state_node_commit(s, i, t, &st), 1);
	}
}

static json_t *
node_json(size_t i)
{
	json_t *o = state_json(s);
	json_t *n;

	ck_assert_ptr_nonnull(o);
	n = json_incref(json_array_get(json_object_get(o, "nodes"), i));
	json_decref(o);
	ck_assert_ptr_nonnull(n);
	return n;
}

START_TEST(test_not_probed_is_down)
{
	char why[256];
	json_t *o, *reasons;

	ck_assert_int_eq(state_probed(s), 0);
	ck_assert_int_eq(state_down(s, why, sizeof why, &reasons), 1);
	ck_assert_str_eq(why, "quorum: not probed yet");
	ck_assert_uint_eq(json_array_size(reasons), 2);
	json_decref(reasons);
	o = state_json(s);
	ck_assert(json_is_null(json_object_get(o, "probed_at")));
	ck_assert(json_is_true(json_object_get(o, "down")));
	json_decref(o);
	both_ready();
	ck_assert_int_eq(state_probed(s), 1);
	ck_assert_int_eq(state_down(s, why, sizeof why, NULL), 0);
	ck_assert_str_eq(why, "");
	o = state_json(s);
	ck_assert(json_is_real(json_object_get(o, "probed_at")));
	ck_assert(json_is_false(json_object_get(o, "down")));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "down_reasons")),
	    0);
	json_decref(o);
}
END_TEST

/* The race of the prober: it began a reading while the node ran, a job
 * then asked for the stop; the reading arrives last and must not undo
 * the stop. */
START_TEST(test_reading_older_than_transition_dropped)
{
	struct node_state st;
	unsigned long t;
	char why[256];
	json_t *n;

	both_ready();
	state_job_begin(s, "j-1", "quiesce", PHASE_STOPPING);
	t = state_node_begin(s, 0);
	state_node_event(s, 0, NODE_EV_STOP_REQUESTED, NULL);
	snap(&st, "running", 1, 11);
	ck_assert_int_eq(state_node_commit(s, 0, t, &st), 0);
	n = node_json(0);
	ck_assert_str_eq(json_get_str(n, "state"), "stopping");
	ck_assert(json_is_true(json_object_get(n, "held")));
	ck_assert(json_is_false(json_object_get(n, "ready")));
	ck_assert_str_eq(json_get_str(json_object_get(n, "hold"), "job"),
	    "j-1");
	json_decref(n);

	/* The job's own reading after the stop is stored whatever the
	 * prober holds. */
	t = state_node_begin(s, 0);
	snap(&st, "stopped", 0, -1);
	st.held = 1;
	st.hold = json_pack("{s:s, s:s, s:I}", "job", "j-1", "reason",
	    "quiesce", "until", (json_int_t)(time(NULL) + 60));
	state_node_event(s, 0, NODE_EV_STOPPED, &st);
	node_state_clear(&st);
	snap(&st, "running", 1, 11);
	ck_assert_int_eq(state_node_commit(s, 0, t, &st), 0);
	state_job_end(s, "j-1");
	/* The job is over, the hold stays: down. */
	ck_assert_int_eq(state_down(s, why, sizeof why, NULL), 1);
	ck_assert_str_eq(why, "quorum: held by job j-1 (quiesce), state "
	    "stopped");

	/* A reading begun after the transition is stored. */
	t = state_node_begin(s, 0);
	snap(&st, "running", 1, 12);
	ck_assert_int_eq(state_node_commit(s, 0, t, &st), 1);
	ck_assert_int_eq(state_down(s, why, sizeof why, NULL), 0);
}
END_TEST

/* Two readings: the one begun later wins, whichever arrives first. */
START_TEST(test_later_reading_wins)
{
	struct node_state st;
	unsigned long t1, t2;
	json_t *n;

	both_ready();
	t1 = state_node_begin(s, 0);
	t2 = state_node_begin(s, 0);
	snap(&st, "running", 1, 20);
	ck_assert_int_eq(state_node_commit(s, 0, t2, &st), 1);
	snap(&st, "running", 1, 19);
	ck_assert_int_eq(state_node_commit(s, 0, t1, &st), 0);
	n = node_json(0);
	ck_assert_int_eq(json_integer_value(json_object_get(n, "height")), 20);
	json_decref(n);
}
END_TEST

START_TEST(test_start_requested_and_started)
{
	struct node_state st;
	char why[256];
	json_t *n;

	both_ready();
	state_job_begin(s, "j-2", "resume", PHASE_STARTING);
	state_node_event(s, 1, NODE_EV_START_REQUESTED, NULL);
	n = node_json(1);
	ck_assert_str_eq(json_get_str(n, "state"), "starting");
	ck_assert_str_eq(json_get_str(n, "reason"),
	    "job j-2 is starting the node");
	json_decref(n);
	snap(&st, "running", 0, -1);
	snprintf(st.reason, sizeof st.reason, "connection refused");
	state_node_event(s, 1, NODE_EV_STARTED, &st);
	node_state_clear(&st);
	state_job_phase(s, PHASE_WAITING_READY);
	ck_assert_int_eq(state_down(s, why, sizeof why, NULL), 1);
	ck_assert_str_eq(why, "job j-2 (resume): waiting for readiness");
	snap(&st, "running", 1, 30);
	state_node_event(s, 1, NODE_EV_PROBED, &st);
	node_state_clear(&st);
	/* Ready, but the job still waits: down until it ends. */
	ck_assert_int_eq(state_down(s, why, sizeof why, NULL), 1);
	state_job_end(s, "j-other");   /* not the current job */
	ck_assert_int_eq(state_down(s, NULL, 0, NULL), 1);
	state_job_end(s, "j-2");
	ck_assert_int_eq(state_down(s, why, sizeof why, NULL), 0);
	ck_assert_ptr_null(state_job_phase_name(s));
}
END_TEST

/* Which phases take the member down: those that stop, unpack or start the
 * nodes (and the facts read just before a stop); not a verify, a prune,
 * an upload, or an archive of nodes that are already held. */
START_TEST(test_phases)
{
	static const struct {
		enum job_phase p;
		const char *name;
		int down;
	} want[] = {
		{ PHASE_NONE, NULL, 0 },
		{ PHASE_READING_FACTS, "reading node facts", 1 },
		{ PHASE_STOPPING, "stopping", 1 },
		{ PHASE_ARCHIVING, "archiving", 0 },
		{ PHASE_UNPACKING, "unpacking", 1 },
		{ PHASE_ROLLING_BACK, "rolling back", 1 },
		{ PHASE_STARTING, "starting", 1 },
		{ PHASE_WAITING_READY, "waiting for readiness", 1 },
		{ PHASE_VERIFYING, "verifying", 0 },
		{ PHASE_PRUNING, "pruning", 0 },
		{ PHASE_UPLOADING, "uploading", 0 },
	};

	ck_assert_uint_eq(sizeof want / sizeof want[0], PHASE_COUNT);
	both_ready();
	for (size_t i = 0; i < PHASE_COUNT; i++) {
		char why[256];

		ck_assert_int_eq(state_phase_down(want[i].p), want[i].down);
		if (want[i].name)
			ck_assert_str_eq(state_phase_name(want[i].p),
			    want[i].name);
		else
			ck_assert_ptr_null(state_phase_name(want[i].p));
		state_job_begin(s, "j-3", "archive", want[i].p);
		ck_assert_int_eq(state_down(s, why, sizeof why, NULL),
		    want[i].down);
		if (want[i].down)
			ck_assert_ptr_nonnull(strstr(why, want[i].name));
		state_job_end(s, "j-3");
		ck_assert_int_eq(state_down(s, NULL, 0, NULL), 0);
	}
}
END_TEST

/* A hold counts even when the node is reported running and ready. */
START_TEST(test_hold_alone_is_down)
{
	struct node_state st;
	unsigned long t;
	char why[256];
	json_t *reasons;

	both_ready();
	t = state_node_begin(s, 1);
	snap(&st, "running", 1, 10);
	st.held = 1;
	st.hold = json_pack("{s:s, s:s}", "job", "j-9", "reason", "maint");
	ck_assert_int_eq(state_node_commit(s, 1, t, &st), 1);
	ck_assert_int_eq(state_down(s, why, sizeof why, &reasons), 1);
	ck_assert_str_eq(why, "tessera: held by job j-9 (maint), state running");
	ck_assert_uint_eq(json_array_size(reasons), 1);
	json_decref(reasons);
}
END_TEST

START_TEST(test_lease)
{
	char who[160];

	ck_assert_int_eq(state_lease(s, who, sizeof who), 0);
	ck_assert_str_eq(who, "");
	state_lease_set(s, "ctl-a", time(NULL) + 60);
	ck_assert_int_gt(state_lease(s, who, sizeof who), time(NULL));
	ck_assert_str_eq(who, "ctl-a");
	state_lease_set(s, "ctl-a", time(NULL) - 1);   /* expired */
	ck_assert_int_eq(state_lease(s, who, sizeof who), 0);
	ck_assert_str_eq(who, "");
	state_lease_set(s, "ctl-b", time(NULL) + 60);
	state_lease_set(s, NULL, 0);
	ck_assert_int_eq(state_lease(s, who, sizeof who), 0);
}
END_TEST

START_TEST(test_json_and_metrics)
{
	struct node_state st;
	unsigned long t;
	int ready[2], down;
	double held;
	json_t *o;

	state_metrics(s, ready, &held, &down);
	ck_assert_int_eq(ready[0], -1);
	ck_assert_int_eq(ready[1], -1);
	ck_assert_int_eq(down, 1);
	both_ready();
	t = state_node_begin(s, 0);
	snap(&st, "stopped", 0, -1);
	st.held = 1;
	st.hold = json_pack("{s:s, s:I}", "job", "j-5", "since",
	    (json_int_t)(time(NULL) - 30));
	state_node_commit(s, 0, t, &st);
	state_disk_commit(s, 1000, 2000, json_pack("{s:s}", "id",
	    "20260101T000000Z"));
	state_lease_set(s, "ctl", time(NULL) + 100);
	state_metrics(s, ready, &held, &down);
	ck_assert_int_eq(ready[0], 0);
	ck_assert_int_eq(ready[1], 1);
	ck_assert(held >= 30 && held < 40);
	ck_assert_int_eq(down, 1);

	o = state_json(s);
	ck_assert_str_eq(json_get_str(json_object_get(o, "lease"), "holder"),
	    "ctl");
	ck_assert_str_eq(json_get_str(json_object_get(o, "last_backup"), "id"),
	    "20260101T000000Z");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o,
	    "free_bytes"), "backup")), 2000);
	ck_assert(json_is_real(json_object_get(json_array_get(
	    json_object_get(o, "nodes"), 0), "probed_at")));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o,
	    "down_reasons"), 0)), "quorum: held by job j-5 (-), state stopped");
	json_decref(o);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *su = suite_create("state");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_not_probed_is_down);
	tcase_add_test(tc, test_reading_older_than_transition_dropped);
	tcase_add_test(tc, test_later_reading_wins);
	tcase_add_test(tc, test_start_requested_and_started);
	tcase_add_test(tc, test_phases);
	tcase_add_test(tc, test_hold_alone_is_down);
	tcase_add_test(tc, test_lease);
	tcase_add_test(tc, test_json_and_metrics);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return run_suite(state_suite(), "state");
}
