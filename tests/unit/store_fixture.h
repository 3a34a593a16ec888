/* store_fixture: what the store suites (test_store_dir, test_store_hostile,
 * test_store_summary, test_store_retention) share: a member directory in
 * each test's own, files and complete backups made in it, and the store
 * opened on it. */
#ifndef QB_STORE_FIXTURE_H
#define QB_STORE_FIXTURE_H

#include <stddef.h>
#include <time.h>

#include "store.h"

/* ---- fixtures ------------------------------------------------------- */

extern char mdir[2304];   /* tmp/member1 */
void setup_tmp(void);

/* mdir/name into a static buffer (two in turn). */
const char *mp(const char *name);

void put(const char *name, const char *content);
int exists(const char *name);
void set_mtime(const char *name, time_t t);

/* A complete backup: archive of asize bytes and metadata. */
void put_backup(const char *id, size_t asize, const char *json);

time_t utc(int y, int mo, int d, int h, int mi, int s);
void open_store(struct store *s);

/* ---- list and find -------------------------------------------------- */

/* The member directory of the listing tests. */
void build_member(void);

#endif
