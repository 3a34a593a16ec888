/* Unit tests of agent/store: the retention plan (keep_last, keep_days,
 * legacy backups).
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "testutil.h"
#include "store_fixture.h"
#include "err.h"
#include "store.h"

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
store_retention_suite(void)
{
	Suite *s = suite_create("store_retention");
	TCase *tc;

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
	return run_suite(store_retention_suite(), "store_retention");
}
