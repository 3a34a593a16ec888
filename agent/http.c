#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "fsutil.h"
#include "hashes.h"
#include "http.h"
#include "log.h"

#define TOKEN_MAX 4096
/* The same token problem is logged once a minute at most. */
#define TOKEN_LOG_EVERY 60.0
/* A token file changed less than this many seconds before it was read
 * may change again within the same timestamp tick, unseen by stat():
 * until it is older, it is read at every check. */
#define TOKEN_RACY 2.0

static const struct http_route routes[] = {
	{ "GET", "/healthz", api_healthz, 0 },
	{ "GET", "/readyz", api_readyz, 0 },
	{ "GET", "/metrics", api_metrics, 0 },
	{ "GET", "/v1/status", api_status, 1 },
	{ "GET", "/v1/backups", api_backups_list, 1 },
	{ "GET", "/v1/backups/{id}", api_backup_get, 1 },
	{ "DELETE", "/v1/backups/{id}", api_backup_delete, 1 },
	{ "GET", "/v1/backups/{id}/archive", api_backup_archive, 1 },
	{ "GET", "/v1/backups/{id}/metadata", api_backup_metadata, 1 },
	{ "POST", "/v1/backups/{id}/verify", api_backup_verify, 1 },
	{ "POST", "/v1/prune", api_prune, 1 },
	{ "POST", "/v1/archive", api_archive, 1 },
	{ "POST", "/v1/unpack", api_unpack, 1 },
	{ "POST", "/v1/rollback", api_rollback, 1 },
	{ "GET", "/v1/jobs", api_jobs_list, 1 },
	{ "GET", "/v1/jobs/{id}", api_job_get, 1 },
	{ "GET", "/v1/history", api_history, 1 },
	{ "POST", "/v1/quiesce", api_quiesce, 1 },
	{ "POST", "/v1/resume", api_resume, 1 },
	{ "POST", "/v1/lease", api_lease_take, 1 },
	{ "DELETE", "/v1/lease", api_lease_release, 1 },
};

/* A connection as the request deadline sees it (see watchdog_main). */
struct conn_watch {
	struct conn_watch *prev, *next;
	int fd;
	int reading;             /* waiting for the client's (next) request */
	int cut;
	double since;            /* monotonic seconds: since when */
};

/* The bearer token, as a SHA-256, and the file version it came from. */
struct token_cache {
	pthread_mutex_t mu;
	int loaded;              /* sha is the token of the version st */
	unsigned char sha[32];
	int have_st;
	struct stat st;          /* fstat of the file read (at a failed read:
	                          * the stat of the path) */
	int racy;                /* read within TOKEN_RACY of its change */
	double failed_at;        /* monotonic: the last failed read */
	char problem[256];       /* the problem logged last, and when */
	double logged_at;
	unsigned repeated;       /* times it came back since */
};

struct http_server {
	struct MHD_Daemon *d;
	int active;              /* requests between first call and completion */
	const struct agent_conf *cf;
	struct api *api;
	struct token_cache token;
	pthread_mutex_t watch_mu;   /* watch list, watch_quit */
	pthread_cond_t watch_cv;
	struct conn_watch *watch;
	int watch_quit;
	pthread_t watchdog;
};

/* Per-request state, from the first call to the completion callback. */
struct req_state {
	char *body;
	size_t len;
	int too_big;
};

const char *
req_arg(struct request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result
queue(struct request *r, unsigned status, const char *type, char *data,
    size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data,
	    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
reply_json(struct request *r, unsigned status, json_t *body)
{
	char *text = json_dumps(body, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	size_t len;

	json_decref(body);
	if (!text)
		return MHD_NO;
	len = strlen(text);
	char *withnl = realloc(text, len + 2);
	if (!withnl) {
		free(text);
		return MHD_NO;
	}
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	return queue(r, status, "application/json", withnl, len + 1);
}

enum MHD_Result
reply_text(struct request *r, unsigned status, const char *content_type,
    const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return MHD_NO;
	return queue(r, status, content_type, copy, strlen(copy));
}

enum MHD_Result
reply_error(struct request *r, unsigned status, const char *code,
    const char *message)
{
	json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", code,
	    "message", message);

	/* json_pack refuses a message that is not UTF-8, such as one quoting
	 * the id of GET /v1/backups/%FF%FE: the connection was closed without
	 * a reply. Answer without the quote. */
	if (!body)
		body = json_pack("{s:{s:s, s:s}}", "error", "code", code,
		    "message", "(the message quoted bytes that are not UTF-8)");
	return reply_json(r, status, body);
}

enum MHD_Result
reply_err(struct request *r, const struct err *e)
{
	return reply_error(r, (unsigned)err_http_status(e->code),
	    err_name(e->code), e->msg);
}

/* SHA-256 of data into out; -1 when out of memory. */
static int
sha256_bin(const char *data, size_t len, unsigned char out[32])
{
	struct sha256 *h = sha256_new();
	char hex[SHA256_HEX_LEN + 1];

	if (!h)
		return -1;
	sha256_update(h, data, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	OPENSSL_cleanse(hex, sizeof hex);
	return 0;
}

/* The same version of a file: a rewrite in place that keeps its size and
 * sets its mtime back (touch -d) still changes its ctime. */
static int
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Note a failed read of the token file (caller holds t->mu): 1 when it
 * should be logged now, the same problem being logged once a minute at
 * most; *repeated gets how often it came back unlogged. */
static int
token_failed(struct token_cache *t, const struct stat *st, const char *why,
    unsigned *repeated)
{
	double now = qb_mono_now();

	t->loaded = 0;
	t->racy = 0;
	t->failed_at = now;
	t->have_st = st != NULL;
	if (st)
		t->st = *st;
	if (strcmp(why, t->problem) == 0 && now - t->logged_at < TOKEN_LOG_EVERY) {
		t->repeated++;
		return 0;
	}
	snprintf(t->problem, sizeof t->problem, "%s", why);
	t->logged_at = now;
	*repeated = t->repeated;
	t->repeated = 0;
	return 1;
}

/* Re-read the token file when it changed; keep only its SHA-256. Caller
 * holds t->mu. The file is read with fs_read_config_file: through links
 * (Kubernetes mounts a Secret's keys as links into its ..data directory),
 * but only a regular file, opened without waiting: a FIFO at the path is
 * refused at once instead of blocking this thread, and with it every
 * request that carries a token. Returns 1 when a new token was loaded,
 * 0 when the one loaded still holds, -1 when there is none (e says why;
 * *log is set when that should be logged now, *repeated how often it was
 * not). */
static int
token_refresh(struct http_server *s, struct err *e, int *log,
    unsigned *repeated)
{
	struct token_cache *t = &s->token;
	const char *path = s->cf->token_file;
	struct stat st, rst;
	struct timespec real;
	unsigned char sha[32];
	char *buf;
	size_t len;
	int was_loaded = t->loaded, changed, rc;

	*log = 0;
	err_clear(e);
	if (stat(path, &st) < 0) {
		err_sys(e, ERR_FAILED, "stat %s", path);
		*log = token_failed(t, NULL, e->msg, repeated);
		return -1;
	}
	if (t->have_st && !t->racy && same_version(&st, &t->st)) {
		if (t->loaded)
			return 0;
		/* The version that failed: tried again once a second (a
		 * transient error), not at every request. */
		if (qb_mono_now() - t->failed_at < 1.0) {
			err_set(e, ERR_FAILED, "%s", t->problem);
			return -1;
		}
	}
	if (fs_read_config_file(path, TOKEN_MAX, &buf, &len, &rst, e) < 0) {
		*log = token_failed(t, &st, e->msg, repeated);
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' '))
		len--;
	if (len == 0) {
		free(buf);
		err_set(e, ERR_FAILED, "%s is empty", path);
		*log = token_failed(t, &rst, e->msg, repeated);
		return -1;
	}
	rc = sha256_bin(buf, len, sha);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc < 0) {
		err_set(e, ERR_FAILED, "out of memory hashing %s", path);
		*log = token_failed(t, &rst, e->msg, repeated);
		return -1;
	}
	changed = !was_loaded || CRYPTO_memcmp(sha, t->sha, 32) != 0;
	memcpy(t->sha, sha, 32);
	OPENSSL_cleanse(sha, sizeof sha);
	t->st = rst;
	t->have_st = 1;
	t->loaded = 1;
	clock_gettime(CLOCK_REALTIME, &real);
	{
		double age = (double)(real.tv_sec - rst.st_ctim.tv_sec) +
		    (double)(real.tv_nsec - rst.st_ctim.tv_nsec) / 1e9;
		t->racy = age < TOKEN_RACY && age > -TOKEN_RACY;
	}
	t->problem[0] = '\0';
	t->repeated = 0;
	return changed ? 1 : 0;
}

/* The token of an Authorization header value, or NULL when it does not
 * use the Bearer scheme: the scheme is case-insensitive (RFC 9110 11.1),
 * then one or more spaces (RFC 6750 2.1). */
static const char *
bearer_token(const char *h)
{
	if (!h || strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ')
		return NULL;
	h += 6;
	while (*h == ' ')
		h++;
	return h;
}

/* Bearer token, compared in constant time (SHA-256 of both sides, so the
 * comparison does not depend on the lengths either). Without a readable
 * token file nothing is authorized (401, as for a wrong token: a caller
 * without the token learns nothing of the agent's files); the log says
 * why, once a minute at most. */
static int
authorized(struct http_server *s, struct MHD_Connection *conn)
{
	const char *tok = bearer_token(MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
	unsigned char got[32];
	unsigned repeated = 0;
	struct err e;
	int ok, rc, log;

	if (strcmp(s->cf->auth, "none") == 0)
		return 1;
	if (!tok || strlen(tok) > TOKEN_MAX ||
	    sha256_bin(tok, strlen(tok), got) < 0)
		return 0;
	pthread_mutex_lock(&s->token.mu);
	rc = token_refresh(s, &e, &log, &repeated);
	ok = rc >= 0 && CRYPTO_memcmp(got, s->token.sha, 32) == 0;
	pthread_mutex_unlock(&s->token.mu);
	/* Logged outside the mutex: a log write may block. */
	if (rc == 1)
		log_info("token_loaded", "path=%s", logq(s->cf->token_file));
	else if (rc < 0 && log)
		log_error("token_unreadable", "path=%s error=%s repeated=%u "
		    "note=%s", logq(s->cf->token_file), logq(e.msg), repeated,
		    logq("every /v1/ request gets 401 until it is fixed"));
	return ok;
}

/* Match path against pattern; *id gets the {id} segment (in buf). */
static int
match(const char *pattern, const char *path, char *buf, size_t size,
    const char **id)
{
	*id = NULL;
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= size)
				return 0;
			memcpy(buf, path, n);
			buf[n] = '\0';
			*id = buf;
			pattern += 4;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

enum http_match
http_route_match(const char *method, const char *path, char *idbuf,
    size_t size, const struct http_route **route, const char **id)
{
	int path_known = 0;

	*route = NULL;
	*id = NULL;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *rid;
		if (!match(routes[i].pattern, path, idbuf, size, &rid))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, method) != 0)
			continue;
		*route = &routes[i];
		*id = rid;
		return HTTP_ROUTE_FOUND;
	}
	if (path_known)
		return HTTP_ROUTE_WRONG_METHOD;
	/* libmicrohttpd decodes %2F: "..%2F..%2Fetc" arrives as more path
	 * segments. Below a resource that takes an id, that is a bad id. */
	if (strncmp(path, "/v1/backups/", 12) == 0 ||
	    strncmp(path, "/v1/jobs/", 9) == 0)
		return HTTP_ROUTE_BAD_ID;
	return HTTP_ROUTE_NOT_FOUND;
}

static enum MHD_Result
dispatch(struct http_server *s, struct request *r)
{
	char idbuf[512];
	const struct http_route *route;
	const char *id;
	enum http_match m = http_route_match(r->method, r->path, idbuf,
	    sizeof idbuf, &route, &id);

	if (m == HTTP_ROUTE_FOUND) {
		if (route->auth && !authorized(s, r->conn))
			return reply_error(r, MHD_HTTP_UNAUTHORIZED, "unauthorized",
			    "missing or wrong bearer token");
		r->id = id;
		return route->fn(r);
	}
	/* Auth first: an unauthenticated caller learns nothing more. */
	if (strncmp(r->path, "/v1/", 4) == 0 && !authorized(s, r->conn))
		return reply_error(r, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		    "missing or wrong bearer token");
	if (m == HTTP_ROUTE_WRONG_METHOD)
		return reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method_not_allowed", "this path does not take that method");
	if (m == HTTP_ROUTE_BAD_ID)
		return reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "not a backup or job id");
	return reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
}

/* ---- what libmicrohttpd lets through -------------------------------------
 * Found by tests/integration/http_battery.sh; libmicrohttpd 0.9.75 parses
 * leniently, and these are refused here. */

/* libmicrohttpd decodes %00 in the path and in query values into a NUL
 * that silently ends the string: "/v1/backups/ID%00junk" named ID and
 * "?force=1%00x" meant force=1. Decode as it does, but turn a decoded NUL
 * into DEL (0x7f), which no path, id or value accepts: such a request is
 * refused (400 or 404) instead of being read as a shorter one. */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *str)
{
	size_t n = MHD_http_unescape(str);

	(void)cls;
	(void)c;
	for (size_t i = 0; i < n; i++)
		if (str[i] == '\0')
			str[i] = 0x7f;
	return n;
}

struct header_check {
	unsigned host, content_length, authorization, holder, bad;
};

/* A header name is a token (RFC 9110 5.6.2). */
static enum MHD_Result
check_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct header_check *c = cls;

	(void)kind;
	(void)value;
	(void)value_size;
	if (!key || key_size == 0)
		c->bad = 1;
	for (size_t i = 0; key && i < key_size; i++)
		if (!key[i] || !strchr(tchar, key[i]))
			c->bad = 1;
	if (key && strcasecmp(key, "Host") == 0)
		c->host++;
	if (key && strcasecmp(key, "Content-Length") == 0)
		c->content_length++;
	if (key && strcasecmp(key, "Authorization") == 0)
		c->authorization++;
	if (key && strcasecmp(key, "X-Quorum-Backup-Holder") == 0)
		c->holder++;
	return MHD_YES;
}

/* What libmicrohttpd accepts but HTTP/1.1 does not: a header name that is
 * not a token ("X-A : b", "H\xc3\xa9: b"), an HTTP/1.1 request without
 * exactly one Host (RFC 9112 3.2), more than one Content-Length (6.3),
 * more than one Authorization or X-Quorum-Backup-Holder (not lists:
 * which one would count?).
 * Not seen from here: a raw NUL byte in a header line (libmicrohttpd ends
 * the value at it: the value is judged as the text before it) and a line
 * with an empty name (libmicrohttpd drops it). */
static int
headers_ok(struct MHD_Connection *conn, const char *version)
{
	struct header_check c = { 0, 0, 0, 0, 0 };

	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, check_header, &c);
	if (c.bad || c.host > 1 || c.content_length > 1 || c.authorization > 1 ||
	    c.holder > 1)
		return 0;
	return c.host == 1 || strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
}

/* ---- the request deadline -------------------------------------------------
 * libmicrohttpd's connection timeout counts idle time only: a client that
 * sends a byte a second (slowloris) keeps its connection, and its thread,
 * for ever. A client gets conn_timeout seconds to send a whole request
 * (headers and body), from its connect or from the end of its previous
 * request; past that the watchdog shuts the socket down and libmicrohttpd,
 * seeing the end of the stream, closes the connection. The time the agent
 * takes to answer (?wait=S, a download) does not count. */

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	struct conn_watch *w = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(w = calloc(1, sizeof *w)))
			return;   /* unwatched: the idle timeout still applies */
		w->fd = ci->connect_fd;
		w->reading = 1;
		w->since = qb_mono_now();
		pthread_mutex_lock(&s->watch_mu);
		w->next = s->watch;
		if (s->watch)
			s->watch->prev = w;
		s->watch = w;
		pthread_mutex_unlock(&s->watch_mu);
		*socket_context = w;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && w) {
		/* Before libmicrohttpd closes the socket: the watchdog, which
		 * holds watch_mu while it shuts sockets down, never sees a
		 * closed (or reused) descriptor. */
		pthread_mutex_lock(&s->watch_mu);
		if (w->prev)
			w->prev->next = w->next;
		else
			s->watch = w->next;
		if (w->next)
			w->next->prev = w->prev;
		pthread_mutex_unlock(&s->watch_mu);
		free(w);
		*socket_context = NULL;
	}
}

/* reading: the connection now waits for the client's request (1), or the
 * request is all in (0). */
static void
watch_mark(struct http_server *s, struct MHD_Connection *conn, int reading)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_watch *w = ci ? ci->socket_context : NULL;

	if (!w)
		return;
	pthread_mutex_lock(&s->watch_mu);
	w->reading = reading;
	w->since = qb_mono_now();
	pthread_mutex_unlock(&s->watch_mu);
}

static void *
watchdog_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec until;

	pthread_mutex_lock(&s->watch_mu);
	while (!s->watch_quit) {
		double now = qb_mono_now();
		int cut = 0;
		for (struct conn_watch *w = s->watch; w; w = w->next)
			if (w->reading && !w->cut &&
			    now - w->since > (double)s->cf->conn_timeout) {
				shutdown(w->fd, SHUT_RDWR);
				w->cut = 1;
				cut++;
			}
		if (cut) {   /* not under watch_mu: a log write may block */
			pthread_mutex_unlock(&s->watch_mu);
			log_warn("slow_requests_cut", "connections=%d seconds=%lld",
			    cut, (long long)s->cf->conn_timeout);
			pthread_mutex_lock(&s->watch_mu);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&s->watch_cv, &s->watch_mu, &until);
	}
	pthread_mutex_unlock(&s->watch_mu);
	return NULL;
}

/* A reply before the request is read (its headers refused, or its body):
 * from here the deadline no longer runs. */
static enum MHD_Result
refuse_early(struct http_server *s, struct request *r, unsigned status,
    const char *code, const char *message)
{
	watch_mark(s, r->conn, 0);
	return reply_error(r, status, code, message);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct req_state *st = *con_cls;
	struct request r;

	memset(&r, 0, sizeof r);
	r.conn = conn;
	r.method = method;
	r.path = url;
	r.api = s->api;
	if (!st) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (!(st = calloc(1, sizeof *st)))
			return MHD_NO;
		*con_cls = st;
		__atomic_add_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		if (!headers_ok(conn, version))
			return refuse_early(s, &r, MHD_HTTP_BAD_REQUEST, "bad_request",
			    "malformed headers: Host missing or repeated, a bad "
			    "header name, or Content-Length, Authorization or "
			    "X-Quorum-Backup-Holder repeated");
		/* No route takes a body. One of unknown length is refused before
		 * libmicrohttpd reads it: it waited for the end of the stream
		 * on a coding other than chunked, and answered 500 to a chunk
		 * line longer than conn_memory. */
		if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return refuse_early(s, &r, MHD_HTTP_LENGTH_REQUIRED,
			    "length_required", "no route takes a body: send none, "
			    "or one with a Content-Length");
		if (cl && strtoull(cl, NULL, 10) > (unsigned long long)s->cf->max_body)
			return refuse_early(s, &r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "body_too_large", "the request body is over the limit");
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		if (!st->too_big && st->len + n <= (size_t)s->cf->max_body) {
			char *nb = realloc(st->body, st->len + n + 1);
			if (!nb)
				return MHD_NO;
			st->body = nb;
			memcpy(st->body + st->len, upload_data, n);
			st->len += n;
			st->body[st->len] = '\0';
		} else {
			st->too_big = 1;   /* counted and dropped */
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	watch_mark(s, conn, 0);   /* the request is all in */
	if (st->too_big)
		return reply_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
		    "the request body is over the limit");
	r.body = st->body ? st->body : "";
	r.body_len = st->len;
	return dispatch(s, &r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct req_state *st = *con_cls;

	(void)toe;
	watch_mark(s, conn, 1);   /* the next request's deadline starts */
	if (st) {
		__atomic_sub_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss, int *ipv6,
    struct err *e)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	long port;
	char *end;

	memset(ss, 0, sizeof *ss);
	if (!colon || (size_t)(colon - listen) >= sizeof host)
		return err_set(e, ERR_CONFIG, "listen: '%s' is not HOST:PORT", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return err_set(e, ERR_CONFIG, "listen: bad port in '%s'", listen);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return err_set(e, ERR_CONFIG, "listen: bad address in '%s'",
			    listen);
		*ipv6 = 1;
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" :
	    host, &a->sin_addr) != 1)
		return err_set(e, ERR_CONFIG, "listen: bad address in '%s' "
		    "(numeric IPv4, [IPv6] or localhost)", listen);
	*ipv6 = 0;
	return 0;
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >>
		    24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

struct http_server *
http_start(const struct agent_conf *cf, struct api *api, struct err *e)
{
	struct http_server *s;
	struct sockaddr_storage ss;
	int ipv6 = 0, log;
	unsigned repeated;
	struct err te;

	if (parse_listen(cf->listen, &ss, &ipv6, e) < 0)
		return NULL;
	if (strcmp(cf->auth, "none") == 0) {
		if (!is_loopback(&ss)) {
			err_set(e, ERR_CONFIG, "auth = none is allowed only with a "
			    "loopback listen address, not %s", cf->listen);
			return NULL;
		}
	} else if (!cf->token_file || !cf->token_file[0]) {
		err_set(e, ERR_CONFIG, "no token_file configured: the agent will "
		    "not serve its API without a token (auth = none is for "
		    "loopback only)");
		return NULL;
	}
	if (!(s = calloc(1, sizeof *s))) {
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	s->cf = cf;
	s->api = api;
	pthread_mutex_init(&s->token.mu, NULL);
	pthread_mutex_init(&s->watch_mu, NULL);
	pthread_cond_init(&s->watch_cv, NULL);
	if (strcmp(cf->auth, "none") != 0) {
		if (token_refresh(s, &te, &log, &repeated) < 0) {
			err_set(e, ERR_CONFIG, "token_file: %s", te.msg);
			pthread_mutex_destroy(&s->token.mu);
			pthread_mutex_destroy(&s->watch_mu);
			pthread_cond_destroy(&s->watch_cv);
			free(s);
			return NULL;
		}
		log_info("token_loaded", "path=%s", logq(cf->token_file));
	}
	/* A thread per connection: a request that waits for a job (?wait=S)
	 * blocks only its own connection. With a thread pool it would stall
	 * every connection of its pool thread (measured: p99 of /readyz near
	 * one second during an archive). */
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC |
	    (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    on_request, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cf->conn_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cf->conn_memory,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cf->per_ip_limit,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cf->max_connections,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
	    MHD_OPTION_END);
	if (!s->d) {
		err_set(e, ERR_FAILED, "cannot listen on %s (in use, or not an "
		    "address of this host?)", cf->listen);
		pthread_mutex_destroy(&s->token.mu);
		pthread_mutex_destroy(&s->watch_mu);
		pthread_cond_destroy(&s->watch_cv);
		free(s);
		return NULL;
	}
	if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
		err_set(e, ERR_FAILED, "cannot start the request watchdog thread");
		MHD_stop_daemon(s->d);
		pthread_mutex_destroy(&s->token.mu);
		pthread_mutex_destroy(&s->watch_mu);
		pthread_cond_destroy(&s->watch_cv);
		free(s);
		return NULL;
	}
	log_info("listening", "address=%s auth=%s", cf->listen, cf->auth);
	return s;
}

void
http_stop(struct http_server *s)
{
	MHD_socket ls;

	if (!s)
		return;
	/* No new connections; requests in flight (one that waited for a job
	 * has just got its answer) get up to 5 s to be sent. */
	ls = MHD_quiesce_daemon(s->d);
	for (int i = 0; i < 100 && __atomic_load_n(&s->active,
	    __ATOMIC_SEQ_CST) > 0; i++)
		usleep(50000);
	MHD_stop_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	pthread_mutex_lock(&s->watch_mu);
	s->watch_quit = 1;
	pthread_cond_signal(&s->watch_cv);
	pthread_mutex_unlock(&s->watch_mu);
	pthread_join(s->watchdog, NULL);
	pthread_mutex_destroy(&s->token.mu);
	pthread_mutex_destroy(&s->watch_mu);
	pthread_cond_destroy(&s->watch_cv);
	free(s);
}
