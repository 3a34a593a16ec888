/* nodes: the gate socket client, the node's JSON-RPC and health checks,
 * and node facts. See nodes.h. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "capbuf.h"
#include "clock.h"
#include "gate_proto.h"
#include "json.h"
#include "log.h"
#include "nodes.h"
#include "unixline.h"

/* ---- small helpers -------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Copy at most max bytes of the valid UTF-8 string s into out (size
 * > max), never cutting a character; "..." marks a cut when it fits. */
static void
utf8_cut(char *out, size_t size, const char *s, size_t max)
{
	size_t n = strlen(s), i = 0;
	int dots;

	if (max >= size)
		max = size - 1;
	if (n <= max) {
		memcpy(out, s, n + 1);
		return;
	}
	dots = max >= 8;
	if (dots)
		max -= 3;
	while (i < max) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k == 0)
			k = 1;
		if (i + k > max)
			break;
		i += k;
	}
	memcpy(out, s, i);
	if (dots)
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
}

static char *
xstrdup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

/* ---- node_def ------------------------------------------------------- */

struct node_def *
node_def_new(const char *name, const char *gate_socket, const char *rpc_url,
    const char *health_url, long long min_peers, long long stop_timeout)
{
	struct node_def *n = calloc(1, sizeof *n);
	int oom = 0;

	if (!n)
		return NULL;
	n->name = xstrdup_or_null(name ? name : "", &oom);
	n->gate_socket = xstrdup_or_null(gate_socket ? gate_socket : "", &oom);
	n->rpc_url = xstrdup_or_null(rpc_url, &oom);
	n->health_url = xstrdup_or_null(health_url, &oom);
	n->min_peers = min_peers;
	n->stop_timeout = stop_timeout;
	if (oom) {
		node_def_free(n);
		return NULL;
	}
	return n;
}

void
node_def_free(struct node_def *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->gate_socket);
	free(n->rpc_url);
	free(n->health_url);
	free(n);
}

static int
url_scheme_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

int
node_def_validate(const struct node_def *n, struct err *e)
{
	struct sockaddr_un sa;
	const char *name = n->name && n->name[0] ? n->name : "?";

	if (!n->name || !n->name[0])
		return err_set(e, ERR_CONFIG, "node: empty name");
	if (!n->gate_socket || !n->gate_socket[0])
		return err_set(e, ERR_CONFIG, "node.%s: gate_socket: missing",
		    name);
	if (strlen(n->gate_socket) >= sizeof sa.sun_path)
		return err_set(e, ERR_CONFIG, "node.%s: gate_socket: longer "
		    "than %zu bytes: %s", name, sizeof sa.sun_path - 1,
		    n->gate_socket);
	if (n->rpc_url && !url_scheme_ok(n->rpc_url))
		return err_set(e, ERR_CONFIG, "node.%s: rpc_url: must start "
		    "with http:// or https://: %s", name, n->rpc_url);
	if (n->health_url && !url_scheme_ok(n->health_url))
		return err_set(e, ERR_CONFIG, "node.%s: health_url: must start "
		    "with http:// or https://: %s", name, n->health_url);
	if (n->min_peers < 0)
		return err_set(e, ERR_CONFIG, "node.%s: min_peers: must be 0 "
		    "or more", name);
	if (n->stop_timeout < 0 || n->stop_timeout > GATE_STOP_TIMEOUT_MAX)
		return err_set(e, ERR_CONFIG, "node.%s: stop_timeout: must be "
		    "from 0 to %d seconds", name, GATE_STOP_TIMEOUT_MAX);
	return 0;
}

/* ---- HTTP (libcurl) ------------------------------------------------- */

/* One HTTP request: a POST of json_body when not NULL, else a GET. *status
 * gets the HTTP status and out the reply body (NUL-terminated). -1 and e
 * ("<what>: <reason>") when no HTTP answer came. */
static int
http_do(const char *url, const char *json_body, double timeout_s,
    struct capbuf *out, long *status, const char *what, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL, *h;
	long timeout_ms = (long)(timeout_s * 1000);
	CURL *c = NULL;
	CURLcode rc;
	int ret = -1;

	*status = 0;
	memset(out, 0, sizeof *out);
	out->max = NODE_RPC_REPLY_MAX;
	if (!url_scheme_ok(url))
		return err_set(e, ERR_CONFIG, "%s: only http:// and https:// "
		    "URLs are allowed", what);
	if (timeout_ms < 1)
		return err_set(e, ERR_FAILED, "%s: no time left to ask", what);
	c = curl_easy_init();
	if (!c)
		return err_set(e, ERR_FAILED, "%s: curl_easy_init failed", what);
	errbuf[0] = '\0';
	if (json_body) {
		h = curl_slist_append(hdrs, "Content-Type: application/json");
		if (h)
			hdrs = h;
		h = h ? curl_slist_append(hdrs, "Accept: application/json") :
		    NULL;
		if (h)
			hdrs = h;
		h = h ? curl_slist_append(hdrs, "Expect:") : NULL;
		if (!h) {
			err_set(e, ERR_FAILED, "%s: out of memory", what);
			goto out;
		}
		hdrs = h;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK) {
		err_set(e, ERR_CONFIG, "%s: bad URL", what);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");   /* the node is local */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)NODE_RPC_REPLY_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT,
	    "quorum-backup-agent/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, capbuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (json_body) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(json_body));
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (out->over || rc == CURLE_FILESIZE_EXCEEDED)
			err_set(e, ERR_FAILED, "%s: reply longer than %u bytes",
			    what, NODE_RPC_REPLY_MAX);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			err_set(e, ERR_FAILED, "%s: no answer within %.1f s",
			    what, timeout_s);
		else
			err_set(e, ERR_FAILED, "%s: %s", what,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (!out->p) {
		out->p = strdup("");
		if (!out->p) {
			err_set(e, ERR_FAILED, "%s: out of memory", what);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0) {
		free(out->p);
		out->p = NULL;
		out->len = 0;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}

int
node_http_status(const char *url, double timeout_s, long *status,
    struct err *e)
{
	struct capbuf b;
	int rc = http_do(url, NULL, timeout_s, &b, status, url, e);

	free(b.p);
	return rc;
}

/* ---- JSON-RPC ------------------------------------------------------- */

long long
node_hex_quantity(const json_t *v)
{
	const char *s;
	long long r = 0;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	s = json_string_value(v);
	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return -1;
	for (s += 2; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (r > (0x7fffffffffffffffLL - d) / 16)
			return -1;
		r = r * 16 + d;
	}
	return r;
}

static int
rpc_no_method(long long code, const char *msg)
{
	/* geth: -32601 "the method X does not exist/is not available";
	 * ganache answers the same words with code -32700 */
	return code == -32601 || (msg && (strcasestr(msg, "method not found") ||
	    strcasestr(msg, "does not exist")));
}

int
node_rpc_call(const char *url, const char *method, json_t *params,
    double timeout_s, json_t **result, enum node_rpc_fail *fail,
    struct err *e)
{
	enum node_rpc_fail f = NODE_RPC_TRANSPORT;
	char what[512];
	json_t *req = NULL, *rep = NULL, *jerr, *res;
	json_error_t je;
	char *text = NULL;
	struct capbuf b = { 0 };
	long status;
	int rc = -1;

	*result = NULL;
	snprintf(what, sizeof what, "%s: %s", url, method);
	/* "o" steals the reference, on failure too */
	req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1,
	    "method", method, "params", params ? json_incref(params) :
	    json_array());
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!text) {
		err_set(e, ERR_FAILED, "%s: cannot encode the request", what);
		goto out;
	}
	if (http_do(url, text, timeout_s, &b, &status, what, e) < 0)
		goto out;
	rep = json_loadb(b.p, b.len, 0, &je);
	if (!rep || !json_is_object(rep)) {
		if (status != 200)
			err_set(e, ERR_FAILED, "%s: HTTP %ld", what, status);
		else
			err_set(e, ERR_FAILED, "%s: the reply is not a JSON-RPC "
			    "object%s%s", what, rep ? "" : ": ",
			    rep ? "" : je.text);
		goto out;
	}
	jerr = json_object_get(rep, "error");
	if (jerr && !json_is_null(jerr)) {
		const char *msg = json_get_str(jerr, "message");
		json_t *jc = json_object_get(jerr, "code");
		long long code = json_is_integer(jc) ? json_integer_value(jc) : 0;
		char m[300];

		utf8_cut(m, sizeof m, msg ? msg : "(no message)", 256);
		f = rpc_no_method(code, msg) ? NODE_RPC_NO_METHOD :
		    NODE_RPC_ERROR;
		err_set(e, ERR_FAILED, "%s: error %lld: %s", what, code, m);
		goto out;
	}
	res = json_object_get(rep, "result");
	if (!res) {
		if (status != 200)
			err_set(e, ERR_FAILED, "%s: HTTP %ld", what, status);
		else
			err_set(e, ERR_FAILED, "%s: the reply has neither "
			    "result nor error", what);
		goto out;
	}
	*result = json_incref(res);
	f = NODE_RPC_OK;
	rc = 0;
out:
	if (fail)
		*fail = f;
	json_decref(rep);
	json_decref(req);
	free(text);
	free(b.p);
	return rc;
}

/* node_rpc_call within what is left until deadline. */
static int
rpc_until(const char *url, const char *method, json_t *params,
    double deadline, json_t **result, enum node_rpc_fail *fail,
    struct err *e)
{
	double left = deadline - qb_mono_now();

	if (left < 0.001) {
		*result = NULL;
		if (fail)
			*fail = NODE_RPC_TRANSPORT;
		return err_set(e, ERR_FAILED, "%s: %s: no time left", url,
		    method);
	}
	return node_rpc_call(url, method, params, left, result, fail, e);
}

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
static void
err_append_logs(const struct node_def *n, struct err *e)
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

static int
job_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > GATE_JOB_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._:@/+", *s)))
			return 0;
	return 1;
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

	if (job && !job_valid(job))
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
		err_append_logs(n, e);
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
	err_append_logs(n, e);
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
	err_append_logs(n, e);
	log_error("node_start_failed", "node=%s error=%s", logq(n->name),
	    logq(e->msg));
	return -1;
}

/* ---- probing -------------------------------------------------------- */

static void
state_reset(struct node_state *st)
{
	memset(st, 0, sizeof *st);
	st->pid = -1;
	st->restarts = -1;
	st->uptime = -1;
	st->height = -1;
	st->syncing = -1;
	st->peers = -1;
}

void
node_state_clear(struct node_state *st)
{
	json_decref(st->hold);
	free(st->address);
	json_decref(st->validators);
	state_reset(st);
}

static void
set_reason(struct node_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_reason(struct node_state *st, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	if (st->reason[0])
		return;   /* the first reason is the one that matters */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	utf8_cut(st->reason, sizeof st->reason, tmp, sizeof st->reason - 1);
}

static void
probe_gate(const struct node_def *n, struct node_state *st, double timeout_s)
{
	const char *s;
	json_t *r, *v;
	struct err e;

	if (node_gate_request(n, GATE_REQ_STATUS, timeout_s, &r, &e) < 0) {
		snprintf(st->gate_state, sizeof st->gate_state, "unreachable");
		set_reason(st, "%s", e.msg);
		return;
	}
	s = json_get_str(r, GATE_KEY_STATE);
	if (!json_is_true(json_object_get(r, GATE_KEY_OK)) || !s ||
	    strlen(s) >= sizeof st->gate_state) {
		s = json_get_str(r, GATE_KEY_ERROR);
		snprintf(st->gate_state, sizeof st->gate_state, "unreachable");
		set_reason(st, "%s: gate %s: status: %s", n->name,
		    n->gate_socket, s ? s : "an unexpected reply");
		json_decref(r);
		return;
	}
	snprintf(st->gate_state, sizeof st->gate_state, "%s", s);
	v = json_object_get(r, GATE_KEY_PID);
	st->pid = json_is_integer(v) ? json_integer_value(v) : -1;
	v = json_object_get(r, GATE_KEY_UPTIME);
	st->uptime = json_is_number(v) ? json_number_value(v) : -1;
	st->restarts = json_get_u(r, GATE_KEY_RESTARTS);
	v = json_object_get(r, GATE_KEY_HOLD);
	if (json_is_object(v)) {
		st->held = 1;
		st->hold = json_incref(v);
	}
	json_decref(r);
}

static void
probe_rpc(const struct node_def *n, struct node_state *st, int running,
    double deadline)
{
	json_t *r;
	struct err e;

	if (rpc_until(n->rpc_url, "eth_blockNumber", NULL, deadline, &r, NULL,
	    &e) < 0) {
		if (running)
			set_reason(st, "%s", e.msg);
		return;
	}
	st->rpc_ok = 1;
	st->height = node_hex_quantity(r);
	json_decref(r);
	if (st->height < 0 && running)
		set_reason(st, "%s: eth_blockNumber: not a quantity",
		    n->rpc_url);

	if (rpc_until(n->rpc_url, "eth_syncing", NULL, deadline, &r, NULL,
	    &e) < 0) {
		if (running)
			set_reason(st, "%s", e.msg);
	} else {
		st->syncing = json_is_false(r) ? 0 : 1;
		if (st->syncing && running) {
			long long cur = node_hex_quantity(
			    json_object_get(r, "currentBlock"));
			long long hi = node_hex_quantity(
			    json_object_get(r, "highestBlock"));
			if (cur >= 0 && hi >= 0)
				set_reason(st, "syncing: block %lld of %lld",
				    cur, hi);
			else
				set_reason(st, "syncing");
		}
		json_decref(r);
	}

	if (rpc_until(n->rpc_url, "net_peerCount", NULL, deadline, &r, NULL,
	    &e) < 0) {
		if (running && n->min_peers > 0)
			set_reason(st, "%s", e.msg);
		return;
	}
	st->peers = node_hex_quantity(r);
	json_decref(r);
	if (running && st->peers < n->min_peers) {
		if (st->peers < 0)
			set_reason(st, "%s: net_peerCount: not a quantity",
			    n->rpc_url);
		else
			set_reason(st, "%lld peers, fewer than min_peers %lld",
			    st->peers, n->min_peers);
	}
}

static void
probe_health(const struct node_def *n, struct node_state *st, int running,
    double timeout_s)
{
	long status;
	struct err e;

	if (node_http_status(n->health_url, timeout_s, &status, &e) < 0) {
		if (running)
			set_reason(st, "%s", e.msg);
		return;
	}
	st->rpc_ok = 1;
	if (status != 200 && running)
		set_reason(st, "%s: HTTP %ld", n->health_url, status);
}

/* The optional methods, by enum node_probe_method. */
static const char *const probe_methods[NODE_PM_COUNT] = {
	[NODE_PM_NODE_ADDRESS] = "istanbul_nodeAddress",
	[NODE_PM_ISTANBUL_VALIDATORS] = "istanbul_getValidators",
	[NODE_PM_QBFT_VALIDATORS] = "qbft_getValidatorsByBlockNumber",
};

/* Longest string taken as an address: 0x and 40 hex digits, with room for
 * other spellings, but not a page of text in /v1/status. */
#define ADDRESS_MAX 128

static int
memo_asks(const struct node_probe_memo *memo, enum node_probe_method m)
{
	return !memo || memo->skip_until[m] <= qb_mono_now();
}

/* The node answered "method not found" for m: leave m alone for a while. */
static void
memo_missing(struct node_probe_memo *memo, const struct node_def *n,
    enum node_probe_method m)
{
	if (!memo)
		return;
	memo->skip_until[m] = qb_mono_now() + NODE_PROBE_SKIP_S;
	log_debug("node_method_missing", "node=%s method=%s retry_in=%.0f",
	    logq(n->name), probe_methods[m], NODE_PROBE_SKIP_S);
}

/* The validator set at "latest": istanbul_getValidators (IBFT, and QBFT in
 * GoQuorum, which keeps the istanbul_ API), else
 * qbft_getValidatorsByBlockNumber. *set gets an array of strings (the
 * caller decrefs it) and *method the call that gave it, or both NULL.
 * memo: methods to leave alone, and where to note a "method not found"
 * (NULL: ask both). *answered is set when a call got a JSON-RPC answer.
 * warn: log failures other than "method not found" (node_facts, once per
 * backup; the prober, every 2 s, keeps quiet). */
static void
rpc_validators(const struct node_def *n, double deadline,
    struct node_probe_memo *memo, int warn, json_t **set,
    const char **method, int *answered)
{
	static const enum node_probe_method order[] = {
		NODE_PM_ISTANBUL_VALIDATORS, NODE_PM_QBFT_VALIDATORS };

	*set = NULL;
	*method = NULL;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const char *m = probe_methods[order[i]];
		enum node_rpc_fail f;
		json_t *params, *r = NULL;
		struct err e;
		int ok = 1;

		if (!memo_asks(memo, order[i]))
			continue;
		if (!(params = json_pack("[s]", "latest")))
			return;   /* out of memory: unknown */
		if (rpc_until(n->rpc_url, m, params, deadline, &r, &f,
		    &e) < 0) {
			json_decref(params);
			if (f != NODE_RPC_TRANSPORT)
				*answered = 1;
			if (f == NODE_RPC_NO_METHOD)
				memo_missing(memo, n, order[i]);
			else if (warn)
				log_warn("node_facts_validators", "node=%s "
				    "error=%s", logq(n->name), logq(e.msg));
			continue;
		}
		json_decref(params);
		*answered = 1;
		if (!json_is_array(r))
			ok = 0;
		for (size_t k = 0; ok && k < json_array_size(r); k++)
			if (!json_is_string(json_array_get(r, k)))
				ok = 0;
		if (!ok) {
			if (warn)
				log_warn("node_facts_validators", "node=%s "
				    "method=%s error=%s", logq(n->name), m,
				    logq("the result is not an array of "
				    "addresses"));
			json_decref(r);
			continue;
		}
		*set = r;
		*method = m;
		return;
	}
}

/* The node's signer address and the validator set, for a controller that
 * must know whether stopping this node costs the chain a validator. */
static void
probe_validators(const struct node_def *n, struct node_state *st,
    struct node_probe_memo *memo, double deadline)
{
	enum node_rpc_fail f;
	struct err e;
	json_t *r;
	int answered = 0;

	if (memo && memo->pid != st->pid) {
		memset(memo->skip_until, 0, sizeof memo->skip_until);
		memo->pid = st->pid;
	}
	if (memo_asks(memo, NODE_PM_NODE_ADDRESS)) {
		if (rpc_until(n->rpc_url, probe_methods[NODE_PM_NODE_ADDRESS],
		    NULL, deadline, &r, &f, &e) == 0) {
			const char *a = json_string_value(r);

			/* strdup failing leaves it unknown, as it should */
			if (a && a[0] && strlen(a) <= ADDRESS_MAX)
				st->address = strdup(a);
			json_decref(r);
		} else if (f == NODE_RPC_NO_METHOD) {
			memo_missing(memo, n, NODE_PM_NODE_ADDRESS);
		}
	}
	rpc_validators(n, deadline, memo, 0, &st->validators,
	    &st->validators_method, &answered);
}

int
node_probe_within(const struct node_def *n, struct node_state *st,
    int validators, struct node_probe_memo *memo, double gate_timeout,
    double check_timeout)
{
	int running;

	state_reset(st);
	probe_gate(n, st, gate_timeout);
	running = strcmp(st->gate_state, GATE_STATE_RUNNING) == 0;
	if (!running && strcmp(st->gate_state, "unreachable") != 0) {
		const char *job = st->hold ? json_get_str(st->hold, "job") : NULL;
		const char *why = st->hold ? json_get_str(st->hold, "reason") :
		    NULL;

		if (st->held)
			set_reason(st, "the node is %s, held by job %s (%s)",
			    st->gate_state, job ? job : "-", why ? why : "-");
		else
			set_reason(st, "the node is %s", st->gate_state);
	}
	/* A stopped node has no process to ask. */
	if (strcmp(st->gate_state, GATE_STATE_STOPPED) != 0) {
		if (n->rpc_url) {
			/* one deadline: the facts get what readiness left */
			double deadline = qb_mono_now() + check_timeout;

			probe_rpc(n, st, running, deadline);
			if (validators && running && st->rpc_ok)
				probe_validators(n, st, memo, deadline);
		} else if (n->health_url) {
			probe_health(n, st, running, check_timeout);
		}
	}
	st->ready = running && !st->reason[0];
	return st->ready;
}

int
node_probe(const struct node_def *n, struct node_state *st)
{
	return node_probe_within(n, st, 0, NULL, NODE_PROBE_GATE_TIMEOUT,
	    NODE_PROBE_CHECK_TIMEOUT);
}

int
node_probe_with(const struct node_def *n, struct node_state *st,
    struct node_probe_memo *memo)
{
	return node_probe_within(n, st, 1, memo, NODE_PROBE_GATE_TIMEOUT,
	    NODE_PROBE_CHECK_TIMEOUT);
}

void
node_state_move(struct node_state *dst, struct node_state *src)
{
	node_state_clear(dst);
	*dst = *src;
	state_reset(src);
}

/* 1 when address is in the validator set, 0 when not, -1 unknown. */
static int
is_validator(const struct node_state *st)
{
	if (!st->address || !json_is_array(st->validators))
		return -1;
	for (size_t i = 0; i < json_array_size(st->validators); i++) {
		const char *v = json_string_value(json_array_get(st->validators,
		    i));

		if (v && strcasecmp(v, st->address) == 0)
			return 1;
	}
	return 0;
}

json_t *
node_state_json(const struct node_def *n, const struct node_state *st)
{
	json_t *j = json_object();
	int bad = 0, iv = is_validator(st);

#define SET(k, v) bad |= json_object_set_new(j, k, v)
	if (!j)
		return NULL;
	SET("name", json_string(n->name));
	SET("state", json_string(st->gate_state[0] ? st->gate_state :
	    "unknown"));
	SET("pid", st->pid >= 0 ? json_integer(st->pid) : json_null());
	SET("uptime", st->uptime >= 0 ? json_real(st->uptime) : json_null());
	SET("restarts", st->restarts >= 0 ? json_integer(st->restarts) :
	    json_null());
	SET("held", json_boolean(st->held));
	SET("hold", st->hold ? json_deep_copy(st->hold) : json_null());
	SET("check", json_string(n->rpc_url ? "rpc" : n->health_url ?
	    "health" : "none"));
	SET("rpc_ok", json_boolean(st->rpc_ok));
	SET("height", st->height >= 0 ? json_integer(st->height) :
	    json_null());
	SET("syncing", st->syncing >= 0 ? json_boolean(st->syncing) :
	    json_null());
	SET("peers", st->peers >= 0 ? json_integer(st->peers) : json_null());
	SET("ready", json_boolean(st->ready));
	SET("reason", st->reason[0] ? json_string(st->reason) : json_null());
	SET("address", st->address ? json_string(st->address) : json_null());
	SET("validators", st->validators ? json_deep_copy(st->validators) :
	    json_null());
	SET("validators_method", st->validators_method ?
	    json_string(st->validators_method) : json_null());
	SET("is_validator", iv >= 0 ? json_boolean(iv) : json_null());
#undef SET
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- node facts ----------------------------------------------------- */

static int
facts_validators(const struct node_def *n, json_t *out, double deadline,
    int *answered)
{
	const char *method;
	json_t *set;

	rpc_validators(n, deadline, NULL, 1, &set, &method, answered);
	if (!set)
		return 0;
	if (json_object_set_new(out, "validators", set) < 0 ||
	    json_object_set_new(out, "validators_method",
	    json_string(method)) < 0)
		return -1;
	return 0;
}

json_t *
node_facts(const struct node_def *n, struct err *e)
{
	double deadline = qb_mono_now() + NODE_FACTS_TIMEOUT;
	struct err first = { .code = ERR_OK };
	enum node_rpc_fail f;
	json_t *out = json_object(), *r, *params;
	struct err ce;
	int answered = 0, bad = 0;
	long long num = -1;

	if (!out) {
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	if (!n->rpc_url)
		return out;

	params = json_pack("[sb]", "latest", 0);
	if (!params)
		goto oom;
	if (rpc_until(n->rpc_url, "eth_getBlockByNumber", params, deadline, &r,
	    &f, &ce) == 0) {
		answered = 1;
		if (json_is_object(r)) {
			const char *hash = json_get_str(r, "hash");
			const char *root = json_get_str(r, "stateRoot");

			num = node_hex_quantity(json_object_get(r, "number"));
			if (hash)
				bad |= json_object_set_new(out, "block_hash",
				    json_string(hash));
			if (root)
				bad |= json_object_set_new(out, "state_root",
				    json_string(root));
		} else {
			log_warn("node_facts_block", "node=%s error=%s",
			    logq(n->name), logq("eth_getBlockByNumber gave no "
			    "block object"));
		}
		json_decref(r);
	} else {
		if (f != NODE_RPC_TRANSPORT)
			answered = 1;
		first = ce;
		log_warn("node_facts_block", "node=%s error=%s", logq(n->name),
		    logq(ce.msg));
	}
	json_decref(params);
	if (num < 0 && rpc_until(n->rpc_url, "eth_blockNumber", NULL, deadline,
	    &r, &f, &ce) == 0) {
		answered = 1;
		num = node_hex_quantity(r);
		json_decref(r);
	} else if (num < 0 && f != NODE_RPC_TRANSPORT) {
		answered = 1;
	}
	if (num >= 0)
		bad |= json_object_set_new(out, "block_number",
		    json_integer(num));

	if (rpc_until(n->rpc_url, "web3_clientVersion", NULL, deadline, &r, &f,
	    &ce) == 0) {
		answered = 1;
		if (json_is_string(r))
			bad |= json_object_set_new(out, "client_version",
			    json_incref(r));
		json_decref(r);
	} else {
		if (f != NODE_RPC_TRANSPORT)
			answered = 1;
		if (first.code == ERR_OK)
			first = ce;
	}
	if (!answered) {
		json_decref(out);
		err_set(e, ERR_FAILED, "%s: the node does not answer JSON-RPC: "
		    "%s", n->name, first.msg);
		return NULL;
	}
	if (facts_validators(n, out, deadline, &answered) < 0 || bad)
		goto oom;
	return out;
oom:
	json_decref(out);
	err_set(e, ERR_FAILED, "out of memory");
	return NULL;
}

/* ---- several nodes -------------------------------------------------- */

/* Tell w of event ev on node i; with a probe of the node made now when
 * probe is set (the watcher may take the snapshot over). */
static void
notify(const struct node_watch *w, const struct node_def *n, size_t i,
    enum node_event ev, int probe)
{
	struct node_state st;

	if (!w || !w->fn)
		return;
	if (!probe) {
		w->fn(w->arg, i, ev, NULL);
		return;
	}
	node_probe_within(n, &st, 1, NULL, NODE_PROBE_GATE_TIMEOUT,
	    NODE_PROBE_CHECK_TIMEOUT);
	w->fn(w->arg, i, ev, &st);
	node_state_clear(&st);
}

/* node_stop, with the watcher told before and after. */
static int
stop_one(struct node_def *const *nodes, size_t i, const char *job,
    long long until, const char *reason, const struct node_watch *w,
    struct err *e)
{
	int rc;

	notify(w, nodes[i], i, NODE_EV_STOP_REQUESTED, 0);
	rc = node_stop(nodes[i], job, until, reason, e);
	notify(w, nodes[i], i, rc == 0 ? NODE_EV_STOPPED : NODE_EV_FAILED, 1);
	return rc;
}

/* node_start, with the watcher told before and after. */
static int
start_one(struct node_def *const *nodes, size_t i, const struct node_watch *w,
    struct err *e)
{
	int rc;

	notify(w, nodes[i], i, NODE_EV_START_REQUESTED, 0);
	rc = node_start(nodes[i], e);
	notify(w, nodes[i], i, rc == 0 ? NODE_EV_STARTED : NODE_EV_FAILED, 1);
	return rc;
}

int
nodes_stop_all(struct node_def *const *nodes, size_t n, const char *job,
    long long until, const char *reason, const struct node_watch *w,
    struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (stop_one(nodes, i, job, until, reason, w, e) == 0)
			continue;
		/* Resume: the failed one first (it may have stopped after
		 * all), then those stopped before it, in reverse. */
		for (size_t k = i + 1; k-- > 0;) {
			struct err se;

			if (start_one(nodes, k, w, &se) < 0)
				log_warn("node_resume_failed", "node=%s "
				    "error=%s", logq(nodes[k]->name),
				    logq(se.msg));
		}
		return -1;
	}
	return 0;
}

int
nodes_start_all(struct node_def *const *nodes, size_t n,
    const struct node_watch *w, struct err *e)
{
	int rc = 0;

	for (size_t k = n; k-- > 0;) {
		struct err se;

		if (start_one(nodes, k, w, &se) < 0 && rc == 0) {
			if (e)
				*e = se;
			rc = -1;
		}
	}
	return rc;
}

int
nodes_wait_ready(struct node_def *const *nodes, size_t n, double timeout_s,
    const struct node_watch *w, struct err *e)
{
	double t0 = qb_mono_now(), deadline = t0 + timeout_s;

	for (;;) {
		struct node_state st;
		size_t bad = n;
		char reason[sizeof st.reason];
		double left;

		for (size_t i = 0; i < n && bad == n; i++) {
			/* With a watcher, the validator facts too: what it is
			 * told replaces what it knew of the node. */
			if (!node_probe_within(nodes[i], &st, w != NULL, NULL,
			    NODE_PROBE_GATE_TIMEOUT, NODE_PROBE_CHECK_TIMEOUT)) {
				bad = i;
				memcpy(reason, st.reason, sizeof reason);
			}
			if (w && w->fn)
				w->fn(w->arg, i, NODE_EV_PROBED, &st);
			node_state_clear(&st);
		}
		if (bad == n) {
			log_info("nodes_ready", "nodes=%zu seconds=%.3f", n,
			    qb_mono_now() - t0);
			return 0;
		}
		if (qb_mono_now() >= deadline) {
			err_set(e, ERR_FAILED, "%s: not ready after %g s: %s",
			    nodes[bad]->name, timeout_s, reason);
			err_append_logs(nodes[bad], e);
			return -1;
		}
		left = deadline - qb_mono_now();
		qb_sleep(left < 0.5 ? left : 0.5);
	}
}
