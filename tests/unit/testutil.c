/* testutil: the helpers the Check suites share (see testutil.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

char base_dir[1024];
char tmp[2048];

void
tmp_setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/t.XXXXXX", base_dir);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

void
tmp_teardown(void)
{
	rm_rf(tmp);
	tmp[0] = '\0';
}

const char *
tmp_path(const char *fmt, ...)
{
	static char buf[8][PATH_MAX];
	static unsigned next;
	char *b = buf[next++ % 8];
	char name[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof name);
	n = snprintf(b, PATH_MAX, "%s/%s", tmp, name);
	ck_assert(n > 0 && n < PATH_MAX);
	return b;
}

char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n = 0, cap = 4096;

	ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	ck_assert_msg(!ferror(f), "read %s: %s", path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void
put_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

static int
chmod_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D || type == FTW_DNR)
		chmod(p, (st->st_mode & 07777) | 0700);
	return 0;
}

static int
rm_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP || type == FTW_D || type == FTW_DNR)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

void
rm_rf(const char *path)
{
	if (!path[0])
		return;
	nftw(path, chmod_cb, 16, FTW_PHYS);
	nftw(path, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
}

int
run_suite(Suite *s, const char *name)
{
	return run_suite_then(s, name, NULL);
}

int
run_suite_then(Suite *s, const char *name, void (*before_removal)(void))
{
	const char *t = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	if (!t || !t[0])
		t = "/tmp";
	snprintf(base_dir, sizeof base_dir, "%s/qb-test-%s.XXXXXX", t, name);
	if (!mkdtemp(base_dir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (before_removal)
		before_removal();
	rm_rf(base_dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
