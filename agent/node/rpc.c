/* rpc: the node's JSON-RPC and plain HTTP checks, over libcurl (http and
 * https only, no proxy, no redirects, replies of at most
 * NODE_RPC_REPLY_MAX bytes). */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capbuf.h"
#include "clock.h"
#include "json.h"
#include "node_int.h"
#include "utf8.h"

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
	if (!node_url_scheme_ok(url))
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
int
node_rpc_until(const char *url, const char *method, json_t *params,
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
