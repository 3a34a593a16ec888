/* The off-site resource: the member's copies in the [offsite] bucket
 * (list), a copy's verify and remote retention (jobs). */
#include "config.h"

#include "handlers.h"
#include "json.h"
#include "offsite.h"

enum MHD_Result
api_offsite_list(struct request *r)
{
	struct offsite o;
	struct err e;
	json_t *list;

	err_clear(&e);
	if (offsite_configured(r->m->cf, &e) < 0 || offsite_open(r->m->cf, &o, &e) < 0)
		return reply_err(r, &e);
	list = offsite_list(&o, &e);
	offsite_close(&o);
	if (!list)
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, list);
}

enum MHD_Result
api_offsite_verify(struct request *r)
{
	struct err e;
	int stored;

	err_clear(&e);
	if (offsite_configured(r->m->cf, &e) < 0)
		return reply_err(r, &e);
	if (!api_valid_id(r->id, 0))
		return reply_fail(r, ERR_BAD_REQUEST, "not a backup id");
	if (bool_arg(r, "stored", &stored) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "stored must be 0 or 1");
	/* Without stored: the whole content when the job can read it. */
	return start_job(r, JOB_VERIFY, json_pack("{s:s, s:b, s:b}", "backup",
	    r->id, "offsite", 1, "stored", stored), PHASE_VERIFYING,
	    NEED_NOTHING);
}

enum MHD_Result
api_offsite_prune(struct request *r)
{
	struct err e;

	err_clear(&e);
	if (offsite_configured(r->m->cf, &e) < 0)
		return reply_err(r, &e);
	return start_job(r, JOB_OFFSITE_PRUNE, json_object(), PHASE_PRUNING,
	    NEED_NOTHING);
}
