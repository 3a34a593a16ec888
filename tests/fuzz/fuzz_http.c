/* fuzz_http: the agent's HTTP routing and the checks of ids and query
 * values, apart from libmicrohttpd (agent/http.h http_route_match, the
 * api_valid_* and api_parse_* functions of agent/api.h: the same code
 * dispatch() and the handlers run).
 *
 * The input is a raw request: "METHOD URL[ VERSION]" on its first line,
 * then header lines. The URL's path and query are decoded as
 * libmicrohttpd decodes them (%XX, a decoded NUL ends the string, '+' is a
 * blank in query values), so "/v1/backups/..%2F..%2Fetc" arrives as
 * "/v1/backups/../../etc".
 *
 * Checked, beyond the sanitizers:
 *  - a matched route has the request's method, and its pattern with the
 *    {id} put back is exactly the path; the id is one non-empty segment
 *    that fits the buffer; every /v1/ route needs the bearer token;
 *  - "wrong method" only for a path some route has with another method,
 *    "bad id" only below /v1/backups/ and /v1/jobs/, "not found" only for
 *    a path no route has; the same answer twice;
 *  - an id the backup handlers accept is a plain file name: no '/', no
 *    leading '.', no control byte, shorter than STORE_ID_MAX; a job id
 *    only of j T 0-9 Z -;
 *  - every query value through every check: a flag only from 0 1 true
 *    false; wait accepted only as a number from 0 to 3600 (NaN included:
 *    it must be refused); hold and ttl only within their bounds; a lease
 *    holder only of its characters, at most 128. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "store.h"

#define CHECK(cond, ...) do {                                          \
	if (!(cond)) {                                                     \
		fprintf(stderr, "fuzz_http: check failed: %s: ", #cond);       \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		abort();                                                       \
	}                                                                  \
} while (0)

static const char *const methods[] = { "GET", "POST", "DELETE" };

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* In place, as libmicrohttpd's MHD_http_unescape: %XX decoded, anything
 * else kept; the string ends at a decoded NUL. */
static void
unescape(char *s, int plus)
{
	char *w = s;

	for (char *r = s; *r; ) {
		if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
			*w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
			r += 3;
		} else if (plus && *r == '+') {
			*w++ = ' ';
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* A backup id the handlers accept must be safe as a file name. */
static void
check_backup_id(const char *id, int latest_ok)
{
	if (!api_valid_id(id, latest_ok))
		return;
	if (latest_ok && strcmp(id, "latest") == 0)
		return;
	CHECK(strchr(id, '/') == NULL, "backup id '%s' has a '/'", id);
	CHECK(id[0] != '.', "backup id '%s' starts with '.'", id);
	CHECK(strlen(id) < STORE_ID_MAX, "backup id of %zu bytes", strlen(id));
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		CHECK(*p >= ' ' && *p != 0x7f, "backup id with byte 0x%02x", *p);
}

static void
check_value(const char *v)
{
	int b = 7;
	double w = -1;
	long long s = -42;
	size_t n = strlen(v);

	/* Flags. */
	if (api_parse_bool(v, &b) == 0)
		CHECK((b == 1 && (!strcmp(v, "1") || !strcmp(v, "true"))) ||
		    (b == 0 && (!strcmp(v, "0") || !strcmp(v, "false"))),
		    "flag '%s' read as %d", v, b);
	/* ?wait=S: jobs_get converts it to a time_t. */
	if (api_parse_wait(v, &w) == 0)
		CHECK(!isnan(w) && w >= 0 && w <= 3600, "wait '%s' read as %g",
		    v, w);
	/* hold and ttl. */
	if (api_parse_seconds(v, 1, 604800, &s) == 0)
		CHECK(s >= 1 && s <= 604800, "hold '%s' read as %lld", v, s);
	s = -42;
	if (api_parse_seconds(v, 1, 86400, &s) == 0)
		CHECK(s >= 1 && s <= 86400, "ttl '%s' read as %lld", v, s);
	if (api_valid_holder(v))
		CHECK(n >= 1 && n <= 128 && strspn(v, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@") == n,
		    "holder '%s' accepted", v);
	/* ?backup=ID of unpack. */
	check_backup_id(v, 1);
}

static void
check_route(const char *method, const char *path, size_t size)
{
	char idbuf[600], again_buf[600];
	const struct http_route *route, *again_route;
	const char *id, *again_id;
	enum http_match m, again;

	m = http_route_match(method, path, idbuf, size, &route, &id);
	again = http_route_match(method, path, again_buf, size, &again_route,
	    &again_id);
	CHECK(m == again && route == again_route && !id == !again_id &&
	    (!id || strcmp(id, again_id) == 0), "two answers for %s %s",
	    method, path);

	if (m == HTTP_ROUTE_FOUND) {
		const char *brace;
		char rebuilt[2048];
		CHECK(route && strcmp(route->method, method) == 0,
		    "%s %s matched a %s route", method, path,
		    route ? route->method : "NULL");
		brace = strstr(route->pattern, "{id}");
		if (brace) {
			CHECK(id && id[0] && !strchr(id, '/') && strlen(id) < size,
			    "%s %s: id '%s'", method, path, id ? id : "(null)");
			snprintf(rebuilt, sizeof rebuilt, "%.*s%s%s",
			    (int)(brace - route->pattern), route->pattern, id,
			    brace + 4);
		} else {
			CHECK(id == NULL, "%s %s: id without {id}", method, path);
			snprintf(rebuilt, sizeof rebuilt, "%s", route->pattern);
		}
		CHECK(strcmp(rebuilt, path) == 0, "%s %s matched %s", method,
		    path, route->pattern);
		CHECK(route->auth || strncmp(path, "/v1/", 4) != 0,
		    "%s %s needs no token", method, path);
		if (id && strncmp(route->pattern, "/v1/backups/", 12) == 0) {
			/* DELETE takes no "latest" */
			check_backup_id(id, strcmp(method, "DELETE") != 0);
		}
		if (id && strncmp(route->pattern, "/v1/jobs/", 9) == 0 &&
		    api_valid_job_id(id))
			CHECK(strspn(id, "jT0123456789Z-") == strlen(id) &&
			    strlen(id) <= 64, "job id '%s' accepted", id);
		return;
	}
	CHECK(route == NULL && id == NULL, "%s %s: no route but a result",
	    method, path);
	int found_other = 0;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		const struct http_route *r2;
		const char *id2;
		if (http_route_match(methods[i], path, idbuf, size, &r2, &id2) ==
		    HTTP_ROUTE_FOUND)
			found_other = 1;
	}
	if (m == HTTP_ROUTE_WRONG_METHOD)
		CHECK(found_other, "%s %s: wrong method, but no method fits",
		    method, path);
	else
		CHECK(!found_other, "%s %s: no such path, yet another method "
		    "has it", method, path);
	if (m == HTTP_ROUTE_BAD_ID)
		CHECK(strncmp(path, "/v1/backups/", 12) == 0 ||
		    strncmp(path, "/v1/jobs/", 9) == 0, "%s %s: bad id", method,
		    path);
	else if (m == HTTP_ROUTE_NOT_FOUND)
		CHECK(strncmp(path, "/v1/backups/", 12) != 0 &&
		    strncmp(path, "/v1/jobs/", 9) != 0, "%s %s: not found",
		    method, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *req, *line, *sp, *method, *url, *q, *rest;

	if (!(req = malloc(size + 1)))
		abort();
	memcpy(req, data, size);
	req[size] = '\0';   /* libmicrohttpd stops at a NUL as well */

	line = req;
	rest = line + strcspn(line, "\r\n");
	if (*rest)
		*rest++ = '\0';
	/* "METHOD URL VERSION"; a request line without a blank is all
	 * method, with an empty URL. */
	method = line;
	sp = strchr(line, ' ');
	url = sp ? sp + 1 : line + strlen(line);
	if (sp)
		*sp = '\0';
	if ((sp = strchr(url, ' ')))
		*sp = '\0';
	q = strchr(url, '?');
	if (q)
		*q++ = '\0';
	unescape(url, 0);

	check_route(method, url, 512);   /* dispatch's buffer */
	check_route(method, url, 17);    /* one byte past a plain id */

	/* Query arguments, each value through every check. */
	while (q && *q) {
		size_t len = strcspn(q, "&");
		char *arg = q, *eq;
		q += len;
		if (*q)
			*q++ = '\0';
		if ((eq = strchr(arg, '=')))
			*eq++ = '\0';
		unescape(arg, 1);
		if (eq) {
			unescape(eq, 1);
			check_value(eq);
		}
		check_value(arg);
	}

	/* Header lines: the lease holder and anything else as values. */
	while (rest && *rest) {
		char *h = rest, *colon;
		size_t len = strcspn(rest, "\r\n");
		rest += len;
		while (*rest == '\r' || *rest == '\n')
			*rest++ = '\0';
		if ((colon = strchr(h, ':'))) {
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			check_value(colon);
		}
	}
	free(req);
	return 0;
}
