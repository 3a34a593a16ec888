/* prune: apply each member's retention policy now (POST /v1/prune). The
 * policy is the agent's ([retention] in its configuration); the newest
 * complete backup is never deleted. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json.h"

static int
cmd_prune_exec(struct ctl *c, const struct cmd_opts *o)
{
	size_t *idx, n;
	int failed = 0, rc;
	json_t *doc = json_array();

	if (select_members(c, o, 1, &idx, &n) < 0) {
		json_decref(doc);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < n && !ctl_stopping(c); k++) {
		int m = c->members[idx[k]].n;
		json_t *job = NULL, *del;
		char code[64], msg[1024];

		if (run_job(c, idx[k], "/v1/prune", "prune", &job, code,
		    sizeof code, msg, sizeof msg) < 0) {
			failed = 1;
			if (c->json)
				json_array_append_new(doc, json_pack("{s:i, s:n, s:n, "
				    "s:{s:s, s:s}}", "member", m, "deleted", "kept",
				    "error", "code", code, "message", msg));
			else
				printf("member %d: prune failed: %s: %s\n", m, code, msg);
			json_decref(job);
			continue;
		}
		del = json_object_get(json_object_get(job, "result"), "deleted");
		if (c->json) {
			json_array_append_new(doc, json_pack("{s:i, s:O, s:I, s:n}",
			    "member", m, "deleted", del ? del : json_null(), "kept",
			    (json_int_t)json_get_u(json_object_get(job, "result"),
			    "kept"), "error"));
		} else {
			size_t j;
			json_t *id;
			json_array_foreach(del, j, id)
				printf("member %d: deleted %s\n", m,
				    json_string_value(id));
			printf("member %d: %lld backup%s kept\n", m,
			    json_get_u(json_object_get(job, "result"), "kept"),
			    json_get_u(json_object_get(job, "result"), "kept") == 1 ?
			    "" : "s");
		}
		json_decref(job);
	}
	if (c->json)
		json_print(doc);
	json_decref(doc);
	free(idx);
	rc = failed || ctl_stopping(c) ? EXIT_FAILED : EXIT_OK;
	return rc;
}

const struct cmd_entry cmd_prune_entry = {
	.name = "prune",
	.usage = "prune [N...]",
	.help = "apply each member's retention policy now",
	.exec = cmd_prune_exec,
};
