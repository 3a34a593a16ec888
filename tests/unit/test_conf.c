/* Unit tests of common/conf with the agent's table and a table of our own.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "agent_conf.h"
#include "conf.h"
#include "err.h"

/* ---- fixtures ------------------------------------------------------- */

static void
setup_tmp(void)
{
	tmp_setup();
	unsetenv("BACKUP_DIR");
	unsetenv("TEST_ITEMS");
	unsetenv("TEST_PORT");
}

static void
teardown_tmp(void)
{
	tmp_teardown();
	unsetenv("BACKUP_DIR");
	unsetenv("TEST_ITEMS");
	unsetenv("TEST_PORT");
}

static char cpath[PATH_MAX];

/* Write text to tmp/name; returns the path (static buffer). */
static const char *
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

/* "path:" followed by rest, in buf. */
static const char *
at(char *buf, size_t size, const char *path, const char *rest)
{
	snprintf(buf, size, "%s:%s", path, rest);
	return buf;
}

static void
check_list(const struct conf_list *l, const char *const *want, size_t n)
{
	ck_assert_uint_eq(l->n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(l->v[i], want[i]);
}

/* ---- a table of our own --------------------------------------------- */

struct tconf {
	char *name;              /* [main] required string */
	char *path;              /* [main] optional string */
	long long count;         /* [main] -5..100 */
	int flag;                /* [main] bool */
	char *mode;              /* [main] enum */
	struct conf_list items;  /* [extra] list, env TEST_ITEMS */
	long long port;          /* [extra] 1..65535, env TEST_PORT */
	int verbose;             /* [extra] bool, default true */
};

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

static const struct conf_table ttable = {
	"test-program", tkeys, sizeof tkeys / sizeof tkeys[0], NULL, NULL
};

static const char *const agent_exclude_def[] = { "geth/nodes",
	"geth/triecache", "geth.ipc" };
static const char *const agent_locks_def[] = { "geth/LOCK",
	"geth/chaindata/LOCK", "geth/chaindata/ancient/FLOCK", "tm/db.mv.db" };

static void
agent_init(struct agent_conf *c)
{
	struct err e;

	memset(c, 0, sizeof *c);
	ck_assert_msg(conf_init(&agent_conf_table, c, &e) == 0, "%s", e.msg);
}

static void
t_init(struct tconf *c)
{
	struct err e;

	memset(c, 0, sizeof *c);
	ck_assert_msg(conf_init(&ttable, c, &e) == 0, "%s", e.msg);
}

static void
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

/* Load text into a fresh agent config; expect failure with exactly
 * "<path>:<rest>". */
static void
agent_load_fails(const char *text, const char *rest)
{
	struct agent_conf c;
	struct err e;
	char want[PATH_MAX + 512];
	const char *p = write_conf("agent.ini", text);

	agent_init(&c);
	err_clear(&e);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(err_exit_code(e.code), 2);
	ck_assert_str_eq(e.msg, at(want, sizeof want, p, rest));
	conf_free(&agent_conf_table, &c);
}

static void
t_load_fails(const char *text, const char *rest)
{
	struct tconf c;
	struct err e;
	char want[PATH_MAX + 512];
	const char *p = write_conf("t.ini", text);

	t_init(&c);
	err_clear(&e);
	ck_assert_int_eq(conf_load_file(&ttable, &c, p, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(err_exit_code(e.code), 2);
	ck_assert_str_eq(e.msg, at(want, sizeof want, p, rest));
	conf_free(&ttable, &c);
}

/* ---- defaults and files --------------------------------------------- */

START_TEST(test_agent_defaults)
{
	struct agent_conf c;

	agent_init(&c);
	check_agent_defaults(&c);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_own_defaults)
{
	static const char *const items[] = { "a", "b", "c" };
	struct tconf c;

	t_init(&c);
	ck_assert_ptr_null(c.name);   /* required, no default */
	ck_assert_str_eq(c.path, "/x");
	ck_assert_int_eq(c.count, 10);
	ck_assert_int_eq(c.flag, 0);
	ck_assert_str_eq(c.mode, "auto");
	check_list(&c.items, items, 3);
	ck_assert_int_eq(c.port, 8080);
	ck_assert_int_eq(c.verbose, 1);
	conf_free(&ttable, &c);
}
END_TEST

START_TEST(test_conf_init_bad_default)
{
	static const struct conf_key bad[] = {
		{ "s", "n", CONF_INT, 1, 5, "9", NULL, NULL, "h", 0 },
	};
	static const struct conf_table bt = { "p", bad, 1, NULL, NULL };
	long long v = 0;
	struct err e;

	ck_assert_int_eq(conf_init(&bt, &v, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_str_eq(e.msg, "default of s.n: 9 is out of range 1..5");
}
END_TEST

START_TEST(test_conf_find)
{
	const struct conf_key *k = conf_find(&agent_conf_table, "archive",
	    "level");

	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->key, "level");
	ck_assert_int_eq(k->type, CONF_INT);
	ck_assert_int_eq(k->min, 1);
	ck_assert_int_eq(k->max, 19);
	ck_assert_ptr_null(conf_find(&agent_conf_table, "agent", "level"));
	ck_assert_ptr_null(conf_find(&agent_conf_table, "archive", "nope"));
}
END_TEST

START_TEST(test_own_every_type)
{
	static const char *const items[] = { "one", "two words", "three" };
	struct tconf c;
	struct err e;
	const char *p = write_conf("t.ini",
	    "; a comment\n"
	    "# another comment\n"
	    "\n"
	    "[main]\n"
	    "name = node-1\n"
	    "path=/srv/data dir\n"
	    "count = -5\n"
	    "flag = Yes\n"
	    "mode = slow\n"
	    "\n"
	    "[extra]\n"
	    "items = one\n"
	    "items = two words\n"
	    "items = three ; inline comment\n"
	    "port = 65535\n"
	    "verbose = off\n");

	t_init(&c);
	ck_assert_msg(conf_load_file(&ttable, &c, p, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(c.name, "node-1");
	ck_assert_str_eq(c.path, "/srv/data dir");
	ck_assert_int_eq(c.count, -5);
	ck_assert_int_eq(c.flag, 1);
	ck_assert_str_eq(c.mode, "slow");
	check_list(&c.items, items, 3);
	ck_assert_int_eq(c.port, 65535);
	ck_assert_int_eq(c.verbose, 0);
	conf_free(&ttable, &c);
}
END_TEST

START_TEST(test_own_bools)
{
	static const struct {
		const char *text;
		int v;
	} cases[] = {
		{ "true", 1 }, { "TRUE", 1 }, { "yes", 1 }, { "on", 1 },
		{ "1", 1 }, { "false", 0 }, { "No", 0 }, { "off", 0 },
		{ "0", 0 },
	};
	char text[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tconf c;
		struct err e;
		const char *p;
		snprintf(text, sizeof text, "[main]\nflag = %s\n", cases[i].text);
		p = write_conf("t.ini", text);
		t_init(&c);
		c.flag = !cases[i].v;
		ck_assert_msg(conf_load_file(&ttable, &c, p, &e) == 0, "%s",
		    e.msg);
		ck_assert_int_eq(c.flag, cases[i].v);
		conf_free(&ttable, &c);
	}
}
END_TEST

START_TEST(test_agent_full_file)
{
	static const char *const excl[] = { "geth/keystore", "*.log" };
	static const char *const locks[] = { "geth/LOCK" };
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini",
	    "[agent]\n"
	    "member = 3\n"
	    "data_dir = /mnt/data\n"
	    "backup_dir = /mnt/backups\n"
	    "node_key =\n"
	    "log_level = debug\n"
	    "[archive]\n"
	    "level = 19\n"
	    "threads = 256\n"
	    "exclude = geth/keystore\n"
	    "exclude = *.log\n"
	    "lock_files = geth/LOCK\n"
	    "[retention]\n"
	    "keep_last = 0\n"
	    "keep_days = 36500\n");

	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(c.member, 3);
	ck_assert_str_eq(c.data_dir, "/mnt/data");
	ck_assert_str_eq(c.backup_dir, "/mnt/backups");
	ck_assert_str_eq(c.node_key, "");
	ck_assert_str_eq(c.log_level, "debug");
	ck_assert_int_eq(c.level, 19);
	ck_assert_int_eq(c.threads, 256);
	check_list(&c.exclude, excl, 2);
	check_list(&c.lock_files, locks, 1);
	ck_assert_int_eq(c.keep_last, 0);
	ck_assert_int_eq(c.keep_days, 36500);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_empty_file_keeps_defaults)
{
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini", "; nothing\n\n# at all\n");

	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	check_agent_defaults(&c);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_list_repeat)
{
	static const char *const want[] = { "x", "y", "z" };
	static const char *const want_one[] = { "only" };
	struct agent_conf c;
	struct err e;
	const char *p;

	/* The first occurrence replaces the defaults, later ones append,
	 * even when other keys come in between. */
	p = write_conf("agent.ini", "[archive]\nexclude = x\nlevel = 4\n"
	    "exclude = y\n[retention]\nkeep_last = 2\n[archive]\nexclude = z\n");
	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	check_list(&c.exclude, want, 3);
	check_list(&c.lock_files, agent_locks_def, 4);   /* untouched */
	ck_assert_int_eq(c.level, 4);
	conf_free(&agent_conf_table, &c);

	/* An empty first value clears the defaults. */
	p = write_conf("agent.ini", "[archive]\nexclude =\n");
	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(c.exclude.n, 0);
	conf_free(&agent_conf_table, &c);

	/* Cleared, then one item. */
	p = write_conf("agent.ini", "[archive]\nexclude =\nexclude = only\n");
	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	check_list(&c.exclude, want_one, 1);
	conf_free(&agent_conf_table, &c);
}
END_TEST

/* conf.h: "the key may repeat, an empty value clears"; agent_conf.c:
 * "'exclude =' clears the list". An empty value after items must clear
 * them, not only when it is the first occurrence. */
START_TEST(test_list_empty_later_clears)
{
	static const char *const want[] = { "c" };
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini", "[archive]\nexclude = a\n"
	    "exclude = b\nexclude =\nexclude = c\nlock_files = L\n"
	    "lock_files =\n");

	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	check_list(&c.exclude, want, 1);
	ck_assert_uint_eq(c.lock_files.n, 0);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_set_twice)
{
	agent_load_fails("[agent]\nmember = 1\n\n; c\nmember = 2\n",
	    "5: member: set twice (first at line 2)");
	agent_load_fails("[archive]\nlevel = 3\n[agent]\nmember = 1\n"
	    "[archive]\nlevel = 3\n",
	    "6: level: set twice (first at line 2)");
	t_load_fails("[main]\nflag = yes\nflag = yes\n",
	    "3: flag: set twice (first at line 2)");
}
END_TEST

START_TEST(test_unknown_key_section)
{
	agent_load_fails("[agent]\nmember = 1\n\n; comment\n[archive]\n"
	    "levle = 3\n", "6: levle: unknown key in [archive]");
	/* A key of another section. */
	agent_load_fails("[agent]\nlevel = 3\n",
	    "2: level: unknown key in [agent]");
	agent_load_fails("[nosuch]\nkey = 1\n",
	    "2: key: unknown section [nosuch]");
	agent_load_fails("member = 1\n", "1: member: unknown section []");
}
END_TEST

START_TEST(test_bad_values)
{
	agent_load_fails("[retention]\nkeep_last = seven\n",
	    "2: keep_last: 'seven' is not an integer");
	agent_load_fails("[agent]\nmember = 0x1\n",
	    "2: member: '0x1' is not an integer");
	agent_load_fails("[agent]\nmember = 99999999999999999999\n",
	    "2: member: '99999999999999999999' is not an integer");
	agent_load_fails("[agent]\nmember = 1.5\n",
	    "2: member: '1.5' is not an integer");
	agent_load_fails("[archive]\nlevel = 42\n",
	    "2: level: 42 is out of range 1..19");
	agent_load_fails("[archive]\nlevel = 0\n",
	    "2: level: 0 is out of range 1..19");
	agent_load_fails("[agent]\nlog_level = loud\n",
	    "2: log_level: 'loud' is not one of debug|info|warn|error");
	agent_load_fails("[agent]\nlog_level = INFO\n",
	    "2: log_level: 'INFO' is not one of debug|info|warn|error");
	agent_load_fails("[agent]\nbackup_dir =\n",
	    "2: backup_dir: must not be empty");

	t_load_fails("[main]\ncount = -6\n",
	    "2: count: -6 is out of range -5..100");
	t_load_fails("[main]\ncount = 101\n",
	    "2: count: 101 is out of range -5..100");
	t_load_fails("[main]\ncount =\n", "2: count: '' is not an integer");
	t_load_fails("[main]\nflag = maybe\n",
	    "2: flag: 'maybe' is not a boolean (true or false)");
	t_load_fails("[main]\nflag =\n",
	    "2: flag: '' is not a boolean (true or false)");
	t_load_fails("[main]\nmode = fas\n",
	    "2: mode: 'fas' is not one of fast|slow|auto");
	t_load_fails("[main]\nmode = fastest\n",
	    "2: mode: 'fastest' is not one of fast|slow|auto");
	t_load_fails("[main]\nmode =\n",
	    "2: mode: '' is not one of fast|slow|auto");
	t_load_fails("[main]\nname =\n", "2: name: must not be empty");
	t_load_fails("[extra]\nport = 0\n",
	    "2: port: 0 is out of range 1..65535");
}
END_TEST

START_TEST(test_syntax_error)
{
	agent_load_fails("[agent]\nthis line has no equals sign\n",
	    "2: syntax error (expected '[section]' or 'key = value')");
	agent_load_fails("[agent]\nmember = 1\n\n; c\n# d\n\n[archive\n",
	    "7: syntax error (expected '[section]' or 'key = value')");
}
END_TEST

START_TEST(test_long_lines)
{
	char text[1024], value[512];
	struct agent_conf c;
	struct err e;
	const char *p;

	/* 190 bytes: "exclude = " (10) + 180. */
	memset(value, 'v', 180);
	value[180] = '\0';
	snprintf(text, sizeof text, "[archive]\nexclude = %s\n", value);
	p = write_conf("agent.ini", text);
	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(c.exclude.n, 1);
	ck_assert_str_eq(c.exclude.v[0], value);
	conf_free(&agent_conf_table, &c);

	/* 198 bytes, the documented limit: accepted whole. */
	memset(value, 'w', 188);
	value[188] = '\0';
	snprintf(text, sizeof text, "[archive]\nexclude = %s\n", value);
	p = write_conf("agent.ini", text);
	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(c.exclude.n, 1);
	ck_assert_str_eq(c.exclude.v[0], value);
	conf_free(&agent_conf_table, &c);

	/* 199 bytes: refused, not cut. */
	memset(value, 'w', 189);
	value[189] = '\0';
	snprintf(text, sizeof text, "[archive]\nexclude = %s\n", value);
	agent_load_fails(text, "2: line is longer than 198 bytes");

	/* 250 bytes, after blank lines and comments. */
	memset(value, 'x', 240);
	value[240] = '\0';
	snprintf(text, sizeof text, "[archive]\n\n; c\nlevel = 3\n"
	    "exclude = %s\n", value);
	agent_load_fails(text, "5: line is longer than 198 bytes");

	/* A long comment is a long line too. */
	memset(value, 'c', 240);
	value[240] = '\0';
	snprintf(text, sizeof text, "[archive]\n; %s\nlevel = 3\n", value);
	agent_load_fails(text, "2: line is longer than 198 bytes");

	/* The last line, without a newline. */
	snprintf(text, sizeof text, "[archive]\nexclude = %s", value);
	agent_load_fails(text, "2: line is longer than 198 bytes");
}
END_TEST

START_TEST(test_indented_and_comments)
{
	static const char *const excl[] = { "a", "b" };
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini",
	    "; leading comment\n"
	    "# hash comment\n"
	    "  [agent]\n"
	    "node_key = k\n"
	    "   data_dir = /d\n"
	    "\tbackup_dir = /b ; trailing comment\n"
	    "    ; indented comment\n"
	    "    # indented hash comment\n"
	    "[archive]\n"
	    "  exclude = a\n"
	    "\texclude = b\n"
	    "level=5\n");

	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	/* Indented lines are keys of their own, not continuations. */
	ck_assert_str_eq(c.node_key, "k");
	ck_assert_str_eq(c.data_dir, "/d");
	ck_assert_str_eq(c.backup_dir, "/b");
	check_list(&c.exclude, excl, 2);
	ck_assert_int_eq(c.level, 5);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_line_numbers)
{
	agent_load_fails(
	    "; header\n"
	    "\n"
	    "[agent]\n"
	    "   ; indented comment\n"
	    "# another\n"
	    "\n"
	    "member = 2\n"
	    "\n"
	    "\n"
	    "[archive]\n"
	    "  threads = 999\n",
	    "11: threads: 999 is out of range 0..256");
	agent_load_fails(
	    "\n\n\n\n\n\n\n\n\n\n\n\n"
	    "[retention]\n"
	    "keep_days = -1\n",
	    "14: keep_days: -1 is out of range 0..36500");
}
END_TEST

START_TEST(test_missing_file)
{
	struct agent_conf c;
	struct err e;
	char p[PATH_MAX], want[PATH_MAX + 128];

	snprintf(p, sizeof p, "%s/missing.ini", tmp);
	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(err_exit_code(e.code), 2);
	snprintf(want, sizeof want, "%s: %s", p, strerror(ENOENT));
	ck_assert_str_eq(e.msg, want);
	check_agent_defaults(&c);
	conf_free(&agent_conf_table, &c);
}
END_TEST

/* ---- environment and flags ------------------------------------------ */

START_TEST(test_env)
{
	static const char *const items[] = { "from-env" };
	struct agent_conf c;
	struct tconf t;
	struct err e;
	const char *p = write_conf("agent.ini",
	    "[agent]\nbackup_dir = /file\n");

	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), 0);
	/* Unset: the file's value stays. */
	ck_assert_int_eq(conf_apply_env(&agent_conf_table, &c, &e), 0);
	ck_assert_str_eq(c.backup_dir, "/file");
	setenv("BACKUP_DIR", "/env", 1);
	ck_assert_int_eq(conf_apply_env(&agent_conf_table, &c, &e), 0);
	ck_assert_str_eq(c.backup_dir, "/env");
	ck_assert_str_eq(c.data_dir, "/data");

	/* A bad value names the variable. */
	setenv("BACKUP_DIR", "", 1);
	err_clear(&e);
	ck_assert_int_eq(conf_apply_env(&agent_conf_table, &c, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_str_eq(e.msg, "BACKUP_DIR: must not be empty");
	unsetenv("BACKUP_DIR");
	conf_free(&agent_conf_table, &c);

	t_init(&t);
	setenv("TEST_PORT", "abc", 1);
	ck_assert_int_eq(conf_apply_env(&ttable, &t, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_str_eq(e.msg, "TEST_PORT: 'abc' is not an integer");
	setenv("TEST_PORT", "70000", 1);
	ck_assert_int_eq(conf_apply_env(&ttable, &t, &e), -1);
	ck_assert_str_eq(e.msg, "TEST_PORT: 70000 is out of range 1..65535");
	setenv("TEST_PORT", "443", 1);
	/* A list from the environment replaces the defaults. */
	setenv("TEST_ITEMS", "from-env", 1);
	ck_assert_int_eq(conf_apply_env(&ttable, &t, &e), 0);
	ck_assert_int_eq(t.port, 443);
	check_list(&t.items, items, 1);
	setenv("TEST_ITEMS", "", 1);
	ck_assert_int_eq(conf_apply_env(&ttable, &t, &e), 0);
	ck_assert_uint_eq(t.items.n, 0);
	conf_free(&ttable, &t);
}
END_TEST

START_TEST(test_conf_set)
{
	struct agent_conf c;
	struct err e;

	agent_init(&c);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "agent.member", "3",
	    "--member", &e), 0);
	ck_assert_int_eq(c.member, 3);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "retention.keep_days",
	    "30", "--set", &e), 0);
	ck_assert_int_eq(c.keep_days, 30);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "agent.log_level",
	    "warn", "--log-level", &e), 0);
	ck_assert_str_eq(c.log_level, "warn");

	err_clear(&e);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "agent.member", "0x1",
	    "--member", &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_str_eq(e.msg, "--member: agent.member: '0x1' is not an "
	    "integer");
	ck_assert_int_eq(c.member, 3);

	err_clear(&e);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.nope", "1",
	    "--set", &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_str_eq(e.msg, "--set: archive.nope: unknown key");

	err_clear(&e);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "member", "1",
	    "--set", &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_str_eq(e.msg, "--set: 'member' is not section.key");

	err_clear(&e);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "nosuch.member", "1",
	    "--set", &e), -1);
	ck_assert_str_eq(e.msg, "--set: nosuch.member: unknown key");
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_conf_set_list)
{
	static const char *const want[] = { "f1", "f2" };
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini",
	    "[archive]\nexclude = file1\nexclude = file2\n");

	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), 0);
	/* The first flag replaces the file's list, later ones append. */
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude",
	    "f1", "--set", &e), 0);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude",
	    "f2", "--set", &e), 0);
	check_list(&c.exclude, want, 2);
	check_list(&c.lock_files, agent_locks_def, 4);
	conf_free(&agent_conf_table, &c);
}
END_TEST

/* conf_set remembers the last list key in one static variable: flags for
 * two list keys interleaved ("--set archive.exclude=a --set
 * archive.lock_files=L --set archive.exclude=c") lose "a". */
START_TEST(test_conf_set_list_interleaved)
{
	static const char *const excl[] = { "a", "c" };
	static const char *const locks[] = { "L1", "L2" };
	struct agent_conf c;
	struct err e;

	agent_init(&c);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude", "a",
	    "--set", &e), 0);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.lock_files",
	    "L1", "--set", &e), 0);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude", "c",
	    "--set", &e), 0);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.lock_files",
	    "L2", "--set", &e), 0);
	check_list(&c.exclude, excl, 2);
	check_list(&c.lock_files, locks, 2);
	conf_free(&agent_conf_table, &c);
}
END_TEST

/* The same static state leaks from one configuration to the next: the
 * first flag for a list key of a fresh configuration must replace its
 * defaults. */
START_TEST(test_conf_set_list_fresh_config)
{
	static const char *const want[] = { "second" };
	struct agent_conf c;
	struct err e;

	agent_init(&c);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude",
	    "first", "--set", &e), 0);
	conf_free(&agent_conf_table, &c);

	agent_init(&c);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude",
	    "second", "--set", &e), 0);
	check_list(&c.exclude, want, 1);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_precedence)
{
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini",
	    "[agent]\nbackup_dir = /file\nmember = 1\ndata_dir = /fdata\n");

	/* defaults < file */
	agent_init(&c);
	ck_assert_str_eq(c.backup_dir, "/backups");
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), 0);
	ck_assert_str_eq(c.backup_dir, "/file");
	ck_assert_int_eq(c.member, 1);
	/* file < env */
	setenv("BACKUP_DIR", "/env", 1);
	ck_assert_int_eq(conf_apply_env(&agent_conf_table, &c, &e), 0);
	ck_assert_str_eq(c.backup_dir, "/env");
	ck_assert_str_eq(c.data_dir, "/fdata");
	/* env < flags */
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "agent.backup_dir",
	    "/flag", "--backup-dir", &e), 0);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "agent.member", "2",
	    "--member", &e), 0);
	ck_assert_str_eq(c.backup_dir, "/flag");
	ck_assert_int_eq(c.member, 2);
	ck_assert_str_eq(c.data_dir, "/fdata");
	conf_free(&agent_conf_table, &c);
}
END_TEST

/* Lists: each source's first value replaces what earlier sources gave,
 * later values from the same source append. */
START_TEST(test_precedence_lists)
{
	static const char *const from_file[] = { "f1", "f2" };
	static const char *const from_env[] = { "e1" };
	static const char *const from_flags[] = { "s1", "s2" };
	struct tconf c;
	struct err e;
	const char *p = write_conf("t.ini",
	    "[extra]\nitems = f1\nitems = f2\n");

	t_init(&c);
	ck_assert_int_eq(conf_load_file(&ttable, &c, p, &e), 0);
	check_list(&c.items, from_file, 2);
	setenv("TEST_ITEMS", "e1", 1);
	ck_assert_int_eq(conf_apply_env(&ttable, &c, &e), 0);
	check_list(&c.items, from_env, 1);
	ck_assert_int_eq(conf_set(&ttable, &c, "extra.items", "s1", "--set", &e),
	    0);
	ck_assert_int_eq(conf_set(&ttable, &c, "extra.items", "s2", "--set", &e),
	    0);
	check_list(&c.items, from_flags, 2);
	conf_free(&ttable, &c);

	/* No environment: the flags still replace the file's list. */
	unsetenv("TEST_ITEMS");
	t_init(&c);
	ck_assert_int_eq(conf_load_file(&ttable, &c, p, &e), 0);
	ck_assert_int_eq(conf_apply_env(&ttable, &c, &e), 0);
	check_list(&c.items, from_file, 2);
	ck_assert_int_eq(conf_set(&ttable, &c, "extra.items", "s1", "--set", &e),
	    0);
	ck_assert_int_eq(conf_set(&ttable, &c, "extra.items", "s2", "--set", &e),
	    0);
	check_list(&c.items, from_flags, 2);
	/* An empty flag value clears. */
	ck_assert_int_eq(conf_set(&ttable, &c, "extra.items", "", "--set", &e),
	    0);
	ck_assert_uint_eq(c.items.n, 0);
	conf_free(&ttable, &c);
}
END_TEST

/* conf_free leaves a configuration that conf_init can fill again: a list
 * set by flags before must not make the next file's values append to the
 * defaults. */
START_TEST(test_conf_reinit_after_free)
{
	static const char *const want[] = { "x" };
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("agent.ini", "[archive]\nexclude = x\n");

	agent_init(&c);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "archive.exclude",
	    "flag", "--set", &e), 0);
	conf_free(&agent_conf_table, &c);

	/* Again, without zeroing the struct in between. */
	ck_assert_int_eq(conf_init(&agent_conf_table, &c, &e), 0);
	check_agent_defaults(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), 0);
	check_list(&c.exclude, want, 1);
	conf_free(&agent_conf_table, &c);
}
END_TEST

/* ---- sample and --help ---------------------------------------------- */

static const char *
print_sample(const struct conf_table *t, const char *name)
{
	FILE *f;

	snprintf(cpath, sizeof cpath, "%s/%s", tmp, name);
	f = fopen(cpath, "w");
	ck_assert_ptr_nonnull(f);
	conf_print_sample(t, f);
	ck_assert_int_eq(fclose(f), 0);
	return cpath;
}

/* Remove the ';' before key lines (";key = value"; help lines are "; "). */
static size_t
uncomment_keys(char *text)
{
	size_t n = 0;

	for (char *l = text; *l; ) {
		char *nl = strchr(l, '\n');
		if (l[0] == ';' && (l[1] == '_' || (l[1] >= 'a' && l[1] <= 'z') ||
		    (l[1] >= 'A' && l[1] <= 'Z'))) {
			l[0] = ' ';
			n++;
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	return n;
}

static void
check_line_lengths(const char *text)
{
	for (const char *l = text; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		ck_assert_msg(len <= 198, "sample line of %zu bytes", len);
		if (!nl)
			break;
		l = nl + 1;
	}
}

START_TEST(test_sample_agent)
{
	struct agent_conf c;
	struct err e;
	char *text;
	size_t keys;
	const char *p = print_sample(&agent_conf_table, "sample.ini");

	/* As printed: every key commented out, so only defaults. */
	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	check_agent_defaults(&c);
	conf_free(&agent_conf_table, &c);

	text = slurp(p, NULL);
	check_line_lengths(text);
	ck_assert_ptr_nonnull(strstr(text, "quorum-backup-agent"));
	for (size_t i = 0; i < agent_conf_table.count; i++) {
		char want[128];
		const struct conf_key *k = &agent_conf_table.keys[i];
		/* [node.NAME] keys are an example, commented out twice. */
		int templ = strcmp(k->section, "node.*") == 0;
		snprintf(want, sizeof want, "\n%s%s = ", templ ? ";;" : ";",
		    k->key);
		ck_assert_msg(strstr(text, want) != NULL, "no %s", k->key);
		snprintf(want, sizeof want, templ ? "\n;[node.NAME]\n" :
		    "\n[%s]\n", k->section);
		ck_assert_msg(strstr(text, want) != NULL, "no [%s]",
		    k->section);
	}

	/* Uncommented: the keys set to their defaults. */
	keys = uncomment_keys(text);
	/* Lists give one line per item; the five [node.NAME] keys stay
	 * commented (an example section). */
	ck_assert_uint_eq(keys, agent_conf_table.count - 5 - 2 + 3 + 4);
	p = write_conf("uncommented.ini", text);
	free(text);
	agent_init(&c);
	/* Start from other values: the file must set them all back. */
	c.member = 5;
	c.level = 9;
	c.keep_last = 1;
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	check_agent_defaults(&c);
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_sample_own)
{
	static const char *const items[] = { "a", "b", "c" };
	struct tconf c;
	struct err e;
	char *text;
	const char *p = print_sample(&ttable, "sample.ini");

	t_init(&c);
	ck_assert_msg(conf_load_file(&ttable, &c, p, &e) == 0, "%s", e.msg);
	ck_assert_ptr_null(c.name);
	ck_assert_int_eq(c.count, 10);
	conf_free(&ttable, &c);

	text = slurp(p, NULL);
	check_line_lengths(text);
	ck_assert_ptr_nonnull(strstr(text, "\n;name = \n"));
	ck_assert_ptr_nonnull(strstr(text, "\n;items = a\n;items = b\n"
	    ";items = c\n"));
	ck_assert_ptr_nonnull(strstr(text, "environment TEST_ITEMS overrides"));
	ck_assert_ptr_nonnull(strstr(text, "; integer, -5..100\n"));
	ck_assert_ptr_nonnull(strstr(text, "; fast|slow|auto\n"));
	uncomment_keys(text);
	p = write_conf("uncommented.ini", text);
	free(text);

	/* The required name, empty by default, must be configured. */
	t_init(&c);
	ck_assert_int_eq(conf_load_file(&ttable, &c, p, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(e.msg, ": name: must not be empty"));
	conf_free(&ttable, &c);

	/* With it set, the rest parses back to the defaults. */
	text = slurp(p, NULL);
	{
		char *nm = strstr(text, " name = \n");
		size_t len = strlen(text);
		ck_assert_ptr_nonnull(nm);
		memcpy(nm, ";", 1);
		text = realloc(text, len + 32);
		ck_assert_ptr_nonnull(text);
		strcpy(text + len, "[main]\nname = n1\n");
	}
	p = write_conf("named.ini", text);
	free(text);
	t_init(&c);
	ck_assert_msg(conf_load_file(&ttable, &c, p, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(c.name, "n1");
	ck_assert_str_eq(c.path, "/x");
	ck_assert_int_eq(c.count, 10);
	ck_assert_int_eq(c.flag, 0);
	ck_assert_str_eq(c.mode, "auto");
	check_list(&c.items, items, 3);
	ck_assert_int_eq(c.port, 8080);
	ck_assert_int_eq(c.verbose, 1);
	conf_free(&ttable, &c);
}
END_TEST

START_TEST(test_print_keys)
{
	char *text;
	FILE *f;

	snprintf(cpath, sizeof cpath, "%s/keys.txt", tmp);
	f = fopen(cpath, "w");
	ck_assert_ptr_nonnull(f);
	conf_print_keys(&agent_conf_table, f);
	ck_assert_int_eq(fclose(f), 0);
	text = slurp(cpath, NULL);
	for (size_t i = 0; i < agent_conf_table.count; i++) {
		char want[128];
		const struct conf_key *k = &agent_conf_table.keys[i];
		if (strcmp(k->section, "node.*") == 0)
			snprintf(want, sizeof want, "  [node.NAME] %s: ", k->key);
		else
			snprintf(want, sizeof want, "  [%s] %s: ", k->section,
			    k->key);
		ck_assert_msg(strstr(text, want) != NULL, "no %s", want);
		ck_assert_msg(strstr(text, k->help) != NULL, "no help of %s",
		    k->key);
	}
	ck_assert_ptr_nonnull(strstr(text, "  [archive] level: integer 1..19, "
	    "default 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "  [agent] backup_dir: string, "
	    "default /backups, env BACKUP_DIR\n"));
	ck_assert_ptr_nonnull(strstr(text, "  [agent] log_level: "
	    "debug|info|warn|error, default info\n"));
	free(text);

	f = fopen(cpath, "w");
	ck_assert_ptr_nonnull(f);
	conf_print_keys(&ttable, f);
	ck_assert_int_eq(fclose(f), 0);
	text = slurp(cpath, NULL);
	for (size_t i = 0; i < ttable.count; i++) {
		char want[128];
		snprintf(want, sizeof want, "  [%s] %s: ", ttable.keys[i].section,
		    ttable.keys[i].key);
		ck_assert_msg(strstr(text, want) != NULL, "no %s", want);
	}
	ck_assert_ptr_nonnull(strstr(text, "  [extra] items: list, one item per "
	    "line, may repeat, default a b c, env TEST_ITEMS\n"));
	ck_assert_ptr_nonnull(strstr(text, "  [main] flag: boolean, default "
	    "false\n"));
	free(text);
}
END_TEST

/* ---- conf_free ------------------------------------------------------ */

/* [node.NAME] sections: any number, in file order, each with its defaults;
 * a key twice in one section is an error, in two sections it is not. */
START_TEST(test_node_sections)
{
	struct agent_conf c;
	struct err e;
	const char *p = write_conf("nodes.ini",
	    "[node.quorum]\n"
	    "gate_socket = /run/q.sock\n"
	    "rpc_url = http://127.0.0.1:8545\n"
	    "[node.tessera]\n"
	    "gate_socket = /run/t.sock\n"
	    "stop_timeout = 60\n"
	    "[node.quorum]\n"
	    "min_peers = 2\n");

	agent_init(&c);
	ck_assert_msg(conf_load_file(&agent_conf_table, &c, p, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(c.n_nodes, 2);
	ck_assert_str_eq(c.nodes[0]->name, "quorum");
	ck_assert_str_eq(c.nodes[0]->gate_socket, "/run/q.sock");
	ck_assert_str_eq(c.nodes[0]->rpc_url, "http://127.0.0.1:8545");
	ck_assert_ptr_null(c.nodes[0]->health_url);
	ck_assert_int_eq(c.nodes[0]->min_peers, 2);
	ck_assert_int_eq(c.nodes[0]->stop_timeout, 300);
	ck_assert_str_eq(c.nodes[1]->name, "tessera");
	ck_assert_int_eq(c.nodes[1]->stop_timeout, 60);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "node.tessera.health_url",
	    "http://127.0.0.1:9000/upcheck", "--set", &e), 0);
	ck_assert_str_eq(c.nodes[1]->health_url, "http://127.0.0.1:9000/upcheck");
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "node.extra.gate_socket",
	    "/run/x.sock", "--set", &e), 0);
	ck_assert_uint_eq(c.n_nodes, 3);
	conf_free(&agent_conf_table, &c);
	ck_assert_uint_eq(c.n_nodes, 0);

	p = write_conf("nodes-twice.ini", "[node.quorum]\ngate_socket = a\n"
	    "[node.tessera]\ngate_socket = b\n[node.quorum]\ngate_socket = c\n");
	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":6: gate_socket: set twice (first at "
	    "line 2)"));
	conf_free(&agent_conf_table, &c);

	p = write_conf("nodes-bad.ini", "[node.Bad Name]\ngate_socket = a\n");
	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":2: gate_socket: unknown section "
	    "[node.Bad Name]"));
	conf_free(&agent_conf_table, &c);

	p = write_conf("nodes-range.ini", "[node.q]\nstop_timeout = 0\n");
	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":2: stop_timeout: 0 is out of range"));
	conf_free(&agent_conf_table, &c);
}
END_TEST

START_TEST(test_conf_free)
{
	struct agent_conf c;
	struct tconf t;
	struct err e;
	const char *p = write_conf("agent.ini",
	    "[agent]\ndata_dir = /a\nnode_key = k\n[archive]\nexclude = x\n"
	    "exclude = y\nlock_files =\n");

	agent_init(&c);
	ck_assert_int_eq(conf_load_file(&agent_conf_table, &c, p, &e), 0);
	ck_assert_int_eq(conf_set(&agent_conf_table, &c, "agent.data_dir", "/b",
	    "--data-dir", &e), 0);
	setenv("BACKUP_DIR", "/env", 1);
	ck_assert_int_eq(conf_apply_env(&agent_conf_table, &c, &e), 0);
	conf_free(&agent_conf_table, &c);
	ck_assert_ptr_null(c.data_dir);
	ck_assert_ptr_null(c.backup_dir);
	ck_assert_ptr_null(c.node_key);
	ck_assert_ptr_null(c.log_level);
	ck_assert_ptr_null(c.exclude.v);
	ck_assert_uint_eq(c.exclude.n, 0);
	ck_assert_ptr_null(c.lock_files.v);
	ck_assert_uint_eq(c.lock_files.n, 0);
	conf_free(&agent_conf_table, &c);   /* twice: harmless */

	/* After a failed load too. */
	p = write_conf("t.ini", "[main]\nname = n\nmode = slow\n[extra]\n"
	    "items = q\nport = 0\n");
	t_init(&t);
	ck_assert_int_eq(conf_load_file(&ttable, &t, p, &e), -1);
	conf_free(&ttable, &t);
	ck_assert_ptr_null(t.name);
	ck_assert_ptr_null(t.mode);
	ck_assert_ptr_null(t.items.v);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, test_agent_defaults);
	tcase_add_test(tc, test_own_defaults);
	tcase_add_test(tc, test_conf_init_bad_default);
	tcase_add_test(tc, test_conf_find);
	tcase_add_test(tc, test_own_every_type);
	tcase_add_test(tc, test_own_bools);
	tcase_add_test(tc, test_agent_full_file);
	tcase_add_test(tc, test_empty_file_keeps_defaults);
	tcase_add_test(tc, test_list_repeat);
	tcase_add_test(tc, test_list_empty_later_clears);
	tcase_add_test(tc, test_set_twice);
	tcase_add_test(tc, test_unknown_key_section);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_indented_and_comments);
	tcase_add_test(tc, test_line_numbers);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("env_flags");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_conf_set);
	tcase_add_test(tc, test_conf_set_list);
	tcase_add_test(tc, test_conf_set_list_interleaved);
	tcase_add_test(tc, test_conf_set_list_fresh_config);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_precedence_lists);
	tcase_add_test(tc, test_conf_reinit_after_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, test_sample_agent);
	tcase_add_test(tc, test_sample_own);
	tcase_add_test(tc, test_print_keys);
	tcase_add_test(tc, test_conf_free);
	tcase_add_test(tc, test_node_sections);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(conf_suite(), "conf");
}
