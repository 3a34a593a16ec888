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

/* Prometheus text: from the jobs' recent records and the probed state. */
enum MHD_Result
api_metrics(struct request *r)
{
	struct member *a = r->m;
	json_t *list = jobs_list(a->jobs);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int busy = jobs_busy(a->jobs);
	size_t i;
	json_t *j;
	enum MHD_Result ret;

	if (!f) {
		json_decref(list);
		return MHD_NO;
	}
	fprintf(f, "# HELP quorum_backup_last_success_timestamp_seconds End of "
	    "the last successful operation.\n"
	    "# TYPE quorum_backup_last_success_timestamp_seconds gauge\n");
	for (int k = 0; k < JOB_KIND_COUNT; k++) {
		json_array_foreach(list, i, j) {
			const char *kind = json_get_str(j, "kind");
			const char *st = json_get_str(j, "state");
			struct tm tm;
			if (!kind || !st || strcmp(kind, job_kind_name(k)) != 0 ||
			    strcmp(st, "succeeded") != 0)
				continue;
			memset(&tm, 0, sizeof tm);
			if (strptime(json_get_str(j, "started") ?
			    json_get_str(j, "started") : "", "%Y-%m-%dT%H:%M:%SZ",
			    &tm)) {
				double end = (double)timegm(&tm) + json_real_value(
				    json_object_get(j, "elapsed"));
				fprintf(f, "quorum_backup_last_success_timestamp_seconds"
				    "{operation=\"%s\"} %.0f\n", kind, end);
			}
			break;
		}
	}
	fprintf(f, "# HELP quorum_backup_duration_seconds Duration of the last "
	    "operation of each kind.\n"
	    "# TYPE quorum_backup_duration_seconds gauge\n");
	for (int k = 0; k < JOB_KIND_COUNT; k++)
		json_array_foreach(list, i, j) {
			const char *kind = json_get_str(j, "kind");
			const char *st = json_get_str(j, "state");
			if (!kind || !st || strcmp(kind, job_kind_name(k)) != 0 ||
			    strcmp(st, "running") == 0)
				continue;
			fprintf(f, "quorum_backup_duration_seconds{operation=\"%s\"} "
			    "%.3f\n", kind, json_real_value(json_object_get(j,
			    "elapsed")));
			break;
		}
	fprintf(f, "# HELP quorum_backup_operations_total Operations since the "
	    "agent started (recent jobs), by result.\n"
	    "# TYPE quorum_backup_operations_total counter\n");
	for (int k = 0; k < JOB_KIND_COUNT; k++) {
		static const char *const results[] = { "succeeded", "failed",
		    "interrupted" };
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
			    "result=\"%s\"} %ld\n", job_kind_name(k), results[res], n);
		}
	}
	json_array_foreach(list, i, j) {
		const char *kind = json_get_str(j, "kind");
		const char *st = json_get_str(j, "state");
		if (kind && st && strcmp(kind, "archive") == 0 &&
		    strcmp(st, "succeeded") == 0) {
			fprintf(f, "# HELP quorum_backup_archive_bytes Size of the last "
			    "archive.\n# TYPE quorum_backup_archive_bytes gauge\n"
			    "quorum_backup_archive_bytes %lld\n",
			    json_get_u(json_object_get(j, "result"), "size"));
			break;
		}
	}
	fprintf(f, "# HELP quorum_backup_job_in_progress 1 while a job runs.\n"
	    "# TYPE quorum_backup_job_in_progress gauge\n"
	    "quorum_backup_job_in_progress %d\n", busy);
	{
		int *ready = calloc(a->cf->n_nodes ? a->cf->n_nodes : 1,
		    sizeof *ready), down;
		double held;

		if (!ready) {
			fclose(f);
			free(buf);
			json_decref(list);
			return MHD_NO;
		}
		state_metrics(a->state, ready, &held, &down);
		fprintf(f, "# HELP quorum_backup_node_up 1 while the node runs "
		    "and its check passes.\n# TYPE quorum_backup_node_up "
		    "gauge\n");
		for (size_t n = 0; n < a->cf->n_nodes; n++)
			if (ready[n] >= 0)
				fprintf(f, "quorum_backup_node_up{node=\"%s\"} %d\n",
				    a->cf->nodes[n]->name, ready[n]);
		fprintf(f, "# HELP quorum_backup_node_held_seconds How long the "
		    "nodes have been held stopped (0: not held).\n"
		    "# TYPE quorum_backup_node_held_seconds gauge\n"
		    "quorum_backup_node_held_seconds %.0f\n", held);
		fprintf(f, "# HELP quorum_backup_member_down 1 while the member "
		    "is down: a node not running and ready, a hold, or a job "
		    "that stops, unpacks or starts the nodes.\n"
		    "# TYPE quorum_backup_member_down gauge\n"
		    "quorum_backup_member_down %d\n", down);
		free(ready);
	}
	fclose(f);
	json_decref(list);
	ret = reply_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4", buf);
	free(buf);
	return ret;
}
