/* The agent's commands, in the manner of a command table: each
 * agent/cmd_*.c defines the entries of its commands (name, usage, the
 * options of their own they take, their lines in --help, the handler);
 * cmd_table.c holds the table and what is done with it; main.c parses the
 * command line, looks the command up and calls it. */
#ifndef QB_CMD_TABLE_H
#define QB_CMD_TABLE_H

#include <stdio.h>

#include "agent_conf.h"
#include "err.h"
#include "ops.h"

/* The options that belong to some commands only. */
enum {
	CMDOPT_DRY_RUN = 1 << 0,     /* --dry-run */
	CMDOPT_FORCE = 1 << 1,       /* --force */
	CMDOPT_IN_PLACE = 1 << 2,    /* --in-place */
	CMDOPT_DISCARD = 1 << 3,     /* --discard-previous */
	CMDOPT_OUTPUT = 1 << 4,      /* -o, --output FILE */
	CMDOPT_STORED = 1 << 5,      /* --stored */
	CMDOPT_FROM = 1 << 6,        /* --from offsite */
};

/* What a command is called with. */
struct cmd_args {
	const struct agent_conf *cf;
	const char *arg;             /* its argument, or its default */
	const char *arg2;            /* a second one (takes_arg2), or NULL */
	int json;                    /* --json */
	const char *output;          /* -o FILE, or NULL */
	const char *from;            /* --from WHERE, or NULL */
	unsigned opts;               /* the CMDOPT_* given */
	struct op_hooks *hooks;      /* progress lines, the stop signal */
};

/* One of a command's own options, as --help shows it. */
struct cmd_option {
	const char *name;            /* "--force" */
	const char *help;            /* lines separated by '\n' */
};

struct cmd_entry {
	const char *name;
	const char *usage;           /* "unpack [ID|latest]" */
	const char *help;            /* beside the usage; lines separated by '\n' */
	struct cmd_option options[4];/* the lines of its own options, in order */
	unsigned opts;               /* the CMDOPT_* it takes */
	/* It takes one optional argument, this one when none is given; NULL:
	 * it takes none. */
	const char *arg_default;
	int takes_arg2;              /* and a second one after it */
	/* The exit code (DESIGN section 3). */
	int (*exec)(const struct cmd_args *a);
};

extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_archive_entry;
extern const struct cmd_entry cmd_unpack_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_discard_previous_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_prune_entry;
extern const struct cmd_entry cmd_keygen_entry;
extern const struct cmd_entry cmd_offsite_entry;

/* The command called name, or NULL. */
const struct cmd_entry *cmd_find(const char *name);
/* Whether the command-only options given (CMDOPT_*) go with ce (NULL: an
 * unknown command, which takes none): 0, or -1 after saying which does not
 * on stderr. */
int cmd_check_options(const struct cmd_entry *ce, unsigned given);
/* The Commands section of --help, from the table. */
void cmd_print_help(FILE *out);
/* Say on stderr and in the log that `what` failed with e; its exit code. */
int cmd_fail(const char *what, const struct err *e);

#endif
