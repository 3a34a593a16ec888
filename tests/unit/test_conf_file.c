/* Unit tests of common/conf with the agent's table and a table of our own
 * (conf_fixture.h): defaults, configuration files, their values, syntax
 * and errors with file:line.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "conf_fixture.h"
#include "agent_conf.h"
#include "conf.h"
#include "err.h"

/* ---- fixtures ------------------------------------------------------- */

/* "path:" followed by rest, in buf. */
static const char *
at(char *buf, size_t size, const char *path, const char *rest)
{
	snprintf(buf, size, "%s:%s", path, rest);
	return buf;
}

/* ---- a table of our own --------------------------------------------- */

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
conf_file_suite(void)
{
	Suite *s = suite_create("conf_file");
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
	return s;
}

int
main(void)
{
	return run_suite(conf_file_suite(), "conf_file");
}
