#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

#define FIELD(cfg, k, type) ((type *)((char *)(cfg) + (k)->offset))

/* "node.*" */
static int
templated(const struct conf_key *k)
{
	size_t n = strlen(k->section);
	return n > 2 && strcmp(k->section + n - 2, ".*") == 0;
}

/* Whether section is "PREFIX.NAME" for the templated key k; *name gets
 * NAME. */
static int
instance_of(const struct conf_key *k, const char *section, const char **name)
{
	size_t plen = strlen(k->section) - 2;
	const char *n = section + plen + 1;
	size_t nlen;

	if (!templated(k) || strncmp(section, k->section, plen) != 0 ||
	    section[plen] != '.')
		return 0;
	nlen = strlen(n);
	if (nlen == 0 || nlen > 32 ||
	    strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_-") != nlen)
		return 0;
	*name = n;
	return 1;
}

/* The key and the struct its offset applies to, for section.key. */
static const struct conf_key *
resolve(const struct conf_table *t, void *cfg, const char *section,
    const char *key, void **base, int *oom)
{
	*oom = 0;
	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		const char *name;
		if (strcmp(k->key, key) != 0)
			continue;
		/* A "PREFIX.*" key is reached only through an instance: a
		 * literal "[node.*]" section matched it here before, and its
		 * offset (into the instance's struct) was applied to cfg, which
		 * corrupted the program's struct. */
		if (!templated(k) && strcmp(k->section, section) == 0) {
			*base = cfg;
			return k;
		}
		if (t->instance && instance_of(k, section, &name)) {
			char prefix[64];
			snprintf(prefix, sizeof prefix, "%.*s",
			    (int)(strlen(k->section) - 2), k->section);
			if (!(*base = t->instance(cfg, prefix, name))) {
				*oom = 1;
				return NULL;
			}
			return k;
		}
	}
	return NULL;
}

static int
section_known(const struct conf_table *t, const char *section)
{
	for (size_t i = 0; i < t->count; i++) {
		const char *name;
		if ((!templated(&t->keys[i]) &&
		    strcmp(t->keys[i].section, section) == 0) ||
		    (t->instance && instance_of(&t->keys[i], section, &name)))
			return 1;
	}
	return 0;
}

const struct conf_key *
conf_find(const struct conf_table *t, const char *section, const char *key)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->keys[i].section, section) == 0 &&
		    strcmp(t->keys[i].key, key) == 0)
			return &t->keys[i];
	return NULL;
}

static void
list_clear(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
list_add(struct conf_list *l, const char *item)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	l->v = nv;
	if (!(l->v[l->n] = strdup(item)))
		return -1;
	l->n++;
	return 0;
}

enum { SRC_DEFAULT = 0, SRC_FILE, SRC_ENV, SRC_FLAG };

/* Parse value into k's field; source is one of SRC_*. reason gets why it
 * is refused. */
static int
set_value(const struct conf_key *k, void *cfg, const char *value, int source,
    char *reason, size_t rsize)
{
	switch (k->type) {
	case CONF_STR:
	case CONF_ENUM: {
		char **slot = FIELD(cfg, k, char *);
		char *copy;
		if (k->type == CONF_STR && k->min > 0 && value[0] == '\0') {
			snprintf(reason, rsize, "must not be empty");
			return -1;
		}
		if (k->type == CONF_ENUM) {
			size_t vl = strlen(value);
			const char *c = k->choices;
			int ok = 0;
			while (*c) {
				size_t cl = strcspn(c, "|");
				if (cl == vl && strncmp(c, value, vl) == 0)
					ok = 1;
				c += cl;
				if (*c == '|')
					c++;
			}
			if (!ok) {
				snprintf(reason, rsize, "'%s' is not one of %s",
				    value, k->choices);
				return -1;
			}
		}
		if (!(copy = strdup(value))) {
			snprintf(reason, rsize, "out of memory");
			return -1;
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	case CONF_INT: {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(value, &end, 10);
		if (value[0] == '\0' || *end != '\0' || errno == ERANGE) {
			snprintf(reason, rsize, "'%s' is not an integer", value);
			return -1;
		}
		if (v < k->min || v > k->max) {
			snprintf(reason, rsize, "%lld is out of range %lld..%lld",
			    v, k->min, k->max);
			return -1;
		}
		*FIELD(cfg, k, long long) = v;
		return 0;
	}
	case CONF_BOOL: {
		static const char *const yes[] = { "true", "yes", "on", "1" };
		static const char *const no[] = { "false", "no", "off", "0" };
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(value, yes[i]) == 0) {
				*FIELD(cfg, k, int) = 1;
				return 0;
			}
			if (strcasecmp(value, no[i]) == 0) {
				*FIELD(cfg, k, int) = 0;
				return 0;
			}
		}
		snprintf(reason, rsize, "'%s' is not a boolean (true or false)",
		    value);
		return -1;
	}
	case CONF_LIST: {
		struct conf_list *l = FIELD(cfg, k, struct conf_list);
		if (l->source < source || value[0] == '\0')
			list_clear(l);
		l->source = source;
		if (value[0] == '\0')
			return 0;
		if (list_add(l, value) < 0) {
			snprintf(reason, rsize, "out of memory");
			return -1;
		}
		return 0;
	}
	}
	snprintf(reason, rsize, "unknown type");
	return -1;
}

int
conf_init(const struct conf_table *t, void *cfg, struct err *e)
{
	char reason[256];

	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		if (templated(k))
			continue;   /* conf_init_instance, per instance */
		if (k->type == CONF_LIST) {
			const char *p = k->def ? k->def : "";
			while (*p) {
				char item[512];
				size_t n = strcspn(p, " ");
				if (n > 0 && n < sizeof item) {
					memcpy(item, p, n);
					item[n] = '\0';
					if (list_add(FIELD(cfg, k, struct conf_list),
					    item) < 0)
						return err_set(e, ERR_FAILED,
						    "out of memory");
				}
				p += n;
				while (*p == ' ')
					p++;
			}
			continue;
		}
		if (!k->def)
			continue;
		/* The default must pass the key's own checks, except a required
		 * string whose empty default means "must be configured". */
		if (k->type == CONF_STR && k->def[0] == '\0')
			continue;
		if (set_value(k, cfg, k->def, SRC_DEFAULT, reason, sizeof reason) < 0)
			return err_set(e, ERR_CONFIG, "default of %s.%s: %s",
			    k->section, k->key, reason);
	}
	return 0;
}

int
conf_init_instance(const struct conf_table *t, const char *prefix,
    void *base, struct err *e)
{
	char reason[256];
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		if (!templated(k) || strncmp(k->section, prefix, plen) != 0 ||
		    strcmp(k->section + plen, ".*") != 0 || !k->def ||
		    (k->type == CONF_STR && k->def[0] == '\0') ||
		    k->type == CONF_LIST)
			continue;
		if (set_value(k, base, k->def, SRC_DEFAULT, reason,
		    sizeof reason) < 0)
			return err_set(e, ERR_CONFIG, "default of %s.%s: %s",
			    k->section, k->key, reason);
	}
	return 0;
}

void
conf_free(const struct conf_table *t, void *cfg)
{
	if (t->free_instances)
		t->free_instances(cfg);
	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		if (templated(k))
			continue;
		if (k->type == CONF_STR || k->type == CONF_ENUM) {
			free(*FIELD(cfg, k, char *));
			*FIELD(cfg, k, char *) = NULL;
		} else if (k->type == CONF_LIST) {
			list_clear(FIELD(cfg, k, struct conf_list));
			FIELD(cfg, k, struct conf_list)->source = 0;
		}
	}
}

/* State shared by the line reader and the inih handler. */
struct parse_ctx {
	const struct conf_table *t;
	void *cfg;
	const char *path;
	FILE *f;
	unsigned line;
	struct seen {
		char section[80];
		size_t key;
		unsigned line;
	} *seen;                /* keys the file set, and where first */
	size_t nseen;
	int failed;
	unsigned failed_line;   /* where our reader or handler failed */
	struct err *e;
	char *buf;
	size_t bufsize;
};

/* Record the first error of a parse: "path:line: message". */
static void ctx_fail(struct parse_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
ctx_fail(struct parse_ctx *c, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(c->e, ERR_CONFIG, "%s:%u: %s", c->path, c->line, msg);
	c->failed = 1;
	c->failed_line = c->line;
}

static char *
reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	ssize_t n;
	char *p;

	if (c->failed)
		return NULL;
	n = getline(&c->buf, &c->bufsize, c->f);
	if (n < 0) {
		if (ferror(c->f)) {
			c->line++;
			ctx_fail(c, "read error: %s", strerror(errno));
		}
		return NULL;
	}
	c->line++;
	if ((size_t)n != strlen(c->buf)) {
		ctx_fail(c, "line holds a NUL byte");
		return NULL;
	}
	p = c->buf;
	while (*p == ' ' || *p == '\t')
		p++;
	/* inih keeps num - 1 bytes, newline included. */
	if (strlen(p) + 1 > (size_t)num) {
		ctx_fail(c, "line is longer than %d bytes", num - 2);
		return NULL;
	}
	memcpy(str, p, strlen(p) + 1);
	return str;
}

static struct seen *
seen_find(struct parse_ctx *c, const char *section, size_t key)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].key == key && strcmp(c->seen[i].section, section) == 0)
			return &c->seen[i];
	return NULL;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	const struct conf_key *k;
	char reason[256];
	struct seen *sn;
	void *base;
	size_t idx;
	int oom;

	if (c->failed)
		return 0;
	if (!section_known(c->t, section)) {
		ctx_fail(c, "%s: unknown section [%s]", name, section);
		return 0;
	}
	k = resolve(c->t, c->cfg, section, name, &base, &oom);
	if (!k) {
		if (oom)
			ctx_fail(c, "%s: out of memory", name);
		else
			ctx_fail(c, "%s: unknown key in [%s]", name, section);
		return 0;
	}
	idx = (size_t)(k - c->t->keys);
	sn = seen_find(c, section, idx);
	if (sn && k->type != CONF_LIST) {
		ctx_fail(c, "%s: set twice (first at line %u)", name, sn->line);
		return 0;
	}
	if (set_value(k, base, value, SRC_FILE, reason, sizeof reason) < 0) {
		ctx_fail(c, "%s: %s", name, reason);
		return 0;
	}
	if (!sn) {
		struct seen *ns = realloc(c->seen, (c->nseen + 1) * sizeof *ns);
		if (!ns) {
			ctx_fail(c, "%s: out of memory", name);
			return 0;
		}
		c->seen = ns;
		snprintf(ns[c->nseen].section, sizeof ns[c->nseen].section, "%s",
		    section);
		ns[c->nseen].key = idx;
		ns[c->nseen].line = c->line;
		c->nseen++;
	}
	return 1;
}

int
conf_load_file(const struct conf_table *t, void *cfg, const char *path,
    struct err *e)
{
	struct parse_ctx c;
	int rc;

	memset(&c, 0, sizeof c);
	c.t = t;
	c.cfg = cfg;
	c.path = path;
	c.e = e;
	c.f = fopen(path, "re");
	if (!c.f)
		return err_sys(e, ERR_CONFIG, "%s", path);
	rc = ini_parse_stream(reader, &c, handler, &c);
	/* inih goes on after a syntax error: report whichever came first. */
	if (rc > 0 && (!c.failed || (unsigned)rc < c.failed_line)) {
		/* inih's own syntax error: no '=' or an unclosed section. */
		err_set(e, ERR_CONFIG, "%s:%d: syntax error (expected "
		    "'[section]' or 'key = value')", path, rc);
		c.failed = 1;
	}
	free(c.seen);
	free(c.buf);
	fclose(c.f);
	return c.failed ? -1 : 0;
}

int
conf_apply_env(const struct conf_table *t, void *cfg, struct err *e)
{
	char reason[256];

	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		const char *v;
		if (!k->env || !(v = getenv(k->env)))
			continue;
		if (set_value(k, cfg, v, SRC_ENV, reason, sizeof reason) < 0)
			return err_set(e, ERR_CONFIG, "%s: %s", k->env, reason);
	}
	return 0;
}

int
conf_set(const struct conf_table *t, void *cfg, const char *name,
    const char *value, const char *origin, struct err *e)
{
	char section[64], reason[256];
	const char *dot = strrchr(name, '.');
	const struct conf_key *k;

	if (!dot || (size_t)(dot - name) >= sizeof section)
		return err_set(e, ERR_CONFIG, "%s: '%s' is not section.key",
		    origin, name);
	memcpy(section, name, (size_t)(dot - name));
	section[dot - name] = '\0';
	void *base;
	int oom;
	k = resolve(t, cfg, section, dot + 1, &base, &oom);
	if (!k)
		return err_set(e, ERR_CONFIG, "%s: %s: %s", origin, name,
		    oom ? "out of memory" : "unknown key");
	if (set_value(k, base, value, SRC_FLAG, reason, sizeof reason) < 0)
		return err_set(e, ERR_CONFIG, "%s: %s: %s", origin, name, reason);
	return 0;
}

static const char *
type_name(const struct conf_key *k)
{
	switch (k->type) {
	case CONF_STR: return "string";
	case CONF_INT: return "integer";
	case CONF_BOOL: return "boolean";
	case CONF_ENUM: return k->choices;
	case CONF_LIST: return "list, one item per line, may repeat";
	}
	return "?";
}

void
conf_print_keys(const struct conf_table *t, FILE *out)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		if (templated(k))
			fprintf(out, "  [%.*s.NAME] %s: %s",
			    (int)(strlen(k->section) - 2), k->section, k->key,
			    type_name(k));
		else
			fprintf(out, "  [%s] %s: %s", k->section, k->key,
			    type_name(k));
		if (k->type == CONF_INT)
			fprintf(out, " %lld..%lld", k->min, k->max);
		if (k->def && k->def[0])
			fprintf(out, ", default %s", k->def);
		if (k->env)
			fprintf(out, ", env %s", k->env);
		fprintf(out, "\n      %s\n", k->help);
	}
}

void
conf_print_sample(const struct conf_table *t, FILE *out)
{
	const char *section = NULL;

	fprintf(out, "; Configuration of %s: every key, set to its default.\n"
	    "; Generated by '%s --sample-config'. Lines may hold at most 198 "
	    "bytes.\n", t->program, t->program);
	for (size_t i = 0; i < t->count; i++) {
		const struct conf_key *k = &t->keys[i];
		const char *h = k->help;
		/* A "PREFIX.*" section is an example, commented out twice so
		 * that uncommenting the plain keys keeps the file valid. */
		const char *lead = templated(k) ? ";;" : ";";
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			if (templated(k))
				fprintf(out, "\n; Any number of [%.*s.NAME] sections "
				    "(NAME: a-z 0-9 _ -), for example:\n;[%.*s.NAME]\n",
				    (int)(strlen(section) - 2), section,
				    (int)(strlen(section) - 2), section);
			else
				fprintf(out, "\n[%s]\n", section);
		}
		fprintf(out, "\n");
		/* Wrap help at about 72 columns. */
		while (*h) {
			size_t n = strlen(h), cut = n;
			if (n > 70) {
				cut = 70;
				while (cut > 0 && h[cut] != ' ')
					cut--;
				if (cut == 0)
					cut = 70;
			}
			fprintf(out, "; %.*s\n", (int)cut, h);
			h += cut;
			while (*h == ' ')
				h++;
		}
		fprintf(out, "; %s", type_name(k));
		if (k->type == CONF_INT)
			fprintf(out, ", %lld..%lld", k->min, k->max);
		if (k->env)
			fprintf(out, "; environment %s overrides", k->env);
		fprintf(out, "\n");
		if (k->type == CONF_LIST) {
			const char *p = k->def ? k->def : "";
			if (!*p)
				fprintf(out, "%s%s =\n", lead, k->key);
			while (*p) {
				size_t n = strcspn(p, " ");
				fprintf(out, "%s%s = %.*s\n", lead, k->key, (int)n, p);
				p += n;
				while (*p == ' ')
					p++;
			}
		} else {
			fprintf(out, "%s%s = %s\n", lead, k->key, k->def ? k->def :
			    "");
		}
	}
}
