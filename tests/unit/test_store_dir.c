/* Unit tests of agent/store: ids, opening and locking the store, listing,
 * finding, reserving, cleanup and deletion of one member's backups.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "store_fixture.h"
#include "err.h"
#include "store.h"

/* ---- fixtures ------------------------------------------------------- */

/* Names in mdir, sorted, joined by ' '. */
static char *
listing(void)
{
	struct dirent **de;
	char *out;
	size_t len = 1;
	int n = scandir(mdir, &de, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++)
		len += strlen(de[i]->d_name) + 1;
	out = calloc(1, len);
	ck_assert_ptr_nonnull(out);
	for (int i = 0; i < n; i++) {
		if (strcmp(de[i]->d_name, ".") != 0 &&
		    strcmp(de[i]->d_name, "..") != 0) {
			if (out[0])
				strcat(out, " ");
			strcat(out, de[i]->d_name);
		}
		free(de[i]);
	}
	free(de);
	return out;
}

/* ---- ids ------------------------------------------------------------ */

START_TEST(test_id_valid)
{
	static const char *const good[] = {
		"20261124T010203Z", "20261124T010203Z-2", "20261124T010203Z-10",
		"19700101T000000Z", "20261124T010203Z-999",
	};
	static const char *const bad[] = {
		"", "2026-11-24", "20261124T010203", "20261124T010203Z-",
		"20261124T010203Z-a", "20261124T010203Z-2a", "../x",
		"20261124T010203Z/..", "20261124T010203Z%2F..",
		"20261124T010203Z%2f", "%2F20261124T010203Z", "latest",
		"20261124t010203Z", "20261124T010203z", "2026112T4010203Z",
		"20261124T01020Z", "20261124T010203Z--2", "20261124T010203Z+2",
		" 20261124T010203Z", "20261124T010203Z ", "20261124T010203Z.json",
		"20261124T010203Z.tar.zst", "2026112aT010203Z",
		"20261124T010203Z-2/../../etc",
	};
	char longid[400];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(store_id_valid(good[i]), "%s refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!store_id_valid(bad[i]), "'%s' accepted", bad[i]);

	/* Very long: a huge suffix, and plain garbage. */
	memcpy(longid, "20261124T010203Z-", 17);
	memset(longid + 17, '9', 300);
	longid[317] = '\0';
	ck_assert(!store_id_valid(longid));
	memset(longid, '1', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	ck_assert(!store_id_valid(longid));
}
END_TEST

START_TEST(test_legacy_name_valid)
{
	static const char *const good[] = { "a.tar.gz", "member1-2025.tar.gz",
	    "backup 1.tar.gz", "x.y.tar.gz" };
	static const char *const bad[] = { "", ".tar.gz", "../a.tar.gz",
	    "a/b.tar.gz", ".hidden.tar.gz", "a.tar.zst", "a.tar.gz.partial",
	    "a.tgz", "a.tar.gz/", "/a.tar.gz", "a\n.tar.gz", "a.TAR.GZ",
	    "20261124T010203Z" };
	char longname[400];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(store_legacy_name_valid(good[i]), "%s refused",
		    good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!store_legacy_name_valid(bad[i]), "'%s' accepted",
		    bad[i]);
	memset(longname, 'n', sizeof longname);
	strcpy(longname + 300, ".tar.gz");
	ck_assert(!store_legacy_name_valid(longname));
}
END_TEST

START_TEST(test_format_time)
{
	char buf[64];

	store_format_time(utc(2026, 11, 24, 1, 2, 3), buf, sizeof buf);
	ck_assert_str_eq(buf, "2026-11-24T01:02:03Z");
	store_format_time(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}
END_TEST

/* ---- open ----------------------------------------------------------- */

START_TEST(test_open)
{
	struct store s;
	struct stat st;
	struct err e;
	char want[PATH_MAX];

	err_clear(&e);
	ck_assert_int_eq(store_open(&s, tmp, 0, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(s.lock_fd, -1);
	err_clear(&e);
	ck_assert_int_eq(store_open(&s, tmp, -3, 0, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(lstat(mdir, &st), -1);

	/* Without create: nothing made, the store is empty. */
	ck_assert_int_eq(store_open(&s, tmp, 1, 0, &e), 0);
	ck_assert_int_eq(lstat(mdir, &st), -1);
	{
		struct backup_info *list = (void *)1;
		size_t n = 9;
		ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
		ck_assert_uint_eq(n, 0);
		ck_assert_ptr_null(list);
	}

	umask(022);
	ck_assert_int_eq(store_open(&s, tmp, 12, 1, &e), 0);
	snprintf(want, sizeof want, "%s/member12", tmp);
	ck_assert_str_eq(s.dir, want);
	ck_assert_int_eq(s.member, 12);
	ck_assert_int_eq(s.lock_fd, -1);
	ck_assert_int_eq(stat(want, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0700);

	/* An existing directory with a looser mode is tightened. */
	ck_assert_int_eq(mkdir(mdir, 0755), 0);
	ck_assert_int_eq(chmod(mdir, 0755), 0);
	ck_assert_int_eq(store_open(&s, tmp, 1, 1, &e), 0);
	ck_assert_int_eq(stat(mdir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);

	/* A trailing slash on backup_dir. */
	snprintf(want, sizeof want, "%s/", tmp);
	ck_assert_int_eq(store_open(&s, want, 1, 0, &e), 0);
	ck_assert_str_eq(s.dir, mdir);

	/* Missing backup_dir with create: an error, nothing made. */
	snprintf(want, sizeof want, "%s/nope", tmp);
	err_clear(&e);
	ck_assert_int_eq(store_open(&s, want, 1, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_int_eq(lstat(want, &st), -1);
}
END_TEST

START_TEST(test_lock)
{
	struct store s, s2;
	struct err e;
	pid_t pid;
	int st;

	open_store(&s);
	ck_assert_int_eq(store_lock(&s, &e), 0);
	ck_assert_int_ge(s.lock_fd, 0);
	ck_assert(exists(".lock"));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct err ce;
		if (store_open(&s2, tmp, 1, 0, &ce) < 0)
			_exit(2);
		if (store_lock(&s2, &ce) != -1)
			_exit(3);
		_exit(ce.code == ERR_BUSY ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	store_close(&s);
	ck_assert_int_eq(s.lock_fd, -1);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct err ce;
		if (store_open(&s2, tmp, 1, 0, &ce) < 0)
			_exit(2);
		_exit(store_lock(&s2, &ce) == 0 ? 0 : 5);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

/* ---- list and find -------------------------------------------------- */

START_TEST(test_list)
{
	static const struct {
		const char *id;
		int legacy;
		uint64_t size;
		long long bytes, files;
	} want[] = {
		{ "20261124T010203Z-10", 0, 14, 1000, 10 },
		{ "20261124T010203Z-9", 0, 13, 900, 9 },
		{ "20261124T010203Z-2", 0, 12, 200, 4 },
		{ "20261124T010203Z", 0, 10, 100, 3 },
		{ "mid.tar.gz", 1, 11, -1, -1 },
		{ "20261123T000000Z", 0, 5, 1, 1 },
		{ "20261122T000000Z", 0, 7, -1, -1 },
		{ "20261121T000000Z", 0, 3, -1, -1 },
		{ "old.tar.gz", 1, 10, -1, -1 },
	};
	const time_t created[] = {
		utc(2026, 11, 24, 1, 2, 3), utc(2026, 11, 24, 1, 2, 3),
		utc(2026, 11, 24, 1, 2, 3), utc(2026, 11, 24, 1, 2, 3),
		utc(2026, 11, 23, 12, 0, 0), utc(2026, 11, 23, 0, 0, 0),
		utc(2026, 11, 22, 0, 0, 0), utc(2026, 11, 21, 0, 0, 0),
		utc(2020, 1, 1, 0, 0, 0),
	};
	struct backup_info *list;
	struct store s;
	struct err e;
	size_t n;

	build_member();
	open_store(&s);
	ck_assert_msg(store_list(&s, &list, &n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		char name[STORE_ID_MAX + 16];
		ck_assert_str_eq(list[i].id, want[i].id);
		ck_assert_int_eq(list[i].legacy, want[i].legacy);
		ck_assert_int_eq(list[i].created, created[i]);
		ck_assert_uint_eq(list[i].size, want[i].size);
		ck_assert_int_eq(list[i].bytes, want[i].bytes);
		ck_assert_int_eq(list[i].files, want[i].files);
		if (want[i].legacy) {
			ck_assert_str_eq(list[i].archive_path, mp(want[i].id));
			ck_assert_str_eq(list[i].archive_name, want[i].id);
			ck_assert_str_eq(list[i].meta_name, "");
		} else {
			snprintf(name, sizeof name, "%s.tar.zst", want[i].id);
			ck_assert_str_eq(list[i].archive_path, mp(name));
			ck_assert_str_eq(list[i].archive_name, name);
			snprintf(name, sizeof name, "%s.json", want[i].id);
			ck_assert_str_eq(list[i].meta_path, mp(name));
			ck_assert_str_eq(list[i].meta_name, name);
		}
	}
	free(list);
}
END_TEST

START_TEST(test_list_empty)
{
	struct backup_info *list;
	struct store s;
	struct err e;
	size_t n = 5;

	open_store(&s);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	free(list);
}
END_TEST

START_TEST(test_find)
{
	struct backup_info b;
	struct store s;
	struct err e;

	build_member();
	open_store(&s);

	ck_assert_int_eq(store_find(&s, "20261123T000000Z", &b, &e), 0);
	ck_assert_str_eq(b.id, "20261123T000000Z");
	ck_assert_int_eq(b.legacy, 0);
	ck_assert_int_eq(b.bytes, 1);
	ck_assert_str_eq(b.archive_path, mp("20261123T000000Z.tar.zst"));

	ck_assert_int_eq(store_find(&s, "20261124T010203Z-2", &b, &e), 0);
	ck_assert_str_eq(b.id, "20261124T010203Z-2");
	ck_assert_int_eq(b.files, 4);

	ck_assert_int_eq(store_find(&s, "old.tar.gz", &b, &e), 0);
	ck_assert_int_eq(b.legacy, 1);
	ck_assert_int_eq(b.created, utc(2020, 1, 1, 0, 0, 0));

	/* latest: newest complete, same second: the highest suffix. */
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), 0);
	ck_assert_str_eq(b.id, "20261124T010203Z-10");

	/* Unknown (incomplete ones included) and bad ids. */
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "20261125T000000Z", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(e.msg, "20261125T000000Z"));
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "20261126T000000Z", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "20261127T000000Z", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "nope.tar.gz", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "../x", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_BAD_REQUEST);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "20261124T010203Z/..", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_BAD_REQUEST);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_BAD_REQUEST);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "notes.txt", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_BAD_REQUEST);
}
END_TEST

START_TEST(test_find_latest_legacy)
{
	struct backup_info b;
	struct store s;
	struct err e;

	open_store(&s);
	/* Empty: not found. */
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);

	/* Only legacy ones: the newest of them. */
	put("a.tar.gz", "a");
	set_mtime("a.tar.gz", utc(2025, 1, 1, 0, 0, 0));
	put("b.tar.gz", "b");
	set_mtime("b.tar.gz", utc(2025, 6, 1, 0, 0, 0));
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), 0);
	ck_assert_str_eq(b.id, "b.tar.gz");
	ck_assert_int_eq(b.legacy, 1);

	/* A complete backup wins even over a newer legacy one. */
	put_backup("20240101T000000Z", 4, "{\"bytes\": 1, \"files\": 1}");
	set_mtime("b.tar.gz", utc(2030, 1, 1, 0, 0, 0));
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), 0);
	ck_assert_str_eq(b.id, "20240101T000000Z");
	ck_assert_int_eq(b.legacy, 0);
}
END_TEST

START_TEST(test_find_missing_dir)
{
	struct backup_info b;
	struct store s;
	struct err e;

	ck_assert_int_eq(store_open(&s, tmp, 7, 0, &e), 0);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	err_clear(&e);
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_load_meta)
{
	struct backup_info b;
	struct store s;
	struct err e;
	json_t *j;

	build_member();
	open_store(&s);
	ck_assert_int_eq(store_find(&s, "20261124T010203Z-10", &b, &e), 0);
	j = store_load_meta(&b, &e);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes")), 1000);
	ck_assert_str_eq(json_string_value(json_object_get(j, "x")), "y");
	json_decref(j);

	ck_assert_int_eq(store_find(&s, "old.tar.gz", &b, &e), 0);
	err_set(&e, ERR_FAILED, "stale");
	ck_assert_ptr_null(store_load_meta(&b, &e));
	ck_assert_int_eq(e.code, ERR_OK);
	ck_assert_str_eq(e.msg, "");

	ck_assert_int_eq(store_find(&s, "20261122T000000Z", &b, &e), 0);
	ck_assert_ptr_null(store_load_meta(&b, &e));
	ck_assert_int_eq(e.code, ERR_VERIFY);
}
END_TEST

/* ---- reserve and cleanup -------------------------------------------- */

START_TEST(test_reserve)
{
	time_t t = utc(2026, 11, 24, 1, 2, 3);
	char id[STORE_ID_MAX];
	struct store s;
	struct stat st;
	struct err e;
	int fd1, fd2, fd3, fd4;

	umask(022);
	open_store(&s);
	ck_assert_int_eq(store_lock(&s, &e), 0);

	fd1 = store_reserve(&s, t, id, sizeof id, &e);
	ck_assert_int_ge(fd1, 0);
	ck_assert_str_eq(id, "20261124T010203Z");
	ck_assert_int_eq(stat(mp("20261124T010203Z.tar.zst.partial"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 0);
	/* The fd writes the partial file. */
	ck_assert_int_eq(write(fd1, "abc", 3), 3);
	ck_assert_int_eq(stat(mp("20261124T010203Z.tar.zst.partial"), &st), 0);
	ck_assert_int_eq(st.st_size, 3);

	fd2 = store_reserve(&s, t, id, sizeof id, &e);
	ck_assert_int_ge(fd2, 0);
	ck_assert_str_eq(id, "20261124T010203Z-2");
	fd3 = store_reserve(&s, t, id, sizeof id, &e);
	ck_assert_int_ge(fd3, 0);
	ck_assert_str_eq(id, "20261124T010203Z-3");
	ck_assert(exists("20261124T010203Z-2.tar.zst.partial"));
	ck_assert(exists("20261124T010203Z-3.tar.zst.partial"));
	/* The first reservation's file was not touched. */
	ck_assert_int_eq(stat(mp("20261124T010203Z.tar.zst.partial"), &st), 0);
	ck_assert_int_eq(st.st_size, 3);
	close(fd1);
	close(fd2);
	close(fd3);

	/* A complete backup (or a bare archive or metadata) holds its id. */
	put_backup("20261125T000000Z", 1, "{}");
	put("20261125T000000Z-2.tar.zst", "x");
	put("20261125T000000Z-3.json", "{}");
	fd4 = store_reserve(&s, utc(2026, 11, 25, 0, 0, 0), id, sizeof id, &e);
	ck_assert_int_ge(fd4, 0);
	ck_assert_str_eq(id, "20261125T000000Z-4");
	close(fd4);

	/* A new id sorts after every earlier one of the same second, even
	 * when the lower ones were deleted; other seconds do not count. */
	put_backup("20261126T000000Z-7", 1, "{}");
	put_backup("20261126T000001Z-9", 1, "{}");
	put_backup("20261126T00000Z-12", 1, "{}");
	fd4 = store_reserve(&s, utc(2026, 11, 26, 0, 0, 0), id, sizeof id, &e);
	ck_assert_int_ge(fd4, 0);
	ck_assert_str_eq(id, "20261126T000000Z-8");
	close(fd4);
	ck_assert(exists("20261126T000000Z-8.tar.zst.partial"));
	ck_assert(!exists("20261126T000000Z.tar.zst.partial"));
	store_close(&s);
}
END_TEST

START_TEST(test_cleanup)
{
	struct store s;
	struct err e;
	char *names;

	open_store(&s);
	put_backup("20261124T010203Z", 4, "{\"bytes\": 1, \"files\": 1}");
	put_backup("20261123T000000Z", 4, "{\"bytes\": 1, \"files\": 1}");
	put("legacy.tar.gz", "L");
	put("notes.txt", "n");
	put("20261125T000000Z.tar.zst.partial", "p");   /* interrupted */
	put("20261126T000000Z.tar.zst", "a");           /* no metadata */
	put("20261126T000000Z.json.partial", "{");       /* interrupted */
	put("20261124T010203Z.json.partial", "{");       /* next to complete */
	ck_assert_int_eq(store_lock(&s, &e), 0);

	ck_assert_int_eq(store_cleanup(&s, &e), 4);
	names = listing();
	ck_assert_str_eq(names, ".lock 20261123T000000Z.json "
	    "20261123T000000Z.tar.zst 20261124T010203Z.json "
	    "20261124T010203Z.tar.zst legacy.tar.gz notes.txt");
	free(names);

	/* Nothing left to do. */
	ck_assert_int_eq(store_cleanup(&s, &e), 0);
	store_close(&s);

	/* A missing member directory: nothing to clean. */
	ck_assert_int_eq(store_open(&s, tmp, 2, 0, &e), 0);
	ck_assert_int_eq(store_cleanup(&s, &e), 0);
}
END_TEST

/* ---- delete --------------------------------------------------------- */

START_TEST(test_delete)
{
	struct backup_info b, *list;
	struct store s;
	struct err e;
	size_t n;
	char *names;

	open_store(&s);
	put_backup("20261124T010203Z", 4, "{\"bytes\": 1, \"files\": 1}");
	put_backup("20261123T000000Z", 4, "{\"bytes\": 1, \"files\": 1}");
	put("legacy.tar.gz", "L");
	ck_assert_int_eq(store_lock(&s, &e), 0);

	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), 0);
	ck_assert_msg(store_delete(&s, &b, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(store_find(&s, "legacy.tar.gz", &b, &e), 0);
	ck_assert_msg(store_delete(&s, &b, &e) == 0, "%s", e.msg);
	names = listing();
	ck_assert_str_eq(names, ".lock 20261123T000000Z.json "
	    "20261123T000000Z.tar.zst");
	free(names);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].id, "20261123T000000Z");
	free(list);
	store_close(&s);
}
END_TEST

/* Metadata goes first: when the archive cannot be removed, the backup is
 * already incomplete; when the metadata cannot, the archive is still
 * there. */
START_TEST(test_delete_order)
{
	struct backup_info b;
	struct store s;
	struct err e;

	open_store(&s);
	put_backup("20261124T010203Z", 4, "{\"bytes\": 1, \"files\": 1}");
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), 0);

	/* The archive made unremovable: a non-empty directory. */
	ck_assert_int_eq(mkdir(mp("blocker"), 0700), 0);
	put("blocker/f", "x");
	snprintf(b.archive_name, sizeof b.archive_name, "blocker");
	err_clear(&e);
	ck_assert_int_eq(store_delete(&s, &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert(!exists("20261124T010203Z.json"));
	ck_assert(exists("20261124T010203Z.tar.zst"));
	ck_assert(exists("blocker/f"));

	/* The metadata path made unremovable: the archive stays. */
	put("20261124T010203Z.json", "{}");
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), 0);
	snprintf(b.meta_name, sizeof b.meta_name, "blocker");
	err_clear(&e);
	ck_assert_int_eq(store_delete(&s, &b, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert(exists("20261124T010203Z.tar.zst"));
	ck_assert(exists("20261124T010203Z.json"));

	/* Already gone: not an error. */
	ck_assert_int_eq(store_find(&s, "20261124T010203Z", &b, &e), 0);
	ck_assert_int_eq(store_delete(&s, &b, &e), 0);
	ck_assert_int_eq(store_delete(&s, &b, &e), 0);
	ck_assert(!exists("20261124T010203Z.tar.zst"));
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
store_dir_suite(void)
{
	Suite *s = suite_create("store_dir");
	TCase *tc;

	tc = tcase_create("ids");
	tcase_add_test(tc, test_id_valid);
	tcase_add_test(tc, test_legacy_name_valid);
	tcase_add_test(tc, test_format_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("dir");
	tcase_add_checked_fixture(tc, setup_tmp, tmp_teardown);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_empty);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_find_latest_legacy);
	tcase_add_test(tc, test_find_missing_dir);
	tcase_add_test(tc, test_load_meta);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_cleanup);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_delete_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(store_dir_suite(), "store_dir");
}
