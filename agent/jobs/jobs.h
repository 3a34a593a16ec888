/* jobs: the agent's long-running work, one mutating job at a time, on a
 * worker thread of its own (never on an HTTP thread).
 *
 * A job has an id ("j-<start time>-<n>"), a kind, a state (running,
 * succeeded, failed, interrupted), progress, and a result or an error. Its
 * record is persisted on the backup volume (<backup_dir>/member<N>/jobs/)
 * when it starts and when it ends, so that after a restart a job that was
 * running shows "interrupted". Finished jobs are appended to
 * member<N>/history.jsonl.
 *
 * An upload (an off-site copy) gives way: a quiesce, archive, unpack,
 * rollback or resume that is asked for while one runs cancels it (it ends
 * "interrupted"), runs, and the upload is started again after it. A job
 * may also queue follow-up jobs (the upload after an archive), which the
 * worker starts once nothing else is asked for. */
#ifndef QB_JOBS_H
#define QB_JOBS_H

#include <jansson.h>
#include <signal.h>
#include <time.h>

#include "agent_conf.h"
#include "err.h"
#include "ops.h"
#include "state.h"

enum job_kind {
	JOB_ARCHIVE, JOB_UNPACK, JOB_ROLLBACK, JOB_VERIFY, JOB_PRUNE,
	JOB_QUIESCE, JOB_RESUME, JOB_UPLOAD, JOB_OFFSITE_PRUNE,
	JOB_KIND_COUNT
};

struct jobs;

/* The function that does a job's work: fills *result (a JSON object) or
 * e. Runs on the worker thread. */
typedef int (*job_fn)(struct jobs *js, enum job_kind kind, json_t *params,
    const char *job_id, const struct op_hooks *hooks, json_t **result,
    struct err *e);

/* ctx: the caller's, handed back by jobs_ctx() to the job function.
 * state: the member's state model, told of each job's start, phase and
 * end (its current job is the one that runs here); not owned. */
struct jobs *jobs_new(const struct agent_conf *cf, struct state *state,
    job_fn run, void *ctx, struct err *e);
void *jobs_ctx(const struct jobs *js);
/* Stop accepting jobs, cancel the running one and wait until it has
 * ended (its cleanup done: partial files removed, nodes resumed).
 * Idempotent; jobs_free calls it too. */
void jobs_stop(struct jobs *js);
void jobs_free(struct jobs *js);

const char *job_kind_name(enum job_kind kind);
/* The configuration the jobs run with. */
const struct agent_conf *jobs_conf(const struct jobs *js);
/* What the running job does now, kept in the state model (whether the
 * member is down follows from it) and shown as "phase" in the job's JSON
 * while it runs. Called from the job function on the worker thread. */
void jobs_set_phase(struct jobs *js, enum job_phase phase);

/* Start a job in phase `phase` (what it does first: whether the member
 * counts as down from the moment it is accepted); ERR_BUSY when a job
 * runs (an upload is interrupted first for the kinds above, waiting up to
 * a minute for it to end). *job gets its JSON. */
int jobs_start(struct jobs *js, enum job_kind kind, json_t *params,
    enum job_phase phase, json_t **job, struct err *e);
/* ERR_BUSY, with the message jobs_start would give, when a job runs or
 * is about to (not for a running upload, which gives way); 0 otherwise.
 * For checks made before a start of a kind an upload gives way to. */
int jobs_check_free(struct jobs *js, struct err *e);
/* A job's JSON (NULL when unknown); waits up to wait_s seconds for it to
 * finish first. */
json_t *jobs_get(struct jobs *js, const char *id, double wait_s);
/* Recent jobs, newest first. */
json_t *jobs_list(struct jobs *js);
/* The running job's JSON, or NULL. */
json_t *jobs_current(struct jobs *js);
/* Finished jobs from history.jsonl, newest first (at most limit). */
json_t *jobs_history(struct jobs *js, size_t limit, struct err *e);
/* From the job function (worker thread): start a job of kind with params
 * (taken) once this one has ended and nothing else waits; phase as for
 * jobs_start. At most 8 are queued; more are dropped with a warning. */
void jobs_follow_up(struct jobs *js, enum job_kind kind, json_t *params,
    enum job_phase phase);
/* Off-site metrics: the end of the last successful upload (raised to
 * last_success by the seed, from the metadata at start; 0: none) and the
 * uploads that failed since the process started (interrupted ones do not
 * count). */
void jobs_offsite_seed(struct jobs *js, time_t last_success);
void jobs_offsite_stats(struct jobs *js, time_t *last_success,
    unsigned long long *failures);

/* Whether a job runs (or is about to). */
int jobs_busy(struct jobs *js);
/* The member's directory on the backup volume (<backup_dir>/member<N>,
 * where the job records, the history and the lease are kept), opened
 * without following a link: the volume may be shared and written by
 * others; backup_dir itself is the operator's. With create, made 0700
 * when missing. Returns the fd (the caller closes it); -1 with e
 * (ERR_NOT_FOUND when it does not exist). */
int jobs_member_dir(const struct jobs *js, int create, struct err *e);

#endif
