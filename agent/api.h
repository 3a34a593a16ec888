/* api: the HTTP API's handlers, grouped by resource, and the state they
 * share. Every handler answers through the reply helpers of http.h; long
 * work goes to jobs.c, never on an HTTP thread. */
#ifndef QB_API_H
#define QB_API_H

#include "agent_conf.h"
#include "http.h"
#include "jobs.h"

struct api {
	const struct agent_conf *cf;
	struct jobs *jobs;
};

/* The worker's job function: runs archive, unpack, rollback, verify and
 * prune through ops.c. */
int api_run_job(struct jobs *js, enum job_kind kind, json_t *params,
    const struct op_hooks *hooks, json_t **result, struct err *e);

enum MHD_Result api_healthz(struct request *r);
enum MHD_Result api_readyz(struct request *r);
enum MHD_Result api_metrics(struct request *r);
enum MHD_Result api_status(struct request *r);
enum MHD_Result api_backups_list(struct request *r);
enum MHD_Result api_backup_get(struct request *r);
enum MHD_Result api_backup_archive(struct request *r);
enum MHD_Result api_backup_delete(struct request *r);
enum MHD_Result api_backup_verify(struct request *r);
enum MHD_Result api_prune(struct request *r);
enum MHD_Result api_archive(struct request *r);
enum MHD_Result api_unpack(struct request *r);
enum MHD_Result api_rollback(struct request *r);
enum MHD_Result api_jobs_list(struct request *r);
enum MHD_Result api_job_get(struct request *r);
enum MHD_Result api_history(struct request *r);
enum MHD_Result api_not_yet(struct request *r);

#endif
