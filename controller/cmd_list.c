/* list: the backups of each member (GET /v1/backups), newest first.
 * Read-only: no lease. Exit 1 when an agent does not answer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "human.h"
#include "json.h"

static int
cmd_list_exec(struct ctl *c, const struct cmd_opts *o)
{
	size_t *idx, n;
	json_t *doc = json_array();
	int rc = EXIT_OK;

	if (select_members(c, o, 1, &idx, &n) < 0) {
		json_decref(doc);
		return EXIT_USAGE;
	}
	if (!c->json)
		printf("%-7s %-22s %-20s %10s %10s %9s\n", "MEMBER", "BACKUP",
		    "CREATED", "SIZE", "DATA", "HEIGHT");
	for (size_t k = 0; k < n; k++) {
		struct reply r;
		int m = c->members[idx[k]].n;
		size_t j;
		json_t *b;

		if (client_call(&c->cl, &c->members[idx[k]], "GET", o->offsite ?
		    "/v1/offsite/backups" : "/v1/backups", 0, &r) < 0 ||
		    !json_is_array(r.body)) {
			rc = EXIT_FAILED;
			if (c->json)
				json_array_append_new(doc, json_pack("{s:i, s:n, "
				    "s:{s:s, s:s}}", "member", m, "backups", "error",
				    "code", r.code[0] ? r.code : "bad_reply", "message",
				    r.msg[0] ? r.msg : "not a list"));
			else
				printf("%-7d %s: %s\n", m, r.code[0] ? r.code :
				    "bad_reply", r.msg[0] ? r.msg : "not a list");
			reply_free(&r);
			continue;
		}
		if (c->json) {
			json_array_append_new(doc, json_pack("{s:i, s:O, s:n}",
			    "member", m, "backups", r.body, "error"));
			reply_free(&r);
			continue;
		}
		json_array_foreach(r.body, j, b) {
			char size[32], bytes[32], height[32];
			long long h = json_get_u(json_object_get(b, "node"),
			    "block_number");

			human_bytes(json_get_u(b, "size"), size, sizeof size);
			human_bytes(json_get_u(b, "bytes"), bytes, sizeof bytes);
			if (h >= 0)
				snprintf(height, sizeof height, "%lld", h);
			else
				snprintf(height, sizeof height, "-");
			printf("%-7d %-22s %-20s %10s %10s %9s%s\n", m,
			    json_get_str(b, "id") ? json_get_str(b, "id") : "?",
			    json_get_str(b, "created") ? json_get_str(b, "created") :
			    "-", size, bytes, height,
			    json_is_true(json_object_get(b, "legacy")) ? "  legacy" :
			    json_is_true(json_object_get(b, "encrypted")) ?
			    "  encrypted" : "");
		}
		if (json_array_size(r.body) == 0)
			printf("%-7d (no backups)\n", m);
		reply_free(&r);
	}
	if (c->json)
		json_print(doc);
	json_decref(doc);
	free(idx);
	return rc;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.usage = "list [N...]",
	.help = "the backups of each member",
	.options = {
		{ "--offsite", "the copies in the [offsite] bucket instead" },
	},
	.opts = CMDOPT_OFFSITE,
	.exec = cmd_list_exec,
};
