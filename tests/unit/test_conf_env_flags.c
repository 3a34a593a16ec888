/* Unit tests of common/conf with the agent's table and a table of our own
 * (conf_fixture.h): the environment, flags (conf_set) and their
 * precedence over the file.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "testutil.h"
#include "conf_fixture.h"
#include "agent_conf.h"
#include "conf.h"
#include "err.h"

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
conf_env_flags_suite(void)
{
	Suite *s = suite_create("conf_env_flags");
	TCase *tc;

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
	return s;
}

int
main(void)
{
	return run_suite(conf_env_flags_suite(), "conf_env_flags");
}
