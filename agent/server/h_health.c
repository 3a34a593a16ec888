/* h_health: /healthz, /readyz and /metrics: no token, answered from the
 * state model and the jobs' records, never by calling out. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "json.h"

/* ---- health, readiness, metrics, status --------------------------------- */

enum MHD_Result
api_healthz(struct request *r)
{
	return reply_text(r, MHD_HTTP_OK, "text/plain", "ok\n");
}

enum MHD_Result
api_readyz(struct request *r)
{
	char reason[512];

	/* Ready exactly when the member is not down (state.h): every node
	 * running and ready, no hold, no job that stops, unpacks or starts
	 * the nodes. */
	if (state_down(r->m->state, reason, sizeof reason, NULL))
		return reply_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack(
		    "{s:b, s:s}", "ready", 0, "reason", reason));
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ready", 1));
}

/* The newest record of kind among the jobs (newest first) whose state
 * is want (NULL: any but running), or NULL. */
static json_t *
newest_job(json_t *list, const char *kind, const char *want)
{
	size_t i;
	json_t *j;

	json_array_foreach(list, i, j) {
		const char *k = json_get_str(j, "kind");
		const char *st = json_get_str(j, "state");

		if (!k || !st || strcmp(k, kind) != 0)
			continue;
		if (want ? strcmp(st, want) == 0 : strcmp(st, "running") != 0)
			return j;
	}
	return NULL;
}

/* The metrics of the jobs' records: last success, duration, counts, the
 * last archive's size. */
static void
metrics_jobs(FILE *f, json_t *list)
{
	static const char *const results[] = { "succeeded", "failed",
	    "interrupted" };
	json_t *j;
	size_t i;

	fprintf(f, "# HELP quorum_backup_last_success_timestamp_seconds End of "
	    "the last successful operation.\n"
	    "# TYPE quorum_backup_last_success_timestamp_seconds gauge\n");
	for (int k = 0; k < JOB_KIND_COUNT; k++) {
		struct tm tm;
		const char *started;

		if (!(j = newest_job(list, job_kind_name(k), "succeeded")))
			continue;
		started = json_get_str(j, "started");
		memset(&tm, 0, sizeof tm);
		if (strptime(started ? started : "", "%Y-%m-%dT%H:%M:%SZ", &tm))
			fprintf(f, "quorum_backup_last_success_timestamp_seconds"
			    "{operation=\"%s\"} %.0f\n", job_kind_name(k),
			    (double)timegm(&tm) + json_real_value(
			    json_object_get(j, "elapsed")));
	}
	fprintf(f, "# HELP quorum_backup_duration_seconds Duration of the last "
	    "operation of each kind.\n"
	    "# TYPE quorum_backup_duration_seconds gauge\n");
	for (int k = 0; k < JOB_KIND_COUNT; k++)
		if ((j = newest_job(list, job_kind_name(k), NULL)))
			fprintf(f, "quorum_backup_duration_seconds{operation=\"%s\"} "
			    "%.3f\n", job_kind_name(k), json_real_value(
			    json_object_get(j, "elapsed")));
	fprintf(f, "# HELP quorum_backup_operations_total Operations since the "
	    "agent started (recent jobs), by result.\n"
	    "# TYPE quorum_backup_operations_total counter\n");
	for (int k = 0; k < JOB_KIND_COUNT; k++)
		for (int res = 0; res < 3; res++) {
			long n = 0;

			json_array_foreach(list, i, j) {
				const char *kind = json_get_str(j, "kind");
				const char *st = json_get_str(j, "state");
				if (kind && st && strcmp(kind, job_kind_name(k)) == 0 &&
				    strcmp(st, results[res]) == 0)
					n++;
			}
			fprintf(f, "quorum_backup_operations_total{operation=\"%s\","
			    "result=\"%s\"} %ld\n", job_kind_name(k), results[res],
			    n);
		}
	if ((j = newest_job(list, "archive", "succeeded")))
		fprintf(f, "# HELP quorum_backup_archive_bytes Size of the last "
		    "archive.\n# TYPE quorum_backup_archive_bytes gauge\n"
		    "quorum_backup_archive_bytes %lld\n",
		    json_get_u(json_object_get(j, "result"), "size"));
}

/* The metrics of the state model: nodes up, held, the member down. -1
 * when out of memory. */
static int
metrics_state(FILE *f, struct member *a)
{
	int *ready = calloc(a->cf->n_nodes ? a->cf->n_nodes : 1, sizeof *ready);
	double held;
	int down;

	if (!ready)
		return -1;
	state_metrics(a->state, ready, &held, &down);
	fprintf(f, "# HELP quorum_backup_node_up 1 while the node runs and its "
	    "check passes.\n# TYPE quorum_backup_node_up gauge\n");
	for (size_t n = 0; n < a->cf->n_nodes; n++)
		if (ready[n] >= 0)
			fprintf(f, "quorum_backup_node_up{node=\"%s\"} %d\n",
			    a->cf->nodes[n]->name, ready[n]);
	fprintf(f, "# HELP quorum_backup_node_held_seconds How long the nodes "
	    "have been held stopped (0: not held).\n"
	    "# TYPE quorum_backup_node_held_seconds gauge\n"
	    "quorum_backup_node_held_seconds %.0f\n", held);
	fprintf(f, "# HELP quorum_backup_member_down 1 while the member is "
	    "down: a node not running and ready, a hold, or a job that stops, "
	    "unpacks or starts the nodes.\n"
	    "# TYPE quorum_backup_member_down gauge\n"
	    "quorum_backup_member_down %d\n", down);
	free(ready);
	return 0;
}

/* With [offsite] url set: the last copy (absent until one is made, so
 * that absent() tells a member that never had one) and the failures. */
static void
metrics_offsite(FILE *f, struct member *a)
{
	unsigned long long failures;
	time_t last;

	if (!a->cf->offsite_url || !a->cf->offsite_url[0])
		return;
	jobs_offsite_stats(a->jobs, &last, &failures);
	if (last > 0)
		fprintf(f, "# HELP quorum_backup_offsite_last_success_timestamp_"
		    "seconds End of the last off-site copy that succeeded.\n"
		    "# TYPE quorum_backup_offsite_last_success_timestamp_seconds "
		    "gauge\nquorum_backup_offsite_last_success_timestamp_seconds "
		    "%lld\n", (long long)last);
	fprintf(f, "# HELP quorum_backup_offsite_failures_total Off-site "
	    "uploads that failed since the agent started.\n"
	    "# TYPE quorum_backup_offsite_failures_total counter\n"
	    "quorum_backup_offsite_failures_total %llu\n", failures);
}

/* Prometheus text: from the jobs' recent records and the state model. */
enum MHD_Result
api_metrics(struct request *r)
{
	struct member *a = r->m;
	json_t *list = jobs_list(a->jobs);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	enum MHD_Result ret;
	int rc;

	if (!f) {
		json_decref(list);
		return MHD_NO;
	}
	metrics_jobs(f, list);
	fprintf(f, "# HELP quorum_backup_job_in_progress 1 while a job runs.\n"
	    "# TYPE quorum_backup_job_in_progress gauge\n"
	    "quorum_backup_job_in_progress %d\n", jobs_busy(a->jobs));
	metrics_offsite(f, a);
	rc = metrics_state(f, a);
	fclose(f);
	json_decref(list);
	ret = rc < 0 ? MHD_NO : reply_text(r, MHD_HTTP_OK,
	    "text/plain; version=0.0.4", buf);
	free(buf);
	return ret;
}
