/* args: the checks of the values requests carry. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "handlers.h"
#include "store.h"

/* ---- helpers ----------------------------------------------------------- */

/* A backup id from a URL or query: the ID syntax, a legacy name, or
 * "latest" where allowed. libmicrohttpd has decoded %2F already, so a '/'
 * or ".." in it is simply refused here. */
int
api_valid_id(const char *id, int latest_ok)
{
	if (!id)
		return 0;
	if (latest_ok && strcmp(id, "latest") == 0)
		return 1;
	return store_id_valid(id) || store_legacy_name_valid(id);
}

int
api_valid_job_id(const char *id)
{
	return strlen(id) <= 64 && strspn(id, "jT0123456789Z-") == strlen(id);
}

int
api_valid_holder(const char *holder)
{
	return lease_holder_valid(holder);
}

int
api_parse_bool(const char *v, int *out)
{
	*out = 0;
	if (!v)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	return -1;
}

int
api_parse_wait(const char *v, double *out)
{
	char *end;

	*out = 0;
	if (!v)
		return 0;
	*out = strtod(v, &end);
	/* Written so that NaN ("wait=nan") fails too: it passed "< 0 || >
	 * 3600" and reached jobs_get, whose conversion of it to time_t is
	 * undefined behaviour (tests/fuzz/fuzz_http.c checks the range). */
	if (end == v || *end || !(*out >= 0 && *out <= 3600)) {
		*out = 0;
		return -1;
	}
	return 0;
}

int
api_parse_seconds(const char *v, long long min, long long max,
    long long *out)
{
	char *end;
	long long n;

	if (!v)
		return 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
bool_arg(struct request *r, const char *name, int *out)
{
	return api_parse_bool(req_arg(r, name), out);
}

/* ?wait=S: 0..3600 seconds. */
int
wait_arg(struct request *r, double *out)
{
	return api_parse_wait(req_arg(r, "wait"), out);
}

/* The caller's lease holder name: X-Quorum-Backup-Holder or ?holder=. */
const char *
holder_of(struct request *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-Quorum-Backup-Holder");
	return h ? h : req_arg(r, "holder");
}
