/* run: what the job worker runs for each kind of job: archive (with quiesce:
 * facts, stop, archive, resume on every path), unpack, rollback, verify,
 * prune, quiesce and resume, through the engine (ops) and the node client,
 * telling the state model of every step it takes with a node. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "member.h"
#include "offsite.h"
#include "ops.h"
#include "store.h"

static json_t *
first_facts(const struct agent_conf *cf)
{
	for (size_t i = 0; i < cf->n_nodes; i++)
		if (cf->nodes[i]->rpc_url && cf->nodes[i]->rpc_url[0]) {
			struct err e;
			json_t *f = node_facts(cf->nodes[i], &e);
			if (f)
				return f;
			log_warn("node_facts", "node=%s error=%s",
			    cf->nodes[i]->name, logq(e.msg));
		}
	return NULL;
}

/* The watcher that tells the state model of every step the job takes
 * with the nodes, as it takes it. */
static struct node_watch
state_watch(struct jobs *js)
{
	struct member *a = jobs_ctx(js);
	struct node_watch w = { state_node_event, a->state };

	return w;
}

/* Stop every node for job_id (phase "stopping"). */
static int
stop_nodes(struct jobs *js, const char *job_id, long long until,
    const char *why, struct err *e)
{
	const struct agent_conf *cf = jobs_conf(js);
	struct node_watch w = state_watch(js);

	jobs_set_phase(js, PHASE_STOPPING);
	/* On failure nodes_stop_all started again what it had stopped. */
	return nodes_stop_all(cf->nodes, cf->n_nodes, job_id, until, why, &w, e);
}

/* Recovery, start every node (reverse order), wait until all are ready;
 * then the tree an unpack moved aside is no longer needed. down_since:
 * when the nodes were stopped (monotonic seconds), 0 when unknown; the
 * downtime goes into the result. Each step is in the state model as it
 * happens, and the job's last probe (all ready) is what it holds when the
 * job ends. */
static int
resume_nodes(struct jobs *js, double down_since, json_t *result,
    struct err *e)
{
	const struct agent_conf *cf = jobs_conf(js);
	struct node_watch w = state_watch(js);
	int recovered, removed;
	struct err de;

	jobs_set_phase(js, PHASE_STARTING);
	if (op_recover(cf, &recovered, e) < 0)
		return -1;
	if (cf->n_nodes == 0)
		return err_set(e, ERR_BAD_REQUEST, "no [node.NAME] sections are "
		    "configured: there is nothing to resume");
	if (nodes_start_all(cf->nodes, cf->n_nodes, &w, e) < 0)
		return -1;
	jobs_set_phase(js, PHASE_WAITING_READY);
	if (nodes_wait_ready(cf->nodes, cf->n_nodes, (double)cf->ready_timeout,
	    &w, e) < 0)
		return -1;
	if (op_discard_previous(cf, &removed, &de) < 0)
		log_warn("previous_kept", "error=%s", logq(de.msg));
	json_object_set_new(result, "recovered", json_boolean(recovered));
	json_object_set_new(result, "previous_discarded", json_boolean(removed));
	if (down_since > 0)
		json_object_set_new(result, "downtime_seconds",
		    json_real(qb_mono_now() - down_since));
	return 0;
}

/* One kind of job: params in, *result out (or e), on the worker thread. */
typedef int (*run_fn)(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e);

/* The facts an archive records: read now, before its own stop, or (the
 * nodes stopped by a quiesce) those the quiesce read. */
static json_t *
archive_facts(struct jobs *js, int quiesce)
{
	struct member *a = jobs_ctx(js);
	json_t *facts;

	if (quiesce) {
		jobs_set_phase(js, PHASE_READING_FACTS);
		return first_facts(jobs_conf(js));
	}
	pthread_mutex_lock(&a->mu);
	facts = json_incref(a->facts);
	pthread_mutex_unlock(&a->mu);
	return facts;
}

/* The resume at the end of archive?quiesce=1, on every path: its result
 * into *result when the archive succeeded (rc 0), its failure added to
 * e's. Returns the job's outcome. */
static int
archive_resume(struct jobs *js, int rc, const char *id, double down_since,
    json_t *result, struct err *e)
{
	json_t *res = json_object();
	struct err re;

	err_clear(&re);
	if (resume_nodes(js, down_since, res, &re) < 0) {
		json_decref(res);
		if (rc == 0) {
			*e = re;
			err_prefix(e, "backup %s was made, but resuming failed", id);
		} else {
			size_t n = strlen(e->msg);
			snprintf(e->msg + n, sizeof e->msg - n, "; resuming the "
			    "nodes failed too: %s", re.msg);
		}
		return -1;
	}
	if (rc == 0)
		json_object_set_new(result, "resume", res);
	else
		json_decref(res);
	return rc;
}

/* archive; with quiesce: facts, stop, archive, and the resume on every
 * path, failure included. */
/* With upload = auto: the off-site copy of backup id once this job (and
 * its resume) has ended, then another try for the copies that failed
 * earlier (at most four, newest first, among those remote retention would
 * keep). Returns what the archive's result says of its copy: "queued",
 * "manual" or "off". */
static const char *
queue_uploads(struct jobs *js, const char *id)
{
	const struct agent_conf *cf = jobs_conf(js);
	json_t *failed = NULL, *v;
	time_t last;
	struct err e;
	size_t i, n = 0;

	if (!cf->offsite_url || !cf->offsite_url[0])
		return "off";
	if (strcmp(cf->offsite_upload, "auto") != 0)
		return "manual";
	jobs_follow_up(js, JOB_UPLOAD, json_pack("{s:s, s:b}", "backup", id,
	    "auto", 1), PHASE_UPLOADING);
	err_clear(&e);
	if (offsite_local_state(cf, &last, &failed, &e) < 0) {
		log_warn("offsite_state_unread", "error=%s", logq(e.msg));
		return "queued";
	}
	json_array_foreach(failed, i, v) {
		if (strcmp(json_string_value(v), id) == 0 || n >= 4)
			continue;
		log_info("offsite_retry", "id=%s", json_string_value(v));
		jobs_follow_up(js, JOB_UPLOAD, json_pack("{s:O, s:b, s:b}",
		    "backup", v, "auto", 1, "retry", 1), PHASE_UPLOADING);
		n++;
	}
	json_decref(failed);
	return "queued";
}

static int
run_archive(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	const struct agent_conf *cf = jobs_conf(js);
	int quiesce = json_is_true(json_object_get(params, "quiesce"));
	struct op_hooks h = *hooks;
	struct archive_result r;
	json_t *pruned = NULL;
	double down_since = 0;
	int rc;

	h.node_facts = archive_facts(js, quiesce);
	if (quiesce) {
		down_since = qb_mono_now();
		if (stop_nodes(js, job_id, (long long)time(NULL) +
		    cf->quiesce_hold, "archive", e) < 0) {
			json_decref(h.node_facts);
			return -1;
		}
	}
	jobs_set_phase(js, PHASE_ARCHIVING);
	rc = op_archive(cf, &h, &r, &pruned, e);
	json_decref(h.node_facts);
	if (rc == 0)
		*result = json_pack("{s:s, s:I, s:I, s:I, s:s, s:f, s:o, s:o, s:s}",
		    "backup", r.id, "size", (json_int_t)r.size,
		    "bytes", (json_int_t)r.bytes, "files", (json_int_t)r.files,
		    "sha256", r.sha256, "seconds", r.seconds,
		    "pruned", pruned ? pruned : json_array(),
		    "warnings", r.warnings ? r.warnings : json_array(),
		    "offsite", queue_uploads(js, r.id));
	if (!quiesce)
		return rc;
	return archive_resume(js, rc, r.id, down_since, *result, e);
}

static int
run_quiesce(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	struct member *a = jobs_ctx(js);
	long long hold = json_integer_value(json_object_get(params, "hold"));
	json_t *facts;

	(void)hooks;
	jobs_set_phase(js, PHASE_READING_FACTS);
	facts = first_facts(jobs_conf(js));
	if (stop_nodes(js, job_id, (long long)time(NULL) + hold, "quiesce",
	    e) < 0) {
		json_decref(facts);
		return -1;
	}
	pthread_mutex_lock(&a->mu);
	json_decref(a->facts);
	a->facts = json_incref(facts);
	pthread_mutex_unlock(&a->mu);
	*result = json_pack("{s:I, s:o}", "until",
	    (json_int_t)(time(NULL) + hold), "facts",
	    facts ? facts : json_null());
	return 0;
}

static int
run_resume(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	struct member *a = jobs_ctx(js);
	json_t *res = json_object();

	(void)params;
	(void)job_id;
	(void)hooks;
	pthread_mutex_lock(&a->mu);
	json_decref(a->facts);   /* the nodes move on */
	a->facts = NULL;
	pthread_mutex_unlock(&a->mu);
	if (resume_nodes(js, 0, res, e) < 0) {
		json_decref(res);
		return -1;
	}
	*result = res;
	return 0;
}

static int
run_unpack(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	const char *from = json_get_str(params, "from");
	int offsite = from && strcmp(from, "offsite") == 0, rc;
	struct offsite_source src;
	struct backup_info given;
	struct unpack_opts u;
	struct unpack_result r;
	struct offsite o;

	(void)job_id;
	memset(&u, 0, sizeof u);
	u.id = json_get_str(params, "backup");
	u.force = json_is_true(json_object_get(params, "force"));
	u.in_place = json_is_true(json_object_get(params, "in_place"));
	jobs_set_phase(js, PHASE_UNPACKING);
	if (!offsite) {
		rc = op_unpack(jobs_conf(js), &u, hooks, &r, e);
	} else {
		/* Streamed from the bucket through the same verify and swap. */
		if (offsite_open(jobs_conf(js), &o, e) < 0)
			return -1;
		rc = offsite_source_init(&o, u.id, hooks->cancel, &src, &given,
		    e);
		if (rc == 0) {
			u.given = &given;
			rc = op_unpack(jobs_conf(js), &u, hooks, &r, e);
			offsite_source_free(&src);
		}
		offsite_close(&o);
	}
	if (rc < 0)
		return -1;
	*result = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:f}", "backup",
	    r.backup.id, "from", offsite ? "offsite" : "local",
	    "files", (json_int_t)r.v.files,
	    "bytes", (json_int_t)r.v.bytes, "previous_kept", r.previous_kept,
	    "recovered", r.recovered, "seconds", r.seconds);
	return 0;
}

static int
run_rollback(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	(void)params;
	(void)job_id;
	(void)hooks;
	jobs_set_phase(js, PHASE_ROLLING_BACK);
	if (op_rollback(jobs_conf(js), e) < 0)
		return -1;
	*result = json_pack("{s:b}", "rolled_back", 1);
	return 0;
}

static int
run_verify(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	struct backup_info b;
	struct verify_result r;

	(void)job_id;
	jobs_set_phase(js, PHASE_VERIFYING);
	int stored = json_is_true(json_object_get(params, "stored"));

	if (json_is_true(json_object_get(params, "offsite"))) {
		/* A copy in the bucket: its whole content when it can be read,
		 * else (or with stored) its stored size and SHA-256. */
		char id[STORE_ID_MAX];
		struct offsite o;
		int rc, full;

		if (offsite_open(jobs_conf(js), &o, e) < 0)
			return -1;
		rc = offsite_verify(jobs_conf(js), &o, json_get_str(params,
		    "backup"), stored, hooks, id, sizeof id, &r, &full, e);
		offsite_close(&o);
		if (rc < 0)
			return -1;
		*result = json_pack("{s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:s, "
		    "s:f}", "backup", id, "ok", 1, "stored", !full, "offsite", 1,
		    "files", (json_int_t)r.files, "bytes", (json_int_t)r.bytes,
		    "size", (json_int_t)r.size, "sha256", r.sha256,
		    "seconds", r.seconds);
		return 0;
	}
	if (op_verify(jobs_conf(js), json_get_str(params, "backup"), stored,
	    hooks, &b, &r, e) < 0)
		return -1;
	*result = json_pack("{s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:s, s:f}",
	    "backup", b.id, "ok", 1, "stored", stored, "encrypted", b.encrypted,
	    "files", (json_int_t)r.files, "bytes", (json_int_t)r.bytes,
	    "size", (json_int_t)r.size, "sha256", r.sha256,
	    "seconds", r.seconds);
	return 0;
}

static int
run_prune(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	json_t *ids = NULL;
	size_t kept = 0;

	(void)params;
	(void)job_id;
	(void)hooks;
	jobs_set_phase(js, PHASE_PRUNING);
	if (op_prune(jobs_conf(js), 0, &ids, &kept, e) < 0) {
		json_decref(ids);
		return -1;
	}
	*result = json_pack("{s:o, s:I}", "deleted", ids, "kept",
	    (json_int_t)kept);
	return 0;
}

/* An off-site copy of a local backup. The node is not involved and the
 * member is not down. A failure is recorded in the backup's metadata
 * (which stays complete); an upload interrupted by another job is not,
 * and is taken up again after it. */
static int
run_upload(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	struct offsite_result r;
	json_t *pruned = NULL;

	(void)job_id;
	jobs_set_phase(js, PHASE_UPLOADING);
	if (offsite_copy(jobs_conf(js), json_get_str(params, "backup"),
	    hooks->progress, hooks->progress_arg, hooks->cancel, &r, &pruned,
	    e) < 0)
		return -1;
	*result = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:f, s:o}",
	    "backup", r.id, "bucket", r.bucket, "key", r.archive_key,
	    "etag", r.etag, "size", (json_int_t)r.size, "parts", r.parts,
	    "reused", r.reused, "seconds", r.seconds, "pruned",
	    pruned ? pruned : json_null());
	return 0;
}

/* Remote retention now (POST /v1/offsite/prune). */
static int
run_offsite_prune(struct jobs *js, json_t *params, const char *job_id,
    const struct op_hooks *hooks, json_t **result, struct err *e)
{
	const struct agent_conf *cf = jobs_conf(js);
	json_t *deleted = NULL, *aborted = NULL;
	struct offsite o;
	size_t kept;
	int rc;

	(void)params;
	(void)job_id;
	(void)hooks;
	jobs_set_phase(js, PHASE_PRUNING);
	if (offsite_open(cf, &o, e) < 0)
		return -1;
	rc = offsite_prune(&o, cf->offsite_keep_last, cf->offsite_keep_days, 0,
	    &deleted, &aborted, &kept, e);
	offsite_close(&o);
	if (rc == 0)
		*result = json_pack("{s:O, s:O, s:I}", "deleted", deleted,
		    "aborted", aborted, "kept", (json_int_t)kept);
	json_decref(deleted);
	json_decref(aborted);
	return rc;
}

static const run_fn runs[JOB_KIND_COUNT] = {
	[JOB_ARCHIVE] = run_archive, [JOB_UNPACK] = run_unpack,
	[JOB_ROLLBACK] = run_rollback, [JOB_VERIFY] = run_verify,
	[JOB_PRUNE] = run_prune, [JOB_QUIESCE] = run_quiesce,
	[JOB_RESUME] = run_resume, [JOB_UPLOAD] = run_upload,
	[JOB_OFFSITE_PRUNE] = run_offsite_prune,
};

int
member_run_job(struct jobs *js, enum job_kind kind, json_t *params,
    const char *job_id, const struct op_hooks *hooks, json_t **result,
    struct err *e)
{
	*result = NULL;
	if ((int)kind < 0 || kind >= JOB_KIND_COUNT || !runs[kind])
		return err_set(e, ERR_FAILED, "unknown job kind");
	return runs[kind](js, params, job_id, hooks, result, e);
}
