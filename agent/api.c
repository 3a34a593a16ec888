#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "ops.h"
#include "store.h"

/* ---- jobs: what the worker runs ---------------------------------------- */

int
api_run_job(struct jobs *js, enum job_kind kind, json_t *params,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	const struct agent_conf *cf = jobs_conf(js);

	*result = NULL;
	switch (kind) {
	case JOB_ARCHIVE: {
		struct archive_result r;
		json_t *pruned = NULL;
		if (op_archive(cf, hooks, &r, &pruned, e) < 0)
			return -1;
		*result = json_pack("{s:s, s:I, s:I, s:I, s:s, s:f, s:o}", "backup",
		    r.id, "size", (json_int_t)r.size, "bytes", (json_int_t)r.bytes,
		    "files", (json_int_t)r.files, "sha256", r.sha256,
		    "seconds", r.seconds, "pruned", pruned ? pruned : json_array());
		return 0;
	}
	case JOB_UNPACK: {
		struct unpack_opts u;
		struct unpack_result r;
		memset(&u, 0, sizeof u);
		u.id = json_get_str(params, "backup");
		u.force = json_is_true(json_object_get(params, "force"));
		u.in_place = json_is_true(json_object_get(params, "in_place"));
		if (op_unpack(cf, &u, hooks, &r, e) < 0)
			return -1;
		*result = json_pack("{s:s, s:I, s:I, s:b, s:b, s:f}", "backup",
		    r.backup.id, "files", (json_int_t)r.v.files,
		    "bytes", (json_int_t)r.v.bytes, "previous_kept",
		    r.previous_kept, "recovered", r.recovered, "seconds",
		    r.seconds);
		return 0;
	}
	case JOB_ROLLBACK:
		if (op_rollback(cf, e) < 0)
			return -1;
		*result = json_pack("{s:b}", "rolled_back", 1);
		return 0;
	case JOB_VERIFY: {
		struct backup_info b;
		struct verify_result r;
		if (op_verify(cf, json_get_str(params, "backup"), hooks, &b, &r,
		    e) < 0)
			return -1;
		*result = json_pack("{s:s, s:b, s:I, s:I, s:s, s:f}", "backup", b.id,
		    "ok", 1, "files", (json_int_t)r.files, "bytes",
		    (json_int_t)r.bytes, "sha256", r.sha256, "seconds", r.seconds);
		return 0;
	}
	case JOB_PRUNE: {
		json_t *ids = NULL;
		size_t kept = 0;
		if (op_prune(cf, 0, &ids, &kept, e) < 0) {
			json_decref(ids);
			return -1;
		}
		*result = json_pack("{s:o, s:I}", "deleted", ids, "kept",
		    (json_int_t)kept);
		return 0;
	}
	default:
		return err_set(e, ERR_FAILED, "unknown job kind");
	}
}

/* ---- helpers ----------------------------------------------------------- */

/* A backup id from a URL or query: the ID syntax, a legacy name, or
 * "latest" where allowed. libmicrohttpd has decoded %2F already, so a '/'
 * or ".." in it is simply refused here. */
static int
valid_id(const char *id, int latest_ok)
{
	if (!id)
		return 0;
	if (latest_ok && strcmp(id, "latest") == 0)
		return 1;
	return store_id_valid(id) || store_legacy_name_valid(id);
}

static int
bool_arg(struct request *r, const char *name, int *out)
{
	const char *v = req_arg(r, name);

	*out = 0;
	if (!v)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	return -1;
}

/* ?wait=S: 0..3600 seconds. */
static int
wait_arg(struct request *r, double *out)
{
	const char *v = req_arg(r, "wait");
	char *end;

	*out = 0;
	if (!v)
		return 0;
	*out = strtod(v, &end);
	if (end == v || *end || *out < 0 || *out > 3600)
		return -1;
	return 0;
}

/* Start a job; 202 with Location, or 200 when ?wait=S saw it finish. */
static enum MHD_Result
start_job(struct request *r, enum job_kind kind, json_t *params)
{
	json_t *job = NULL;
	struct err e;
	double wait_s;
	char location[128];
	const char *state;

	if (wait_arg(r, &wait_s) < 0) {
		json_decref(params);
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "wait must be a number of seconds from 0 to 3600");
	}
	err_clear(&e);
	if (jobs_start(r->api->jobs, kind, params, &job, &e) < 0) {
		json_decref(params);
		return reply_err(r, &e);
	}
	json_decref(params);
	snprintf(location, sizeof location, "/v1/jobs/%s", json_get_str(job, "id"));
	if (wait_s > 0) {
		json_t *done = jobs_get(r->api->jobs, json_get_str(job, "id"), wait_s);
		if (done) {
			json_decref(job);
			job = done;
		}
	}
	state = json_get_str(job, "state");
	unsigned status = state && strcmp(state, "running") != 0 ?
	    MHD_HTTP_OK : MHD_HTTP_ACCEPTED;
	char *text = json_dumps(job, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	json_decref(job);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- health, readiness, metrics, status --------------------------------- */

enum MHD_Result
api_healthz(struct request *r)
{
	return reply_text(r, MHD_HTTP_OK, "text/plain", "ok\n");
}

enum MHD_Result
api_readyz(struct request *r)
{
	if (jobs_running_kind(r->api->jobs, JOB_UNPACK) ||
	    jobs_running_kind(r->api->jobs, JOB_ROLLBACK))
		return reply_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack(
		    "{s:b, s:s}", "ready", 0, "reason", "a restore is in flight"));
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ready", 1));
}

enum MHD_Result
api_metrics(struct request *r)
{
	json_t *cur = jobs_current(r->api->jobs);
	char text[512];

	snprintf(text, sizeof text,
	    "# HELP quorum_backup_job_in_progress 1 while a job runs.\n"
	    "# TYPE quorum_backup_job_in_progress gauge\n"
	    "quorum_backup_job_in_progress %d\n", cur ? 1 : 0);
	json_decref(cur);
	return reply_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4", text);
}

enum MHD_Result
api_status(struct request *r)
{
	const struct agent_conf *cf = r->api->cf;
	struct store s;
	struct backup_info last;
	struct err e;
	uint64_t free_bytes = 0;
	json_t *o, *cur;

	o = json_pack("{s:I, s:s, s:s, s:s}", "member", (json_int_t)cf->member,
	    "data_dir", cf->data_dir, "backup_dir", cf->backup_dir,
	    "version", PACKAGE_VERSION);
	cur = jobs_current(r->api->jobs);
	json_object_set_new(o, "job", cur ? cur : json_null());
	if (store_open(&s, cf->backup_dir, cf->member, 0, &e) == 0 &&
	    store_find(&s, "latest", &last, &e) == 0) {
		char created[32];
		store_format_time(last.created, created, sizeof created);
		json_object_set_new(o, "last_backup", json_pack("{s:s, s:s, s:I}",
		    "id", last.id, "created", created, "size",
		    (json_int_t)last.size));
	} else {
		json_object_set_new(o, "last_backup", json_null());
	}
	json_object_set_new(o, "free_bytes", json_pack("{s:I, s:I}",
	    "data", (json_int_t)(fs_free_bytes(cf->data_dir, &free_bytes, &e) == 0 ?
	    free_bytes : 0),
	    "backup", (json_int_t)(fs_free_bytes(cf->backup_dir, &free_bytes,
	    &e) == 0 ? free_bytes : 0)));
	return reply_json(r, MHD_HTTP_OK, o);
}

/* ---- backups ------------------------------------------------------------ */

enum MHD_Result
api_backups_list(struct request *r)
{
	struct err e;
	json_t *list;

	err_clear(&e);
	if (!(list = op_list(r->api->cf, &e)))
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, list);
}

static int
find_backup(struct request *r, struct backup_info *b, struct err *e)
{
	struct store s;

	if (!valid_id(r->id, 1))
		return err_set(e, ERR_BAD_REQUEST, "'%s' is not a backup id",
		    r->id ? r->id : "");
	if (store_open(&s, r->api->cf->backup_dir, r->api->cf->member, 0, e) < 0)
		return -1;
	return store_find(&s, r->id, b, e);
}

enum MHD_Result
api_backup_get(struct request *r)
{
	struct backup_info b;
	struct err e;
	json_t *meta, *o;
	char created[32];

	err_clear(&e);
	if (find_backup(r, &b, &e) < 0)
		return reply_err(r, &e);
	store_format_time(b.created, created, sizeof created);
	o = json_pack("{s:s, s:s, s:I, s:b}", "id", b.id, "created", created,
	    "size", (json_int_t)b.size, "legacy", b.legacy);
	meta = store_load_meta(&b, &e);
	if (meta) {
		/* The entry list can be long: it stays in the file. */
		json_object_del(meta, "entries");
		json_object_set_new(o, "metadata", meta);
	} else {
		json_object_set_new(o, "metadata", json_null());
	}
	return reply_json(r, MHD_HTTP_OK, o);
}

enum MHD_Result
api_backup_archive(struct request *r)
{
	struct backup_info b;
	struct err e;
	struct stat st;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char disp[STORE_ID_MAX + 64];
	int fd;

	err_clear(&e);
	if (find_backup(r, &b, &e) < 0)
		return reply_err(r, &e);
	fd = open(b.archive_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err_sys(&e, ERR_FAILED, "open %s", b.archive_path);
		if (fd >= 0)
			close(fd);
		return reply_err(r, &e);
	}
	/* Streamed from the file (sendfile where possible), never loaded. */
	resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"%s%s\"", b.id,
	    b.legacy ? "" : ".tar.zst");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    b.legacy ? "application/gzip" : "application/zstd");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
api_backup_delete(struct request *r)
{
	const struct agent_conf *cf = r->api->cf;
	struct backup_info b, newest;
	struct store s;
	struct err e;
	int force;

	err_clear(&e);
	if (!valid_id(r->id, 0))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "not a backup id");
	if (bool_arg(r, "force", &force) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "force must be 0 or 1");
	if (store_open(&s, cf->backup_dir, cf->member, 0, &e) < 0 ||
	    store_lock(&s, &e) < 0)
		return reply_err(r, &e);
	if (store_find(&s, r->id, &b, &e) < 0) {
		store_close(&s);
		return reply_err(r, &e);
	}
	if (!force && !b.legacy && store_find(&s, "latest", &newest, &e) == 0 &&
	    strcmp(newest.id, b.id) == 0) {
		store_close(&s);
		return reply_error(r, MHD_HTTP_CONFLICT, "newest_backup",
		    "this is the newest complete backup: delete it with force=1");
	}
	if (store_delete(&s, &b, &e) < 0) {
		store_close(&s);
		return reply_err(r, &e);
	}
	store_close(&s);
	log_info("backup_deleted", "id=%s reason=api", b.id);
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:s, s:b}", "id", b.id,
	    "deleted", 1));
}

enum MHD_Result
api_backup_verify(struct request *r)
{
	if (!valid_id(r->id, 1))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "not a backup id");
	return start_job(r, JOB_VERIFY, json_pack("{s:s}", "backup", r->id));
}

enum MHD_Result
api_prune(struct request *r)
{
	return start_job(r, JOB_PRUNE, json_object());
}

/* ---- archive, unpack, rollback ------------------------------------------ */

enum MHD_Result
api_archive(struct request *r)
{
	int quiesce;

	if (bool_arg(r, "quiesce", &quiesce) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "quiesce must be 0 or 1");
	if (quiesce)
		return reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented",
		    "archive?quiesce=1 needs the node gates, which this agent "
		    "version does not drive yet: stop the node, then archive");
	return start_job(r, JOB_ARCHIVE, json_object());
}

enum MHD_Result
api_unpack(struct request *r)
{
	const char *id = req_arg(r, "backup");
	int force, in_place;

	if (!valid_id(id, 1))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "backup=ID|latest is required (ID as YYYYMMDDTHHMMSSZ, or a "
		    "legacy .tar.gz name)");
	if (bool_arg(r, "force", &force) < 0 ||
	    bool_arg(r, "in_place", &in_place) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "force and in_place must be 0 or 1");
	return start_job(r, JOB_UNPACK, json_pack("{s:s, s:b, s:b}", "backup",
	    id, "force", force, "in_place", in_place));
}

enum MHD_Result
api_rollback(struct request *r)
{
	return start_job(r, JOB_ROLLBACK, json_object());
}

/* ---- jobs, history ------------------------------------------------------- */

enum MHD_Result
api_jobs_list(struct request *r)
{
	return reply_json(r, MHD_HTTP_OK, jobs_list(r->api->jobs));
}

enum MHD_Result
api_job_get(struct request *r)
{
	double wait_s;
	json_t *job;

	if (wait_arg(r, &wait_s) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "wait must be a number of seconds from 0 to 3600");
	if (strlen(r->id) > 64 || strspn(r->id, "jT0123456789Z-") != strlen(r->id))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "not a job id");
	if (!(job = jobs_get(r->api->jobs, r->id, wait_s)))
		return reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such job");
	return reply_json(r, MHD_HTTP_OK, job);
}

enum MHD_Result
api_history(struct request *r)
{
	struct err e;
	json_t *h;

	err_clear(&e);
	if (!(h = jobs_history(r->api->jobs, 1000, &e)))
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, h);
}

enum MHD_Result
api_not_yet(struct request *r)
{
	return reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented",
	    "quiesce, resume and leases need the node gates, which this agent "
	    "version does not drive yet");
}
