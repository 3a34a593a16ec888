/* state: the member's state model, the one place that says how the member
 * is. Per node: the gate's state, held, hold, readiness, height, syncing,
 * peers, the validator facts (struct node_state). Per member: the current
 * job, its phase and whether that phase takes the node down, the lease,
 * and the free space and last backup the prober reads.
 *
 * Who writes it:
 * - the jobs, synchronously, at every transition they cause (stop
 *   requested, stopped, start requested, started, each readiness probe;
 *   the job's start, phase and end): state_node_event, state_job_*;
 * - the background prober and GET /v1/status?fresh=1 refresh it with
 *   readings (state_node_begin, then state_node_commit): a reading that
 *   began before a job's transition is older than it and is dropped.
 * Who reads it: /v1/status, /readyz, /metrics and the jobs, each in one
 * snapshot under its mutex. Nothing else keeps a copy.
 *
 * "Down" has one definition (state_down): a node not running and ready, a
 * hold, or a job in a phase that stops, unpacks or starts the node.
 *
 * Thread-safe; the lock is never held while a node is asked anything. */
#ifndef QB_STATE_H
#define QB_STATE_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "agent_conf.h"
#include "nodes.h"

/* What a job is doing now. Each phase says whether the member is down
 * meanwhile (state_phase_down). */
enum job_phase {
	PHASE_NONE,              /* no job, or one with no phase yet */
	PHASE_READING_FACTS,     /* down: the first step of a stop */
	PHASE_STOPPING,          /* down */
	PHASE_ARCHIVING,         /* up by itself: the nodes it archives are
	                          * stopped and held already (the hold says
	                          * down) */
	PHASE_UNPACKING,         /* down */
	PHASE_ROLLING_BACK,      /* down */
	PHASE_STARTING,          /* down */
	PHASE_WAITING_READY,     /* down */
	PHASE_VERIFYING,         /* up: reads a backup only */
	PHASE_PRUNING,           /* up */
	PHASE_UPLOADING,         /* up: copies a backup off-site */
	PHASE_COUNT
};

/* The phase as shown in a job's JSON ("stopping", ...); NULL for
 * PHASE_NONE. */
const char *state_phase_name(enum job_phase p);
/* 1 when a job in phase p keeps the member down. */
int state_phase_down(enum job_phase p);

struct state;

/* A state for cf's nodes, all "not probed yet"; NULL when out of memory. */
struct state *state_new(const struct agent_conf *cf);
void state_free(struct state *s);

/* ---- nodes ---------------------------------------------------------- */

/* A reading of node i: take a ticket before asking the node, then commit
 * what it answered (taken over from *st, which is left empty). The commit
 * is dropped when what the state holds began later: a job's transition
 * that came in between, or a reading begun after this one. Returns 1 when
 * stored, 0 when dropped. */
unsigned long state_node_begin(struct state *s, size_t i);
int state_node_commit(struct state *s, size_t i, unsigned long ticket,
    struct node_state *st);

/* A transition a job causes (the node_watch callback of
 * nodes_stop_all/start_all/wait_ready: arg is the state). *_REQUESTED
 * mark the node as on its way down or up, at once; the others store the
 * probe made after the step, unconditionally. */
void state_node_event(void *arg, size_t i, enum node_event ev,
    struct node_state *st);

/* ---- the current job ------------------------------------------------ */

/* A job was accepted (it may not run yet): id, its kind's name (static),
 * and the phase it starts in. */
void state_job_begin(struct state *s, const char *id, const char *kind,
    enum job_phase phase);
void state_job_phase(struct state *s, enum job_phase phase);
/* The job ended (its final state is recorded): no current job. */
void state_job_end(struct state *s, const char *id);
/* The current job's phase name, NULL when none or no phase. */
const char *state_job_phase_name(struct state *s);

/* ---- the lease ------------------------------------------------------ */

/* The live lease's holder into holder (size bytes) and its expiry; 0 and
 * "" when there is none. */
time_t state_lease(struct state *s, char *holder, size_t size);
/* Set (holder, until) or clear ("" or NULL) the lease. */
void state_lease_set(struct state *s, const char *holder, time_t until);

/* ---- disk ----------------------------------------------------------- */

/* The prober's reading of free space and the newest complete backup
 * (last: id, created, size; taken over; NULL for none). */
void state_disk_commit(struct state *s, uint64_t free_data,
    uint64_t free_backup, json_t *last);

/* ---- reading -------------------------------------------------------- */

/* Whether the member is down, and why: the first reason into why (size
 * bytes, "" when up). reasons (NULL: not wanted) gets every reason as a
 * new JSON array. */
int state_down(struct state *s, char *why, size_t size, json_t **reasons);

/* 1 when every node has been read at least once. */
int state_probed(struct state *s);

/* Copies of node i's snapshot fields a job or the prober needs: held,
 * and the hold's job and until (job "" when none). */
int state_node_hold(struct state *s, size_t i, char *job, size_t size,
    long long *until);

/* The state as /v1/status shows it, in one snapshot: "nodes" (each with
 * its own "probed_at"), "lease", "last_backup", "free_bytes",
 * "probed_at" (the oldest node reading; the disk reading's when no node
 * is configured; null before the first), "down" and "down_reasons". */
json_t *state_json(struct state *s);

/* For /metrics: per node ready (1/0; -1 before the first reading) into
 * ready[0..n_nodes), the longest a node has been held (seconds, 0: none),
 * and down. */
void state_metrics(struct state *s, int *ready, double *held_seconds,
    int *down);

#endif
