/* conf_fixture: what the conf suites (test_conf_file, test_conf_env_flags,
 * test_conf_output) share: each test's directory, with the variables of
 * the environment the tables read unset around it; configuration files
 * written there; the agent's table and a table of our own. */
#ifndef QB_CONF_FIXTURE_H
#define QB_CONF_FIXTURE_H

#include <limits.h>
#include <stddef.h>

#include "agent_conf.h"
#include "conf.h"

/* ---- fixtures ------------------------------------------------------- */

void setup_tmp(void);
void teardown_tmp(void);
extern char cpath[PATH_MAX];

/* Write text to tmp/name; returns the path (static buffer). */
const char *write_conf(const char *name, const char *text);

void check_list(const struct conf_list *l, const char *const *want, size_t n);

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

extern const struct conf_table ttable;
extern const char *const agent_locks_def[];
void agent_init(struct agent_conf *c);
void t_init(struct tconf *c);
void check_agent_defaults(const struct agent_conf *c);

#endif
