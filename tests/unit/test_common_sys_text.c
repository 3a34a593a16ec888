/* Unit tests of common/: sysinfo, utf8, clock, human. */
#include "config.h"

#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "clock.h"
#include "human.h"
#include "sysinfo.h"
#include "utf8.h"

/* ---- sysinfo -------------------------------------------------------- */

START_TEST(test_sysinfo_parse_cpu_max)
{
	ck_assert_int_eq(sysinfo_parse_cpu_max("max 100000"), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max("max 100000\n"), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max("200000 100000"), 2);
	ck_assert_int_eq(sysinfo_parse_cpu_max("200000 100000\n"), 2);
	ck_assert_int_eq(sysinfo_parse_cpu_max("150000 100000"), 2);
	ck_assert_int_eq(sysinfo_parse_cpu_max("50000 100000"), 1);
	ck_assert_int_eq(sysinfo_parse_cpu_max("100000 100000"), 1);
	ck_assert_int_eq(sysinfo_parse_cpu_max("100001 100000"), 2);
	ck_assert_int_eq(sysinfo_parse_cpu_max("1600000 100000"), 16);
	ck_assert_int_eq(sysinfo_parse_cpu_max("garbage"), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max(""), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max("100000"), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max("0 100000"), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max("100000 0"), 0);
	ck_assert_int_eq(sysinfo_parse_cpu_max("-100000 100000"), 0);
}
END_TEST

START_TEST(test_sysinfo_usable_cpus)
{
	cpu_set_t set;
	int n = sysinfo_usable_cpus(), aff;

	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	aff = CPU_COUNT(&set);
	ck_assert_int_ge(n, 1);
	ck_assert_int_le(n, aff);

	/* Narrowing the affinity mask to one CPU gives 1. */
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
			ck_assert_int_eq(sysinfo_usable_cpus(), 1);
			ck_assert_int_eq(sched_setaffinity(0, sizeof set, &set), 0);
			break;
		}
}
END_TEST

/* ---- utf8 ----------------------------------------------------------- */

START_TEST(test_utf8_seq)
{
	static const struct {
		const char *s;
		size_t n, want;
	} t[] = {
		{ "a", 1, 1 }, { "", 1, 1 },                      /* NUL too */
		{ "\xc3\xa9", 2, 2 },                             /* U+00E9 */
		{ "\xe2\x82\xac", 3, 3 },                         /* U+20AC */
		{ "\xed\x9f\xbf", 3, 3 },                         /* U+D7FF */
		{ "\xee\x80\x80", 3, 3 },                         /* U+E000 */
		{ "\xf0\x9f\x98\x80", 4, 4 },                     /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, 4 },                     /* U+10FFFF */
		{ "\xc3\xa9", 5, 2 },                             /* n is a bound */
		{ "a", 0, 0 },                                    /* nothing to read */
		{ "\xc3\xa9", 1, 0 }, { "\xe2\x82\xac", 2, 0 },   /* cut short */
		{ "\x80", 1, 0 }, { "\xbf", 1, 0 },               /* continuation */
		{ "\xc0\x80", 2, 0 }, { "\xc1\xbf", 2, 0 },       /* overlong */
		{ "\xe0\x80\x80", 3, 0 }, { "\xe0\x9f\xbf", 3, 0 },
		{ "\xf0\x80\x80\x80", 4, 0 }, { "\xf0\x8f\xbf\xbf", 4, 0 },
		{ "\xed\xa0\x80", 3, 0 }, { "\xed\xbf\xbf", 3, 0 }, /* surrogates */
		{ "\xf4\x90\x80\x80", 4, 0 },                     /* > U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 }, { "\xff", 1, 0 },
		{ "\xc3\x28", 2, 0 }, { "\xe2\x82\x28", 3, 0 },   /* bad tail */
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		ck_assert_msg(utf8_seq((const unsigned char *)t[i].s, t[i].n) ==
		    t[i].want, "case %zu", i);
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert_int_eq(utf8_valid("", 0), 1);
	ck_assert_int_eq(utf8_valid("backup", 6), 1);
	ck_assert_int_eq(utf8_valid("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    12), 1);
	ck_assert_int_eq(utf8_valid("a\0b", 3), 1);
	ck_assert_int_eq(utf8_valid("ab\xff", 3), 0);
	ck_assert_int_eq(utf8_valid("ab\xc3", 3), 0);       /* cut short */
	ck_assert_int_eq(utf8_valid("ab\xc3\xa9", 3), 0);   /* n is the end */
	ck_assert_int_eq(utf8_valid("\xed\xa0\x80", 3), 0);
}
END_TEST

START_TEST(test_utf8_cut)
{
	char out[32];

	/* Short enough: copied whole. */
	utf8_cut(out, sizeof out, "backup", 6);
	ck_assert_str_eq(out, "backup");
	utf8_cut(out, sizeof out, "", 0);
	ck_assert_str_eq(out, "");
	/* Longer, max 8 or more: cut, with "..." within max bytes. */
	utf8_cut(out, sizeof out, "abcdefghij", 8);
	ck_assert_str_eq(out, "abcde...");
	/* Never inside a character: é would end at byte 6 of 5. */
	utf8_cut(out, sizeof out, "abcd\xc3\xa9" "fghij", 8);
	ck_assert_str_eq(out, "abcd...");
	utf8_cut(out, sizeof out, "abc\xc3\xa9" "fghij", 8);
	ck_assert_str_eq(out, "abc\xc3\xa9...");
	/* Below 8: cut without dots. */
	utf8_cut(out, sizeof out, "abcdefghij", 7);
	ck_assert_str_eq(out, "abcdefg");
	utf8_cut(out, sizeof out, "abcd\xc3\xa9" "f", 5);
	ck_assert_str_eq(out, "abcd");
	utf8_cut(out, sizeof out, "abcdef", 0);
	ck_assert_str_eq(out, "");
	/* A byte that starts no sequence counts as one character. */
	utf8_cut(out, sizeof out, "ab\xff" "cdefghij", 8);
	ck_assert_str_eq(out, "ab\xff" "cd...");
	/* max is bounded by the room in out. */
	utf8_cut(out, 6, "abcdefgh", 100);
	ck_assert_str_eq(out, "abcde");
	utf8_cut(out, 12, "abcdefghijklmnop", 100);
	ck_assert_str_eq(out, "abcdefgh...");
	utf8_cut(out, 6, "abcde", 100);
	ck_assert_str_eq(out, "abcde");
}
END_TEST

/* ---- clock ---------------------------------------------------------- */

START_TEST(test_clock_ms)
{
	long long a = qb_mono_ms(), b, c;
	double s = qb_mono_now();

	b = qb_mono_ms();
	/* The same clock: seconds and milliseconds agree. */
	ck_assert_int_le(a, (long long)(s * 1000.0) + 1);
	ck_assert_int_le((long long)(s * 1000.0), b + 1);
	ck_assert_int_le(a, b);
	qb_sleep(0.05);
	c = qb_mono_ms();
	ck_assert_int_ge(c - b, 50);
	ck_assert_int_lt(c - b, 10000);
}
END_TEST

/* ---- human --------------------------------------------------------- */

START_TEST(test_human_bytes)
{
	static const struct { long long n; const char *want; } cases[] = {
		{ -1, "-" }, { 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" },
		{ 9728, "9.5 KiB" }, { 3040870, "2.9 MiB" },
		{ 1073741824LL, "1.0 GiB" }, { 1099511627776LL, "1.0 TiB" },
		/* TiB is the last unit. */
		{ 1099511627776LL * 2048, "2048.0 TiB" },
	};
	char buf[32], small[4];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		human_bytes(cases[i].n, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].want);
	}
	/* Cut to fit, NUL-terminated. */
	human_bytes(9728, small, sizeof small);
	ck_assert_str_eq(small, "9.5");
}
END_TEST

START_TEST(test_human_indented)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(out);
	fputs("  usage  ", out);
	human_indented(out, "first\nsecond\nthird", 9);
	human_indented(out, "one line", 4);
	human_indented(out, "", 4);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_str_eq(text, "  usage  first\n         second\n"
	    "         third\none line\n\n");
	free(text);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
common_sys_text_suite(void)
{
	Suite *s = suite_create("common_sys_text");
	TCase *tc;

	tc = tcase_create("sysinfo");
	tcase_add_test(tc, test_sysinfo_parse_cpu_max);
	tcase_add_test(tc, test_sysinfo_usable_cpus);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_test(tc, test_utf8_seq);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_utf8_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_test(tc, test_clock_ms);
	suite_add_tcase(s, tc);

	tc = tcase_create("human");
	tcase_add_test(tc, test_human_bytes);
	tcase_add_test(tc, test_human_indented);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(common_sys_text_suite(), "common_sys_text");
}
