/* quorum-backup: the controller. Calls the members' agents in turn to back
 * up or restore them safely (DESIGN section 4). The options, the
 * configuration, the signals; the command is looked up in the table below
 * (each controller/cmd_*.c defines its row) and called. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "human.h"
#include "json.h"
#include "log.h"

/* The commands, in the order of --help. */
static const struct cmd_entry *const cmd_table[] = {
	&cmd_backup_entry,
	&cmd_restore_entry,
	&cmd_list_entry,
	&cmd_status_entry,
	&cmd_verify_entry,
	&cmd_prune_entry,
	NULL
};

/* --help: usages in a column of this width, after two spaces and followed
 * by one (a longer one by three); options four spaces further in;
 * continued lines start at HELP_TEXT_COLUMN. */
#define HELP_USAGE_WIDTH 26
#define HELP_TEXT_COLUMN (2 + HELP_USAGE_WIDTH + 1)

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* The second signal, whichever of the two, kills at once
	 * (SA_RESETHAND resets only the one that came). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

/* The Commands section of --help, from the table. */
static void
help_commands(FILE *out)
{
	for (size_t i = 0; cmd_table[i]; i++) {
		const struct cmd_entry *ce = cmd_table[i];

		if (strlen(ce->usage) > HELP_USAGE_WIDTH)
			fprintf(out, "  %s   ", ce->usage);
		else
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

static void
usage(FILE *out)
{
	fprintf(out,
"Usage: quorum-backup [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Backs up and restores the members of a Quorum network through their\n"
"quorum-backup-agent sidecars.\n"
"\n"
"Commands:\n");
	help_commands(out);
	fprintf(out,
"\n"
"Options:\n"
"  -c, --config FILE          INI configuration file\n"
"      --members LIST         [controller] members, e.g. 1-4\n"
"      --url-template URL     [controller] url_template ({n}, {namespace})\n"
"      --token-file FILE      [controller] token_file\n"
"      --holder NAME          [controller] holder (lease name)\n"
"      --ready-timeout S      [controller] ready_timeout\n"
"      --job-timeout S        [controller] job_timeout\n"
"      --set SECTION.KEY=VALUE  any configuration key (repeatable)\n"
"      --json                 one JSON document on stdout\n"
"  -v, --verbose              log what the controller does (twice: more)\n"
"      --sample-config        print a configuration file with every key\n"
"  -h, --help                 this text, then every configuration key\n"
"  -V, --version              print the version\n"
"\n"
"Environment: NAMESPACE (default quorum), QUORUM_BACKUP_TOKEN_FILE.\n"
"Precedence: defaults < config file < environment < options.\n"
"Exit codes: 0 all succeeded, 1 some member failed, 2 usage or\n"
"configuration error, 3 refused by the safety check or a lease, 4 backup\n"
"not found.\n"
"\n"
"Configuration keys:\n");
	conf_print_keys(&ctl_conf_table, out);
}

enum { OPT_SET = 256, OPT_JSON, OPT_SAMPLE, OPT_ALL, OPT_FORCE,
	OPT_KEEP_GOING, OPT_BACKUP, OPT_PARALLEL, OPT_MEMBERS, OPT_URL,
	OPT_TOKEN, OPT_HOLDER, OPT_READY, OPT_JOB, OPT_STORED, OPT_OFFSITE, OPT_FROM };

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "set", required_argument, NULL, OPT_SET },
	{ "members", required_argument, NULL, OPT_MEMBERS },
	{ "url-template", required_argument, NULL, OPT_URL },
	{ "token-file", required_argument, NULL, OPT_TOKEN },
	{ "holder", required_argument, NULL, OPT_HOLDER },
	{ "ready-timeout", required_argument, NULL, OPT_READY },
	{ "job-timeout", required_argument, NULL, OPT_JOB },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "sample-config", no_argument, NULL, OPT_SAMPLE },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "keep-going", no_argument, NULL, OPT_KEEP_GOING },
	{ "backup", required_argument, NULL, OPT_BACKUP },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "stored", no_argument, NULL, OPT_STORED },
	{ "offsite", no_argument, NULL, OPT_OFFSITE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The command line, as parsed. */
struct cmdline {
	const char *config;
	/* Flags are applied after the file and the environment. */
	struct { const char *name, *value, *origin; } sets[64];
	size_t nsets;
	int verbose, json;
	const struct cmd_entry *cmd;
	struct cmd_opts o;           /* o.members is malloc'd */
};

/* The options (GNU getopt permutes: they may come anywhere). -1 to go on,
 * or the exit code: --help, --version and --sample-config are done here. */
static int
parse_options(int argc, char **argv, struct cmdline *cl)
{
	struct cmd_opts *o = &cl->o;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:vhV", long_options, NULL)) != -1) {
		const char *key = NULL;

		if (cl->nsets == sizeof cl->sets / sizeof cl->sets[0]) {
			fprintf(stderr, "quorum-backup: too many options\n");
			return EXIT_USAGE;
		}
		switch (ch) {
		case 'c': cl->config = optarg; break;
		case 'v': cl->verbose++; break;
		case OPT_JSON: cl->json = 1; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_KEEP_GOING: o->keep_going = 1; break;
		case OPT_BACKUP: o->backup = optarg; break;
		case OPT_STORED: o->stored = 1; break;
		case OPT_OFFSITE: o->offsite = 1; break;
		case OPT_FROM:
			if (strcmp(optarg, "offsite") != 0 &&
			    strcmp(optarg, "local") != 0) {
				fprintf(stderr, "quorum-backup: --from %s: not local or "
				    "offsite\n", optarg);
				return EXIT_USAGE;
			}
			o->from_offsite = strcmp(optarg, "offsite") == 0;
			o->from_given = 1;
			break;
		case OPT_PARALLEL: {
			char *end;
			o->parallel = strtol(optarg, &end, 10);
			if (end == optarg || *end || o->parallel < 1 ||
			    o->parallel > 1000) {
				fprintf(stderr, "quorum-backup: --parallel: '%s' is not a "
				    "number from 1 to 1000\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_MEMBERS: key = "controller.members"; break;
		case OPT_URL: key = "controller.url_template"; break;
		case OPT_TOKEN: key = "controller.token_file"; break;
		case OPT_HOLDER: key = "controller.holder"; break;
		case OPT_READY: key = "controller.ready_timeout"; break;
		case OPT_JOB: key = "controller.job_timeout"; break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "quorum-backup: --set: '%s' is not "
				    "SECTION.KEY=VALUE\n", optarg);
				return EXIT_USAGE;
			}
			*eq = '\0';
			cl->sets[cl->nsets++] = (typeof(cl->sets[0])){ optarg, eq + 1,
			    "--set" };
			break;
		}
		case OPT_SAMPLE:
			conf_print_sample(&ctl_conf_table, stdout);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("quorum-backup %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'quorum-backup --help'.\n");
			return EXIT_USAGE;
		}
		if (key) {
			/* The origin, in messages, is the option's own name. */
			const struct option *op = long_options;
			while (op->name && op->val != ch)
				op++;
			cl->sets[cl->nsets++] = (typeof(cl->sets[0])){ key, optarg,
			    op->name };
		}
	}
	return -1;
}

static const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i]; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

/* The command-only options given (CMDOPT_*). */
static unsigned
options_given(const struct cmd_opts *o)
{
	return (o->all ? CMDOPT_ALL : 0) | (o->force ? CMDOPT_FORCE : 0) |
	    (o->keep_going ? CMDOPT_KEEP_GOING : 0) |
	    (o->backup ? CMDOPT_BACKUP : 0) |
	    (o->parallel != 1 ? CMDOPT_PARALLEL : 0) |
	    (o->stored ? CMDOPT_STORED : 0) |
	    (o->offsite ? CMDOPT_OFFSITE : 0) |
	    (o->from_given ? CMDOPT_FROM : 0);
}

/* The member numbers after the command, as one list ("1 3-4"). 0, -1 on a
 * bad list (said on stderr), -2 out of memory. */
static int
parse_members(int argc, char **argv, struct cmdline *cl)
{
	struct err e;
	char *spec;
	size_t len = 1;
	int rc = 0;

	err_clear(&e);
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (!(spec = calloc(1, len)))
		return -2;
	for (int i = optind; i < argc; i++) {
		strcat(spec, argv[i]);
		strcat(spec, " ");
	}
	if (ctl_parse_numbers(spec, &cl->o.members, &cl->o.n_members,
	    &e) < 0) {
		fprintf(stderr, "quorum-backup: %s: %s\n", cl->cmd->name, e.msg);
		rc = -1;
	}
	free(spec);
	return rc;
}

/* The command, what it was given, its members. -1 to go on, or the exit
 * code. */
static int
parse_command(int argc, char **argv, struct cmdline *cl)
{
	const char *name;

	if (optind >= argc) {
		fprintf(stderr, "quorum-backup: no command (");
		for (size_t i = 0; cmd_table[i]; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", cmd_table[i]->name);
		fprintf(stderr, "); see --help\n");
		return EXIT_USAGE;
	}
	name = argv[optind++];
	if (!(cl->cmd = cmd_find(name))) {
		fprintf(stderr, "quorum-backup: unknown command '%s'; see --help\n",
		    name);
		return EXIT_USAGE;
	}
	if (options_given(&cl->o) & ~cl->cmd->opts) {
		fprintf(stderr, "quorum-backup: %s does not take that option; see "
		    "--help\n", name);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		int rc = parse_members(argc, argv, cl);
		if (rc < 0)
			return rc == -2 ? EXIT_FAILED : EXIT_USAGE;
	}
	return -1;
}

/* Defaults < config file < environment < options; then the members and
 * the log level. 0, or -1 with e. */
static int
load_config(const struct cmdline *cl, struct ctl *c, struct err *e)
{
	if (conf_init(&ctl_conf_table, &c->cf, e) < 0 ||
	    (cl->config && conf_load_file(&ctl_conf_table, &c->cf, cl->config,
	    e) < 0) ||
	    conf_apply_env(&ctl_conf_table, &c->cf, e) < 0)
		return -1;
	for (size_t i = 0; i < cl->nsets; i++)
		if (conf_set(&ctl_conf_table, &c->cf, cl->sets[i].name,
		    cl->sets[i].value, cl->sets[i].origin, e) < 0)
			return -1;
	if (ctl_members(&c->cf, &c->members, &c->n_members, e) < 0)
		return -1;
	log_set_level(cl->verbose >= 2 ? LOG_DEBUG : cl->verbose ? LOG_INFO :
	    (enum log_level)log_level_parse(c->cf.log_level));
	return 0;
}

/* The lease holder's name: [controller] holder, or
 * quorum-backup@HOST:PID. 0, or -1 with e. */
static int
holder_name(const struct ctl_conf *cf, char *holder, size_t size,
    struct err *e)
{
	if (cf->holder && cf->holder[0]) {
		size_t len = strlen(cf->holder);
		if (len > 128 || strspn(cf->holder, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@") != len) {
			err_set(e, ERR_CONFIG, "holder: '%s': 1 to 128 of A-Z a-z "
			    "0-9 - _ . : @", cf->holder);
			return -1;
		}
		snprintf(holder, size, "%s", cf->holder);
	} else {
		char host[64] = "localhost";
		gethostname(host, sizeof host - 1);
		host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
		    "VWXYZ0123456789-.")] = '\0';
		snprintf(holder, size, "quorum-backup@%s:%ld", host,
		    (long)getpid());
	}
	return 0;
}

/* What the commands share beside the configuration: the warnings, the
 * leases and the results, one per member; the terminal. 0, or -1 out of
 * memory. */
static int
ctl_setup(struct ctl *c)
{
	const char *term = getenv("TERM");

	c->warnings = json_array();
	c->leased = calloc(c->n_members ? c->n_members : 1, 1);
	c->res = calloc(c->n_members ? c->n_members : 1, sizeof *c->res);
	if (!c->warnings || !c->leased || !c->res)
		return -1;
	for (size_t i = 0; i < c->n_members; i++) {
		c->res[i].member = c->members[i].n;
		c->res[i].size = c->res[i].height = c->res[i].height_now = -1;
		c->res[i].duration = c->res[i].downtime = -1;
	}
	c->tty = isatty(STDERR_FILENO) && term && strcmp(term, "dumb") != 0;
	c->stop = &stop_requested;
	return 0;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* A second signal kills at once: the leases and holds expire by
	 * themselves. */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The command on c, once everything is set up: its exit code. */
static int
run_command(struct ctl *c, const struct cmdline *cl)
{
	int rc;

	if (ctl_setup(c) < 0) {
		fprintf(stderr, "quorum-backup: out of memory\n");
		return EXIT_FAILED;
	}
	catch_signals();
	rc = cl->cmd->exec(c, &cl->o);
	if (stop_requested) {
		out_flush(c);
		fprintf(stderr, "quorum-backup: stopped by a signal\n");
		if (rc == EXIT_OK)
			rc = EXIT_FAILED;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct cmdline cl;
	struct ctl c;
	struct err e;
	char holder[160];
	int rc;

	log_set_program("quorum-backup");
	memset(&cl, 0, sizeof cl);
	memset(&c, 0, sizeof c);
	cl.o.parallel = 1;
	err_clear(&e);
	if ((rc = parse_options(argc, argv, &cl)) >= 0 ||
	    (rc = parse_command(argc, argv, &cl)) >= 0)
		return rc;
	c.json = cl.json;
	if (load_config(&cl, &c, &e) < 0 ||
	    holder_name(&c.cf, holder, sizeof holder, &e) < 0)
		goto config_error;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (client_init(&c.cl, c.cf.token_file, holder,
	    (double)c.cf.request_timeout, &e) < 0) {
		curl_global_cleanup();
		goto config_error;
	}
	rc = run_command(&c, &cl);
	leases_release(&c);
	client_fini(&c.cl);
	curl_global_cleanup();
	json_decref(c.warnings);
	free(c.leased);
	free(c.res);
	free(c.members);
	free(cl.o.members);
	conf_free(&ctl_conf_table, &c.cf);
	return rc;

config_error:
	fprintf(stderr, "quorum-backup: %s\n", e.msg);
	free(c.members);
	free(cl.o.members);
	conf_free(&ctl_conf_table, &c.cf);
	return EXIT_USAGE;
}
