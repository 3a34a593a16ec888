/* unpack, and the tree an unpack moves aside: rollback puts it back,
 * discard-previous removes it. */
#include "config.h"

#include <stdio.h>

#include "cmd_table.h"
#include "human.h"
#include "json.h"

static int
cmd_unpack_exec(const struct cmd_args *a)
{
	const struct agent_conf *cf = a->cf;
	struct unpack_opts u = {
		.id = a->arg,
		.force = !!(a->opts & CMDOPT_FORCE),
		.in_place = !!(a->opts & CMDOPT_IN_PLACE),
		.discard_previous = !!(a->opts & CMDOPT_DISCARD),
	};
	struct unpack_result r;
	struct err e;
	char bytes[32];

	err_clear(&e);
	if (op_unpack(cf, &u, a->hooks, &r, &e) < 0)
		return cmd_fail("unpack", &e);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:b, s:I, s:I, s:s, s:b, s:b, s:b, "
		    "s:f}", "id", r.backup.id, "legacy", r.backup.legacy,
		    "files", (json_int_t)r.v.files, "bytes", (json_int_t)r.v.bytes,
		    "sha256", r.v.sha256, "in_place", u.in_place,
		    "previous_kept", r.previous_kept, "recovered", r.recovered,
		    "seconds", r.seconds);
		json_print(j);
		json_decref(j);
	} else {
		human_bytes((long long)r.v.bytes, bytes, sizeof bytes);
		if (r.recovered)
			printf("completed an interrupted restore first\n");
		printf("restored %s onto %s: %llu entries, %s, verified, in %.2f "
		    "s\n", r.backup.id, cf->data_dir,
		    (unsigned long long)r.v.files, bytes, r.seconds);
		if (r.previous_kept)
			printf("the old tree is in %s/.quorum-backup/previous: "
			    "'rollback' puts it back, 'discard-previous' removes "
			    "it\n", cf->data_dir);
	}
	return 0;
}

static int
cmd_rollback_exec(const struct cmd_args *a)
{
	struct err e;

	err_clear(&e);
	if (op_rollback(a->cf, &e) < 0)
		return cmd_fail("rollback", &e);
	if (a->json)
		printf("{\"rolled_back\": true}\n");
	else
		printf("rolled back: %s holds the tree from before the last "
		    "unpack\n", a->cf->data_dir);
	return 0;
}

static int
cmd_discard_previous_exec(const struct cmd_args *a)
{
	struct err e;
	int removed;

	err_clear(&e);
	if (op_discard_previous(a->cf, &removed, &e) < 0)
		return cmd_fail("discard-previous", &e);
	if (a->json)
		printf("{\"removed\": %s}\n", removed ? "true" : "false");
	else
		printf("%s\n", removed ? "previous tree removed" :
		    "there was no previous tree");
	return 0;
}

const struct cmd_entry cmd_unpack_entry = {
	.name = "unpack",
	.usage = "unpack [ID|latest]",
	.help = "restore a backup onto the data dir (the node must\n"
	    "be stopped; default: latest)",
	.options = {
		{ "--force", "even when the backup's node key is not this "
		    "node's" },
		{ "--in-place", "no second tree: verify, delete, extract (for "
		    "volumes\ntoo small for two trees)" },
		{ "--discard-previous", "remove the old tree once the new one is "
		    "live" },
	},
	.opts = CMDOPT_FORCE | CMDOPT_IN_PLACE | CMDOPT_DISCARD,
	.arg_default = "latest",
	.exec = cmd_unpack_exec,
};

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.usage = "rollback",
	.help = "put back the tree an unpack moved aside",
	.exec = cmd_rollback_exec,
};

const struct cmd_entry cmd_discard_previous_entry = {
	.name = "discard-previous",
	.usage = "discard-previous",
	.help = "remove the tree an unpack moved aside",
	.exec = cmd_discard_previous_exec,
};
