/* api: the HTTP API's handlers (one file per resource: h_*.c), which the
 * route table (routes.c) names, and the checks of the values requests
 * carry. Every handler answers through the reply helpers of http.h; long
 * work goes to a job, never on an HTTP thread. */
#ifndef QB_API_H
#define QB_API_H

#include "http.h"

/* Checks of the values requests carry, apart from the connection: the
 * handlers use them, and so does the HTTP fuzz test. */
/* A backup id (YYYYMMDDTHHMMSSZ[-N]), a legacy .tar.gz name, or with
 * latest_ok "latest": 1 when valid. */
int api_valid_id(const char *id, int latest_ok);
/* A job id ({id} of /v1/jobs/{id}): at most 64 of j T 0-9 Z -. */
int api_valid_job_id(const char *id);
/* A lease holder: 1..128 of A-Z a-z 0-9 - _ . : @. */
int api_valid_holder(const char *holder);
/* A flag: "1"/"true" or "0"/"false"; NULL (absent) is 0; else -1. */
int api_parse_bool(const char *v, int *out);
/* ?wait=S: a number of seconds from 0 to 3600; NULL is 0; else -1. */
int api_parse_wait(const char *v, double *out);
/* Whole seconds from min to max into *out; NULL leaves *out; else -1. */
int api_parse_seconds(const char *v, long long min, long long max,
    long long *out);

enum MHD_Result api_healthz(struct request *r);
enum MHD_Result api_readyz(struct request *r);
enum MHD_Result api_metrics(struct request *r);
enum MHD_Result api_status(struct request *r);
enum MHD_Result api_backups_list(struct request *r);
enum MHD_Result api_backup_get(struct request *r);
enum MHD_Result api_backup_archive(struct request *r);
enum MHD_Result api_backup_metadata(struct request *r);
enum MHD_Result api_backup_delete(struct request *r);
enum MHD_Result api_backup_verify(struct request *r);
enum MHD_Result api_backup_upload(struct request *r);
enum MHD_Result api_offsite_list(struct request *r);
enum MHD_Result api_offsite_verify(struct request *r);
enum MHD_Result api_offsite_prune(struct request *r);
enum MHD_Result api_prune(struct request *r);
enum MHD_Result api_archive(struct request *r);
enum MHD_Result api_unpack(struct request *r);
enum MHD_Result api_rollback(struct request *r);
enum MHD_Result api_jobs_list(struct request *r);
enum MHD_Result api_job_get(struct request *r);
enum MHD_Result api_history(struct request *r);
enum MHD_Result api_quiesce(struct request *r);
enum MHD_Result api_resume(struct request *r);
enum MHD_Result api_lease_take(struct request *r);
enum MHD_Result api_lease_release(struct request *r);

#endif
