/* Unit tests of common/conf with the agent's table and a table of our own
 * (conf_fixture.h): the sample files and --help, [node.NAME] sections,
 * conf_free.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "conf_fixture.h"
#include "agent_conf.h"
#include "conf.h"
#include "err.h"

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
conf_output_suite(void)
{
	Suite *s = suite_create("conf_output");
	TCase *tc;

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
	return run_suite(conf_output_suite(), "conf_output");
}
