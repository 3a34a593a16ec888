/* common_fixture: what the suites of common/ (test_common_err_log,
 * test_common_fs_locks) share. */
#ifndef QB_COMMON_FIXTURE_H
#define QB_COMMON_FIXTURE_H

#include <stddef.h>

/* ---- fixtures ------------------------------------------------------- */

/* tmp/name into buf. */
const char *tpath(char *buf, size_t size, const char *name);

#endif
