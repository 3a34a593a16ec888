/* fuzz_config: the table-driven configuration parser (common/conf.c) with
 * the agent's table (agent/agent_conf.c) and the controller's
 * (controller/ctl_conf.c), as both programs use it: conf_init, then
 * conf_load_file on the input, then conf_apply_env and conf_set (flags),
 * then each program's own checks (node_def_validate; ctl_members), then
 * conf_free. The input goes through a memfd, opened by path
 * (/proc/self/fd/N) like any configuration file, so nothing touches the
 * disk.
 *
 * Comment lines of the input that read "#set SECTION.KEY=VALUE" are also
 * given to conf_set after the file, like --set flags, and "#env VAR=VALUE"
 * lines set an environment variable for conf_apply_env (VAR among the
 * tables' variables; removed again after the input).
 *
 * Checked, beyond the sanitizers (memory errors, leaks, undefined
 * behaviour): whenever loading succeeded, every value is one its key
 * allows (integers within their bounds, enums among their choices,
 * required strings not empty, booleans 0 or 1), every [node.NAME] /
 * [member.NAME] section has a valid name, and the controller's member list
 * is sorted, unique, within 1..9999, with http(s) URLs without a trailing
 * slash. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent_conf.h"
#include "conf.h"
#include "ctl_conf.h"
#include "log.h"
#include "nodes.h"

#define CHECK(cond, ...) do {                                          \
	if (!(cond)) {                                                     \
		fprintf(stderr, "fuzz_config: check failed: %s: ", #cond);     \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		abort();                                                       \
	}                                                                  \
} while (0)

#define FIELD(base, k, type) ((type *)((char *)(base) + (k)->offset))

static int memfd = -1;
static char path[64];

static const struct conf_table *const tables[] = {
	&agent_conf_table, &ctl_conf_table,
};

static int
templated(const struct conf_key *k)
{
	size_t n = strlen(k->section);
	return n > 2 && strcmp(k->section + n - 2, ".*") == 0;
}

/* Every key of the table that applies to base (templated: the instance
 * keys; else the plain ones) holds a value its key allows. */
static void
check_values(const struct conf_table *t, const void *base, int instance)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		if (templated(k) != instance)
			continue;
		switch (k->type) {
		case CONF_STR: {
			const char *v = *FIELD(base, k, char *);
			/* A required key may keep an empty default ("must be
			 * configured"): the program says so, not the parser. */
			if (v && k->min > 0 && !(k->def && k->def[0] == '\0'))
				CHECK(v[0] != '\0', "%s.%s is empty", k->section, k->key);
			break;
		}
		case CONF_INT: {
			long long v = *FIELD(base, k, long long);
			CHECK(v >= k->min && v <= k->max, "%s.%s = %lld, not in "
			    "%lld..%lld", k->section, k->key, v, k->min, k->max);
			break;
		}
		case CONF_BOOL: {
			int v = *FIELD(base, k, int);
			CHECK(v == 0 || v == 1, "%s.%s = %d", k->section, k->key, v);
			break;
		}
		case CONF_ENUM: {
			const char *v = *FIELD(base, k, char *);
			const char *c = k->choices;
			int ok = 0;
			if (!v)
				break;
			while (*c) {
				size_t cl = strcspn(c, "|");
				if (cl == strlen(v) && strncmp(c, v, cl) == 0)
					ok = 1;
				c += cl + (c[cl] == '|');
			}
			CHECK(ok, "%s.%s = '%s', not one of %s", k->section, k->key,
			    v, k->choices);
			break;
		}
		case CONF_LIST: {
			const struct conf_list *l = FIELD(base, k, struct conf_list);
			CHECK(l->n == 0 || l->v, "%s.%s: %zu items, no array",
			    k->section, k->key, l->n);
			for (size_t j = 0; j < l->n; j++)
				CHECK(l->v[j] && l->v[j][0], "%s.%s: item %zu is empty",
				    k->section, k->key, j);
			break;
		}
		}
	}
}

static void
check_instance_name(const char *name)
{
	size_t n = strlen(name);

	CHECK(n >= 1 && n <= 32 && strspn(name,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == n,
	    "section name '%s'", name);
}

/* Apply the input's "#set" and "#env" lines; set tells which. */
static int
apply_lines(const struct conf_table *t, void *cfg, const char *text,
    int env, struct err *e)
{
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *tag = env ? "#env " : "#set ";
		if (len > 5 && strncmp(p, tag, 5) == 0) {
			char line[512], *eq;
			snprintf(line, sizeof line, "%.*s", (int)(len - 5), p + 5);
			if ((eq = strchr(line, '='))) {
				*eq = '\0';
				if (env) {
					/* Only the tables' own variables. */
					int known = 0;
					for (size_t i = 0; i < t->count; i++)
						if (t->keys[i].env &&
						    strcmp(t->keys[i].env, line) == 0)
							known = 1;
					if (known)
						setenv(line, eq + 1, 1);
				} else if (conf_set(t, cfg, line, eq + 1, "--set",
				    e) < 0) {
					return -1;
				}
			}
		}
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

static void
clear_env(void)
{
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		for (size_t k = 0; k < tables[i]->count; k++)
			if (tables[i]->keys[k].env)
				unsetenv(tables[i]->keys[k].env);
}

static void
run_agent(const char *text)
{
	struct agent_conf cf;
	struct err e;
	int ok;

	memset(&cf, 0, sizeof cf);
	CHECK(conf_init(&agent_conf_table, &cf, &e) == 0, "defaults: %s",
	    e.msg);
	ok = conf_load_file(&agent_conf_table, &cf, path, &e) == 0 &&
	    apply_lines(&agent_conf_table, &cf, text, 1, &e) == 0 &&
	    conf_apply_env(&agent_conf_table, &cf, &e) == 0 &&
	    apply_lines(&agent_conf_table, &cf, text, 0, &e) == 0;
	if (ok) {
		check_values(&agent_conf_table, &cf, 0);
		CHECK(log_level_parse(cf.log_level) >= 0, "log_level '%s'",
		    cf.log_level);
		for (size_t i = 0; i < cf.n_nodes; i++) {
			struct err ne;
			check_instance_name(cf.nodes[i]->name);
			check_values(&agent_conf_table, cf.nodes[i], 1);
			for (size_t j = 0; j < i; j++)
				CHECK(strcmp(cf.nodes[i]->name, cf.nodes[j]->name) != 0,
				    "node.%s twice", cf.nodes[i]->name);
			node_def_validate(cf.nodes[i], &ne);
		}
	} else {
		CHECK(e.msg[0] != '\0', "the agent's parse failed without a "
		    "message");
	}
	conf_free(&agent_conf_table, &cf);
	CHECK(cf.nodes == NULL && cf.n_nodes == 0 && cf.data_dir == NULL &&
	    cf.exclude.v == NULL, "conf_free left something");
	clear_env();
}

static void
run_controller(const char *text)
{
	struct ctl_conf cf;
	struct member *m = NULL;
	size_t n = 0;
	struct err e;
	int ok;

	memset(&cf, 0, sizeof cf);
	CHECK(conf_init(&ctl_conf_table, &cf, &e) == 0, "defaults: %s", e.msg);
	ok = conf_load_file(&ctl_conf_table, &cf, path, &e) == 0 &&
	    apply_lines(&ctl_conf_table, &cf, text, 1, &e) == 0 &&
	    conf_apply_env(&ctl_conf_table, &cf, &e) == 0 &&
	    apply_lines(&ctl_conf_table, &cf, text, 0, &e) == 0;
	if (ok) {
		check_values(&ctl_conf_table, &cf, 0);
		for (size_t i = 0; i < cf.n_sections; i++) {
			check_instance_name(cf.sections[i]->name);
			check_values(&ctl_conf_table, cf.sections[i], 1);
		}
		if (ctl_members(&cf, &m, &n, &e) == 0) {
			for (size_t i = 0; i < n; i++) {
				size_t l = strlen(m[i].url);
				CHECK(m[i].n >= 1 && m[i].n <= 9999, "member %d", m[i].n);
				CHECK(i == 0 || m[i].n > m[i - 1].n, "members not "
				    "sorted or not unique: %d after %d", m[i].n,
				    m[i - 1].n);
				/* A scheme, then a host. */
				CHECK((strncmp(m[i].url, "http://", 7) == 0 &&
				    m[i].url[7] && m[i].url[7] != '/') ||
				    (strncmp(m[i].url, "https://", 8) == 0 &&
				    m[i].url[8] && m[i].url[8] != '/'),
				    "member %d: url '%s'", m[i].n, m[i].url);
				CHECK(l > 0 && m[i].url[l - 1] != '/', "member %d: url "
				    "'%s' ends with a slash", m[i].n, m[i].url);
				CHECK(m[i].validator == 0 || m[i].validator == 1,
				    "member %d: validator %d", m[i].n, m[i].validator);
			}
			free(m);
		} else {
			CHECK(m == NULL && n == 0, "ctl_members failed but returned "
			    "%zu members", n);
		}
	}
	conf_free(&ctl_conf_table, &cf);
	CHECK(cf.sections == NULL && cf.n_sections == 0 &&
	    cf.url_template == NULL, "conf_free left something");
	clear_env();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level((enum log_level)(LOG_ERROR + 1));
	memfd = memfd_create("fuzz.ini", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	clear_env();   /* the caller's BACKUP_DIR, NAMESPACE... */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (ftruncate(memfd, 0) < 0 ||
	    (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_config: memfd");
		abort();
	}
	/* The "#set" and "#env" lines, read as text up to a NUL byte. */
	if (!(text = malloc(size + 1)))
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	run_agent(text);
	run_controller(text);
	free(text);
	return 0;
}
