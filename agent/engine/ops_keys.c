/* ops_keys: the keys of the operations: the recipients an archive is
 * encrypted to, the identities that open a backup, and the check made
 * before a job starts that they do (ops.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "age.h"
#include "ops.h"
#include "ops_int.h"

int
op_recipients(const struct agent_conf *cf, struct age_recipient **rs,
    size_t *n, struct err *e)
{
	*rs = NULL;
	*n = 0;
	if (cf->recipients_file && cf->recipients_file[0]) {
		if (age_recipients_file_load(cf->recipients_file, rs, n, e) == 0)
			return 0;
		/* Missing or unreadable: the configuration is wrong (exit 2). */
		if (e->code == ERR_NOT_FOUND || e->code == ERR_FAILED) {
			e->code = ERR_CONFIG;
			err_prefix(e, "[encryption] recipients_file");
		}
		return -1;
	}
	if (cf->require_encryption)
		return err_set(e, ERR_CONFIG, "[encryption] require is true but "
		    "recipients_file is not set: no backup may be written in the "
		    "clear");
	return 0;
}

int
op_encryption_check(const struct agent_conf *cf, struct err *e)
{
	struct age_recipient *rs;
	size_t n;

	if (op_recipients(cf, &rs, &n, e) < 0)
		return -1;
	free(rs);
	return 0;
}

int
ops_load_identities(const struct agent_conf *cf, struct backup_info *b,
    struct age_identity **ids, size_t *n, struct err *e)
{
	*ids = NULL;
	*n = 0;
	if (!b->encrypted || !cf->identity_file || !cf->identity_file[0])
		return 0;
	if (age_identity_file_load(cf->identity_file, ids, n, e) < 0) {
		/* Not there (a Secret volume that is optional and empty): no
		 * identity, said as such. */
		if (e->code == ERR_NOT_FOUND)
			return err_set(e, ERR_NO_IDENTITY, "%s is encrypted with age "
			    "and [encryption] identity_file %s does not exist (is "
			    "its Secret created?)", b->archive_path,
			    cf->identity_file);
		return -1;
	}
	b->ids = *ids;
	b->n_ids = *n;
	return 0;
}

int
op_identity_precheck(const struct agent_conf *cf, const char *what,
    struct err *e)
{
	struct age_identity *ids = NULL;
	struct backup_info b;
	struct err ignored;
	json_t *meta = NULL;
	size_t n_ids = 0;
	int listed, rc;

	struct store s;

	/* The store's backups (what the HTTP API names) by their cached
	 * summaries: no entry list is parsed on a request's thread. */
	if (strchr(what, '/') || store_open(&s, cf->backup_dir, cf->member, 0,
	    &ignored) < 0 || store_find(&s, what, &b, &ignored) < 0 ||
	    !b.encrypted)
		return 0;   /* the job says what is wrong */
	if (ops_load_identities(cf, &b, &ids, &n_ids, e) < 0)
		return -1;
	if (!(meta = store_summary(&s, &b, &ignored))) {
		age_identities_free(ids, n_ids);
		return 0;
	}
	rc = backup_identity_check(&b, meta, &listed, e);
	json_decref(meta);
	age_identities_free(ids, n_ids);
	return rc;
}
