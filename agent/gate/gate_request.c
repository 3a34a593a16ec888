/* gate_request: one request line from a client, parsed and checked, and
 * the stop/start state machine it drives. A stop writes the hold marker,
 * sends the stop signal once and waits for the group to be gone
 * (gate_child.c answers); a start removes the marker and runs the command
 * again, answered once exec succeeded or failed. A stop or start that comes
 * while the node is starting waits for the start to settle. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "gate.h"
#include "log.h"


static void
defer(struct client *c)
{
	c->phase = C_DEFERRED;
	c->deadline = qb_mono_ms() + GATE_CLIENT_TIMEOUT_MS;
}

/* Whole seconds in [min, max]; -1 when s is not that. */
static long long
parse_uint(const char *s, long long min, long long max)
{
	long long v = 0;

	if (!*s || strlen(s) > 12)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < min || v > max ? -1 : v;
}

struct stop_req {
	unsigned timeout;
	const char *job, *reason;
	long long until;
};

static void
stop_wait(struct gate *g, struct client *c, unsigned timeout)
{
	if (timeout == 0) {
		char msg[256];
		snprintf(msg, sizeof msg, "stop timed out after 0 s: the node "
		    "is still stopping (SIG%s was sent once and is not "
		    "repeated)", gate_signal_name(g->o->stop_signal));
		reply_status(g, c, msg);
		return;
	}
	c->phase = C_WAIT_STOP;
	c->stop_timeout = timeout;
	c->deadline = qb_mono_ms() + (long long)timeout * 1000;
}

static int
hold_set(struct gate *g, const struct stop_req *r, struct err *e)
{
	struct gate_hold h;

	memset(&h, 0, sizeof h);
	h.present = 1;
	if (r->job)
		snprintf(h.job, sizeof h.job, "%s", r->job);
	if (r->reason)
		snprintf(h.reason, sizeof h.reason, "%s", r->reason);
	h.until = r->until;
	h.since = (long long)time(NULL);
	if (hold_save(g->state_fd, g->o->state_dir, &h, e) < 0)
		return -1;
	g->hold = h;
	return 0;
}

static void
do_stop(struct gate *g, struct client *c, const struct stop_req *r)
{
	struct err e;

	switch (g->state) {
	case ST_STARTING:
		defer(c);
		return;
	case ST_STOPPED:
		/* After a failed start nothing holds the node yet. */
		if (!g->hold.present) {
			if (hold_set(g, r, &e) < 0) {
				reply_error(c, "%s", e.msg);
				return;
			}
			log_info("hold_set", "job=%s reason=%s",
			    logq(r->job ? r->job : "-"),
			    logq(r->reason ? r->reason : "-"));
		}
		reply_status(g, c, NULL);
		return;
	case ST_STOPPING:
		stop_wait(g, c, r->timeout);
		return;
	case ST_RUNNING:
		break;
	}
	/* The marker first: a stop is never without its owner and reason. */
	if (hold_set(g, r, &e) < 0) {
		reply_error(c, "%s: the node was not stopped", e.msg);
		return;
	}
	log_info("stop_requested", "job=%s reason=%s until=%lld timeout=%u "
	    "signal=%s pgid=%d", logq(r->job ? r->job : "-"),
	    logq(r->reason ? r->reason : "-"), r->until, r->timeout,
	    gate_signal_name(g->o->stop_signal), (int)g->pgid);
	if (kill(-g->pgid, g->o->stop_signal) < 0 && errno != ESRCH) {
		int saved = errno;
		struct err e2;
		if (hold_remove(g->state_fd, g->o->state_dir, &e2) == 0)
			g->hold.present = 0;
		reply_error(c, "send SIG%s to process group %d: %s",
		    gate_signal_name(g->o->stop_signal), (int)g->pgid,
		    strerror(saved));
		return;
	}
	g->state = ST_STOPPING;
	g->term_sent = 1;
	g->stop_ms = qb_mono_ms();
	stop_wait(g, c, r->timeout);
	child_group_check(g);
}

static void
do_start(struct gate *g, struct client *c)
{
	struct gate_hold saved;
	struct err e;
	char msg[700];

	switch (g->state) {
	case ST_RUNNING:
		reply_status(g, c, NULL);
		return;
	case ST_STARTING:
		defer(c);
		return;
	case ST_STOPPING:
		snprintf(msg, sizeof msg, "the node is still stopping (SIG%s "
		    "sent %lld s ago): start it once it has stopped",
		    gate_signal_name(g->o->stop_signal),
		    (qb_mono_ms() - g->stop_ms) / 1000);
		reply_status(g, c, msg);
		return;
	case ST_STOPPED:
		break;
	}
	log_info("start_requested", "job=%s", logq(g->hold.present &&
	    g->hold.job[0] ? g->hold.job : "-"));
	saved = g->hold;
	if (hold_remove(g->state_fd, g->o->state_dir, &e) < 0) {
		reply_error(c, "%s: the node stays stopped", e.msg);
		return;
	}
	g->hold.present = 0;
	if (child_spawn(g, 1, &e) < 0) {
		snprintf(g->start_error, sizeof g->start_error, "%.400s",
		    e.msg);
		log_error("start_failed", "error=%s", logq(e.msg));
		/* Put the hold back: the node stays as it was. */
		if (saved.present && hold_save(g->state_fd, g->o->state_dir,
		    &saved, &e) == 0)
			g->hold = saved;
		snprintf(msg, sizeof msg, "start failed: %s", g->start_error);
		reply_status(g, c, msg);
		return;
	}
	c->phase = C_WAIT_START;
	c->deadline = 0;
}

static void
parse_stop(struct gate *g, struct client *c, char **tok, int ntok)
{
	struct stop_req r = { .timeout = GATE_STOP_TIMEOUT_DEFAULT };
	int seen_timeout = 0;

	for (int i = 1; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		const char *v;
		long long n;

		if (!eq) {
			reply_error(c, "stop: unexpected \"%.64s\": options are "
			    "timeout=SECONDS job=ID until=EPOCH_SECONDS "
			    "reason=TEXT", tok[i]);
			return;
		}
		*eq = '\0';
		v = eq + 1;
		if (strcmp(tok[i], GATE_OPT_TIMEOUT) == 0) {
			if (seen_timeout++)
				goto twice;
			n = parse_uint(v, 0, GATE_STOP_TIMEOUT_MAX);
			if (n < 0) {
				reply_error(c, "stop: bad timeout \"%.64s\": "
				    "expected whole seconds from 0 to %d", v,
				    GATE_STOP_TIMEOUT_MAX);
				return;
			}
			r.timeout = (unsigned)n;
		} else if (strcmp(tok[i], GATE_OPT_JOB) == 0) {
			if (r.job)
				goto twice;
			if (!gate_job_valid(v)) {
				reply_error(c, "stop: bad job \"%.64s\": 1 to %d "
				    "characters from A-Z a-z 0-9 - . _ : @ / +",
				    v, GATE_JOB_MAX);
				return;
			}
			r.job = v;
		} else if (strcmp(tok[i], GATE_OPT_UNTIL) == 0) {
			long long now = (long long)time(NULL);
			if (r.until)
				goto twice;
			n = parse_uint(v, 1, 253402300799LL);   /* year 9999 */
			if (n < 0 || n <= now) {
				reply_error(c, "stop: bad until \"%.64s\": "
				    "expected a time in the future, in seconds "
				    "since the epoch (now is %lld)", v, now);
				return;
			}
			r.until = n;
		} else if (strcmp(tok[i], GATE_OPT_REASON) == 0) {
			if (r.reason)
				goto twice;
			if (!hold_reason_valid(v)) {
				reply_error(c, "stop: bad reason: 1 to %d bytes "
				    "of UTF-8 text without spaces or control "
				    "characters", GATE_REASON_MAX);
				return;
			}
			r.reason = v;
		} else {
			reply_error(c, "stop: unknown option \"%.64s\": options "
			    "are timeout=, job=, until=, reason=", tok[i]);
			return;
		}
		continue;
twice:
		reply_error(c, "stop: %s given twice", tok[i]);
		return;
	}
	do_stop(g, c, &r);
}

void
request_dispatch(struct gate *g, struct client *c)
{
	char line[GATE_REQUEST_MAX + 2];
	char *tok[GATE_REQUEST_MAX / 2 + 1];
	const char *nl = memchr(c->in, '\n', c->inlen);
	size_t len = nl ? (size_t)(nl - c->in) : c->inlen;
	char *p, *save = NULL;
	int ntok = 0;

	if (len > GATE_REQUEST_MAX) {
		reply_error(c, "request line longer than %d bytes",
		    GATE_REQUEST_MAX);
		return;
	}
	if (memchr(c->in, '\0', len)) {
		reply_error(c, "request contains a NUL byte");
		return;
	}
	memcpy(line, c->in, len);
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			reply_error(c, "request contains control characters");
			return;
		}
	for (p = strtok_r(line, " \t", &save); p; p = strtok_r(NULL, " \t", &save))
		tok[ntok++] = p;
	if (ntok == 0) {
		reply_error(c, "empty request: expected stop, start, status or "
		    "logs");
		return;
	}
	if (strcmp(tok[0], GATE_REQ_STATUS) == 0 ||
	    strcmp(tok[0], GATE_REQ_START) == 0) {
		if (ntok > 1) {
			reply_error(c, "%s takes no arguments", tok[0]);
			return;
		}
		if (strcmp(tok[0], GATE_REQ_STATUS) == 0)
			reply_status(g, c, NULL);
		else
			do_start(g, c);
	} else if (strcmp(tok[0], GATE_REQ_STOP) == 0) {
		parse_stop(g, c, tok, ntok);
	} else if (strcmp(tok[0], GATE_REQ_LOGS) == 0) {
		long long n = g->ring.cap;
		if (ntok > 2 || (ntok == 2 &&
		    (strncmp(tok[1], GATE_OPT_LINES "=", 6) != 0 ||
		    (n = parse_uint(tok[1] + 6, 1, g->ring.cap)) < 0))) {
			reply_error(c, "logs: expected no argument or lines=N "
			    "with N from 1 to %u", g->ring.cap);
			return;
		}
		reply_logs(g, c, (unsigned)n);
	} else {
		reply_error(c, "unknown request \"%.64s\": expected stop, start, "
		    "status or logs", tok[0]);
	}
}

void
request_redispatch(struct gate *g)
{
	for (int i = 0; i < GATE_CLIENTS_MAX; i++)
		if (g->cl[i].phase == C_DEFERRED)
			request_dispatch(g, &g->cl[i]);
}
