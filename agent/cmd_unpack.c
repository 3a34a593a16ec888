/* unpack, and the tree an unpack moves aside: rollback puts it back,
 * discard-previous removes it. */
#include "config.h"

#include <stdio.h>

#include <curl/curl.h>
#include <string.h>

#include "cmd_table.h"
#include "human.h"
#include "json.h"
#include "offsite.h"

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
	int from_offsite = a->from && strcmp(a->from, "offsite") == 0, rc;
	struct offsite_source src;
	struct backup_info given;
	struct offsite o;

	err_clear(&e);
	if (!from_offsite) {
		rc = op_unpack(cf, &u, a->hooks, &r, &e);
	} else {
		/* Streamed from the bucket: no local copy is made. */
		if (offsite_open(cf, &o, &e) < 0)
			return cmd_fail("unpack", &e);
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = offsite_source_init(&o, a->arg, a->hooks->cancel, &src,
		    &given, &e);
		if (rc == 0) {
			u.given = &given;
			rc = op_unpack(cf, &u, a->hooks, &r, &e);
			offsite_source_free(&src);
		}
		offsite_close(&o);
		curl_global_cleanup();
	}
	if (rc < 0)
		return cmd_fail("unpack", &e);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:s, s:b, s:b, "
		    "s:b, s:f}", "id", r.backup.id, "from", from_offsite ?
		    "offsite" : "local", "legacy", r.backup.legacy,
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
		printf("restored %s%s onto %s: %llu entries, %s, verified, in "
		    "%.2f s\n", r.backup.id, from_offsite ? " from the bucket" : "",
		    cf->data_dir,
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
	.usage = "unpack [ID|latest] [--from offsite]",
	.help = "restore a backup onto the data dir (the node must\n"
	    "be stopped; default: latest)",
	.options = {
		{ "--force", "even when the backup's node key is not this "
		    "node's" },
		{ "--in-place", "no second tree: verify, delete, extract (for "
		    "volumes\ntoo small for two trees)" },
		{ "--discard-previous", "remove the old tree once the new one is "
		    "live" },
		{ "--from offsite", "stream it from the [offsite] bucket (no "
		    "local copy)" },
	},
	.opts = CMDOPT_FORCE | CMDOPT_IN_PLACE | CMDOPT_DISCARD | CMDOPT_FROM,
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
