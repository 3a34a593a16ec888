/* prune: apply the retention policy (--dry-run: only say what it would
 * delete). */
#include "config.h"

#include <stdio.h>

#include "cmd_table.h"
#include "json.h"

static int
cmd_prune_exec(const struct cmd_args *a)
{
	int dry_run = !!(a->opts & CMDOPT_DRY_RUN);
	struct err e;
	json_t *ids = NULL;
	size_t kept = 0, i;
	json_t *id;

	err_clear(&e);
	if (op_prune(a->cf, dry_run, &ids, &kept, &e) < 0) {
		json_decref(ids);
		return cmd_fail("prune", &e);
	}
	if (a->json) {
		json_t *j = json_pack("{s:b, s:O, s:I}", "dry_run", dry_run,
		    dry_run ? "would_delete" : "deleted", ids,
		    "kept", (json_int_t)kept);
		json_print(j);
		json_decref(j);
	} else {
		json_array_foreach(ids, i, id)
			printf("%s %s\n", dry_run ? "would delete" : "deleted",
			    json_string_value(id));
		printf("%zu backup%s kept\n", kept, kept == 1 ? "" : "s");
	}
	json_decref(ids);
	return 0;
}

const struct cmd_entry cmd_prune_entry = {
	.name = "prune",
	.usage = "prune [--dry-run]",
	.help = "apply the retention policy",
	.opts = CMDOPT_DRY_RUN,
	.exec = cmd_prune_exec,
};
