#include "config.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "age.h"
#include "clock.h"
#include "hashes.h"
#include "json.h"
#include "log.h"
#include "reader.h"
#include "verify.h"

struct meta_check {
	const json_t *meta;
	const json_t *entries;    /* NULL: legacy, structure only */
	size_t next;
	const json_t *cur;        /* metadata of the current entry */
	char cur_path[4096];
	int hashing;
	struct filehash *fh;
	uint64_t data;            /* bytes of the current entry */
	int keyed;                /* FILE_HASH_KEYED_ALGO: needs the key */
	int have_key;
	unsigned char key[FILEHASH_KEY_SIZE];
};

struct meta_check *
meta_check_new(const json_t *meta, struct err *e)
{
	struct meta_check *c = calloc(1, sizeof *c);

	if (!c || !(c->fh = filehash_new())) {
		free(c);
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	c->meta = meta;
	if (meta) {
		const char *algo = json_get_str(meta, "file_hash");
		c->entries = json_object_get(meta, "entries");
		c->keyed = algo && strcmp(algo, FILE_HASH_KEYED_ALGO) == 0;
		if (!json_is_array(c->entries) || !algo ||
		    (!c->keyed && strcmp(algo, FILE_HASH_ALGO) != 0)) {
			meta_check_free(c);
			err_set(e, ERR_VERIFY, "metadata has no entry list or an "
			    "unknown file hash");
			return NULL;
		}
	}
	return c;
}

int
meta_check_keyed(const struct meta_check *c)
{
	return c->keyed;
}

void
meta_check_set_key(struct meta_check *c,
    const unsigned char key[FILEHASH_KEY_SIZE])
{
	memcpy(c->key, key, sizeof c->key);
	c->have_key = 1;
}

void
meta_check_free(struct meta_check *c)
{
	if (!c)
		return;
	filehash_free(c->fh);
	sodium_memzero(c->key, sizeof c->key);
	free(c);
}

/* The metadata path of an entry: "path", or "path_hex" for names that are
 * not UTF-8. */
static int
meta_path(const json_t *je, const char *key, char *out, size_t size)
{
	char hexkey[32];
	const char *s = json_get_str(je, key);

	if (s) {
		if (strlen(s) >= size)
			return -1;
		strcpy(out, s);
		return 0;
	}
	snprintf(hexkey, sizeof hexkey, "%s_hex", key);
	s = json_get_str(je, hexkey);
	if (!s || strlen(s) % 2 || strlen(s) / 2 >= size)
		return -1;
	size_t n = strlen(s) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (char)v;
	}
	out[n] = '\0';
	return 0;
}

static const char *
entry_type(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return "hardlink";
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG: return "file";
	case AE_IFDIR: return "dir";
	case AE_IFLNK: return "symlink";
	default: return "special";
	}
}

int
meta_check_header(struct meta_check *c, struct archive_entry *ae,
    struct err *e)
{
	const char *p = archive_entry_pathname(ae);
	const char *type = entry_type(ae);
	char want[4096];
	size_t len;

	if (!p)
		return err_set(e, ERR_VERIFY, "entry %zu has no path", c->next + 1);
	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		len--;
	if (len >= sizeof c->cur_path)
		return err_set(e, ERR_VERIFY, "entry %zu: path too long",
		    c->next + 1);
	memcpy(c->cur_path, p, len);
	c->cur_path[len] = '\0';
	c->data = 0;
	c->hashing = strcmp(type, "file") == 0;
	filehash_reset(c->fh);
	if (!c->entries) {
		c->next++;
		return 0;
	}
	c->cur = json_array_get(c->entries, c->next);
	if (!c->cur)
		return err_set(e, ERR_VERIFY, "%s: entry %zu is not in the "
		    "metadata (it lists %zu)", c->cur_path, c->next + 1,
		    json_array_size(c->entries));
	c->next++;
	if (meta_path(c->cur, "path", want, sizeof want) < 0 ||
	    strcmp(want, c->cur_path) != 0)
		return err_set(e, ERR_VERIFY, "%s: entry %zu should be %s",
		    c->cur_path, c->next, want);
	const char *wtype = json_get_str(c->cur, "type");
	if (!wtype || strcmp(wtype, type) != 0)
		return err_set(e, ERR_VERIFY, "%s: type is %s, metadata says %s",
		    c->cur_path, type, wtype ? wtype : "nothing");
	if (c->hashing) {
		long long size = json_get_u(c->cur, "size");
		if (size < 0 || !archive_entry_size_is_set(ae) ||
		    archive_entry_size(ae) != size)
			return err_set(e, ERR_VERIFY, "%s: size %lld, metadata "
			    "says %lld", c->cur_path,
			    (long long)archive_entry_size(ae), size);
	}
	if (strcmp(type, "symlink") == 0 || strcmp(type, "hardlink") == 0) {
		const char *t = strcmp(type, "symlink") == 0 ?
		    archive_entry_symlink(ae) : archive_entry_hardlink(ae);
		if (meta_path(c->cur, "target", want, sizeof want) < 0 || !t ||
		    strcmp(t, want) != 0)
			return err_set(e, ERR_VERIFY, "%s: link target differs "
			    "from the metadata", c->cur_path);
	}
	return 0;
}

void
meta_check_data(struct meta_check *c, const void *buf, size_t n)
{
	if (c->hashing)
		filehash_update(c->fh, buf, n);
	c->data += n;
}

int
meta_check_entry_end(struct meta_check *c, struct err *e)
{
	char got[KEYED_HASH_STR_LEN + 1], plain[FILEHASH_STR_LEN + 1];
	const char *want;

	if (!c->hashing || !c->entries)
		return 0;
	filehash_final(c->fh, plain);
	if (!c->keyed)
		snprintf(got, sizeof got, "%s", plain);
	else if (!c->have_key)
		return err_set(e, ERR_VERIFY, "%s: the archive holds no manifest "
		    "with the key of its keyed hashes", c->cur_path);
	else if (filehash_keyed(c->key, plain, got) < 0)
		return err_set(e, ERR_FAILED, "HMAC-SHA-256 failed");
	want = json_get_str(c->cur, "hash");
	if (!want || strcmp(want, got) != 0)
		return err_set(e, ERR_VERIFY, "%s: content hash %s, metadata "
		    "says %s", c->cur_path, got, want ? want : "nothing");
	return 0;
}

int
meta_check_finish(struct meta_check *c, const char *sha256, uint64_t size,
    struct err *e)
{
	const json_t *ar;
	const char *want;

	if (!c->entries)
		return 0;
	if (c->next != json_array_size(c->entries))
		return err_set(e, ERR_VERIFY, "archive ends after %zu entries, "
		    "metadata lists %zu (next: %s)", c->next,
		    json_array_size(c->entries),
		    json_get_str(json_array_get(c->entries, c->next), "path") ?
		    json_get_str(json_array_get(c->entries, c->next), "path") :
		    "?");
	ar = json_object_get(c->meta, "archive");
	want = json_get_str(ar, "sha256");
	if (json_get_u(ar, "size") != (long long)size)
		return err_set(e, ERR_VERIFY, "archive is %llu bytes, metadata "
		    "says %lld", (unsigned long long)size, json_get_u(ar, "size"));
	if (!want || strcmp(want, sha256) != 0)
		return err_set(e, ERR_VERIFY, "archive SHA-256 is %s, metadata "
		    "says %s", sha256, want ? want : "nothing");
	return 0;
}

/* The fingerprints in meta's "encryption": "a, b" into buf ("" if none). */
static void
fingerprints_listed(const json_t *meta, char *buf, size_t size)
{
	const json_t *fps = json_object_get(json_object_get(meta, "encryption"),
	    "recipients");
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(fps) && used < size; i++) {
		const char *fp = json_string_value(json_array_get(fps, i));
		if (fp)
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
			    used ? ", " : "", fp);
	}
}

int
backup_identity_check(const struct backup_info *b, const json_t *meta,
    int *listed, struct err *e)
{
	const json_t *fps = json_object_get(json_object_get(meta, "encryption"),
	    "recipients");
	char want[1200], have[1200];
	size_t used = 0;

	*listed = 0;
	if (!b->encrypted)
		return 0;
	fingerprints_listed(meta, want, sizeof want);
	if (b->n_ids == 0)
		return err_set(e, ERR_NO_IDENTITY, "%s is encrypted with age%s%s: "
		    "set [encryption] identity_file to the identity of %s",
		    b->archive_path, want[0] ? " to " : "", want,
		    want[0] ? "one of these recipients (fingerprints)" :
		    "a recipient it was encrypted to");
	if (json_array_size(fps) == 0)
		return 0;   /* not recorded: the header decides */
	have[0] = '\0';
	for (size_t i = 0; i < b->n_ids; i++) {
		struct age_recipient rc;
		char fp[AGE_FINGERPRINT_LEN + 1];

		age_recipient_of(&b->ids[i], &rc);
		age_recipient_fingerprint(&rc, fp);
		for (size_t j = 0; j < json_array_size(fps); j++) {
			const char *w = json_string_value(json_array_get(fps, j));
			if (w && strcmp(w, fp) == 0) {
				*listed = 1;
				return 0;
			}
		}
		if (used < sizeof have)
			used += (size_t)snprintf(have + used, sizeof have - used,
			    "%s%s", used ? ", " : "", fp);
	}
	return err_set(e, ERR_WRONG_IDENTITY, "%s is encrypted with age to %s; "
	    "the identity file holds %s: none of them opens it", b->archive_path,
	    want, have);
}

/* The manifest, the first entry of a backup whose hashes are keyed: the
 * key goes to mc. 0, or -1 with e. */
static int
read_manifest(struct reader *r, struct archive_entry *ae,
    const struct backup_info *b, const json_t *meta, struct meta_check *mc,
    struct err *e)
{
	char buf[ARCHIVE_MANIFEST_MAX + 1];
	unsigned char key[FILEHASH_KEY_SIZE];
	const char *p = archive_entry_pathname(ae), *hex, *id;
	size_t got = 0, keylen = 0;
	json_t *j;
	int rc = -1;

	if (!p || strcmp(p, ARCHIVE_MANIFEST) != 0 ||
	    archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae) ||
	    archive_entry_size(ae) > ARCHIVE_MANIFEST_MAX)
		return err_set(e, ERR_VERIFY, "%s: the first entry is %s, not the "
		    "manifest %s that holds the key of the metadata's keyed hashes",
		    b->archive_path, p ? p : "nameless", ARCHIVE_MANIFEST);
	for (;;) {
		la_ssize_t n = archive_read_data(reader_archive(r), buf + got,
		    sizeof buf - 1 - got);
		if (n < 0) {
			if (reader_error(r)->code != ERR_OK)
				*e = *reader_error(r);
			else
				err_set(e, ERR_VERIFY, "%s: manifest: %s",
				    b->archive_path,
				    archive_error_string(reader_archive(r)));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got >= sizeof buf - 1) {
			err_set(e, ERR_VERIFY, "%s: the manifest is over %u bytes",
			    b->archive_path, ARCHIVE_MANIFEST_MAX);
			goto out;
		}
	}
	buf[got] = '\0';
	j = json_loads(buf, 0, NULL);
	hex = json_get_str(j, "hash_key");
	id = json_get_str(j, "backup");
	if (!hex || sodium_hex2bin(key, sizeof key, hex, strlen(hex), NULL,
	    &keylen, NULL) != 0 || keylen != sizeof key)
		err_set(e, ERR_VERIFY, "%s: the manifest holds no hash key",
		    b->archive_path);
	else if (!id || !json_get_str(meta, "id") ||
	    strcmp(id, json_get_str(meta, "id")) != 0)
		err_set(e, ERR_VERIFY, "%s: the manifest is of backup %s, the "
		    "metadata of %s", b->archive_path, id ? id : "(none)",
		    json_get_str(meta, "id") ? json_get_str(meta, "id") : "(none)");
	else {
		meta_check_set_key(mc, key);
		rc = 0;
	}
	json_decref(j);
out:
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(key, sizeof key);
	return rc;
}

/* n more bytes read: progress every 8 MiB, and the cancel flag. 0, or -1
 * with e when cancelled. */
static int
advance(struct progress *prog, size_t n, uint64_t *next_report,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct err *e)
{
	prog->bytes_done += n;
	if (progress && prog->bytes_done >= *next_report) {
		*next_report = prog->bytes_done + (8u << 20);
		progress(prog, progress_arg);
	}
	if (cancel && *cancel)
		return err_set(e, ERR_FAILED, "cancelled");
	return 0;
}

int
verify_stored(const struct backup_info *b, progress_fn progress,
    void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e)
{
	struct progress prog;
	struct sha256 *h = NULL;
	struct stat st;
	json_t *meta = NULL;
	const json_t *ar;
	const char *want;
	char *buf = NULL;
	uint64_t next_report = 0;
	double t0 = qb_mono_now();
	int fd = -1, rc = -1;

	memset(res, 0, sizeof *res);
	memset(&prog, 0, sizeof prog);
	if (b->legacy || !(b->meta_name[0] || b->meta_path[0]))
		return err_set(e, ERR_BAD_REQUEST, "%s has no metadata, so no "
		    "recorded SHA-256 to check the stored file against: verify it "
		    "in full", b->archive_path);
	if (!(meta = store_load_meta(b, e)))
		return -1;
	ar = json_object_get(meta, "archive");
	want = json_get_str(ar, "sha256");
	if ((fd = store_open_file(NULL, b, 0, &st, e)) < 0)
		goto out;
	if (json_get_u(ar, "size") != (long long)st.st_size) {
		err_set(e, ERR_VERIFY, "%s is %lld bytes, metadata says %lld",
		    b->archive_path, (long long)st.st_size, json_get_u(ar, "size"));
		goto out;
	}
	if (!(h = sha256_new()) || !(buf = malloc(1u << 20))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	prog.bytes_total = (uint64_t)st.st_size;
	for (;;) {
		ssize_t n = read(fd, buf, 1u << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, ERR_FAILED, "read %s", b->archive_path);
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(h, buf, (size_t)n);
		if (advance(&prog, (size_t)n, &next_report, progress,
		    progress_arg, cancel, e) < 0)
			goto out;
	}
	sha256_final_hex(h, res->sha256);
	if (prog.bytes_done != (uint64_t)st.st_size) {
		err_set(e, ERR_VERIFY, "%s changed size while it was read",
		    b->archive_path);
		goto out;
	}
	if (!want || strcmp(want, res->sha256) != 0) {
		err_set(e, ERR_VERIFY, "%s: SHA-256 is %s, metadata says %s",
		    b->archive_path, res->sha256, want ? want : "nothing");
		goto out;
	}
	res->size = (uint64_t)st.st_size;
	res->files = (uint64_t)json_get_u(meta, "files");
	res->bytes = (uint64_t)json_get_u(meta, "bytes");
	res->seconds = qb_mono_now() - t0;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	sha256_free(h);
	json_decref(meta);
	return rc;
}

int
verify_backup(const struct backup_info *b, progress_fn progress,
    void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e)
{
	return backup_walk(b, NULL, progress, progress_arg, cancel, res, e);
}

/* The archive to read: a regular file, opened without following a link
 * or waiting on a FIFO that someone put in its place; or the stream of an
 * archive source (st gets only its size). The fd, or -1 with e. */
static int
walk_open(const struct backup_info *b, struct stat *st, struct err *e)
{
	uint64_t size = 0;
	int fd;

	if (!b->source)
		return store_open_file(NULL, b, 0, st, e);
	memset(st, 0, sizeof *st);
	if ((fd = b->source->open(b->source->arg, &size, e)) < 0)
		return -1;
	st->st_size = (off_t)size;
	return fd;
}

/* b's metadata into *meta (NULL for a legacy backup, or an archive given
 * by its path with no metadata beside it: the structure only), checked
 * against the file's size (st); the totals into prog. 0, or -1 with e. */
static int
walk_meta(const struct backup_info *b, const struct stat *st, json_t **meta,
    struct progress *prog, struct err *e)
{
	long long want;

	*meta = NULL;
	if (b->source && b->source->meta)
		*meta = json_incref(b->source->meta);
	else if (b->legacy || !(b->meta_name[0] || b->meta_path[0]))
		return 0;
	else if (!(*meta = store_load_meta(b, e)))
		return -1;
	want = json_get_u(json_object_get(*meta, "archive"), "size");
	if (want != (long long)st->st_size)
		return err_set(e, ERR_VERIFY, "%s is %lld bytes, metadata says "
		    "%lld", b->archive_path, (long long)st->st_size, want);
	prog->bytes_total = (uint64_t)json_get_u(*meta, "bytes");
	prog->files_total = (uint64_t)json_get_u(*meta, "files");
	return 0;
}

int
backup_walk(const struct backup_info *b, const struct entry_visitor *v,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e)
{
	double t0;
	struct progress prog;
	struct meta_check *mc = NULL;
	struct reader *r = NULL;
	struct archive_entry *ae;
	json_t *meta = NULL;
	struct stat st;
	uint64_t next_report = 0;
	int fd, rc = -1, listed = 0, first = 1;

	memset(res, 0, sizeof *res);
	memset(&prog, 0, sizeof prog);
	t0 = qb_mono_now();
	if ((fd = walk_open(b, &st, e)) < 0)
		return -1;
	if (walk_meta(b, &st, &meta, &prog, e) < 0 ||
	    backup_identity_check(b, meta, &listed, e) < 0)
		goto out;
	if (!(mc = meta_check_new(meta, e)))
		goto out;
	r = reader_open(fd, b->archive_path, b->legacy ? READER_GZIP :
	    READER_ZSTD, b->encrypted ? b->ids : NULL, b->encrypted ? b->n_ids :
	    0, e);
	fd = -1;   /* the reader's now, also when it failed */
	if (!r)
		goto out;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int ar = archive_read_next_header(reader_archive(r), &ae);

		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			goto archive_error;
		if (first && meta_check_keyed(mc)) {
			first = 0;
			if (read_manifest(r, ae, b, meta, mc, e) < 0)
				goto out;
			continue;
		}
		first = 0;
		if (meta_check_header(mc, ae, e) < 0)
			goto out;
		if (v && v->begin && v->begin(v->ctx, ae, e) < 0)
			goto out;
		while ((ar = archive_read_data_block(reader_archive(r), &buf, &len,
		    &off)) == ARCHIVE_OK) {
			meta_check_data(mc, buf, len);
			if (v && v->data && v->data(v->ctx, buf, len, off, e) < 0)
				goto out;
			if (advance(&prog, len, &next_report, progress,
			    progress_arg, cancel, e) < 0)
				goto out;
		}
		if (ar != ARCHIVE_EOF)
			goto archive_error;
		if (meta_check_entry_end(mc, e) < 0)
			goto out;
		if (v && v->end && v->end(v->ctx, ae, e) < 0)
			goto out;
		prog.files_done++;
		res->files++;
	}
	if (reader_finish(r, res->sha256, e) < 0)
		goto out;
	if (meta_check_finish(mc, res->sha256, (uint64_t)st.st_size, e) < 0)
		goto out;
	res->bytes = prog.bytes_done;
	res->size = (uint64_t)st.st_size;
	res->seconds = qb_mono_now() - t0;
	rc = 0;
	goto out;
archive_error:
	if (reader_error(r)->code != ERR_OK)
		*e = *reader_error(r);
	else
		err_set(e, ERR_VERIFY, "%s: tar structure is damaged after %llu "
		    "entries, near compressed byte %llu: %s", b->archive_path,
		    (unsigned long long)res->files,
		    (unsigned long long)reader_offset(r),
		    archive_error_string(reader_archive(r)));
out:
	/* An identity the metadata lists that no stanza opens: the header
	 * was damaged or replaced. */
	if (rc < 0 && listed && e->code == ERR_WRONG_IDENTITY)
		err_set(e, ERR_VERIFY, "%s: no recipient stanza opens with the "
		    "identity whose recipient the metadata lists: the file is "
		    "corrupt or was replaced (%s)", b->archive_path, e->msg);
	if (fd >= 0)
		close(fd);
	reader_free(r);
	if (b->source) {
		/* The fetch's own failure says more than the stream's end. */
		struct err fe;
		err_clear(&fe);
		if (b->source->finish(b->source->arg, &fe) < 0) {
			if (rc == 0 || fe.code != ERR_OK)
				*e = fe;
			rc = -1;
		}
	}
	meta_check_free(mc);
	json_decref(meta);
	return rc;
}
