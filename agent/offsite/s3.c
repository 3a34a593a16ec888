#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hashes.h"
#include "s3_int.h"

/* The SHA-256 of nothing: the payload hash of GET, HEAD and DELETE. */
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Replies read into memory (XML, errors) are bounded. */
#define REPLY_MAX (8u << 20)

int
s3_encode(const char *s, int keep_slash, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~' || (keep_slash && ch == '/');

		if (n + (plain ? 1 : 3) >= size)
			return -1;
		if (plain) {
			out[n++] = (char)ch;
		} else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	if (n >= size)
		return -1;
	out[n] = '\0';
	return 0;
}

int
s3_conf_parse(struct s3_conf *c, const char *url, const char *region,
    int virtual_host, struct err *e)
{
	const char *p, *host, *slash, *bucket;
	size_t hlen, blen;

	memset(c, 0, sizeof *c);
	if (strncmp(url, "https://", 8) == 0) {
		strcpy(c->scheme, "https");
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		strcpy(c->scheme, "http");
		host = url + 7;
	} else {
		return err_set(e, ERR_CONFIG, "[offsite] url %s: not http:// or "
		    "https://", url);
	}
	slash = strchr(host, '/');
	hlen = slash ? (size_t)(slash - host) : strlen(host);
	if (hlen == 0 || hlen >= sizeof c->host || memchr(host, '@', hlen) ||
	    memchr(host, '?', hlen) || memchr(host, '#', hlen))
		return err_set(e, ERR_CONFIG, "[offsite] url %s: no valid host "
		    "(credentials belong in access_key_file and secret_key_file)",
		    url);
	memcpy(c->host, host, hlen);
	if (!slash || !slash[1])
		return err_set(e, ERR_CONFIG, "[offsite] url %s: no bucket: the "
		    "form is SCHEME://HOST/BUCKET[/PREFIX]", url);
	bucket = slash + 1;
	p = strchr(bucket, '/');
	blen = p ? (size_t)(p - bucket) : strlen(bucket);
	if (blen < 3 || blen >= sizeof c->bucket)
		return err_set(e, ERR_CONFIG, "[offsite] url %s: a bucket name has "
		    "3 to 63 characters", url);
	for (size_t i = 0; i < blen; i++) {
		char ch = bucket[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.'))
			return err_set(e, ERR_CONFIG, "[offsite] url %s: bucket "
			    "names hold a-z, 0-9, '-' and '.'", url);
	}
	memcpy(c->bucket, bucket, blen);
	if (p) {
		const char *pre = p + 1;
		size_t plen = strlen(pre);
		while (plen > 0 && pre[plen - 1] == '/')
			plen--;
		if (plen >= sizeof c->prefix || strchr(pre, '?') ||
		    strchr(pre, '#') || strstr(pre, "//") || pre[0] == '/')
			return err_set(e, ERR_CONFIG, "[offsite] url %s: a bad "
			    "prefix", url);
		memcpy(c->prefix, pre, plen);
	}
	if (!region || !region[0] || strlen(region) >= sizeof c->region ||
	    strchr(region, ':'))
		return err_set(e, ERR_CONFIG, "[offsite] region '%s': give the "
		    "bucket's region (any name for a store that has none, such "
		    "as us-east-1)", region ? region : "");
	strcpy(c->region, region);
	c->virtual_host = virtual_host;
	c->connect_timeout = 10;
	c->stall_timeout = 60;
	return 0;
}

int
s3_key(const struct s3_conf *c, const char *name, char *out, size_t size)
{
	int n = c->prefix[0] ? snprintf(out, size, "%s/%s", c->prefix, name) :
	    snprintf(out, size, "%s", name);

	return n < 0 || (size_t)n >= size || (size_t)n >= S3_KEY_MAX ? -1 : 0;
}

/* ---- one request ---------------------------------------------------- */

struct req {
	const struct s3_conf *c;
	const char *method;
	const char *key;             /* "" for the bucket */
	const char *query;           /* canonical, without '?'; "" none */
	const char *headers[4];      /* extra "Name: value" lines */
	const struct s3_body *body;
	s3_sink_fn sink;             /* NULL: the reply into memory */
	void *sink_arg;
	/* what came back */
	long status;
	char *reply;
	size_t reply_len;
	int reply_over;
	char etag[S3_ETAG_MAX];
	long long length;
	uint64_t got;                /* body bytes through sink */
	uint64_t sent;               /* body bytes read for sending */
	struct err *sink_err;
	int sink_failed;
};

static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = size * n;
	char line[512];
	char *v;

	if (len >= sizeof line)
		return len;
	memcpy(line, buf, len);
	line[len] = '\0';
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		line[--len] = '\0';
	if (!(v = strchr(line, ':')))
		return size * n;
	*v++ = '\0';
	while (*v == ' ')
		v++;
	if (strcasecmp(line, "ETag") == 0)
		snprintf(q->etag, sizeof q->etag, "%s", v);
	else if (strcasecmp(line, "Content-Length") == 0)
		q->length = strtoll(v, NULL, 10);
	return size * n;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = size * n;

	/* Only a 2xx body goes to the sink; an error's goes to memory. */
	if (q->sink && q->status >= 200 && q->status < 300) {
		if (q->sink(q->sink_arg, buf, len, q->sink_err) < 0) {
			q->sink_failed = 1;
			return 0;
		}
		q->got += len;
		return len;
	}
	if (q->reply_len + len > REPLY_MAX) {
		q->reply_over = 1;
		return 0;
	}
	char *r = realloc(q->reply, q->reply_len + len + 1);
	if (!r)
		return 0;
	q->reply = r;
	memcpy(r + q->reply_len, buf, len);
	q->reply_len += len;
	r[q->reply_len] = '\0';
	return len;
}

/* libcurl asks for the status only once the headers are in: the first
 * body callback of a transfer reads it from the handle. */
struct body_ctx {
	struct req *q;
	CURL *h;
};

static size_t
on_body_first(char *buf, size_t size, size_t n, void *arg)
{
	struct body_ctx *bc = arg;

	if (bc->q->status == 0)
		curl_easy_getinfo(bc->h, CURLINFO_RESPONSE_CODE, &bc->q->status);
	return on_body(buf, size, n, bc->q);
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	const struct s3_body *b = q->body;
	size_t want = size * n;
	uint64_t left = (b->fd >= 0 ? b->size : b->len) - q->sent;
	ssize_t got;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (b->fd < 0) {
		memcpy(buf, (const char *)b->buf + q->sent, want);
		got = (ssize_t)want;
	} else {
		do
			got = pread(b->fd, buf, want, (off_t)(b->off + q->sent));
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return CURL_READFUNC_ABORT;
	}
	q->sent += (uint64_t)got;
	return (size_t)got;
}

/* Rewinding for a resend (a redirect or an auth round): from the start. */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct req *q = arg;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	q->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static void
hex_sha256(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	struct sha256 *h = sha256_new();

	if (!h) {
		snprintf(out, SHA256_HEX_LEN + 1, "%s", EMPTY_SHA256);
		return;
	}
	sha256_update(h, buf, len);
	sha256_final_hex(h, out);
	sha256_free(h);
}

/* What the store said about a failed request, into e. */
static int
reply_error(struct req *q, const char *curl_msg, CURLcode rc, struct err *e)
{
	char code[128] = "", msg[512] = "", what[S3_KEY_MAX + 80];
	struct s3_xml *x;

	snprintf(what, sizeof what, "%s s3://%s/%s", q->method, q->c->bucket,
	    q->key);
	if (rc != CURLE_OK) {
		if (q->sink_failed)
			return -1;   /* the sink said why */
		if (rc == CURLE_OPERATION_TIMEDOUT)
			return err_set(e, ERR_OFFSITE, "%s: timed out (no byte moved "
			    "for %ld s): %s", what, q->c->stall_timeout, curl_msg);
		return err_set(e, ERR_OFFSITE, "%s: %s", what, curl_msg);
	}
	if ((x = s3_xml_parse(q->reply, q->reply_len)) != NULL) {
		if (strcmp(s3_xml_root(x), "Error") == 0) {
			s3_xml_text(x, "Code", code, sizeof code);
			s3_xml_text(x, "Message", msg, sizeof msg);
		}
		s3_xml_free(x);
	}
	if (!code[0]) {
		/* HEAD has no body; some stores send none. */
		snprintf(code, sizeof code, "%s", q->status == 404 ? "NotFound" :
		    q->status == 403 ? "AccessDenied" :
		    q->status == 412 ? "PreconditionFailed" : "HTTP error");
	}
	/* A missing object is not_found; a missing bucket is the store's
	 * set-up, not a backup that is not there. */
	return err_set(e, q->status == 404 && strcmp(code, "NoSuchBucket") != 0 ?
	    ERR_NOT_FOUND : q->status == 412 && q->headers[0] ? ERR_VERIFY :
	    ERR_OFFSITE,
	    "%s: HTTP %ld %s%s%s%s", what, q->status, code, msg[0] ? " (" : "",
	    msg, msg[0] ? ")" : "");
}

/* A request in flight stops when the caller cancels. */
static int
on_xfer(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct req *q = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return q->c->cancel && *q->c->cancel ? 1 : 0;
}

/* The method and, for PUT and POST, the body. */
static void
set_method(struct req *q, CURL *ch, uint64_t body_len)
{
	if (strcmp(q->method, "HEAD") == 0) {
		curl_easy_setopt(ch, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "PUT") == 0) {
		curl_easy_setopt(ch, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(ch, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(ch, CURLOPT_READDATA, q);
		curl_easy_setopt(ch, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(ch, CURLOPT_SEEKDATA, q);
		curl_easy_setopt(ch, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
	} else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(ch, CURLOPT_POST, 1L);
		curl_easy_setopt(ch, CURLOPT_POSTFIELDS, q->body ?
		    (const char *)q->body->buf : "");
		curl_easy_setopt(ch, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(q->body ? q->body->len : 0));
	} else if (strcmp(q->method, "DELETE") == 0) {
		curl_easy_setopt(ch, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
}

static int
perform(struct req *q, struct err *e)
{
	const struct s3_conf *c = q->c;
	char url[4096], ekey[3 * S3_KEY_MAX + 1], sigv4[128], userpwd[520];
	char hsha[SHA256_HEX_LEN + 1], errbuf[CURL_ERROR_SIZE];
	char shahdr[128], md5hdr[128];
	const char *payload_sha = EMPTY_SHA256;
	struct curl_slist *hdrs = NULL, *h;
	struct body_ctx bc;
	CURL *ch;
	CURLcode rc;
	int ret = -1;
	uint64_t body_len = 0;

	q->status = 0;
	q->etag[0] = '\0';
	q->length = -1;
	if (s3_encode(q->key, 1, ekey, sizeof ekey) < 0)
		return err_set(e, ERR_FAILED, "key too long: %s", q->key);
	if (c->virtual_host)
		snprintf(url, sizeof url, "%s://%s.%s/%s%s%s", c->scheme, c->bucket,
		    c->host, ekey, q->query[0] ? "?" : "", q->query);
	else
		snprintf(url, sizeof url, "%s://%s/%s/%s%s%s", c->scheme, c->host,
		    c->bucket, ekey, q->query[0] ? "?" : "", q->query);
	if (q->body) {
		body_len = q->body->fd >= 0 ? q->body->size : q->body->len;
		if (q->body->sha256) {
			payload_sha = q->body->sha256;
		} else if (q->body->fd < 0) {
			hex_sha256(q->body->buf, q->body->len, hsha);
			payload_sha = hsha;
		} else {
			return err_set(e, ERR_FAILED, "a file body needs its SHA-256");
		}
	}
	if (!(ch = curl_easy_init()))
		return err_set(e, ERR_FAILED, "curl_easy_init failed");
	snprintf(shahdr, sizeof shahdr, "x-amz-content-sha256: %s", payload_sha);
	if (!(hdrs = curl_slist_append(NULL, shahdr)))
		goto oom;
	/* "Expect:" (to skip the 100-continue round trip) is not sent:
	 * curl 7.88 lists the emptied header among the signed ones, and the
	 * signature no longer matches. */
	if (q->body && q->body->md5_b64) {
		snprintf(md5hdr, sizeof md5hdr, "Content-MD5: %s", q->body->md5_b64);
		if (!(h = curl_slist_append(hdrs, md5hdr)))
			goto oom;
		hdrs = h;
	}
	for (size_t i = 0; i < 4 && q->headers[i]; i++) {
		if (!(h = curl_slist_append(hdrs, q->headers[i])))
			goto oom;
		hdrs = h;
	}
	snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", c->region);
	snprintf(userpwd, sizeof userpwd, "%s:%s", c->access_key, c->secret_key);
	errbuf[0] = '\0';
	curl_easy_setopt(ch, CURLOPT_URL, url);
	curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(ch, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(ch, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(ch, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(ch, CURLOPT_USERPWD, userpwd);
	curl_easy_setopt(ch, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(ch, CURLOPT_USERAGENT,
	    "quorum-backup-agent/" PACKAGE_VERSION);
	curl_easy_setopt(ch, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(ch, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
	curl_easy_setopt(ch, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(ch, CURLOPT_LOW_SPEED_TIME, c->stall_timeout);
	if (c->ca_file[0])
		curl_easy_setopt(ch, CURLOPT_CAINFO, c->ca_file);
	if (c->max_send_speed > 0)
		curl_easy_setopt(ch, CURLOPT_MAX_SEND_SPEED_LARGE,
		    (curl_off_t)c->max_send_speed);
	curl_easy_setopt(ch, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(ch, CURLOPT_HEADERDATA, q);
	bc.q = q;
	bc.h = ch;
	curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, on_body_first);
	curl_easy_setopt(ch, CURLOPT_WRITEDATA, &bc);
	if (c->cancel) {
		curl_easy_setopt(ch, CURLOPT_XFERINFOFUNCTION, on_xfer);
		curl_easy_setopt(ch, CURLOPT_XFERINFODATA, q);
		curl_easy_setopt(ch, CURLOPT_NOPROGRESS, 0L);
	}
	set_method(q, ch, body_len);
	rc = curl_easy_perform(ch);
	curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &q->status);
	if (rc != CURLE_OK || q->status < 200 || q->status >= 300) {
		if (rc == CURLE_ABORTED_BY_CALLBACK)
			err_set(e, ERR_FAILED, "cancelled");
		else if (rc == CURLE_WRITE_ERROR && q->reply_over)
			err_set(e, ERR_OFFSITE, "%s s3://%s/%s: a reply over %u bytes",
			    q->method, c->bucket, q->key, REPLY_MAX);
		else
			reply_error(q, errbuf[0] ? errbuf : curl_easy_strerror(rc),
			    rc, e);
		goto out;
	}
	ret = 0;
	goto out;
oom:
	err_set(e, ERR_FAILED, "out of memory");
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(ch);
	/* The secret does not stay in this frame. */
	memset(userpwd, 0, sizeof userpwd);
	return ret;
}

static void
req_init(struct req *q, const struct s3_conf *c, const char *method,
    const char *key, const char *query)
{
	memset(q, 0, sizeof *q);
	q->c = c;
	q->method = method;
	q->key = key;
	q->query = query ? query : "";
}

static void
req_free(struct req *q)
{
	free(q->reply);
	q->reply = NULL;
}

int
s3_retryable(const struct err *e)
{
	if (e->code != ERR_OFFSITE)
		return 0;
	return strstr(e->msg, "HTTP 5") != NULL ||
	    strstr(e->msg, "SlowDown") != NULL ||
	    strstr(e->msg, "RequestTimeout") != NULL ||
	    strstr(e->msg, "timed out") != NULL ||
	    strstr(e->msg, "onnection") != NULL ||   /* refused, reset */
	    strstr(e->msg, "Recv failure") != NULL ||
	    strstr(e->msg, "Send failure") != NULL ||
	    strstr(e->msg, "Empty reply") != NULL;
}

/* ---- objects -------------------------------------------------------- */

int
s3_head(const struct s3_conf *c, const char *key, uint64_t *size,
    char etag[S3_ETAG_MAX], struct err *e)
{
	struct req q;
	int rc;

	req_init(&q, c, "HEAD", key, NULL);
	rc = perform(&q, e);
	if (rc == 0) {
		if (size)
			*size = q.length >= 0 ? (uint64_t)q.length : 0;
		if (etag)
			snprintf(etag, S3_ETAG_MAX, "%s", q.etag);
	}
	req_free(&q);
	return rc;
}

int
s3_get(const struct s3_conf *c, const char *key, uint64_t from,
    const char *if_match, s3_sink_fn sink, void *arg, uint64_t *got,
    struct err *e)
{
	char range[64], match[S3_ETAG_MAX + 16];
	struct req q;
	int rc, n = 0;

	req_init(&q, c, "GET", key, NULL);
	q.sink = sink;
	q.sink_arg = arg;
	q.sink_err = e;
	if (if_match) {
		snprintf(match, sizeof match, "If-Match: %s", if_match);
		q.headers[n++] = match;
	}
	if (from > 0) {
		snprintf(range, sizeof range, "Range: bytes=%llu-",
		    (unsigned long long)from);
		q.headers[n++] = range;
	}
	rc = perform(&q, e);
	if (rc < 0 && e->code == ERR_VERIFY)
		err_prefix(e, "the object changed while it was read");
	if (got)
		*got = q.got;
	req_free(&q);
	return rc;
}

int
s3_put(const struct s3_conf *c, const char *key, const struct s3_body *body,
    char etag[S3_ETAG_MAX], struct err *e)
{
	struct req q;
	int rc;

	req_init(&q, c, "PUT", key, NULL);
	q.body = body;
	rc = perform(&q, e);
	if (rc == 0 && etag)
		snprintf(etag, S3_ETAG_MAX, "%s", q.etag);
	req_free(&q);
	return rc;
}

int
s3_delete(const struct s3_conf *c, const char *key, struct err *e)
{
	struct req q;
	int rc;

	req_init(&q, c, "DELETE", key, NULL);
	rc = perform(&q, e);
	req_free(&q);
	return rc;
}

/* A bucket-level GET with a canonical query: the XML reply, parsed. */
static struct s3_xml *
bucket_get(const struct s3_conf *c, const char *key, const char *query,
    const char *root, struct err *e)
{
	struct s3_xml *x;
	struct req q;

	req_init(&q, c, "GET", key, query);
	if (perform(&q, e) < 0) {
		req_free(&q);
		return NULL;
	}
	x = s3_xml_parse(q.reply, q.reply_len);
	req_free(&q);
	if (!x || strcmp(s3_xml_root(x), root) != 0) {
		s3_xml_free(x);
		err_set(e, ERR_OFFSITE, "GET s3://%s/%s?%s: the reply is not a %s",
		    c->bucket, key, query, root);
		return NULL;
	}
	return x;
}

struct list_walk {
	int (*fn)(void *arg, const struct s3_object *o, struct err *e);
	void *arg;
	struct err *e;
	char last[S3_KEY_MAX];
};

static int
list_item(void *arg, const struct s3_xml_item *it)
{
	struct list_walk *w = arg;
	struct s3_object o;
	char size[32], lm[64];

	memset(&o, 0, sizeof o);
	s3_xml_item_text(it, "Key", o.key, sizeof o.key);
	s3_xml_item_text(it, "ETag", o.etag, sizeof o.etag);
	s3_xml_item_text(it, "Size", size, sizeof size);
	s3_xml_item_text(it, "LastModified", lm, sizeof lm);
	o.size = strtoull(size, NULL, 10);
	o.last_modified = s3_parse_time(lm);
	snprintf(w->last, sizeof w->last, "%s", o.key);
	return w->fn(w->arg, &o, w->e);
}

int
s3_list(const struct s3_conf *c, const char *prefix,
    int (*fn)(void *arg, const struct s3_object *o, struct err *e),
    void *arg, struct err *e)
{
	char token[2048] = "", etok[3 * sizeof token], epre[3 * S3_KEY_MAX];
	char query[sizeof etok + sizeof epre + 64], trunc[16];
	struct list_walk w = { fn, arg, e, "" };

	if (s3_encode(prefix, 0, epre, sizeof epre) < 0)
		return err_set(e, ERR_FAILED, "prefix too long");
	for (int page = 0; page < 100000; page++) {
		struct s3_xml *x;
		int rc;

		if (s3_encode(token, 0, etok, sizeof etok) < 0)
			return err_set(e, ERR_OFFSITE, "a continuation token too long");
		/* Sorted: continuation-token, list-type, prefix. */
		snprintf(query, sizeof query, "%s%s%slist-type=2&prefix=%s",
		    token[0] ? "continuation-token=" : "", etok,
		    token[0] ? "&" : "", epre);
		if (!(x = bucket_get(c, "", query, "ListBucketResult", e)))
			return -1;
		rc = s3_xml_each(x, "Contents", list_item, &w);
		s3_xml_text(x, "IsTruncated", trunc, sizeof trunc);
		s3_xml_text(x, "NextContinuationToken", token, sizeof token);
		s3_xml_free(x);
		if (rc < 0)
			return -1;
		if (strcmp(trunc, "true") != 0)
			return 0;
		if (!token[0])
			return err_set(e, ERR_OFFSITE, "a truncated listing without "
			    "a continuation token");
	}
	return err_set(e, ERR_OFFSITE, "a listing of over 100000 pages");
}

/* ---- multipart ------------------------------------------------------ */

int
s3_mpu_create(const struct s3_conf *c, const char *key,
    char upload_id[S3_UPLOAD_ID_MAX], struct err *e)
{
	struct s3_xml *x;
	struct req q;

	req_init(&q, c, "POST", key, "uploads=");
	if (perform(&q, e) < 0) {
		req_free(&q);
		return -1;
	}
	x = s3_xml_parse(q.reply, q.reply_len);
	req_free(&q);
	if (!x || strcmp(s3_xml_root(x), "InitiateMultipartUploadResult") != 0 ||
	    !s3_xml_text(x, "UploadId", upload_id, S3_UPLOAD_ID_MAX) ||
	    !upload_id[0]) {
		s3_xml_free(x);
		return err_set(e, ERR_OFFSITE, "POST s3://%s/%s?uploads: no "
		    "UploadId in the reply", c->bucket, key);
	}
	s3_xml_free(x);
	return 0;
}

int
s3_mpu_part(const struct s3_conf *c, const char *key, const char *upload_id,
    int number, const struct s3_body *body, char etag[S3_ETAG_MAX],
    struct err *e)
{
	char query[3 * S3_UPLOAD_ID_MAX + 64], eid[3 * S3_UPLOAD_ID_MAX];
	struct req q;
	int rc;

	if (s3_encode(upload_id, 0, eid, sizeof eid) < 0)
		return err_set(e, ERR_FAILED, "upload id too long");
	snprintf(query, sizeof query, "partNumber=%d&uploadId=%s", number, eid);
	req_init(&q, c, "PUT", key, query);
	q.body = body;
	rc = perform(&q, e);
	if (rc == 0) {
		snprintf(etag, S3_ETAG_MAX, "%s", q.etag);
		if (!etag[0])
			rc = err_set(e, ERR_OFFSITE, "PUT s3://%s/%s part %d: no "
			    "ETag in the reply", c->bucket, key, number);
	}
	req_free(&q);
	return rc;
}

int
s3_mpu_complete(const struct s3_conf *c, const char *key,
    const char *upload_id, const struct s3_part *parts, size_t n,
    struct err *e)
{
	char query[3 * S3_UPLOAD_ID_MAX + 32], eid[3 * S3_UPLOAD_ID_MAX];
	size_t cap = 128 + n * (S3_ETAG_MAX + 80), len = 0;
	char *xml = malloc(cap);
	struct s3_body body;
	struct req q;
	int rc;

	if (!xml)
		return err_set(e, ERR_FAILED, "out of memory");
	if (s3_encode(upload_id, 0, eid, sizeof eid) < 0) {
		free(xml);
		return err_set(e, ERR_FAILED, "upload id too long");
	}
	len += (size_t)snprintf(xml + len, cap - len,
	    "<CompleteMultipartUpload>");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(xml + len, cap - len, "<Part><PartNumber>%d"
		    "</PartNumber><ETag>%s</ETag></Part>", parts[i].number,
		    parts[i].etag);
	len += (size_t)snprintf(xml + len, cap - len,
	    "</CompleteMultipartUpload>");
	snprintf(query, sizeof query, "uploadId=%s", eid);
	memset(&body, 0, sizeof body);
	body.buf = xml;
	body.len = len;
	body.fd = -1;
	req_init(&q, c, "POST", key, query);
	q.body = &body;
	rc = perform(&q, e);
	/* A 200 may still carry an error (S3 says so of Complete). */
	if (rc == 0) {
		struct s3_xml *x = s3_xml_parse(q.reply, q.reply_len);
		if (x && strcmp(s3_xml_root(x), "Error") == 0) {
			char code[128], msg[512];
			s3_xml_text(x, "Code", code, sizeof code);
			s3_xml_text(x, "Message", msg, sizeof msg);
			rc = err_set(e, ERR_OFFSITE, "POST s3://%s/%s?uploadId: %s "
			    "(%s)", c->bucket, key, code, msg);
		}
		s3_xml_free(x);
	}
	req_free(&q);
	free(xml);
	return rc;
}

int
s3_mpu_abort(const struct s3_conf *c, const char *key, const char *upload_id,
    struct err *e)
{
	char query[3 * S3_UPLOAD_ID_MAX + 32], eid[3 * S3_UPLOAD_ID_MAX];
	struct req q;
	int rc;

	if (s3_encode(upload_id, 0, eid, sizeof eid) < 0)
		return err_set(e, ERR_FAILED, "upload id too long");
	snprintf(query, sizeof query, "uploadId=%s", eid);
	req_init(&q, c, "DELETE", key, query);
	rc = perform(&q, e);
	req_free(&q);
	return rc;
}

struct parts_walk {
	int (*fn)(void *arg, const struct s3_part *p, struct err *e);
	void *arg;
	struct err *e;
};

static int
part_item(void *arg, const struct s3_xml_item *it)
{
	struct parts_walk *w = arg;
	struct s3_part p;
	char num[16], size[32];

	memset(&p, 0, sizeof p);
	s3_xml_item_text(it, "PartNumber", num, sizeof num);
	s3_xml_item_text(it, "ETag", p.etag, sizeof p.etag);
	s3_xml_item_text(it, "Size", size, sizeof size);
	p.number = atoi(num);
	p.size = strtoull(size, NULL, 10);
	return w->fn(w->arg, &p, w->e);
}

int
s3_mpu_parts(const struct s3_conf *c, const char *key, const char *upload_id,
    int (*fn)(void *arg, const struct s3_part *p, struct err *e),
    void *arg, struct err *e)
{
	char query[3 * S3_UPLOAD_ID_MAX + 64], eid[3 * S3_UPLOAD_ID_MAX];
	char marker[16] = "", trunc[16];
	struct parts_walk w = { fn, arg, e };

	if (s3_encode(upload_id, 0, eid, sizeof eid) < 0)
		return err_set(e, ERR_FAILED, "upload id too long");
	for (int page = 0; page < 100; page++) {
		struct s3_xml *x;
		int rc;

		/* Sorted: part-number-marker, uploadId. */
		snprintf(query, sizeof query, "%s%s%suploadId=%s",
		    marker[0] ? "part-number-marker=" : "", marker,
		    marker[0] ? "&" : "", eid);
		if (!(x = bucket_get(c, key, query, "ListPartsResult", e)))
			return -1;
		rc = s3_xml_each(x, "Part", part_item, &w);
		s3_xml_text(x, "IsTruncated", trunc, sizeof trunc);
		s3_xml_text(x, "NextPartNumberMarker", marker, sizeof marker);
		s3_xml_free(x);
		if (rc < 0)
			return -1;
		if (strcmp(trunc, "true") != 0 || !marker[0])
			return 0;
	}
	return err_set(e, ERR_OFFSITE, "a part listing of over 100 pages");
}

struct uploads_walk {
	int (*fn)(void *arg, const struct s3_upload *u, struct err *e);
	void *arg;
	struct err *e;
};

static int
upload_item(void *arg, const struct s3_xml_item *it)
{
	struct uploads_walk *w = arg;
	struct s3_upload u;
	char t[64];

	memset(&u, 0, sizeof u);
	s3_xml_item_text(it, "Key", u.key, sizeof u.key);
	s3_xml_item_text(it, "UploadId", u.upload_id, sizeof u.upload_id);
	s3_xml_item_text(it, "Initiated", t, sizeof t);
	u.initiated = s3_parse_time(t);
	return w->fn(w->arg, &u, w->e);
}

int
s3_mpu_list(const struct s3_conf *c, const char *prefix,
    int (*fn)(void *arg, const struct s3_upload *u, struct err *e),
    void *arg, struct err *e)
{
	char epre[3 * S3_KEY_MAX], kmark[S3_KEY_MAX], umark[S3_UPLOAD_ID_MAX];
	char ekm[3 * S3_KEY_MAX], eum[3 * S3_UPLOAD_ID_MAX], trunc[16];
	char query[sizeof epre + sizeof ekm + sizeof eum + 64];
	struct uploads_walk w = { fn, arg, e };

	kmark[0] = umark[0] = '\0';
	if (s3_encode(prefix, 0, epre, sizeof epre) < 0)
		return err_set(e, ERR_FAILED, "prefix too long");
	for (int page = 0; page < 10000; page++) {
		struct s3_xml *x;
		int rc;

		if (s3_encode(kmark, 0, ekm, sizeof ekm) < 0 ||
		    s3_encode(umark, 0, eum, sizeof eum) < 0)
			return err_set(e, ERR_OFFSITE, "a marker too long");
		/* Sorted: key-marker, prefix, upload-id-marker, uploads. */
		snprintf(query, sizeof query, "%s%s%sprefix=%s%s%s&uploads=",
		    kmark[0] ? "key-marker=" : "", ekm, kmark[0] ? "&" : "", epre,
		    umark[0] ? "&upload-id-marker=" : "", eum);
		if (!(x = bucket_get(c, "", query, "ListMultipartUploadsResult",
		    e)))
			return -1;
		rc = s3_xml_each(x, "Upload", upload_item, &w);
		s3_xml_text(x, "IsTruncated", trunc, sizeof trunc);
		s3_xml_text(x, "NextKeyMarker", kmark, sizeof kmark);
		s3_xml_text(x, "NextUploadIdMarker", umark, sizeof umark);
		s3_xml_free(x);
		if (rc < 0)
			return -1;
		if (strcmp(trunc, "true") != 0 || (!kmark[0] && !umark[0]))
			return 0;
	}
	return err_set(e, ERR_OFFSITE, "an upload listing of over 10000 pages");
}
