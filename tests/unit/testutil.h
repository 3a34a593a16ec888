/* testutil: what the Check suites share: a base directory for their
 * fixtures and its removal, each test's own directory below it, reading
 * and writing whole files, and the runner. */
#ifndef QB_TESTUTIL_H
#define QB_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

/* A fresh directory under $TMPDIR for one suite run; removed at the end. */
extern char base_dir[1024];

/* The running test's own directory, made with mkdtemp below base_dir by
 * tmp_setup and removed by tmp_teardown (a checked fixture, or called
 * from a suite's own setup and teardown); "" between tests. */
extern char tmp[2048];
void tmp_setup(void);
void tmp_teardown(void);

/* tmp/(the formatted name), in one of eight static buffers used in turn. */
const char *tmp_path(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* The whole content of path, NUL-terminated (it may hold NULs of its
 * own); *len (if not NULL) gets its length. The test fails when path
 * cannot be read. Caller frees. */
char *slurp(const char *path, size_t *len);

/* Create or truncate path with len bytes of data, then set its mode. */
void put_file(const char *path, const void *data, size_t len, mode_t mode);

/* Remove path and everything below it, read-only directories included. */
void rm_rf(const char *path);

/* Make base_dir, run the suite, remove base_dir; the exit status. */
int run_suite(Suite *s, const char *name);
/* The same, calling before_removal (if not NULL) once the tests have run
 * and before base_dir is removed (to stop what the tests left running). */
int run_suite_then(Suite *s, const char *name, void (*before_removal)(void));

#endif
