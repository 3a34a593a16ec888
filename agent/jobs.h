/* jobs: the agent's long-running work, one mutating job at a time, on a
 * worker thread of its own (never on an HTTP thread).
 *
 * A job has an id ("j-<start time>-<n>"), a kind, a state (running,
 * succeeded, failed, interrupted), progress, and a result or an error. Its
 * record is persisted on the backup volume (<backup_dir>/member<N>/jobs/)
 * when it starts and when it ends, so that after a restart a job that was
 * running shows "interrupted". Finished jobs are appended to
 * member<N>/history.jsonl. */
#ifndef QB_JOBS_H
#define QB_JOBS_H

#include <jansson.h>
#include <signal.h>

#include "agent_conf.h"
#include "err.h"
#include "ops.h"

enum job_kind {
	JOB_ARCHIVE, JOB_UNPACK, JOB_ROLLBACK, JOB_VERIFY, JOB_PRUNE,
	JOB_QUIESCE, JOB_RESUME,
	JOB_KIND_COUNT
};

struct jobs;

/* The function that does a job's work: fills *result (a JSON object) or
 * e. Runs on the worker thread. */
typedef int (*job_fn)(struct jobs *js, enum job_kind kind, json_t *params,
    const char *job_id, const struct op_hooks *hooks, json_t **result,
    struct err *e);

/* ctx: the caller's, handed back by jobs_ctx() to the job function. */
struct jobs *jobs_new(const struct agent_conf *cf, job_fn run, void *ctx,
    struct err *e);
void *jobs_ctx(const struct jobs *js);
/* Stop accepting jobs, cancel the running one and wait until it has
 * ended (its cleanup done: partial files removed, nodes resumed).
 * Idempotent; jobs_free calls it too. */
void jobs_stop(struct jobs *js);
void jobs_free(struct jobs *js);

const char *job_kind_name(enum job_kind kind);
/* The configuration the jobs run with. */
const struct agent_conf *jobs_conf(const struct jobs *js);
/* What the running job does now, shown as "phase" in its JSON while it
 * runs: a static string ("stopping", "archiving", "starting", ...). Called
 * from the job function on the worker thread. */
void jobs_set_phase(struct jobs *js, const char *phase);

/* Start a job; ERR_BUSY when a mutating job runs. *job gets its JSON. */
int jobs_start(struct jobs *js, enum job_kind kind, json_t *params,
    json_t **job, struct err *e);
/* A job's JSON (NULL when unknown); waits up to wait_s seconds for it to
 * finish first. */
json_t *jobs_get(struct jobs *js, const char *id, double wait_s);
/* Recent jobs, newest first. */
json_t *jobs_list(struct jobs *js);
/* The running job's JSON, or NULL. */
json_t *jobs_current(struct jobs *js);
/* Finished jobs from history.jsonl, newest first (at most limit). */
json_t *jobs_history(struct jobs *js, size_t limit, struct err *e);
/* Whether a job runs (or is about to). */
int jobs_busy(struct jobs *js);
/* Whether the running job is of this kind. */
int jobs_running_kind(struct jobs *js, enum job_kind kind);

#endif
