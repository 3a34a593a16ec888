/* member: the agent's runtime for its member, what the HTTP handlers and
 * the job worker share: the configuration, the job runner (jobs.h), the
 * member's state model (state.h) with the background prober that
 * refreshes it, the facts a quiesce read, and the controller's lease.
 * No HTTP knowledge: agent/server/ is built on this. */
#ifndef QB_MEMBER_H
#define QB_MEMBER_H

#include <jansson.h>
#include <pthread.h>
#include <time.h>

#include "agent_conf.h"
#include "err.h"
#include "jobs.h"
#include "nodes.h"
#include "state.h"

struct member {
	const struct agent_conf *cf;
	struct jobs *jobs;
	/* The one account of its nodes, its current job and its lease,
	 * which /readyz, /metrics, /v1/status and the jobs read. */
	struct state *state;
	/* The background prober (every ~2 s) refreshes it. */
	pthread_mutex_t mu;              /* quit, cv, facts */
	pthread_cond_t cv;
	pthread_t prober;
	int prober_started, quit;
	json_t *facts;                   /* read by the last quiesce, for the
	                                  * archives made until the resume */
	/* Serializes lease changes and their writes to lease.json, which
	 * happen outside the state's lock (an fsync must not hold up
	 * /readyz); a handler that checks the lease and then acts (starts a
	 * job, deletes a backup) holds it across both. */
	pthread_mutex_t lease_mu;
};

/* Validate the nodes, start the job worker, restore a live lease from
 * disk and start the prober (which resumes nodes whose hold belongs to an
 * interrupted job, and any whose hold expired). member_fini releases what
 * a failed member_init took too. */
int member_init(struct member *m, const struct agent_conf *cf,
    struct err *e);
void member_fini(struct member *m);

/* ---- the job function (run.c) ---- */

/* The worker's job function: archive (with quiesce), unpack, rollback,
 * verify, prune, quiesce and resume, through ops and the node client. */
int member_run_job(struct jobs *js, enum job_kind kind, json_t *params,
    const char *job_id, const struct op_hooks *hooks, json_t **result,
    struct err *e);

/* ---- the prober (prober.c) ---- */

/* Start and stop the background thread. */
int prober_start(struct member *m, struct err *e);
void prober_stop(struct member *m);
/* Read node i now and store the reading in the state model, unless a
 * job's step (or a later reading) came in meanwhile; the gate within
 * gate_timeout, the node's check within check_timeout seconds. memo: the
 * prober's, or NULL. */
void member_refresh_node(struct member *m, size_t i,
    struct node_probe_memo *memo, double gate_timeout, double check_timeout);

/* ---- the lease (lease.c) ---- */

/* A live lease from member<N>/lease.json holds again (at start). */
void lease_load(struct member *m);
/* Take or renew the lease for holder for ttl seconds (with lease_mu
 * held): ERR_LEASED when another holder's is live, its name in the
 * message. *expires gets the new expiry. */
int lease_take(struct member *m, const char *holder, long long ttl,
    time_t *expires, struct err *e);
/* Release it (with lease_mu held): ERR_LEASED when another holder's is
 * live and holder (NULL: none given) is not it. */
int lease_release(struct member *m, const char *holder, struct err *e);
/* 1 when another holder's lease is live (holder: the caller's, NULL for
 * none): mutating calls are refused. who gets the holder's name. */
int lease_other(struct member *m, const char *holder, char *who,
    size_t size);
/* A lease holder's name: 1..128 of A-Z a-z 0-9 - _ . : @. */
int lease_holder_valid(const char *holder);
/* The refusal's error: ERR_LEASED naming who holds it. */
int lease_refuse(const char *who, struct err *e);

#endif
