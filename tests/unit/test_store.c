/* Unit tests of agent/store: ids, listing, finding, reserving, cleanup,
 * retention and deletion of one member's backups; links, FIFOs and a
 * linked member directory on the volume; the metadata summaries and their
 * cache.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "err.h"
#include "store.h"

/* ---- fixtures ------------------------------------------------------- */

static char mdir[2304];   /* tmp/member1 */

static void
setup_tmp(void)
{
	tmp_setup();
	snprintf(mdir, sizeof mdir, "%s/member1", tmp);
}

/* mdir/name into a static buffer (two in turn). */
static const char *
mp(const char *name)
{
	static char buf[2][PATH_MAX];
	static int next;
	char *b = buf[next++ % 2];

	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", mdir, name), PATH_MAX);
	return b;
}

static void
put(const char *name, const char *content)
{
	const char *p = mp(name);
	FILE *f = fopen(p, "w");

	ck_assert_msg(f != NULL, "fopen %s: %s", p, strerror(errno));
	ck_assert_int_ge(fputs(content, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static int
exists(const char *name)
{
	struct stat st;

	return lstat(mp(name), &st) == 0;
}

static void
set_mtime(const char *name, time_t t)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, mp(name), ts, 0), 0);
}

/* A complete backup: archive of asize bytes and metadata. */
static void
put_backup(const char *id, size_t asize, const char *json)
{
	char name[STORE_ID_MAX + 16];
	char *data = malloc(asize + 1);

	ck_assert_ptr_nonnull(data);
	memset(data, 'z', asize);
	data[asize] = '\0';
	snprintf(name, sizeof name, "%s.tar.zst", id);
	put(name, data);
	free(data);
	snprintf(name, sizeof name, "%s.json", id);
	put(name, json);
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void
open_store(struct store *s)
{
	struct err e;

	ck_assert_msg(store_open(s, tmp, 1, 1, &e) == 0, "%s", e.msg);
}

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

/* The member directory of the listing tests. */
static void
build_member(void)
{
	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_backup("20261124T010203Z", 10, "{\"bytes\": 100, \"files\": 3}\n");
	put_backup("20261124T010203Z-2", 12, "{\"bytes\": 200, \"files\": 4}");
	put_backup("20261124T010203Z-9", 13, "{\"bytes\": 900, \"files\": 9}");
	put_backup("20261124T010203Z-10", 14,
	    "{\"bytes\": 1000, \"files\": 10, \"x\": \"y\"}");
	put_backup("20261123T000000Z", 5, "{\"bytes\": 1, \"files\": 1}");
	/* Metadata that does not parse: listed, counts unknown. */
	put_backup("20261122T000000Z", 7, "not json");
	/* Metadata with negative or mistyped fields. */
	put_backup("20261121T000000Z", 3, "{\"bytes\": -5, \"files\": \"7\"}");
	/* Archive without metadata, metadata without archive, partials. */
	put("20261125T000000Z.tar.zst", "aaaa");
	put("20261126T000000Z.json", "{\"bytes\": 1, \"files\": 1}");
	put("20261127T000000Z.tar.zst.partial", "p");
	put("20261127T000000Z.json.partial", "{}");
	/* An archive that is a directory. */
	ck_assert_int_eq(mkdir(mp("20261128T000000Z.tar.zst"), 0700), 0);
	put("20261128T000000Z.json", "{\"bytes\": 1, \"files\": 1}");
	/* Legacy backups (created = mtime). */
	put("old.tar.gz", "legacy-old");
	set_mtime("old.tar.gz", utc(2020, 1, 1, 0, 0, 0));
	put("mid.tar.gz", "legacy-mid!");
	set_mtime("mid.tar.gz", utc(2026, 11, 23, 12, 0, 0));
	/* Junk. */
	put("notes.txt", "hello");
	put("foo.json", "{}");
	put("foo.tar.zst", "x");
	put(".hidden.tar.gz", "x");
	put(".lock", "");
	put("20261124T010203Z-.json", "{}");
	put("20261124T010203Z-.tar.zst", "x");
	ck_assert_int_eq(mkdir(mp("dir.tar.gz"), 0700), 0);
}

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

/* ---- retention ------------------------------------------------------ */

static const time_t NOW = 1800000000;   /* fixed: no wall clock */
#define DAY 86400

static void
fill(struct backup_info *b, const char *id, int legacy, time_t created)
{
	memset(b, 0, sizeof *b);
	snprintf(b->id, sizeof b->id, "%s", id);
	b->legacy = legacy;
	b->created = created;
	b->bytes = b->files = -1;
}

static void
plan_is(const struct backup_info *l, size_t n, long long keep_last,
    long long keep_days, const int *want)
{
	int del[16];

	ck_assert_uint_le(n, 16);
	memset(del, 0x7f, sizeof del);
	store_retention_plan(l, n, keep_last, keep_days, NOW, del);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(del[i] == want[i], "keep_last=%lld keep_days=%lld: "
		    "del[%zu] (%s) is %d, want %d", keep_last, keep_days, i,
		    l[i].id, del[i], want[i]);
}

START_TEST(test_retention_keep_last)
{
	struct backup_info l[5];
	static const int k1[] = { 0, 1, 1, 1, 1 };
	static const int k2[] = { 0, 0, 1, 1, 1 };
	static const int k5[] = { 0, 0, 0, 0, 0 };
	static const int k9[] = { 0, 0, 0, 0, 0 };

	for (int i = 0; i < 5; i++) {
		char id[32];
		snprintf(id, sizeof id, "b%d", i);
		fill(&l[i], id, 0, NOW - (time_t)(i * 10) * DAY);
	}
	plan_is(l, 5, 1, 0, k1);
	plan_is(l, 5, 2, 0, k2);
	plan_is(l, 5, 5, 0, k5);
	plan_is(l, 5, 9, 0, k9);
}
END_TEST

START_TEST(test_retention_keep_days)
{
	struct backup_info l[5];
	static const int d2[] = { 0, 0, 1, 1, 1 };
	static const int d3[] = { 0, 0, 0, 1, 1 };
	static const int d100[] = { 0, 0, 0, 0, 0 };

	fill(&l[0], "b0", 0, NOW - 3600);
	fill(&l[1], "b1", 0, NOW - DAY - 3600);
	fill(&l[2], "b2", 0, NOW - 2 * DAY);       /* exactly 2 days old */
	fill(&l[3], "b3", 0, NOW - 3 * DAY - 1);
	fill(&l[4], "b4", 0, NOW - 50 * DAY);
	plan_is(l, 5, 0, 2, d2);
	plan_is(l, 5, 0, 3, d3);
	plan_is(l, 5, 0, 100, d100);
}
END_TEST

START_TEST(test_retention_both)
{
	struct backup_info l[5];
	/* keep_last 1 keeps b0; keep_days 2 keeps b0, b1. */
	static const int a[] = { 0, 0, 1, 1, 1 };
	/* keep_last 4 keeps b0..b3 though all are older than 1 day. */
	static const int b[] = { 0, 0, 0, 0, 1 };
	/* keep_days 40 keeps b0..b3; keep_last 2 keeps b0, b1. */
	static const int c[] = { 0, 0, 0, 0, 1 };

	fill(&l[0], "b0", 0, NOW - 3600);
	fill(&l[1], "b1", 0, NOW - DAY - 3600);
	fill(&l[2], "b2", 0, NOW - 10 * DAY);
	fill(&l[3], "b3", 0, NOW - 30 * DAY);
	fill(&l[4], "b4", 0, NOW - 50 * DAY);
	plan_is(l, 5, 1, 2, a);
	plan_is(l, 5, 4, 1, b);
	plan_is(l, 5, 2, 40, c);
}
END_TEST

START_TEST(test_retention_off)
{
	struct backup_info l[4];
	static const int none[] = { 0, 0, 0, 0 };

	for (int i = 0; i < 4; i++) {
		char id[32];
		snprintf(id, sizeof id, "b%d", i);
		fill(&l[i], id, 0, NOW - (time_t)(i + 1) * 365 * DAY);
	}
	plan_is(l, 4, 0, 0, none);
	store_retention_plan(l, 0, 1, 1, NOW, NULL);   /* empty list */
}
END_TEST

START_TEST(test_retention_newest_stays)
{
	struct backup_info l[4];
	static const int want[] = { 0, 1, 1, 1 };
	static const int want_l[] = { 0, 0, 1, 0, 1 };
	struct backup_info m[5];

	for (int i = 0; i < 4; i++) {
		char id[32];
		snprintf(id, sizeof id, "b%d", i);
		fill(&l[i], id, 0, NOW - (time_t)(i + 10) * DAY);
	}
	plan_is(l, 4, 0, 1, want);

	/* The newest complete one, behind a newer legacy one. */
	fill(&m[0], "new.tar.gz", 1, NOW);
	fill(&m[1], "b1", 0, NOW - 10 * DAY);
	fill(&m[2], "b2", 0, NOW - 11 * DAY);
	fill(&m[3], "mid.tar.gz", 1, NOW - 12 * DAY);
	fill(&m[4], "b4", 0, NOW - 13 * DAY);
	plan_is(m, 5, 0, 1, want_l);
}
END_TEST

START_TEST(test_retention_legacy)
{
	struct backup_info l[6];
	/* Legacy never goes and does not count for keep_last. */
	static const int k2[] = { 0, 0, 0, 0, 1, 0 };
	static const int k1d1[] = { 0, 0, 1, 0, 1, 0 };
	static const int all_legacy[] = { 0, 0, 0 };

	fill(&l[0], "new.tar.gz", 1, NOW - 1);
	fill(&l[1], "b1", 0, NOW - 5 * DAY);
	fill(&l[2], "b2", 0, NOW - 6 * DAY);
	fill(&l[3], "mid.tar.gz", 1, NOW - 7 * DAY);
	fill(&l[4], "b4", 0, NOW - 8 * DAY);
	fill(&l[5], "old.tar.gz", 1, NOW - 900 * DAY);
	plan_is(l, 6, 2, 0, k2);
	plan_is(l, 6, 1, 1, k1d1);

	fill(&l[0], "a.tar.gz", 1, NOW - 100 * DAY);
	fill(&l[1], "b.tar.gz", 1, NOW - 200 * DAY);
	fill(&l[2], "c.tar.gz", 1, NOW - 300 * DAY);
	plan_is(l, 3, 1, 1, all_legacy);
}
END_TEST

/* The plan on a real listing, with same-second suffixes. */
START_TEST(test_retention_on_list)
{
	struct backup_info *list;
	struct store s;
	struct err e;
	size_t n;
	int del[16];

	build_member();
	open_store(&s);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 9);
	store_retention_plan(list, n, 2, 0, NOW, del);
	for (size_t i = 0; i < n; i++) {
		int keep = strcmp(list[i].id, "20261124T010203Z-10") == 0 ||
		    strcmp(list[i].id, "20261124T010203Z-9") == 0 ||
		    list[i].legacy;
		ck_assert_msg(del[i] == !keep, "%s: del %d", list[i].id, del[i]);
	}
	free(list);
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

/* ---- the summary cache ----------------------------------------------- */

/* Wait until every file of mdir was last changed more than a second ago
 * (after the store's window for coarse file times), whatever the speed of
 * the machine. */
static void
settle(void)
{
	struct timespec newest = { 0, 0 }, now;
	struct dirent *de;
	DIR *d = opendir(mdir);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (lstat(mp(de->d_name), &st) < 0)
			continue;
		const struct timespec *t[2] = { &st.st_mtim, &st.st_ctim };
		for (int i = 0; i < 2; i++)
			if (t[i]->tv_sec > newest.tv_sec ||
			    (t[i]->tv_sec == newest.tv_sec &&
			    t[i]->tv_nsec > newest.tv_nsec))
				newest = *t[i];
	}
	closedir(d);
	newest.tv_sec += 1;
	newest.tv_nsec += 100000000;
	if (newest.tv_nsec >= 1000000000) {
		newest.tv_sec++;
		newest.tv_nsec -= 1000000000;
	}
	for (;;) {
		struct timespec nap = { 0, 50000000 };
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > newest.tv_sec || (now.tv_sec == newest.tv_sec &&
		    now.tv_nsec > newest.tv_nsec))
			break;
		nanosleep(&nap, NULL);
	}
}

/* The opens of *.json files in mdir since the last call (inotify). */
static int
json_opens(int in, const char *only)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	ssize_t len;

	while ((len = read(in, buf, sizeof buf)) > 0)
		for (char *p = buf; p < buf + len; ) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if ((ev->mask & IN_OPEN) && ev->len > 0 &&
			    strlen(ev->name) > 5 &&
			    strcmp(ev->name + strlen(ev->name) - 5, ".json") == 0 &&
			    (!only || strcmp(ev->name, only) == 0))
				n++;
			p += sizeof *ev + ev->len;
		}
	ck_assert_msg(len < 0 && errno == EAGAIN, "inotify read: %s",
	    strerror(errno));
	return n;
}

static int
watch_mdir(void)
{
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(inotify_add_watch(in, mdir, IN_OPEN), 0);
	return in;
}

/* List and check the bytes of the three backups of test_summary_cache. */
static void
list_bytes(const struct store *s, long long a, long long b, long long c)
{
	struct backup_info *list;
	struct err e;
	size_t n;

	ck_assert_msg(store_list(s, &list, &n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[2].id, "20261122T000000Z");
	ck_assert_int_eq(list[2].bytes, a);
	ck_assert_int_eq(list[1].bytes, b);
	ck_assert_int_eq(list[0].bytes, c);
	free(list);
}

#define A_JSON "20261122T000000Z.json"
#define B_JSON "20261123T000000Z.json"
#define C_JSON "20261124T000000Z.json"

/* Each metadata file is read once; a new inode, size, mtime or ctime
 * means it is read again (mtime never changes without ctime: the
 * in-place rewrite below changes both). */
START_TEST(test_summary_cache)
{
	struct backup_info b;
	struct timespec ts[2];
	struct store s;
	struct err e;
	json_t *j;
	FILE *f;
	int in;

	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_backup("20261122T000000Z", 4, "{\"bytes\": 100, \"files\": 1}");
	put_backup("20261123T000000Z", 4, "{\"bytes\": 200, \"files\": 2}");
	put_backup("20261124T000000Z", 4, "{\"bytes\": 300, \"files\": 3, "
	    "\"entries\": [{\"path\": \"a\"}]}");
	open_store(&s);
	settle();
	in = watch_mdir();

	list_bytes(&s, 100, 200, 300);
	ck_assert_int_eq(json_opens(in, NULL), 3);
	/* Unchanged: not read again, by a listing, a find or a summary. */
	list_bytes(&s, 100, 200, 300);
	ck_assert_int_eq(store_find(&s, "latest", &b, &e), 0);
	ck_assert_int_eq(store_find(&s, "20261123T000000Z", &b, &e), 0);
	ck_assert_int_eq(b.files, 2);
	ck_assert_int_eq(store_find(&s, "20261124T000000Z", &b, &e), 0);
	j = store_summary(&s, &b, &e);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes")), 300);
	ck_assert_ptr_null(json_object_get(j, "entries"));
	json_decref(j);
	ck_assert_int_eq(json_opens(in, NULL), 0);

	/* A new inode, with the same content. */
	put("new.tmp", "{\"bytes\": 100, \"files\": 1}");
	ck_assert_int_eq(rename(mp("new.tmp"), mp(A_JSON)), 0);
	settle();
	list_bytes(&s, 100, 200, 300);
	ck_assert_int_eq(json_opens(in, A_JSON), 1);
	ck_assert_int_eq(json_opens(in, NULL), 0);
	list_bytes(&s, 100, 200, 300);
	ck_assert_int_eq(json_opens(in, NULL), 0);

	/* Another size. */
	put(B_JSON, "{\"bytes\": 2000, \"files\": 2}");
	json_opens(in, NULL);   /* the test's own */
	settle();
	list_bytes(&s, 100, 2000, 300);
	ck_assert_int_eq(json_opens(in, B_JSON), 1);
	list_bytes(&s, 100, 2000, 300);
	ck_assert_int_eq(json_opens(in, NULL), 0);

	/* The same size and inode, rewritten in place: mtime and ctime. */
	ck_assert_ptr_nonnull(f = fopen(mp(A_JSON), "r+"));
	ck_assert_int_ge(fputs("{\"bytes\": 101", f), 0);
	ck_assert_int_eq(fclose(f), 0);
	json_opens(in, NULL);
	settle();
	list_bytes(&s, 101, 2000, 300);
	ck_assert_int_eq(json_opens(in, NULL), 1);

	/* ctime alone: a chmod. */
	ck_assert_int_eq(chmod(mp(C_JSON), 0640), 0);
	settle();
	list_bytes(&s, 101, 2000, 300);
	ck_assert_int_eq(json_opens(in, C_JSON), 1);
	list_bytes(&s, 101, 2000, 300);
	ck_assert_int_eq(json_opens(in, NULL), 0);

	/* A file whose times are in the future (another machine's clock):
	 * its times cannot be trusted, it is read at every listing. */
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += 86400;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, mp(B_JSON), ts, 0), 0);
	list_bytes(&s, 101, 2000, 300);
	list_bytes(&s, 101, 2000, 300);
	ck_assert_int_eq(json_opens(in, B_JSON), 2);
	set_mtime(B_JSON, utc(2026, 1, 1, 0, 0, 0));
	settle();
	list_bytes(&s, 101, 2000, 300);
	list_bytes(&s, 101, 2000, 300);
	ck_assert_int_eq(json_opens(in, B_JSON), 1);
	close(in);
}
END_TEST

/* The cache keeps no entry for a file that is gone, nor for a directory
 * that is gone or replaced. */
START_TEST(test_summary_cache_bounded)
{
	struct backup_info *list;
	struct store s;
	struct err e;
	size_t n, base, entries, bytes, bytes_all;
	char id[32];

	/* An earlier test's directory may have had this one's inode: its
	 * entries go with the first listing. */
	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	open_store(&s);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	store_cache_stats(&base, NULL);
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "20261124T0000%02dZ", i);
		put_backup(id, 1, "{\"bytes\": 1, \"files\": 1}");
	}
	ck_assert_int_eq(symlink("x", mp("link.tar.gz")), 0);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	free(list);
	ck_assert_uint_eq(n, 40);
	store_cache_stats(&entries, &bytes_all);
	ck_assert_uint_eq(entries, base + 41);
	for (int i = 0; i < 30; i++) {
		char name[64];
		snprintf(name, sizeof name, "20261124T0000%02dZ.json", i);
		ck_assert_int_eq(unlink(mp(name)), 0);
	}
	ck_assert_int_eq(unlink(mp("link.tar.gz")), 0);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	free(list);
	ck_assert_uint_eq(n, 10);
	store_cache_stats(&entries, &bytes);
	ck_assert_uint_eq(entries, base + 10);
	ck_assert_uint_lt(bytes, bytes_all);

	/* The directory replaced by another one: the old one's entries go. */
	rm_rf(mdir);
	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_backup("20261125T000000Z", 1, "{\"bytes\": 1, \"files\": 1}");
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	free(list);
	ck_assert_uint_eq(n, 1);
	store_cache_stats(&entries, NULL);
	ck_assert_uint_eq(entries, base + 1);
	/* Gone altogether. */
	rm_rf(mdir);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	store_cache_stats(&entries, NULL);
	ck_assert_uint_eq(entries, base);
}
END_TEST

/* The summary: everything but the top-level entry list, read without
 * holding that list; strings and nested objects are not mistaken for it;
 * hostile files are bounded. */
START_TEST(test_summary_content)
{
	struct backup_info b, *list;
	struct store s;
	struct err e;
	json_t *j;
	FILE *f;
	size_t n;
	char *pad;

	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	/* A long entry list in the middle, tricky strings around it. */
	ck_assert_ptr_nonnull(f = fopen(mp("20261124T000000Z.json"), "w"));
	fputs("{\"x\": \"}\\\"{[\\\\\", \"node\": {\"entries\": 7, "
	    "\"block_number\": 5}, \"entries\": [", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "%s{\"path\": \"d/\\\"%d}]\", \"type\": \"file\"}",
		    i ? ", " : "", i);
	fputs("], \"bytes\": 123456, \"files\": 20000, \"entries2\": [1]}\n", f);
	ck_assert_int_eq(fclose(f), 0);
	put("20261124T000000Z.tar.zst", "z");
	open_store(&s);
	ck_assert_int_eq(store_find(&s, "20261124T000000Z", &b, &e), 0);
	ck_assert_int_eq(b.bytes, 123456);
	ck_assert_int_eq(b.files, 20000);
	j = store_summary(&s, &b, &e);
	ck_assert_msg(j != NULL, "%s", e.msg);
	ck_assert_str_eq(json_string_value(json_object_get(j, "x")), "}\"{[\\");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "node"), "entries")), 7);
	ck_assert_ptr_null(json_object_get(j, "entries"));
	ck_assert_ptr_nonnull(json_object_get(j, "entries2"));
	ck_assert_uint_eq(json_object_size(j), 5);
	json_decref(j);
	/* The full parse still has the entries. */
	j = store_load_meta(&b, &e);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "entries")), 20000);
	json_decref(j);

	/* entries last, or a scalar; an escaped name decodes to entries too. */
	put_backup("20261123T000000Z", 1, "{\"bytes\": 8, \"entries\": []}");
	put_backup("20261122T000000Z", 1, "{\"entries\": 5, \"bytes\": 9}");
	put_backup("20261121T000000Z", 1,
	    "{\"entri\\u0065s\": [1, 2], \"bytes\": 10}");
	/* Unreadable, listed with unknown counts: fields other than the
	 * entries too large, brackets that do not match in the entries,
	 * duplicate names, not an object, too large a file (sparse). */
	pad = malloc(STORE_SUMMARY_MAX + 64);
	ck_assert_ptr_nonnull(pad);
	snprintf(pad, 32, "{\"bytes\": 1, \"pad\": \"");
	n = strlen(pad);
	memset(pad + n, 'p', STORE_SUMMARY_MAX);
	strcpy(pad + n + STORE_SUMMARY_MAX, "\"}");
	put_backup("20261120T000000Z", 1, pad);
	free(pad);
	put_backup("20261119T000000Z", 1,
	    "{\"entries\": [ }, \"bytes\": 1, \"files\": 1}");
	put_backup("20261118T000000Z", 1, "{\"bytes\": 1, \"bytes\": 2}");
	put_backup("20261117T000000Z", 1, "[{\"bytes\": 1}]");
	put_backup("20261116T000000Z", 1, "");
	ck_assert_int_eq(truncate(mp("20261116T000000Z.json"),
	    (off_t)(257u << 20)), 0);
	ck_assert_int_eq(store_list(&s, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 9);
	ck_assert_int_eq(list[1].bytes, 8);
	ck_assert_int_eq(list[2].bytes, 9);
	ck_assert_int_eq(list[3].bytes, 10);
	for (size_t i = 4; i < n; i++)
		ck_assert_msg(list[i].bytes == -1 && list[i].files == -1,
		    "%s: %lld bytes", list[i].id, list[i].bytes);
	free(list);
	ck_assert_int_eq(store_find(&s, "20261121T000000Z", &b, &e), 0);
	j = store_summary(&s, &b, &e);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_null(json_object_get(j, "entries"));
	json_decref(j);
	ck_assert_int_eq(store_find(&s, "20261120T000000Z", &b, &e), 0);
	err_clear(&e);
	ck_assert_ptr_null(store_summary(&s, &b, &e));
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_msg(strstr(e.msg, "take more than 65536 bytes") != NULL, "%s",
	    e.msg);
	ck_assert_int_eq(store_find(&s, "20261119T000000Z", &b, &e), 0);
	ck_assert_ptr_null(store_summary(&s, &b, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "invalid JSON"));
	ck_assert_int_eq(store_find(&s, "20261116T000000Z", &b, &e), 0);
	ck_assert_ptr_null(store_summary(&s, &b, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than"));
	ck_assert_ptr_null(store_load_meta(&b, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than"));
}
END_TEST

/* Threads list, find and summarize at once: from a cold cache, each file
 * is read once in all; then while the metadata changes under them, each
 * sees a whole summary, old or new (ASan and valgrind watch). */
struct lister {
	const struct store *s;
	int rounds;
	int failures;
};

static void *
lister_main(void *arg)
{
	struct lister *l = arg;

	for (int i = 0; i < l->rounds; i++) {
		struct backup_info *list, b;
		struct err e;
		size_t n;
		json_t *j;
		long long v;

		if (store_list(l->s, &list, &n, &e) < 0 || n != 5)
			l->failures++;
		else if (list[0].bytes != 1 && list[0].bytes != 2)
			l->failures++;
		if (n)
			free(list);
		if (store_find(l->s, "latest", &b, &e) < 0 ||
		    !(j = store_summary(l->s, &b, &e))) {
			l->failures++;
			continue;
		}
		v = json_integer_value(json_object_get(j, "bytes"));
		if (v != 1 && v != 2)
			l->failures++;
		json_decref(j);
	}
	return NULL;
}

static void
run_listers(const struct store *s, struct lister *l, pthread_t *t, int rounds)
{
	for (int i = 0; i < 4; i++) {
		l[i].s = s;
		l[i].rounds = rounds;
		l[i].failures = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, lister_main, &l[i]), 0);
	}
}

static void
join_listers(struct lister *l, pthread_t *t)
{
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(l[i].failures, 0);
	}
}

START_TEST(test_summary_threads)
{
	struct lister l[4];
	pthread_t t[4];
	struct store s;
	char id[32];
	int in;

	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "2026112%dT000000Z", i);
		put_backup(id, 1, "{\"bytes\": 1, \"files\": 1}");
	}
	open_store(&s);
	settle();
	in = watch_mdir();
	run_listers(&s, l, t, 30);
	join_listers(l, t);
	ck_assert_int_eq(json_opens(in, NULL), 5);
	close(in);

	run_listers(&s, l, t, 60);
	for (int i = 0; i < 40; i++) {
		put("new.tmp", i % 2 ? "{\"bytes\": 1, \"files\": 1}" :
		    "{\"bytes\": 2, \"files\": 1}");
		ck_assert_int_eq(rename(mp("new.tmp"),
		    mp("20261124T000000Z.json")), 0);
	}
	join_listers(l, t);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
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

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup_tmp, tmp_teardown);
	tcase_add_test(tc, test_list_hostile);
	tcase_add_test(tc, test_find_hostile);
	tcase_add_test(tc, test_member_link);
	tcase_add_test(tc, test_open_file);
	tcase_add_test(tc, test_load_meta_dir_link);
	tcase_add_test(tc, test_cleanup_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("summary");
	tcase_add_checked_fixture(tc, setup_tmp, tmp_teardown);
	/* test_summary_cache waits out file times about eight times. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_summary_cache);
	tcase_add_test(tc, test_summary_cache_bounded);
	tcase_add_test(tc, test_summary_content);
	tcase_add_test(tc, test_summary_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("retention");
	tcase_add_checked_fixture(tc, setup_tmp, tmp_teardown);
	tcase_add_test(tc, test_retention_keep_last);
	tcase_add_test(tc, test_retention_keep_days);
	tcase_add_test(tc, test_retention_both);
	tcase_add_test(tc, test_retention_off);
	tcase_add_test(tc, test_retention_newest_stays);
	tcase_add_test(tc, test_retention_legacy);
	tcase_add_test(tc, test_retention_on_list);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(store_suite(), "store");
}
