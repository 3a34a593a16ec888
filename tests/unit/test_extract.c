/* Unit tests of agent/engine/extract: archive paths cleaned or refused
 * (extract_clean_path); a tree the archiver made (files of modes 0600,
 * 0700 and 0644, an empty directory, links inside, a hard link) unpacked
 * into a new directory, by name or by descriptor, with the same content,
 * types, modes, link targets, hard links and mtimes; and hostile archives,
 * built here with metadata that agrees with them so that only the
 * extraction's own checks stand in the way: "..", absolute paths, writing
 * through a symlink (as a parent or as the file itself), devices and
 * FIFOs, hard links to what was not extracted, duplicates, the agent's
 * .quorum-backup, setuid bits, the size cap, directories listed after
 * their files or read-only. Nothing is ever written outside the target. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "archiver.h"
#include "err.h"
#include "extract.h"
#include "hashes.h"
#include "log.h"
#include "store.h"
#include "zsink.h"

/* ---- fixtures ------------------------------------------------------- */

static struct store store;
static char out_dir[4096];

/* tmp/data: the tree to archive; tmp/backups: the store (member1);
 * tmp/out: the empty target; tmp/outside: what must never change. */
static void
setup(void)
{
	struct err e;

	tmp_setup();
	ck_assert_int_eq(mkdir(tmp_path("data"), 0755), 0);
	put_file(tmp_path("data/a.txt"), "alpha\n", 6, 0600);
	ck_assert_int_eq(mkdir(tmp_path("data/bin"), 0700), 0);
	put_file(tmp_path("data/bin/run"), "#!/bin/sh\n", 10, 0700);
	ck_assert_int_eq(mkdir(tmp_path("data/empty"), 0755), 0);
	ck_assert_int_eq(chmod(tmp_path("data/empty"), 0755), 0);
	ck_assert_int_eq(mkdir(tmp_path("data/sub"), 0755), 0);
	ck_assert_int_eq(chmod(tmp_path("data/sub"), 0755), 0);
	put_file(tmp_path("data/sub/c.txt"), "gamma\n", 6, 0644);
	ck_assert_int_eq(symlink("a.txt", tmp_path("data/link")), 0);
	ck_assert_int_eq(symlink("sub", tmp_path("data/dirlink")), 0);
	ck_assert_int_eq(link(tmp_path("data/a.txt"), tmp_path("data/hl")), 0);
	ck_assert_int_eq(mkdir(tmp_path("backups"), 0700), 0);
	ck_assert_msg(store_open(&store, tmp_path("backups"), 1, 1, &e) == 0,
	    "%s", e.msg);
	snprintf(out_dir, sizeof out_dir, "%s", tmp_path("out"));
	ck_assert_int_eq(mkdir(out_dir, 0700), 0);
	ck_assert_int_eq(mkdir(tmp_path("outside"), 0755), 0);
	put_file(tmp_path("outside/victim"), "VICTIM\n", 7, 0644);
}

static void
teardown(void)
{
	store_close(&store);
	tmp_teardown();
}

/* tmp/data archived by the archiver; b names the backup. */
static void
archive_data(struct backup_info *b)
{
	struct archive_opts o;
	struct archive_result r;
	struct err e;

	memset(&o, 0, sizeof o);
	o.data_dir = tmp_path("data");
	o.store = &store;
	o.level = 3;
	o.threads = 1;
	ck_assert_msg(store_lock(&store, &e) == 0, "%s", e.msg);
	ck_assert_msg(archive_create(&o, &r, &e) == 0, "%s", e.msg);
	store_close(&store);
	json_decref(r.warnings);
	ck_assert_msg(store_find(&store, r.id, b, &e) == 0, "%s", e.msg);
}

static struct extract_opts
xopts(void)
{
	struct extract_opts o;

	memset(&o, 0, sizeof o);
	o.target = out_dir;
	o.cap_bytes = UINT64_MAX;
	o.cap_code = ERR_VERIFY;
	return o;
}

/* ---- trees as text -------------------------------------------------- */

static void
list_dir(const char *root, const char *rel, char *out, size_t size)
{
	char dir[4096];
	struct dirent **de;
	int n;

	snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
	n = scandir(dir, &de, NULL, alphasort);
	ck_assert_msg(n >= 0, "scandir %s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char path[4096], sub[2048], target[256] = "";
		struct stat st;
		char *content = NULL;

		if (strcmp(de[i]->d_name, ".") == 0 ||
		    strcmp(de[i]->d_name, "..") == 0 ||
		    strcmp(de[i]->d_name, ".quorum-backup") == 0) {
			free(de[i]);
			continue;
		}
		snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "",
		    de[i]->d_name);
		snprintf(path, sizeof path, "%s/%s", root, sub);
		free(de[i]);
		ck_assert_int_eq(lstat(path, &st), 0);
		if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlink(path, target, sizeof target - 1);
			ck_assert_int_ge(k, 0);
			target[k] = '\0';
		} else if (S_ISREG(st.st_mode))
			content = slurp(path, NULL);
		snprintf(out + strlen(out), size - strlen(out),
		    "%s %c %04o n%lu t%lld.%09ld %s%s|\n", sub,
		    S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' :
		    S_ISREG(st.st_mode) ? 'f' : '?',
		    S_ISLNK(st.st_mode) ? 0 : (unsigned)(st.st_mode & 07777),
		    S_ISDIR(st.st_mode) ? 0 : (unsigned long)st.st_nlink,
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, target,
		    content ? content : "");
		free(content);
		if (S_ISDIR(st.st_mode))
			list_dir(root, sub, out, size);
	}
	free(de);
}

/* Every entry below root (but .quorum-backup): path, type, mode, links,
 * mtime, and content or link target. Caller frees. */
static char *
tree(const char *root)
{
	char *out = calloc(1, 65536);

	ck_assert_ptr_nonnull(out);
	list_dir(root, "", out, 65536);
	return out;
}

/* tmp/outside holds its victim, unchanged, and nothing else; nothing was
 * written beside the target either. */
static void
assert_outside_untouched(void)
{
	char *got = tree(tmp_path("outside"));

	ck_assert_msg(strncmp(got, "victim f 0644 n1 ", 17) == 0 &&
	    strcmp(strchr(got, '|'), "|\n") == 0, "%s", got);
	ck_assert_str_eq(strstr(got, " VICTIM"), " VICTIM\n|\n");
	ck_assert_int_eq(access(tmp_path("x"), F_OK), -1);
	free(got);
}

/* ---- crafted archives ----------------------------------------------- */

/* One entry: kind "file" (arg: content), "dir", "symlink" and "hardlink"
 * (arg: target), "fifo", "chardev". */
struct spec {
	const char *kind;
	const char *path;
	const char *arg;
	mode_t mode;
};

struct sink_ctx {
	struct zsink *z;
	struct err e;
};

static la_ssize_t
to_sink(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct sink_ctx *sc = ctx;

	(void)a;
	ck_assert_msg(zsink_write(sc->z, buf, len, &sc->e) == 0, "%s",
	    sc->e.msg);
	return (la_ssize_t)len;
}

/* The entry's header into ae, its metadata into je. */
static void
spec_entry(const struct spec *sp, struct archive_entry *ae, json_t *je)
{
	const char *k = sp->kind;

	archive_entry_clear(ae);
	archive_entry_copy_pathname(ae, sp->path);
	archive_entry_set_mtime(ae, 1700000000, 123456789);
	archive_entry_set_uid(ae, getuid());
	archive_entry_set_gid(ae, getgid());
	archive_entry_set_perm(ae, sp->mode ? sp->mode : 0644);
	json_object_set_new(je, "path", json_string(sp->path));
	if (strcmp(k, "file") == 0) {
		char hash[FILEHASH_STR_LEN + 1];
		struct filehash *h = filehash_new();

		filehash_update(h, sp->arg, strlen(sp->arg));
		filehash_final(h, hash);
		filehash_free(h);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, (la_int64_t)strlen(sp->arg));
		json_object_set_new(je, "size", json_integer((json_int_t)
		    strlen(sp->arg)));
		json_object_set_new(je, "hash", json_string(hash));
	} else if (strcmp(k, "dir") == 0) {
		archive_entry_set_filetype(ae, AE_IFDIR);
	} else if (strcmp(k, "symlink") == 0) {
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_copy_symlink(ae, sp->arg);
		json_object_set_new(je, "target", json_string(sp->arg));
	} else if (strcmp(k, "hardlink") == 0) {
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_copy_hardlink(ae, sp->arg);
		archive_entry_set_size(ae, 0);
		json_object_set_new(je, "target", json_string(sp->arg));
	} else {
		archive_entry_set_filetype(ae, k[0] == 'f' ? AE_IFIFO : AE_IFCHR);
		archive_entry_set_rdev(ae, 0x0103);
		k = "special";
	}
	json_object_set_new(je, "type", json_string(k));
}

/* The entries as a new backup 20250101T000000Z-<n>, with metadata that
 * agrees; b names it. */
static void
crafted(const struct spec *sp, size_t n, struct backup_info *b)
{
	static int serial;
	char id[64];
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	json_t *entries = json_array(), *m;
	char sha[SHA256_HEX_LEN + 1], path[4400];
	long long bytes = 0;
	struct sink_ctx sc;
	uint64_t size;
	struct err e;
	int fd;

	snprintf(id, sizeof id, "20250101T000000Z-%d", ++serial);
	snprintf(path, sizeof path, "%s/%s.tar.zst", store.dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	sc.z = zsink_new(fd, 3, 1, NULL, 0, &sc.e);
	ck_assert_ptr_nonnull(sc.z);
	archive_write_set_format_pax(a);
	archive_write_set_bytes_per_block(a, 0);
	ck_assert_int_eq(archive_write_open2(a, &sc, NULL, to_sink, NULL, NULL),
	    ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		json_t *je = json_object();

		spec_entry(&sp[i], ae, je);
		ck_assert_int_ge(archive_write_header(a, ae), ARCHIVE_WARN);
		if (strcmp(sp[i].kind, "file") == 0) {
			archive_write_data(a, sp[i].arg, strlen(sp[i].arg));
			bytes += (long long)strlen(sp[i].arg);
		}
		json_array_append_new(entries, je);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	ck_assert_int_eq(zsink_finish(sc.z, sha, &size, &e), 0);
	zsink_free(sc.z);
	ck_assert_int_eq(close(fd), 0);
	m = json_pack("{s:i, s:s, s:{s:I, s:s}, s:I, s:I, s:s, s:o}", "format",
	    1, "id", id, "archive", "size", (json_int_t)size,
	    "sha256", sha, "bytes", (json_int_t)bytes, "files", (json_int_t)n,
	    "file_hash", FILE_HASH_ALGO, "entries", entries);
	ck_assert_ptr_nonnull(m);
	snprintf(path, sizeof path, "%s/%s.json", store.dir, id);
	ck_assert_int_eq(json_dump_file(m, path, 0), 0);
	json_decref(m);
	ck_assert_msg(store_find(&store, id, b, &e) == 0, "%s", e.msg);
}

/* Unpacking the crafted entries fails with code, what in the message. */
static void
assert_refused(const struct spec *sp, size_t n, enum err_code code,
    const char *what)
{
	struct extract_opts o = xopts();
	struct verify_result res;
	struct backup_info b;
	struct err e;

	crafted(sp, n, &b);
	err_clear(&e);
	ck_assert_int_eq(extract_backup(&b, &o, &res, &e), -1);
	ck_assert_msg(e.code == code, "code %d: %s", e.code, e.msg);
	ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' not in '%s'", what,
	    e.msg);
	assert_outside_untouched();
}

static void
extract_ok(const struct spec *sp, size_t n)
{
	struct extract_opts o = xopts();
	struct verify_result res;
	struct backup_info b;
	struct err e;

	crafted(sp, n, &b);
	ck_assert_msg(extract_backup(&b, &o, &res, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(res.files, n);
}

#define N(a) (sizeof (a) / sizeof (a)[0])

/* ---- paths ---------------------------------------------------------- */

START_TEST(test_clean_path)
{
	static const char *ok[][2] = {
		{ "a", "a" }, { "./a//b/", "a/b" }, { ".", "" }, { "./", "" },
		{ "a/./b", "a/b" }, { "...", "..." }, { "..a/b..", "..a/b.." },
		{ "a//", "a" },
	};
	static const char *bad[][2] = {
		{ "/etc/passwd", "absolute path" }, { "../x", "'..' in path" },
		{ "a/../b", "'..' in path" }, { "a/..", "'..' in path" },
		{ "./..", "'..' in path" },
	};
	char out[64], longp[200];
	struct err e;

	for (size_t i = 0; i < N(ok); i++) {
		ck_assert_msg(extract_clean_path(ok[i][0], out, sizeof out, &e) == 0,
		    "%s: %s", ok[i][0], e.msg);
		ck_assert_str_eq(out, ok[i][1]);
	}
	for (size_t i = 0; i < N(bad); i++) {
		ck_assert_int_eq(extract_clean_path(bad[i][0], out, sizeof out, &e),
		    -1);
		ck_assert_int_eq(e.code, ERR_VERIFY);
		ck_assert_msg(strstr(e.msg, bad[i][1]) && strstr(e.msg, "hostile"),
		    "%s: %s", bad[i][0], e.msg);
	}
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	ck_assert_int_eq(extract_clean_path(longp, out, sizeof out, &e), -1);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_msg(strstr(e.msg, "path too long") != NULL, "%s", e.msg);
}
END_TEST

/* ---- round trips ---------------------------------------------------- */

START_TEST(test_round_trip)
{
	struct extract_opts o = xopts();
	struct verify_result res;
	struct backup_info b;
	char *want, *got;
	struct err e;

	archive_data(&b);
	ck_assert_msg(extract_backup(&b, &o, &res, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(res.files, 9);
	ck_assert_uint_eq(res.bytes, 6 + 10 + 6);
	want = tree(tmp_path("data"));
	got = tree(out_dir);
	ck_assert_str_eq(got, want);
	/* the hard link is one file */
	ck_assert_ptr_nonnull(strstr(got, "hl f 0600 n2 "));
	free(want);
	free(got);
}
END_TEST

/* Into a directory open already (an in-place restore's data directory). */
START_TEST(test_round_trip_fd)
{
	struct extract_opts o = xopts();
	struct verify_result res;
	struct backup_info b;
	char *want, *got;
	struct err e;
	int fd, cwd = open(".", O_RDONLY | O_DIRECTORY);

	/* from elsewhere: the working directory plays no part */
	ck_assert_int_ge(cwd, 0);
	archive_data(&b);
	ck_assert_int_eq(chdir(tmp_path("outside")), 0);
	fd = open(out_dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_gt(fd, 0);
	o.target = "the data directory";
	o.target_fd = fd;
	ck_assert_msg(extract_backup(&b, &o, &res, &e) == 0, "%s", e.msg);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);   /* still the caller's */
	close(fd);
	ck_assert_int_eq(fchdir(cwd), 0);
	close(cwd);
	want = tree(tmp_path("data"));
	got = tree(out_dir);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
	assert_outside_untouched();
}
END_TEST

/* Permission bits only; files listed before their directory; a
 * read-only directory gets its mode once its files are in. */
START_TEST(test_modes)
{
	static const struct spec sp[] = {
		{ "file", "suid", "s\n", 04755 },
		{ "file", "late/f", "in late\n", 0640 },
		{ "dir", "late", NULL, 01750 },
		{ "dir", "ro", NULL, 0555 },
		{ "file", "ro/f", "ro\n", 0444 },
	};
	struct stat st;

	extract_ok(sp, N(sp));
	ck_assert_int_eq(lstat(tmp_path("out/suid"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1700000000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 123456789);
	ck_assert_int_eq(lstat(tmp_path("out/late"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1700000000);
	ck_assert_int_eq(lstat(tmp_path("out/ro"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0555);
	ck_assert_int_eq(lstat(tmp_path("out/late/f"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
}
END_TEST

/* The agent's own directory in an archive is never restored. */
START_TEST(test_agent_dir_skipped)
{
	static const struct spec sp[] = {
		{ "dir", ".quorum-backup", NULL, 0700 },
		{ "file", ".quorum-backup/journal", "{\"kind\":\"unpack\"}", 0600 },
		{ "file", "./keep", "kept\n", 0600 },
		{ "dir", ".", NULL, 0755 },
	};
	char *got;

	extract_ok(sp, N(sp));
	ck_assert_int_eq(access(tmp_path("out/.quorum-backup"), F_OK), -1);
	got = slurp(tmp_path("out/keep"), NULL);
	ck_assert_str_eq(got, "kept\n");
	free(got);
}
END_TEST

/* ---- hostile archives ----------------------------------------------- */

START_TEST(test_dotdot)
{
	static const struct spec sp[] = {
		{ "file", "ok", "fine\n", 0600 },
		{ "file", "../x", "escaped\n", 0600 },
	};

	assert_refused(sp, N(sp), ERR_VERIFY, "'..' in path '../x'");
	ck_assert_int_eq(access(tmp_path("out/ok"), F_OK), 0);
}
END_TEST

START_TEST(test_absolute)
{
	struct spec sp[] = { { "file", NULL, "escaped\n", 0600 } };
	char abs[4096];

	snprintf(abs, sizeof abs, "%s", tmp_path("x"));
	sp[0].path = abs;
	assert_refused(sp, N(sp), ERR_VERIFY, "absolute path");
}
END_TEST

/* A symlink out of the target, then a file below it. */
START_TEST(test_through_symlink)
{
	static const struct spec sp[] = {
		{ "symlink", "l", "../outside", 0 },
		{ "file", "l/x", "escaped\n", 0600 },
	};

	assert_refused(sp, N(sp), ERR_VERIFY, "goes through a symlink");
}
END_TEST

/* A symlink to a file outside, then the same name as a file. */
START_TEST(test_write_symlink)
{
	static const struct spec sp[] = {
		{ "symlink", "v", "../outside/victim", 0 },
		{ "file", "v", "overwritten\n", 0600 },
	};

	assert_refused(sp, N(sp), ERR_VERIFY, "create v");
}
END_TEST

/* A symlink through a directory that a symlink replaced. */
START_TEST(test_symlink_as_parent_later)
{
	static const struct spec sp[] = {
		{ "dir", "d", NULL, 0755 },
		{ "symlink", "d", "../outside", 0 },
		{ "file", "d/x", "escaped\n", 0600 },
	};

	assert_refused(sp, N(sp), ERR_VERIFY, "symlink d");
}
END_TEST

START_TEST(test_special)
{
	static const struct spec fifo[] = { { "fifo", "p", NULL, 0600 } };
	static const struct spec dev[] = { { "chardev", "tty", NULL, 0600 } };

	assert_refused(fifo, 1, ERR_VERIFY, "'p' is a FIFO");
	assert_refused(dev, 1, ERR_VERIFY, "'tty' is a character device");
	ck_assert_int_eq(access(tmp_path("out/p"), F_OK), -1);
	ck_assert_int_eq(access(tmp_path("out/tty"), F_OK), -1);
}
END_TEST

/* Hard links only to a regular file this archive extracted before. */
START_TEST(test_hardlinks)
{
	static const struct spec outside[] = {
		{ "hardlink", "h", "../outside/victim", 0 },
	};
	static const struct spec dir[] = {
		{ "dir", "d", NULL, 0755 },
		{ "hardlink", "h", "d", 0 },
	};
	static const struct spec later[] = {
		{ "hardlink", "h", "f", 0 },
		{ "file", "f", "f\n", 0600 },
	};
	static const struct spec good[] = {
		{ "file", "f", "f\n", 0600 },
		{ "hardlink", "h", "./f", 0 },
	};
	struct stat a, b;

	assert_refused(outside, 1, ERR_VERIFY, "'..' in path");
	assert_refused(dir, 2, ERR_VERIFY, "not a file extracted before it");
	rm_rf(out_dir);
	ck_assert_int_eq(mkdir(out_dir, 0700), 0);
	assert_refused(later, 2, ERR_VERIFY, "not a file extracted before it");
	rm_rf(out_dir);
	ck_assert_int_eq(mkdir(out_dir, 0700), 0);
	extract_ok(good, 2);
	ck_assert_int_eq(stat(tmp_path("out/f"), &a), 0);
	ck_assert_int_eq(stat(tmp_path("out/h"), &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
}
END_TEST

START_TEST(test_duplicate)
{
	static const struct spec sp[] = {
		{ "file", "f", "first\n", 0600 },
		{ "file", "f", "second\n", 0600 },
	};
	char *got;

	assert_refused(sp, N(sp), ERR_VERIFY, "create f");
	got = slurp(tmp_path("out/f"), NULL);
	ck_assert_str_eq(got, "first\n");
	free(got);
}
END_TEST

/* The content may not pass the cap (the space free, or the size the
 * metadata records), with the code the caller chose. */
START_TEST(test_cap)
{
	static const struct spec sp[] = {
		{ "file", "a", "12345\n", 0600 },
		{ "file", "b", "67890\n", 0600 },
	};
	struct extract_opts o = xopts();
	struct verify_result res;
	struct backup_info b;
	struct err e;

	crafted(sp, N(sp), &b);
	o.cap_bytes = 11;
	o.cap_code = ERR_NO_SPACE;
	ck_assert_int_eq(extract_backup(&b, &o, &res, &e), -1);
	ck_assert_int_eq(e.code, ERR_NO_SPACE);
	ck_assert_msg(strstr(e.msg, "'b' (6 bytes) would take the content past "
	    "11 bytes") != NULL, "%s", e.msg);
	rm_rf(out_dir);
	ck_assert_int_eq(mkdir(out_dir, 0700), 0);
	o.cap_bytes = 12;
	ck_assert_msg(extract_backup(&b, &o, &res, &e) == 0, "%s", e.msg);
}
END_TEST

/* ---- sync ----------------------------------------------------------- */

START_TEST(test_sync_tree)
{
	struct err e;
	int fd;

	ck_assert_msg(extract_sync_tree(tmp_path("data"), &e) == 0, "%s", e.msg);
	fd = open(tmp_path("data"), O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(extract_sync_treeat(fd, "data", &e) == 0, "%s", e.msg);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	close(fd);
	ck_assert_int_eq(extract_sync_tree(tmp_path("missing"), &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "missing") != NULL, "%s", e.msg);
}
END_TEST

static Suite *
extract_suite(void)
{
	Suite *s = suite_create("extract");
	TCase *tc;

	tc = tcase_create("paths");
	tcase_add_test(tc, test_clean_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("trees");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_fd);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_agent_dir_skipped);
	tcase_add_test(tc, test_sync_tree);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dotdot);
	tcase_add_test(tc, test_absolute);
	tcase_add_test(tc, test_through_symlink);
	tcase_add_test(tc, test_write_symlink);
	tcase_add_test(tc, test_symlink_as_parent_later);
	tcase_add_test(tc, test_special);
	tcase_add_test(tc, test_hardlinks);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level(LOG_ERROR);
	return run_suite(extract_suite(), "extract");
}
