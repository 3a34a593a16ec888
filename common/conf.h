/* conf: table-driven configuration (INI file, environment, flags).
 *
 * One table of struct conf_key per program drives parsing, validation,
 * defaults, the --help text and the sample file. Values land in the
 * program's own struct at each key's offset. Precedence: defaults < file
 * < environment < flags. Errors read "file:line: key: reason" (or
 * "VAR: reason" for the environment, "--flag: reason" for flags).
 *
 * inih r55 (Debian 12) cuts lines at 200 bytes and does not give line
 * numbers: the file is read through our own reader, which counts lines,
 * rejects over-long ones and strips leading blanks (inih would otherwise
 * take an indented line as a continuation of the previous value). */
#ifndef QB_CONF_H
#define QB_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum conf_type {
	CONF_STR,    /* char *, may be empty unless min > 0 */
	CONF_INT,    /* long long within [min, max] */
	CONF_BOOL,   /* int: true/false, yes/no, on/off, 1/0 */
	CONF_ENUM,   /* char *, one of choices ("a|b|c") */
	CONF_LIST,   /* struct conf_list; the key may repeat, an empty value
	              * clears; the first value from a source (file, then
	              * environment, then flags) replaces what earlier sources
	              * gave, later ones from the same source append */
};

struct conf_list {
	char **v;
	size_t n;
	int source;   /* which source set it last: 0 defaults ... 3 flags */
};

struct conf_key {
	const char *section;
	const char *key;
	enum conf_type type;
	long long min, max;   /* CONF_INT bounds; CONF_STR: min 1 = required */
	const char *def;      /* default as text; CONF_LIST: blank-separated */
	const char *choices;  /* CONF_ENUM */
	const char *env;      /* environment variable that overrides, or NULL */
	const char *help;
	size_t offset;
};

struct conf_table {
	const char *program;
	const struct conf_key *keys;
	size_t count;
	/* Keys whose section is "PREFIX.*" stand for any number of sections
	 * "PREFIX.NAME" (NAME: a-z 0-9 _ -, at most 32), which the program
	 * keeps in file order: instance() returns the struct those keys'
	 * offsets apply to, creating it (conf_init_instance gives it its
	 * defaults) when the name is new; NULL when out of memory.
	 * free_instances() frees them all. Both NULL: no such sections. */
	void *(*instance)(void *cfg, const char *prefix, const char *name);
	void (*free_instances)(void *cfg);
};

int conf_init(const struct conf_table *t, void *cfg, struct err *e);
/* Defaults of the "PREFIX.*" keys into a new instance. */
int conf_init_instance(const struct conf_table *t, const char *prefix,
    void *base, struct err *e);
int conf_load_file(const struct conf_table *t, void *cfg, const char *path,
    struct err *e);
int conf_apply_env(const struct conf_table *t, void *cfg, struct err *e);
/* Set "section.key" from a flag; origin names the flag in errors. Flags for
 * a list key: the first replaces the list, later ones append. */
int conf_set(const struct conf_table *t, void *cfg, const char *name,
    const char *value, const char *origin, struct err *e);
void conf_free(const struct conf_table *t, void *cfg);

/* "  [archive] level  integer 1..19, default 3\n      help" lines. */
void conf_print_keys(const struct conf_table *t, FILE *out);
/* A sample INI with every key commented and set to its default. */
void conf_print_sample(const struct conf_table *t, FILE *out);

/* Typed access for code that walks the table. */
const struct conf_key *conf_find(const struct conf_table *t,
    const char *section, const char *key);

#endif
