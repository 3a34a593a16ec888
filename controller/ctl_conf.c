#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_conf.h"

#define OFF(f) offsetof(struct ctl_conf, f)
#define MOFF(f) offsetof(struct member_conf, f)

#define MEMBER_MAX 9999

static const struct conf_key keys[] = {
	{ "controller", "members", CONF_STR, 0, 0, "", NULL, NULL,
	  "The members of the network, e.g. 1-4 or 1,2,5-7. Members that have "
	  "a [member.N] section are members too. The safety check looks at "
	  "all of them; --all means all of them.", OFF(members) },
	{ "controller", "url_template", CONF_STR, 1, 0,
	  "http://quorum-backup-member-{n}.{namespace}.svc:8181", NULL, NULL,
	  "Agent URL of member N when its section gives no url: {n} is the "
	  "member number, {namespace} the namespace.", OFF(url_template) },
	{ "controller", "namespace", CONF_STR, 1, 0, "quorum", NULL, "NAMESPACE",
	  "Kubernetes namespace of the members, for {namespace}.",
	  OFF(namespace) },
	{ "controller", "token_file", CONF_STR, 0, 0, "", NULL,
	  "QUORUM_BACKUP_TOKEN_FILE",
	  "File holding the agents' bearer token. Empty: no Authorization "
	  "header (agents with auth = none).", OFF(token_file) },
	{ "controller", "holder", CONF_STR, 0, 0, "", NULL, NULL,
	  "Name of this controller in the agents' leases. Empty: "
	  "quorum-backup@HOST:PID.", OFF(holder) },
	{ "controller", "ready_timeout", CONF_INT, 1, 86400, "300", NULL, NULL,
	  "Seconds to wait for a member to be ready again (and its chain head "
	  "to advance) after its backup or restore.", OFF(ready_timeout) },
	{ "controller", "job_timeout", CONF_INT, 1, 604800, "7200", NULL, NULL,
	  "Seconds one agent job (archive, unpack, verify) may take before the "
	  "controller reports it failed.", OFF(job_timeout) },
	{ "controller", "request_timeout", CONF_INT, 1, 3600, "30", NULL, NULL,
	  "Seconds one HTTP request to an agent may take.",
	  OFF(request_timeout) },
	{ "controller", "lease_ttl", CONF_INT, 10, 86400, "120", NULL, NULL,
	  "Seconds a lease lasts unless renewed; the controller renews it "
	  "while it works, so a controller that dies frees the members soon.",
	  OFF(lease_ttl) },
	{ "controller", "hold", CONF_INT, 10, 604800, "7200", NULL, NULL,
	  "Seconds a restore holds the nodes stopped at most: if the "
	  "controller dies, each agent resumes its node when the hold "
	  "expires.", OFF(hold) },
	{ "controller", "progress_interval", CONF_INT, 1, 3600, "5", NULL, NULL,
	  "Seconds between progress lines when the output is not a terminal.",
	  OFF(progress_interval) },
	{ "controller", "max_lag", CONF_INT, 0, 1000000000, "2", NULL, NULL,
	  "The safety check wants every other member's head within this many "
	  "blocks of the highest.", OFF(max_lag) },
	{ "controller", "log_level", CONF_ENUM, 0, 0, "warn",
	  "debug|info|warn|error", NULL,
	  "Least severe log level written to stderr (key=value lines, beside "
	  "the human output).", OFF(log_level) },

	/* [member.N]: one section per member; offsets into struct
	 * member_conf. */
	{ "member.*", "url", CONF_STR, 0, 0, "", NULL, NULL,
	  "The member's agent, e.g. http://10.0.0.5:8181. Empty: from "
	  "url_template.", MOFF(url) },
	{ "member.*", "validator", CONF_BOOL, 0, 0, "true", NULL, NULL,
	  "Whether the member's node is a validator. Used only when no node "
	  "answers istanbul_getValidators or qbft_getValidatorsByBlockNumber "
	  "(the controller then says so).", MOFF(validator) },
};

static void *
member_instance(void *cfg, const char *prefix, const char *name)
{
	struct ctl_conf *c = cfg;
	struct member_conf *m, **mv;
	struct err e;

	(void)prefix;
	for (size_t i = 0; i < c->n_sections; i++)
		if (strcmp(c->sections[i]->name, name) == 0)
			return c->sections[i];
	if (!(m = calloc(1, sizeof *m)) || !(m->name = strdup(name))) {
		free(m);
		return NULL;
	}
	if (!(mv = realloc(c->sections, (c->n_sections + 1) * sizeof *mv))) {
		free(m->name);
		free(m);
		return NULL;
	}
	c->sections = mv;
	c->sections[c->n_sections++] = m;
	conf_init_instance(&ctl_conf_table, "member", m, &e);
	return m;
}

static void
free_members(void *cfg)
{
	struct ctl_conf *c = cfg;

	for (size_t i = 0; i < c->n_sections; i++) {
		free(c->sections[i]->name);
		free(c->sections[i]->url);
		free(c->sections[i]);
	}
	free(c->sections);
	c->sections = NULL;
	c->n_sections = 0;
}

const struct conf_table ctl_conf_table = {
	"quorum-backup", keys, sizeof keys / sizeof keys[0],
	member_instance, free_members
};

static int
parse_number(const char *s, size_t len, int *out)
{
	long v = 0;

	if (len == 0 || len > 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > MEMBER_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int
ctl_parse_numbers(const char *spec, int **out, size_t *n, struct err *e)
{
	unsigned char *seen = calloc(MEMBER_MAX + 1, 1);
	const char *p = spec ? spec : "";
	size_t count = 0;
	int *v = NULL;

	*out = NULL;
	*n = 0;
	if (!seen)
		return err_set(e, ERR_FAILED, "out of memory");
	while (*p) {
		size_t len;
		const char *dash;
		int lo, hi;

		if (*p == ',' || *p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		len = strcspn(p, ", \t");
		dash = memchr(p, '-', len);
		if (dash) {
			if (parse_number(p, (size_t)(dash - p), &lo) < 0 ||
			    parse_number(dash + 1, len - (size_t)(dash - p) - 1,
			    &hi) < 0 || hi < lo)
				goto bad;
		} else {
			if (parse_number(p, len, &lo) < 0)
				goto bad;
			hi = lo;
		}
		for (int i = lo; i <= hi; i++)
			seen[i] = 1;
		p += len;
	}
	for (int i = 1; i <= MEMBER_MAX; i++)
		count += seen[i];
	if (count && !(v = malloc(count * sizeof *v))) {
		free(seen);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	count = 0;
	for (int i = 1; i <= MEMBER_MAX; i++)
		if (seen[i])
			v[count++] = i;
	free(seen);
	*out = count ? v : NULL;
	*n = count;
	return 0;
bad:
	free(seen);
	return err_set(e, ERR_CONFIG, "'%s' is not a member list: numbers 1 to "
	    "%d and ranges such as 1-4, separated by commas or blanks", spec,
	    MEMBER_MAX);
}

/* Replace {n} and {namespace} in the template; any other {…} is an
 * error, so that a typo does not become a host name. */
static int
expand_url(const char *tpl, int n, const char *ns, char *out, size_t size,
    struct err *e)
{
	size_t o = 0;
	char num[16];

	snprintf(num, sizeof num, "%d", n);
	for (const char *p = tpl; *p; ) {
		const char *add;
		size_t len;

		if (strncmp(p, "{n}", 3) == 0) {
			add = num;
			len = strlen(num);
			p += 3;
		} else if (strncmp(p, "{namespace}", 11) == 0) {
			add = ns;
			len = strlen(ns);
			p += 11;
		} else if (*p == '{' || *p == '}') {
			return err_set(e, ERR_CONFIG, "url_template: '%s': only {n} "
			    "and {namespace} may appear in braces", tpl);
		} else {
			add = p;
			len = 1;
			p++;
		}
		if (o + len >= size)
			return err_set(e, ERR_CONFIG, "url_template: the URL of "
			    "member %d is too long", n);
		memcpy(out + o, add, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

/* http:// or https://, then a host: something before any '/'. */
static int
url_ok(const char *url)
{
	const char *host = strncmp(url, "http://", 7) == 0 ? url + 7 :
	    strncmp(url, "https://", 8) == 0 ? url + 8 : NULL;

	return host && host[0] && host[0] != '/';
}

int
ctl_members(const struct ctl_conf *cf, struct member **out, size_t *n,
    struct err *e)
{
	int *nums = NULL, *all = NULL;
	size_t nn = 0, na = 0;
	struct member *m = NULL;

	*out = NULL;
	*n = 0;
	if (ctl_parse_numbers(cf->members, &nums, &nn, e) < 0) {
		err_prefix(e, "[controller] members");
		return -1;
	}
	if (!(all = malloc((nn + cf->n_sections + 1) * sizeof *all)))
		goto oom;
	for (size_t i = 0; i < nn; i++)
		all[na++] = nums[i];
	for (size_t i = 0; i < cf->n_sections; i++) {
		int v;
		if (parse_number(cf->sections[i]->name,
		    strlen(cf->sections[i]->name), &v) < 0) {
			err_set(e, ERR_CONFIG, "[member.%s]: the section name must "
			    "be a member number (1 to %d)", cf->sections[i]->name,
			    MEMBER_MAX);
			goto fail;
		}
		all[na++] = v;
	}
	qsort(all, na, sizeof *all, cmp_int);
	if (!(m = calloc(na ? na : 1, sizeof *m)))
		goto oom;
	for (size_t i = 0; i < na; i++) {
		struct member *x;
		const struct member_conf *sec = NULL;

		if (*n > 0 && m[*n - 1].n == all[i])
			continue;
		x = &m[(*n)++];
		x->n = all[i];
		x->validator = 1;
		for (size_t k = 0; k < cf->n_sections; k++) {
			int v;
			if (parse_number(cf->sections[k]->name,
			    strlen(cf->sections[k]->name), &v) == 0 && v == x->n)
				sec = cf->sections[k];
		}
		if (sec)
			x->validator = sec->validator;
		if (sec && sec->url && sec->url[0]) {
			if (strlen(sec->url) >= sizeof x->url) {
				err_set(e, ERR_CONFIG, "[member.%d] url: too long", x->n);
				goto fail;
			}
			snprintf(x->url, sizeof x->url, "%s", sec->url);
		} else if (expand_url(cf->url_template, x->n, cf->namespace,
		    x->url, sizeof x->url, e) < 0) {
			goto fail;
		}
		if (!url_ok(x->url)) {
			err_set(e, ERR_CONFIG, "member %d: '%s' is not an http:// or "
			    "https:// URL with a host", x->n, x->url);
			goto fail;
		}
		/* Paths are appended: no trailing slash. */
		for (size_t l = strlen(x->url); l > 0 && x->url[l - 1] == '/'; l--)
			x->url[l - 1] = '\0';
	}
	free(nums);
	free(all);
	*out = m;
	return 0;
oom:
	err_set(e, ERR_FAILED, "out of memory");
fail:
	free(nums);
	free(all);
	free(m);
	*n = 0;
	return -1;
}
