/* Unit tests of common/: err and log.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened (a failing test exits its forked process before its
 * teardown runs). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "common_fixture.h"
#include "err.h"
#include "log.h"

/* ---- err ------------------------------------------------------------ */

START_TEST(test_err_set)
{
	struct err e;

	memset(&e, 0x55, sizeof e);
	ck_assert_int_eq(err_set(&e, ERR_NOT_FOUND, "backup %s of %d", "x", 3),
	    -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	ck_assert_str_eq(e.msg, "backup x of 3");
	ck_assert_int_eq(err_set(NULL, ERR_FAILED, "ignored"), -1);

	err_clear(&e);
	ck_assert_int_eq(e.code, ERR_OK);
	ck_assert_str_eq(e.msg, "");
	err_clear(NULL);
}
END_TEST

START_TEST(test_err_set_truncates)
{
	struct err e;
	char big[3000];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err_set(&e, ERR_FAILED, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), sizeof e.msg - 1);
}
END_TEST

START_TEST(test_err_sys)
{
	struct err e;
	char want[256];

	errno = ENOENT;
	ck_assert_int_eq(err_sys(&e, ERR_FAILED, "open %s", "f"), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	snprintf(want, sizeof want, "open f: %s", strerror(ENOENT));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(errno, ENOENT);   /* errno is kept */

	errno = EACCES;
	err_sys(&e, ERR_CONFIG, "%s", "conf.ini");
	ck_assert_int_eq(e.code, ERR_CONFIG);
	snprintf(want, sizeof want, "conf.ini: %s", strerror(EACCES));
	ck_assert_str_eq(e.msg, want);

	errno = EIO;
	ck_assert_int_eq(err_sys(NULL, ERR_FAILED, "x"), -1);
}
END_TEST

START_TEST(test_err_sys_no_space)
{
	static const int codes[] = { ENOSPC, EFBIG, EDQUOT };
	struct err e;
	char want[256];

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		errno = codes[i];
		err_sys(&e, ERR_FAILED, "write %s", "a.tar.zst");
		ck_assert_int_eq(e.code, ERR_NO_SPACE);
		snprintf(want, sizeof want, "write a.tar.zst: %s",
		    strerror(codes[i]));
		ck_assert_str_eq(e.msg, want);
		ck_assert_int_eq(errno, codes[i]);
		/* Whatever code was asked for. */
		errno = codes[i];
		err_sys(&e, ERR_VERIFY, "x");
		ck_assert_int_eq(e.code, ERR_NO_SPACE);
	}
}
END_TEST

START_TEST(test_err_table)
{
	static const struct {
		enum err_code code;
		int exit_code, http;
		const char *name;
	} want[] = {
		{ ERR_OK, 0, 200, "ok" },
		{ ERR_FAILED, 1, 500, "failed" },
		{ ERR_USAGE, 2, 400, "usage" },
		{ ERR_CONFIG, 2, 500, "config" },
		{ ERR_BAD_REQUEST, 2, 400, "bad_request" },
		{ ERR_NODE_RUNNING, 3, 409, "node_running" },
		{ ERR_BUSY, 1, 409, "busy" },
		{ ERR_NOT_FOUND, 4, 404, "not_found" },
		{ ERR_VERIFY, 5, 422, "verification_failed" },
		{ ERR_NO_SPACE, 6, 507, "insufficient_storage" },
		{ ERR_UNAUTHORIZED, 2, 401, "unauthorized" },
		{ ERR_NODE_KEY, 1, 409, "node_key_mismatch" },
		{ ERR_INCOMPLETE, 1, 409, "in_place_incomplete" },
		{ ERR_LEASED, 3, 409, "leased" },
		{ ERR_NEWEST_BACKUP, 1, 409, "newest_backup" },
		{ ERR_METHOD, 2, 405, "method_not_allowed" },
		{ ERR_LENGTH_REQUIRED, 2, 411, "length_required" },
		{ ERR_BODY_TOO_LARGE, 2, 413, "body_too_large" },
		{ ERR_TOO_MANY_ARGS, 2, 414, "too_many_arguments" },
		{ ERR_NO_IDENTITY, 2, 400, "no_identity" },
		{ ERR_WRONG_IDENTITY, 2, 400, "wrong_identity" },
		{ ERR_OFFSITE, 1, 502, "offsite_failed" },
	};

	/* Every code of the enum is in this table. */
	ck_assert_uint_eq(sizeof want / sizeof want[0], ERR_CODE_COUNT);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck_assert_int_eq(want[i].code, (int)i);
		ck_assert_int_eq(err_exit_code(want[i].code), want[i].exit_code);
		ck_assert_int_eq(err_http_status(want[i].code), want[i].http);
		ck_assert_str_eq(err_name(want[i].code), want[i].name);
	}
}
END_TEST

START_TEST(test_err_out_of_range)
{
	static const int bad[] = { ERR_CODE_COUNT, ERR_CODE_COUNT + 1, 1000,
	    -1, INT_MIN };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum err_code c = (enum err_code)bad[i];
		ck_assert_int_eq(err_exit_code(c), 1);
		ck_assert_int_eq(err_http_status(c), 500);
		ck_assert_str_eq(err_name(c), "failed");
	}
}
END_TEST

START_TEST(test_err_prefix)
{
	struct err e;
	char big[sizeof e.msg];

	err_set(&e, ERR_NOT_FOUND, "boom");
	err_prefix(&e, "verify %s", "20261124T010203Z");
	ck_assert_str_eq(e.msg, "verify 20261124T010203Z: boom");
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);   /* code unchanged */

	err_clear(&e);
	err_prefix(&e, "ctx");
	ck_assert_str_eq(e.msg, "ctx: ");

	/* A full message: the prefix stays, the old text is cut to fit. */
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err_set(&e, ERR_FAILED, "%s", big);
	err_prefix(&e, "p");
	ck_assert_uint_eq(strlen(e.msg), sizeof e.msg - 1);
	ck_assert_int_eq(strncmp(e.msg, "p: mmm", 6), 0);
	ck_assert_int_eq(e.msg[sizeof e.msg - 2], 'm');

	err_prefix(NULL, "x");   /* no crash */
}
END_TEST

/* ---- log ------------------------------------------------------------ */

START_TEST(test_logq_plain)
{
	static const char *const plain[] = { "abc", "20261124T010203Z",
	    "/backups/member1/x.tar.zst", "a-b_c.d:e,f" };

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		ck_assert_ptr_eq(logq(plain[i]), plain[i]);
}
END_TEST

START_TEST(test_logq_escapes)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "a b", "\"a b\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "line1\nline2", "\"line1\\nline2\"" },
		{ "a\tb", "\"a\\tb\"" },
		{ "a\x01z", "\"a\\x01z\"" },
		{ "\x1b[0m", "\"\\x1b[0m\"" },
		{ "del\x7f", "\"del\\x7f\"" },
		{ "cr\r", "\"cr\\x0d\"" },
		{ "k=v", "\"k=v\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },   /* UTF-8 passes through */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_str_eq(logq(cases[i].in), cases[i].out);
}
END_TEST

START_TEST(test_logq_long)
{
	char in[2000], want[600];
	const char *out;

	/* A plain token too long for a slot is quoted and cut. */
	memset(in, 'x', sizeof in - 1);
	in[sizeof in - 1] = '\0';
	out = logq(in);
	ck_assert_ptr_ne(out, in);
	want[0] = '"';
	memset(want + 1, 'x', 505);
	strcpy(want + 506, "...\"");
	ck_assert_str_eq(out, want);
	ck_assert_uint_lt(strlen(out), 512);

	/* Escapes are never split by the cut. */
	memset(in, '"', 600);
	in[600] = '\0';
	out = logq(in);
	want[0] = '"';
	for (size_t i = 0; i < 252; i++) {
		want[1 + 2 * i] = '\\';
		want[2 + 2 * i] = '"';
	}
	strcpy(want + 505, "...\"");
	ck_assert_str_eq(out, want);

	/* Not cut when it fits. */
	memset(in, 'y', 400);
	in[3] = ' ';
	in[400] = '\0';
	out = logq(in);
	ck_assert_uint_eq(strlen(out), 402);
	ck_assert_int_eq(out[401], '"');
}
END_TEST

START_TEST(test_logq_ring)
{
	const char *r[8];
	char in[8][16], want[32];

	for (int i = 0; i < 8; i++) {
		snprintf(in[i], sizeof in[i], "v %d", i);
		r[i] = logq(in[i]);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(want, sizeof want, "\"v %d\"", i);
		ck_assert_str_eq(r[i], want);
	}
}
END_TEST

START_TEST(test_log_level_parse)
{
	ck_assert_int_eq(log_level_parse("debug"), LOG_DEBUG);
	ck_assert_int_eq(log_level_parse("info"), LOG_INFO);
	ck_assert_int_eq(log_level_parse("warn"), LOG_WARN);
	ck_assert_int_eq(log_level_parse("error"), LOG_ERROR);
	ck_assert_int_eq(log_level_parse(""), -1);
	ck_assert_int_eq(log_level_parse("warning"), -1);
	ck_assert_int_eq(log_level_parse("INFO"), -1);
	ck_assert_int_eq(log_level_parse("info "), -1);
}
END_TEST

/* Run log calls with stderr sent to a file; returns what was written. */
static int saved_stderr = -1;

static void
capture_begin(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static char *
capture_end(const char *file)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	return slurp(file, NULL);
}

/* "ts=YYYY-MM-DDTHH:MM:SS.mmmZ " at the start of line. */
static void
check_ts(const char *line)
{
	static const char pat[] = "ts=dddd-dd-ddTdd:dd:dd.dddZ ";

	ck_assert_msg(strlen(line) >= sizeof pat - 1, "short line: %s", line);
	for (size_t i = 0; i < sizeof pat - 1; i++) {
		if (pat[i] == 'd')
			ck_assert_msg(line[i] >= '0' && line[i] <= '9',
			    "bad ts in: %s", line);
		else
			ck_assert_msg(line[i] == pat[i], "bad ts in: %s", line);
	}
}

START_TEST(test_log_event_lines)
{
	char file[PATH_MAX];
	char *out, *l2, *l3;

	tpath(file, sizeof file, "stderr.txt");
	log_set_level(LOG_INFO);
	log_set_program(NULL);
	capture_begin(file);
	log_info("archive_done", "id=%s bytes=%d note=%s", "X", 42,
	    logq("two words"));
	log_debug("dropped_debug", "x=%d", 1);
	log_warn("disk_low", "free=%d", 7);
	log_event(LOG_ERROR, "bare", NULL);
	out = capture_end(file);
	log_set_level(LOG_INFO);

	/* Three lines, the debug one dropped. */
	l2 = strchr(out, '\n');
	ck_assert_ptr_nonnull(l2);
	*l2++ = '\0';
	l3 = strchr(l2, '\n');
	ck_assert_ptr_nonnull(l3);
	*l3++ = '\0';
	ck_assert_ptr_nonnull(strchr(l3, '\n'));
	ck_assert_str_eq(strchr(l3, '\n') + 1, "");
	*strchr(l3, '\n') = '\0';

	check_ts(out);
	ck_assert_str_eq(out + 28, "level=info event=archive_done id=X bytes=42 "
	    "note=\"two words\"");
	check_ts(l2);
	ck_assert_str_eq(l2 + 28, "level=warn event=disk_low free=7");
	check_ts(l3);
	ck_assert_str_eq(l3 + 28, "level=error event=bare");
	ck_assert_ptr_null(strstr(l3, "dropped"));
	ck_assert_ptr_null(strstr(out, "dropped_debug"));
	ck_assert_ptr_null(strstr(l2, "dropped_debug"));
	free(out);
}
END_TEST

START_TEST(test_log_event_levels)
{
	char file[PATH_MAX];
	char *out;

	tpath(file, sizeof file, "stderr.txt");
	log_set_program("qb-test");
	capture_begin(file);
	log_set_level(LOG_ERROR);
	log_info("no_info", "a=1");
	log_warn("no_warn", "a=1");
	log_error("yes_error", "a=1");
	log_set_level(LOG_DEBUG);
	log_debug("yes_debug", "b=2");
	out = capture_end(file);
	log_set_level(LOG_INFO);
	log_set_program(NULL);

	ck_assert_ptr_null(strstr(out, "no_info"));
	ck_assert_ptr_null(strstr(out, "no_warn"));
	ck_assert_ptr_nonnull(strstr(out, " level=error program=qb-test "
	    "event=yes_error a=1\n"));
	ck_assert_ptr_nonnull(strstr(out, " level=debug program=qb-test "
	    "event=yes_debug b=2\n"));
	/* Exactly two lines. */
	ck_assert_ptr_nonnull(strchr(out, '\n'));
	ck_assert_ptr_nonnull(strchr(strchr(out, '\n') + 1, '\n'));
	ck_assert_str_eq(strchr(strchr(out, '\n') + 1, '\n') + 1, "");
	free(out);
}
END_TEST

START_TEST(test_log_event_long_line)
{
	char file[PATH_MAX];
	char *out, *big;
	size_t len;

	big = malloc(6000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'z', 5999);
	big[5999] = '\0';
	tpath(file, sizeof file, "stderr.txt");
	log_set_level(LOG_INFO);
	capture_begin(file);
	log_info("big", "v=%s", big);
	out = capture_end(file);
	free(out);
	out = slurp(file, &len);
	/* Cut to one line of at most 4096 bytes, ending in a newline. */
	ck_assert_uint_le(len, 4096);
	ck_assert_uint_gt(len, 4000);
	ck_assert_int_eq(out[len - 1], '\n');
	ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
	free(out);
	free(big);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
common_err_log_suite(void)
{
	Suite *s = suite_create("common_err_log");
	TCase *tc;

	tc = tcase_create("err");
	tcase_add_test(tc, test_err_set);
	tcase_add_test(tc, test_err_set_truncates);
	tcase_add_test(tc, test_err_sys);
	tcase_add_test(tc, test_err_sys_no_space);
	tcase_add_test(tc, test_err_table);
	tcase_add_test(tc, test_err_out_of_range);
	tcase_add_test(tc, test_err_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_logq_plain);
	tcase_add_test(tc, test_logq_escapes);
	tcase_add_test(tc, test_logq_long);
	tcase_add_test(tc, test_logq_ring);
	tcase_add_test(tc, test_log_level_parse);
	tcase_add_test(tc, test_log_event_lines);
	tcase_add_test(tc, test_log_event_levels);
	tcase_add_test(tc, test_log_event_long_line);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(common_err_log_suite(), "common_err_log");
}
