#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "http.h"
#include "log.h"

#define TOKEN_MAX 4096
/* More query arguments than this: 414 (see on_uri). No route takes more
 * than a handful. */
#define QUERY_ARGS_MAX 100
/* The probe listener's own limits (probe_listen): kubelet and Prometheus
 * open a connection or two at a time, send a short request and read a
 * short reply. */
#define PROBE_MAX_CONNECTIONS 16
#define PROBE_PER_IP 8
#define PROBE_TIMEOUT 5          /* seconds: idle, request and reply */

/* One libmicrohttpd daemon: the API on listen, or the probe listener on
 * probe_listen, which serves only the routes without auth. Its times, in
 * seconds (see "the request deadlines" below): */
struct listener {
	struct http_server *s;
	struct MHD_Daemon *d;    /* NULL: not started */
	const char *address;
	int probe;
	unsigned idle;           /* to send a request line */
	unsigned deadline;       /* to send a whole request */
	unsigned mhd_reading;    /* libmicrohttpd's own timeout while the
	                          * request is read (0: none) */
	unsigned mhd_replying;   /* and while the reply is sent: the longest
	                          * pause of a client reading it */
};

/* A connection as the request deadlines see it (see watchdog_main). */
struct conn_watch {
	struct conn_watch *prev, *next;
	int fd;
	int reading;             /* waiting for the client's (next) request */
	int line_in;             /* its request line has come (on_uri) */
	int cut;
	double since;            /* monotonic seconds: since when */
	double idle, deadline;   /* its listener's */
};


struct http_server {
	struct listener main, probe;
	int active;              /* requests between first call and completion */
	const struct agent_conf *cf;
	struct member *m;
	struct auth auth;
	pthread_mutex_t watch_mu;   /* watch list, watch_quit */
	pthread_cond_t watch_cv;
	struct conn_watch *watch;
	int watch_quit;
	pthread_t watchdog;
	pthread_mutex_t mhdlog_mu;  /* mhd_log's rate limit */
	double mhdlog_since;
	unsigned mhdlog_count, mhdlog_dropped;
};

/* Per-request state, from its request line (on_uri) to the completion
 * callback. */
struct req_state {
	char *body;
	size_t len;
	int started;             /* the handler's first call was made */
	int too_big;
	int too_many_args;       /* over QUERY_ARGS_MAX: none were parsed */
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
reply_fail(struct request *r, enum err_code code, const char *fmt, ...)
{
	struct err e;
	va_list ap;

	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	return reply_err(r, &e);
}

enum MHD_Result
reply_err(struct request *r, const struct err *e)
{
	return reply_error(r, (unsigned)err_http_status(e->code),
	    err_name(e->code), e->msg);
}


static enum MHD_Result
dispatch(const struct listener *l, struct request *r)
{
	struct http_server *s = l->s;
	char idbuf[512];
	const struct http_route *route;
	const char *id;
	enum http_match m = http_route_match(r->method, r->path, idbuf,
	    sizeof idbuf, &route, &id);

	/* The probe listener: the routes without auth, nothing else. */
	if (l->probe) {
		if (m == HTTP_ROUTE_FOUND && !route->auth) {
			r->id = id;
			return route->fn(r);
		}
		if (m == HTTP_ROUTE_WRONG_METHOD && strncmp(r->path, "/v1/", 4) != 0)
			return reply_fail(r, ERR_METHOD, "this path does not take that "
			    "method");
		return reply_fail(r, ERR_NOT_FOUND, "the probe "
		    "listener serves only /healthz, /readyz and /metrics");
	}
	if (m == HTTP_ROUTE_FOUND) {
		if (route->auth && !auth_check(&s->auth, MHD_lookup_connection_value(r->conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
			return reply_fail(r, ERR_UNAUTHORIZED, "missing or wrong bearer token");
		r->id = id;
		return route->fn(r);
	}
	/* Auth first: an unauthenticated caller learns nothing more. */
	if (strncmp(r->path, "/v1/", 4) == 0 && !auth_check(&s->auth, MHD_lookup_connection_value(r->conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
		return reply_fail(r, ERR_UNAUTHORIZED, "missing or wrong bearer token");
	if (m == HTTP_ROUTE_WRONG_METHOD)
		return reply_fail(r, ERR_METHOD, "this path does not take that method");
	if (m == HTTP_ROUTE_BAD_ID)
		return reply_fail(r, ERR_BAD_REQUEST, "not a backup or job id");
	return reply_fail(r, ERR_NOT_FOUND, "no such path");
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

/* ---- the request deadlines ------------------------------------------------
 * From its connect, or from the end of its previous reply, a client has
 * idle_timeout seconds to send its request line and conn_timeout seconds
 * to send the whole request (headers and body); past either, the watchdog
 * shuts the socket down and libmicrohttpd, seeing the end of the stream,
 * closes the connection. So an idle connection, new or kept alive, holds
 * its slot (and on the API, its thread) idle_timeout seconds at most, and
 * a client that sends a byte a second (slowloris) conn_timeout seconds.
 * The time the agent takes to answer (?wait=S) does not count; once the
 * reply is queued, a client that reads none of it for conn_timeout
 * seconds is dropped by libmicrohttpd's own timeout.
 *
 * On the API (a thread per connection) libmicrohttpd's timeout is off
 * while a request is read: libmicrohttpd 0.9.75 waits in whole seconds
 * there (poll's timeout is tv_sec * 1000), so every connection thread
 * spun for the last second before its timeout: 512 idle connections
 * opened together took both CPUs for a second, every 5 s. */

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	struct http_server *s = l->s;
	struct conn_watch *w = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(w = calloc(1, sizeof *w))) {
			/* Unwatched: libmicrohttpd's timeout, at least, where
			 * it is off. Set before the connection's own thread
			 * starts: safe. */
			if (l->mhd_reading == 0)
				MHD_set_connection_option(conn,
				    MHD_CONNECTION_OPTION_TIMEOUT, l->deadline);
			return;
		}
		w->fd = ci->connect_fd;
		w->reading = 1;
		w->since = qb_mono_now();
		w->idle = (double)l->idle;
		w->deadline = (double)l->deadline;
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

static struct conn_watch *
watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* reading: the connection now waits for the client's (next) request (1), or
 * the request is all in and the agent answers (0). Called on the
 * connection's own thread, as MHD_set_connection_option requires. */
static void
conn_phase(struct listener *l, struct MHD_Connection *conn, int reading)
{
	struct http_server *s = l->s;
	struct conn_watch *w = watch_of(conn);

	if (l->mhd_reading != l->mhd_replying)
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
		    reading ? l->mhd_reading : l->mhd_replying);
	if (!w)
		return;
	pthread_mutex_lock(&s->watch_mu);
	w->reading = reading;
	w->line_in = 0;
	w->since = qb_mono_now();
	pthread_mutex_unlock(&s->watch_mu);
}

static void *
watchdog_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec until;
	long idle = 0, slow = 0;    /* cut since the last log line */
	double logged = 0;

	pthread_mutex_lock(&s->watch_mu);
	while (!s->watch_quit) {
		double now = qb_mono_now();
		for (struct conn_watch *w = s->watch; w; w = w->next)
			if (w->reading && !w->cut && now - w->since >
			    (w->line_in ? w->deadline : w->idle)) {
				shutdown(w->fd, SHUT_RDWR);
				w->cut = 1;
				if (w->line_in)
					slow++;
				else
					idle++;
			}
		/* One line every 10 s at most, not under watch_mu (a log write
		 * may block). Idle connections are a keep-alive client's
		 * ordinary end: debug only, unless requests were cut too. */
		if ((idle || slow) && now - logged >= 10.0) {
			long i = idle, sl = slow;
			idle = slow = 0;
			logged = now;
			pthread_mutex_unlock(&s->watch_mu);
			if (sl)
				log_warn("slow_requests_cut", "connections=%ld "
				    "idle_connections=%ld", sl, i);
			else
				log_debug("idle_connections_cut", "connections=%ld", i);
			pthread_mutex_lock(&s->watch_mu);
		}
		/* Four rounds a second: a deadline is kept to within 0.25 s. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->watch_cv, &s->watch_mu, &until);
	}
	pthread_mutex_unlock(&s->watch_mu);
	return NULL;
}

/* A reply before the request is read (its headers refused, or its body):
 * from here the deadline no longer runs. */
static enum MHD_Result
refuse_early(struct listener *l, struct request *r, enum err_code code,
    const char *message)
{
	conn_phase(l, r->conn, 0);
	return reply_fail(r, code, "%s", message);
}

/* libmicrohttpd 0.9.75 keeps a record per query argument in the
 * connection's memory pool (conn_memory); out of room, it closes the
 * connection without a reply (from about 900 arguments at 64 KiB). This
 * callback sees the request target before the arguments are split, and
 * makes the request's state: past QUERY_ARGS_MAX arguments, it ends the
 * target at its '?', so that none is recorded, and marks the request,
 * which the handler then refuses (414) before reading anything else.
 * The target lies in libmicrohttpd's own writable copy of the request
 * line, which it splits in place right after this call. Without memory
 * for the state, nothing is cut (a cut request is never served). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct listener *l = cls;
	struct req_state *st = calloc(1, sizeof *st);
	struct conn_watch *w = watch_of(conn);
	char *query = strchr(uri, '?');
	size_t n = 0;

	if (w) {   /* from here the whole request's deadline applies */
		pthread_mutex_lock(&l->s->watch_mu);
		w->line_in = 1;
		pthread_mutex_unlock(&l->s->watch_mu);
	}
	if (query && query[1] != '\0') {
		n = 1;
		for (const char *p = query + 1; *p; p++)
			n += *p == '&';
	}
	if (st && n > QUERY_ARGS_MAX) {
		query[1] = '\0';
		st->too_many_args = 1;
	}
	return st;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct listener *l = cls;
	struct http_server *s = l->s;
	struct req_state *st = *con_cls;
	struct request r;

	memset(&r, 0, sizeof r);
	r.conn = conn;
	r.method = method;
	r.path = url;
	r.m = s->m;
	if (!st) {   /* on_uri had no memory */
		if (!(st = calloc(1, sizeof *st)))
			return MHD_NO;
		*con_cls = st;
	}
	if (!st->started) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		st->started = 1;
		__atomic_add_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		if (st->too_many_args)
			return refuse_early(l, &r, ERR_TOO_MANY_ARGS,
			    "the query has more arguments "
			    "than the agent accepts");
		if (!headers_ok(conn, version))
			return refuse_early(l, &r, ERR_BAD_REQUEST,
			    "malformed headers: Host missing or repeated, a bad "
			    "header name, or Content-Length, Authorization or "
			    "X-Quorum-Backup-Holder repeated");
		/* No route takes a body. One of unknown length is refused before
		 * libmicrohttpd reads it: it waited for the end of the stream
		 * on a coding other than chunked, and answered 500 to a chunk
		 * line longer than conn_memory. */
		if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return refuse_early(l, &r, ERR_LENGTH_REQUIRED,
			    "no route takes a body: send none, "
			    "or one with a Content-Length");
		if (cl && strtoull(cl, NULL, 10) > (unsigned long long)s->cf->max_body)
			return refuse_early(l, &r, ERR_BODY_TOO_LARGE,
			    "the request body is over the limit");
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
	conn_phase(l, conn, 0);   /* the request is all in */
	if (st->too_big)
		return reply_fail(&r, ERR_BODY_TOO_LARGE, "the request body is over the limit");
	r.body = st->body ? st->body : "";
	r.body_len = st->len;
	return dispatch(l, &r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct listener *l = cls;
	struct req_state *st = *con_cls;

	(void)toe;
	conn_phase(l, conn, 1);   /* the next request's deadline starts */
	if (st) {
		if (st->started)
			__atomic_sub_fetch(&l->s->active, 1, __ATOMIC_SEQ_CST);
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own messages ("Server reached connection limit", a
 * client that closed mid-request...) in the agent's log format, 20 a
 * minute at most: a client that opens connections by the thousand must
 * not flood the log. */
#define MHD_LOG_BURST 20
#define MHD_LOG_WINDOW 60.0

static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct listener *l = cls;
	struct http_server *s = l->s;
	double now = qb_mono_now();
	unsigned dropped = 0;
	char msg[512];
	size_t n;
	int say;

	pthread_mutex_lock(&s->mhdlog_mu);
	if (now - s->mhdlog_since >= MHD_LOG_WINDOW) {
		dropped = s->mhdlog_dropped;
		s->mhdlog_since = now;
		s->mhdlog_count = 0;
		s->mhdlog_dropped = 0;
	}
	say = s->mhdlog_count < MHD_LOG_BURST;
	if (say)
		s->mhdlog_count++;
	else
		s->mhdlog_dropped++;
	pthread_mutex_unlock(&s->mhdlog_mu);
	if (!say)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_warn("http_server", "listener=%s message=%s dropped_before=%u",
	    l->probe ? "probe" : "api", logq(msg), dropped);
}

/* key names the setting in messages. */
static int
parse_listen(const char *key, const char *listen, struct sockaddr_storage *ss,
    int *ipv6, struct err *e)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	long port;
	char *end;

	memset(ss, 0, sizeof *ss);
	if (!colon || (size_t)(colon - listen) >= sizeof host)
		return err_set(e, ERR_CONFIG, "%s: '%s' is not HOST:PORT", key,
		    listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return err_set(e, ERR_CONFIG, "%s: bad port in '%s'", key, listen);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return err_set(e, ERR_CONFIG, "%s: bad address in '%s'", key,
			    listen);
		*ipv6 = 1;
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" :
	    host, &a->sin_addr) != 1)
		return err_set(e, ERR_CONFIG, "%s: bad address in '%s' "
		    "(numeric IPv4, [IPv6] or localhost)", key, listen);
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

/* Start l's daemon on ss with these limits.
 *
 * The API: a thread per connection, so that a request that waits for a
 * job (?wait=S) blocks only its own connection. With a thread pool it
 * would stall every connection of its pool thread (measured: p99 of
 * /readyz near one second during an archive).
 *
 * The probe listener: one thread for all its connections. Its handlers
 * only read the state model and never wait, so a probe needs no thread
 * of its own: the listener stays one thread whatever its clients do, and
 * a probe never queues to start a thread while clients churn through the
 * API's connections (hundreds of threads started and ended a second). */
static int
listener_start(struct listener *l, const struct sockaddr_storage *ss,
    int ipv6, size_t memory, unsigned per_ip, unsigned max, struct err *e)
{
	l->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    (l->probe ? 0 : MHD_USE_THREAD_PER_CONNECTION) | MHD_USE_POLL |
	    MHD_USE_ERROR_LOG | MHD_USE_ITC |
	    (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    on_request, l,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l,
	    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, l->mhd_reading,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	    MHD_OPTION_CONNECTION_LIMIT, max,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, l,
	    MHD_OPTION_END);
	if (!l->d)
		return err_set(e, ERR_FAILED, "cannot listen on %s (in use, or not "
		    "an address of this host?)", l->address);
	return 0;
}

struct http_server *
http_start(const struct agent_conf *cf, struct member *m, struct err *e)
{
	struct http_server *s;
	struct sockaddr_storage ss, pss;
	int ipv6 = 0, pipv6 = 0;
	int probe = cf->probe_listen && cf->probe_listen[0];

	if (parse_listen("listen", cf->listen, &ss, &ipv6, e) < 0)
		return NULL;
	if (probe && parse_listen("probe_listen", cf->probe_listen, &pss, &pipv6,
	    e) < 0)
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
	s->m = m;
	auth_init(&s->auth, cf);
	pthread_mutex_init(&s->watch_mu, NULL);
	pthread_mutex_init(&s->mhdlog_mu, NULL);
	pthread_cond_init(&s->watch_cv, NULL);
	s->main.s = s;
	s->main.address = cf->listen;
	s->main.idle = (unsigned)cf->idle_timeout;
	s->main.deadline = (unsigned)cf->conn_timeout;
	s->main.mhd_reading = 0;
	s->main.mhd_replying = (unsigned)cf->conn_timeout;
	s->probe.s = s;
	s->probe.address = cf->probe_listen;
	s->probe.probe = 1;
	s->probe.idle = PROBE_TIMEOUT;
	s->probe.deadline = PROBE_TIMEOUT;
	s->probe.mhd_reading = PROBE_TIMEOUT;   /* one thread: exact waits */
	s->probe.mhd_replying = PROBE_TIMEOUT;
	if (auth_load(&s->auth, e) < 0)
		goto fail;
	if (listener_start(&s->main, &ss, ipv6, (size_t)cf->conn_memory,
	    (unsigned)cf->per_ip_limit, (unsigned)cf->max_connections, e) < 0)
		goto fail;
	if (probe && listener_start(&s->probe, &pss, pipv6,
	    (size_t)cf->conn_memory, PROBE_PER_IP, PROBE_MAX_CONNECTIONS, e) < 0)
		goto fail;
	if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
		err_set(e, ERR_FAILED, "cannot start the request watchdog thread");
		goto fail;
	}
	log_info("listening", "address=%s auth=%s probe=%s", cf->listen,
	    cf->auth, probe ? cf->probe_listen : "none");
	return s;
fail:
	if (s->probe.d)
		MHD_stop_daemon(s->probe.d);
	if (s->main.d)
		MHD_stop_daemon(s->main.d);
	auth_fini(&s->auth);
	pthread_mutex_destroy(&s->watch_mu);
	pthread_mutex_destroy(&s->mhdlog_mu);
	pthread_cond_destroy(&s->watch_cv);
	free(s);
	return NULL;
}

void
http_stop(struct http_server *s)
{
	MHD_socket ls, pls = MHD_INVALID_SOCKET;

	if (!s)
		return;
	/* No new connections; requests in flight (one that waited for a job
	 * has just got its answer) get up to 5 s to be sent. */
	ls = MHD_quiesce_daemon(s->main.d);
	if (s->probe.d)
		pls = MHD_quiesce_daemon(s->probe.d);
	for (int i = 0; i < 100 && __atomic_load_n(&s->active,
	    __ATOMIC_SEQ_CST) > 0; i++)
		usleep(50000);
	MHD_stop_daemon(s->main.d);
	if (s->probe.d)
		MHD_stop_daemon(s->probe.d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	if (pls != MHD_INVALID_SOCKET)
		close(pls);
	pthread_mutex_lock(&s->watch_mu);
	s->watch_quit = 1;
	pthread_cond_signal(&s->watch_cv);
	pthread_mutex_unlock(&s->watch_mu);
	pthread_join(s->watchdog, NULL);
	auth_fini(&s->auth);
	pthread_mutex_destroy(&s->watch_mu);
	pthread_mutex_destroy(&s->mhdlog_mu);
	pthread_cond_destroy(&s->watch_cv);
	free(s);
}
