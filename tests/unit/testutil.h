/* testutil: what the Check suites share: a base directory for their
 * fixtures and its removal, and the runner. */
#ifndef QB_TESTUTIL_H
#define QB_TESTUTIL_H

#include <check.h>

/* A fresh directory under $TMPDIR for one suite run; removed at the end. */
extern char base_dir[1024];

/* Remove path and everything below it, read-only directories included. */
void rm_rf(const char *path);

/* Make base_dir, run the suite, remove base_dir; the exit status. */
int run_suite(Suite *s, const char *name);

#endif
