#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capbuf.h"
#include "client.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"

#define REPLY_MAX (16u << 20)   /* a long backup list is well below */
#define TOKEN_MAX 4096

int
client_init(struct client *c, const char *token_file, const char *holder,
    double timeout, struct err *e)
{
	memset(c, 0, sizeof *c);
	snprintf(c->holder, sizeof c->holder, "%s", holder);
	c->timeout = timeout;
	if (token_file && token_file[0]) {
		char *line;
		size_t n, len;

		/* A Secret's key is a link; a FIFO must not hang the run. */
		if (fs_read_config_file(token_file, 2 * TOKEN_MAX, &line, &len,
		    NULL, e) < 0) {
			e->code = ERR_CONFIG;
			err_prefix(e, "token_file");
			return -1;
		}
		n = strcspn(line, "\r\n");
		if (n > TOKEN_MAX) {
			free(line);
			return err_set(e, ERR_CONFIG, "token_file %s: the token is "
			    "longer than %d bytes", token_file, TOKEN_MAX);
		}
		line[n] = '\0';
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n == 0) {
			free(line);
			return err_set(e, ERR_CONFIG, "token_file %s: the first line "
			    "is empty", token_file);
		}
		c->token = strdup(line);
		free(line);
		if (!c->token)
			return err_set(e, ERR_FAILED, "out of memory");
	}
	if (!(c->curl = curl_easy_init())) {
		free(c->token);
		c->token = NULL;
		return err_set(e, ERR_FAILED, "curl_easy_init failed");
	}
	return 0;
}

void
client_fini(struct client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->token) {
		/* Not left behind in freed memory. */
		memset(c->token, 0, strlen(c->token));
		free(c->token);
	}
	memset(c, 0, sizeof *c);
}

void
reply_free(struct reply *r)
{
	json_decref(r->body);
	r->body = NULL;
}

void
client_escape(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

/* The agent's {"error":{"code","message"}}, or a description of what came
 * instead. */
static void
take_error(struct reply *r, const struct capbuf *b)
{
	json_t *err = json_object_get(r->body, "error");
	const char *code = json_is_object(err) ? json_get_str(err, "code") : NULL;
	const char *msg = json_is_object(err) ? json_get_str(err, "message") :
	    NULL;

	if (code) {
		snprintf(r->code, sizeof r->code, "%s", code);
		snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : code);
		return;
	}
	snprintf(r->code, sizeof r->code, "bad_reply");
	snprintf(r->msg, sizeof r->msg, "HTTP %ld: %.200s", r->status,
	    b->p && b->len ? b->p : "(empty body)");
	for (char *p = r->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int
client_call(struct client *c, const struct member *m, const char *method,
    const char *path, double wait_s, struct reply *r)
{
	char url[1024], errbuf[CURL_ERROR_SIZE], auth[TOKEN_MAX + 32];
	char holder[256];
	struct curl_slist *hdrs = NULL, *h;
	struct capbuf b = { .max = REPLY_MAX };
	double timeout = c->timeout + (wait_s > 0 ? wait_s : 0);
	CURL *cu = c->curl;
	CURLcode rc;
	int ret = -1;

	memset(r, 0, sizeof *r);
	if ((size_t)snprintf(url, sizeof url, "%s%s", m->url, path) >=
	    sizeof url) {
		snprintf(r->code, sizeof r->code, "bad_request");
		snprintf(r->msg, sizeof r->msg, "the URL is too long");
		return -1;
	}
	curl_easy_reset(cu);
	h = curl_slist_append(NULL, "Accept: application/json");
	if (h) {
		hdrs = h;
		h = curl_slist_append(hdrs, "Expect:");
	}
	if (h && c->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
		h = curl_slist_append(hdrs, auth);
		memset(auth, 0, sizeof auth);
	}
	if (h && c->holder[0]) {
		snprintf(holder, sizeof holder, "X-Quorum-Backup-Holder: %s",
		    c->holder);
		h = curl_slist_append(hdrs, holder);
	}
	if (!h) {
		snprintf(r->code, sizeof r->code, "internal");
		snprintf(r->msg, sizeof r->msg, "out of memory");
		goto out;
	}
	hdrs = h;
	errbuf[0] = '\0';
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(c->timeout * 1000));
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "quorum-backup/" PACKAGE_VERSION);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, capbuf_write);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(cu, CURLOPT_POST, 1L);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	}
	log_debug("request", "member=%d method=%s path=%s", m->n, method,
	    logq(path));
	rc = curl_easy_perform(cu);
	if (rc != CURLE_OK) {
		if (b.over) {
			snprintf(r->code, sizeof r->code, "bad_reply");
			snprintf(r->msg, sizeof r->msg, "%.700s: reply longer than "
			    "%u bytes", url, REPLY_MAX);
		} else if (rc == CURLE_OPERATION_TIMEDOUT) {
			snprintf(r->code, sizeof r->code, "timeout");
			snprintf(r->msg, sizeof r->msg, "%.700s: no answer within "
			    "%.0f s", url, timeout);
		} else {
			snprintf(r->code, sizeof r->code, "unreachable");
			snprintf(r->msg, sizeof r->msg, "%.700s: %.300s", url,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		}
		goto out;
	}
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
	if (b.p && b.len) {
		json_error_t je;
		r->body = json_loadb(b.p, b.len, 0, &je);
	}
	if (r->status >= 200 && r->status < 300 && r->body) {
		ret = 0;
		goto out;
	}
	take_error(r, &b);
out:
	log_debug("reply", "member=%d status=%ld code=%s", m->n, r->status,
	    r->code[0] ? r->code : "-");
	curl_slist_free_all(hdrs);
	free(b.p);
	return ret;
}
