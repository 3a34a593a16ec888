/* http: the agent's HTTP server on libmicrohttpd: the API on listen and,
 * with probe_listen, a listener that serves only the routes without auth
 * (/healthz, /readyz, /metrics); limits and request deadlines, the route
 * table, bearer-token auth, the body cap, and the one reply helper every
 * handler uses. Knows nothing of archives: handlers live in api.c. */
#ifndef QB_HTTP_H
#define QB_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "agent_conf.h"
#include "err.h"

struct member;       /* the handlers' shared state (member.h) */
struct http_server;

/* One request as handlers see it. */
struct request {
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	const char *id;          /* the {id} segment of the route, if any */
	const char *body;        /* NUL-terminated, may be empty */
	size_t body_len;
	struct member *m;
};

typedef enum MHD_Result (*handler_fn)(struct request *r);

/* The route table and its matching, apart from libmicrohttpd: dispatch
 * uses them, and so does the HTTP fuzz test (tests/fuzz/fuzz_http.c). */
struct http_route {
	const char *method;
	const char *pattern;     /* "{id}" matches one path segment */
	handler_fn fn;
	int auth;                /* the bearer token is required */
};

enum http_match {
	HTTP_ROUTE_FOUND,        /* *route (and *id, for an {id} route) set */
	HTTP_ROUTE_WRONG_METHOD, /* a route has this path, none this method */
	HTTP_ROUTE_BAD_ID,       /* no route; below /v1/backups/ or /v1/jobs/,
	                          * e.g. a decoded %2F: not an id (400) */
	HTTP_ROUTE_NOT_FOUND,    /* no such path (404) */
};

/* Match method and path (as libmicrohttpd decoded it) against the route
 * table: the first route whose pattern and method both match. *id gets
 * the {id} segment, copied into idbuf (size bytes), or NULL. */
enum http_match http_route_match(const char *method, const char *path,
    char *idbuf, size_t size, const struct http_route **route,
    const char **id);

/* Query parameter, or NULL. */
const char *req_arg(struct request *r, const char *name);

/* Replies: JSON (takes the reference), plain text, an error from e (its
 * code picks the status and the JSON code), or an error by hand. */
enum MHD_Result reply_json(struct request *r, unsigned status, json_t *body);
enum MHD_Result reply_text(struct request *r, unsigned status,
    const char *content_type, const char *text);
enum MHD_Result reply_err(struct request *r, const struct err *e);
/* An error of the table (err.h: its status and JSON code) with a message:
 * handlers never write a status and a code by hand. */
enum MHD_Result reply_fail(struct request *r, enum err_code code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
enum MHD_Result reply_error(struct request *r, unsigned status,
    const char *code, const char *message);

/* Start the listeners (listen, and probe_listen when set); NULL with e
 * set when an address or the token file is unusable. */
struct http_server *http_start(const struct agent_conf *cf, struct member *m,
    struct err *e);
void http_stop(struct http_server *s);

#endif
