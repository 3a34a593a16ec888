/* restore: the listed members go down together. Before anything stops:
 * every agent answers, the leases are taken, and the backup exists and is
 * complete on every member (exit 4 otherwise); stopping more members than
 * the quorum allows needs --all or --force. Then: quiesce each, unpack on
 * each (--parallel K at a time), resume each in member order, and wait
 * until all are ready. A member whose unpack failed keeps its data (the
 * agent verifies before it swaps) and is resumed like the others. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctl.h"
#include "json.h"
#include "log.h"

static void
fail_member(struct result *r, const char *code, const char *msg)
{
	size_t len = strlen(r->msg);

	snprintf(r->state, sizeof r->state, "failed");
	if (!r->code[0]) {   /* the first failure is the one to tell */
		snprintf(r->code, sizeof r->code, "%s", code);
		snprintf(r->msg, sizeof r->msg, "%s", msg);
	} else if (len + 16 < sizeof r->msg) {
		/* A later one (the resume after a failed unpack) is told too:
		 * it may mean the node is still down. */
		snprintf(r->msg + len, sizeof r->msg - len, "; then %s: %s", code,
		    msg);
	}
}

/* Look the backup up on member i: 0 found and complete, 1 not found, -1
 * the agent could not say. */
static int
find_backup(struct ctl *c, size_t i, const char *want, struct result *r)
{
	char path[200], esc[160];
	struct reply rep;
	const json_t *meta;
	int rc = 0;

	client_escape(want, esc, sizeof esc);
	snprintf(path, sizeof path, "/v1/backups/%s", esc);
	if (client_call(&c->cl, &c->members[i], "GET", path, 0, &rep) < 0) {
		rc = rep.status == 404 || rep.status == 400 ? 1 : -1;
		snprintf(r->code, sizeof r->code, "%s", rep.status == 404 ?
		    "not_found" : rep.code);
		snprintf(r->msg, sizeof r->msg, "backup %s: %s", want, rep.msg);
		reply_free(&rep);
		return rc;
	}
	meta = json_object_get(rep.body, "metadata");
	snprintf(r->backup, sizeof r->backup, "%s",
	    json_get_str(rep.body, "id") ? json_get_str(rep.body, "id") : want);
	r->size = json_get_u(rep.body, "size");
	r->height = json_get_u(json_object_get(meta, "node"), "block_number");
	if (!json_is_object(meta) &&
	    !json_is_true(json_object_get(rep.body, "legacy"))) {
		snprintf(r->code, sizeof r->code, "not_found");
		snprintf(r->msg, sizeof r->msg, "backup %s has no metadata: it is "
		    "not complete", r->backup);
		rc = 1;
	}
	reply_free(&rep);
	return rc;
}

/* The same in member i's [offsite] bucket (GET /v1/offsite/backups,
 * newest first): "latest" is the newest complete copy there. */
static int
find_copy(struct ctl *c, size_t i, const char *want, struct result *r)
{
	struct reply rep;
	const json_t *v = NULL, *b;
	size_t k;

	if (client_call(&c->cl, &c->members[i], "GET", "/v1/offsite/backups",
	    0, &rep) < 0 || !json_is_array(rep.body)) {
		snprintf(r->code, sizeof r->code, "%s", rep.code[0] ? rep.code :
		    "bad_reply");
		snprintf(r->msg, sizeof r->msg, "the bucket's copies: %s",
		    rep.msg[0] ? rep.msg : "not a list");
		reply_free(&rep);
		return -1;
	}
	json_array_foreach(rep.body, k, b) {
		const char *id = json_get_str(b, "id");

		if (id && (strcmp(want, "latest") == 0 || strcmp(want, id) == 0)) {
			v = b;
			break;
		}
	}
	if (!v) {
		snprintf(r->code, sizeof r->code, "not_found");
		snprintf(r->msg, sizeof r->msg, "backup %s: no complete copy in "
		    "the bucket", want);
		reply_free(&rep);
		return 1;
	}
	snprintf(r->backup, sizeof r->backup, "%s", json_get_str(v, "id"));
	r->size = json_get_u(v, "size");
	reply_free(&rep);
	return 0;
}

/* Follow several jobs at once until each has ended: ids[k] for member
 * idx[k] ("" = none). A failure is recorded in the member's result. An
 * agent that cannot be asked (a restart, a network blip) is asked again,
 * up to 5 times in a row, before its job counts as lost. */
static void
follow_jobs(struct ctl *c, const size_t *idx, size_t n, char (*ids)[96],
    const char *step, double deadline)
{
	int *fails = calloc(n ? n : 1, sizeof *fails);
	size_t left = 0;

	for (size_t k = 0; k < n; k++)
		left += ids[k][0] != '\0';
	while (left > 0) {
		int blip = 0;

		for (size_t k = 0; k < n; k++) {
			json_t *job = NULL;
			char code[64], msg[1024];
			int st;

			if (!ids[k][0])
				continue;
			if (qb_mono_now() > deadline) {
				snprintf(msg, sizeof msg, "job %s did not end within "
				    "job_timeout (%lld s); it goes on on the agent", ids[k],
				    c->cf.job_timeout);
				fail_member(&c->res[idx[k]], "timeout", msg);
				ids[k][0] = '\0';
				left--;
				continue;
			}
			st = poll_job(c, idx[k], ids[k], left > 1 ? 0.5 : 2, &job,
			    code, sizeof code, msg, sizeof msg);
			if (st < 0 && fails && ++fails[k] < 5) {
				json_decref(job);
				blip = 1;
				continue;
			}
			if (fails)
				fails[k] = 0;
			if (st != 0) {
				if (st < 0 || strcmp(json_get_str(job, "state"),
				    "succeeded") != 0)
					fail_member(&c->res[idx[k]], code, msg);
				else
					c->res[idx[k]].duration += json_number_value(
					    json_object_get(job, "elapsed"));
				out_progress(c, c->members[idx[k]].n, step, job, 1);
				ids[k][0] = '\0';
				left--;
			} else {
				out_progress(c, c->members[idx[k]].n, step, job, 0);
			}
			json_decref(job);
			leases_renew(c, 0);
		}
		if (blip)
			qb_sleep(1);
	}
	free(fails);
	out_flush(c);
}

/* Start `path` on each member of idx whose start[k] is set, in order,
 * `parallel` at a time (0: all), and follow each batch to its end; each
 * batch has job_timeout. After a stop signal no new job starts (start[k]
 * is cleared for those); jobs already started are followed. when_free:
 * wait out 409 busy (see start_job_when_free), up to `hold` seconds, for
 * the resume. */
static void
run_on_all(struct ctl *c, const size_t *idx, size_t n, const char *path,
    int with_backup, const char *after, const char *step, long parallel,
    int *start, int when_free)
{
	char (*ids)[96] = calloc(n ? n : 1, sizeof *ids);
	size_t next = 0;

	if (!ids)
		return;
	if (parallel < 1)
		parallel = (long)n;
	while (next < n) {
		double deadline = qb_mono_now() + (double)c->cf.job_timeout;
		size_t running = 0;

		/* Start up to `parallel` jobs, then follow them to their end. */
		for (; next < n && running < (size_t)parallel; next++) {
			char full[400], esc[200], code[64], msg[1024];
			struct result *r = &c->res[idx[next]];
			int st;

			if (!start[next])
				continue;
			if (ctl_stopping(c)) {
				start[next] = 0;
				continue;
			}
			client_escape(r->backup, esc, sizeof esc);
			snprintf(full, sizeof full, "%s%s%s", path, with_backup ? esc :
			    "", after ? after : "");
			/* The job in the way may be an unpack we gave up on at
			 * job_timeout: wait as long as the hold, after which the
			 * agent would resume the node by itself. */
			if (when_free)
				st = start_job_when_free(c, idx[next], full,
				    qb_mono_now() + (double)c->cf.hold, ids[next],
				    sizeof ids[next], code, sizeof code, msg,
				    sizeof msg);
			else
				st = start_job(c, idx[next], full, ids[next],
				    sizeof ids[next], code, sizeof code, msg,
				    sizeof msg);
			if (st < 0) {
				fail_member(r, code, msg);
				ids[next][0] = '\0';
				continue;
			}
			running++;
		}
		follow_jobs(c, idx, n, ids, step, deadline);
	}
	free(ids);
}

/* What a restore carries from one step to the next; per k, for member
 * index idx[k]. */
struct restore {
	struct ctl *c;
	const struct cmd_opts *o;
	const char *want;      /* the backup id, or "latest" */
	size_t *idx, n;
	int *quiesced;         /* its stop was asked: the resume covers it */
	int *go;               /* its unpack was to start */
	double *down_at;       /* qb_mono_now() when its stop was asked */
};

static void
restore_free(struct restore *rs)
{
	free(rs->idx);
	free(rs->quiesced);
	free(rs->go);
	free(rs->down_at);
}

/* The members, the state of each step, every result "pending". EXIT_OK, or
 * the exit code (no summary then). */
static int
restore_begin(struct restore *rs, struct ctl *c, const struct cmd_opts *o)
{
	memset(rs, 0, sizeof *rs);
	rs->c = c;
	rs->o = o;
	rs->want = o->backup ? o->backup : "latest";
	if (select_members(c, o, 0, &rs->idx, &rs->n) < 0)
		return EXIT_USAGE;
	rs->quiesced = calloc(rs->n, sizeof *rs->quiesced);
	rs->go = calloc(rs->n, sizeof *rs->go);
	rs->down_at = calloc(rs->n, sizeof *rs->down_at);
	if (!rs->quiesced || !rs->go || !rs->down_at) {
		restore_free(rs);
		fprintf(stderr, "quorum-backup: out of memory\n");
		return EXIT_FAILED;
	}
	for (size_t k = 0; k < rs->n; k++)
		snprintf(c->res[rs->idx[k]].state, sizeof c->res[rs->idx[k]].state,
		    "pending");
	return EXIT_OK;
}

/* 1. Before anything stops: the backup on every member. EXIT_OK, or the
 * exit code when it is not on every member or an agent does not say. */
static int
check_backups(struct restore *rs)
{
	struct ctl *c = rs->c;
	int missing = 0, unreachable = 0;

	for (size_t k = 0; k < rs->n; k++) {
		struct result *r = &c->res[rs->idx[k]];
		int f = rs->o->from_offsite ? find_copy(c, rs->idx[k], rs->want,
		    r) : find_backup(c, rs->idx[k], rs->want, r);

		if (f == 1) {
			missing = 1;
			snprintf(r->state, sizeof r->state, "not_found");
		} else if (f < 0) {
			unreachable = 1;
			snprintf(r->state, sizeof r->state, "failed");
		}
	}
	if (!missing && !unreachable)
		return EXIT_OK;
	out_info(c, "nothing was stopped: %s", missing ? (rs->o->from_offsite ?
	    "the backup is not in every member's bucket" :
	    "the backup is not on every member") : "an agent does not answer");
	return missing ? EXIT_NOT_FOUND : EXIT_FAILED;
}

/* 2. The leases, then the quorum: a restore that halts the network needs
 * --all or --force. EXIT_OK, or the exit code (the leases released). */
static int
take_leases(struct restore *rs)
{
	struct ctl *c = rs->c;
	char why[1200];
	struct network net;
	int rc;

	if ((rc = leases_take_all(c, rs->idx, rs->n)) != EXIT_OK)
		return rc;
	network_read(c, &net);
	rc = safety_check(c, &net, rs->idx, rs->n, 0, why, sizeof why);
	network_free(&net);
	if (rc >= 0)
		return EXIT_OK;
	if (rs->o->all || rs->o->force) {
		out_warn(c, "the network halts until the restored members are "
		    "back: %s", why);
		return EXIT_OK;
	}
	out_info(c, "refused: %s. Use --all (every member) or --force to "
	    "restore anyway; the network halts until they are back", why);
	for (size_t k = 0; k < rs->n; k++) {
		struct result *r = &c->res[rs->idx[k]];

		snprintf(r->state, sizeof r->state, "refused");
		snprintf(r->code, sizeof r->code, "unsafe");
		snprintf(r->msg, sizeof r->msg, "%s", why);
	}
	leases_release(c);
	return EXIT_REFUSED;
}

/* 3. Quiesce, in member order. A failure stops here: what was stopped is
 * resumed (step 5). */
static void
quiesce_members(struct restore *rs)
{
	struct ctl *c = rs->c;

	for (size_t k = 0; k < rs->n && !ctl_stopping(c); k++) {
		char path[96], code[64], m2[1024];
		json_t *job = NULL;

		snprintf(path, sizeof path, "/v1/quiesce?hold=%lld", c->cf.hold);
		out_info(c, "member %d: stopping the node",
		    c->members[rs->idx[k]].n);
		rs->down_at[k] = qb_mono_now();
		if (run_job(c, rs->idx[k], path, "stop", &job, code, sizeof code,
		    m2, sizeof m2) < 0) {
			fail_member(&c->res[rs->idx[k]], code, m2);
			/* A quiesce that failed may have stopped some nodes: the
			 * resume covers it. */
			rs->quiesced[k] = 1;
			json_decref(job);
			break;
		}
		c->res[rs->idx[k]].duration = 0;
		rs->quiesced[k] = 1;
		json_decref(job);
	}
}

/* 4. Unpack where every member was stopped, --parallel at a time; else
 * nothing is unpacked. */
static void
unpack_members(struct restore *rs)
{
	struct ctl *c = rs->c;
	int all_down = 1;

	for (size_t k = 0; k < rs->n; k++)
		if (!rs->quiesced[k] || c->res[rs->idx[k]].code[0])
			all_down = 0;
	for (size_t k = 0; k < rs->n; k++)
		rs->go[k] = all_down && !ctl_stopping(c);
	if (all_down && !ctl_stopping(c)) {
		out_info(c, "unpacking on %zu member%s, %ld at a time", rs->n,
		    rs->n == 1 ? "" : "s", rs->o->parallel);
		run_on_all(c, rs->idx, rs->n, "/v1/unpack?backup=", 1,
		    rs->o->from_offsite ? "&from=offsite" : NULL, "unpack",
		    rs->o->parallel, rs->go, 0);
	} else if (!ctl_stopping(c)) {
		out_info(c, "not every member stopped: nothing is unpacked, the "
		    "stopped members are resumed");
		for (size_t k = 0; k < rs->n; k++)
			if (!c->res[rs->idx[k]].code[0])
				fail_member(&c->res[rs->idx[k]], "not_started",
				    "another member could not be stopped");
	}
}

/* 5. Resume every member that was stopped, in member order, even after a
 * stop signal: a validator is not left down by us. Then wait until each
 * is ready. */
static void
resume_members(struct restore *rs)
{
	struct ctl *c = rs->c;
	volatile sig_atomic_t *saved = c->stop;

	c->stop = NULL;   /* the resume runs to its end */
	for (size_t k = 0; k < rs->n; k++)
		if (rs->quiesced[k])
			out_info(c, "member %d: starting the node",
			    c->members[rs->idx[k]].n);
	run_on_all(c, rs->idx, rs->n, "/v1/resume", 0, NULL, "start", 0,
	    rs->quiesced, 1);
	for (size_t k = 0; k < rs->n; k++) {
		struct result *r = &c->res[rs->idx[k]];
		long long h;
		char w[1024];

		if (!rs->quiesced[k])
			continue;
		if (wait_ready(c, rs->idx[k], -1, &h, w, sizeof w) < 0)
			fail_member(r, "not_ready", w);
		r->height_now = h;
		r->downtime = qb_mono_now() - rs->down_at[k];
	}
	c->stop = saved;
}

/* 6. Each member's result, and the exit code: EXIT_FAILED when any
 * failed. A member left out of the unpack by a stop signal failed. */
static int
tally_results(struct restore *rs)
{
	struct ctl *c = rs->c;
	int rc = EXIT_OK;

	for (size_t k = 0; k < rs->n; k++) {
		struct result *r = &c->res[rs->idx[k]];
		if (ctl_stopping(c) && !r->code[0] && !rs->go[k])
			fail_member(r, "interrupted", "the controller was stopped "
			    "before the unpack; the node was resumed");
		if (r->code[0])
			rc = EXIT_FAILED;
		else
			snprintf(r->state, sizeof r->state, "succeeded");
	}
	return rc;
}

/* The restored heights: equal when the backups were taken together. */
static void
compare_heights(struct restore *rs)
{
	struct ctl *c = rs->c;
	long long first = -2;
	int differ = 0;

	for (size_t k = 0; k < rs->n; k++) {
		long long h = c->res[rs->idx[k]].height;
		if (strcmp(c->res[rs->idx[k]].state, "succeeded") != 0)
			continue;
		if (first == -2)
			first = h;
		else if (h != first)
			differ = 1;
	}
	if (differ)
		out_warn(c, "the restored members were backed up at different "
		    "heights; they catch up from their peers after the restore");
}

static int
cmd_restore_exec(struct ctl *c, const struct cmd_opts *o)
{
	struct restore rs;
	int rc;

	if ((rc = restore_begin(&rs, c, o)) != EXIT_OK)
		return rc;
	if ((rc = check_backups(&rs)) == EXIT_OK &&
	    (rc = take_leases(&rs)) == EXIT_OK) {
		quiesce_members(&rs);
		unpack_members(&rs);
		resume_members(&rs);
		leases_release(c);
		rc = tally_results(&rs);
		compare_heights(&rs);
	}
	restore_free(&rs);
	out_summary(c, "restore", rc);
	return rc;
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.usage = "restore (N...|--all)",
	.help = "the members listed go down together, are\n"
	    "unpacked and resumed",
	.options = {
		{ "--backup ID|latest", "which backup (default: latest)" },
		{ "--parallel K", "unpack on K members at a time (default 1)" },
		{ "--force", "restore even when the network halts" },
		{ "--from local|offsite", "from the backup volume (default), or\n"
		    "streamed from each member's [offsite] bucket" },
	},
	.opts = CMDOPT_ALL | CMDOPT_FORCE | CMDOPT_BACKUP | CMDOPT_PARALLEL |
	    CMDOPT_FROM,
	.exec = cmd_restore_exec,
};
