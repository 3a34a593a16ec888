/* verify: a full read of a backup on each member given (POST
 * /v1/backups/ID/verify, followed to its end): zstd checksums, the tar
 * walk, every file hash and the archive's SHA-256. Nothing stops; verify
 * jobs need no lease. --stored: only each stored file's size and SHA-256
 * against its metadata (?stored=1: no key needed, nothing decrypted).
 * Exit 4 when the backup is not there, 1 when it does not verify. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json.h"

/* The verify route of member i's copy `want` in the bucket ("latest":
 * the newest there) into path, with stored: of the stored object only;
 * -1 with r failed. */
static int
offsite_path(struct ctl *c, size_t i, const char *want, int stored,
    char *path, size_t size, struct result *r)
{
	const char *id = want;
	char esc[200];
	struct reply rep;

	memset(&rep, 0, sizeof rep);
	if (strcmp(want, "latest") == 0) {
		if (client_call(&c->cl, &c->members[i], "GET", "/v1/offsite/backups",
		    0, &rep) < 0 || !json_is_array(rep.body)) {
			snprintf(r->state, sizeof r->state, "failed");
			snprintf(r->code, sizeof r->code, "%s", rep.code[0] ? rep.code :
			    "bad_reply");
			snprintf(r->msg, sizeof r->msg, "%s", rep.msg[0] ? rep.msg :
			    "not a list");
			reply_free(&rep);
			return -1;
		}
		if (!(id = json_get_str(json_array_get(rep.body, 0), "id"))) {
			snprintf(r->state, sizeof r->state, "failed");
			snprintf(r->code, sizeof r->code, "not_found");
			snprintf(r->msg, sizeof r->msg, "no copy in the bucket");
			reply_free(&rep);
			return -1;
		}
	}
	client_escape(id, esc, sizeof esc);
	snprintf(path, size, "/v1/offsite/backups/%s/verify%s", esc,
	    stored ? "?stored=1" : "");
	reply_free(&rep);
	return 0;
}

static int
cmd_verify_exec(struct ctl *c, const struct cmd_opts *o)
{
	const char *want = o->backup ? o->backup : "latest";
	size_t *idx, n;
	int failed = 0, missing = 0, rc;
	char esc[200], path[320];

	if (select_members(c, o, 0, &idx, &n) < 0)
		return EXIT_USAGE;
	client_escape(want, esc, sizeof esc);
	snprintf(path, sizeof path, "/v1/backups/%s/verify%s", esc,
	    o->stored ? "?stored=1" : "");
	for (size_t k = 0; k < n && !ctl_stopping(c); k++) {
		struct result *r = &c->res[idx[k]];
		json_t *job = NULL;
		char code[64], msg[1024];

		if (o->offsite && offsite_path(c, idx[k], want, o->stored, path,
		    sizeof path, r) < 0) {
			missing |= strcmp(r->code, "not_found") == 0;
			failed |= strcmp(r->code, "not_found") != 0;
			continue;
		}

		out_info(c, "member %d: verifying backup %s%s", c->members[idx[k]].n,
		    want, o->stored ? " (the stored file only)" : "");
		if (run_job(c, idx[k], path, "verify", &job, code, sizeof code, msg,
		    sizeof msg) < 0) {
			snprintf(r->state, sizeof r->state, "failed");
			snprintf(r->code, sizeof r->code, "%s", code);
			snprintf(r->msg, sizeof r->msg, "%s", msg);
			if (strcmp(code, "not_found") == 0)
				missing = 1;
			else
				failed = 1;
		} else {
			const json_t *res = json_object_get(job, "result");
			snprintf(r->state, sizeof r->state, "verified");
			snprintf(r->backup, sizeof r->backup, "%s",
			    json_get_str(res, "backup") ? json_get_str(res, "backup") :
			    want);
			r->duration = json_number_value(json_object_get(job,
			    "elapsed"));
			r->size = json_get_u(res, "bytes");
		}
		json_decref(job);
	}
	free(idx);
	rc = failed || ctl_stopping(c) ? EXIT_FAILED : missing ?
	    EXIT_NOT_FOUND : EXIT_OK;
	out_summary(c, "verify", rc);
	return rc;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.usage = "verify (N...|--all) [--backup ID]",
	.help = "full read of a backup on the agents",
	.options = {
		{ "--stored", "only the stored file's size and SHA-256\n"
		    "against its metadata: no key needed" },
		{ "--offsite", "the copy in the [offsite] bucket, read through\n"
		    "by its agent (an encrypted one needs the agent's\n"
		    "identity, else only its stored SHA-256 is checked)" },
	},
	.opts = CMDOPT_ALL | CMDOPT_BACKUP | CMDOPT_STORED | CMDOPT_OFFSITE,
	.exec = cmd_verify_exec,
};
