/* h_jobs: jobs and the history of finished ones. */
#include "config.h"

#include "handlers.h"

/* ---- jobs, history ------------------------------------------------------- */

enum MHD_Result
api_jobs_list(struct request *r)
{
	return reply_json(r, MHD_HTTP_OK, jobs_list(r->m->jobs));
}

enum MHD_Result
api_job_get(struct request *r)
{
	double wait_s;
	json_t *job;

	if (wait_arg(r, &wait_s) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "wait must be a number of seconds from 0 to 3600");
	if (!api_valid_job_id(r->id))
		return reply_fail(r, ERR_BAD_REQUEST, "not a job id");
	if (!(job = jobs_get(r->m->jobs, r->id, wait_s)))
		return reply_fail(r, ERR_NOT_FOUND, "no such job");
	return reply_json(r, MHD_HTTP_OK, job);
}

enum MHD_Result
api_history(struct request *r)
{
	struct err e;
	json_t *h;

	err_clear(&e);
	if (!(h = jobs_history(r->m->jobs, 1000, &e)))
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, h);
}
