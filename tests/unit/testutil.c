#include "config.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

char base_dir[1024];

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
	rm_rf(base_dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
