/* run: talking to the agents on the controller's behalf: member status,
 * jobs followed to their end with progress, readiness waits and leases.
 * Every wait here is bounded (request_timeout, job_timeout,
 * ready_timeout) and renews the leases, so a long archive does not lose
 * them, and stops early on SIGINT/SIGTERM. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "json.h"
#include "log.h"

int
ctl_stopping(const struct ctl *c)
{
	return c->stop && *c->stop;
}

int
member_index(const struct ctl *c, int n)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].n == n)
			return (int)i;
	return -1;
}

int
select_members(struct ctl *c, const struct cmd_opts *o, int all_default,
    size_t **idx, size_t *n)
{
	size_t *v;

	*idx = NULL;
	*n = 0;
	if (o->all && o->n_members) {
		fprintf(stderr, "quorum-backup: give member numbers or --all, not "
		    "both\n");
		return -1;
	}
	if (!o->all && !o->n_members && !all_default) {
		fprintf(stderr, "quorum-backup: which members? Give their numbers "
		    "or --all\n");
		return -1;
	}
	if (c->n_members == 0) {
		fprintf(stderr, "quorum-backup: no members are configured: set "
		    "[controller] members (e.g. members = 1-4) or add [member.N] "
		    "sections\n");
		return -1;
	}
	if (!(v = calloc(c->n_members, sizeof *v)))
		return -1;
	if (o->n_members == 0) {
		for (size_t i = 0; i < c->n_members; i++)
			v[i] = i;
		*n = c->n_members;
	} else {
		/* o->members is sorted (ctl_parse_numbers) and so is
		 * c->members: the indexes come out in member order. */
		for (size_t k = 0; k < o->n_members; k++) {
			int i = member_index(c, o->members[k]);
			if (i < 0) {
				fprintf(stderr, "quorum-backup: member %d is not in the "
				    "configuration (members:", o->members[k]);
				for (size_t j = 0; j < c->n_members; j++)
					fprintf(stderr, " %d", c->members[j].n);
				fprintf(stderr, ")\n");
				free(v);
				return -1;
			}
			v[(*n)++] = (size_t)i;
		}
	}
	*idx = v;
	return 0;
}

/* ---- status --------------------------------------------------------- */

void
mstat_free(struct mstat *s)
{
	json_decref(s->validators);
	json_decref(s->status);
	memset(s, 0, sizeof *s);
}

void
member_status(struct ctl *c, size_t i, struct mstat *s)
{
	member_status_ex(c, i, s, 0);
}

/* s->down and s->down_why from the agent's "down" and "down_reasons". A
 * member whose agent does not say, or that reports no node, counts as
 * down: nothing may be concluded from it. */
static void
read_down(struct mstat *s)
{
	const json_t *down = json_object_get(s->status, "down");
	const json_t *reasons = json_object_get(s->status, "down_reasons");
	size_t k, o = 0;
	json_t *w;

	s->down = !json_is_false(down);
	if (!json_is_boolean(down))
		snprintf(s->down_why, sizeof s->down_why, "the agent (version %s) "
		    "does not say whether the member is down", s->version);
	else if (json_array_size(json_object_get(s->status, "nodes")) == 0) {
		s->down = 1;
		snprintf(s->down_why, sizeof s->down_why, "the agent reports no "
		    "nodes (none configured)");
	}
	json_array_foreach(reasons, k, w) {
		int n;

		if (!json_is_string(w))
			continue;
		n = snprintf(s->down_why + o, sizeof s->down_why - o, "%s%s",
		    o ? "; " : "", json_string_value(w));
		if (n < 0 || (size_t)n >= sizeof s->down_why - o)
			break;
		o += (size_t)n;
	}
	if (s->down && !s->down_why[0])
		snprintf(s->down_why, sizeof s->down_why, "down (no reason given)");
}

void
member_status_ex(struct ctl *c, size_t i, struct mstat *s, int fresh)
{
	struct reply r;
	json_t *nodes, *nd;
	size_t k;

	memset(s, 0, sizeof *s);
	s->height = -1;
	s->is_validator = -1;
	if (client_call(&c->cl, &c->members[i], "GET", fresh ?
	    "/v1/status?fresh=1" : "/v1/status", 0, &r) < 0) {
		snprintf(s->code, sizeof s->code, "%s", r.code);
		snprintf(s->msg, sizeof s->msg, "%s", r.msg);
		reply_free(&r);
		return;
	}
	s->reachable = 1;
	s->status = r.body;
	r.body = NULL;
	snprintf(s->version, sizeof s->version, "%s",
	    json_get_str(s->status, "version") ? json_get_str(s->status,
	    "version") : "?");
	read_down(s);
	nodes = json_object_get(s->status, "nodes");
	json_array_foreach(nodes, k, nd) {
		/* Read for this request when asked (fresh), else as the agent's
		 * last reading or action left it. */
		long long h = json_get_u(nd, "height");
		const char *addr = json_get_str(nd, "address");
		json_t *vs = json_object_get(nd, "validators");
		json_t *isv = json_object_get(nd, "is_validator");

		if (json_is_true(json_object_get(nd, "syncing")))
			s->syncing = 1;
		if (json_is_true(json_object_get(nd, "held")))
			s->held = 1;
		if (h > s->height)
			s->height = h;
		if (addr && !s->address[0])
			snprintf(s->address, sizeof s->address, "%s", addr);
		if (json_is_array(vs) && !s->validators)
			s->validators = json_incref(vs);
		if (json_is_boolean(isv) && s->is_validator < 0)
			s->is_validator = json_is_true(isv);
	}
}

/* ---- jobs ----------------------------------------------------------- */

int
start_job(struct ctl *c, size_t i, const char *path, char *id,
    size_t id_size, char *code, size_t code_size, char *msg, size_t msg_size)
{
	struct reply r;
	const char *jid;

	if (client_call(&c->cl, &c->members[i], "POST", path, 0, &r) < 0) {
		snprintf(code, code_size, "%s", r.code);
		snprintf(msg, msg_size, "%s", r.msg);
		reply_free(&r);
		return -1;
	}
	jid = json_get_str(r.body, "id");
	if (!jid || strlen(jid) >= id_size) {
		snprintf(code, code_size, "bad_reply");
		snprintf(msg, msg_size, "POST %s: the reply names no job", path);
		reply_free(&r);
		return -1;
	}
	snprintf(id, id_size, "%s", jid);
	reply_free(&r);
	return 0;
}

int
start_job_when_free(struct ctl *c, size_t i, const char *path,
    double deadline, char *id, size_t id_size, char *code, size_t code_size,
    char *msg, size_t msg_size)
{
	int told = 0;

	while (start_job(c, i, path, id, id_size, code, code_size, msg,
	    msg_size) < 0) {
		if (strcmp(code, "busy") != 0 || qb_mono_now() + 1 > deadline)
			return -1;
		if (!told++)
			out_info(c, "member %d: the agent is still busy with an "
			    "earlier job; waiting for it to end", c->members[i].n);
		leases_renew(c, 0);
		qb_sleep(1);
	}
	return 0;
}

int
poll_job(struct ctl *c, size_t i, const char *id, double wait_s,
    json_t **job, char *code, size_t code_size, char *msg, size_t msg_size)
{
	char path[160];
	struct reply r;
	const char *state;

	*job = NULL;
	snprintf(path, sizeof path, "/v1/jobs/%s?wait=%.1f", id, wait_s);
	if (client_call(&c->cl, &c->members[i], "GET", path, wait_s, &r) < 0) {
		snprintf(code, code_size, "%s", r.code);
		snprintf(msg, msg_size, "%s", r.msg);
		reply_free(&r);
		return -1;
	}
	*job = r.body;
	state = json_get_str(*job, "state");
	if (!state) {
		snprintf(code, code_size, "bad_reply");
		snprintf(msg, msg_size, "job %s: the reply has no state", id);
		return -1;
	}
	if (strcmp(state, "running") == 0)
		return 0;
	if (strcmp(state, "succeeded") != 0) {
		json_t *err = json_object_get(*job, "error");
		const char *ec = json_get_str(err, "code");
		const char *em = json_get_str(err, "message");
		snprintf(code, code_size, "%s", ec ? ec : state);
		snprintf(msg, msg_size, "%s", em ? em : state);
	}
	return 1;
}

/* What a job is doing, for the progress line: the agent's phase when it
 * gives one, else the step the caller named. */
static const char *
phase_of(const json_t *job, const char *step)
{
	const char *ph = json_get_str(job, "phase");

	return ph ? ph : step;
}

int
run_job(struct ctl *c, size_t i, const char *path, const char *step,
    json_t **job, char *code, size_t code_size, char *msg, size_t msg_size)
{
	char id[96];
	double deadline = qb_mono_now() + (double)c->cf.job_timeout;
	int failures = 0;

	*job = NULL;
	code[0] = msg[0] = '\0';
	if (start_job(c, i, path, id, sizeof id, code, code_size, msg,
	    msg_size) < 0)
		return -1;
	log_info("job_started", "member=%d job=%s path=%s", c->members[i].n, id,
	    logq(path));
	for (;;) {
		json_t *j = NULL;
		double left = deadline - qb_mono_now();
		int st;

		if (ctl_stopping(c)) {
			snprintf(code, code_size, "interrupted");
			snprintf(msg, msg_size, "the controller was stopped; job %s "
			    "goes on on the agent, which resumes the node when it "
			    "ends", id);
			return -1;
		}
		if (left <= 0) {
			snprintf(code, code_size, "timeout");
			snprintf(msg, msg_size, "job %s did not end within "
			    "job_timeout (%lld s); it goes on on the agent", id,
			    c->cf.job_timeout);
			return -1;
		}
		st = poll_job(c, i, id, left < 2 ? left : 2, &j, code, code_size,
		    msg, msg_size);
		if (st < 0) {
			json_decref(j);
			/* An agent that restarts or a network blip: look again a
			 * few times before calling the job lost. */
			if (++failures >= 5)
				return -1;
			ctl_sleep(c, 1);
			continue;
		}
		failures = 0;
		out_progress(c, c->members[i].n, phase_of(j, step), j, st == 1);
		leases_renew(c, 0);
		if (st == 1) {
			out_flush(c);
			*job = j;
			return strcmp(json_get_str(j, "state"), "succeeded") == 0 ?
			    0 : -1;
		}
		json_decref(j);
	}
}

int
ctl_sleep(struct ctl *c, double seconds)
{
	double end = qb_mono_now() + seconds;

	while (!ctl_stopping(c)) {
		double left = end - qb_mono_now();
		struct timespec ts;

		if (left <= 0)
			return 0;
		if (left > 0.2)
			left = 0.2;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
		leases_renew(c, 0);
	}
	return 1;
}

int
wait_ready(struct ctl *c, size_t i, long long min_height, long long *height,
    char *why, size_t why_size)
{
	double deadline = qb_mono_now() + (double)c->cf.ready_timeout;
	double t0 = qb_mono_now();
	const char *step = min_height >= 0 ? "advance" : "ready";

	*height = -1;
	why[0] = '\0';
	for (;;) {
		struct mstat s;
		int ok;

		member_status(c, i, &s);
		*height = s.height;
		ok = s.reachable && !s.down &&
		    (min_height < 0 || s.height > min_height);
		if (!ok)
			snprintf(why, why_size, "%s", !s.reachable ? s.msg :
			    s.down ? s.down_why : "the chain head did not advance");
		mstat_free(&s);
		if (ok)
			return 0;
		if (qb_mono_now() >= deadline) {
			char tail[600];
			snprintf(tail, sizeof tail, "not ready within ready_timeout "
			    "(%lld s): %s", c->cf.ready_timeout, why);
			snprintf(why, why_size, "%s", tail);
			return -1;
		}
		{
			json_t *fake = json_pack("{s:f}", "elapsed", qb_mono_now() - t0);
			out_progress(c, c->members[i].n, step, fake, 0);
			json_decref(fake);
		}
		if (ctl_sleep(c, 1)) {
			snprintf(why, why_size, "the controller was stopped while "
			    "waiting for the member to be ready again");
			return -1;
		}
	}
}

/* ---- leases --------------------------------------------------------- */

static int
lease_call(struct ctl *c, size_t i, const char *method, char *msg,
    size_t size, int *refused)
{
	char path[512], h[400];
	struct reply r;

	client_escape(c->cl.holder, h, sizeof h);
	if (strcmp(method, "POST") == 0)
		snprintf(path, sizeof path, "/v1/lease?holder=%s&ttl=%lld", h,
		    c->cf.lease_ttl);
	else
		snprintf(path, sizeof path, "/v1/lease?holder=%s", h);
	*refused = 0;
	if (client_call(&c->cl, &c->members[i], method, path, 0, &r) < 0) {
		*refused = strcmp(r.code, "leased") == 0;
		snprintf(msg, size, "member %d: %s: %s", c->members[i].n, r.code,
		    r.msg);
		reply_free(&r);
		return -1;
	}
	reply_free(&r);
	return 0;
}

int
leases_take(struct ctl *c, const size_t *idx, size_t n, char *msg,
    size_t size)
{
	int refused;

	/* idx is in member order (select_members): two controllers asking
	 * for overlapping sets cannot each get half. */
	for (size_t k = 0; k < n; k++) {
		if (c->leased[idx[k]])
			continue;
		if (lease_call(c, idx[k], "POST", msg, size, &refused) < 0) {
			leases_release(c);
			return refused ? -1 : -2;
		}
		c->leased[idx[k]] = 1;
		log_info("lease_taken", "member=%d holder=%s",
		    c->members[idx[k]].n, logq(c->cl.holder));
	}
	c->lease_renewed = qb_mono_now();
	return 0;
}

int
leases_take_all(struct ctl *c, const size_t *idx, size_t n)
{
	char msg[1200];
	int rc = leases_take(c, idx, n, msg, sizeof msg);

	if (rc == 0)
		return EXIT_OK;
	out_info(c, "nothing was stopped: cannot take the lease: %s", msg);
	for (size_t k = 0; k < n; k++) {
		struct result *r = &c->res[idx[k]];
		snprintf(r->state, sizeof r->state, "%s", rc == -1 ? "refused" :
		    "failed");
		snprintf(r->code, sizeof r->code, "%s", rc == -1 ? "leased" :
		    "lease_failed");
		snprintf(r->msg, sizeof r->msg, "%s", msg);
	}
	return rc == -1 ? EXIT_REFUSED : EXIT_FAILED;
}

void
leases_renew(struct ctl *c, int force)
{
	double now = qb_mono_now();   /* a wall clock step must not stop
	                                * the renewals */
	char msg[1200];
	int refused;

	if (!c->leased || (!force && now - c->lease_renewed <
	    c->cf.lease_ttl / 3))
		return;
	c->lease_renewed = now;
	for (size_t i = 0; i < c->n_members; i++)
		if (c->leased[i] && lease_call(c, i, "POST", msg, sizeof msg,
		    &refused) < 0)
			/* Not fatal by itself: the agent refuses what a lost lease
			 * no longer allows, and that failure is reported. */
			out_warn(c, "renewing the lease failed: %s", msg);
}

void
leases_release(struct ctl *c)
{
	char msg[1200];
	int refused;

	for (size_t i = 0; c->leased && i < c->n_members; i++) {
		if (!c->leased[i])
			continue;
		if (lease_call(c, i, "DELETE", msg, sizeof msg, &refused) < 0)
			out_warn(c, "releasing the lease failed (it expires by "
			    "itself after lease_ttl): %s", msg);
		else
			log_info("lease_released", "member=%d", c->members[i].n);
		c->leased[i] = 0;
	}
}
