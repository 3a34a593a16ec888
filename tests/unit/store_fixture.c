/* store_fixture: the helpers the store suites share (see store_fixture.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "testutil.h"
#include "store_fixture.h"
#include "err.h"
#include "store.h"

/* ---- fixtures ------------------------------------------------------- */

char mdir[2304];   /* tmp/member1 */

void
setup_tmp(void)
{
	tmp_setup();
	snprintf(mdir, sizeof mdir, "%s/member1", tmp);
}

/* mdir/name into a static buffer (two in turn). */
const char *
mp(const char *name)
{
	static char buf[2][PATH_MAX];
	static int next;
	char *b = buf[next++ % 2];

	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", mdir, name), PATH_MAX);
	return b;
}

void
put(const char *name, const char *content)
{
	const char *p = mp(name);
	FILE *f = fopen(p, "w");

	ck_assert_msg(f != NULL, "fopen %s: %s", p, strerror(errno));
	ck_assert_int_ge(fputs(content, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

int
exists(const char *name)
{
	struct stat st;

	return lstat(mp(name), &st) == 0;
}

void
set_mtime(const char *name, time_t t)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, mp(name), ts, 0), 0);
}

/* A complete backup: archive of asize bytes and metadata. */
void
put_backup(const char *id, size_t asize, const char *json)
{
	char name[STORE_ID_MAX + 16];
	char *data = malloc(asize + 1);

	ck_assert_ptr_nonnull(data);
	memset(data, 'z', asize);
	data[asize] = '\0';
	snprintf(name, sizeof name, "%s.tar.zst", id);
	put(name, data);
	free(data);
	snprintf(name, sizeof name, "%s.json", id);
	put(name, json);
}

time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

void
open_store(struct store *s)
{
	struct err e;

	ck_assert_msg(store_open(s, tmp, 1, 1, &e) == 0, "%s", e.msg);
}

/* ---- list and find -------------------------------------------------- */

/* The member directory of the listing tests. */
void
build_member(void)
{
	ck_assert_int_eq(mkdir(mdir, 0700), 0);
	put_backup("20261124T010203Z", 10, "{\"bytes\": 100, \"files\": 3}\n");
	put_backup("20261124T010203Z-2", 12, "{\"bytes\": 200, \"files\": 4}");
	put_backup("20261124T010203Z-9", 13, "{\"bytes\": 900, \"files\": 9}");
	put_backup("20261124T010203Z-10", 14,
	    "{\"bytes\": 1000, \"files\": 10, \"x\": \"y\"}");
	put_backup("20261123T000000Z", 5, "{\"bytes\": 1, \"files\": 1}");
	/* Metadata that does not parse: listed, counts unknown. */
	put_backup("20261122T000000Z", 7, "not json");
	/* Metadata with negative or mistyped fields. */
	put_backup("20261121T000000Z", 3, "{\"bytes\": -5, \"files\": \"7\"}");
	/* Archive without metadata, metadata without archive, partials. */
	put("20261125T000000Z.tar.zst", "aaaa");
	put("20261126T000000Z.json", "{\"bytes\": 1, \"files\": 1}");
	put("20261127T000000Z.tar.zst.partial", "p");
	put("20261127T000000Z.json.partial", "{}");
	/* An archive that is a directory. */
	ck_assert_int_eq(mkdir(mp("20261128T000000Z.tar.zst"), 0700), 0);
	put("20261128T000000Z.json", "{\"bytes\": 1, \"files\": 1}");
	/* Legacy backups (created = mtime). */
	put("old.tar.gz", "legacy-old");
	set_mtime("old.tar.gz", utc(2020, 1, 1, 0, 0, 0));
	put("mid.tar.gz", "legacy-mid!");
	set_mtime("mid.tar.gz", utc(2026, 11, 23, 12, 0, 0));
	/* Junk. */
	put("notes.txt", "hello");
	put("foo.json", "{}");
	put("foo.tar.zst", "x");
	put(".hidden.tar.gz", "x");
	put(".lock", "");
	put("20261124T010203Z-.json", "{}");
	put("20261124T010203Z-.tar.zst", "x");
	ck_assert_int_eq(mkdir(mp("dir.tar.gz"), 0700), 0);
}
