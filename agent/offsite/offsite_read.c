/* offsite_read: the member's copies read back from the bucket: listed
 * from their remote metadata, verified by their stored SHA-256, pruned by
 * the remote retention, and streamed into an unpack (offsite.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "offsite.h"
#include "offsite_int.h"
#include "ops.h"
#include "verify.h"

/* ---- the read side ------------------------------------------------------ */

struct lister {
	struct offsite *o;
	json_t *archives;          /* name -> {size, etag} */
	json_t *metas;             /* ids with metadata */
};

static int
list_one(void *arg, const struct s3_object *ob, struct err *e)
{
	struct lister *l = arg;
	const char *name = ob->key + strlen(l->o->member_prefix);
	size_t n = strlen(name);
	char id[STORE_ID_MAX];

	(void)e;
	if (strchr(name, '/'))
		return 0;
	if (n > 5 && strcmp(name + n - 5, ".json") == 0 && n - 5 < sizeof id) {
		snprintf(id, sizeof id, "%.*s", (int)(n - 5), name);
		if (store_id_valid(id))
			json_object_set_new(l->metas, id, json_true());
	} else {
		json_object_set_new(l->archives, name, json_pack("{s:I, s:s}",
		    "size", (json_int_t)ob->size, "etag", ob->etag));
	}
	return 0;
}

/* The complete copies the listing shows (an id with its <ID>.json and
 * an archive <ID>.tar.zst[.age]), newest first as the store orders ids:
 * *v (free() it) of *n, each with id, created, archive_name, size and
 * encrypted; *archives (decref it) maps archive names to {size, etag}. No
 * metadata is read. */
static int
list_copies(struct offsite *o, struct backup_info **v, size_t *n,
    json_t **archives, struct err *e)
{
	struct lister l = { o, json_object(), json_object() };
	const char *id;
	json_t *val;
	size_t k = 0;

	*v = NULL;
	*n = 0;
	*archives = NULL;
	if (!l.archives || !l.metas) {
		err_set(e, ERR_FAILED, "out of memory");
		goto fail;
	}
	if (s3_list(&o->s3, o->member_prefix, list_one, &l, e) < 0)
		goto fail;
	if (!(*v = calloc(json_object_size(l.metas) + 1, sizeof **v))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto fail;
	}
	json_object_foreach(l.metas, id, val) {
		struct backup_info *b = &(*v)[k];
		const json_t *ar;

		snprintf(b->archive_name, sizeof b->archive_name, "%s.tar.zst.age",
		    id);
		b->encrypted = 1;
		if (!(ar = json_object_get(l.archives, b->archive_name))) {
			snprintf(b->archive_name, sizeof b->archive_name,
			    "%s.tar.zst", id);
			b->encrypted = 0;
			if (!(ar = json_object_get(l.archives, b->archive_name)))
				continue;   /* metadata without its archive */
		}
		snprintf(b->id, sizeof b->id, "%s", id);
		b->created = store_id_time(id);
		b->size = (uint64_t)json_get_u(ar, "size");
		b->bytes = b->files = -1;
		k++;
	}
	store_sort_newest_first(*v, k);
	*n = k;
	*archives = l.archives;
	json_decref(l.metas);
	return 0;
fail:
	json_decref(l.archives);
	json_decref(l.metas);
	return -1;
}

int
offsite_newest(struct offsite *o, char *id, size_t size, struct err *e)
{
	struct backup_info *v;
	json_t *archives;
	size_t n;

	if (list_copies(o, &v, &n, &archives, e) < 0)
		return -1;
	json_decref(archives);
	if (n == 0) {
		free(v);
		return err_set(e, ERR_NOT_FOUND, "no backup of member %lld in "
		    "s3://%s/%s", o->member, o->s3.bucket, o->member_prefix);
	}
	snprintf(id, size, "%s", v[0].id);
	free(v);
	return 0;
}

/* The remote metadata of id, parsed. */
static json_t *remote_meta(struct offsite *o, const char *id, struct err *e);

/* v's copy described from its remote metadata (NULL when that cannot be
 * read, logged). */
static json_t *
list_item(struct offsite *o, const struct backup_info *v, json_t *archives,
    struct err *e)
{
	json_t *m = remote_meta(o, v->id, e), *ar, *item, *sha, *v1, *v2, *v3;
	const char *file;

	if (!m) {
		log_warn("offsite_metadata_unreadable", "id=%s error=%s", v->id,
		    logq(e->msg));
		err_clear(e);
		return NULL;
	}
	/* The archive the metadata names, when the bucket holds it. */
	file = json_get_str(json_object_get(m, "archive"), "file");
	if (!file || !(ar = json_object_get(archives, file)))
		file = v->archive_name;
	ar = json_object_get(archives, file);
	sha = json_object_get(json_object_get(m, "archive"), "sha256");
	v1 = json_object_get(m, "created");
	v2 = json_object_get(m, "files");
	v3 = json_object_get(m, "bytes");
	item = json_pack("{s:s, s:s, s:O, s:O, s:b, s:O, s:O, s:O, s:O}", "id",
	    v->id, "archive", file, "size", json_object_get(ar, "size"),
	    "etag", json_object_get(ar, "etag"),
	    "encrypted", json_is_true(json_object_get(m, "encrypted")),
	    "sha256", sha ? sha : json_null(), "created", v1 ? v1 : json_null(),
	    "files", v2 ? v2 : json_null(), "bytes", v3 ? v3 : json_null());
	json_decref(m);
	return item;
}

json_t *
offsite_list(struct offsite *o, struct err *e)
{
	struct backup_info *v;
	json_t *archives, *out;
	size_t n;

	if (list_copies(o, &v, &n, &archives, e) < 0)
		return NULL;
	out = json_array();
	for (size_t i = 0; out && i < n; i++) {
		json_t *item = list_item(o, &v[i], archives, e);
		if (item)
			json_array_append_new(out, item);
	}
	if (!out)
		err_set(e, ERR_FAILED, "out of memory");
	json_decref(archives);
	free(v);
	return out;
}

struct membuf {
	char *p;
	size_t len;
};

static int
mem_sink(void *arg, const void *buf, size_t len, struct err *e)
{
	struct membuf *m = arg;
	char *p;

	if (m->len + len > META_MAX)
		return err_set(e, ERR_OFFSITE, "remote metadata over %u bytes",
		    META_MAX);
	if (!(p = realloc(m->p, m->len + len + 1)))
		return err_set(e, ERR_FAILED, "out of memory");
	memcpy(p + m->len, buf, len);
	m->p = p;
	m->len += len;
	p[m->len] = '\0';
	return 0;
}

static json_t *
remote_meta(struct offsite *o, const char *id, struct err *e)
{
	char name[STORE_ID_MAX + 8], key[S3_KEY_MAX];
	struct membuf m = { NULL, 0 };
	json_error_t je;
	json_t *j;

	snprintf(name, sizeof name, "%s.json", id);
	if (offsite_member_key(o, name, key, sizeof key, e) < 0 ||
	    s3_get(&o->s3, key, 0, NULL, mem_sink, &m, NULL, e) < 0) {
		free(m.p);
		return NULL;
	}
	j = json_loadb(m.p ? m.p : "", m.len, 0, &je);
	free(m.p);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		err_set(e, ERR_VERIFY, "s3://%s/%s: not a metadata file: %s",
		    o->s3.bucket, key, je.text);
		return NULL;
	}
	return j;
}

struct stale {
	json_t *keys;              /* {key, upload_id} of each to abort */
	time_t before;
};

static int
stale_one(void *arg, const struct s3_upload *u, struct err *e)
{
	struct stale *st = arg;

	(void)e;
	if (u->initiated == (time_t)-1 || u->initiated >= st->before)
		return 0;
	json_array_append_new(st->keys, json_pack("{s:s, s:s}", "key", u->key,
	    "upload_id", u->upload_id));
	return 0;
}

int
offsite_prune(struct offsite *o, long long keep_last, long long keep_days,
    int dry_run, json_t **deleted, json_t **aborted, size_t *kept,
    struct err *e)
{
	struct stale st = { NULL, time(NULL) - 86400 };
	struct backup_info *v = NULL;
	json_t *archives = NULL, *item;
	int *del = NULL, rc = -1;
	size_t n, i;

	*deleted = json_array();
	*aborted = json_array();
	*kept = 0;
	/* The listing is enough: no metadata is read. */
	if (list_copies(o, &v, &n, &archives, e) < 0)
		return -1;
	if (!(del = calloc(n + 1, sizeof *del))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	store_retention_plan(v, n, keep_last, keep_days, time(NULL), del);
	for (i = 0; i < n; i++) {
		char name[STORE_ID_MAX + 8], key[S3_KEY_MAX];

		if (!del[i]) {
			(*kept)++;
			continue;
		}
		if (!dry_run) {
			/* The metadata first: from then on the copy is not
			 * complete; then the archive. */
			snprintf(name, sizeof name, "%s.json", v[i].id);
			if (offsite_member_key(o, name, key, sizeof key, e) < 0 ||
			    s3_delete(&o->s3, key, e) < 0 ||
			    offsite_member_key(o, v[i].archive_name, key, sizeof key,
			    e) < 0 || s3_delete(&o->s3, key, e) < 0)
				goto out;
			log_info("offsite_deleted", "id=%s reason=retention", v[i].id);
		}
		json_array_append_new(*deleted, json_string(v[i].id));
	}
	/* Multipart uploads of ours that nothing will take up again. */
	st.keys = json_array();
	if (s3_mpu_list(&o->s3, o->member_prefix, stale_one, &st, e) < 0)
		goto out;
	json_array_foreach(st.keys, i, item) {
		if (!dry_run) {
			if (s3_mpu_abort(&o->s3, json_get_str(item, "key"),
			    json_get_str(item, "upload_id"), e) < 0 &&
			    e->code != ERR_NOT_FOUND)
				goto out;
			log_info("offsite_upload_aborted", "key=%s reason=stale",
			    logq(json_get_str(item, "key")));
		}
		json_array_append(*aborted, json_object_get(item, "key"));
	}
	rc = 0;
out:
	json_decref(st.keys);
	json_decref(archives);
	free(v);
	free(del);
	return rc;
}

struct hash_sink {
	EVP_MD_CTX *sha;
	struct progress prog;
	uint64_t next_report;
	progress_fn progress;
	void *progress_arg;
	volatile sig_atomic_t *cancel;
};

static int
hash_sink(void *arg, const void *buf, size_t len, struct err *e)
{
	struct hash_sink *h = arg;

	EVP_DigestUpdate(h->sha, buf, len);
	h->prog.bytes_done += len;
	if (h->progress && h->prog.bytes_done >= h->next_report) {
		h->next_report = h->prog.bytes_done + (8u << 20);
		h->progress(&h->prog, h->progress_arg);
	}
	if (h->cancel && *h->cancel)
		return err_set(e, ERR_FAILED, "cancelled");
	return 0;
}

int
offsite_verify_stored(struct offsite *o, const char *id,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e)
{
	struct hash_sink h;
	char key[S3_KEY_MAX], etag[S3_ETAG_MAX];
	unsigned char md[32];
	unsigned int ml = 0;
	const char *file, *want;
	double t0 = qb_mono_now();
	uint64_t size = 0, got = 0;
	json_t *m;
	int rc = -1;

	memset(res, 0, sizeof *res);
	memset(&h, 0, sizeof h);
	if (!store_id_valid(id))
		return err_set(e, ERR_BAD_REQUEST, "%s is not a backup id", id);
	if (!(m = remote_meta(o, id, e)))
		return -1;
	file = json_get_str(json_object_get(m, "archive"), "file");
	want = json_get_str(json_object_get(m, "archive"), "sha256");
	if (!file || !want || strchr(file, '/')) {
		err_set(e, ERR_VERIFY, "the remote metadata of %s names no archive "
		    "or no SHA-256", id);
		goto out;
	}
	if (offsite_member_key(o, file, key, sizeof key, e) < 0 ||
	    s3_head(&o->s3, key, &size, etag, e) < 0)
		goto out;
	if ((long long)size != json_get_u(json_object_get(m, "archive"),
	    "size")) {
		err_set(e, ERR_VERIFY, "s3://%s/%s is %llu bytes, its metadata "
		    "says %lld", o->s3.bucket, key, (unsigned long long)size,
		    json_get_u(json_object_get(m, "archive"), "size"));
		goto out;
	}
	if (!(h.sha = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(h.sha, EVP_sha256(), NULL) != 1) {
		err_set(e, ERR_FAILED, "libcrypto: digest");
		goto out;
	}
	h.prog.bytes_total = size;
	h.progress = progress;
	h.progress_arg = progress_arg;
	h.cancel = cancel;
	/* Pinned to the object the HEAD saw. */
	if (s3_get(&o->s3, key, 0, etag[0] ? etag : NULL, hash_sink, &h, &got,
	    e) < 0)
		goto out;
	EVP_DigestFinal_ex(h.sha, md, &ml);
	for (unsigned i = 0; i < 32; i++)
		snprintf(res->sha256 + 2 * i, 3, "%02x", md[i]);
	if (got != size) {
		err_set(e, ERR_VERIFY, "s3://%s/%s: %llu bytes read, %llu stored",
		    o->s3.bucket, key, (unsigned long long)got,
		    (unsigned long long)size);
		goto out;
	}
	if (strcmp(res->sha256, want) != 0) {
		err_set(e, ERR_VERIFY, "s3://%s/%s: SHA-256 is %s, its metadata "
		    "says %s", o->s3.bucket, key, res->sha256, want);
		goto out;
	}
	res->size = size;
	res->files = (uint64_t)json_get_u(m, "files");
	res->bytes = (uint64_t)json_get_u(m, "bytes");
	res->seconds = qb_mono_now() - t0;
	rc = 0;
out:
	EVP_MD_CTX_free(h.sha);
	json_decref(m);
	return rc;
}

int
offsite_verify(const struct agent_conf *cf, struct offsite *o,
    const char *id, int stored, const struct op_hooks *h, char *out_id,
    size_t out_size, struct verify_result *res, int *full, struct err *e)
{
	struct offsite_source src;
	struct backup_info given, b;
	char want[STORE_ID_MAX];
	int rc;

	*full = 0;
	if (!id || strcmp(id, "latest") == 0) {
		if (offsite_newest(o, want, sizeof want, e) < 0)
			return -1;
		id = want;
	}
	snprintf(out_id, out_size, "%s", id);
	if (!stored) {
		/* The whole content when it can be read: not encrypted, or an
		 * identity at hand. */
		if (offsite_source_init(o, id, h->cancel, &src, &given, e) < 0)
			return -1;
		if (!given.encrypted || (cf->identity_file &&
		    cf->identity_file[0])) {
			*full = 1;
			rc = op_verify_given(cf, &given, h, &b, res, e);
			offsite_source_free(&src);
			return rc;
		}
		offsite_source_free(&src);
	}
	return offsite_verify_stored(o, id, h->progress, h->progress_arg,
	    h->cancel, res, e);
}

/* ---- a copy as a backup to unpack ----------------------------------------- */

static int
pipe_sink(void *arg, const void *buf, size_t len, struct err *e)
{
	struct offsite_source *src = arg;

	if (src->cancel && *src->cancel)
		return err_set(e, ERR_FAILED, "cancelled");
	if (fs_write_all(src->wfd, buf, len) < 0) {
		if (errno == EPIPE)
			src->reader_gone = 1;   /* the reader stopped: no error */
		return err_sys(e, ERR_FAILED, "the download's pipe");
	}
	return 0;
}

static void *
fetch_main(void *arg)
{
	struct offsite_source *src = arg;
	uint64_t got = 0;

	for (int try = 1;; try++) {
		uint64_t n = 0;
		struct err e;

		err_clear(&e);
		if (s3_get(&src->o->s3, src->key, got, src->etag[0] ? src->etag :
		    NULL, pipe_sink, src, &n, &e) == 0)
			break;
		got += n;
		if (src->reader_gone)
			break;
		if (try == TRIES || !s3_retryable(&e) ||
		    offsite_backoff(try, src->cancel) < 0) {
			src->failed = 1;
			src->err = e;
			break;
		}
		log_warn("offsite_download_resumed", "key=%s at=%llu try=%d "
		    "error=%s", logq(src->key), (unsigned long long)got, try,
		    logq(e.msg));
	}
	close(src->wfd);
	src->wfd = -1;
	return NULL;
}

static int
source_open(void *arg, uint64_t *size, struct err *e)
{
	struct offsite_source *src = arg;
	int p[2];

	if (src->running)
		return err_set(e, ERR_FAILED, "a download of %s is still running",
		    src->key);
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, ERR_FAILED, "pipe");
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);   /* fewer wake-ups; best effort */
	src->wfd = p[1];
	src->reader_gone = src->failed = 0;
	err_clear(&src->err);
	if (pthread_create(&src->thread, NULL, fetch_main, src) != 0) {
		close(p[0]);
		close(p[1]);
		return err_set(e, ERR_FAILED, "cannot start the download");
	}
	src->running = 1;
	*size = src->size;
	return p[0];
}

static int
source_finish(void *arg, struct err *e)
{
	struct offsite_source *src = arg;

	if (!src->running)
		return 0;
	pthread_join(src->thread, NULL);
	src->running = 0;
	if (src->failed) {
		*e = src->err;
		return -1;
	}
	return 0;
}

int
offsite_source_init(struct offsite *o, const char *id,
    volatile sig_atomic_t *cancel, struct offsite_source *src,
    struct backup_info *b, struct err *e)
{
	char want[STORE_ID_MAX], name[STORE_ID_MAX + 8], mkey[S3_KEY_MAX];
	const char *file;
	uint64_t size = 0;
	json_t *m;

	memset(src, 0, sizeof *src);
	memset(b, 0, sizeof *b);
	src->o = o;
	src->wfd = -1;
	src->cancel = cancel;
	o->s3.cancel = cancel;
	if (strcmp(id, "latest") == 0) {
		if (offsite_newest(o, want, sizeof want, e) < 0)
			return -1;
		id = want;
	}
	if (!store_id_valid(id))
		return err_set(e, ERR_BAD_REQUEST, "%s is not a backup id", id);
	if (!(m = remote_meta(o, id, e)))
		return -1;
	file = json_get_str(json_object_get(m, "archive"), "file");
	snprintf(name, sizeof name, "%s.json", id);
	if (!file || strchr(file, '/') || offsite_member_key(o, file, src->key,
	    sizeof src->key, e) < 0 || offsite_member_key(o, name, mkey,
	    sizeof mkey, e) < 0) {
		json_decref(m);
		return err_set(e, ERR_VERIFY, "the remote metadata of %s names no "
		    "archive", id);
	}
	if (s3_head(&o->s3, src->key, &size, src->etag, e) < 0) {
		json_decref(m);
		return -1;
	}
	src->size = size;
	src->as.open = source_open;
	src->as.finish = source_finish;
	src->as.arg = src;
	src->as.meta = m;
	snprintf(b->id, sizeof b->id, "%s", id);
	b->created = store_id_time(id);
	b->size = size;
	b->bytes = json_get_u(m, "bytes");
	b->files = json_get_u(m, "files");
	snprintf(b->archive_path, sizeof b->archive_path, "s3://%s/%s",
	    o->s3.bucket, src->key);
	snprintf(b->meta_path, sizeof b->meta_path, "s3://%s/%s", o->s3.bucket,
	    mkey);
	b->encrypted = strlen(file) > 4 &&
	    strcmp(file + strlen(file) - 4, ".age") == 0;
	b->source = &src->as;
	return 0;
}

void
offsite_source_free(struct offsite_source *src)
{
	if (src->running) {
		pthread_join(src->thread, NULL);
		src->running = 0;
	}
	json_decref(src->as.meta);
	src->as.meta = NULL;
}
