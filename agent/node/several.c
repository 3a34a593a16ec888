/* several: the nodes of a member together: stopped in order, started in
 * reverse, waited for, with a watcher told of each step. */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "log.h"
#include "node_int.h"

/* ---- several nodes -------------------------------------------------- */

/* Tell w of event ev on node i; with a probe of the node made now when
 * probe is set (the watcher may take the snapshot over). */
static void
notify(const struct node_watch *w, const struct node_def *n, size_t i,
    enum node_event ev, int probe)
{
	struct node_state st;

	if (!w || !w->fn)
		return;
	if (!probe) {
		w->fn(w->arg, i, ev, NULL);
		return;
	}
	node_probe_within(n, &st, 1, NULL, NODE_PROBE_GATE_TIMEOUT,
	    NODE_PROBE_CHECK_TIMEOUT);
	w->fn(w->arg, i, ev, &st);
	node_state_clear(&st);
}

/* node_stop, with the watcher told before and after. */
static int
stop_one(struct node_def *const *nodes, size_t i, const char *job,
    long long until, const char *reason, const struct node_watch *w,
    struct err *e)
{
	int rc;

	notify(w, nodes[i], i, NODE_EV_STOP_REQUESTED, 0);
	rc = node_stop(nodes[i], job, until, reason, e);
	notify(w, nodes[i], i, rc == 0 ? NODE_EV_STOPPED : NODE_EV_FAILED, 1);
	return rc;
}

/* node_start, with the watcher told before and after. */
static int
start_one(struct node_def *const *nodes, size_t i, const struct node_watch *w,
    struct err *e)
{
	int rc;

	notify(w, nodes[i], i, NODE_EV_START_REQUESTED, 0);
	rc = node_start(nodes[i], e);
	notify(w, nodes[i], i, rc == 0 ? NODE_EV_STARTED : NODE_EV_FAILED, 1);
	return rc;
}

int
nodes_stop_all(struct node_def *const *nodes, size_t n, const char *job,
    long long until, const char *reason, const struct node_watch *w,
    struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (stop_one(nodes, i, job, until, reason, w, e) == 0)
			continue;
		/* Resume: the failed one first (it may have stopped after
		 * all), then those stopped before it, in reverse. */
		for (size_t k = i + 1; k-- > 0;) {
			struct err se;

			if (start_one(nodes, k, w, &se) < 0)
				log_warn("node_resume_failed", "node=%s "
				    "error=%s", logq(nodes[k]->name),
				    logq(se.msg));
		}
		return -1;
	}
	return 0;
}

int
nodes_start_all(struct node_def *const *nodes, size_t n,
    const struct node_watch *w, struct err *e)
{
	int rc = 0;

	for (size_t k = n; k-- > 0;) {
		struct err se;

		if (start_one(nodes, k, w, &se) < 0 && rc == 0) {
			if (e)
				*e = se;
			rc = -1;
		}
	}
	return rc;
}

int
nodes_wait_ready(struct node_def *const *nodes, size_t n, double timeout_s,
    const struct node_watch *w, struct err *e)
{
	double t0 = qb_mono_now(), deadline = t0 + timeout_s;

	for (;;) {
		struct node_state st;
		size_t bad = n;
		char reason[sizeof st.reason];
		double left;

		for (size_t i = 0; i < n && bad == n; i++) {
			/* With a watcher, the validator facts too: what it is
			 * told replaces what it knew of the node. */
			if (!node_probe_within(nodes[i], &st, w != NULL, NULL,
			    NODE_PROBE_GATE_TIMEOUT, NODE_PROBE_CHECK_TIMEOUT)) {
				bad = i;
				memcpy(reason, st.reason, sizeof reason);
			}
			if (w && w->fn)
				w->fn(w->arg, i, NODE_EV_PROBED, &st);
			node_state_clear(&st);
		}
		if (bad == n) {
			log_info("nodes_ready", "nodes=%zu seconds=%.3f", n,
			    qb_mono_now() - t0);
			return 0;
		}
		if (qb_mono_now() >= deadline) {
			err_set(e, ERR_FAILED, "%s: not ready after %g s: %s",
			    nodes[bad]->name, timeout_s, reason);
			node_err_append_logs(nodes[bad], e);
			return -1;
		}
		left = deadline - qb_mono_now();
		qb_sleep(left < 0.5 ? left : 0.5);
	}
}
