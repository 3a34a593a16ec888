/* gate_hold: the hold marker. Written before a requested stop, removed on
 * start; while it exists a gate keeps its node stopped, across restarts of
 * the gate itself. The file is a few key=value lines:
 *
 *   # quorum-backup-gate hold marker: the node stays stopped until `start`
 *   job=20261124T010203Z-backup
 *   reason=backup
 *   until=1795000000
 *   since=1794990000
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "gate.h"
#include "utf8.h"

#define HOLD_FILE_MAX 4096

int
hold_reason_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > GATE_REASON_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return utf8_valid(s, n);
}

/* "<dir>/<marker>", for messages. */
static int
hold_path(char *out, size_t size, const char *dir, struct err *e)
{
	if (fs_join(out, size, dir, GATE_HOLD_FILE) < 0)
		return err_set(e, ERR_CONFIG, "state dir path too long: %s", dir);
	return 0;
}

/* A non-negative decimal number of seconds; -1 when s is not one. */
static long long
parse_seconds(const char *s)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	return v;
}

int
hold_load(int dirfd, const char *dir, struct gate_hold *h, struct err *e)
{
	char path[4096];
	char *buf = NULL, *line, *save = NULL;
	size_t len;
	int bad = 0;
	struct err fe;

	memset(h, 0, sizeof *h);
	if (hold_path(path, sizeof path, dir, e) < 0)
		return -1;
	if (fs_read_fileat(dirfd, GATE_HOLD_FILE, path, HOLD_FILE_MAX, &buf,
	    &len, &fe) < 0) {
		if (fe.code == ERR_NOT_FOUND)
			return 0;
		/* it may exist: an unreadable marker still holds */
		h->present = 1;
		return err_set(e, ERR_FAILED, "%s", fe.msg);
	}
	h->present = 1;
	if (strlen(buf) != len)
		bad = 1;   /* a NUL byte inside */
	for (line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		long long v;

		if (line[0] == '#')
			continue;
		if (!eq) {
			bad = 1;
			continue;
		}
		*eq++ = '\0';
		if (strcmp(line, GATE_OPT_JOB) == 0) {
			if (*eq && !gate_job_valid(eq))
				bad = 1;
			else
				snprintf(h->job, sizeof h->job, "%s", eq);
		} else if (strcmp(line, GATE_OPT_REASON) == 0) {
			if (*eq && !hold_reason_valid(eq))
				bad = 1;
			else
				snprintf(h->reason, sizeof h->reason, "%s", eq);
		} else if (strcmp(line, GATE_OPT_UNTIL) == 0 ||
		    strcmp(line, "since") == 0) {
			if ((v = parse_seconds(eq)) < 0)
				bad = 1;
			else if (line[0] == 'u')
				h->until = v;
			else
				h->since = v;
		}
		/* other keys: written by a newer gate, ignored */
	}
	free(buf);
	if (bad)
		return err_set(e, ERR_FAILED, "%s: malformed hold marker", path);
	return 0;
}

int
hold_save(int dirfd, const char *dir, const struct gate_hold *h,
    struct err *e)
{
	char path[4096], text[HOLD_FILE_MAX];
	int n;

	if (hold_path(path, sizeof path, dir, e) < 0)
		return -1;
	n = snprintf(text, sizeof text,
	    "# quorum-backup-gate hold marker: the node stays stopped until "
	    "`start`\n%s=%s\n%s=%s\n%s=%lld\nsince=%lld\n",
	    GATE_OPT_JOB, h->job, GATE_OPT_REASON, h->reason,
	    GATE_OPT_UNTIL, h->until, h->since);
	if (n < 0 || (size_t)n >= sizeof text)
		return err_set(e, ERR_FAILED, "hold marker too long");
	if (fs_write_atomicat(dirfd, GATE_HOLD_FILE, path, text, (size_t)n,
	    0600, e) < 0) {
		err_prefix(e, "write hold marker");
		return -1;
	}
	return 0;
}

int
hold_remove(int dirfd, const char *dir, struct err *e)
{
	char path[4096];

	if (hold_path(path, sizeof path, dir, e) < 0)
		return -1;
	if (unlinkat(dirfd, GATE_HOLD_FILE, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, ERR_FAILED, "remove hold marker %s", path);
	}
	if (fsync(dirfd) < 0)
		return err_sys(e, ERR_FAILED, "remove hold marker: fsync %s", dir);
	return 0;
}
