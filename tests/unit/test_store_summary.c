/* Unit tests of agent/store: the metadata summaries and their cache.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "store_fixture.h"
#include "err.h"
#include "store.h"

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
store_summary_suite(void)
{
	Suite *s = suite_create("store_summary");
	TCase *tc;

	tc = tcase_create("summary");
	tcase_add_checked_fixture(tc, setup_tmp, tmp_teardown);
	/* test_summary_cache waits out file times about eight times. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_summary_cache);
	tcase_add_test(tc, test_summary_cache_bounded);
	tcase_add_test(tc, test_summary_content);
	tcase_add_test(tc, test_summary_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(store_summary_suite(), "store_summary");
}
