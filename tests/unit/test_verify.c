/* Unit tests of agent/engine/verify: a backup the archiver made verifies,
 * with its counts, size and SHA-256; every byte of its archive flipped in
 * turn, a truncated archive, data after the tar, and metadata that
 * disagrees with it (a content hash, a size, a path, a type, a link
 * target, one entry fewer or more, the archive's size or SHA-256, the file
 * hash algorithm) are each refused with ERR_VERIFY naming the mismatch. A
 * legacy gzip backup is checked for its structure. backup_walk hands each
 * entry to a visitor, only after its header matched, and the visitor's
 * error ends the pass; progress and cancellation. An encrypted backup
 * verifies with the identity of its recipient (its manifest not counted
 * as an entry); without one it is ERR_NO_IDENTITY, with another's
 * ERR_WRONG_IDENTITY, with an identity the metadata lists but no stanza
 * opens ERR_VERIFY; its keyed hashes are checked with the manifest's key,
 * and a manifest of another backup or metadata that claims plain hashes
 * is refused. verify_stored checks the stored file with no key. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "testutil.h"
#include "age.h"
#include "archiver.h"
#include "err.h"
#include "hashes.h"
#include "log.h"
#include "store.h"
#include "verify.h"

/* ---- fixtures ------------------------------------------------------- */

static struct store store;
static struct backup_info backup;   /* the fixture's backup */

#define TREE_FILES 4
#define TREE_BYTES (6 + 10)

/* Identities: the fixture's encrypted backup is to ids[0]'s recipient. */
static struct age_identity ids[2];

/* tmp/data (a.txt, dir/, dir/b.txt, link -> a.txt), archived into the
 * store in tmp/backups/member1 (encrypted to ids[0] when rs is not NULL);
 * backup names it. */
static void
make_backup(const struct age_recipient *rs)
{
	struct archive_opts o;
	struct archive_result r;
	struct err e;

	tmp_setup();
	ck_assert_int_eq(mkdir(tmp_path("data"), 0755), 0);
	put_file(tmp_path("data/a.txt"), "alpha\n", 6, 0600);
	ck_assert_int_eq(mkdir(tmp_path("data/dir"), 0700), 0);
	put_file(tmp_path("data/dir/b.txt"), "beta beta\n", 10, 0644);
	ck_assert_int_eq(symlink("a.txt", tmp_path("data/link")), 0);
	ck_assert_int_eq(mkdir(tmp_path("backups"), 0700), 0);
	ck_assert_msg(store_open(&store, tmp_path("backups"), 1, 1, &e) == 0,
	    "%s", e.msg);
	ck_assert_msg(store_lock(&store, &e) == 0, "%s", e.msg);
	memset(&o, 0, sizeof o);
	o.data_dir = tmp_path("data");
	o.store = &store;
	o.level = 3;
	o.threads = 1;
	o.recipients = rs;
	o.n_recipients = rs ? 1 : 0;
	ck_assert_msg(archive_create(&o, &r, &e) == 0, "%s", e.msg);
	json_decref(r.warnings);
	ck_assert_msg(store_find(&store, r.id, &backup, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(backup.encrypted, rs != NULL);
}

static void
setup(void)
{
	make_backup(NULL);
}

static void
enc_setup(void)
{
	struct age_recipient r;
	struct err e;

	for (int i = 0; i < 2; i++)
		ck_assert_msg(age_keygen(&ids[i], NULL, &e) == 0, "%s", e.msg);
	age_recipient_of(&ids[0], &r);
	make_backup(&r);
	backup.ids = &ids[0];
	backup.n_ids = 1;
}

static void
teardown(void)
{
	store_close(&store);
	tmp_teardown();
}

static json_t *
meta_load(void)
{
	json_error_t je;
	json_t *m = json_load_file(backup.meta_path, 0, &je);

	ck_assert_msg(m != NULL, "%s: %s", backup.meta_path, je.text);
	return m;
}

/* Write m (taken) over the backup's metadata. */
static void
meta_save(json_t *m)
{
	ck_assert_int_eq(json_dump_file(m, backup.meta_path, JSON_INDENT(1)), 0);
	json_decref(m);
}

static json_t *
meta_entry(json_t *m, size_t i)
{
	json_t *je = json_array_get(json_object_get(m, "entries"), i);

	ck_assert_ptr_nonnull(je);
	return je;
}

/* verify_backup refuses the backup: ERR_VERIFY, and what in the message. */
static void
assert_refused(const char *what)
{
	struct verify_result res;
	struct err e;

	err_clear(&e);
	ck_assert_int_eq(verify_backup(&backup, NULL, NULL, NULL, &res, &e), -1);
	ck_assert_msg(e.code == ERR_VERIFY, "code %d: %s", e.code, e.msg);
	ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' not in '%s'", what,
	    e.msg);
}

/* ---- good backups --------------------------------------------------- */

START_TEST(test_verify)
{
	struct verify_result res;
	struct stat st;
	struct err e;
	json_t *m = meta_load();

	ck_assert_msg(verify_backup(&backup, NULL, NULL, NULL, &res, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(res.files, TREE_FILES);
	ck_assert_uint_eq(res.bytes, TREE_BYTES);
	ck_assert_int_eq(stat(backup.archive_path, &st), 0);
	ck_assert_uint_eq(res.size, (uint64_t)st.st_size);
	ck_assert_str_eq(res.sha256, json_string_value(json_object_get(
	    json_object_get(m, "archive"), "sha256")));
	ck_assert(res.seconds >= 0);
	json_decref(m);
}
END_TEST

/* The seed's .tar.gz has no metadata: its structure is checked. */
START_TEST(test_legacy)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct verify_result res;
	struct backup_info b;
	char path[4400];
	struct err e;
	size_t len;
	char *gz;

	snprintf(path, sizeof path, "%s/seed.tar.gz", store.dir);
	archive_write_set_format_pax(a);
	archive_write_add_filter_gzip(a);
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_copy_pathname(ae, "keystore");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0600);
	archive_entry_set_size(ae, 5);
	ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_data(a, "keys\n", 5), 5);
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);

	ck_assert_msg(store_find(&store, "seed.tar.gz", &b, &e) == 0, "%s",
	    e.msg);
	ck_assert(b.legacy);
	ck_assert_msg(verify_backup(&b, NULL, NULL, NULL, &res, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(res.files, 1);
	ck_assert_uint_eq(res.bytes, 5);
	/* its CRC-32, eight bytes from the end */
	gz = slurp(path, &len);
	gz[len - 8] ^= 0x10;
	put_file(path, gz, len, 0600);
	free(gz);
	ck_assert_int_eq(verify_backup(&b, NULL, NULL, NULL, &res, &e), -1);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_msg(strstr(e.msg, "gzip error") != NULL, "%s", e.msg);
}
END_TEST

/* ---- the archive damaged -------------------------------------------- */

/* Whichever byte is flipped, the backup is refused as corrupt. */
START_TEST(test_flipped_bytes)
{
	struct verify_result res;
	struct err e;
	size_t len;
	char *orig = slurp(backup.archive_path, &len);

	ck_assert_uint_gt(len, 100);
	for (size_t i = 0; i < len; i++) {
		orig[i] ^= 0x04;
		put_file(backup.archive_path, orig, len, 0600);
		orig[i] ^= 0x04;
		err_clear(&e);
		ck_assert_msg(verify_backup(&backup, NULL, NULL, NULL, &res, &e) ==
		    -1, "byte %zu flipped: verified", i);
		ck_assert_msg(e.code == ERR_VERIFY, "byte %zu flipped: code %d: %s",
		    i, e.code, e.msg);
	}
	put_file(backup.archive_path, orig, len, 0600);
	ck_assert_int_eq(verify_backup(&backup, NULL, NULL, NULL, &res, &e), 0);
	free(orig);
}
END_TEST

START_TEST(test_truncated)
{
	size_t len;
	char *orig = slurp(backup.archive_path, &len);

	put_file(backup.archive_path, orig, len - 1, 0600);
	assert_refused("metadata says");
	free(orig);
}
END_TEST

/* A frame of something else appended, and metadata that records the
 * longer file: every entry matches, what follows the tar does not pass. */
START_TEST(test_data_after_tar)
{
	static const char junk[] = "appended after the trailer";
	char hex[SHA256_HEX_LEN + 1];
	size_t len, n, cap;
	struct sha256 *h;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	char *z = slurp(backup.archive_path, &len);
	json_t *m, *ar;

	cap = len + ZSTD_compressBound(sizeof junk);
	z = realloc(z, cap);
	ck_assert_ptr_nonnull(z);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	n = ZSTD_compress2(c, z + len, cap - len, junk, sizeof junk);
	ck_assert(!ZSTD_isError(n));
	ZSTD_freeCCtx(c);
	len += n;
	put_file(backup.archive_path, z, len, 0600);
	h = sha256_new();
	sha256_update(h, z, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	free(z);
	m = meta_load();
	ar = json_object_get(m, "archive");
	json_object_set_new(ar, "size", json_integer((json_int_t)len));
	json_object_set_new(ar, "sha256", json_string(hex));
	meta_save(m);
	assert_refused("data after the end of the tar archive");
}
END_TEST

/* ---- the metadata disagrees ----------------------------------------- */

START_TEST(test_meta_hash)
{
	json_t *m = meta_load();

	json_object_set_new(meta_entry(m, 0), "hash",
	    json_string("xxh3-128:00000000000000000000000000000000"));
	meta_save(m);
	assert_refused("a.txt: content hash xxh3-128:");
}
END_TEST

START_TEST(test_meta_size)
{
	json_t *m = meta_load();

	json_object_set_new(meta_entry(m, 2), "size", json_integer(11));
	meta_save(m);
	assert_refused("dir/b.txt: size 10, metadata says 11");
}
END_TEST

START_TEST(test_meta_path)
{
	json_t *m = meta_load();

	json_object_set_new(meta_entry(m, 0), "path", json_string("b.txt"));
	meta_save(m);
	assert_refused("a.txt: entry 1 should be b.txt");
}
END_TEST

START_TEST(test_meta_type)
{
	json_t *m = meta_load();

	json_object_set_new(meta_entry(m, 1), "type", json_string("file"));
	meta_save(m);
	assert_refused("dir: type is dir, metadata says file");
}
END_TEST

START_TEST(test_meta_target)
{
	json_t *m = meta_load();

	json_object_set_new(meta_entry(m, 3), "target", json_string("dir"));
	meta_save(m);
	assert_refused("link: link target differs");
}
END_TEST

START_TEST(test_meta_fewer)
{
	json_t *m = meta_load();

	json_array_remove(json_object_get(m, "entries"), 3);
	meta_save(m);
	assert_refused("link: entry 4 is not in the metadata (it lists 3)");
}
END_TEST

START_TEST(test_meta_more)
{
	json_t *m = meta_load();

	json_array_append_new(json_object_get(m, "entries"),
	    json_pack("{s:s, s:s}", "path", "extra", "type", "dir"));
	meta_save(m);
	assert_refused("archive ends after 4 entries, metadata lists 5 (next: "
	    "extra)");
}
END_TEST

/* The archive read whole and right, but not the one recorded. */
START_TEST(test_meta_sha256)
{
	json_t *m = meta_load();

	json_object_set_new(json_object_get(m, "archive"), "sha256",
	    json_string("00000000000000000000000000000000"
	    "00000000000000000000000000000000"));
	meta_save(m);
	assert_refused("archive SHA-256 is ");
}
END_TEST

START_TEST(test_meta_algo)
{
	json_t *m = meta_load();

	json_object_set_new(m, "file_hash", json_string("md5"));
	meta_save(m);
	assert_refused("unknown file hash");
}
END_TEST

START_TEST(test_meta_archive_size)
{
	json_t *m = meta_load();
	json_t *ar = json_object_get(m, "archive");

	json_object_set_new(ar, "size", json_integer(json_integer_value(
	    json_object_get(ar, "size")) + 1));
	meta_save(m);
	assert_refused("metadata says");
}
END_TEST

/* ---- walks ---------------------------------------------------------- */

struct visits {
	char log[1024];
	const char *fail_at;       /* begin fails for this path */
};

static int
v_begin(void *ctx, struct archive_entry *ae, struct err *e)
{
	struct visits *v = ctx;
	const char *p = archive_entry_pathname(ae);

	snprintf(v->log + strlen(v->log), sizeof v->log - strlen(v->log),
	    "<%s", p);
	if (v->fail_at && strcmp(v->fail_at, p) == 0)
		return err_set(e, ERR_NO_SPACE, "visitor full at %s", p);
	return 0;
}

static int
v_data(void *ctx, const void *buf, size_t len, int64_t offset, struct err *e)
{
	struct visits *v = ctx;

	(void)e;
	snprintf(v->log + strlen(v->log), sizeof v->log - strlen(v->log),
	    " @%lld:%.*s", (long long)offset, (int)len, (const char *)buf);
	return 0;
}

static int
v_end(void *ctx, struct archive_entry *ae, struct err *e)
{
	struct visits *v = ctx;

	(void)ae;
	(void)e;
	snprintf(v->log + strlen(v->log), sizeof v->log - strlen(v->log), ">");
	return 0;
}

START_TEST(test_walk_visitor)
{
	struct visits vs;
	struct entry_visitor v = { v_begin, v_data, v_end, &vs };
	struct verify_result res;
	struct err e;

	memset(&vs, 0, sizeof vs);
	ck_assert_msg(backup_walk(&backup, &v, NULL, NULL, NULL, &res, &e) == 0,
	    "%s", e.msg);
	ck_assert_str_eq(vs.log, "<a.txt @0:alpha\n><dir/><dir/b.txt "
	    "@0:beta beta\n><link>");
	ck_assert_uint_eq(res.files, TREE_FILES);
}
END_TEST

/* The visitor's error ends the pass, as it said it. */
START_TEST(test_walk_visitor_fails)
{
	struct visits vs;
	struct entry_visitor v = { v_begin, v_data, v_end, &vs };
	struct verify_result res;
	struct err e;

	memset(&vs, 0, sizeof vs);
	vs.fail_at = "dir/b.txt";
	ck_assert_int_eq(backup_walk(&backup, &v, NULL, NULL, NULL, &res, &e),
	    -1);
	ck_assert_int_eq(e.code, ERR_NO_SPACE);
	ck_assert_str_eq(e.msg, "visitor full at dir/b.txt");
	ck_assert_str_eq(vs.log, "<a.txt @0:alpha\n><dir/><dir/b.txt");
}
END_TEST

/* A visitor is told of an entry only once its header matched. */
START_TEST(test_walk_header_first)
{
	struct visits vs;
	struct entry_visitor v = { v_begin, v_data, v_end, &vs };
	struct verify_result res;
	struct err e;
	json_t *m = meta_load();

	json_object_set_new(meta_entry(m, 2), "size", json_integer(1));
	meta_save(m);
	memset(&vs, 0, sizeof vs);
	ck_assert_int_eq(backup_walk(&backup, &v, NULL, NULL, NULL, &res, &e),
	    -1);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_str_eq(vs.log, "<a.txt @0:alpha\n><dir/>");
}
END_TEST

struct seen {
	int calls;
	struct progress last;
	volatile sig_atomic_t *cancel;
};

static void
on_progress(const struct progress *p, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->last = *p;
	if (s->cancel)
		*s->cancel = 1;
}

START_TEST(test_progress)
{
	struct verify_result res;
	struct seen s;
	struct err e;

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(verify_backup(&backup, on_progress, &s, NULL, &res, &e),
	    0);
	ck_assert_int_ge(s.calls, 1);
	ck_assert_uint_eq(s.last.bytes_total, TREE_BYTES);
	ck_assert_uint_eq(s.last.files_total, TREE_FILES);
	ck_assert_uint_gt(s.last.bytes_done, 0);
}
END_TEST

/* Cancelled from the first report: the pass stops, ERR_FAILED. */
START_TEST(test_cancel)
{
	volatile sig_atomic_t cancel = 0;
	struct verify_result res;
	struct seen s;
	struct err e;

	memset(&s, 0, sizeof s);
	s.cancel = &cancel;
	ck_assert_int_eq(verify_backup(&backup, on_progress, &s, &cancel, &res,
	    &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_str_eq(e.msg, "cancelled");
	ck_assert_int_eq(s.calls, 1);
}
END_TEST

/* ---- encrypted backups ---------------------------------------------- */

/* verify_backup fails with code, and what in the message. */
static void
assert_fails(const struct backup_info *b, enum err_code code, const char *what)
{
	struct verify_result res;
	struct err e;

	err_clear(&e);
	ck_assert_int_eq(verify_backup(b, NULL, NULL, NULL, &res, &e), -1);
	ck_assert_msg(e.code == code, "code %d: %s", e.code, e.msg);
	ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' not in '%s'", what,
	    e.msg);
}

static const char *
fingerprint_of(const struct age_identity *id)
{
	static char fp[AGE_FINGERPRINT_LEN + 1];
	struct age_recipient r;

	age_recipient_of(id, &r);
	age_recipient_fingerprint(&r, fp);
	return fp;
}

START_TEST(test_enc_verify)
{
	struct verify_result res;
	struct err e;
	json_t *m = meta_load(), *je;
	size_t i;

	ck_assert(strstr(backup.archive_name, ".tar.zst.age") != NULL);
	ck_assert_str_eq(json_string_value(json_object_get(m, "file_hash")),
	    FILE_HASH_KEYED_ALGO);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	    json_object_get(m, "encryption"), "recipients"), 0)),
	    fingerprint_of(&ids[0]));
	json_array_foreach(json_object_get(m, "entries"), i, je)
		if (json_object_get(je, "hash"))
			ck_assert(strncmp(json_string_value(json_object_get(je,
			    "hash")), "hmac-sha256:", 12) == 0);
	ck_assert_msg(verify_backup(&backup, NULL, NULL, NULL, &res, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(res.files, TREE_FILES);   /* not the manifest */
	ck_assert_uint_eq(res.bytes, TREE_BYTES);
	ck_assert_str_eq(res.sha256, json_string_value(json_object_get(
	    json_object_get(m, "archive"), "sha256")));
	json_decref(m);
}
END_TEST

START_TEST(test_enc_no_identity)
{
	backup.ids = NULL;
	backup.n_ids = 0;
	assert_fails(&backup, ERR_NO_IDENTITY, fingerprint_of(&ids[0]));
}
END_TEST

START_TEST(test_enc_wrong_identity)
{
	char want[AGE_FINGERPRINT_LEN + 1];

	snprintf(want, sizeof want, "%s", fingerprint_of(&ids[0]));
	backup.ids = &ids[1];
	assert_fails(&backup, ERR_WRONG_IDENTITY, want);
	assert_fails(&backup, ERR_WRONG_IDENTITY, fingerprint_of(&ids[1]));
}
END_TEST

START_TEST(test_enc_listed_no_stanza)
{
	json_t *m = meta_load();

	/* The metadata lists ids[1] too, but no stanza is for it: the file
	 * is not what the metadata says. */
	json_array_append_new(json_object_get(json_object_get(m, "encryption"),
	    "recipients"), json_string(fingerprint_of(&ids[1])));
	meta_save(m);
	backup.ids = &ids[1];
	assert_fails(&backup, ERR_VERIFY, "no recipient stanza opens");
}
END_TEST

START_TEST(test_enc_keyed_hash)
{
	json_t *m = meta_load();
	json_t *je = meta_entry(m, 0);
	char h[KEYED_HASH_STR_LEN + 1];

	ck_assert_str_eq(json_string_value(json_object_get(je, "path")),
	    "a.txt");
	snprintf(h, sizeof h, "%s", json_string_value(json_object_get(je,
	    "hash")));
	h[20] = h[20] == '0' ? '1' : '0';
	json_object_set_new(je, "hash", json_string(h));
	meta_save(m);
	assert_refused("a.txt: content hash");
}
END_TEST

START_TEST(test_enc_claims_plain)
{
	json_t *m = meta_load();

	/* Plain hashes claimed: the manifest is then an entry the metadata
	 * does not list. */
	json_object_set_new(m, "file_hash", json_string(FILE_HASH_ALGO));
	meta_save(m);
	assert_refused(ARCHIVE_MANIFEST);
}
END_TEST

START_TEST(test_enc_other_manifest)
{
	struct backup_info other;
	struct err e;
	json_t *m = meta_load();
	char id[STORE_ID_MAX + 8], *data;
	size_t len;

	/* Another backup's metadata with this backup's archive under its
	 * name: the manifest says whose archive it is. */
	snprintf(id, sizeof id, "%s-9", backup.id);
	data = slurp(backup.archive_path, &len);
	put_file(tmp_path("backups/member1/%s.tar.zst.age", id), data, len, 0600);
	free(data);
	json_object_set_new(m, "id", json_string(id));
	ck_assert_int_eq(json_dump_file(m, tmp_path("backups/member1/%s.json",
	    id), JSON_INDENT(1)), 0);
	json_decref(m);
	ck_assert_msg(store_find(&store, id, &other, &e) == 0, "%s", e.msg);
	ck_assert(other.encrypted);
	other.ids = &ids[0];
	other.n_ids = 1;
	assert_fails(&other, ERR_VERIFY, "the manifest is of backup");
}
END_TEST

START_TEST(test_enc_stored)
{
	struct verify_result res;
	struct err e;
	char *data;
	size_t len;

	backup.ids = NULL;
	backup.n_ids = 0;
	ck_assert_msg(verify_stored(&backup, NULL, NULL, NULL, &res, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(res.files, TREE_FILES);
	data = slurp(backup.archive_path, &len);
	data[len / 2] ^= 1;
	put_file(backup.archive_path, data, len, 0600);
	free(data);
	err_clear(&e);
	ck_assert_int_eq(verify_stored(&backup, NULL, NULL, NULL, &res, &e), -1);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_msg(strstr(e.msg, "SHA-256 is") != NULL, "%s", e.msg);
}
END_TEST

static void
enc_teardown(void)
{
	age_identity_wipe(&ids[0]);
	age_identity_wipe(&ids[1]);
	teardown();
}

static Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc;

	tc = tcase_create("archive");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify);
	tcase_add_test(tc, test_legacy);
	tcase_add_test(tc, test_flipped_bytes);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_data_after_tar);
	suite_add_tcase(s, tc);

	tc = tcase_create("metadata");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_meta_hash);
	tcase_add_test(tc, test_meta_size);
	tcase_add_test(tc, test_meta_path);
	tcase_add_test(tc, test_meta_type);
	tcase_add_test(tc, test_meta_target);
	tcase_add_test(tc, test_meta_fewer);
	tcase_add_test(tc, test_meta_more);
	tcase_add_test(tc, test_meta_sha256);
	tcase_add_test(tc, test_meta_algo);
	tcase_add_test(tc, test_meta_archive_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_walk_visitor);
	tcase_add_test(tc, test_walk_visitor_fails);
	tcase_add_test(tc, test_walk_header_first);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_cancel);
	suite_add_tcase(s, tc);

	tc = tcase_create("encrypted");
	tcase_add_checked_fixture(tc, enc_setup, enc_teardown);
	tcase_add_test(tc, test_enc_verify);
	tcase_add_test(tc, test_enc_no_identity);
	tcase_add_test(tc, test_enc_wrong_identity);
	tcase_add_test(tc, test_enc_listed_no_stanza);
	tcase_add_test(tc, test_enc_keyed_hash);
	tcase_add_test(tc, test_enc_claims_plain);
	tcase_add_test(tc, test_enc_other_manifest);
	tcase_add_test(tc, test_enc_stored);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level(LOG_ERROR);
	return run_suite(verify_suite(), "verify");
}
