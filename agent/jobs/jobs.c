#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "jobs.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define RECENT_MAX 64
/* history.jsonl moves to history.jsonl.1 (replacing it) once it reaches
 * this size: the two hold the newest 8 to 16 MiB of finished jobs. */
#define HISTORY_ROTATE_BYTES (8u << 20)
#define HISTORY_MAX_BYTES (16u << 20)
/* jobs/ keeps the records of the newest jobs; older ones (their final
 * state is in the history) are removed when the agent starts. */
#define JOB_RECORDS_KEEP 500

static const char *const kind_names[JOB_KIND_COUNT] = {
	[JOB_ARCHIVE] = "archive", [JOB_UNPACK] = "unpack",
	[JOB_ROLLBACK] = "rollback", [JOB_VERIFY] = "verify",
	[JOB_PRUNE] = "prune", [JOB_QUIESCE] = "quiesce",
	[JOB_UPLOAD] = "upload", [JOB_OFFSITE_PRUNE] = "offsite_prune",
	[JOB_RESUME] = "resume",
};

const char *
job_kind_name(enum job_kind kind)
{
	return (int)kind >= 0 && kind < JOB_KIND_COUNT ? kind_names[kind] : "?";
}

struct job {
	char id[48];
	enum job_kind kind;
	const char *state;          /* running, succeeded, failed, interrupted */
	time_t started;
	double t0;                  /* qb_mono_now() at its start */
	double elapsed;
	json_t *params;
	json_t *result;
	struct err err;
	struct progress prog;
};

struct jobs {
	const struct agent_conf *cf;
	struct state *state;        /* the member's; its phase is the job's */
	job_fn run;
	void *ctx;
	char dir[4352];             /* <backup_dir>/member<N>, for messages */
	char member[64];            /* "member<N>" */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t worker;
	int worker_started;
	int quit;
	struct job *pending;        /* handed to the worker */
	int starting;               /* jobs_start is persisting a new job */
	struct job *current;        /* running */
	json_t *recent;             /* finished jobs, newest first */
	volatile sig_atomic_t cancel;
	unsigned seq;
	/* Uploads give way (see jobs.h). */
	int interrupt;              /* the running upload is being cancelled */
	int waiting;                /* starts waiting for it to end */
	struct follow {
		enum job_kind kind;
		json_t *params;
		enum job_phase phase;
	} follow[8];
	size_t nfollow;
	/* Off-site copies, for the metrics: the end of the last upload that
	 * succeeded (seeded from the metadata at start), and the uploads
	 * that failed since the process started. */
	time_t offsite_last;
	unsigned long long offsite_failures;
};

/* Kinds that an upload gives way to. */
static int
interrupts_upload(enum job_kind k)
{
	return k == JOB_ARCHIVE || k == JOB_UNPACK || k == JOB_ROLLBACK ||
	    k == JOB_QUIESCE || k == JOB_RESUME;
}

/* The job's public JSON; js->mu held. */
static json_t *
job_json(struct jobs *js, const struct job *j)
{
	char started[32];
	double elapsed = strcmp(j->state, "running") == 0 ? (qb_mono_now() - j->t0) :
	    j->elapsed;
	const struct progress *p = &j->prog;
	json_t *o;

	store_format_time(j->started, started, sizeof started);
	o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:O, s:{s:I, s:I, s:I, s:I, "
	    "s:f, s:f}}", "id", j->id, "kind", job_kind_name(j->kind),
	    "state", j->state, "started", started, "elapsed", elapsed,
	    "params", j->params ? j->params : json_null(),
	    "progress", "bytes_done", (json_int_t)p->bytes_done,
	    "bytes_total", (json_int_t)p->bytes_total,
	    "files_done", (json_int_t)p->files_done,
	    "files_total", (json_int_t)p->files_total,
	    "percent", p->bytes_total ? 100.0 * (double)p->bytes_done /
	    (double)p->bytes_total : (strcmp(j->state, "succeeded") == 0 ?
	    100.0 : 0.0),
	    "bytes_per_second", elapsed > 0 ? (double)p->bytes_done / elapsed :
	    0.0);
	if (!o)
		return NULL;
	/* While it runs: what it is doing now (stopping, archiving...), as
	 * the state model has it (the current job is this one). */
	if (strcmp(j->state, "running") == 0) {
		const char *ph = state_job_phase_name(js->state);
		json_object_set_new(o, "phase", ph ? json_string(ph) :
		    json_null());
	} else {
		json_object_set_new(o, "phase", json_null());
	}
	json_object_set(o, "result", j->result ? j->result : json_null());
	if (j->err.code != ERR_OK)
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code",
		    err_name(j->err.code), "message", j->err.msg));
	else
		json_object_set_new(o, "error", json_null());
	return o;
}

static void
job_free(struct job *j)
{
	if (!j)
		return;
	json_decref(j->params);
	json_decref(j->result);
	free(j);
}

int
jobs_member_dir(const struct jobs *js, int create, struct err *e)
{
	int bfd = open(js->cf->backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (bfd < 0)
		return err_sys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
		    "open backup directory %s", js->cf->backup_dir);
	fd = fs_opendirat(bfd, js->member, js->dir, create, e);
	close(bfd);
	return fd;
}

/* A directory below the member's directory (jobs/), as member_dir. */
static int
member_subdir(const struct jobs *js, const char *name, int create,
    struct err *e)
{
	char shown[4500];
	int mfd = jobs_member_dir(js, create, e), fd;

	if (mfd < 0)
		return -1;
	snprintf(shown, sizeof shown, "%s/%s", js->dir, name);
	fd = fs_opendirat(mfd, name, shown, create, e);
	close(mfd);
	return fd;
}

static void
persist(struct jobs *js, json_t *o, const char *id)
{
	char name[128], shown[4600];
	struct err e;
	int dfd = member_subdir(js, "jobs", 1, &e);

	snprintf(name, sizeof name, "%s.json", id);
	snprintf(shown, sizeof shown, "%s/jobs/%s", js->dir, name);
	if (dfd < 0 || json_write_fileat(dfd, name, shown, o, 0600, &e) < 0)
		log_warn("job_persist_failed", "id=%s path=%s error=%s", id,
		    logq(shown), logq(e.msg));
	if (dfd >= 0)
		close(dfd);
}

static void
append_history(struct jobs *js, json_t *o)
{
	char shown[4500], *line;
	struct stat st;
	struct err e;
	int mfd, fd;

	line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	if (!line)
		return;
	snprintf(shown, sizeof shown, "%s/history.jsonl", js->dir);
	if ((mfd = jobs_member_dir(js, 1, &e)) < 0) {
		log_warn("history_failed", "path=%s error=%s", logq(shown),
		    logq(e.msg));
		free(line);
		return;
	}
	/* Rotation: a rename, which moves a link rather than follow it. */
	if (fstatat(mfd, "history.jsonl", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size >= HISTORY_ROTATE_BYTES) {
		if (renameat(mfd, "history.jsonl", mfd, "history.jsonl.1") == 0)
			log_info("history_rotated", "path=%s.1", logq(shown));
		else
			log_warn("history_rotate_failed", "path=%s error=%s",
			    logq(shown), logq(strerror(errno)));
	}
	fd = fs_openat_regular(mfd, "history.jsonl", shown, O_WRONLY | O_APPEND |
	    O_CREAT, NULL, &e);
	if (fd >= 0) {
		/* fchmod on the file opened, never on what a name points to */
		if (fchmod(fd, 0600) < 0 || fs_write_all(fd, line,
		    strlen(line)) < 0 || fs_write_all(fd, "\n", 1) < 0 ||
		    fsync(fd) < 0)
			log_warn("history_failed", "path=%s error=%s", logq(shown),
			    logq(strerror(errno)));
		close(fd);
	} else {
		log_warn("history_failed", "path=%s error=%s", logq(shown),
		    logq(e.msg));
	}
	close(mfd);
	free(line);
}

static void
on_progress(const struct progress *p, void *arg)
{
	struct jobs *js = arg;

	pthread_mutex_lock(&js->mu);
	if (js->current)
		js->current->prog = *p;
	pthread_mutex_unlock(&js->mu);
}

void
jobs_set_phase(struct jobs *js, enum job_phase phase)
{
	state_job_phase(js->state, phase);
	log_info("job_phase", "phase=%s", logq(state_phase_name(phase) ?
	    state_phase_name(phase) : "-"));
}

/* Record the end of job j (rc 0: succeeded, else failed with e): in the
 * recent list, on disk and in the history, its waiters woken, j freed.
 * Called with js->mu held, which it drops while it writes; returns with it
 * held. */
static void
job_finish_locked(struct jobs *js, struct job *j, int rc,
    const struct err *e)
{
	json_t *o;

	j->elapsed = (qb_mono_now() - j->t0);
	if (rc < 0 && j->kind == JOB_UPLOAD && js->interrupt &&
	    js->current == j) {
		/* Given way to another job: again once it has run. */
		j->state = "interrupted";
		j->err = *e;
		js->interrupt = 0;
		if (js->nfollow < 8) {
			memmove(&js->follow[1], &js->follow[0],
			    js->nfollow * sizeof js->follow[0]);
			js->follow[0].kind = JOB_UPLOAD;
			js->follow[0].params = json_incref(j->params);
			js->follow[0].phase = PHASE_UPLOADING;
			js->nfollow++;
		}
	} else if (rc == 0) {
		j->state = "succeeded";
		if (j->kind == JOB_UPLOAD)
			js->offsite_last = time(NULL);
		/* Progress comes in steps: a job that succeeded did all. */
		j->prog.bytes_done = j->prog.bytes_total;
		j->prog.files_done = j->prog.files_total;
	} else {
		j->state = "failed";
		j->err = *e;
		if (j->kind == JOB_UPLOAD)
			js->offsite_failures++;
	}
	o = job_json(js, j);
	if (js->current == j) {
		js->current = NULL;
		/* An upload that ended before the cancel took hold. */
		js->interrupt = 0;
	}
	if (js->pending == j)
		js->pending = NULL;
	/* The state model has no current job before any waiter wakes: a
	 * ?wait that saw this job end sees the member as it is after it. */
	state_job_end(js->state, j->id);
	if (o)
		json_array_insert(js->recent, 0, o);
	while (json_array_size(js->recent) > RECENT_MAX)
		json_array_remove(js->recent, RECENT_MAX);
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);

	if (o) {
		persist(js, o, j->id);
		append_history(js, o);
		json_decref(o);
	}
	log_info("job_done", "id=%s kind=%s state=%s seconds=%.3f%s%s",
	    j->id, job_kind_name(j->kind), j->state, j->elapsed,
	    rc ? " error=" : "", rc ? logq(e->msg) : "");
	job_free(j);
	pthread_mutex_lock(&js->mu);
}

static int new_job_locked(struct jobs *js, enum job_kind kind,
    json_t *params, enum job_phase phase, json_t **out, struct err *e);

/* The first queued follow-up as the pending job; js->mu held (dropped
 * while its record is written). -1 when it could not be made. */
static int
start_follow_up_locked(struct jobs *js)
{
	struct follow f = js->follow[0];
	json_t *out = NULL;
	struct err e;
	int rc;

	memmove(&js->follow[0], &js->follow[1],
	    (js->nfollow - 1) * sizeof js->follow[0]);
	js->nfollow--;
	rc = new_job_locked(js, f.kind, f.params, f.phase, &out, &e);
	json_decref(f.params);
	json_decref(out);
	if (rc < 0)
		log_warn("follow_up_dropped", "kind=%s error=%s",
		    job_kind_name(f.kind), logq(e.msg));
	return rc;
}

void
jobs_follow_up(struct jobs *js, enum job_kind kind, json_t *params,
    enum job_phase phase)
{
	pthread_mutex_lock(&js->mu);
	if (js->nfollow < 8) {
		js->follow[js->nfollow].kind = kind;
		js->follow[js->nfollow].params = params ? params : json_object();
		js->follow[js->nfollow].phase = phase;
		js->nfollow++;
	} else {
		log_warn("follow_up_dropped", "kind=%s reason=%s",
		    job_kind_name(kind), logq("too many queued"));
		json_decref(params);
	}
	pthread_mutex_unlock(&js->mu);
}

void
jobs_offsite_seed(struct jobs *js, time_t last_success)
{
	pthread_mutex_lock(&js->mu);
	if (last_success > js->offsite_last)
		js->offsite_last = last_success;
	pthread_mutex_unlock(&js->mu);
}

void
jobs_offsite_stats(struct jobs *js, time_t *last_success,
    unsigned long long *failures)
{
	pthread_mutex_lock(&js->mu);
	*last_success = js->offsite_last;
	*failures = js->offsite_failures;
	pthread_mutex_unlock(&js->mu);
}

static void *
worker_main(void *arg)
{
	struct jobs *js = arg;

	pthread_mutex_lock(&js->mu);
	for (;;) {
		struct job *j;
		struct op_hooks hooks;
		json_t *result = NULL;
		struct err e;
		int rc;

		while (!js->pending && !js->quit &&
		    (js->nfollow == 0 || js->waiting || js->starting))
			pthread_cond_wait(&js->cv, &js->mu);
		if (!js->pending && !js->quit && start_follow_up_locked(js) < 0)
			continue;
		if (!js->pending)
			break;
		if (js->quit) {
			/* Queued as the agent began to stop: it never runs. */
			err_set(&e, ERR_FAILED, "the agent is shutting down: the "
			    "job did not start");
			job_finish_locked(js, js->pending, -1, &e);
			break;
		}
		j = js->pending;
		js->pending = NULL;
		js->current = j;
		js->cancel = 0;
		pthread_mutex_unlock(&js->mu);

		memset(&hooks, 0, sizeof hooks);
		hooks.progress = on_progress;
		hooks.progress_arg = js;
		hooks.cancel = &js->cancel;
		err_clear(&e);
		log_info("job_start", "id=%s kind=%s", j->id, job_kind_name(j->kind));
		rc = js->run(js, j->kind, j->params, j->id, &hooks, &result, &e);

		pthread_mutex_lock(&js->mu);
		j->result = result;
		job_finish_locked(js, j, rc, &e);
	}
	pthread_mutex_unlock(&js->mu);
	return NULL;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in jobs/ ending in ".json" or ".partial", sorted; regular
 * files only (anything else is logged and left alone). *names freed by
 * the caller, each name too. */
static size_t
record_names(int dfd, const char *shown, char ***names)
{
	int dup_fd = dup(dfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	*names = NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char **nv;

		if (!strstr(de->d_name, ".json") &&
		    !strstr(de->d_name, FS_PARTIAL_SUFFIX))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			log_warn("job_record_skipped", "path=%s/%s reason=%s",
			    logq(shown), logq(de->d_name),
			    logq("not a regular file"));
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(nv = realloc(v, cap * sizeof *v)))
				break;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, by_name);
	*names = v;
	return n;
}

/* Jobs that were running when the agent stopped are interrupted now. */
static void
load_persisted(struct jobs *js)
{
	char shown[4500], **names;
	struct err e;
	int dfd = member_subdir(js, "jobs", 0, &e);
	size_t n;
	int records = 0, removed = 0;

	if (dfd < 0) {
		if (e.code != ERR_NOT_FOUND)
			log_warn("job_records_unreadable", "error=%s",
			    logq(e.msg));
		return;
	}
	snprintf(shown, sizeof shown, "%s/jobs", js->dir);
	n = record_names(dfd, shown, &names);
	for (size_t i = n; i-- > 0;) {
		char path[4800];
		json_t *o = NULL;
		const char *state;

		snprintf(path, sizeof path, "%s/%s", shown, names[i]);
		if (strstr(names[i], FS_PARTIAL_SUFFIX))
			unlinkat(dfd, names[i], 0);   /* a record write the agent
			                               * did not finish */
		else
			o = json_load_at(dfd, names[i], path, 1u << 20, &e);
		if (!o) {
			free(names[i]);
			continue;
		}
		state = json_get_str(o, "state");
		if (state && strcmp(state, "running") == 0) {
			json_object_set_new(o, "state", json_string("interrupted"));
			json_object_set_new(o, "error", json_pack("{s:s, s:s}",
			    "code", "interrupted", "message", "the agent stopped "
			    "while this job ran"));
			json_write_fileat(dfd, names[i], path, o, 0600, &e);
			append_history(js, o);
			log_warn("job_interrupted", "id=%s kind=%s",
			    json_get_str(o, "id") ? json_get_str(o, "id") : "?",
			    json_get_str(o, "kind") ? json_get_str(o, "kind") : "?");
		}
		if (++records > JOB_RECORDS_KEEP &&
		    unlinkat(dfd, names[i], 0) == 0)
			removed++;
		free(names[i]);
		if (json_array_size(js->recent) < RECENT_MAX)
			json_array_append_new(js->recent, o);
		else
			json_decref(o);
	}
	free(names);
	close(dfd);
	if (removed)
		log_info("job_records_pruned", "removed=%d kept=%d", removed,
		    JOB_RECORDS_KEEP);
}

const struct agent_conf *
jobs_conf(const struct jobs *js)
{
	return js->cf;
}

void *
jobs_ctx(const struct jobs *js)
{
	return js->ctx;
}

struct jobs *
jobs_new(const struct agent_conf *cf, struct state *state, job_fn run,
    void *ctx, struct err *e)
{
	struct jobs *js = calloc(1, sizeof *js);
	char name[64];

	if (!js || !(js->recent = json_array())) {
		free(js);
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	js->cf = cf;
	js->state = state;
	js->run = run;
	js->ctx = ctx;
	store_member_name(cf->member, name, sizeof name);
	snprintf(js->member, sizeof js->member, "%s", name);
	if (fs_join(js->dir, sizeof js->dir, cf->backup_dir, name) < 0) {
		json_decref(js->recent);
		free(js);
		err_set(e, ERR_CONFIG, "backup_dir is too long");
		return NULL;
	}
	pthread_mutex_init(&js->mu, NULL);
	pthread_cond_init(&js->cv, NULL);
	load_persisted(js);
	if (pthread_create(&js->worker, NULL, worker_main, js) != 0) {
		jobs_free(js);
		err_set(e, ERR_FAILED, "cannot start the job worker");
		return NULL;
	}
	js->worker_started = 1;
	return js;
}

void
jobs_stop(struct jobs *js)
{
	if (!js || !js->worker_started)
		return;
	pthread_mutex_lock(&js->mu);
	js->quit = 1;
	js->cancel = 1;
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);
	pthread_join(js->worker, NULL);
	js->worker_started = 0;
}

void
jobs_free(struct jobs *js)
{
	if (!js)
		return;
	jobs_stop(js);
	job_free(js->pending);
	for (size_t i = 0; i < js->nfollow; i++)
		json_decref(js->follow[i].params);
	json_decref(js->recent);
	pthread_mutex_destroy(&js->mu);
	pthread_cond_destroy(&js->cv);
	free(js);
}

/* ERR_BUSY when a job runs, is about to, or the agent stops; js->mu
 * held. */
static int
check_free_locked(struct jobs *js, struct err *e)
{
	if (js->current || js->pending) {
		struct job *c = js->current ? js->current : js->pending;
		return err_set(e, ERR_BUSY, "job %s (%s) is running; one job at "
		    "a time", c->id, job_kind_name(c->kind));
	}
	if (js->starting)
		return err_set(e, ERR_BUSY, "another job is starting; one job at "
		    "a time");
	if (js->quit)
		return err_set(e, ERR_BUSY, "the agent is shutting down");
	return 0;
}

int
jobs_check_free(struct jobs *js, struct err *e)
{
	int rc;

	pthread_mutex_lock(&js->mu);
	/* A running upload gives way to the jobs this check is made for. */
	rc = js->current && js->current->kind == JOB_UPLOAD && !js->pending &&
	    !js->starting && !js->quit ? 0 : check_free_locked(js, e);
	pthread_mutex_unlock(&js->mu);
	return rc;
}

/* A new job, pending for the worker; js->mu held, dropped while its
 * record is written (other starts are refused meanwhile). */
static int
new_job_locked(struct jobs *js, enum job_kind kind, json_t *params,
    enum job_phase phase, json_t **out, struct err *e)
{
	struct job *j;
	struct tm tm;
	char stamp[32];

	if (check_free_locked(js, e) < 0)
		return -1;
	if (!(j = calloc(1, sizeof *j)))
		return err_set(e, ERR_FAILED, "out of memory");
	j->kind = kind;
	j->state = "running";
	j->started = time(NULL);
	j->t0 = qb_mono_now();
	j->params = params ? json_incref(params) : json_object();
	gmtime_r(&j->started, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(j->id, sizeof j->id, "j-%s-%u-%d", stamp, ++js->seq,
	    (int)(getpid() % 100000));
	/* From here the member's state shows this job (and, by its phase,
	 * whether the member is down): before anyone hears it started. */
	state_job_begin(js->state, j->id, job_kind_name(kind), phase);
	*out = job_json(js, j);
	/* The running state is on disk before the worker may see the job:
	 * otherwise a job that ends at once could have its final state
	 * overwritten by this one (and be "interrupted" after a restart), and
	 * j could be freed under us. Meanwhile other starts are refused. */
	js->starting = 1;
	pthread_mutex_unlock(&js->mu);
	if (*out)
		persist(js, *out, j->id);
	pthread_mutex_lock(&js->mu);
	js->starting = 0;
	if (js->quit) {
		/* The agent began to stop while the record was written: the
		 * worker may be gone, and the job never runs. */
		struct err q;
		err_set(&q, ERR_FAILED, "the agent is shutting down: the job "
		    "did not start");
		job_finish_locked(js, j, -1, &q);
		json_decref(*out);
		*out = NULL;
		return err_set(e, ERR_BUSY, "the agent is shutting down");
	}
	js->pending = j;
	pthread_cond_broadcast(&js->cv);
	return 0;
}

/* A running upload gives way to kind: cancelled, and waited for (up to a
 * minute); js->mu held. */
static void
interrupt_upload_locked(struct jobs *js, enum job_kind kind)
{
	struct timespec until;

	if (!interrupts_upload(kind) || !js->current ||
	    js->current->kind != JOB_UPLOAD)
		return;
	log_info("upload_interrupted", "id=%s for=%s", js->current->id,
	    job_kind_name(kind));
	js->interrupt = 1;
	js->cancel = 1;
	js->waiting++;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	while (js->current && js->current->kind == JOB_UPLOAD && !js->quit)
		if (pthread_cond_timedwait(&js->cv, &js->mu, &until) != 0)
			break;
	js->waiting--;
	pthread_cond_broadcast(&js->cv);
}

int
jobs_start(struct jobs *js, enum job_kind kind, json_t *params,
    enum job_phase phase, json_t **out, struct err *e)
{
	int rc;

	pthread_mutex_lock(&js->mu);
	interrupt_upload_locked(js, kind);
	rc = new_job_locked(js, kind, params, phase, out, e);
	pthread_mutex_unlock(&js->mu);
	return rc;
}

static json_t *
find_locked(struct jobs *js, const char *id)
{
	size_t i;
	json_t *o;

	if (js->current && strcmp(js->current->id, id) == 0)
		return job_json(js, js->current);
	if (js->pending && strcmp(js->pending->id, id) == 0)
		return job_json(js, js->pending);
	json_array_foreach(js->recent, i, o)
		if (json_get_str(o, "id") && strcmp(json_get_str(o, "id"), id) == 0)
			return json_incref(o);
	return NULL;
}

json_t *
jobs_get(struct jobs *js, const char *id, double wait_s)
{
	struct timespec deadline;
	json_t *o;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)wait_s;
	deadline.tv_nsec += (long)((wait_s - (double)(time_t)wait_s) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&js->mu);
	while (wait_s > 0 && ((js->current && strcmp(js->current->id, id) == 0) ||
	    (js->pending && strcmp(js->pending->id, id) == 0)))
		if (pthread_cond_timedwait(&js->cv, &js->mu, &deadline) ==
		    ETIMEDOUT)
			break;
	o = find_locked(js, id);
	pthread_mutex_unlock(&js->mu);
	return o;
}

json_t *
jobs_list(struct jobs *js)
{
	json_t *out;

	pthread_mutex_lock(&js->mu);
	out = json_array();
	if (js->pending)
		json_array_append_new(out, job_json(js, js->pending));
	if (js->current)
		json_array_append_new(out, job_json(js, js->current));
	json_array_extend(out, js->recent);
	pthread_mutex_unlock(&js->mu);
	return out;
}

json_t *
jobs_current(struct jobs *js)
{
	json_t *o = NULL;

	pthread_mutex_lock(&js->mu);
	if (js->current)
		o = job_json(js, js->current);
	else if (js->pending)
		o = job_json(js, js->pending);
	pthread_mutex_unlock(&js->mu);
	return o;
}

int
jobs_busy(struct jobs *js)
{
	int r;

	pthread_mutex_lock(&js->mu);
	r = js->current || js->pending;
	pthread_mutex_unlock(&js->mu);
	return r;
}

/* The last max bytes of the member directory's file name (from its first
 * whole line), as a NUL-terminated buffer: the history only grows, and
 * its newest lines are the ones asked for. */
static int
read_tail(int mfd, const char *name, const char *shown, size_t max,
    char **out, size_t *len, struct err *e)
{
	struct stat st;
	off_t from = 0;
	size_t want, got = 0;
	char *buf, *nl;
	int fd = fs_openat_regular(mfd, name, shown, O_RDONLY, &st, e);

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	if ((uint64_t)st.st_size > max)
		from = st.st_size - (off_t)max;
	want = (size_t)(st.st_size - from);
	if (!(buf = malloc(want + 1))) {
		close(fd);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return err_sys(e, ERR_FAILED, "read %s", shown);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	/* A cut first line is not JSON: start after it. */
	if (from > 0 && (nl = memchr(buf, '\n', got)) != NULL) {
		got -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, got + 1);
	}
	*out = buf;
	*len = got;
	return 0;
}

/* Append the JSON lines of the newest HISTORY_MAX_BYTES of the member
 * directory's file name to all (oldest first). A missing file adds
 * nothing. */
static int
history_lines(int mfd, const char *name, const char *shown, json_t *all,
    struct err *e)
{
	char *buf, *line, *save = NULL;
	size_t len;

	if (read_tail(mfd, name, shown, HISTORY_MAX_BYTES, &buf, &len, e) < 0) {
		if (e->code != ERR_NOT_FOUND)
			return -1;
		err_clear(e);
		return 0;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL);
		if (o)
			json_array_append_new(all, o);
	}
	free(buf);
	return 0;
}

json_t *
jobs_history(struct jobs *js, size_t limit, struct err *e)
{
	char path[4500], old[4600];
	json_t *all = json_array(), *out;
	int mfd;

	snprintf(path, sizeof path, "%s/history.jsonl", js->dir);
	snprintf(old, sizeof old, "%s.1", path);
	if ((mfd = jobs_member_dir(js, 0, e)) < 0) {
		if (e->code == ERR_NOT_FOUND) {
			err_clear(e);
			return all;   /* no job ever ran here */
		}
		json_decref(all);
		return NULL;
	}
	if (history_lines(mfd, "history.jsonl", path, all, e) < 0) {
		json_decref(all);
		close(mfd);
		return NULL;
	}
	/* Fewer than asked for: the rotated file holds the ones before. */
	if (json_array_size(all) < limit) {
		json_t *older = json_array();
		if (history_lines(mfd, "history.jsonl.1", old, older, e) < 0) {
			json_decref(older);
			json_decref(all);
			close(mfd);
			return NULL;
		}
		json_array_extend(older, all);
		json_decref(all);
		all = older;
	}
	close(mfd);
	out = json_array();
	for (size_t i = json_array_size(all); i > 0 &&
	    json_array_size(out) < limit; i--)
		json_array_append(out, json_array_get(all, i - 1));
	json_decref(all);
	return out;
}
