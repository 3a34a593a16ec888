/* conf_fixture: the helpers the conf suites share (see conf_fixture.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "conf_fixture.h"
#include "agent_conf.h"
#include "conf.h"
#include "err.h"

/* ---- fixtures ------------------------------------------------------- */

void
setup_tmp(void)
{
	tmp_setup();
	unsetenv("BACKUP_DIR");
	unsetenv("TEST_ITEMS");
	unsetenv("TEST_PORT");
}

void
teardown_tmp(void)
{
	tmp_teardown();
	unsetenv("BACKUP_DIR");
	unsetenv("TEST_ITEMS");
	unsetenv("TEST_PORT");
}

char cpath[PATH_MAX];

/* Write text to tmp/name; returns the path (static buffer). */
const char *
write_conf(const char *name, const char *text)
{
	FILE *f;

	ck_assert_int_lt(snprintf(cpath, sizeof cpath, "%s/%s", tmp, name),
	    (int)sizeof cpath);
	f = fopen(cpath, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", cpath, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return cpath;
}

void
check_list(const struct conf_list *l, const char *const *want, size_t n)
{
	ck_assert_uint_eq(l->n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(l->v[i], want[i]);
}

/* ---- a table of our own --------------------------------------------- */

#define TOFF(f) offsetof(struct tconf, f)

static const struct conf_key tkeys[] = {
	{ "main", "name", CONF_STR, 1, 0, "", NULL, NULL,
	  "Required name.", TOFF(name) },
	{ "main", "path", CONF_STR, 0, 0, "/x", NULL, NULL,
	  "Optional path.", TOFF(path) },
	{ "main", "count", CONF_INT, -5, 100, "10", NULL, NULL,
	  "A count.", TOFF(count) },
	{ "main", "flag", CONF_BOOL, 0, 0, "false", NULL, NULL,
	  "A flag.", TOFF(flag) },
	{ "main", "mode", CONF_ENUM, 0, 0, "auto", "fast|slow|auto", NULL,
	  "A mode.", TOFF(mode) },
	{ "extra", "items", CONF_LIST, 0, 0, "a b c", NULL, "TEST_ITEMS",
	  "Items.", TOFF(items) },
	{ "extra", "port", CONF_INT, 1, 65535, "8080", NULL, "TEST_PORT",
	  "A port.", TOFF(port) },
	{ "extra", "verbose", CONF_BOOL, 0, 0, "yes", NULL, NULL,
	  "Verbose.", TOFF(verbose) },
};

const struct conf_table ttable = {
	"test-program", tkeys, sizeof tkeys / sizeof tkeys[0], NULL, NULL
};

static const char *const agent_exclude_def[] = { "geth/nodes",
	"geth/triecache", "geth.ipc" };
const char *const agent_locks_def[] = { "geth/LOCK",
	"geth/chaindata/LOCK", "geth/chaindata/ancient/FLOCK", "tm/db.mv.db" };

void
agent_init(struct agent_conf *c)
{
	struct err e;

	memset(c, 0, sizeof *c);
	ck_assert_msg(conf_init(&agent_conf_table, c, &e) == 0, "%s", e.msg);
}

void
t_init(struct tconf *c)
{
	struct err e;

	memset(c, 0, sizeof *c);
	ck_assert_msg(conf_init(&ttable, c, &e) == 0, "%s", e.msg);
}

void
check_agent_defaults(const struct agent_conf *c)
{
	ck_assert_int_eq(c->member, 0);
	ck_assert_str_eq(c->data_dir, "/data");
	ck_assert_str_eq(c->backup_dir, "/backups");
	ck_assert_str_eq(c->node_key, "geth/nodekey");
	ck_assert_str_eq(c->log_level, "info");
	ck_assert_int_eq(c->level, 3);
	ck_assert_int_eq(c->threads, 0);
	check_list(&c->exclude, agent_exclude_def, 3);
	check_list(&c->lock_files, agent_locks_def, 4);
	ck_assert_int_eq(c->keep_last, 7);
	ck_assert_int_eq(c->keep_days, 0);
}
