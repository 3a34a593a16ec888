/* common_fixture: the helpers the common/ suites share (see
 * common_fixture.h). */
#include "config.h"

#include <check.h>
#include <stdio.h>

#include "testutil.h"
#include "common_fixture.h"

/* ---- fixtures ------------------------------------------------------- */

/* tmp/name into buf. */
const char *
tpath(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", tmp, name);
	ck_assert(n > 0 && (size_t)n < size);
	return buf;
}
