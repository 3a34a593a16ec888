#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "locks.h"
#include "ops.h"
#include "store.h"

/* ---- jobs: what the worker runs ---------------------------------------- */

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
	struct api *a = jobs_ctx(js);
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

int
api_run_job(struct jobs *js, enum job_kind kind, json_t *params,
    const char *job_id, const struct op_hooks *hooks, json_t **result,
    struct err *e)
{
	const struct agent_conf *cf = jobs_conf(js);

	*result = NULL;
	switch (kind) {
	case JOB_ARCHIVE: {
		struct api *a = jobs_ctx(js);
		struct archive_result r;
		struct op_hooks h = *hooks;
		json_t *pruned = NULL, *facts = NULL;
		int quiesce = json_is_true(json_object_get(params, "quiesce"));
		int rc;
		struct err re;
		double down_since = 0;

		if (!quiesce) {
			/* The nodes were stopped by a quiesce: its facts. */
			pthread_mutex_lock(&a->mu);
			facts = json_incref(a->facts);
			pthread_mutex_unlock(&a->mu);
			h.node_facts = facts;
		} else {
			/* Facts before the stop; the nodes come back on every path. */
			jobs_set_phase(js, PHASE_READING_FACTS);
			facts = first_facts(cf);
			down_since = qb_mono_now();
			if (stop_nodes(js, job_id, (long long)time(NULL) +
			    cf->quiesce_hold, "archive", e) < 0) {
				json_decref(facts);
				return -1;
			}
			h.node_facts = facts;
		}
		jobs_set_phase(js, PHASE_ARCHIVING);
		rc = op_archive(cf, &h, &r, &pruned, e);
		json_decref(facts);
		if (rc == 0)
			*result = json_pack("{s:s, s:I, s:I, s:I, s:s, s:f, s:o, "
			    "s:o}", "backup", r.id, "size", (json_int_t)r.size,
			    "bytes", (json_int_t)r.bytes, "files",
			    (json_int_t)r.files, "sha256", r.sha256,
			    "seconds", r.seconds, "pruned",
			    pruned ? pruned : json_array(), "warnings",
			    r.warnings ? r.warnings : json_array());
		if (quiesce) {
			json_t *res = json_object();
			err_clear(&re);
			if (resume_nodes(js, down_since, res, &re) < 0) {
				json_decref(res);
				if (rc == 0) {
					*e = re;
					err_prefix(e, "backup %s was made, but resuming "
					    "failed", r.id);
				} else {
					size_t n = strlen(e->msg);
					snprintf(e->msg + n, sizeof e->msg - n, "; resuming "
					    "the nodes failed too: %s", re.msg);
				}
				return -1;
			}
			if (rc == 0)
				json_object_set_new(*result, "resume", res);
			else
				json_decref(res);
		}
		return rc;
	}
	case JOB_QUIESCE: {
		struct api *a = jobs_ctx(js);
		long long hold = json_integer_value(json_object_get(params, "hold"));
		json_t *facts;
		jobs_set_phase(js, PHASE_READING_FACTS);
		facts = first_facts(cf);
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
	case JOB_RESUME: {
		struct api *a = jobs_ctx(js);
		json_t *res = json_object();
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
	case JOB_UNPACK: {
		struct unpack_opts u;
		struct unpack_result r;
		memset(&u, 0, sizeof u);
		u.id = json_get_str(params, "backup");
		u.force = json_is_true(json_object_get(params, "force"));
		u.in_place = json_is_true(json_object_get(params, "in_place"));
		jobs_set_phase(js, PHASE_UNPACKING);
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
		jobs_set_phase(js, PHASE_ROLLING_BACK);
		if (op_rollback(cf, e) < 0)
			return -1;
		*result = json_pack("{s:b}", "rolled_back", 1);
		return 0;
	case JOB_VERIFY: {
		struct backup_info b;
		struct verify_result r;
		jobs_set_phase(js, PHASE_VERIFYING);
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
		jobs_set_phase(js, PHASE_PRUNING);
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

/* ---- the background prober ---------------------------------------------- */

/* A resume of ours that failed is tried again after this long, not at
 * every probe. */
#define AUTO_RESUME_RETRY_S 10

/* Start a resume job for a hold nobody owns. last_job (size bytes) and
 * *last_at: the previous one of these, so that one that failed is not
 * repeated sooner than AUTO_RESUME_RETRY_S. */
static void
maybe_resume(struct api *a, const char *why, char *last_job, size_t size,
    time_t *last_at)
{
	json_t *job = NULL, *params;
	struct err e;
	int rc;

	if (last_job[0] && time(NULL) - *last_at < AUTO_RESUME_RETRY_S) {
		json_t *prev = jobs_get(a->jobs, last_job, 0);
		const char *st = json_get_str(prev, "state");
		int failed = st && strcmp(st, "succeeded") != 0;

		json_decref(prev);
		if (failed)
			return;
	}
	params = json_pack("{s:s}", "reason", why);
	rc = jobs_start(a->jobs, JOB_RESUME, params, PHASE_STARTING, &job, &e);
	json_decref(params);   /* the job holds its own reference */
	if (rc == 0) {
		const char *id = json_get_str(job, "id");

		log_warn("auto_resume", "reason=%s job=%s", logq(why),
		    id ? id : "?");
		snprintf(last_job, size, "%s", id ? id : "");
		*last_at = time(NULL);
		json_decref(job);
	}
}

/* A hold nobody owns any more: an expired one, or (at start) one whose
 * job did not survive the agent's restart. Its description into why
 * (size bytes); 0 when every hold has an owner. */
static int
unowned_hold(struct api *a, char *why, size_t size)
{
	const struct agent_conf *cf = a->cf;

	if (jobs_busy(a->jobs))
		return 0;
	for (size_t i = 0; i < cf->n_nodes; i++) {
		char hjob[160];
		long long hu;
		json_t *j;
		const char *st, *kind;
		int unowned;

		if (!state_node_hold(a->state, i, hjob, sizeof hjob, &hu))
			continue;
		if (hu > 0 && hu < (long long)time(NULL)) {
			snprintf(why, size, "the hold of %s expired",
			    cf->nodes[i]->name);
			return 1;
		}
		if (!hjob[0])
			continue;
		/* A job holds the nodes only while it runs, except a quiesce
		 * that succeeded (its hold lasts until a resume or its
		 * expiry): a hold left by any other job that ended (failed,
		 * or interrupted by the agent's death) has no owner. */
		j = jobs_get(a->jobs, hjob, 0);
		st = json_get_str(j, "state");
		kind = json_get_str(j, "kind");
		unowned = st && kind && strcmp(st, "running") != 0 &&
		    (strcmp(kind, "quiesce") != 0 || strcmp(st, "succeeded") != 0);
		if (unowned)
			snprintf(why, size, "job %s holding %s was %s", hjob,
			    cf->nodes[i]->name, st);
		json_decref(j);
		if (unowned)
			return 1;
	}
	return 0;
}

/* The newest complete backup (id, created, size), or NULL. */
static json_t *
read_last_backup(const struct agent_conf *cf)
{
	struct store bs;
	struct backup_info lb;
	struct err e;
	char created[32];

	if (store_open(&bs, cf->backup_dir, cf->member, 0, &e) < 0 ||
	    store_find(&bs, "latest", &lb, &e) < 0)
		return NULL;
	store_format_time(lb.created, created, sizeof created);
	return json_pack("{s:s, s:s, s:I}", "id", lb.id, "created", created,
	    "size", (json_int_t)lb.size);
}

/* Read node i now and store the reading in the state model, unless a job's
 * transition (or a later reading) came in meanwhile. */
static void
refresh_node(struct api *a, size_t i, struct node_probe_memo *memo,
    double gate_timeout, double check_timeout)
{
	struct node_state st;
	unsigned long ticket = state_node_begin(a->state, i);

	node_probe_within(a->cf->nodes[i], &st, 1, memo, gate_timeout,
	    check_timeout);
	state_node_commit(a->state, i, ticket, &st);
}

static void *
prober_main(void *arg)
{
	struct api *a = arg;
	const struct agent_conf *cf = a->cf;
	char last_auto[64] = "";   /* the last resume started here */
	time_t last_auto_at = 0;
	/* The methods each node lacks, so that they are not asked every 2 s;
	 * this thread's alone (NULL when out of memory: always ask). */
	struct node_probe_memo *memo = calloc(cf->n_nodes ? cf->n_nodes : 1,
	    sizeof *memo);

	for (;;) {
		uint64_t fd = 0, fb = 0;
		struct err e;
		char why[256];
		struct timespec until;
		int quit;

		for (size_t i = 0; i < cf->n_nodes; i++)
			refresh_node(a, i, memo ? &memo[i] : NULL,
			    NODE_PROBE_GATE_TIMEOUT, NODE_PROBE_CHECK_TIMEOUT);
		fs_free_bytes(cf->data_dir, &fd, &e);
		fs_free_bytes(cf->backup_dir, &fb, &e);
		state_disk_commit(a->state, fd, fb, read_last_backup(cf));
		if (unowned_hold(a, why, sizeof why))
			maybe_resume(a, why, last_auto, sizeof last_auto,
			    &last_auto_at);

		pthread_mutex_lock(&a->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 2;
		while (!a->quit && pthread_cond_timedwait(&a->cv, &a->mu, &until) !=
		    ETIMEDOUT)
			;
		quit = a->quit;
		pthread_mutex_unlock(&a->mu);
		if (quit)
			break;
	}
	free(memo);
	return NULL;
}

/* ---- the lease on disk --------------------------------------------------
 * A lease outlives a restart of the agent: it is kept in
 * member<N>/lease.json, so that a controller whose agent restarted
 * mid-run still holds it and a second controller is still refused. */

/* The lease file's name in the member's directory, for messages. */
static void
lease_shown(const struct api *a, char *out, size_t size)
{
	snprintf(out, size, "%s/member%lld/lease.json", a->cf->backup_dir,
	    a->cf->member);
}

/* Write the lease file for holder until until (or remove it when holder
 * is empty), never through a link. With a->lease_mu held. A failure is
 * logged: the lease still holds while this agent runs. */
static void
lease_save(const struct api *a, const char *holder, time_t until)
{
	char shown[4400];
	struct err e;
	json_t *o = NULL;
	int mfd;

	err_clear(&e);
	lease_shown(a, shown, sizeof shown);
	if ((mfd = jobs_member_dir(a->jobs, holder[0] != '\0', &e)) < 0) {
		if (holder[0] || e.code != ERR_NOT_FOUND)
			log_warn("lease_save_failed", "path=%s error=%s",
			    logq(shown), logq(e.msg));
		return;
	}
	if (!holder[0]) {
		if (unlinkat(mfd, "lease.json", 0) < 0 && errno != ENOENT)
			log_warn("lease_save_failed", "path=%s error=%s",
			    logq(shown), logq(strerror(errno)));
		close(mfd);
		return;
	}
	o = json_pack("{s:s, s:I}", "holder", holder, "expires",
	    (json_int_t)until);
	if (!o)
		err_set(&e, ERR_FAILED, "out of memory");
	if (!o || json_write_fileat(mfd, "lease.json", shown, o, 0600, &e) < 0)
		log_warn("lease_save_failed", "path=%s error=%s", logq(shown),
		    logq(e.msg));
	json_decref(o);
	close(mfd);
}

/* At start: a live lease from the file holds again; an expired or
 * unreadable one is removed (and an unreadable one logged). */
static void
lease_load(struct api *a)
{
	char shown[4400];
	struct err e;
	struct stat st;
	json_t *o, *x;
	const char *holder;
	long long expires;
	int mfd;

	err_clear(&e);
	lease_shown(a, shown, sizeof shown);
	if ((mfd = jobs_member_dir(a->jobs, 0, &e)) < 0)
		return;
	if (fstatat(mfd, "lease.json", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(mfd);
		return;
	}
	o = json_load_at(mfd, "lease.json", shown, 4096, &e);
	holder = o ? json_get_str(o, "holder") : NULL;
	x = o ? json_object_get(o, "expires") : NULL;
	expires = json_is_integer(x) ? (long long)json_integer_value(x) : 0;
	if (!api_valid_holder(holder) || expires <= 0) {
		log_warn("lease_file_ignored", "path=%s error=%s", logq(shown),
		    logq(o ? "no valid holder and expires" : e.msg));
	} else if (expires > (long long)time(NULL)) {
		state_lease_set(a->state, holder, (time_t)expires);
		log_info("lease_restored", "holder=%s expires_in=%lld",
		    logq(holder), expires - (long long)time(NULL));
		json_decref(o);
		close(mfd);
		return;
	}
	json_decref(o);
	/* unlinkat removes a link, never what it points to */
	if (unlinkat(mfd, "lease.json", 0) < 0 && errno != ENOENT)
		log_warn("lease_save_failed", "path=%s error=%s", logq(shown),
		    logq(strerror(errno)));
	close(mfd);
}

int
api_init(struct api *a, const struct agent_conf *cf, struct err *e)
{
	memset(a, 0, sizeof *a);
	a->cf = cf;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->lease_mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	for (size_t i = 0; i < cf->n_nodes; i++)
		if (node_def_validate(cf->nodes[i], e) < 0)
			return -1;
	if (!(a->state = state_new(cf)))
		return err_set(e, ERR_FAILED, "out of memory");
	if (!(a->jobs = jobs_new(cf, a->state, api_run_job, a, e)))
		return -1;
	lease_load(a);
	if (pthread_create(&a->prober, NULL, prober_main, a) != 0) {
		jobs_free(a->jobs);
		a->jobs = NULL;
		return err_set(e, ERR_FAILED, "cannot start the prober thread");
	}
	a->prober_started = 1;
	return 0;
}

void
api_fini(struct api *a)
{
	if (a->prober_started) {
		pthread_mutex_lock(&a->mu);
		a->quit = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->prober, NULL);
	}
	jobs_free(a->jobs);
	state_free(a->state);
	json_decref(a->facts);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->lease_mu);
	pthread_cond_destroy(&a->cv);
}

/* ---- helpers ----------------------------------------------------------- */

/* A backup id from a URL or query: the ID syntax, a legacy name, or
 * "latest" where allowed. libmicrohttpd has decoded %2F already, so a '/'
 * or ".." in it is simply refused here. */
int
api_valid_id(const char *id, int latest_ok)
{
	if (!id)
		return 0;
	if (latest_ok && strcmp(id, "latest") == 0)
		return 1;
	return store_id_valid(id) || store_legacy_name_valid(id);
}

int
api_valid_job_id(const char *id)
{
	return strlen(id) <= 64 && strspn(id, "jT0123456789Z-") == strlen(id);
}

int
api_valid_holder(const char *holder)
{
	return holder && holder[0] && strlen(holder) <= 128 &&
	    strspn(holder, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.:@") == strlen(holder);
}

int
api_parse_bool(const char *v, int *out)
{
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

int
api_parse_wait(const char *v, double *out)
{
	char *end;

	*out = 0;
	if (!v)
		return 0;
	*out = strtod(v, &end);
	/* Written so that NaN ("wait=nan") fails too: it passed "< 0 || >
	 * 3600" and reached jobs_get, whose conversion of it to time_t is
	 * undefined behaviour (tests/fuzz/fuzz_http.c checks the range). */
	if (end == v || *end || !(*out >= 0 && *out <= 3600)) {
		*out = 0;
		return -1;
	}
	return 0;
}

int
api_parse_seconds(const char *v, long long min, long long max,
    long long *out)
{
	char *end;
	long long n;

	if (!v)
		return 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
bool_arg(struct request *r, const char *name, int *out)
{
	return api_parse_bool(req_arg(r, name), out);
}

/* ?wait=S: 0..3600 seconds. */
static int
wait_arg(struct request *r, double *out)
{
	return api_parse_wait(req_arg(r, "wait"), out);
}

/* The caller's lease holder name: X-Quorum-Backup-Holder or ?holder=. */
static const char *
holder_of(struct request *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-Quorum-Backup-Holder");
	return h ? h : req_arg(r, "holder");
}

/* 1 when another holder's lease is live: mutating calls get 409 leased. */
static int
leased_to_other(struct request *r, char *who, size_t size)
{
	const char *h = holder_of(r);

	return state_lease(r->api->state, who, size) > 0 &&
	    (!h || strcmp(h, who) != 0);
}

static enum MHD_Result
reply_leased(struct request *r, const char *who)
{
	char msg[512];

	snprintf(msg, sizeof msg, "the agent is leased to %s; mutating calls "
	    "need X-Quorum-Backup-Holder: %s", who, who);
	return reply_error(r, MHD_HTTP_CONFLICT, "leased", msg);
}

/* ERR_NODE_RUNNING unless every node is stopped now, by its gate's state
 * (asked now, over its socket) and by the lock files (none held by
 * another process): what archive (without quiesce), unpack and rollback
 * need. `what` names the job for the message. */
static int
nodes_stopped_now(const struct agent_conf *cf, const char *what,
    struct err *e)
{
	struct lockset ls;

	for (size_t i = 0; i < cf->n_nodes; i++) {
		const struct node_def *n = cf->nodes[i];
		const char *st;
		json_t *rep;
		struct err ge;
		int stopped;

		if (node_gate_request(n, "status", NODE_PROBE_GATE_TIMEOUT, &rep,
		    &ge) < 0)
			return err_set(e, ERR_NODE_RUNNING, "%s needs the nodes "
			    "stopped, and whether %s is cannot be told: %s", what,
			    n->name, ge.msg);
		st = json_get_str(rep, "state");
		stopped = json_is_true(json_object_get(rep, "ok")) && st &&
		    strcmp(st, "stopped") == 0;
		if (!stopped) {
			err_set(e, ERR_NODE_RUNNING, "%s needs the nodes stopped, "
			    "and %s is %s: POST /v1/quiesce first%s", what, n->name,
			    st ? st : "in an unknown state",
			    strcmp(what, "archive") == 0 ? ", or use "
			    "archive?quiesce=1" : "");
			json_decref(rep);
			return -1;
		}
		json_decref(rep);
	}
	if (lockset_acquire(&ls, cf->data_dir, cf->lock_files.v,
	    cf->lock_files.n, e) < 0) {
		err_prefix(e, "%s needs the nodes stopped", what);
		return -1;
	}
	lockset_release(&ls);
	return 0;
}

/* What a job needs before it is created. */
enum job_need {
	NEED_NOTHING,
	NEED_STOPPED,            /* the nodes stopped (nodes_stopped_now) */
};

/* Start a job in phase `phase` (what it does first); 202 with Location,
 * or 200 when ?wait=S saw it finish. need: NEED_STOPPED refuses at once,
 * with 409 node_running and no job, while a node is not stopped (the job
 * checks again, as the node may start in between). */
static enum MHD_Result
start_job(struct request *r, enum job_kind kind, json_t *params,
    enum job_phase phase, enum job_need need)
{
	json_t *job = NULL;
	struct err e;
	double wait_s;
	char location[128], who[160];
	const char *state;

	if (wait_arg(r, &wait_s) < 0) {
		json_decref(params);
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "wait must be a number of seconds from 0 to 3600");
	}
	err_clear(&e);
	if (need == NEED_STOPPED) {
		/* Leased, then busy, before asking the nodes: those answers
		 * say more than "the node runs" would. */
		if (leased_to_other(r, who, sizeof who)) {
			json_decref(params);
			return reply_leased(r, who);
		}
		if (jobs_check_free(r->api->jobs, &e) < 0 ||
		    nodes_stopped_now(r->api->cf, job_kind_name(kind), &e) < 0) {
			json_decref(params);
			return reply_err(r, &e);
		}
	}
	/* The lease check and the start are one step: no lease is taken
	 * between them. */
	pthread_mutex_lock(&r->api->lease_mu);
	if (kind != JOB_VERIFY && leased_to_other(r, who, sizeof who)) {
		pthread_mutex_unlock(&r->api->lease_mu);
		json_decref(params);
		return reply_leased(r, who);
	}
	if (jobs_start(r->api->jobs, kind, params, phase, &job, &e) < 0) {
		pthread_mutex_unlock(&r->api->lease_mu);
		json_decref(params);
		return reply_err(r, &e);
	}
	pthread_mutex_unlock(&r->api->lease_mu);
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
	char reason[512];

	/* Ready exactly when the member is not down (state.h): every node
	 * running and ready, no hold, no job that stops, unpacks or starts
	 * the nodes. */
	if (state_down(r->api->state, reason, sizeof reason, NULL))
		return reply_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack(
		    "{s:b, s:s}", "ready", 0, "reason", reason));
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ready", 1));
}

/* Prometheus text: from the jobs' recent records and the probed state. */
enum MHD_Result
api_metrics(struct request *r)
{
	struct api *a = r->api;
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

/* ?fresh=1: each node read now, within about a second each. */
#define FRESH_GATE_TIMEOUT 0.4
#define FRESH_CHECK_TIMEOUT 0.6

enum MHD_Result
api_status(struct request *r)
{
	const struct agent_conf *cf = r->api->cf;
	json_t *o, *cur;
	int fresh = 0;

	if (bool_arg(r, "fresh", &fresh) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "fresh must be 0 or 1");
	/* ?fresh=1: every gate's status and every node's RPC read now, into
	 * the state model, for a controller that decides from this answer
	 * who may go down. A job's transition that comes in meanwhile is
	 * newer than these readings and stays. */
	for (size_t i = 0; fresh && i < cf->n_nodes; i++)
		refresh_node(r->api, i, NULL, FRESH_GATE_TIMEOUT,
		    FRESH_CHECK_TIMEOUT);
	/* Everything else in one snapshot of the state model: "probed_at"
	 * says how old its oldest node reading is. */
	if (!(o = state_json(r->api->state)))
		return MHD_NO;
	json_object_set_new(o, "member", json_integer(cf->member));
	json_object_set_new(o, "data_dir", json_string(cf->data_dir));
	json_object_set_new(o, "backup_dir", json_string(cf->backup_dir));
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	cur = jobs_current(r->api->jobs);
	json_object_set_new(o, "job", cur ? cur : json_null());
	/* reply_json's 9 significant digits would round an epoch time to 10
	 * s; 13 keep milliseconds. */
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(13));
	json_decref(o);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	char *withnl = realloc(text, len + 2);
	if (!withnl) {
		free(text);
		return MHD_NO;
	}
	memcpy(withnl + len, "\n", 2);
	enum MHD_Result ret = reply_text(r, MHD_HTTP_OK, "application/json",
	    withnl);
	free(withnl);
	return ret;
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

/* The backup r names, in the member's store (*s, which holds nothing once
 * this returns: store_summary and store_open_file reach its files). */
static int
find_backup(struct request *r, struct store *s, struct backup_info *b,
    struct err *e)
{
	if (!api_valid_id(r->id, 1))
		return err_set(e, ERR_BAD_REQUEST, "'%s' is not a backup id",
		    r->id ? r->id : "");
	if (store_open(s, r->api->cf->backup_dir, r->api->cf->member, 0, e) < 0)
		return -1;
	return store_find(s, r->id, b, e);
}

enum MHD_Result
api_backup_get(struct request *r)
{
	struct backup_info b;
	struct store s;
	struct err e;
	json_t *sum, *o;
	char created[32];

	err_clear(&e);
	if (find_backup(r, &s, &b, &e) < 0)
		return reply_err(r, &e);
	store_format_time(b.created, created, sizeof created);
	o = json_pack("{s:s, s:s, s:I, s:b}", "id", b.id, "created", created,
	    "size", (json_int_t)b.size, "legacy", b.legacy);
	/* The metadata's cached summary: all of it but the entry list, which
	 * stays in the file (GET .../metadata serves it). */
	sum = store_summary(&s, &b, &e);
	json_object_set_new(o, "metadata", sum ? sum : json_null());
	return reply_json(r, MHD_HTTP_OK, o);
}

/* Content-Disposition of a download named name (RFC 6266): filename holds
 * an ASCII stand-in (a quote, backslash, percent sign, control or
 * non-ASCII byte becomes '_'), filename* the exact name, UTF-8 and
 * percent-encoded (RFC 8187). Legacy names may hold any of those. */
static void
content_disposition(const char *name, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n = 0;
	int w;

	w = snprintf(out, size, "attachment; filename=\"");
	n = w < 0 ? 0 : (size_t)w;
	for (p = (const unsigned char *)name; *p && n + 1 < size; p++)
		out[n++] = *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '%' ? '_' : (char)*p;
	if (n < size) {
		w = snprintf(out + n, size - n, "\"; filename*=UTF-8''");
		n += w < 0 ? 0 : (size_t)w;
	}
	for (p = (const unsigned char *)name; *p && n + 3 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n < size ? n : size - 1] = '\0';
}

/* Stream fd (a file of the store, opened by store_open_file; st its
 * fstat) as the reply: sendfile where possible, never loaded into
 * memory. The response owns fd. */
static enum MHD_Result
send_file(struct request *r, int fd, const struct stat *st, const char *type,
    const char *filename)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	/* Percent-encoded, a name takes three times its length. */
	char disp[4 * STORE_ID_MAX + 128];

	resp = MHD_create_response_from_fd64((uint64_t)st->st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	content_disposition(filename, disp, sizeof disp);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A backup's archive, or its metadata file byte for byte: together a
 * complete copy of the backup (quorum-backup-agent verify and unpack need
 * both). A legacy .tar.gz has no metadata file. Only a regular file in
 * member<N>/ is served, opened without following a link. */
static enum MHD_Result
backup_file(struct request *r, int metadata)
{
	struct backup_info b;
	struct store s;
	struct stat st;
	struct err e;
	int fd;

	err_clear(&e);
	if (find_backup(r, &s, &b, &e) < 0)
		return reply_err(r, &e);
	if (metadata && b.legacy)
		return reply_error(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "a legacy .tar.gz backup has no metadata file");
	if ((fd = store_open_file(&s, &b, metadata, &st, &e)) < 0)
		return reply_err(r, &e);
	return send_file(r, fd, &st, metadata ? "application/json" :
	    b.legacy ? "application/gzip" : "application/zstd",
	    metadata ? b.meta_name : b.archive_name);
}

enum MHD_Result
api_backup_archive(struct request *r)
{
	return backup_file(r, 0);
}

enum MHD_Result
api_backup_metadata(struct request *r)
{
	return backup_file(r, 1);
}

/* DELETE /v1/backups/ID once the request is valid; with lease_mu held,
 * so that no lease is taken between its check and the delete. */
static enum MHD_Result
backup_delete_locked(struct request *r, int force)
{
	const struct agent_conf *cf = r->api->cf;
	struct backup_info b, newest;
	struct store s;
	struct err e;
	char who[160];

	err_clear(&e);
	if (leased_to_other(r, who, sizeof who))
		return reply_leased(r, who);
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
api_backup_delete(struct request *r)
{
	enum MHD_Result ret;
	int force;

	if (!api_valid_id(r->id, 0))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "not a backup id");
	if (bool_arg(r, "force", &force) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "force must be 0 or 1");
	pthread_mutex_lock(&r->api->lease_mu);
	ret = backup_delete_locked(r, force);
	pthread_mutex_unlock(&r->api->lease_mu);
	return ret;
}

enum MHD_Result
api_backup_verify(struct request *r)
{
	if (!api_valid_id(r->id, 1))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "not a backup id");
	return start_job(r, JOB_VERIFY, json_pack("{s:s}", "backup", r->id),
	    PHASE_VERIFYING, NEED_NOTHING);
}

enum MHD_Result
api_prune(struct request *r)
{
	return start_job(r, JOB_PRUNE, json_object(), PHASE_PRUNING,
	    NEED_NOTHING);
}

/* ---- archive, unpack, rollback ------------------------------------------ */

enum MHD_Result
api_archive(struct request *r)
{
	int quiesce;

	if (bool_arg(r, "quiesce", &quiesce) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "quiesce must be 0 or 1");
	if (quiesce && r->api->cf->n_nodes == 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "quiesce=1 needs [node.NAME] sections in the configuration");
	/* With quiesce=1 the job stops the nodes itself (reading their facts
	 * first); without, they must be stopped already. */
	return start_job(r, JOB_ARCHIVE, json_pack("{s:b}", "quiesce", quiesce),
	    quiesce ? PHASE_READING_FACTS : PHASE_ARCHIVING,
	    quiesce ? NEED_NOTHING : NEED_STOPPED);
}

enum MHD_Result
api_unpack(struct request *r)
{
	const char *id = req_arg(r, "backup");
	int force, in_place;

	if (!api_valid_id(id, 1))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "backup=ID|latest is required (ID as YYYYMMDDTHHMMSSZ, or a "
		    "legacy .tar.gz name)");
	if (bool_arg(r, "force", &force) < 0 ||
	    bool_arg(r, "in_place", &in_place) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "force and in_place must be 0 or 1");
	return start_job(r, JOB_UNPACK, json_pack("{s:s, s:b, s:b}", "backup",
	    id, "force", force, "in_place", in_place), PHASE_UNPACKING,
	    NEED_STOPPED);
}

enum MHD_Result
api_rollback(struct request *r)
{
	return start_job(r, JOB_ROLLBACK, json_object(), PHASE_ROLLING_BACK,
	    NEED_STOPPED);
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
	if (!api_valid_job_id(r->id))
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
api_quiesce(struct request *r)
{
	long long hold = r->api->cf->quiesce_hold;

	if (r->api->cf->n_nodes == 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "no [node.NAME] sections are configured");
	if (api_parse_seconds(req_arg(r, "hold"), 1, 604800, &hold) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "hold must be whole seconds from 1 to 604800");
	return start_job(r, JOB_QUIESCE, json_pack("{s:I}", "hold",
	    (json_int_t)hold), PHASE_READING_FACTS, NEED_NOTHING);
}

enum MHD_Result
api_resume(struct request *r)
{
	return start_job(r, JOB_RESUME, json_object(), PHASE_STARTING,
	    NEED_NOTHING);
}

enum MHD_Result
api_lease_take(struct request *r)
{
	struct api *a = r->api;
	const char *holder = req_arg(r, "holder");
	const char *ttl_s = req_arg(r, "ttl");
	long long ttl = 600;
	time_t now = time(NULL);
	char who[160];
	json_t *out;

	if (!api_valid_holder(holder))
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "holder=NAME is required (1..128 of A-Z a-z 0-9 - _ . : @)");
	if (api_parse_seconds(ttl_s, 1, 86400, &ttl) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "ttl must be whole seconds from 1 to 86400");
	pthread_mutex_lock(&a->lease_mu);
	if (state_lease(a->state, who, sizeof who) > 0 &&
	    strcmp(who, holder) != 0) {
		pthread_mutex_unlock(&a->lease_mu);
		return reply_leased(r, who);
	}
	state_lease_set(a->state, holder, now + ttl);
	lease_save(a, holder, now + ttl);
	pthread_mutex_unlock(&a->lease_mu);
	out = json_pack("{s:s, s:I}", "holder", holder, "expires",
	    (json_int_t)(now + ttl));
	log_info("lease_taken", "holder=%s ttl=%lld", logq(holder), ttl);
	return reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result
api_lease_release(struct request *r)
{
	struct api *a = r->api;
	const char *holder = req_arg(r, "holder");

	char who[160];

	pthread_mutex_lock(&a->lease_mu);
	if (state_lease(a->state, who, sizeof who) > 0 &&
	    (!holder || strcmp(holder, who) != 0)) {
		pthread_mutex_unlock(&a->lease_mu);
		return reply_leased(r, who);
	}
	state_lease_set(a->state, NULL, 0);
	lease_save(a, "", 0);
	pthread_mutex_unlock(&a->lease_mu);
	log_info("lease_released", "holder=%s", logq(holder ? holder : ""));
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "released", 1));
}
