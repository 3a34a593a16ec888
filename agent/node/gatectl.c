/* gatectl: the node's gate, over its control socket (agent/gate's
 * protocol): status, stop, start, logs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gate_proto.h"
#include "json.h"
#include "log.h"
#include "node_int.h"
#include "utf8.h"
#include "unixline.h"

/* ---- the gate's control socket ------------------------------------- */

int
node_gate_request(const struct node_def *n, const char *request,
    double timeout_s, json_t **reply, struct err *e)
{
	json_error_t je;
	char *line = NULL;
	size_t len, max = NODE_GATE_REPLY_MAX;
	json_t *j;

	*reply = NULL;
	if (strlen(request) > GATE_REQUEST_MAX || strchr(request, '\n'))
		return err_set(e, ERR_BAD_REQUEST, "%s: gate request longer "
		    "than %d bytes or with a newline", n->name,
		    GATE_REQUEST_MAX);
	if (strncmp(request, GATE_REQ_LOGS, 4) == 0)
		max = NODE_GATE_LOGS_REPLY_MAX;
	if (unixline_exchange(n->gate_socket, request, timeout_s, max, &line,
	    &len, e) < 0) {
		err_prefix(e, "%s", n->name);
		return -1;
	}
	j = json_loadb(line, len, 0, &je);
	free(line);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return err_set(e, ERR_FAILED, "%s: gate %s: the reply is not a "
		    "JSON object", n->name, n->gate_socket);
	}
	*reply = j;
	return 0;
}

int
node_logs(const struct node_def *n, size_t lines, json_t **out, struct err *e)
{
	json_t *r = NULL, *arr;
	char req[64];
	size_t k;

	*out = NULL;
	/* lines=N is refused when N exceeds what the gate keeps: then ask
	 * for everything and cut here. */
	if (lines > 0 && lines <= GATE_LOG_LINES_MAX) {
		snprintf(req, sizeof req, GATE_REQ_LOGS " " GATE_OPT_LINES "=%zu",
		    lines);
		if (node_gate_request(n, req, NODE_PROBE_GATE_TIMEOUT, &r, e) < 0)
			return -1;
		if (!json_is_true(json_object_get(r, GATE_KEY_OK))) {
			json_decref(r);
			r = NULL;
		}
	}
	if (!r && node_gate_request(n, GATE_REQ_LOGS, NODE_PROBE_GATE_TIMEOUT,
	    &r, e) < 0)
		return -1;
	arr = json_object_get(r, GATE_KEY_LINES);
	if (!json_is_true(json_object_get(r, GATE_KEY_OK)) ||
	    !json_is_array(arr)) {
		const char *why = json_get_str(r, GATE_KEY_ERROR);
		err_set(e, ERR_FAILED, "%s: logs: %s", n->name,
		    why ? why : "the gate's reply has no lines");
		json_decref(r);
		return -1;
	}
	k = json_array_size(arr);
	if (lines > 0 && k > lines) {
		json_t *tail = json_array();

		for (size_t i = k - lines; tail && i < k; i++)
			json_array_append(tail, json_array_get(arr, i));
		if (!tail) {
			json_decref(r);
			return err_set(e, ERR_FAILED, "out of memory");
		}
		*out = tail;
	} else {
		*out = json_incref(arr);
	}
	json_decref(r);
	return 0;
}

/* Append the node's last output lines to the message in e, newest kept
 * when they do not all fit. */
void
node_err_append_logs(const struct node_def *n, struct err *e)
{
	char line[256];
	size_t used = strlen(e->msg), room, k, first, need;
	struct err le;
	json_t *lines;
	static const char head[] = "; last output lines:";

	if (node_logs(n, NODE_ERROR_LOG_LINES, &lines, &le) < 0) {
		char why[300];

		utf8_cut(why, sizeof why, le.msg, 200);
		snprintf(e->msg + used, sizeof e->msg - used,
		    "; no output lines (%s)", why);
		return;
	}
	k = json_array_size(lines);
	if (k == 0) {
		snprintf(e->msg + used, sizeof e->msg - used,
		    "; the node printed nothing");
		json_decref(lines);
		return;
	}
	room = sizeof e->msg - 1 - used;
	if (room < sizeof head + 8) {
		json_decref(lines);
		return;
	}
	room -= sizeof head - 1;
	/* From the newest back: how many fit. */
	first = k;
	need = 0;
	while (first > 0) {
		const char *s = json_string_value(json_array_get(lines, first - 1));
		size_t l;

		utf8_cut(line, sizeof line, s ? s : "", 200);
		l = strlen(line) + 3;
		if (need + l > room)
			break;
		need += l;
		first--;
	}
	memcpy(e->msg + used, head, sizeof head);
	used += sizeof head - 1;
	for (size_t i = first; i < k; i++) {
		const char *s = json_string_value(json_array_get(lines, i));

		utf8_cut(line, sizeof line, s ? s : "", 200);
		used += (size_t)snprintf(e->msg + used, sizeof e->msg - used,
		    "\n  %s", line);
	}
	json_decref(lines);
}

/* reason as the gate takes it: valid UTF-8 (bad bytes become '?'), no
 * spaces or control characters ('_'), at most GATE_REASON_MAX bytes. */
static void
reason_for_gate(char *out, size_t size, const char *s)
{
	size_t n = strlen(s), i = 0, o = 0;

	while (i < n) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		unsigned char c = (unsigned char)s[i];

		if (k == 0) {
			k = 1;
			c = '?';
		} else if (k == 1 && (c <= ' ' || c == 0x7f)) {
			c = '_';
		}
		if (o + k > GATE_REASON_MAX || o + k >= size)
			break;
		if (k == 1 || c == '?')
			out[o] = (char)c;
		else
			memcpy(out + o, s + i, k);
		o += (k == 1 || c == '?') ? 1 : k;
		i += k;
	}
	out[o] = '\0';
}

int
node_stop(const struct node_def *n, const char *job, long long until,
    const char *reason, struct err *e)
{
	char req[GATE_REQUEST_MAX + 1], r[GATE_REASON_MAX + 1];
	const char *state, *why;
	double t0 = qb_mono_now();
	struct err ge;
	json_t *rep;
	int len;

	if (job && !gate_job_valid(job))
		return err_set(e, ERR_BAD_REQUEST, "%s: stop: bad job id \"%.64s\""
		    ": 1 to %d characters from A-Z a-z 0-9 - . _ : @ / +",
		    n->name, job, GATE_JOB_MAX);
	if (n->stop_timeout < 0 || n->stop_timeout > GATE_STOP_TIMEOUT_MAX)
		return err_set(e, ERR_CONFIG, "%s: stop_timeout %lld out of "
		    "range", n->name, n->stop_timeout);
	len = snprintf(req, sizeof req, GATE_REQ_STOP " " GATE_OPT_TIMEOUT
	    "=%lld", n->stop_timeout);
	if (job)
		len += snprintf(req + len, sizeof req - (size_t)len,
		    " " GATE_OPT_JOB "=%s", job);
	if (until > 0)
		len += snprintf(req + len, sizeof req - (size_t)len,
		    " " GATE_OPT_UNTIL "=%lld", until);
	if (reason) {
		reason_for_gate(r, sizeof r, reason);
		if (r[0])
			snprintf(req + len, sizeof req - (size_t)len,
			    " " GATE_OPT_REASON "=%s", r);
	}
	log_info("node_stop", "node=%s job=%s timeout=%lld", logq(n->name),
	    logq(job ? job : "-"), n->stop_timeout);
	if (node_gate_request(n, req, (double)n->stop_timeout + NODE_STOP_SLACK,
	    &rep, &ge) < 0) {
		err_set(e, ERR_FAILED, "%s: did not stop: %s", n->name, ge.msg);
		node_err_append_logs(n, e);
		log_error("node_stop_failed", "node=%s error=%s", logq(n->name),
		    logq(e->msg));
		return -1;
	}
	state = json_get_str(rep, GATE_KEY_STATE);
	if (json_is_true(json_object_get(rep, GATE_KEY_OK)) && state &&
	    strcmp(state, GATE_STATE_STOPPED) == 0) {
		log_info("node_stopped", "node=%s seconds=%.3f", logq(n->name),
		    qb_mono_now() - t0);
		json_decref(rep);
		return 0;
	}
	why = json_get_str(rep, GATE_KEY_ERROR);
	if (state && strcmp(state, GATE_STATE_STOPPING) == 0)
		err_set(e, ERR_FAILED, "%s: did not stop within %lld s (state "
		    "%s): %.300s", n->name, n->stop_timeout, state,
		    why ? why : "no reason given");
	else if (state)
		err_set(e, ERR_FAILED, "%s: did not stop (state %.16s): %.300s",
		    n->name, state, why ? why : "no reason given");
	else
		err_set(e, ERR_FAILED, "%s: did not stop: %.300s", n->name,
		    why ? why : "an unexpected reply from the gate");
	json_decref(rep);
	node_err_append_logs(n, e);
	log_error("node_stop_failed", "node=%s error=%s", logq(n->name),
	    logq(e->msg));
	return -1;
}

int
node_start(const struct node_def *n, struct err *e)
{
	const char *state, *why;
	struct err ge;
	json_t *rep;

	log_info("node_start", "node=%s", logq(n->name));
	if (node_gate_request(n, GATE_REQ_START, NODE_START_TIMEOUT, &rep,
	    &ge) < 0) {
		err_set(e, ERR_FAILED, "%s: did not start: %s", n->name, ge.msg);
		log_error("node_start_failed", "node=%s error=%s",
		    logq(n->name), logq(e->msg));
		return -1;
	}
	state = json_get_str(rep, GATE_KEY_STATE);
	if (json_is_true(json_object_get(rep, GATE_KEY_OK)) && state &&
	    (strcmp(state, GATE_STATE_RUNNING) == 0 ||
	    strcmp(state, GATE_STATE_STARTING) == 0)) {
		log_info("node_started", "node=%s pid=%lld", logq(n->name),
		    json_get_u(rep, GATE_KEY_PID));
		json_decref(rep);
		return 0;
	}
	why = json_get_str(rep, GATE_KEY_ERROR);
	if (state)
		err_set(e, ERR_FAILED, "%s: did not start (state %.16s): %.400s",
		    n->name, state, why ? why : "no reason given");
	else
		err_set(e, ERR_FAILED, "%s: did not start: %.400s", n->name,
		    why ? why : "an unexpected reply from the gate");
	json_decref(rep);
	node_err_append_logs(n, e);
	log_error("node_start_failed", "node=%s error=%s", logq(n->name),
	    logq(e->msg));
	return -1;
}
