/* h_status: GET /v1/status (?fresh=1: every gate and node read now). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"

/* ?fresh=1: each node read now, within about a second each. */
#define FRESH_GATE_TIMEOUT 0.4
#define FRESH_CHECK_TIMEOUT 0.6

enum MHD_Result
api_status(struct request *r)
{
	const struct agent_conf *cf = r->m->cf;
	json_t *o, *cur;
	int fresh = 0;

	if (bool_arg(r, "fresh", &fresh) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "fresh must be 0 or 1");
	/* ?fresh=1: every gate's status and every node's RPC read now, into
	 * the state model, for a controller that decides from this answer
	 * who may go down. A job's transition that comes in meanwhile is
	 * newer than these readings and stays. */
	for (size_t i = 0; fresh && i < cf->n_nodes; i++)
		member_refresh_node(r->m, i, NULL, FRESH_GATE_TIMEOUT,
		    FRESH_CHECK_TIMEOUT);
	/* Everything else in one snapshot of the state model: "probed_at"
	 * says how old its oldest node reading is. */
	if (!(o = state_json(r->m->state)))
		return MHD_NO;
	json_object_set_new(o, "member", json_integer(cf->member));
	json_object_set_new(o, "data_dir", json_string(cf->data_dir));
	json_object_set_new(o, "backup_dir", json_string(cf->backup_dir));
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	cur = jobs_current(r->m->jobs);
	json_object_set_new(o, "job", cur ? cur : json_null());
	/* reply_json's 9 significant digits would round an epoch time to 10
	 * s; 13 keep milliseconds. */
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(13));
	json_decref(o);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	char *withnl = realloc(text, len + 2);
	if (!withnl) {
		free(text);
		return MHD_NO;
	}
	memcpy(withnl + len, "\n", 2);
	enum MHD_Result ret = reply_text(r, MHD_HTTP_OK, "application/json",
	    withnl);
	free(withnl);
	return ret;
}
