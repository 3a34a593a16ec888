/* backup: rolling, one member at a time. For each member: the safety check,
 * archive?quiesce=1 (the agent stops the node, archives and resumes it on
 * every path), then wait until the member is ready again and its head
 * advances before the next one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "json.h"
#include "log.h"

/* The height recorded in backup id's metadata, -1 when unknown. */
static long long
backup_height(struct ctl *c, size_t i, const char *id, long long *size)
{
	char path[160];
	struct reply r;
	long long h = -1;

	snprintf(path, sizeof path, "/v1/backups/%s", id);
	if (client_call(&c->cl, &c->members[i], "GET", path, 0, &r) == 0) {
		h = json_get_u(json_object_get(json_object_get(r.body, "metadata"),
		    "node"), "block_number");
		if (size && *size < 0)
			*size = json_get_u(r.body, "size");
	}
	reply_free(&r);
	return h;
}

/* After the rolling backup: what became of each queued off-site copy,
 * from the backup's metadata (the agent records it there); a failed one
 * is warned of. */
static void
offsite_states(struct ctl *c, const size_t *idx, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct result *r = &c->res[idx[k]];
		const json_t *rec;
		const char *st;
		char path[160];
		struct reply rep;

		if (strcmp(r->offsite, "queued") != 0 || !r->backup[0])
			continue;
		snprintf(r->offsite, sizeof r->offsite, "uploading");
		snprintf(path, sizeof path, "/v1/backups/%s", r->backup);
		if (client_call(&c->cl, &c->members[idx[k]], "GET", path, 0,
		    &rep) < 0) {
			reply_free(&rep);
			continue;
		}
		rec = json_object_get(json_object_get(rep.body, "metadata"),
		    "offsite");
		st = json_get_str(rec, "state");
		if (st && strcmp(st, "uploaded") == 0) {
			snprintf(r->offsite, sizeof r->offsite, "uploaded");
		} else if (st && strcmp(st, "failed") == 0) {
			snprintf(r->offsite, sizeof r->offsite, "failed");
			out_warn(c, "member %d: the off-site copy of %s failed: %s "
			    "(the backup is complete on the backup volume; the agent "
			    "tries again after its next archive)", r->member,
			    r->backup, json_get_str(rec, "error") ?
			    json_get_str(rec, "error") : "no error recorded");
		}
		reply_free(&rep);
	}
}

static void
set_failed(struct result *r, const char *code, const char *msg)
{
	snprintf(r->state, sizeof r->state, "failed");
	snprintf(r->code, sizeof r->code, "%s", code);
	snprintf(r->msg, sizeof r->msg, "%s", msg);
}

static void
skip_rest(struct ctl *c, const size_t *idx, size_t n, size_t from)
{
	for (size_t k = from; k < n; k++)
		if (strcmp(c->res[idx[k]].state, "pending") == 0)
			snprintf(c->res[idx[k]].state, sizeof c->res[idx[k]].state,
			    "skipped");
}

/* One member: 0 backed up and back; -1 failed (r says why). */
static int
backup_one(struct ctl *c, size_t i, struct result *r)
{
	struct mstat before;
	long long h0, h1;
	json_t *job = NULL;
	char code[64], msg[1024], why[1024];
	double t0;
	int rc;

	member_status(c, i, &before);
	h0 = before.height;
	mstat_free(&before);
	t0 = qb_mono_now();
	rc = run_job(c, i, "/v1/archive?quiesce=1", "backup", &job, code,
	    sizeof code, msg, sizeof msg);
	r->duration = job && json_is_number(json_object_get(job, "elapsed")) ?
	    json_number_value(json_object_get(job, "elapsed")) :
	    qb_mono_now() - t0;
	if (rc < 0) {
		json_decref(job);
		set_failed(r, code, msg);
		if (strcmp(code, "interrupted") == 0)
			return -1;
		if (strcmp(code, "timeout") == 0 || strcmp(code, "unreachable") == 0 ||
		    strcmp(code, "bad_reply") == 0) {
			/* Its agent cannot be asked: waiting for readiness through it
			 * would only wait out ready_timeout. */
			size_t len = strlen(r->msg);
			snprintf(r->msg + len, sizeof r->msg - len, "; the agent does "
			    "not answer: it finishes its job and resumes the node by "
			    "itself, at the latest when the hold expires");
			r->downtime = qb_mono_now() - t0;
			return -1;
		}
		/* The agent resumes the node on every path: say whether it is
		 * back. */
		if (wait_ready(c, i, -1, &h1, why, sizeof why) < 0) {
			size_t len = strlen(r->msg);
			snprintf(r->msg + len, sizeof r->msg - len, "; and the member "
			    "is not back: %s", why);
		}
		r->downtime = qb_mono_now() - t0;
		return -1;
	}
	{
		const json_t *res = json_object_get(job, "result");
		const char *id = json_get_str(res, "backup");
		const json_t *dt = json_object_get(json_object_get(res, "resume"),
		    "downtime_seconds");

		snprintf(r->backup, sizeof r->backup, "%s", id ? id : "");
		/* No column for off-site copies where none are made. */
		const char *off = json_get_str(res, "offsite");
		snprintf(r->offsite, sizeof r->offsite, "%s",
		    off && strcmp(off, "off") != 0 ? off : "");
		r->size = json_get_u(res, "size");
		if (json_is_number(dt))
			r->downtime = json_number_value(dt);
	}
	json_decref(job);
	if (r->backup[0])
		r->height = backup_height(c, i, r->backup, &r->size);
	if (wait_ready(c, i, h0, &h1, why, sizeof why) < 0) {
		set_failed(r, ctl_stopping(c) ? "interrupted" : "not_ready", why);
		if (r->downtime < 0)
			r->downtime = qb_mono_now() - t0;
		return -1;
	}
	r->height_now = h1;
	if (r->downtime < 0)
		r->downtime = qb_mono_now() - t0;
	snprintf(r->state, sizeof r->state, "succeeded");
	return 0;
}

static int
cmd_backup_exec(struct ctl *c, const struct cmd_opts *o)
{
	size_t *idx = NULL, n = 0, live = 0;
	int failed = 0, refused = 0, rc;

	if (select_members(c, o, 0, &idx, &n) < 0)
		return EXIT_USAGE;
	for (size_t k = 0; k < n; k++)
		snprintf(c->res[idx[k]].state, sizeof c->res[idx[k]].state,
		    "pending");

	/* An agent that does not answer fails its member before anything
	 * stops; --keep-going goes on with the others. */
	for (size_t k = 0; k < n; k++) {
		struct mstat s;

		member_status(c, idx[k], &s);
		if (!s.reachable) {
			set_failed(&c->res[idx[k]], s.code, s.msg);
			failed = 1;
		} else {
			idx[live++] = idx[k];
		}
		mstat_free(&s);
	}
	if (failed && !o->keep_going) {
		out_info(c, "nothing was stopped: an agent does not answer "
		    "(--keep-going backs up the others)");
		for (size_t k = 0; k < live; k++)
			snprintf(c->res[idx[k]].state, sizeof c->res[idx[k]].state,
			    "skipped");
		free(idx);
		out_summary(c, "backup", EXIT_FAILED);
		return EXIT_FAILED;
	}

	if ((rc = leases_take_all(c, idx, live)) != EXIT_OK) {
		free(idx);
		out_summary(c, "backup", rc);
		return rc;
	}

	for (size_t k = 0; k < live; k++) {
		size_t i = idx[k];
		struct result *r = &c->res[i];
		char why[1024];

		if (ctl_stopping(c)) {
			skip_rest(c, idx, live, k);
			break;
		}
		out_info(c, "member %d: safety check", c->members[i].n);
		if (safety_backup(c, i, why, sizeof why) < 0) {
			if (ctl_stopping(c)) {
				/* Stopped during the check's retries: nothing of this
				 * member was touched, and nothing is refused. */
				skip_rest(c, idx, live, k);
				break;
			}
			if (!o->force) {
				snprintf(r->state, sizeof r->state, "refused");
				snprintf(r->code, sizeof r->code, "unsafe");
				snprintf(r->msg, sizeof r->msg, "%s (--force overrides)",
				    why);
				refused = 1;
				out_info(c, "member %d: refused, nothing was stopped: %s",
				    c->members[i].n, r->msg);
				skip_rest(c, idx, live, k + 1);
				break;
			}
			out_warn(c, "--force: backing up member %d although %s",
			    c->members[i].n, why);
		}
		out_info(c, "member %d: backup (archive?quiesce=1)",
		    c->members[i].n);
		if (backup_one(c, i, r) < 0) {
			failed = 1;
			out_info(c, "member %d: failed: %s: %s", c->members[i].n,
			    r->code, r->msg);
			if (!o->keep_going || ctl_stopping(c)) {
				skip_rest(c, idx, live, k + 1);
				break;
			}
			continue;
		}
		out_info(c, "member %d: backup %s done, ready again at height %lld",
		    c->members[i].n, r->backup, r->height_now);
	}
	leases_release(c);
	offsite_states(c, idx, live);
	free(idx);
	/* A stop signal exits 1, also between members (main says so). */
	rc = failed || ctl_stopping(c) ? EXIT_FAILED : refused ? EXIT_REFUSED :
	    EXIT_OK;
	out_summary(c, "backup", rc);
	return rc;
}

const struct cmd_entry cmd_backup_entry = {
	.name = "backup",
	.usage = "backup (N...|--all)",
	.help = "rolling: one member at a time, each after a\n"
	    "safety check; waits until it is ready again",
	.options = {
		{ "--force", "go ahead when the safety check says no" },
		{ "--keep-going", "after a member fails, go on with the next" },
	},
	.opts = CMDOPT_ALL | CMDOPT_FORCE | CMDOPT_KEEP_GOING,
	.exec = cmd_backup_exec,
};
