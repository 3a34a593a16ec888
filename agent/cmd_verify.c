/* verify: a full read of a backup (zstd checksums, tar walk, per-file and
 * archive hashes); read-only. */
#include "config.h"

#include <stdio.h>

#include "cmd_table.h"
#include "human.h"
#include "json.h"

static int
cmd_verify_exec(const struct cmd_args *a)
{
	struct backup_info b;
	struct verify_result r;
	struct err e;
	const char *what;
	char bytes[32];

	int stored = (a->opts & CMDOPT_STORED) != 0;

	err_clear(&e);
	if (op_verify(a->cf, a->arg, stored, a->hooks, &b, &r, &e) < 0) {
		if (a->json) {
			json_t *j = json_pack("{s:s, s:b, s:{s:s, s:s}}", "id",
			    a->arg, "ok", 0, "error", "code", err_name(e.code),
			    "message", e.msg);
			json_print(j);
			json_decref(j);
		}
		return cmd_fail("verify", &e);
	}
	if (a->json) {
		json_t *j = json_pack("{s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:I, "
		    "s:s, s:f}", "id", b.id, "ok", 1, "stored", stored,
		    "legacy", b.legacy, "encrypted", b.encrypted,
		    "files", (json_int_t)r.files, "bytes", (json_int_t)r.bytes,
		    "size", (json_int_t)r.size, "sha256", r.sha256,
		    "seconds", r.seconds);
		json_print(j);
		json_decref(j);
	} else {
		if (stored)
			what = "the stored file's size and SHA-256 match the "
			    "metadata (content not read)";
		else if (b.legacy)
			what = "legacy gzip (CRC and tar structure checked)";
		else if (b.encrypted && !b.meta_path[0])
			what = "age (every chunk authenticated), zstd checksums "
			    "and tar structure checked; no metadata beside it";
		else
			what = "every file hash and the archive SHA-256 match";
		human_bytes((long long)r.bytes, bytes, sizeof bytes);
		printf("ok %s: %llu entries, %s, %s in %.1f s\n", b.id,
		    (unsigned long long)r.files, bytes, what, r.seconds);
	}
	return 0;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.usage = "verify [ID|latest|PATH]",
	.help = "full read: zstd checksums, tar walk, per-file and\n"
	    "archive hashes (default: latest); an encrypted\n"
	    "backup needs [encryption] identity_file",
	.options = {
		{ "--stored", "only the stored file's size and SHA-256\n"
		    "against the metadata: no key needed" },
	},
	.opts = CMDOPT_STORED,
	.arg_default = "latest",
	.exec = cmd_verify_exec,
};
