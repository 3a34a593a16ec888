/* h_nodes: what takes the nodes down or brings them back: quiesce,
 * resume, archive, unpack, rollback. */
#include "config.h"

#include <string.h>

#include "handlers.h"
#include "json.h"
#include "offsite.h"

/* ---- archive, unpack, rollback ------------------------------------------ */

enum MHD_Result
api_archive(struct request *r)
{
	int quiesce;

	if (bool_arg(r, "quiesce", &quiesce) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "quiesce must be 0 or 1");
	if (quiesce && r->m->cf->n_nodes == 0)
		return reply_fail(r, ERR_BAD_REQUEST, "quiesce=1 needs [node.NAME] sections in the configuration");
	/* With quiesce=1 the job stops the nodes itself (reading their facts
	 * first); without, they must be stopped already. */
	return start_job(r, JOB_ARCHIVE, json_pack("{s:b}", "quiesce", quiesce),
	    quiesce ? PHASE_READING_FACTS : PHASE_ARCHIVING,
	    quiesce ? NEED_NOTHING : NEED_STOPPED);
}

enum MHD_Result
api_unpack(struct request *r)
{
	const char *id = req_arg(r, "backup");
	const char *from = req_arg(r, "from");
	int force, in_place;

	if (!api_valid_id(id, 1))
		return reply_fail(r, ERR_BAD_REQUEST, "backup=ID|latest is required (ID as YYYYMMDDTHHMMSSZ, or a "
		    "legacy .tar.gz name)");
	if (bool_arg(r, "force", &force) < 0 ||
	    bool_arg(r, "in_place", &in_place) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "force and in_place must be 0 or 1");
	if (from && strcmp(from, "offsite") != 0 && strcmp(from, "local") != 0)
		return reply_fail(r, ERR_BAD_REQUEST, "from must be local or offsite");
	int offsite = from && strcmp(from, "offsite") == 0;
	struct err e;
	err_clear(&e);
	if (offsite && offsite_configured(r->m->cf, &e) < 0)
		return reply_err(r, &e);
	/* An encrypted backup that no configured identity opens: 400, and
	 * nothing stopped or changed. */
	if (!offsite && op_identity_precheck(r->m->cf, id, &e) < 0)
		return reply_err(r, &e);
	return start_job(r, JOB_UNPACK, json_pack("{s:s, s:b, s:b, s:s}",
	    "backup", id, "force", force, "in_place", in_place, "from",
	    offsite ? "offsite" : "local"), PHASE_UNPACKING, NEED_STOPPED);
}

enum MHD_Result
api_rollback(struct request *r)
{
	return start_job(r, JOB_ROLLBACK, json_object(), PHASE_ROLLING_BACK,
	    NEED_STOPPED);
}

enum MHD_Result
api_quiesce(struct request *r)
{
	long long hold = r->m->cf->quiesce_hold;

	if (r->m->cf->n_nodes == 0)
		return reply_fail(r, ERR_BAD_REQUEST, "no [node.NAME] sections are configured");
	if (api_parse_seconds(req_arg(r, "hold"), 1, 604800, &hold) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "hold must be whole seconds from 1 to 604800");
	return start_job(r, JOB_QUIESCE, json_pack("{s:I}", "hold",
	    (json_int_t)hold), PHASE_READING_FACTS, NEED_NOTHING);
}

enum MHD_Result
api_resume(struct request *r)
{
	return start_job(r, JOB_RESUME, json_object(), PHASE_STARTING,
	    NEED_NOTHING);
}
