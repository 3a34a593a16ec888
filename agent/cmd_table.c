/* The table of the agent's commands, in the order of --help. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd_table.h"
#include "human.h"
#include "log.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_serve_entry,
	&cmd_archive_entry,
	&cmd_unpack_entry,
	&cmd_rollback_entry,
	&cmd_discard_previous_entry,
	&cmd_verify_entry,
	&cmd_list_entry,
	&cmd_prune_entry,
	&cmd_keygen_entry,
	&cmd_offsite_entry,
	NULL
};

/* The command-only options and what is said when a command that does not
 * take them is given one, checked in this order. */
static const struct {
	unsigned opts;
	const char *refusal;
} cmd_only_options[] = {
	{ CMDOPT_DRY_RUN, "--dry-run goes with prune and offsite prune" },
	{ CMDOPT_FORCE | CMDOPT_IN_PLACE | CMDOPT_DISCARD,
	    "--force, --in-place and --discard-previous go with unpack" },
	{ CMDOPT_OUTPUT, "-o/--output goes with keygen" },
	{ CMDOPT_STORED, "--stored goes with verify and offsite verify" },
	{ CMDOPT_FROM, "--from goes with unpack" },
};

/* --help: usages in a column of this width, after two spaces and followed
 * by one; options four spaces further in; continued lines start at
 * HELP_TEXT_COLUMN. */
#define HELP_USAGE_WIDTH 24
#define HELP_TEXT_COLUMN (2 + HELP_USAGE_WIDTH + 1)

const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i]; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

int
cmd_check_options(const struct cmd_entry *ce, unsigned given)
{
	unsigned taken = ce ? ce->opts : 0;

	for (size_t i = 0; i < sizeof cmd_only_options /
	    sizeof cmd_only_options[0]; i++)
		if (given & cmd_only_options[i].opts & ~taken) {
			fprintf(stderr, "quorum-backup-agent: %s\n",
			    cmd_only_options[i].refusal);
			return -1;
		}
	return 0;
}

void
cmd_print_help(FILE *out)
{
	for (size_t i = 0; cmd_table[i]; i++) {
		const struct cmd_entry *ce = cmd_table[i];

		fprintf(out, "  %-*s ", HELP_USAGE_WIDTH, ce->usage);
		human_indented(out, ce->help, HELP_TEXT_COLUMN);
		for (size_t k = 0; k < sizeof ce->options /
		    sizeof ce->options[0] && ce->options[k].name; k++) {
			fprintf(out, "      %-*s ", HELP_USAGE_WIDTH - 4,
			    ce->options[k].name);
			human_indented(out, ce->options[k].help,
			    HELP_TEXT_COLUMN);
		}
	}
}

int
cmd_fail(const char *what, const struct err *e)
{
	fprintf(stderr, "quorum-backup-agent: %s: %s\n", what, e->msg);
	log_error("failed", "op=%s code=%s error=%s", what, err_name(e->code),
	    logq(e->msg));
	return err_exit_code(e->code);
}
