/* h_lease: a controller takes, renews and releases its lease. */
#include "config.h"

#include <pthread.h>
#include <time.h>

#include "handlers.h"
#include "json.h"

enum MHD_Result
api_lease_take(struct request *r)
{
	struct member *m = r->m;
	const char *holder = req_arg(r, "holder");
	long long ttl = 600;
	time_t expires;
	struct err e;
	int rc;

	if (!api_valid_holder(holder))
		return reply_fail(r, ERR_BAD_REQUEST, "holder=NAME is required "
		    "(1..128 of A-Z a-z 0-9 - _ . : @)");
	if (api_parse_seconds(req_arg(r, "ttl"), 1, 86400, &ttl) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "ttl must be whole seconds "
		    "from 1 to 86400");
	pthread_mutex_lock(&m->lease_mu);
	rc = lease_take(m, holder, ttl, &expires, &e);
	pthread_mutex_unlock(&m->lease_mu);
	if (rc < 0)
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:s, s:I}", "holder",
	    holder, "expires", (json_int_t)expires));
}

enum MHD_Result
api_lease_release(struct request *r)
{
	struct member *m = r->m;
	struct err e;
	int rc;

	pthread_mutex_lock(&m->lease_mu);
	rc = lease_release(m, req_arg(r, "holder"), &e);
	pthread_mutex_unlock(&m->lease_mu);
	if (rc < 0)
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "released", 1));
}
