/* ctl_conf: the controller's configuration keys (one table drives parsing,
 * checks, --help and conf/quorum-backup.ini) and the member list they
 * describe. */
#ifndef QB_CTL_CONF_H
#define QB_CTL_CONF_H

#include "conf.h"

/* One [member.N] section. */
struct member_conf {
	char *name;        /* the section's NAME, a member number */
	char *url;         /* the agent's base URL; "" = from url_template */
	int validator;     /* used only when no node offers its validator set */
};

struct ctl_conf {
	/* [controller] */
	char *token_file;
	char *members;         /* "1-4", "1,3,5-7": the members of the network */
	char *url_template;    /* with {n} and {namespace} */
	char *namespace;
	char *holder;          /* lease holder name; "" = quorum-backup@HOST:PID */
	long long ready_timeout;
	long long job_timeout;
	long long request_timeout;
	long long lease_ttl;
	long long hold;
	long long progress_interval;
	long long max_lag;
	char *log_level;
	/* [member.N] sections, in file order */
	struct member_conf **sections;
	size_t n_sections;
};

extern const struct conf_table ctl_conf_table;

/* A member of the network as the controller uses it. */
struct member {
	int n;
	char url[512];     /* base URL, no trailing slash */
	int validator;     /* the config's flag */
};

/* Expand the configuration into the member list, sorted by number: the
 * numbers of `members` and of the [member.N] sections together; each URL
 * from its section or from url_template. *out is malloc'ed. */
int ctl_members(const struct ctl_conf *cf, struct member **out, size_t *n,
    struct err *e);

/* Parse a member list ("1-4", "1,3", "2 5-6") into sorted unique numbers
 * (1..9999). *out is malloc'ed; an empty spec gives none. */
int ctl_parse_numbers(const char *spec, int **out, size_t *n, struct err *e);

#endif
