/* offsite: the [offsite] store opened, and a member's backups copied to
 * it (offsite.h); the read side is offsite_read.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "offsite.h"
#include "offsite_int.h"
#include "verify.h"

/* The first line of a key file, without blanks around it. */
static int
read_key(const char *path, const char *what, int secret, char *out,
    size_t size, struct err *e)
{
	struct stat st;
	char *buf;
	size_t len, a = 0;

	if (!path || !path[0])
		return err_set(e, ERR_CONFIG, "[offsite] %s is not set", what);
	if (fs_read_config_file(path, 4096, &buf, &len, &st, e) < 0) {
		e->code = ERR_CONFIG;
		err_prefix(e, "[offsite] %s", what);
		return -1;
	}
	if (secret && (st.st_mode & 077)) {
		memset(buf, 0, len);
		free(buf);
		return err_set(e, ERR_CONFIG, "[offsite] %s %s is readable by "
		    "others (mode %04o): chmod 600 it", what, path,
		    (unsigned)(st.st_mode & 07777));
	}
	while (a < len && (buf[a] == ' ' || buf[a] == '\t'))
		a++;
	len = a + strcspn(buf + a, "\r\n");
	while (len > a && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len == a || len - a >= size) {
		memset(buf, 0, len);
		free(buf);
		return err_set(e, ERR_CONFIG, "[offsite] %s %s: %s", what, path,
		    len == a ? "empty" : "too long");
	}
	memcpy(out, buf + a, len - a);
	out[len - a] = '\0';
	memset(buf, 0, len);
	free(buf);
	return 0;
}

int
offsite_configured(const struct agent_conf *cf, struct err *e)
{
	if (!cf->offsite_url || !cf->offsite_url[0])
		return err_set(e, ERR_BAD_REQUEST, "[offsite] url is not set: "
		    "there is no off-site store");
	return 0;
}

int
offsite_open(const struct agent_conf *cf, struct offsite *o, struct err *e)
{
	char member[32];

	memset(o, 0, sizeof *o);
	if (offsite_configured(cf, e) < 0) {
		e->code = ERR_CONFIG;
		return -1;
	}
	if (s3_conf_parse(&o->s3, cf->offsite_url, cf->offsite_region,
	    strcmp(cf->offsite_addressing, "virtual") == 0, e) < 0)
		return -1;
	if (cf->offsite_ca_file && cf->offsite_ca_file[0])
		snprintf(o->s3.ca_file, sizeof o->s3.ca_file, "%s",
		    cf->offsite_ca_file);
	if (read_key(cf->offsite_access_key_file, "access_key_file", 0,
	    o->s3.access_key, sizeof o->s3.access_key, e) < 0 ||
	    read_key(cf->offsite_secret_key_file, "secret_key_file", 1,
	    o->s3.secret_key, sizeof o->s3.secret_key, e) < 0) {
		offsite_close(o);
		return -1;
	}
	o->part_size = (uint64_t)cf->offsite_part_size;
	o->parallel = (int)cf->offsite_parallel;
	if (cf->offsite_bandwidth_limit > 0)
		o->s3.max_send_speed = cf->offsite_bandwidth_limit /
		    cf->offsite_parallel > 0 ? cf->offsite_bandwidth_limit /
		    cf->offsite_parallel : 1;
	o->member = cf->member;
	store_member_name(cf->member, member, sizeof member);
	if (s3_key(&o->s3, member, o->member_prefix,
	    sizeof o->member_prefix - 1) < 0)
		return err_set(e, ERR_CONFIG, "[offsite] url: the prefix is too "
		    "long");
	strcat(o->member_prefix, "/");
	return 0;
}

void
offsite_close(struct offsite *o)
{
	memset(o->s3.secret_key, 0, sizeof o->s3.secret_key);
	memset(o->s3.access_key, 0, sizeof o->s3.access_key);
}

/* The object key of name in the member's directory. */
int
offsite_member_key(const struct offsite *o, const char *name, char *out,
    size_t size, struct err *e)
{
	if ((size_t)snprintf(out, size, "%s%s", o->member_prefix, name) >= size)
		return err_set(e, ERR_FAILED, "object key too long: %s", name);
	return 0;
}

/* ---- hashing a range of the file -------------------------------------- */

/* The SHA-256 (hex) and MD5 (base64, and hex when md5hex is not NULL) of
 * size bytes of fd from off. */
static int
hash_range(int fd, uint64_t off, uint64_t size, char sha[SHA256_HEX_LEN + 1],
    char md5[32], char *md5hex, unsigned char *buf, struct err *e)
{
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *m = EVP_MD_CTX_new();
	unsigned char sd[32], md[16];
	unsigned int sl = 0, ml = 0;
	uint64_t done = 0;
	int rc = -1;

	if (!s || !m || EVP_DigestInit_ex(s, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(m, EVP_md5(), NULL) != 1) {
		err_set(e, ERR_FAILED, "libcrypto: digest");
		goto out;
	}
	while (done < size) {
		size_t want = size - done < READ_BUF ? (size_t)(size - done) :
		    READ_BUF;
		ssize_t n = pread(fd, buf, want, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_sys(e, ERR_FAILED, "read the archive at byte %llu",
			    (unsigned long long)(off + done));
			goto out;
		}
		EVP_DigestUpdate(s, buf, (size_t)n);
		EVP_DigestUpdate(m, buf, (size_t)n);
		done += (uint64_t)n;
	}
	EVP_DigestFinal_ex(s, sd, &sl);
	EVP_DigestFinal_ex(m, md, &ml);
	for (unsigned i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", sd[i]);
	EVP_EncodeBlock((unsigned char *)md5, md, 16);
	for (unsigned i = 0; md5hex && i < 16; i++)
		snprintf(md5hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(m);
	return rc;
}

int
offsite_backoff(int try, volatile sig_atomic_t *cancel)
{
	for (int i = 0; i < (1 << (try - 1)) * 10; i++) {
		if (cancel && *cancel)
			return -1;
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- the upload --------------------------------------------------------- */

struct upload {
	struct offsite *o;
	const char *key;
	char upload_id[S3_UPLOAD_ID_MAX];
	int fd;
	uint64_t size, part_size;
	int nparts;
	struct s3_part *parts;
	/* An earlier upload of the same key, interrupted: the parts it left
	 * (ETag "" where none), reused when their MD5 is the local part's. */
	struct s3_part *found;
	int reused;
	/* shared by the workers */
	pthread_mutex_t mu;
	int next;                  /* the next part to send */
	int failed;
	struct err err;            /* the first failure */
	uint64_t sent;             /* bytes of parts done */
	progress_fn progress;
	void *progress_arg;
	struct progress prog;
	volatile sig_atomic_t *cancel;
};

/* One part: hashed, then sent, tried again on what is worth it. */
static int
send_part(struct upload *u, int i, unsigned char *buf, struct err *e)
{
	uint64_t off = (uint64_t)i * u->part_size;
	uint64_t len = off + u->part_size <= u->size ? u->part_size :
	    u->size - off;
	char sha[SHA256_HEX_LEN + 1], md5[32], md5hex[33], etag[40];
	struct s3_body body;

	if (hash_range(u->fd, off, len, sha, md5, md5hex, buf, e) < 0)
		return -1;
	/* A part's ETag is the MD5 of its bytes: one already in the bucket
	 * with this part's content is not sent again. */
	snprintf(etag, sizeof etag, "\"%s\"", md5hex);
	if (u->found && u->found[i].size == len &&
	    strcmp(u->found[i].etag, etag) == 0) {
		snprintf(u->parts[i].etag, sizeof u->parts[i].etag, "%s", etag);
		u->parts[i].number = i + 1;
		u->parts[i].size = len;
		pthread_mutex_lock(&u->mu);
		u->reused++;
		pthread_mutex_unlock(&u->mu);
		return 0;
	}
	memset(&body, 0, sizeof body);
	body.fd = u->fd;
	body.off = off;
	body.size = len;
	body.sha256 = sha;
	body.md5_b64 = md5;
	for (int try = 1;; try++) {
		if (u->cancel && *u->cancel)
			return err_set(e, ERR_FAILED, "cancelled");
		if (s3_mpu_part(&u->o->s3, u->key, u->upload_id, i + 1, &body,
		    u->parts[i].etag, e) == 0)
			break;
		if (try == TRIES || !s3_retryable(e))
			return -1;
		log_warn("offsite_retry", "key=%s part=%d try=%d error=%s",
		    logq(u->key), i + 1, try, logq(e->msg));
		if (offsite_backoff(try, u->cancel) < 0)
			return err_set(e, ERR_FAILED, "cancelled");
	}
	u->parts[i].number = i + 1;
	u->parts[i].size = len;
	return 0;
}

static void *
part_worker(void *arg)
{
	struct upload *u = arg;
	unsigned char *buf = malloc(READ_BUF);
	struct err e;

	err_clear(&e);
	for (;;) {
		int i;

		pthread_mutex_lock(&u->mu);
		if (!buf && !u->failed) {
			u->failed = 1;
			err_set(&u->err, ERR_FAILED, "out of memory");
		}
		i = u->failed || u->next >= u->nparts ? -1 : u->next++;
		pthread_mutex_unlock(&u->mu);
		if (i < 0)
			break;
		int rc = send_part(u, i, buf, &e);
		pthread_mutex_lock(&u->mu);
		if (rc < 0 && !u->failed) {
			u->failed = 1;
			u->err = e;
		} else if (rc == 0) {
			u->sent += u->parts[i].size;
			u->prog.bytes_done = u->sent;
			if (u->progress)
				u->progress(&u->prog, u->progress_arg);
		}
		pthread_mutex_unlock(&u->mu);
	}
	free(buf);
	return NULL;
}

/* The uploads in progress of exactly this key. */
struct pending {
	const char *key;
	struct s3_upload *v;
	size_t n;
};

static int
pending_one(void *arg, const struct s3_upload *up, struct err *e)
{
	struct pending *p = arg;
	struct s3_upload *nv;

	if (strcmp(up->key, p->key) != 0)
		return 0;
	if (p->n >= 64)
		return 0;
	if (!(nv = realloc(p->v, (p->n + 1) * sizeof *nv)))
		return err_set(e, ERR_FAILED, "out of memory");
	p->v = nv;
	p->v[p->n++] = *up;
	return 0;
}

static int
found_part(void *arg, const struct s3_part *p, struct err *e)
{
	struct upload *u = arg;

	(void)e;
	if (p->number >= 1 && p->number <= u->nparts)
		u->found[p->number - 1] = *p;
	return 0;
}

/* An upload of this key that an earlier run left: the newest is taken up
 * again (its parts reused where their content matches), the others are
 * aborted. 0 with u->upload_id set when one is resumed, 1 when there is
 * none, -1 with e. */
static int
resume_pending(struct upload *u, struct err *e)
{
	struct pending p = { u->key, NULL, 0 };
	size_t newest = 0;
	struct err ae;

	if (s3_mpu_list(&u->o->s3, u->key, pending_one, &p, e) < 0) {
		free(p.v);
		return -1;
	}
	if (p.n == 0)
		return 1;
	for (size_t i = 1; i < p.n; i++)
		if (p.v[i].initiated > p.v[newest].initiated)
			newest = i;
	for (size_t i = 0; i < p.n; i++)
		if (i != newest && s3_mpu_abort(&u->o->s3, u->key, p.v[i].upload_id,
		    &ae) < 0)
			log_warn("offsite_abort_failed", "key=%s upload_id=%s "
			    "error=%s", logq(u->key), logq(p.v[i].upload_id),
			    logq(ae.msg));
	snprintf(u->upload_id, sizeof u->upload_id, "%s", p.v[newest].upload_id);
	free(p.v);
	if (!(u->found = calloc((size_t)u->nparts, sizeof *u->found)))
		return err_set(e, ERR_FAILED, "out of memory");
	if (s3_mpu_parts(&u->o->s3, u->key, u->upload_id, found_part, u, e) < 0) {
		/* Gone meanwhile, or unreadable: start afresh. */
		s3_mpu_abort(&u->o->s3, u->key, u->upload_id, &ae);
		free(u->found);
		u->found = NULL;
		u->upload_id[0] = '\0';
		err_clear(e);
		return 1;
	}
	return 0;
}

static int
upload_multipart(struct upload *u, struct err *e)
{
	pthread_t th[32];
	int nth = u->o->parallel < u->nparts ? u->o->parallel : u->nparts, made;
	int rc = resume_pending(u, e);

	if (rc < 0 || (rc == 1 && s3_mpu_create(&u->o->s3, u->key, u->upload_id,
	    e) < 0))
		return -1;
	log_info("offsite_multipart", "key=%s upload_id=%s parts=%d "
	    "part_size=%llu parallel=%d resumed=%s", logq(u->key),
	    logq(u->upload_id), u->nparts, (unsigned long long)u->part_size, nth,
	    rc == 0 ? "true" : "false");
	pthread_mutex_init(&u->mu, NULL);
	for (made = 0; made < nth && made < 32; made++)
		if (pthread_create(&th[made], NULL, part_worker, u) != 0)
			break;
	if (made == 0)
		part_worker(u);   /* no thread could be made: this one works */
	for (int i = 0; i < made; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&u->mu);
	if (u->reused)
		log_info("offsite_parts_reused", "key=%s parts=%d", logq(u->key),
		    u->reused);
	if (u->failed) {
		struct err ae;
		*e = u->err;
		/* Cancelled (an upload that gives way to another job): kept,
		 * to be taken up again from ListParts. */
		if (u->cancel && *u->cancel)
			return -1;
		/* Nothing half-made is left for the bill. */
		if (s3_mpu_abort(&u->o->s3, u->key, u->upload_id, &ae) < 0)
			log_warn("offsite_abort_failed", "key=%s upload_id=%s "
			    "error=%s", logq(u->key), logq(u->upload_id),
			    logq(ae.msg));
		return -1;
	}
	for (int try = 1;; try++) {
		if (s3_mpu_complete(&u->o->s3, u->key, u->upload_id, u->parts,
		    (size_t)u->nparts, e) == 0)
			return 0;
		if (try == TRIES || !s3_retryable(e))
			break;
		if (offsite_backoff(try, u->cancel) < 0)
			break;
	}
	struct err ae;
	s3_mpu_abort(&u->o->s3, u->key, u->upload_id, &ae);
	return -1;
}

/* A whole file (or buffer) in one PUT, tried again on what is worth it. */
static int
put_retrying(struct offsite *o, const char *key, const struct s3_body *body,
    volatile sig_atomic_t *cancel, char etag[S3_ETAG_MAX], struct err *e)
{
	for (int try = 1;; try++) {
		if (cancel && *cancel)
			return err_set(e, ERR_FAILED, "cancelled");
		if (s3_put(&o->s3, key, body, etag, e) == 0)
			return 0;
		if (try == TRIES || !s3_retryable(e))
			return -1;
		log_warn("offsite_retry", "key=%s try=%d error=%s", logq(key), try,
		    logq(e->msg));
		if (offsite_backoff(try, cancel) < 0)
			return err_set(e, ERR_FAILED, "cancelled");
	}
}

static int
upload_archive(struct upload *u, struct offsite_result *r, struct err *e)
{
	if (u->size <= u->o->part_size) {
		char sha[SHA256_HEX_LEN + 1], md5[32];
		unsigned char *buf = malloc(READ_BUF);
		struct s3_body body;
		int rc;

		if (!buf)
			return err_set(e, ERR_FAILED, "out of memory");
		rc = hash_range(u->fd, 0, u->size, sha, md5, NULL, buf, e);
		free(buf);
		if (rc < 0)
			return -1;
		memset(&body, 0, sizeof body);
		body.fd = u->fd;
		body.size = u->size;
		body.sha256 = sha;
		body.md5_b64 = md5;
		r->parts = 0;
		return put_retrying(u->o, u->key, &body, u->cancel, r->etag, e);
	}
	/* S3 allows 10,000 parts: larger parts for a larger archive. */
	u->part_size = u->o->part_size;
	if ((u->size + u->part_size - 1) / u->part_size > S3_PARTS_MAX)
		u->part_size = (u->size + S3_PARTS_MAX - 1) / S3_PARTS_MAX;
	u->nparts = (int)((u->size + u->part_size - 1) / u->part_size);
	if (!(u->parts = calloc((size_t)u->nparts, sizeof *u->parts)))
		return err_set(e, ERR_FAILED, "out of memory");
	r->parts = u->nparts;
	if (upload_multipart(u, e) < 0)
		return -1;
	r->reused = u->reused;
	return 0;
}

int
offsite_upload(struct offsite *o, const struct backup_info *b,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct offsite_result *r, struct err *e)
{
	char meta_key[S3_KEY_MAX], *meta = NULL;
	struct upload u;
	struct stat st;
	struct s3_body body;
	size_t meta_len = 0;
	double t0 = qb_mono_now();
	uint64_t remote_size = 0;
	int rc = -1;

	memset(r, 0, sizeof *r);
	memset(&u, 0, sizeof u);
	u.fd = -1;
	if (b->legacy || !b->meta_path[0])
		return err_set(e, ERR_BAD_REQUEST, "%s is a legacy backup without "
		    "metadata: it is not copied off-site", b->id);
	if (offsite_member_key(o, b->archive_name, r->archive_key, sizeof r->archive_key,
	    e) < 0 || offsite_member_key(o, b->meta_name, meta_key, sizeof meta_key,
	    e) < 0)
		return -1;
	/* The metadata as it is now: what the bucket will hold. */
	if (fs_read_file(b->meta_path, META_MAX, &meta, &meta_len, e) < 0)
		return -1;
	if ((u.fd = store_open_file(NULL, b, 0, &st, e)) < 0)
		goto out;
	o->s3.cancel = cancel;
	u.o = o;
	u.key = r->archive_key;
	u.size = (uint64_t)st.st_size;
	u.progress = progress;
	u.progress_arg = progress_arg;
	u.cancel = cancel;
	u.prog.bytes_total = u.size;
	log_info("offsite_upload_start", "id=%s key=%s size=%llu", b->id,
	    logq(u.key), (unsigned long long)u.size);
	if (upload_archive(&u, r, e) < 0)
		goto out;
	/* The metadata last: its presence in the bucket means complete. */
	memset(&body, 0, sizeof body);
	body.buf = meta;
	body.len = meta_len;
	body.fd = -1;
	if (put_retrying(o, meta_key, &body, cancel, NULL, e) < 0)
		goto out;
	/* What the bucket holds now: its size, and the ETag that Ceph's
	 * CompleteMultipartUpload reply leaves empty. */
	if (s3_head(&o->s3, r->archive_key, &remote_size, r->etag, e) < 0)
		goto out;
	if (remote_size != u.size) {
		err_set(e, ERR_OFFSITE, "s3://%s/%s is %llu bytes after the upload, "
		    "the archive %llu", o->s3.bucket, r->archive_key,
		    (unsigned long long)remote_size, (unsigned long long)u.size);
		goto out;
	}
	r->size = u.size;
	r->seconds = qb_mono_now() - t0;
	log_info("offsite_upload_done", "id=%s key=%s size=%llu parts=%d "
	    "etag=%s seconds=%.3f", b->id, logq(r->archive_key),
	    (unsigned long long)r->size, r->parts, logq(r->etag), r->seconds);
	rc = 0;
out:
	if (u.fd >= 0)
		close(u.fd);
	free(u.parts);
	free(u.found);
	free(meta);
	return rc;
}

int
offsite_record(const struct store *s, const struct backup_info *b,
    const struct offsite *o, const struct offsite_result *r,
    const struct err *fail, struct err *e)
{
	char when[32];
	json_t *meta = store_load_meta(b, e), *rec;
	int rc;

	if (!meta)
		return -1;
	store_format_time(time(NULL), when, sizeof when);
	if (r)
		rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "state",
		    "uploaded", "bucket", o->s3.bucket, "key", r->archive_key,
		    "etag", r->etag, "size", (json_int_t)r->size, "uploaded", when);
	else
		rec = json_pack("{s:s, s:s, s:s, s:s}", "state", "failed", "bucket",
		    o->s3.bucket, "error", fail ? fail->msg : "", "at", when);
	json_object_set_new(meta, "offsite", rec);
	rc = json_write_fileat(s->dirfd, b->meta_name, b->meta_path, meta, 0600,
	    e);
	json_decref(meta);
	return rc;
}

/* The time an "uploaded" or "at" field spells, 0 when none. */
static time_t
record_time(const json_t *rec, const char *field)
{
	const char *v = json_get_str(rec, field);
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (!v || !strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return timegm(&tm);
}

int
offsite_local_state(const struct agent_conf *cf, time_t *last_success,
    json_t **failed, struct err *e)
{
	struct backup_info *list = NULL;
	size_t n = 0, window;
	struct store s;

	*last_success = 0;
	if (failed)
		*failed = NULL;
	if (store_open(&s, cf->backup_dir, cf->member, 0, e) < 0)
		return -1;
	if (store_list(&s, &list, &n, e) < 0) {
		store_close(&s);
		return -1;
	}
	if (failed && !(*failed = json_array())) {
		free(list);
		store_close(&s);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	/* Failed copies worth a retry: those remote retention would keep. */
	window = cf->offsite_keep_last > 0 &&
	    (size_t)cf->offsite_keep_last < n ? (size_t)cf->offsite_keep_last : n;
	for (size_t i = 0; i < n; i++) {
		struct err ie;
		json_t *sum, *rec;
		const char *state;
		time_t t;

		if (list[i].legacy)
			continue;
		err_clear(&ie);
		if (!(sum = store_summary(&s, &list[i], &ie)))
			continue;   /* unreadable: verify and list say so */
		rec = json_object_get(sum, "offsite");
		state = json_get_str(rec, "state");
		if (state && strcmp(state, "uploaded") == 0) {
			t = record_time(rec, "uploaded");
			if (t > *last_success)
				*last_success = t;
		} else if (state && strcmp(state, "failed") == 0 && failed &&
		    i < window) {
			json_array_append_new(*failed, json_string(list[i].id));
		}
		json_decref(sum);
	}
	free(list);
	store_close(&s);
	return 0;
}

int
offsite_copy(const struct agent_conf *cf, const char *id,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct offsite_result *r, json_t **pruned, struct err *e)
{
	struct backup_info b;
	struct offsite o;
	struct store s;
	struct err re;
	int rc, found;

	if (pruned)
		*pruned = NULL;
	if (offsite_open(cf, &o, e) < 0)
		return -1;
	/* The store lock for the whole upload: retention cannot delete the
	 * backup meanwhile. */
	if (store_open(&s, cf->backup_dir, cf->member, 0, e) < 0 ||
	    store_lock(&s, e) < 0) {
		store_close(&s);
		offsite_close(&o);
		return -1;
	}
	found = store_find(&s, id ? id : "latest", &b, e) == 0;
	rc = found ? offsite_upload(&o, &b, progress, progress_arg, cancel, r,
	    e) : -1;
	if (rc == 0) {
		snprintf(r->id, sizeof r->id, "%s", b.id);
		snprintf(r->bucket, sizeof r->bucket, "%s", o.s3.bucket);
		rc = offsite_record(&s, &b, &o, r, NULL, e);
	} else if (found && !(cancel && *cancel)) {
		err_clear(&re);
		if (offsite_record(&s, &b, &o, NULL, e, &re) < 0)
			log_warn("offsite_record_failed", "id=%s error=%s", b.id,
			    logq(re.msg));
	}
	store_close(&s);
	if (rc == 0) {
		/* Remote retention after each copy; its failure is logged, not
		 * fatal: the copy is made. */
		json_t *aborted = NULL;
		size_t kept;

		err_clear(&re);
		if (offsite_prune(&o, cf->offsite_keep_last, cf->offsite_keep_days,
		    0, pruned, &aborted, &kept, &re) < 0)
			log_warn("offsite_prune_failed", "error=%s", logq(re.msg));
		json_decref(aborted);
	}
	offsite_close(&o);
	return rc;
}
