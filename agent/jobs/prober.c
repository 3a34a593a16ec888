/* prober: the background thread that refreshes the member's state model
 * every ~2 s (each node, free space, the newest backup) and resumes nodes
 * whose hold nobody owns any more. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "member.h"
#include "store.h"

/* ---- the background prober ---------------------------------------------- */

/* A resume of ours that failed is tried again after this long, not at
 * every probe. */
#define AUTO_RESUME_RETRY_S 10

/* Start a resume job for a hold nobody owns. last_job (size bytes) and
 * *last_at: the previous one of these, so that one that failed is not
 * repeated sooner than AUTO_RESUME_RETRY_S. */
static void
maybe_resume(struct member *a, const char *why, char *last_job, size_t size,
    time_t *last_at)
{
	json_t *job = NULL, *params;
	struct err e;
	int rc;

	if (last_job[0] && time(NULL) - *last_at < AUTO_RESUME_RETRY_S) {
		json_t *prev = jobs_get(a->jobs, last_job, 0);
		const char *st = json_get_str(prev, "state");
		int failed = st && strcmp(st, "succeeded") != 0;

		json_decref(prev);
		if (failed)
			return;
	}
	params = json_pack("{s:s}", "reason", why);
	rc = jobs_start(a->jobs, JOB_RESUME, params, PHASE_STARTING, &job, &e);
	json_decref(params);   /* the job holds its own reference */
	if (rc == 0) {
		const char *id = json_get_str(job, "id");

		log_warn("auto_resume", "reason=%s job=%s", logq(why),
		    id ? id : "?");
		snprintf(last_job, size, "%s", id ? id : "");
		*last_at = time(NULL);
		json_decref(job);
	}
}

/* A hold nobody owns any more: an expired one, or (at start) one whose
 * job did not survive the agent's restart. Its description into why
 * (size bytes); 0 when every hold has an owner. */
static int
unowned_hold(struct member *a, char *why, size_t size)
{
	const struct agent_conf *cf = a->cf;

	if (jobs_busy(a->jobs))
		return 0;
	for (size_t i = 0; i < cf->n_nodes; i++) {
		char hjob[160];
		long long hu;
		json_t *j;
		const char *st, *kind;
		int unowned;

		if (!state_node_hold(a->state, i, hjob, sizeof hjob, &hu))
			continue;
		if (hu > 0 && hu < (long long)time(NULL)) {
			snprintf(why, size, "the hold of %s expired",
			    cf->nodes[i]->name);
			return 1;
		}
		if (!hjob[0])
			continue;
		/* A job holds the nodes only while it runs, except a quiesce
		 * that succeeded (its hold lasts until a resume or its
		 * expiry): a hold left by any other job that ended (failed,
		 * or interrupted by the agent's death) has no owner. */
		j = jobs_get(a->jobs, hjob, 0);
		st = json_get_str(j, "state");
		kind = json_get_str(j, "kind");
		unowned = st && kind && strcmp(st, "running") != 0 &&
		    (strcmp(kind, "quiesce") != 0 || strcmp(st, "succeeded") != 0);
		if (unowned)
			snprintf(why, size, "job %s holding %s was %s", hjob,
			    cf->nodes[i]->name, st);
		json_decref(j);
		if (unowned)
			return 1;
	}
	return 0;
}

/* The newest complete backup (id, created, size, encrypted and to which
 * recipients), or NULL. */
static json_t *
read_last_backup(const struct agent_conf *cf)
{
	struct store bs;
	struct backup_info lb;
	struct err e;
	char created[32];
	json_t *o, *meta, *fps;

	if (store_open(&bs, cf->backup_dir, cf->member, 0, &e) < 0 ||
	    store_find(&bs, "latest", &lb, &e) < 0)
		return NULL;
	store_format_time(lb.created, created, sizeof created);
	o = json_pack("{s:s, s:s, s:I, s:b}", "id", lb.id, "created", created,
	    "size", (json_int_t)lb.size, "encrypted", lb.encrypted);
	meta = store_summary(&bs, &lb, &e);   /* cached: no entry list read */
	fps = json_object_get(json_object_get(meta, "encryption"),
	    "recipients");
	json_object_set_new(o, "recipients", fps ? json_incref(fps) :
	    json_array());
	json_decref(meta);
	return o;
}

/* Read node i now and store the reading in the state model, unless a job's
 * transition (or a later reading) came in meanwhile. */
void
member_refresh_node(struct member *a, size_t i, struct node_probe_memo *memo,
    double gate_timeout, double check_timeout)
{
	struct node_state st;
	unsigned long ticket = state_node_begin(a->state, i);

	node_probe_within(a->cf->nodes[i], &st, 1, memo, gate_timeout,
	    check_timeout);
	state_node_commit(a->state, i, ticket, &st);
}

static void *
prober_main(void *arg)
{
	struct member *a = arg;
	const struct agent_conf *cf = a->cf;
	char last_auto[64] = "";   /* the last resume started here */
	time_t last_auto_at = 0;
	/* The methods each node lacks, so that they are not asked every 2 s;
	 * this thread's alone (NULL when out of memory: always ask). */
	struct node_probe_memo *memo = calloc(cf->n_nodes ? cf->n_nodes : 1,
	    sizeof *memo);

	for (;;) {
		uint64_t fd = 0, fb = 0;
		struct err e;
		char why[256];
		struct timespec until;
		int quit;

		for (size_t i = 0; i < cf->n_nodes; i++)
			member_refresh_node(a, i, memo ? &memo[i] : NULL,
			    NODE_PROBE_GATE_TIMEOUT, NODE_PROBE_CHECK_TIMEOUT);
		fs_free_bytes(cf->data_dir, &fd, &e);
		fs_free_bytes(cf->backup_dir, &fb, &e);
		state_disk_commit(a->state, fd, fb, read_last_backup(cf));
		if (unowned_hold(a, why, sizeof why))
			maybe_resume(a, why, last_auto, sizeof last_auto,
			    &last_auto_at);

		pthread_mutex_lock(&a->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 2;
		while (!a->quit && pthread_cond_timedwait(&a->cv, &a->mu, &until) !=
		    ETIMEDOUT)
			;
		quit = a->quit;
		pthread_mutex_unlock(&a->mu);
		if (quit)
			break;
	}
	free(memo);
	return NULL;
}

int
prober_start(struct member *m, struct err *e)
{
	if (pthread_create(&m->prober, NULL, prober_main, m) != 0)
		return err_set(e, ERR_FAILED, "cannot start the prober thread");
	m->prober_started = 1;
	return 0;
}

void
prober_stop(struct member *m)
{
	if (!m->prober_started)
		return;
	pthread_mutex_lock(&m->mu);
	m->quit = 1;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->prober, NULL);
	m->prober_started = 0;
}
