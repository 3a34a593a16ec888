/* jobstart: the one way a handler starts a job: the lease check and the
 * start in one step, the request-time refusal of jobs that need the nodes
 * stopped, 202 with Location (or 200 when ?wait=S saw it end). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "locks.h"

int
leased_to_other(struct request *r, char *who, size_t size)
{
	return lease_other(r->m, holder_of(r), who, size);
}

enum MHD_Result
reply_leased(struct request *r, const char *who)
{
	struct err e;

	lease_refuse(who, &e);
	return reply_err(r, &e);
}

/* ERR_NODE_RUNNING unless every node is stopped now, by its gate's state
 * (asked now, over its socket) and by the lock files (none held by
 * another process): what archive (without quiesce), unpack and rollback
 * need. `what` names the job for the message. */
static int
nodes_stopped_now(const struct agent_conf *cf, const char *what,
    struct err *e)
{
	struct lockset ls;

	for (size_t i = 0; i < cf->n_nodes; i++) {
		const struct node_def *n = cf->nodes[i];
		const char *st;
		json_t *rep;
		struct err ge;
		int stopped;

		if (node_gate_request(n, "status", NODE_PROBE_GATE_TIMEOUT, &rep,
		    &ge) < 0)
			return err_set(e, ERR_NODE_RUNNING, "%s needs the nodes "
			    "stopped, and whether %s is cannot be told: %s", what,
			    n->name, ge.msg);
		st = json_get_str(rep, "state");
		stopped = json_is_true(json_object_get(rep, "ok")) && st &&
		    strcmp(st, "stopped") == 0;
		if (!stopped) {
			err_set(e, ERR_NODE_RUNNING, "%s needs the nodes stopped, "
			    "and %s is %s: POST /v1/quiesce first%s", what, n->name,
			    st ? st : "in an unknown state",
			    strcmp(what, "archive") == 0 ? ", or use "
			    "archive?quiesce=1" : "");
			json_decref(rep);
			return -1;
		}
		json_decref(rep);
	}
	if (lockset_acquire(&ls, cf->data_dir, cf->lock_files.v,
	    cf->lock_files.n, e) < 0) {
		err_prefix(e, "%s needs the nodes stopped", what);
		return -1;
	}
	lockset_release(&ls);
	return 0;
}

/* Start a job in phase `phase` (what it does first); 202 with Location,
 * or 200 when ?wait=S saw it finish. need: NEED_STOPPED refuses at once,
 * with 409 node_running and no job, while a node is not stopped (the job
 * checks again, as the node may start in between). */
enum MHD_Result
start_job(struct request *r, enum job_kind kind, json_t *params,
    enum job_phase phase, enum job_need need)
{
	json_t *job = NULL;
	struct err e;
	double wait_s;
	char location[128], who[160];
	const char *state;

	if (wait_arg(r, &wait_s) < 0) {
		json_decref(params);
		return reply_fail(r, ERR_BAD_REQUEST, "wait must be a number of seconds from 0 to 3600");
	}
	err_clear(&e);
	if (need == NEED_STOPPED) {
		/* Leased, then busy, before asking the nodes: those answers
		 * say more than "the node runs" would. */
		if (leased_to_other(r, who, sizeof who)) {
			json_decref(params);
			return reply_leased(r, who);
		}
		if (jobs_check_free(r->m->jobs, &e) < 0 ||
		    nodes_stopped_now(r->m->cf, job_kind_name(kind), &e) < 0) {
			json_decref(params);
			return reply_err(r, &e);
		}
	}
	/* The lease check and the start are one step: no lease is taken
	 * between them. */
	pthread_mutex_lock(&r->m->lease_mu);
	if (kind != JOB_VERIFY && leased_to_other(r, who, sizeof who)) {
		pthread_mutex_unlock(&r->m->lease_mu);
		json_decref(params);
		return reply_leased(r, who);
	}
	if (jobs_start(r->m->jobs, kind, params, phase, &job, &e) < 0) {
		pthread_mutex_unlock(&r->m->lease_mu);
		json_decref(params);
		return reply_err(r, &e);
	}
	pthread_mutex_unlock(&r->m->lease_mu);
	json_decref(params);
	snprintf(location, sizeof location, "/v1/jobs/%s", json_get_str(job, "id"));
	if (wait_s > 0) {
		json_t *done = jobs_get(r->m->jobs, json_get_str(job, "id"), wait_s);
		if (done) {
			json_decref(job);
			job = done;
		}
	}
	state = json_get_str(job, "state");
	unsigned status = state && strcmp(state, "running") != 0 ?
	    MHD_HTTP_OK : MHD_HTTP_ACCEPTED;
	char *text = json_dumps(job, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	json_decref(job);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}
