/* Unit tests of agent/store on hostile volumes: links, FIFOs and a linked
 * member directory.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "store_fixture.h"
#include "err.h"
#include "store.h"

/* ---- hostile volumes ------------------------------------------------- */

/* tmp/name, outside the member directory. */
static const char *
outside(const char *name)
{
	static char buf[2][PATH_MAX];
	static int next;
	char *b = buf[next++ % 2];

	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", tmp, name), PATH_MAX);
	return b;
}

static void
put_at(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(content, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* A file outside still holds what it held: it was never written. */
static void
assert_content(const char *path, const char *want)
{
	char *got = slurp(path, NULL);

	ck_assert_str_eq(got, want);
	free(got);
}

/* Log lines (stderr) of a stretch of a test, in a file. */
static int saved_stderr = -1;
static char log_path[PATH_MAX];

static void
capture_begin(void)
{
	int fd;

	snprintf(log_path, sizeof log_path, "%s/captured.log", tmp);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_stderr = dup(2);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fd, 2), 0);
	close(fd);
}

/* How many captured lines hold both a and b (b may be NULL). */
static int
capture_count(const char *a, const char *b)
{
	char line[8192];
	int n = 0;
	FILE *f;

	fflush(stderr);
	f = fopen(log_path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

static void
capture_end(void)
{
	fflush(stderr);
	ck_assert_int_ge(dup2(saved_stderr, 2), 0);
	close(saved_stderr);
	saved_stderr = -1;
}

/* A member directory with a good backup and a good legacy one, and next
 * to them links (to files outside), FIFOs and a dangling link where
 * archives and metadata would be. */
static void
build_hostile(void)
{
	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_at(outside("secret"), "TOPSECRET");
	ck_assert_int_eq(chmod(outside("secret"), 0644), 0);
	put_at(outside("secret.json"), "{\"bytes\": 5, \"files\": 5}");
	put_backup("20261124T010203Z", 4, "{\"bytes\": 1, \"files\": 1}");
	put("ok.tar.gz", "legacy");
	set_mtime("ok.tar.gz", utc(2020, 1, 1, 0, 0, 0));
	/* Metadata that is a link to a valid metadata file outside. */
	put("20261124T010204Z.tar.zst", "zz");
	ck_assert_int_eq(symlink(outside("secret.json"),
	    mp("20261124T010204Z.json")), 0);
	/* An archive that is a link. */
	ck_assert_int_eq(symlink(outside("secret"),
	    mp("20261124T010205Z.tar.zst")), 0);
	put("20261124T010205Z.json", "{\"bytes\": 1, \"files\": 1}");
	/* FIFOs as metadata and as archive. */
	put("20261124T010206Z.tar.zst", "zz");
	ck_assert_int_eq(mkfifo(mp("20261124T010206Z.json"), 0600), 0);
	ck_assert_int_eq(mkfifo(mp("20261124T010207Z.tar.zst"), 0600), 0);
	put("20261124T010207Z.json", "{\"bytes\": 1, \"files\": 1}");
	/* Legacy names: a link, a dangling link, a FIFO. */
	ck_assert_int_eq(symlink(outside("secret"), mp("evil.tar.gz")), 0);
	ck_assert_int_eq(symlink("/nonexistent/x", mp("dangling.tar.gz")), 0);
	ck_assert_int_eq(mkfifo(mp("fifo.tar.gz"), 0600), 0);
}

START_TEST(test_list_hostile)
{
	static const char *const skipped[] = {
		"20261124T010204Z.json", "20261124T010205Z.tar.zst",
		"20261124T010206Z.json", "20261124T010207Z.tar.zst",
		"evil.tar.gz", "dangling.tar.gz", "fifo.tar.gz",
	};
	char name[64];
	struct backup_info *list;
	struct store s;
	struct err e;
	size_t n;

	build_hostile();
	open_store(&s);
	capture_begin();
	ck_assert_msg(store_list(&s, &list, &n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].id, "20261124T010203Z");
	ck_assert_int_eq(list[0].bytes, 1);
	ck_assert_str_eq(list[1].id, "ok.tar.gz");
	free(list);
	/* Each skipped name warned about once, not at every listing. */
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
		ck_assert_uint_eq(n, 2);
		free(list);
	}
	for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++) {
		snprintf(name, sizeof name, "name=%s ", skipped[i]);
		ck_assert_msg(capture_count("event=backup_file_skipped", name) == 1,
		    "%s: warned %d times", skipped[i],
		    capture_count("event=backup_file_skipped", name));
	}
	ck_assert_int_eq(capture_count("event=backup_file_skipped", NULL), 7);
	ck_assert_int_eq(capture_count("kind=\"a symbolic link\"", NULL), 4);
	ck_assert_int_eq(capture_count("kind=\"a FIFO\"", NULL), 3);
	/* A new link under the same name (another inode: made before the
	 * old one goes): warned again. */
	ck_assert_int_eq(symlink(outside("secret.json"), mp("new.tmp")), 0);
	ck_assert_int_eq(rename(mp("new.tmp"), mp("evil.tar.gz")), 0);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	free(list);
	ck_assert_int_eq(capture_count("event=backup_file_skipped",
	    "name=evil.tar.gz "), 2);
	ck_assert_int_eq(capture_count("event=backup_file_skipped", NULL), 8);
	capture_end();
	assert_content(outside("secret"), "TOPSECRET");
}
END_TEST

START_TEST(test_find_hostile)
{
	static const struct {
		const char *id, *kind;
	} refused[] = {
		{ "20261124T010204Z", "is a symbolic link: refused" },
		{ "20261124T010205Z", "is a symbolic link: refused" },
		{ "20261124T010206Z", "is a FIFO: refused" },
		{ "20261124T010207Z", "is a FIFO: refused" },
		{ "evil.tar.gz", "is a symbolic link: refused" },
		{ "dangling.tar.gz", "is a symbolic link: refused" },
		{ "fifo.tar.gz", "is a FIFO: refused" },
	};
	struct backup_info b;
	struct store s;
	struct err e;

	build_hostile();
	open_store(&s);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		err_clear(&e);
		ck_assert_msg(store_find(&s, refused[i].id, &b, &e) == -1,
		    "%s found", refused[i].id);
		ck_assert_int_eq(e.code, ERR_NOT_FOUND);
		ck_assert_msg(strstr(e.msg, refused[i].kind) != NULL, "%s: %s",
		    refused[i].id, e.msg);
	}
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), 0);
	ck_assert_str_eq(b.id, "20261124T010203Z");
	ck_assert_int_eq(store_find(&s, "ok.tar.gz", &b, &e), 0);
	ck_assert_int_eq(b.legacy, 1);
	ck_assert_uint_eq(b.size, 6);
	assert_content(outside("secret"), "TOPSECRET");
}
END_TEST

/* member1 a link to a real directory: refused for every use, and the
 * directory it points to is neither chmodded nor written. */
START_TEST(test_member_link)
{
	char real[2200], path[PATH_MAX];
	struct backup_info b, *list;
	struct store s;
	struct stat st;
	struct err e;
	size_t n;

	snprintf(real, sizeof real, "%s/real", tmp);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	ck_assert_int_eq(chmod(real, 0755), 0);
	snprintf(path, sizeof path, "%s/20261124T010203Z.tar.zst", real);
	put_at(path, "zz");
	snprintf(path, sizeof path, "%s/20261124T010203Z.json", real);
	put_at(path, "{\"bytes\": 1, \"files\": 1}");
	snprintf(path, sizeof path, "%s/20261125T000000Z.tar.zst", real);
	put_at(path, "orphan");
	ck_assert_int_eq(symlink(real, mdir), 0);

	err_clear(&e);
	ck_assert_int_eq(store_open(&s, tmp, 1, 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "member1 is a symbolic link: refused") !=
	    NULL, "%s", e.msg);
	ck_assert_int_eq(stat(real, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);

	ck_assert_int_eq(store_open(&s, tmp, 1, 0, &e), 0);
	err_clear(&e);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	err_clear(&e);
	ck_assert_int_eq(store_cleanup(&s, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	err_clear(&e);
	ck_assert_int_eq(store_lock(&s, &e), -1);
	ck_assert_int_eq(s.lock_fd, -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	store_close(&s);
	snprintf(path, sizeof path, "%s/.lock", real);
	ck_assert_int_eq(lstat(path, &st), -1);
	snprintf(path, sizeof path, "%s/20261125T000000Z.tar.zst", real);
	ck_assert_int_eq(lstat(path, &st), 0);

	/* A regular file as member1. */
	ck_assert_int_eq(unlink(mdir), 0);
	put_at(mdir, "x");
	err_clear(&e);
	ck_assert_int_eq(store_open(&s, tmp, 1, 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "is not a directory: refused") != NULL, "%s",
	    e.msg);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), -1);
}
END_TEST

/* A backup's files are opened relative to the member directory, regular
 * files only: a link or FIFO swapped in after the find is refused (and
 * the FIFO does not block). */
START_TEST(test_open_file)
{
	struct backup_info b, byp;
	struct store s;
	struct stat st;
	struct err e;
	char buf[64];
	ssize_t got;
	int fd;

	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_at(outside("secret"), "TOPSECRET");
	put_backup("20261124T010203Z", 4, "{\"bytes\": 1, \"files\": 1}");
	put("old.tar.gz", "legacy");
	open_store(&s);
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), 0);
	fd = store_open_file(&s, &b, 0, &st, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	ck_assert_int_eq(st.st_size, 4);
	got = read(fd, buf, sizeof buf);
	ck_assert_int_eq(got, 4);
	ck_assert_int_eq(memcmp(buf, "zzzz", 4), 0);
	close(fd);
	fd = store_open_file(&s, &b, 1, &st, &e);
	ck_assert_int_ge(fd, 0);
	got = read(fd, buf, sizeof buf - 1);
	ck_assert_int_gt(got, 0);
	buf[got] = '\0';
	ck_assert_str_eq(buf, "{\"bytes\": 1, \"files\": 1}");
	close(fd);
	/* The same without the store, from b alone, and for an archive
	 * named by its path (op_verify's backup_from_path). */
	fd = store_open_file(NULL, &b, 0, &st, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	ck_assert_int_eq(st.st_size, 4);
	close(fd);
	memset(&byp, 0, sizeof byp);
	snprintf(byp.archive_path, sizeof byp.archive_path, "%s",
	    mp("20261124T010203Z.tar.zst"));
	fd = store_open_file(NULL, &byp, 0, &st, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	close(fd);

	ck_assert_int_eq(unlink(mp("20261124T010203Z.tar.zst")), 0);
	ck_assert_int_eq(symlink(outside("secret"),
	    mp("20261124T010203Z.tar.zst")), 0);
	err_clear(&e);
	ck_assert_int_eq(store_open_file(&s, &b, 0, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	err_clear(&e);
	ck_assert_int_eq(store_open_file(NULL, &b, 0, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	err_clear(&e);
	ck_assert_int_eq(store_open_file(NULL, &byp, 0, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	ck_assert_int_eq(unlink(mp("20261124T010203Z.json")), 0);
	ck_assert_int_eq(mkfifo(mp("20261124T010203Z.json"), 0600), 0);
	err_clear(&e);
	ck_assert_int_eq(store_open_file(&s, &b, 1, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a FIFO: refused"));
	/* ... and the full parse refuses them as well. */
	err_clear(&e);
	ck_assert_ptr_null(store_load_meta(&b, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "is a FIFO: refused"));

	ck_assert_int_eq(store_find(&s, "old.tar.gz", &b, &e), 0);
	err_clear(&e);
	ck_assert_int_eq(store_open_file(&s, &b, 1, &st, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
}
END_TEST

/* The full parse reaches the metadata through the member directory, not
 * through a link put in its place. */
START_TEST(test_load_meta_dir_link)
{
	char real[2200], path[PATH_MAX];
	struct backup_info b;
	struct store s;
	struct err e;
	json_t *j;

	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_backup("20261124T010203Z", 4, "{\"bytes\": 1, \"files\": 1}");
	open_store(&s);
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), 0);
	j = store_load_meta(&b, &e);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	/* member1 moved away, a link to a lookalike in its place. */
	snprintf(real, sizeof real, "%s/moved", tmp);
	ck_assert_int_eq(rename(mdir, real), 0);
	ck_assert_int_eq(symlink(real, mdir), 0);
	err_clear(&e);
	ck_assert_ptr_null(store_load_meta(&b, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: refused"));
	snprintf(path, sizeof path, "%s/20261124T010203Z.json", real);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

/* Leftovers that are links go as links (their targets stay); a
 * directory with a leftover's name is kept, and does not fail the
 * cleanup. */
START_TEST(test_cleanup_hostile)
{
	struct store s;
	struct err e;
	struct stat st;

	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_at(outside("victim"), "VICTIM");
	ck_assert_int_eq(symlink(outside("victim"),
	    mp("20261124T010203Z.tar.zst.partial")), 0);
	ck_assert_int_eq(symlink(outside("victim"),
	    mp("20261125T000000Z.tar.zst")), 0);
	ck_assert_int_eq(mkdir(mp("20261126T000000Z.tar.zst.partial"), 0700), 0);
	ck_assert_int_eq(mkfifo(mp("20261127T000000Z.json.partial"), 0600), 0);
	open_store(&s);
	ck_assert_int_eq(store_lock(&s, &e), 0);
	ck_assert_msg(store_cleanup(&s, &e) == 3, "%s", e.msg);
	ck_assert(!exists("20261124T010203Z.tar.zst.partial"));
	ck_assert(!exists("20261125T000000Z.tar.zst"));
	ck_assert(!exists("20261127T000000Z.json.partial"));
	ck_assert_int_eq(lstat(mp("20261126T000000Z.tar.zst.partial"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	assert_content(outside("victim"), "VICTIM");
	store_close(&s);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
store_hostile_suite(void)
{
	Suite *s = suite_create("store_hostile");
	TCase *tc;

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup_tmp, tmp_teardown);
	tcase_add_test(tc, test_list_hostile);
	tcase_add_test(tc, test_find_hostile);
	tcase_add_test(tc, test_member_link);
	tcase_add_test(tc, test_open_file);
	tcase_add_test(tc, test_load_meta_dir_link);
	tcase_add_test(tc, test_cleanup_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(store_hostile_suite(), "store_hostile");
}
