/* offsite: the member's copies in the [offsite] bucket: list them, upload
 * a local backup, verify a remote one's stored SHA-256 (no key needed). */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_table.h"
#include "human.h"
#include "json.h"
#include "log.h"
#include "offsite.h"

static int
offsite_list_cmd(const struct cmd_args *a, struct offsite *o)
{
	struct err e;
	json_t *list, *b;
	size_t i;

	err_clear(&e);
	if (!(list = offsite_list(o, &e)))
		return cmd_fail("offsite list", &e);
	if (a->json) {
		json_print(list);
	} else {
		printf("%-24s %-20s %10s %s\n", "ID", "CREATED", "SIZE", "ARCHIVE");
		json_array_foreach(list, i, b) {
			char size[32];
			human_bytes(json_get_u(b, "size"), size, sizeof size);
			printf("%-24s %-20s %10s %s%s\n", json_get_str(b, "id"),
			    json_get_str(b, "created") ? json_get_str(b, "created") :
			    "-", size, json_get_str(b, "archive"),
			    json_is_true(json_object_get(b, "encrypted")) ?
			    "  encrypted" : "");
		}
		if (json_array_size(list) == 0)
			printf("(no backups of member %lld in s3://%s/%s)\n",
			    a->cf->member, o->s3.bucket, o->member_prefix);
	}
	json_decref(list);
	return 0;
}

static int
offsite_upload_cmd(const struct cmd_args *a)
{
	struct offsite_result r;
	json_t *pruned = NULL;
	struct err e;
	char size[32];

	err_clear(&e);
	if (offsite_copy(a->cf, a->arg2, a->hooks->progress,
	    a->hooks->progress_arg, a->hooks->cancel, &r, &pruned, &e) < 0)
		return cmd_fail("offsite upload", &e);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:f, "
		    "s:O}", "id", r.id, "bucket", r.bucket, "key", r.archive_key,
		    "etag", r.etag, "size", (json_int_t)r.size, "parts", r.parts,
		    "reused", r.reused, "seconds", r.seconds, "pruned",
		    pruned ? pruned : json_null());
		json_print(j);
		json_decref(j);
	} else {
		human_bytes((long long)r.size, size, sizeof size);
		printf("uploaded %s: s3://%s/%s, %s in %d part%s, %.1f s\n", r.id,
		    r.bucket, r.archive_key, size, r.parts ? r.parts : 1,
		    r.parts == 1 || r.parts == 0 ? "" : "s", r.seconds);
		for (size_t i = 0; pruned && i < json_array_size(pruned); i++)
			printf("pruned s3 copy %s\n",
			    json_string_value(json_array_get(pruned, i)));
	}
	json_decref(pruned);
	return 0;
}

static int
offsite_verify_cmd(const struct cmd_args *a, struct offsite *o)
{
	int stored = (a->opts & CMDOPT_STORED) != 0, full;
	struct verify_result res;
	char id[STORE_ID_MAX], size[32];
	struct err e;

	err_clear(&e);
	if (offsite_verify(a->cf, o, a->arg2, stored, a->hooks, id, sizeof id,
	    &res, &full, &e) < 0)
		return cmd_fail("offsite verify", &e);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:f}",
		    "id", id, "ok", 1, "stored", !full, "files",
		    (json_int_t)res.files, "bytes", (json_int_t)res.bytes, "size",
		    (json_int_t)res.size, "sha256", res.sha256, "seconds",
		    res.seconds);
		json_print(j);
		json_decref(j);
		return 0;
	}
	human_bytes((long long)res.size, size, sizeof size);
	if (full)
		printf("ok %s: s3://%s/%s..., %s, every file's hash, the stored "
		    "object's size and SHA-256 match its metadata in %.1f s\n", id,
		    o->s3.bucket, o->member_prefix, size, res.seconds);
	else
		printf("ok %s: s3://%s/%s..., %s, the stored object's size and "
		    "SHA-256 match its metadata in %.1f s%s\n", id, o->s3.bucket,
		    o->member_prefix, size, res.seconds, stored ? "" :
		    " (encrypted, and no [encryption] identity_file: the content "
		    "was not read)");
	return 0;
}

static int
offsite_prune_cmd(const struct cmd_args *a, struct offsite *o)
{
	int dry = (a->opts & CMDOPT_DRY_RUN) != 0;
	json_t *deleted, *aborted, *v;
	struct err e;
	size_t kept, i;

	err_clear(&e);
	if (offsite_prune(o, a->cf->offsite_keep_last, a->cf->offsite_keep_days,
	    dry, &deleted, &aborted, &kept, &e) < 0) {
		json_decref(deleted);
		json_decref(aborted);
		return cmd_fail("offsite prune", &e);
	}
	if (a->json) {
		json_t *j = json_pack("{s:b, s:O, s:O, s:I}", "dry_run", dry,
		    "deleted", deleted, "aborted", aborted, "kept",
		    (json_int_t)kept);
		json_print(j);
		json_decref(j);
	} else {
		json_array_foreach(deleted, i, v)
			printf("%s %s\n", dry ? "would delete" : "deleted",
			    json_string_value(v));
		json_array_foreach(aborted, i, v)
			printf("%s the unfinished upload of %s\n", dry ?
			    "would abort" : "aborted", json_string_value(v));
		printf("%zu cop%s kept in s3://%s/%s\n", kept, kept == 1 ? "y" :
		    "ies", o->s3.bucket, o->member_prefix);
	}
	json_decref(deleted);
	json_decref(aborted);
	return 0;
}

static int
cmd_offsite_exec(const struct cmd_args *a)
{
	struct offsite o;
	struct err e;
	int rc;

	err_clear(&e);
	int prune = strcmp(a->arg, "prune") == 0;

	if (strcmp(a->arg, "list") != 0 && strcmp(a->arg, "upload") != 0 &&
	    strcmp(a->arg, "verify") != 0 && !prune) {
		fprintf(stderr, "quorum-backup-agent: offsite %s: not list, upload, "
		    "verify or prune (see --help)\n", a->arg);
		return 2;
	}
	if ((strcmp(a->arg, "list") == 0 || prune) && a->arg2) {
		fprintf(stderr, "quorum-backup-agent: offsite %s takes no "
		    "argument\n", a->arg);
		return 2;
	}
	if ((a->opts & CMDOPT_DRY_RUN) && !prune) {
		fprintf(stderr, "quorum-backup-agent: --dry-run goes with prune "
		    "and offsite prune\n");
		return 2;
	}
	if ((a->opts & CMDOPT_STORED) && strcmp(a->arg, "verify") != 0) {
		fprintf(stderr, "quorum-backup-agent: --stored goes with verify "
		    "and offsite verify\n");
		return 2;
	}
	if (offsite_open(a->cf, &o, &e) < 0)
		return cmd_fail("offsite", &e);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(a->arg, "list") == 0)
		rc = offsite_list_cmd(a, &o);
	else if (strcmp(a->arg, "upload") == 0)
		rc = offsite_upload_cmd(a);
	else if (prune)
		rc = offsite_prune_cmd(a, &o);
	else
		rc = offsite_verify_cmd(a, &o);
	offsite_close(&o);
	curl_global_cleanup();
	return rc;
}

const struct cmd_entry cmd_offsite_entry = {
	.name = "offsite",
	.usage = "offsite list|upload|verify|prune [ID|latest]",
	.help = "the [offsite] bucket: list this member's copies;\n"
	    "upload a local backup (default: latest); verify a\n"
	    "copy as verify does (an encrypted one needs\n"
	    "[encryption] identity_file, else only its stored\n"
	    "size and SHA-256 are checked);\n"
	    "prune by [offsite] keep_last and keep_days, and abort\n"
	    "uploads left unfinished for over a day",
	.options = {
		{ "--dry-run", "with prune: say what would go" },
		{ "--stored", "with verify: only the stored object's size\n"
		    "and SHA-256, no key needed" },
	},
	.opts = CMDOPT_DRY_RUN | CMDOPT_STORED,
	.arg_default = "list",
	.takes_arg2 = 1,
	.exec = cmd_offsite_exec,
};
