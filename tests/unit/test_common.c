/* Unit tests of common/: err, log, fsutil, locks, sysinfo, utf8, clock,
 * human.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened (a failing test exits its forked process before its
 * teardown runs). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "clock.h"
#include "err.h"
#include "fsutil.h"
#include "human.h"
#include "locks.h"
#include "log.h"
#include "sysinfo.h"
#include "utf8.h"

/* ---- fixtures ------------------------------------------------------- */

/* tmp/name into buf. */
static const char *
tpath(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", tmp, name);
	ck_assert(n > 0 && (size_t)n < size);
	return buf;
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

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

/* ---- fsutil --------------------------------------------------------- */

START_TEST(test_fs_write_atomic)
{
	char p[PATH_MAX], partial[PATH_MAX];
	struct stat st;
	struct err e;
	char *got;
	size_t len;
	static const char data[] = "hello\0world";

	tpath(p, sizeof p, "meta.json");
	tpath(partial, sizeof partial, "meta.json.partial");
	umask(022);
	ck_assert_int_eq(fs_write_atomic(p, data, sizeof data, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, sizeof data);
	got = slurp(p, &len);
	ck_assert_uint_eq(len, sizeof data);
	ck_assert_mem_eq(got, data, sizeof data);
	free(got);
	ck_assert_int_eq(access(partial, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* Replace: new content, and the mode asked for even when umask
	 * would strip it. */
	umask(0277);
	ck_assert_int_eq(fs_write_atomic(p, "new", 3, 0644, &e), 0);
	umask(022);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	got = slurp(p, &len);
	ck_assert_str_eq(got, "new");
	free(got);
	ck_assert_int_eq(access(partial, F_OK), -1);

	/* A stale .partial from a crash (another mode, longer content) is
	 * overwritten, not reused as it is. */
	write_text(partial, "stale stale stale stale");
	ck_assert_int_eq(chmod(partial, 0604), 0);
	ck_assert_int_eq(fs_write_atomic(p, "newer", 5, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	got = slurp(p, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(got, "newer");
	free(got);
	ck_assert_int_eq(access(partial, F_OK), -1);

	/* Empty content. */
	ck_assert_int_eq(fs_write_atomic(p, "", 0, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_fs_write_atomic_fails)
{
	char p[PATH_MAX];
	struct err e;

	tpath(p, sizeof p, "nodir/file");
	err_clear(&e);
	ck_assert_int_eq(fs_write_atomic(p, "x", 1, 0600, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "nodir/file.partial"));
	ck_assert_ptr_nonnull(strstr(e.msg, strerror(ENOENT)));
}
END_TEST

START_TEST(test_fs_read_file)
{
	char p[PATH_MAX], missing[PATH_MAX];
	struct err e;
	char *buf = NULL;
	size_t len = 99;

	tpath(p, sizeof p, "ten");
	write_text(p, "0123456789");
	ck_assert_int_eq(fs_read_file(p, 10, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	buf = NULL;
	ck_assert_int_eq(fs_read_file(p, 1 << 20, &buf, NULL, &e), 0);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	buf = NULL;

	/* Over the limit. */
	err_clear(&e);
	ck_assert_int_eq(fs_read_file(p, 9, &buf, &len, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_null(buf);

	/* Missing. */
	tpath(missing, sizeof missing, "missing");
	ck_assert_int_eq(fs_read_file(missing, 100, &buf, &len, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(e.msg, missing));
	ck_assert_ptr_null(buf);

	/* A directory is not a regular file. */
	ck_assert_int_eq(fs_read_file(tmp, 1 << 20, &buf, &len, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a directory: refused"));
	ck_assert_ptr_null(buf);

	/* A symbolic link is not followed, even to a regular file. */
	{
		char link[PATH_MAX], fifo[PATH_MAX];

		tpath(link, sizeof link, "link");
		ck_assert_int_eq(symlink(p, link), 0);
		ck_assert_int_eq(fs_read_file(link, 100, &buf, &len, &e), -1);
		ck_assert_int_eq(e.code, ERR_FAILED);
		ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: "
		    "refused"));
		ck_assert_ptr_null(buf);
		/* A FIFO with no writer: refused at once, not waited on. */
		tpath(fifo, sizeof fifo, "fifo");
		ck_assert_int_eq(mkfifo(fifo, 0600), 0);
		ck_assert_int_eq(fs_read_file(fifo, 100, &buf, &len, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "is a FIFO: refused"));
		ck_assert_ptr_null(buf);
		ck_assert_int_lt(fs_open_regular(fifo, O_WRONLY, NULL, &e), 0);
		ck_assert_ptr_nonnull(strstr(e.msg, "is a FIFO: refused"));
	}

	/* Empty file. */
	write_text(p, "");
	ck_assert_int_eq(fs_read_file(p, 0, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(buf, "");
	free(buf);
}
END_TEST

START_TEST(test_fs_mkdir_p)
{
	char p[PATH_MAX], f[PATH_MAX], q[PATH_MAX];
	struct stat st;
	struct err e;

	umask(022);
	tpath(p, sizeof p, "a/b/c");
	ck_assert_int_eq(fs_mkdir_p(p, 0700, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(tpath(q, sizeof q, "a/b"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(tpath(q, sizeof q, "a"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);

	/* Existing: fine, and a trailing slash too. */
	ck_assert_int_eq(fs_mkdir_p(p, 0700, &e), 0);
	tpath(q, sizeof q, "a/b/c/");
	ck_assert_int_eq(fs_mkdir_p(q, 0700, &e), 0);
	tpath(q, sizeof q, "a/b/c/d/");
	ck_assert_int_eq(fs_mkdir_p(q, 0700, &e), 0);
	ck_assert_int_eq(stat(q, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));

	/* A file in the way. */
	tpath(f, sizeof f, "file");
	write_text(f, "x");
	err_clear(&e);
	ck_assert_int_eq(fs_mkdir_p(f, 0700, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "file"));
	tpath(q, sizeof q, "file/sub/dir");
	err_clear(&e);
	ck_assert_int_eq(fs_mkdir_p(q, 0700, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert(S_ISREG(st.st_mode));

	ck_assert_int_eq(fs_mkdir_p("", 0700, &e), -1);
}
END_TEST

START_TEST(test_fs_free_bytes)
{
	uint64_t n = 0;
	char p[PATH_MAX];
	struct err e;

	ck_assert_int_eq(fs_free_bytes(tmp, &n, &e), 0);
	ck_assert_uint_gt(n, 0);
	err_clear(&e);
	ck_assert_int_eq(fs_free_bytes(tpath(p, sizeof p, "missing"), &n, &e),
	    -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
}
END_TEST

START_TEST(test_fs_remove_tree)
{
	char tree[PATH_MAX], out[PATH_MAX], outf[PATH_MAX], p[PATH_MAX];
	struct stat st;
	struct err e;

	/* Outside the tree: a directory with a file, and a file. */
	tpath(out, sizeof out, "outside");
	ck_assert_int_eq(mkdir(out, 0700), 0);
	write_text(tpath(p, sizeof p, "outside/keep.txt"), "keep");
	write_text(tpath(outf, sizeof outf, "outside.txt"), "keep too");

	tpath(tree, sizeof tree, "tree");
	ck_assert_int_eq(mkdir(tree, 0700), 0);
	ck_assert_int_eq(mkdir(tpath(p, sizeof p, "tree/a"), 0700), 0);
	ck_assert_int_eq(mkdir(tpath(p, sizeof p, "tree/a/b"), 0700), 0);
	ck_assert_int_eq(mkdir(tpath(p, sizeof p, "tree/empty"), 0700), 0);
	write_text(tpath(p, sizeof p, "tree/top.txt"), "1");
	write_text(tpath(p, sizeof p, "tree/a/b/deep.txt"), "2");
	write_text(tpath(p, sizeof p, "tree/a/.hidden"), "3");
	ck_assert_int_eq(symlink(out, tpath(p, sizeof p, "tree/a/link_dir")), 0);
	ck_assert_int_eq(symlink("../../outside",
	    tpath(p, sizeof p, "tree/a/rel_link_dir")), 0);
	ck_assert_int_eq(symlink(outf, tpath(p, sizeof p, "tree/link_file")), 0);
	ck_assert_int_eq(symlink("nowhere", tpath(p, sizeof p, "tree/dangling")),
	    0);
	ck_assert_int_eq(mkfifo(tpath(p, sizeof p, "tree/a/fifo"), 0600), 0);

	ck_assert_int_eq(fs_remove_tree(tree, &e), 0);
	ck_assert_int_eq(lstat(tree, &st), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* What the links pointed to survives. */
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(stat(tpath(p, sizeof p, "outside/keep.txt"), &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	ck_assert_int_eq(stat(outf, &st), 0);
	ck_assert_int_eq(st.st_size, 8);

	/* Missing: not an error. */
	ck_assert_int_eq(fs_remove_tree(tree, &e), 0);

	/* A symlink given as the path: the link goes, not its target. */
	ck_assert_int_eq(symlink(out, tpath(p, sizeof p, "toplink")), 0);
	ck_assert_int_eq(fs_remove_tree(p, &e), 0);
	ck_assert_int_eq(lstat(p, &st), -1);
	ck_assert_int_eq(stat(tpath(p, sizeof p, "outside/keep.txt"), &st), 0);

	/* A plain file given as the path. */
	ck_assert_int_eq(fs_remove_tree(outf, &e), 0);
	ck_assert_int_eq(lstat(outf, &st), -1);
}
END_TEST

START_TEST(test_fs_join)
{
	char out[64];

	ck_assert_int_eq(fs_join(out, sizeof out, "a", "b"), 0);
	ck_assert_str_eq(out, "a/b");
	ck_assert_int_eq(fs_join(out, sizeof out, "/backups/", "member1"), 0);
	ck_assert_str_eq(out, "/backups/member1");
	ck_assert_int_eq(fs_join(out, sizeof out, "/backups///", "member1"), 0);
	ck_assert_str_eq(out, "/backups/member1");
	ck_assert_int_eq(fs_join(out, sizeof out, "dir", "geth/LOCK"), 0);
	ck_assert_str_eq(out, "dir/geth/LOCK");

	/* Exact fit and one byte short: "abc/de" is 6 bytes + NUL. */
	ck_assert_int_eq(fs_join(out, 7, "abc", "de"), 0);
	ck_assert_str_eq(out, "abc/de");
	ck_assert_int_eq(fs_join(out, 6, "abc", "de"), -1);
}
END_TEST

/* fs_join documents "one '/'"; the root directory gives two. */
START_TEST(test_fs_join_root)
{
	char out[64];

	ck_assert_int_eq(fs_join(out, sizeof out, "/", "member1"), 0);
	ck_assert_str_eq(out, "/member1");
}
END_TEST

/* ---- locks ---------------------------------------------------------- */

enum hold_kind { HOLD_FLOCK, HOLD_POSIX };

struct holder {
	pid_t pid;
	int release_fd;   /* close it to let the child go */
};

/* Fork a child that locks path (flock or classic fcntl write lock), tells
 * us, and holds the lock until release_fd is closed (or we die). */
static struct holder
spawn_holder(const char *path, enum hold_kind kind)
{
	struct holder h;
	int ready[2], release[2];
	char c = 0;
	ssize_t n;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(release), 0);
	h.pid = fork();
	ck_assert_int_ge(h.pid, 0);
	if (h.pid == 0) {
		char ok = '1', dummy;
		int fd;
		close(ready[0]);
		close(release[1]);
		fd = open(path, O_RDWR);
		if (fd < 0) {
			ok = 'o';
		} else if (kind == HOLD_FLOCK) {
			if (flock(fd, LOCK_EX | LOCK_NB) < 0)
				ok = 'f';
		} else {
			struct flock fl;
			memset(&fl, 0, sizeof fl);
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_SETLK, &fl) < 0)
				ok = 'p';
		}
		(void)!write(ready[1], &ok, 1);
		close(ready[1]);
		while (read(release[0], &dummy, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	do
		n = read(ready[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	h.release_fd = release[1];
	ck_assert_msg(n == 1 && c == '1', "holder child failed to lock (%c)", c);
	return h;
}

static void
release_holder(struct holder *h)
{
	int st;

	close(h->release_fd);
	ck_assert_int_eq(waitpid(h->pid, &st, 0), h->pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* In a child: 0 when path could be locked, 1 when another holds it,
 * 2 on any other failure. */
static int
child_try(const char *path, enum hold_kind kind)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		if (fd < 0)
			_exit(2);
		if (kind == HOLD_FLOCK) {
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				_exit(0);
			_exit(errno == EWOULDBLOCK ? 1 : 2);
		} else {
			struct flock fl;
			memset(&fl, 0, sizeof fl);
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_SETLK, &fl) == 0)
				_exit(0);
			_exit(errno == EAGAIN || errno == EACCES ? 1 : 2);
		}
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_lockset_flock_held)
{
	char p[PATH_MAX], want[256];
	char *names[] = { "LOCK" };
	struct lockset ls;
	struct holder h;
	struct err e;

	write_text(tpath(p, sizeof p, "LOCK"), "");
	h = spawn_holder(p, HOLD_FLOCK);
	err_clear(&e);
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_NODE_RUNNING);
	snprintf(want, sizeof want, "LOCK is locked (flock) by another process: "
	    "is the node running?");
	ck_assert_str_eq(e.msg, want);
	ck_assert_uint_eq(ls.n, 0);
	release_holder(&h);

	/* Free now. */
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), 0);
	ck_assert_uint_eq(ls.n, 1);
	lockset_release(&ls);
}
END_TEST

START_TEST(test_lockset_posix_held)
{
	char p[PATH_MAX], want[256];
	char *names[] = { "db.mv.db" };
	struct lockset ls;
	struct holder h;
	struct err e;

	write_text(tpath(p, sizeof p, "db.mv.db"), "h2");
	h = spawn_holder(p, HOLD_POSIX);
	err_clear(&e);
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_NODE_RUNNING);
	snprintf(want, sizeof want, "db.mv.db is locked (fcntl) by process %d: "
	    "is the node running?", (int)h.pid);
	ck_assert_str_eq(e.msg, want);
	ck_assert_uint_eq(ls.n, 0);
	/* Our flock, taken before the fcntl lock failed, was dropped. */
	ck_assert_int_eq(child_try(p, HOLD_FLOCK), 0);
	release_holder(&h);

	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), 0);
	ck_assert_uint_eq(ls.n, 1);
	lockset_release(&ls);
}
END_TEST

START_TEST(test_lockset_holds)
{
	char a[PATH_MAX], b[PATH_MAX], d[PATH_MAX];
	char *names[] = { "LOCK", "missing/LOCK", "sub/LOCK", "absent" };
	struct lockset ls;
	struct err e;

	write_text(tpath(a, sizeof a, "LOCK"), "");
	ck_assert_int_eq(mkdir(tpath(d, sizeof d, "sub"), 0700), 0);
	write_text(tpath(b, sizeof b, "sub/LOCK"), "");

	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 4, &e), 0);
	/* Missing files are skipped. */
	ck_assert_uint_eq(ls.n, 2);
	ck_assert_str_eq(ls.paths[0], "LOCK");
	ck_assert_str_eq(ls.paths[1], "sub/LOCK");
	ck_assert_int_ge(ls.fds[0], 0);
	ck_assert_int_ge(ls.fds[1], 0);

	/* Another process can take neither an flock nor a POSIX lock. */
	ck_assert_int_eq(child_try(a, HOLD_FLOCK), 1);
	ck_assert_int_eq(child_try(a, HOLD_POSIX), 1);
	ck_assert_int_eq(child_try(b, HOLD_FLOCK), 1);
	ck_assert_int_eq(child_try(b, HOLD_POSIX), 1);

	lockset_release(&ls);
	ck_assert_uint_eq(ls.n, 0);
	ck_assert_ptr_null(ls.fds);
	ck_assert_ptr_null(ls.paths);

	/* Released: others can lock. */
	ck_assert_int_eq(child_try(a, HOLD_FLOCK), 0);
	ck_assert_int_eq(child_try(a, HOLD_POSIX), 0);
	ck_assert_int_eq(child_try(b, HOLD_FLOCK), 0);
	ck_assert_int_eq(child_try(b, HOLD_POSIX), 0);
}
END_TEST

START_TEST(test_lockset_nothing_held_on_failure)
{
	char a[PATH_MAX], b[PATH_MAX];
	char *names[] = { "first", "second" };
	struct lockset ls;
	struct holder h;
	struct err e;

	write_text(tpath(a, sizeof a, "first"), "");
	write_text(tpath(b, sizeof b, "second"), "");
	h = spawn_holder(b, HOLD_FLOCK);
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 2, &e), -1);
	ck_assert_int_eq(e.code, ERR_NODE_RUNNING);
	ck_assert_ptr_nonnull(strstr(e.msg, "second"));
	/* "first" was taken then let go. */
	ck_assert_int_eq(child_try(a, HOLD_FLOCK), 0);
	ck_assert_int_eq(child_try(a, HOLD_POSIX), 0);
	release_holder(&h);
}
END_TEST

START_TEST(test_lockset_empty)
{
	struct lockset ls;
	struct err e;

	ck_assert_int_eq(lockset_acquire(&ls, tmp, NULL, 0, &e), 0);
	ck_assert_uint_eq(ls.n, 0);
	lockset_release(&ls);
}
END_TEST

START_TEST(test_lock_exclusive)
{
	char p[PATH_MAX];
	struct stat st;
	struct err e;
	pid_t pid;
	int fd, st2, fd2;

	umask(022);
	tpath(p, sizeof p, ".lock");
	fd = lock_exclusive(p, "backup", &e);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(stat(p, &st), 0);   /* created 0600 */
	ck_assert_int_eq(st.st_mode & 07777, 0600);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct err ce;
		char want[PATH_MAX + 128];
		err_clear(&ce);
		if (lock_exclusive(p, "backup", &ce) != -1)
			_exit(10);
		if (ce.code != ERR_BUSY)
			_exit(11);
		snprintf(want, sizeof want, "backup is in progress (%s is locked "
		    "by another process)", p);
		if (strcmp(ce.msg, want) != 0)
			_exit(12);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st2, 0), pid);
	ck_assert(WIFEXITED(st2));
	ck_assert_int_eq(WEXITSTATUS(st2), 0);

	lock_release(fd);
	/* Free again: a child gets it. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct err ce;
		_exit(lock_exclusive(p, "backup", &ce) >= 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st2, 0), pid);
	ck_assert(WIFEXITED(st2) && WEXITSTATUS(st2) == 0);

	fd2 = lock_exclusive(p, "backup", &e);
	ck_assert_int_ge(fd2, 0);
	lock_release(fd2);
	lock_release(-1);   /* no-op */

	/* Cannot create: ERR_FAILED. */
	tpath(p, sizeof p, "nodir/.lock");
	ck_assert_int_eq(lock_exclusive(p, "backup", &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
}
END_TEST

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
common_suite(void)
{
	Suite *s = suite_create("common");
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

	tc = tcase_create("fsutil");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_fs_write_atomic);
	tcase_add_test(tc, test_fs_write_atomic_fails);
	tcase_add_test(tc, test_fs_read_file);
	tcase_add_test(tc, test_fs_mkdir_p);
	tcase_add_test(tc, test_fs_free_bytes);
	tcase_add_test(tc, test_fs_remove_tree);
	tcase_add_test(tc, test_fs_join);
	tcase_add_test(tc, test_fs_join_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("locks");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_lockset_flock_held);
	tcase_add_test(tc, test_lockset_posix_held);
	tcase_add_test(tc, test_lockset_holds);
	tcase_add_test(tc, test_lockset_nothing_held_on_failure);
	tcase_add_test(tc, test_lockset_empty);
	tcase_add_test(tc, test_lock_exclusive);
	suite_add_tcase(s, tc);

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
	return run_suite(common_suite(), "common");
}
