/* Unit tests of agent/engine/archiver: a small data directory (files of
 * modes 0600, 0700 and 0644, an empty directory, symbolic links to a file
 * and to a directory inside it, a hard link, the agent's own
 * .quorum-backup) archived into a store: the result, the files left in
 * member1/, the metadata entry by entry, and the archive read back with
 * the reader. Then what changes it: exclusions, links to directories
 * outside (refused, or kept with a warning), FIFOs skipped, the node key
 * and facts, progress; and what fails it, leaving no partial archive
 * behind: a file changed or gone after the listing, cancellation, a sink
 * that cannot write. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "archiver.h"
#include "err.h"
#include "hashes.h"
#include "log.h"
#include "reader.h"
#include "store.h"

/* ---- fixtures ------------------------------------------------------- */

static char data_dir[4096];
static struct store store;

static void
mkdir_mode(const char *path, mode_t mode)
{
	ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* tmp/data, and an open, locked store in tmp/backups/member1. */
static void
setup(void)
{
	struct err e;

	tmp_setup();
	snprintf(data_dir, sizeof data_dir, "%s", tmp_path("data"));
	mkdir_mode(data_dir, 0755);
	put_file(tmp_path("data/a.txt"), "alpha\n", 6, 0600);
	mkdir_mode(tmp_path("data/bin"), 0700);
	put_file(tmp_path("data/bin/run"), "#!/bin/sh\nexit 0\n", 17, 0700);
	mkdir_mode(tmp_path("data/empty"), 0755);
	mkdir_mode(tmp_path("data/sub"), 0755);
	mkdir_mode(tmp_path("data/sub/deep"), 0700);
	put_file(tmp_path("data/sub/deep/file"), "deep content\n", 13, 0644);
	ck_assert_int_eq(symlink("a.txt", tmp_path("data/link")), 0);
	ck_assert_int_eq(symlink("sub", tmp_path("data/dirlink")), 0);
	ck_assert_int_eq(link(tmp_path("data/a.txt"), tmp_path("data/hl")), 0);
	mkdir_mode(tmp_path("data/.quorum-backup"), 0700);
	put_file(tmp_path("data/.quorum-backup/journal"), "{}", 2, 0600);
	mkdir_mode(tmp_path("backups"), 0700);
	ck_assert_msg(store_open(&store, tmp_path("backups"), 1, 1, &e) == 0,
	    "%s", e.msg);
	ck_assert_msg(store_lock(&store, &e) == 0, "%s", e.msg);
}

static void
teardown(void)
{
	store_close(&store);
	tmp_teardown();
}

/* What the archive of the fixture holds, in archive order: path, mode,
 * and content or link target. */
static const char tree_listing[] =
	"f a.txt 0600 alpha\n|"
	"d bin 0700 |"
	"f bin/run 0700 #!/bin/sh\nexit 0\n|"
	"l dirlink 0777 sub|"
	"d empty 0755 |"
	"h hl 0600 a.txt|"
	"l link 0777 a.txt|"
	"d sub 0755 |"
	"d sub/deep 0700 |"
	"f sub/deep/file 0644 deep content\n|";
#define TREE_FILES 10
#define TREE_BYTES (6 + 17 + 13)

static struct archive_opts
opts(void)
{
	struct archive_opts o;

	memset(&o, 0, sizeof o);
	o.data_dir = data_dir;
	o.store = &store;
	o.level = 3;
	o.threads = 1;
	return o;
}

/* Archive with o; the test fails when it does not succeed. */
static void
archive_ok(const struct archive_opts *o, struct archive_result *r)
{
	struct err e;

	ck_assert_msg(archive_create(o, r, &e) == 0, "%s", e.msg);
}

/* The names in member1/, sorted, joined by ' '. Caller frees. */
static char *
member_files(void)
{
	struct dirent **de;
	int n = scandir(store.dir, &de, NULL, alphasort);
	char *out = calloc(1, 4096);

	ck_assert_int_ge(n, 0);
	ck_assert_ptr_nonnull(out);
	for (int i = 0; i < n; i++) {
		if (strcmp(de[i]->d_name, ".") != 0 &&
		    strcmp(de[i]->d_name, "..") != 0) {
			if (out[0])
				strcat(out, " ");
			strncat(out, de[i]->d_name, 4000 - strlen(out));
		}
		free(de[i]);
	}
	free(de);
	return out;
}

static void
assert_member_files(const char *want)
{
	char *got = member_files();

	ck_assert_str_eq(got, want);
	free(got);
}

static json_t *
load_meta(const char *id)
{
	char path[4400];
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof path, "%s/%s.json", store.dir, id);
	j = json_load_file(path, 0, &je);
	ck_assert_msg(j != NULL, "%s: %s", path, je.text);
	return j;
}

static void
read_entry(struct archive *a, struct archive_entry *ae, char *out,
    size_t size)
{
	const char *hl = archive_entry_hardlink(ae);
	mode_t type = archive_entry_filetype(ae);
	char path[1024];
	size_t len = strlen(archive_entry_pathname(ae));
	const void *b;
	size_t n;
	la_int64_t off;
	int ar;

	snprintf(path, sizeof path, "%s", archive_entry_pathname(ae));
	if (len > 1 && path[len - 1] == '/')
		path[len - 1] = '\0';
	snprintf(out + strlen(out), size - strlen(out), "%c %s %04o %s",
	    hl ? 'h' : type == AE_IFDIR ? 'd' : type == AE_IFLNK ? 'l' : 'f',
	    path, (unsigned)archive_entry_perm(ae), hl ? hl :
	    type == AE_IFLNK ? archive_entry_symlink(ae) : "");
	while ((ar = archive_read_data_block(a, &b, &n, &off)) == ARCHIVE_OK)
		snprintf(out + strlen(out), size - strlen(out), "%.*s", (int)n,
		    (const char *)b);
	ck_assert_int_eq(ar, ARCHIVE_EOF);
	snprintf(out + strlen(out), size - strlen(out), "|");
}

/* The archive read back with the reader, as tree_listing shows it. */
static char *
read_back(const char *path)
{
	struct archive_entry *ae;
	char sha[SHA256_HEX_LEN + 1];
	char *out = calloc(1, 65536);
	struct err e;
	struct reader *r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ar;

	ck_assert_ptr_nonnull(out);
	ck_assert_int_ge(fd, 0);
	r = reader_open(fd, path, READER_ZSTD, NULL, 0, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	while ((ar = archive_read_next_header(reader_archive(r), &ae)) ==
	    ARCHIVE_OK)
		read_entry(reader_archive(r), ae, out, 65536);
	ck_assert_int_eq(ar, ARCHIVE_EOF);
	ck_assert_msg(reader_finish(r, sha, &e) == 0, "%s", e.msg);
	reader_free(r);
	return out;
}

static void
sha256_of(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	size_t len;
	char *b = slurp(path, &len);
	struct sha256 *h = sha256_new();

	sha256_update(h, b, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	free(b);
}

static void
filehash_of(const char *text, char out[FILEHASH_STR_LEN + 1])
{
	struct filehash *h = filehash_new();

	filehash_update(h, text, strlen(text));
	filehash_final(h, out);
	filehash_free(h);
}

/* ---- the archive ---------------------------------------------------- */

START_TEST(test_result)
{
	struct archive_opts o = opts();
	char want[8192], sha[SHA256_HEX_LEN + 1];
	struct archive_result r;
	struct stat st;

	archive_ok(&o, &r);
	ck_assert(store_id_valid(r.id));
	snprintf(want, sizeof want, "%s/%s.tar.zst", store.dir, r.id);
	ck_assert_str_eq(r.archive_path, want);
	ck_assert_int_eq(stat(r.archive_path, &st), 0);
	ck_assert_uint_eq(r.size, (uint64_t)st.st_size);
	sha256_of(r.archive_path, sha);
	ck_assert_str_eq(r.sha256, sha);
	ck_assert_uint_eq(r.files, TREE_FILES);
	ck_assert_uint_eq(r.bytes, TREE_BYTES);   /* hl counted once */
	ck_assert_uint_eq(r.skipped, 0);
	ck_assert_uint_eq(json_array_size(r.warnings), 0);
	/* complete: archive and metadata, nothing partial */
	snprintf(want, sizeof want, ".lock %s.json %s.tar.zst", r.id, r.id);
	assert_member_files(want);
	json_decref(r.warnings);
}
END_TEST

START_TEST(test_read_back)
{
	struct archive_opts o = opts();
	struct archive_result r;
	char *got;

	archive_ok(&o, &r);
	got = read_back(r.archive_path);
	ck_assert_str_eq(got, tree_listing);
	free(got);
	json_decref(r.warnings);
}
END_TEST

START_TEST(test_metadata)
{
	struct archive_opts o = opts();
	char hash[FILEHASH_STR_LEN + 1];
	struct archive_result r;
	json_t *m, *ents, *je;
	static const char *paths[TREE_FILES] = { "a.txt", "bin", "bin/run",
		"dirlink", "empty", "hl", "link", "sub", "sub/deep",
		"sub/deep/file" };
	static const char *types[TREE_FILES] = { "file", "dir", "file",
		"symlink", "dir", "hardlink", "symlink", "dir", "dir", "file" };

	archive_ok(&o, &r);
	m = load_meta(r.id);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "format")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(m, "id")), r.id);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "member")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "files")),
	    TREE_FILES);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "bytes")),
	    TREE_BYTES);
	ck_assert_str_eq(json_string_value(json_object_get(m, "file_hash")),
	    FILE_HASH_ALGO);
	je = json_object_get(m, "archive");
	ck_assert_str_eq(json_string_value(json_object_get(je, "sha256")),
	    r.sha256);
	ck_assert_int_eq(json_integer_value(json_object_get(je, "size")),
	    (json_int_t)r.size);
	ck_assert_str_eq(json_string_value(json_object_get(je, "compression")),
	    "zstd");
	ck_assert(json_is_null(json_object_get(m, "node")));
	ck_assert(json_is_null(json_object_get(m, "node_key")));
	ents = json_object_get(m, "entries");
	ck_assert_uint_eq(json_array_size(ents), TREE_FILES);
	for (size_t i = 0; i < TREE_FILES; i++) {
		je = json_array_get(ents, i);
		ck_assert_str_eq(json_string_value(json_object_get(je, "path")),
		    paths[i]);
		ck_assert_str_eq(json_string_value(json_object_get(je, "type")),
		    types[i]);
	}
	je = json_array_get(ents, 0);
	filehash_of("alpha\n", hash);
	ck_assert_str_eq(json_string_value(json_object_get(je, "hash")), hash);
	ck_assert_int_eq(json_integer_value(json_object_get(je, "size")), 6);
	ck_assert_int_eq(json_integer_value(json_object_get(je, "mode")), 0600);
	je = json_array_get(ents, 2);
	ck_assert_int_eq(json_integer_value(json_object_get(je, "mode")), 0700);
	je = json_array_get(ents, 5);
	ck_assert_str_eq(json_string_value(json_object_get(je, "target")),
	    "a.txt");
	ck_assert_ptr_null(json_object_get(je, "hash"));
	je = json_array_get(ents, 3);
	ck_assert_str_eq(json_string_value(json_object_get(je, "target")),
	    "sub");
	json_decref(m);
	json_decref(r.warnings);
}
END_TEST

/* Patterns are relative to the data directory, '/' matched only by '/';
 * an excluded directory is not walked. */
START_TEST(test_exclude)
{
	char *const ex[] = { "sub/deep", "*.txt" };
	struct archive_opts o = opts();
	struct archive_result r;
	char *got;

	o.exclude = ex;
	o.n_exclude = 2;
	put_file(tmp_path("data/sub/keep.txt"), "kept\n", 5, 0644);
	archive_ok(&o, &r);
	got = read_back(r.archive_path);
	ck_assert_str_eq(got,
	    "d bin 0700 |"
	    "f bin/run 0700 #!/bin/sh\nexit 0\n|"
	    "l dirlink 0777 sub|"
	    "d empty 0755 |"
	    "f hl 0600 alpha\n|"
	    "l link 0777 a.txt|"
	    "d sub 0755 |"
	    "f sub/keep.txt 0644 kept\n|");
	ck_assert_uint_eq(r.files, 8);
	ck_assert_uint_eq(r.bytes, 6 + 17 + 5);
	free(got);
	json_decref(r.warnings);
}
END_TEST

/* An empty data directory makes an archive of no entries. */
START_TEST(test_empty_data_dir)
{
	struct archive_opts o = opts();
	struct archive_result r;
	char *got;

	snprintf(data_dir, sizeof data_dir, "%s", tmp_path("nothing"));
	mkdir_mode(data_dir, 0755);
	archive_ok(&o, &r);
	ck_assert_uint_eq(r.files, 0);
	ck_assert_uint_eq(r.bytes, 0);
	got = read_back(r.archive_path);
	ck_assert_str_eq(got, "");
	free(got);
	json_decref(r.warnings);
}
END_TEST

/* Two backups within a second get two ids. */
START_TEST(test_two_backups)
{
	struct archive_opts o = opts();
	struct archive_result r1, r2;

	archive_ok(&o, &r1);
	archive_ok(&o, &r2);
	ck_assert_str_ne(r1.id, r2.id);
	ck_assert(store_id_valid(r2.id));
	ck_assert_str_eq(r1.sha256, r2.sha256);
	json_decref(r1.warnings);
	json_decref(r2.warnings);
}
END_TEST

/* ---- what the data directory holds ----------------------------------- */

/* A link to a directory outside: its content would be missing, so the
 * archive fails before anything is written, unless outside_links = keep. */
START_TEST(test_outside_link)
{
	struct archive_opts o = opts();
	struct archive_result r;
	struct err e;
	json_t *m;

	mkdir_mode(tmp_path("elsewhere"), 0755);
	ck_assert_int_eq(symlink(tmp_path("elsewhere"), tmp_path("data/geth")),
	    0);
	ck_assert_int_eq(archive_create(&o, &r, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "geth is a symbolic link to the directory") &&
	    strstr(e.msg, "outside_links = keep"), "%s", e.msg);
	assert_member_files(".lock");

	o.keep_outside_links = 1;
	archive_ok(&o, &r);
	ck_assert_uint_eq(json_array_size(r.warnings), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(
	    r.warnings, 0)), "geth is a symbolic link"));
	m = load_meta(r.id);
	ck_assert(json_equal(json_object_get(m, "warnings"), r.warnings));
	ck_assert_uint_eq(r.files, TREE_FILES + 1);
	json_decref(m);
	json_decref(r.warnings);
}
END_TEST

/* Links to a file outside, and dangling links, are archived as links. */
START_TEST(test_outside_file_link)
{
	struct archive_opts o = opts();
	struct archive_result r;
	char *got;

	put_file(tmp_path("secret"), "outside\n", 8, 0600);
	ck_assert_int_eq(symlink(tmp_path("secret"), tmp_path("data/zkey")), 0);
	ck_assert_int_eq(symlink("nowhere", tmp_path("data/zz")), 0);
	archive_ok(&o, &r);
	ck_assert_uint_eq(json_array_size(r.warnings), 0);
	got = read_back(r.archive_path);
	ck_assert_ptr_nonnull(strstr(got, "|l zz 0777 nowhere|"));
	ck_assert_ptr_nonnull(strstr(got, "|l zkey 0777 /"));
	ck_assert_ptr_null(strstr(got, "outside\n"));
	free(got);
	json_decref(r.warnings);
}
END_TEST

START_TEST(test_fifo_skipped)
{
	struct archive_opts o = opts();
	struct archive_result r;
	char *got;

	ck_assert_int_eq(mkfifo(tmp_path("data/sub/pipe"), 0600), 0);
	archive_ok(&o, &r);
	ck_assert_uint_eq(r.skipped, 1);
	ck_assert_uint_eq(r.files, TREE_FILES);
	got = read_back(r.archive_path);
	ck_assert_str_eq(got, tree_listing);
	free(got);
	json_decref(r.warnings);
}
END_TEST

/* The node key's SHA-256 and the node's facts go into the metadata. */
START_TEST(test_node_key_facts)
{
	struct archive_opts o = opts();
	struct archive_result r;
	char hex[SHA256_HEX_LEN + 1];
	json_t *m, *nk;

	o.node_key = "sub/deep/file";
	o.node_facts = json_pack("{s:s, s:i}", "client", "geth", "height", 42);
	archive_ok(&o, &r);
	m = load_meta(r.id);
	ck_assert(json_equal(json_object_get(m, "node"), o.node_facts));
	nk = json_object_get(m, "node_key");
	ck_assert_str_eq(json_string_value(json_object_get(nk, "path")),
	    "sub/deep/file");
	sha256_of(tmp_path("data/sub/deep/file"), hex);
	ck_assert_str_eq(json_string_value(json_object_get(nk, "sha256")), hex);
	json_decref(m);
	json_decref(o.node_facts);
	json_decref(r.warnings);
}
END_TEST

/* A node key with another hard link whose name sorts first: the archive
 * holds its content under that name, the key as a hard-link entry; the
 * metadata still records the key's SHA-256 under the key's own name. */
START_TEST(test_node_key_hard_link)
{
	struct archive_opts o = opts();
	struct archive_result r;
	char hex[SHA256_HEX_LEN + 1];
	json_t *m, *nk;

	ck_assert_int_eq(mkdir(tmp_path("data/geth"), 0700), 0);
	put_file(tmp_path("data/geth/nodekey"), "0123456789abcdef\n", 17, 0600);
	ck_assert_int_eq(link(tmp_path("data/geth/nodekey"),
	    tmp_path("data/geth/a-copy")), 0);
	o.node_key = "geth/nodekey";
	archive_ok(&o, &r);
	m = load_meta(r.id);
	nk = json_object_get(m, "node_key");
	ck_assert_msg(json_is_object(nk), "node_key is not recorded");
	ck_assert_str_eq(json_string_value(json_object_get(nk, "path")),
	    "geth/nodekey");
	sha256_of(tmp_path("data/geth/nodekey"), hex);
	ck_assert_str_eq(json_string_value(json_object_get(nk, "sha256")), hex);
	json_decref(m);
	json_decref(r.warnings);
}
END_TEST

struct seen {
	int calls;
	struct progress first, last;
};

static void
on_progress(const struct progress *p, void *arg)
{
	struct seen *s = arg;

	if (s->calls++ == 0)
		s->first = *p;
	s->last = *p;
}

START_TEST(test_progress)
{
	struct archive_opts o = opts();
	struct archive_result r;
	struct seen s;

	memset(&s, 0, sizeof s);
	o.progress = on_progress;
	o.progress_arg = &s;
	archive_ok(&o, &r);
	ck_assert_int_ge(s.calls, 2);
	ck_assert_uint_eq(s.first.bytes_done, 0);
	ck_assert_uint_eq(s.first.bytes_total, TREE_BYTES);
	ck_assert_uint_eq(s.first.files_total, TREE_FILES);
	ck_assert_uint_eq(s.last.bytes_done, TREE_BYTES);
	ck_assert_uint_eq(s.last.files_done, TREE_FILES);
	json_decref(r.warnings);
}
END_TEST

/* ---- failures ------------------------------------------------------- */

/* The first progress report comes after the listing, before any entry
 * is written: a callback that changes the tree there is the node writing
 * while it is archived. */
static void
change_tree(const struct progress *p, void *arg)
{
	const char *how = arg;

	if (p->bytes_done != 0 || p->files_done != 0)
		return;
	if (strcmp(how, "grow") == 0) {
		put_file(tmp_path("data/bin/run"), "#!/bin/sh\nexit 10\n", 18,
		    0700);
	} else if (strncmp(how, "touch", 5) == 0) {
		/* the same size; a minute earlier, or a nanosecond later */
		struct timespec ts[2];
		struct stat st;
		ck_assert_int_eq(stat(tmp_path("data/bin/run"), &st), 0);
		ts[0] = ts[1] = st.st_mtim;
		if (strcmp(how, "touch_s") == 0)
			ts[0].tv_sec = ts[1].tv_sec = st.st_mtim.tv_sec - 60;
		else
			ts[0].tv_nsec = ts[1].tv_nsec = (st.st_mtim.tv_nsec + 1) %
			    1000000000;
		ck_assert_int_eq(utimensat(AT_FDCWD, tmp_path("data/bin/run"),
		    ts, 0), 0);
	} else {
		ck_assert_int_eq(unlink(tmp_path("data/bin/run")), 0);
	}
}

static void
assert_changed_fails(const char *how, const char *what)
{
	struct archive_opts o = opts();
	struct archive_result r;
	struct err e;

	o.progress = change_tree;
	o.progress_arg = (void *)(uintptr_t)how;
	ck_assert_int_eq(archive_create(&o, &r, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, what) != NULL, "%s: '%s' not in '%s'", how,
	    what, e.msg);
	assert_member_files(".lock");
}

START_TEST(test_file_changed)
{
	assert_changed_fails("grow", "bin/run changed while it was read");
}
END_TEST

START_TEST(test_file_touched)
{
	assert_changed_fails("touch_s", "bin/run changed while it was read");
}
END_TEST

START_TEST(test_file_touched_ns)
{
	assert_changed_fails("touch_ns", "bin/run changed while it was read");
}
END_TEST

START_TEST(test_file_gone)
{
	assert_changed_fails("unlink", "bin/run disappeared while it was read");
}
END_TEST

START_TEST(test_cancel)
{
	volatile sig_atomic_t cancel = 1;
	struct archive_opts o = opts();
	struct archive_result r;
	struct err e;

	o.cancel = &cancel;
	ck_assert_int_eq(archive_create(&o, &r, &e), -1);
	ck_assert_str_eq(e.msg, "cancelled");
	assert_member_files(".lock");
}
END_TEST

/* The sink cannot write past a file size limit (EFBIG, as a full volume
 * is reported): the job fails with ERR_NO_SPACE, the partial archive
 * goes. */
START_TEST(test_sink_fails)
{
	struct archive_opts o = opts();
	struct archive_result r;
	struct rlimit old, lim;
	unsigned char *noise = malloc(1u << 20);
	unsigned x = 1;
	struct err e;
	int rc;

	ck_assert_ptr_nonnull(noise);
	for (size_t i = 0; i < (1u << 20); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (unsigned char)(x >> 16);
	}
	put_file(tmp_path("data/noise"), noise, 1u << 20, 0600);
	free(noise);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = archive_create(&o, &r, &e);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e.code, ERR_NO_SPACE);
	ck_assert_msg(strstr(e.msg, "write archive") != NULL, "%s", e.msg);
	assert_member_files(".lock");
}
END_TEST

START_TEST(test_no_data_dir)
{
	struct archive_opts o = opts();
	struct archive_result r;
	struct err e;

	snprintf(data_dir, sizeof data_dir, "%s", tmp_path("missing"));
	ck_assert_int_eq(archive_create(&o, &r,
	    &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strncmp(e.msg, "data directory ", 15) == 0, "%s", e.msg);
	assert_member_files(".lock");
}
END_TEST

static Suite *
archiver_suite(void)
{
	Suite *s = suite_create("archiver");
	TCase *tc;

	tc = tcase_create("archive");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_result);
	tcase_add_test(tc, test_read_back);
	tcase_add_test(tc, test_metadata);
	tcase_add_test(tc, test_exclude);
	tcase_add_test(tc, test_empty_data_dir);
	tcase_add_test(tc, test_two_backups);
	suite_add_tcase(s, tc);

	tc = tcase_create("tree");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_outside_link);
	tcase_add_test(tc, test_outside_file_link);
	tcase_add_test(tc, test_fifo_skipped);
	tcase_add_test(tc, test_node_key_facts);
	tcase_add_test(tc, test_node_key_hard_link);
	tcase_add_test(tc, test_progress);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_file_changed);
	tcase_add_test(tc, test_file_touched);
	tcase_add_test(tc, test_file_touched_ns);
	tcase_add_test(tc, test_file_gone);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_sink_fails);
	tcase_add_test(tc, test_no_data_dir);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level(LOG_ERROR);
	return run_suite(archiver_suite(), "archiver");
}
