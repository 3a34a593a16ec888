/* routes: the HTTP API's route table, in the order the handlers' files
 * take them (h_health, h_status, h_backups, h_nodes, h_jobs, h_lease), and
 * its matching, apart from libmicrohttpd: dispatch uses it, and so does
 * the HTTP fuzz test. */
#include "config.h"

#include <string.h>

#include "api.h"
#include "http.h"

static const struct http_route routes[] = {
	{ "GET", "/healthz", api_healthz, 0 },
	{ "GET", "/readyz", api_readyz, 0 },
	{ "GET", "/metrics", api_metrics, 0 },
	{ "GET", "/v1/status", api_status, 1 },
	{ "GET", "/v1/backups", api_backups_list, 1 },
	{ "GET", "/v1/backups/{id}", api_backup_get, 1 },
	{ "DELETE", "/v1/backups/{id}", api_backup_delete, 1 },
	{ "GET", "/v1/backups/{id}/archive", api_backup_archive, 1 },
	{ "GET", "/v1/backups/{id}/metadata", api_backup_metadata, 1 },
	{ "POST", "/v1/backups/{id}/verify", api_backup_verify, 1 },
	{ "POST", "/v1/backups/{id}/upload", api_backup_upload, 1 },
	{ "POST", "/v1/prune", api_prune, 1 },
	{ "GET", "/v1/offsite/backups", api_offsite_list, 1 },
	{ "POST", "/v1/offsite/backups/{id}/verify", api_offsite_verify, 1 },
	{ "POST", "/v1/offsite/prune", api_offsite_prune, 1 },
	{ "POST", "/v1/archive", api_archive, 1 },
	{ "POST", "/v1/unpack", api_unpack, 1 },
	{ "POST", "/v1/rollback", api_rollback, 1 },
	{ "GET", "/v1/jobs", api_jobs_list, 1 },
	{ "GET", "/v1/jobs/{id}", api_job_get, 1 },
	{ "GET", "/v1/history", api_history, 1 },
	{ "POST", "/v1/quiesce", api_quiesce, 1 },
	{ "POST", "/v1/resume", api_resume, 1 },
	{ "POST", "/v1/lease", api_lease_take, 1 },
	{ "DELETE", "/v1/lease", api_lease_release, 1 },
};

/* Match path against pattern; *id gets the {id} segment (in buf). */
static int
match(const char *pattern, const char *path, char *buf, size_t size,
    const char **id)
{
	*id = NULL;
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= size)
				return 0;
			memcpy(buf, path, n);
			buf[n] = '\0';
			*id = buf;
			pattern += 4;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

enum http_match
http_route_match(const char *method, const char *path, char *idbuf,
    size_t size, const struct http_route **route, const char **id)
{
	int path_known = 0;

	*route = NULL;
	*id = NULL;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *rid;
		if (!match(routes[i].pattern, path, idbuf, size, &rid))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, method) != 0)
			continue;
		*route = &routes[i];
		*id = rid;
		return HTTP_ROUTE_FOUND;
	}
	if (path_known)
		return HTTP_ROUTE_WRONG_METHOD;
	/* libmicrohttpd decodes %2F: "..%2F..%2Fetc" arrives as more path
	 * segments. Below a resource that takes an id, that is a bad id. */
	if (strncmp(path, "/v1/backups/", 12) == 0 ||
	    strncmp(path, "/v1/jobs/", 9) == 0)
		return HTTP_ROUTE_BAD_ID;
	return HTTP_ROUTE_NOT_FOUND;
}
