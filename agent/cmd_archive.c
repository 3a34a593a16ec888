/* archive: archive the data dir, then apply retention (the node must be
 * stopped: the node's lock files are held for the whole job). */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cmd_table.h"
#include "human.h"
#include "json.h"
#include "offsite.h"

static void
print_archive(const struct archive_result *r, const json_t *pruned)
{
	char in[32], out[32];

	human_bytes((long long)r->bytes, in, sizeof in);
	human_bytes((long long)r->size, out, sizeof out);
	printf("backup %s: %llu entries, %s -> %s in %.1f s\n", r->id,
	    (unsigned long long)r->files, in, out, r->seconds);
	printf("archive %s%s\nsha256 %s\n", r->archive_path,
	    r->encrypted ? " (encrypted with age)" : "", r->sha256);
	if (r->skipped)
		printf("skipped %llu sockets, FIFOs or devices\n",
		    (unsigned long long)r->skipped);
	for (size_t i = 0; pruned && i < json_array_size(pruned); i++)
		printf("pruned %s\n",
		    json_string_value(json_array_get(pruned, i)));
	for (size_t i = 0; i < json_array_size(r->warnings); i++)
		fprintf(stderr, "warning: %s\n",
		    json_string_value(json_array_get(r->warnings, i)));
}

/* With [offsite] url set and upload = auto: the copy of the new backup.
 * A failed copy does not fail the archive: it is recorded, said on
 * stderr, and tried again after the next archive by the agent's serve.
 * Returns {state, ...}: "off" (no url), "manual", "uploaded" (key,
 * etag) or "failed" (error). */
static json_t *
archive_offsite(const struct cmd_args *a, const char *id)
{
	struct offsite_result r;
	json_t *pruned = NULL, *j;
	struct err e;
	int rc;

	if (!a->cf->offsite_url || !a->cf->offsite_url[0])
		return json_pack("{s:s}", "state", "off");
	if (strcmp(a->cf->offsite_upload, "auto") != 0)
		return json_pack("{s:s}", "state", "manual");
	err_clear(&e);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = offsite_copy(a->cf, id, a->hooks->progress, a->hooks->progress_arg,
	    a->hooks->cancel, &r, &pruned, &e);
	curl_global_cleanup();
	if (rc < 0) {
		fprintf(stderr, "warning: the off-site copy of %s failed: %s (the "
		    "backup is complete on the backup volume; `offsite upload %s` "
		    "tries again)\n", id, e.msg, id);
		return json_pack("{s:s, s:s, s:s}", "state", "failed", "code",
		    err_name(e.code), "error", e.msg);
	}
	if (!a->json)
		printf("uploaded s3://%s/%s\n", r.bucket, r.archive_key);
	j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "state", "uploaded", "bucket",
	    r.bucket, "key", r.archive_key, "etag", r.etag, "pruned",
	    pruned ? pruned : json_array());
	return j;
}

static int
cmd_archive_exec(const struct cmd_args *a)
{
	struct archive_result r;
	struct err e;
	json_t *pruned = NULL, *offsite;

	err_clear(&e);
	if (op_encryption_check(a->cf, &e) < 0)
		return cmd_fail("archive", &e);
	if (op_archive(a->cf, a->hooks, &r, &pruned, &e) < 0)
		return cmd_fail("archive", &e);
	if (!a->json)
		print_archive(&r, pruned);
	offsite = archive_offsite(a, r.id);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:f, "
		    "s:s, s:o, s:O, s:o}", "id", r.id, "archive", r.archive_path,
		    "encrypted", r.encrypted,
		    "size", (json_int_t)r.size, "bytes", (json_int_t)r.bytes,
		    "files", (json_int_t)r.files, "skipped", (json_int_t)r.skipped,
		    "seconds", r.seconds, "sha256", r.sha256,
		    "pruned", pruned ? json_incref(pruned) : json_array(),
		    "warnings", r.warnings,   /* O: the reference stays ours */
		    "offsite", offsite);
		json_print(j);
		json_decref(j);
	} else {
		json_decref(offsite);
	}
	json_decref(pruned);
	json_decref(r.warnings);
	return 0;
}

const struct cmd_entry cmd_archive_entry = {
	.name = "archive",
	.usage = "archive",
	.help = "archive the data dir (the node must be stopped); with\n"
	    "[offsite] upload = auto, then copy it to the bucket",
	.exec = cmd_archive_exec,
};
