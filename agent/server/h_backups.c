/* h_backups: the member's backups: list, describe, downloads, delete,
 * verify, prune. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handlers.h"
#include "json.h"
#include "log.h"
#include "offsite.h"
#include "ops.h"
#include "store.h"

/* ---- backups ------------------------------------------------------------ */

enum MHD_Result
api_backups_list(struct request *r)
{
	struct err e;
	json_t *list;

	err_clear(&e);
	if (!(list = op_list(r->m->cf, &e)))
		return reply_err(r, &e);
	return reply_json(r, MHD_HTTP_OK, list);
}

/* The backup r names, in the member's store (*s, which holds nothing once
 * this returns: store_summary and store_open_file reach its files). */
static int
find_backup(struct request *r, struct store *s, struct backup_info *b,
    struct err *e)
{
	if (!api_valid_id(r->id, 1))
		return err_set(e, ERR_BAD_REQUEST, "'%s' is not a backup id",
		    r->id ? r->id : "");
	if (store_open(s, r->m->cf->backup_dir, r->m->cf->member, 0, e) < 0)
		return -1;
	return store_find(s, r->id, b, e);
}

enum MHD_Result
api_backup_get(struct request *r)
{
	struct backup_info b;
	struct store s;
	struct err e;
	json_t *sum, *o;
	char created[32];

	err_clear(&e);
	if (find_backup(r, &s, &b, &e) < 0)
		return reply_err(r, &e);
	store_format_time(b.created, created, sizeof created);
	o = json_pack("{s:s, s:s, s:I, s:b}", "id", b.id, "created", created,
	    "size", (json_int_t)b.size, "legacy", b.legacy);
	/* The metadata's cached summary: all of it but the entry list, which
	 * stays in the file (GET .../metadata serves it). */
	sum = store_summary(&s, &b, &e);
	json_object_set_new(o, "metadata", sum ? sum : json_null());
	return reply_json(r, MHD_HTTP_OK, o);
}

/* Content-Disposition of a download named name (RFC 6266): filename holds
 * an ASCII stand-in (a quote, backslash, percent sign, control or
 * non-ASCII byte becomes '_'), filename* the exact name, UTF-8 and
 * percent-encoded (RFC 8187). Legacy names may hold any of those. */
static void
content_disposition(const char *name, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n = 0;
	int w;

	w = snprintf(out, size, "attachment; filename=\"");
	n = w < 0 ? 0 : (size_t)w;
	for (p = (const unsigned char *)name; *p && n + 1 < size; p++)
		out[n++] = *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '%' ? '_' : (char)*p;
	if (n < size) {
		w = snprintf(out + n, size - n, "\"; filename*=UTF-8''");
		n += w < 0 ? 0 : (size_t)w;
	}
	for (p = (const unsigned char *)name; *p && n + 3 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n < size ? n : size - 1] = '\0';
}

/* Stream fd (a file of the store, opened by store_open_file; st its
 * fstat) as the reply: sendfile where possible, never loaded into
 * memory. The response owns fd. */
static enum MHD_Result
send_file(struct request *r, int fd, const struct stat *st, const char *type,
    const char *filename)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	/* Percent-encoded, a name takes three times its length. */
	char disp[4 * STORE_ID_MAX + 128];

	resp = MHD_create_response_from_fd64((uint64_t)st->st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	content_disposition(filename, disp, sizeof disp);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A backup's archive, or its metadata file byte for byte: together a
 * complete copy of the backup (quorum-backup-agent verify and unpack need
 * both). A legacy .tar.gz has no metadata file. Only a regular file in
 * member<N>/ is served, opened without following a link. */
static enum MHD_Result
backup_file(struct request *r, int metadata)
{
	struct backup_info b;
	struct store s;
	struct stat st;
	struct err e;
	int fd;

	err_clear(&e);
	if (find_backup(r, &s, &b, &e) < 0)
		return reply_err(r, &e);
	if (metadata && b.legacy)
		return reply_fail(r, ERR_NOT_FOUND, "a legacy .tar.gz backup has no metadata file");
	if ((fd = store_open_file(&s, &b, metadata, &st, &e)) < 0)
		return reply_err(r, &e);
	return send_file(r, fd, &st, metadata ? "application/json" :
	    b.legacy ? "application/gzip" : "application/zstd",
	    metadata ? b.meta_name : b.archive_name);
}

enum MHD_Result
api_backup_archive(struct request *r)
{
	return backup_file(r, 0);
}

enum MHD_Result
api_backup_metadata(struct request *r)
{
	return backup_file(r, 1);
}

/* DELETE /v1/backups/ID once the request is valid; with lease_mu held,
 * so that no lease is taken between its check and the delete. */
static enum MHD_Result
backup_delete_locked(struct request *r, int force)
{
	const struct agent_conf *cf = r->m->cf;
	struct backup_info b, newest;
	struct store s;
	struct err e;
	char who[160];

	err_clear(&e);
	if (leased_to_other(r, who, sizeof who))
		return reply_leased(r, who);
	if (store_open(&s, cf->backup_dir, cf->member, 0, &e) < 0 ||
	    store_lock(&s, &e) < 0)
		return reply_err(r, &e);
	if (store_find(&s, r->id, &b, &e) < 0) {
		store_close(&s);
		return reply_err(r, &e);
	}
	if (!force && !b.legacy && store_find(&s, "latest", &newest, &e) == 0 &&
	    strcmp(newest.id, b.id) == 0) {
		store_close(&s);
		return reply_fail(r, ERR_NEWEST_BACKUP, "this is the newest complete backup: delete it with force=1");
	}
	if (store_delete(&s, &b, &e) < 0) {
		store_close(&s);
		return reply_err(r, &e);
	}
	store_close(&s);
	log_info("backup_deleted", "id=%s reason=api", b.id);
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:s, s:b}", "id", b.id,
	    "deleted", 1));
}

enum MHD_Result
api_backup_delete(struct request *r)
{
	enum MHD_Result ret;
	int force;

	if (!api_valid_id(r->id, 0))
		return reply_fail(r, ERR_BAD_REQUEST, "not a backup id");
	if (bool_arg(r, "force", &force) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "force must be 0 or 1");
	pthread_mutex_lock(&r->m->lease_mu);
	ret = backup_delete_locked(r, force);
	pthread_mutex_unlock(&r->m->lease_mu);
	return ret;
}

enum MHD_Result
api_backup_verify(struct request *r)
{
	struct err e;
	int stored;

	if (!api_valid_id(r->id, 1))
		return reply_fail(r, ERR_BAD_REQUEST, "not a backup id");
	if (bool_arg(r, "stored", &stored) < 0)
		return reply_fail(r, ERR_BAD_REQUEST, "stored must be 0 or 1");
	/* An encrypted backup that no configured identity opens: 400 now,
	 * not a failed job later. */
	err_clear(&e);
	if (!stored && op_identity_precheck(r->m->cf, r->id, &e) < 0)
		return reply_err(r, &e);
	return start_job(r, JOB_VERIFY, json_pack("{s:s, s:b}", "backup", r->id,
	    "stored", stored), PHASE_VERIFYING, NEED_NOTHING);
}

enum MHD_Result
api_backup_upload(struct request *r)
{
	struct err e;

	err_clear(&e);
	if (!api_valid_id(r->id, 1))
		return reply_fail(r, ERR_BAD_REQUEST, "not a backup id");
	if (offsite_configured(r->m->cf, &e) < 0)
		return reply_err(r, &e);
	return start_job(r, JOB_UPLOAD, json_pack("{s:s, s:b}", "backup", r->id,
	    "auto", 0), PHASE_UPLOADING, NEED_NOTHING);
}

enum MHD_Result
api_prune(struct request *r)
{
	return start_job(r, JOB_PRUNE, json_object(), PHASE_PRUNING,
	    NEED_NOTHING);
}
